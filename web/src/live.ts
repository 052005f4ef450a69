/**
 * The realtime connection: one WebSocket to `/ws?token=`, reconnected with backoff, with catch-up so a
 * dashboard never silently misses a change.
 *
 * Timeline of a drop:
 * 1. the socket closes (gateway restart, network change, API Gateway's 2 h limit);
 * 2. state `reconnecting` (or `offline` while the browser says so); retries after 0.5 s, 1 s, 2 s, ...
 *    up to 30 s, with jitter so that many dashboards do not reconnect in step;
 * 3. on open, events after the last one seen are fetched from `GET /api/events?after=` and applied
 *    before any pushed message that arrived meanwhile; duplicates are dropped by event id;
 * 4. on the first open, when no event had been seen yet, or when the gap is too large to replay,
 *    listeners are told to `resync` (reload what they show) instead.
 *
 * Events are published by the allocator right after its commit, or by the outbox relay up to a few
 * seconds later, so ids can arrive slightly out of order: catch-up starts `REPLAY_MARGIN` ids before
 * the highest one seen, and the seen-set removes what was already applied.
 */
import type { Api } from './api.js';
import type { LiveEvent } from './types.js';

export type ConnectionState = 'connecting' | 'live' | 'reconnecting' | 'offline';

export interface LiveListener {
  event?(event: LiveEvent): void;
  /** Reload everything shown: events may have been missed and cannot be replayed. */
  resync?(): void;
}

const PING_EVERY_MS = 5 * 60_000; // API Gateway closes WebSocket connections idle for 10 minutes.
const PONG_TIMEOUT_MS = 15_000;
const OPEN_TIMEOUT_MS = 8_000;
const MAX_BACKOFF_MS = 30_000;
const REPLAY_MARGIN = 200;
const REPLAY_PAGE = 500;
/** Beyond this many missed events a reload is cheaper than replaying them one by one. */
const REPLAY_LIMIT = 5_000;
const SEEN_MEMORY = 10_000;

export class LiveConnection {
  state: ConnectionState = 'connecting';
  /** Highest event id applied. */
  lastEventId: number | null = null;
  /** When the next reconnect attempt is due (ms since epoch), for the indicator. */
  retryAt: number | null = null;

  private socket: WebSocket | null = null;
  private attempt = 0;
  private everOpened = false;
  private stopped = true;
  private seen = new Set<number>();
  private listeners = new Set<LiveListener>();
  private stateListeners = new Set<(state: ConnectionState) => void>();
  private timers: { retry?: number; ping?: number; pong?: number; open?: number } = {};

