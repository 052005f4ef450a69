/** What every page needs: the API client, the realtime connection, and sign-out. */
import { createContext } from 'preact';
import { useCallback, useContext, useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import type { Api } from './api.js';
import type { Features } from './features.js';
import type { ConnectionState, LiveConnection, LiveListener } from './live.js';

export interface AppServices {
  api: Api;
  live: LiveConnection;
  features: Features;
  signOut(message?: string): void;
}

export const AppContext = createContext<AppServices | null>(null);

export function useApp(): AppServices {
  const app = useContext(AppContext);
  if (!app) throw new Error('useApp outside AppContext');
  return app;
}

/**
 * Subscribes for the component's lifetime; the latest listener is always the one called.
 * A layout effect subscribes in the same task as the render, so no socket message can arrive between
 * the two (a plain effect runs after paint, and whatever arrived meanwhile would be lost).
 */
export function useLive(listener: LiveListener): void {
  const { live } = useApp();
  const ref = useRef(listener);
  ref.current = listener;
  useLayoutEffect(
    () => live.subscribe({ event: (e) => ref.current.event?.(e), resync: () => ref.current.resync?.() }),
    [live],
  );
}

export function useConnectionState(): ConnectionState {
  const { live } = useApp();
  const [state, setState] = useState(live.state);
  const [, tick] = useState(0);
  useLayoutEffect(() => {
    const off = live.onState((s) => {
      setState(s);
      tick((n) => n + 1);
    });
    // The state read at render may be stale by now (the socket can open in between): catch up.
    setState(live.state);
    return off;
  }, [live]);
  return state;
}

export interface Resource<T> {
  data: T | undefined;
  error: Error | undefined;
  loading: boolean;
  reload(): Promise<void>;
}

/**
 * Loads with `loader` when `key` changes; `reload()` refreshes in place (the old data stays on screen).
 * A response that arrives after a newer request started is dropped.
 */
export function useResource<T>(loader: () => Promise<T>, key: string): Resource<T> {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<Error | undefined>(undefined);
  const [loading, setLoading] = useState(true);
  const seq = useRef(0);
  const loaderRef = useRef(loader);
  loaderRef.current = loader;
  const reload = useCallback(async () => {
    const mine = ++seq.current;
    setLoading(true);
    try {
      const value = await loaderRef.current();
      if (mine !== seq.current) return;
      setData(value);
      setError(undefined);
    } catch (e) {
      if (mine !== seq.current) return;
      setError(e as Error);
    } finally {
      if (mine === seq.current) setLoading(false);
    }
  }, []);
  useEffect(() => {
    void reload();
  }, [key, reload]);
  return { data, error, loading, reload };
}

/** Calls `fn` at most once per `ms`, trailing: a burst of events becomes one refresh. */
export function useThrottled(fn: () => void, ms: number): () => void {
  const fnRef = useRef(fn);
  fnRef.current = fn;
  const timer = useRef<number | undefined>(undefined);
  useEffect(() => () => clearTimeout(timer.current), []);
  return useCallback(() => {
    if (timer.current !== undefined) return;
    timer.current = window.setTimeout(() => {
      timer.current = undefined;
      fnRef.current();
    }, ms);
  }, [ms]);
}
