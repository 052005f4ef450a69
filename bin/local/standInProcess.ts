/**
 * A local stand-in (DynamoDB, SQS) served from a child process of its own, through tsx like the rest
 * of the local runtime: its CPU (every request is parsed, validated and stored there) then runs on
 * another core than the handlers that call it, and its memory (a queue's messages, LevelDB's tables)
 * is not the runtime's.
 *
 * Protocol: options in the environment variable `optionsVariable` (JSON); the child answers `{port}`
 * over IPC once it listens, or `{error}`; it stops on a `stop` message, and also as soon as the parent
 * is gone (IPC disconnect, also when the parent was killed), so a killed runtime leaves no stand-in
 * behind. See `serveStandIn` for the child's side.
 */
import { fork } from 'node:child_process';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

export interface StandInChild {
  endpoint: string;
  pid: number | undefined;
  stop(): Promise<void>;
}

export async function forkStandIn(opts: {
  entry: string;
  optionsVariable: string;
  options: unknown;
  /** For error messages: "The <label> stand-in exited…". */
  label: string;
  /** How long `stop` waits for the child to finish its own stop before killing it. */
  stopTimeoutMs: number;
}): Promise<StandInChild> {
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  const child = fork(opts.entry, [], {
    execArgv: ['--import', tsx],
    env: { ...process.env, [opts.optionsVariable]: JSON.stringify(opts.options) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const bound = await new Promise<number>((resolve, reject) => {
    const onExit = (code: number | null) =>
      reject(new Error(`The ${opts.label} stand-in exited with ${code} before listening`));
    child.once('exit', onExit);
    child.once('error', reject);
    child.on('message', (message: { port?: number; error?: string }) => {
      if (message.error) reject(new Error(`The ${opts.label} stand-in could not start: ${message.error}`));
      if (message.port === undefined) return;
      child.off('exit', onExit);
      resolve(message.port);
    });
  });
  // The parent's event loop need not wait for the child: it ends with the parent (IPC disconnect).
  child.unref();
  child.channel?.unref();
  let stopping: Promise<void> | undefined;
  return {
    endpoint: `http://127.0.0.1:${bound}`,
    pid: child.pid,
    stop() {
      stopping ??= (async () => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        child.send('stop');
        const timer = setTimeout(() => child.kill('SIGKILL'), opts.stopTimeoutMs);
        await exited;
        clearTimeout(timer);
      })();
      return stopping;
    },
  };
}

/**
 * The child's side: `start` listens and returns the port and how to stop. Ctrl-C reaches every process
 * of the terminal: the child ignores SIGINT/SIGTERM and lets the parent stop it after its own handlers
 * are done (the runtime stops its pollers before the queue, for one).
 */
export function serveStandIn(
  label: string,
  start: () => Promise<{ port: number; stop(): Promise<void> }>,
): void {
  let running: { port: number; stop(): Promise<void> } | undefined;
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    void (running?.stop() ?? Promise.resolve())
      .catch((error: unknown) => console.error(`[${label}] stop failed:`, error))
      .finally(() => process.exit(0));
  };
  process.on('SIGINT', () => undefined);
  process.on('SIGTERM', () => undefined);
  process.on('disconnect', stop);
  process.on('message', (message) => {
    if (message === 'stop') stop();
  });
  start().then(
    (r) => {
      running = r;
      process.send?.({ port: r.port });
    },
    (error: unknown) => {
      process.send?.({ error: (error as Error).message });
      process.exit(1);
    },
  );
}