  constructor(private readonly opts: { wsUrl: string; token: string; api: Api }) {}

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    window.addEventListener('online', this.onOnline);
    window.addEventListener('offline', this.onOffline);
    document.addEventListener('visibilitychange', this.onVisible);
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    window.removeEventListener('online', this.onOnline);
    window.removeEventListener('offline', this.onOffline);
    document.removeEventListener('visibilitychange', this.onVisible);
    this.clearTimers();
    const s = this.socket;
    this.socket = null;
    s?.close(1000);
  }

  subscribe(listener: LiveListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  onState(listener: (state: ConnectionState) => void): () => void {
    this.stateListeners.add(listener);
    return () => this.stateListeners.delete(listener);
  }

  /** Reconnect now (the indicator's "Retry now"). */
  retryNow(): void {
    if (this.stopped || this.socket) return;
    clearTimeout(this.timers.retry);
    this.connect();
  }

  private setState(state: ConnectionState): void {
    if (this.state === state) return;
    this.state = state;
    for (const l of this.stateListeners) l(state);
  }

  private connect(): void {
    if (this.stopped) return;
    this.retryAt = null;
    // After many failures the indicator stays "offline" while attempts go on in the background.
    if (this.state !== 'offline') this.setState(this.everOpened ? 'reconnecting' : 'connecting');
    const url = `${this.opts.wsUrl}${this.opts.wsUrl.includes('?') ? '&' : '?'}token=${encodeURIComponent(this.opts.token)}`;
    let socket: WebSocket;
    try {
      socket = new WebSocket(url);
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.socket = socket;
    // Pushed messages that arrive while catch-up runs wait here, so events apply in id order.
    let backlog: LiveEvent[] | null = [];
    this.timers.open = window.setTimeout(() => socket.close(), OPEN_TIMEOUT_MS);

    socket.onopen = () => {
      clearTimeout(this.timers.open);
      const reconnect = this.everOpened;
      this.everOpened = true;
      this.attempt = 0;
      this.setState('live');
      this.schedulePing();
      void this.catchUp(reconnect).finally(() => {
        const waiting = backlog ?? [];
        backlog = null;
        waiting.sort((a, b) => a.id - b.id).forEach((e) => this.apply(e));
      });
    };
    socket.onmessage = (message) => {
      let parsed: unknown;
      try {
        parsed = JSON.parse(String(message.data));
      } catch {
        return;
      }
      const m = parsed as Partial<LiveEvent>;
      if (m.type === 'pong') {
        clearTimeout(this.timers.pong);
        return;
      }
      if (typeof m.id !== 'number' || typeof m.type !== 'string') return;
      const event = { id: m.id, type: m.type, at: m.at ?? new Date().toISOString(), data: m.data ?? {} };
      if (backlog) backlog.push(event);
      else this.apply(event);
    };
    socket.onclose = () => {
      if (this.socket !== socket) return;
      this.socket = null;
      this.clearTimers();
      this.scheduleReconnect();
    };
    socket.onerror = () => undefined; // always followed by close
  }

  private async catchUp(reconnect: boolean): Promise<void> {
    // A first connect: what changed between the pages' first load and this open is unknown.
    if (!reconnect || this.lastEventId === null) {
      this.resync();
      return;
    }
    let after = Math.max(0, this.lastEventId - REPLAY_MARGIN);
    let replayed = 0;
    try {
      for (;;) {
        const page = await this.opts.api.get<{ items: LiveEvent[]; lastId: number }>('/api/events', {
          after,
          limit: REPLAY_PAGE,
        });
        page.items.forEach((e) => this.apply(e));
        replayed += page.items.length;
        if (page.items.length < REPLAY_PAGE) return;
        if (replayed >= REPLAY_LIMIT) {
          this.resync();
          return;
        }
        after = page.lastId;
      }
    } catch {
      this.resync();
    }
  }

  private apply(event: LiveEvent): void {
    if (this.seen.has(event.id)) return;
    this.seen.add(event.id);
    if (this.seen.size > SEEN_MEMORY) {
      // Sets iterate in insertion order: forget the oldest half.
      let drop = SEEN_MEMORY / 2;
      for (const id of this.seen) {
        if (drop-- <= 0) break;
        this.seen.delete(id);
      }
    }
    this.lastEventId = Math.max(this.lastEventId ?? 0, event.id);
    for (const l of this.listeners) l.event?.(event);
  }

  private resync(): void {
    for (const l of this.listeners) l.resync?.();
  }

  private scheduleReconnect(): void {
    if (this.stopped) return;
    const offline = typeof navigator !== 'undefined' && navigator.onLine === false;
    this.setState(offline ? 'offline' : this.everOpened ? 'reconnecting' : 'connecting');
    const base = Math.min(MAX_BACKOFF_MS, 500 * 2 ** this.attempt);
    const delay = Math.round(base * (0.8 + Math.random() * 0.4));
    this.attempt += 1;
    if (this.attempt >= 6 && !offline) this.setState('offline');
    this.retryAt = Date.now() + delay;
    for (const l of this.stateListeners) l(this.state);
    this.timers.retry = window.setTimeout(() => this.connect(), delay);
  }

  private schedulePing(): void {
    clearInterval(this.timers.ping);
    this.timers.ping = window.setInterval(() => {
      const s = this.socket;
      if (!s || s.readyState !== WebSocket.OPEN) return;
      s.send(JSON.stringify({ action: 'ping' }));
      clearTimeout(this.timers.pong);
      // A half-open connection (laptop lid, NAT timeout) never closes by itself.
      this.timers.pong = window.setTimeout(() => s.close(), PONG_TIMEOUT_MS);
    }, PING_EVERY_MS);
  }

  private clearTimers(): void {
    clearTimeout(this.timers.retry);
    clearInterval(this.timers.ping);
    clearTimeout(this.timers.pong);
    clearTimeout(this.timers.open);
  }

  private readonly onOnline = () => {
    this.attempt = 0;
    this.retryNow();
  };

  private readonly onOffline = () => {
    if (!this.socket) this.setState('offline');
  };

  private readonly onVisible = () => {
    if (document.visibilityState === 'visible') this.retryNow();
  };
}
