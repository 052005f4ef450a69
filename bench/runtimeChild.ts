/** Starts and stops the local runtime in a child process (see runtimeProcess.ts). */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';

export interface RuntimeInfo {
  url: string;
  wsUrl: string;
  orgId: string;
  sourceId: string;
  adminToken: string;
  webhookSecret: string;
  databaseUrl: string;
}

/** The runtime process's `process.memoryUsage()`, and its event-loop delay p99 since the last ask. */
export interface ChildMemory extends NodeJS.MemoryUsage {
  loopDelayP99Ms: number;
}

export interface RuntimeChild extends RuntimeInfo {
  pid: number;
  memory(): Promise<ChildMemory>;
  /** Resolves when the runtime's lead queue is drained and no allocation runs; rejects after 30 s. */
  idle(): Promise<void>;
  /** Sockets the runtime process holds open (`/proc/<pid>/fd`). */
  sockets(): number;
  /** The runtime's TCP sockets by role (see `tcpSockets`). */
  socketBreakdown(): SocketBreakdown;
  /** CPU time the runtime process used so far, user + system, in ms (`/proc/<pid>/stat`). */
  cpuMs(): number;
  /** Peak resident set size of the runtime process so far (VmHWM), in MiB. */
  peakRssMiB(): number;
  /** Current resident set size (VmRSS), in MiB. */
  rssMiB(): number;
  /** Resets the peak RSS to the current RSS (Linux `clear_refs` 5), to measure one phase's peak. */
  resetPeakRss(): void;
  stop(): Promise<void>;
}

const HERE = path.dirname(fileURLToPath(import.meta.url));

/**
 * What the runtime's sockets are. `inbound` are connections clients opened to the runtime's own port
 * (webhooks, API, dashboards): their number is the clients' choice (a keep-alive pool per client) and
 * follows the requests in flight. `outbound` are the runtime's own pools, by the remote port they lead
 * to (PostgreSQL, the DynamoDB child, the SQS stand-in...); with both ends in this process (a stand-in
 * served in-process) a connection counts once, as outbound. These must stay flat.
 */
export interface SocketBreakdown {
  total: number;
  listening: number;
  inbound: number;
  outbound: number;
  outboundByPort: Record<string, number>;
  /** Sockets that are not TCP (Unix sockets, IPC channel, UDP). */
  other: number;
}

interface TcpRow {
  local: number;
  remote: number;
  state: string;
  inode: string;
}

function tcpRows(pid: number): TcpRow[] {
  const rows: TcpRow[] = [];
  for (const file of ['tcp', 'tcp6']) {
    let text: string;
    try {
      text = readFileSync(`/proc/${pid}/net/${file}`, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 10) continue;
      rows.push({
        local: parseInt(f[1]!.split(':')[1]!, 16),
        remote: parseInt(f[2]!.split(':')[1]!, 16),
        state: f[3]!,
        inode: f[9]!,
      });
    }
  }
  return rows;
}

function socketInodes(pid: number): string[] {
  const inodes: string[] = [];
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const link = readlinkSync(`/proc/${pid}/fd/${fd}`);
      if (link.startsWith('socket:[')) inodes.push(link.slice(8, -1));
    } catch {
      // closed meanwhile
    }
  }
  return inodes;
}

export function tcpSockets(pid: number, ownPort: number): SocketBreakdown {
  const inodes = socketInodes(pid);
  const byInode = new Map(tcpRows(pid).map((r) => [r.inode, r]));
  const mine = inodes.map((i) => byInode.get(i));
  const listeningPorts = new Set(mine.filter((r) => r?.state === '0A').map((r) => r!.local));
  const out: SocketBreakdown = {
    total: inodes.length,
    listening: 0,
    inbound: 0,
    outbound: 0,
    outboundByPort: {},
    other: 0,
  };
  for (const r of mine) {
    if (!r) out.other++;
    else if (r.state === '0A') out.listening++;
    else if (r.local === ownPort) out.inbound++;
    else if (listeningPorts.has(r.local)) {
      // The server end of a connection to an in-process stand-in: its client end counts as outbound.
    } else {
      out.outbound++;
      out.outboundByPort[r.remote] = (out.outboundByPort[r.remote] ?? 0) + 1;
    }
  }
  return out;
}

function statusKiB(pid: number, field: 'VmHWM' | 'VmRSS'): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
}

export async function startRuntimeChild(opts: {
  databaseUrl: string;
  allocatorMode?: 'per-lead' | 'batched';
  /** Write a V8 CPU profile of the runtime process into this directory when it stops. */
  cpuProfileDir?: string;
  /** More Node options for the runtime process (e.g. `--heapsnapshot-signal=SIGUSR2`). */
  nodeArgs?: string[];
  log: (m: string) => void;
}): Promise<RuntimeChild> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'leadrouter-bench-runtime-'));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    BENCH_DATA_DIR: dataDir,
    BENCH_DATABASE_URL: opts.databaseUrl,
    ALLOCATOR_MODE: opts.allocatorMode ?? 'per-lead',
    POWERTOOLS_LOG_LEVEL: 'ERROR',
  };
  // The runtime keeps its own defaults (pool of 20), as `npm start` does; the bench's settings are for
  // the in-process phases only.
  for (const name of ['DB_POOL_MAX', 'DATABASE_URL', 'LEAD_QUEUE_URL']) delete env[name];
  const profiling = opts.cpuProfileDir ? ['--cpu-prof', `--cpu-prof-dir=${opts.cpuProfileDir}`] : [];
  const child: ChildProcess = spawn(
    process.execPath,
    [...profiling, ...(opts.nodeArgs ?? []), '--import', 'tsx', path.join(HERE, 'runtimeProcess.ts')],
    { env, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] },
  );
  let nextId = 0;
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  child.on('message', (raw) => {
    const { id, result, error } = raw as { id: number; result?: unknown; error?: string };
    const waiter = pending.get(id);
    pending.delete(id);
    if (error !== undefined) waiter?.reject(new Error(error));
    else waiter?.resolve(result);
  });
  const ask = <T>(op: string) =>
    new Promise<T>((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      child.send({ id, op });
    });
  const stderr: string[] = [];
  readline.createInterface({ input: child.stderr! }).on('line', (line) => {
    if (process.env.BENCH_VERBOSE === '1') process.stderr.write(`${line}\n`);
    stderr.push(line);
    if (stderr.length > 50) stderr.shift();
  });
  const info = await new Promise<RuntimeInfo>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`runtime did not start:\n${stderr.join('\n')}`)),
      120_000,
    );
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`runtime exited with ${code}:\n${stderr.join('\n')}`));
    });
    readline.createInterface({ input: child.stdout! }).on('line', (line) => {
      try {
        const parsed = JSON.parse(line) as { ready?: RuntimeInfo };
        if (parsed.ready) {
          clearTimeout(timer);
          resolve(parsed.ready);
        }
      } catch {
        // not our line
      }
    });
  });
  child.removeAllListeners('exit');
  const pid = child.pid!;
  opts.log(`runtime (${opts.allocatorMode ?? 'per-lead'}) up at ${info.url}, pid ${pid}`);
  return {
    ...info,
    pid,
    memory: () => ask<ChildMemory>('memory'),
    idle: () => ask<void>('idle'),
    sockets: () =>
      readdirSync(`/proc/${pid}/fd`).filter((fd) => {
        try {
          return readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith('socket:');
        } catch {
          return false;
        }
      }).length,
    socketBreakdown: () => tcpSockets(pid, Number(new URL(info.url).port)),
    cpuMs: () => {
      // Fields 14 and 15 (utime, stime) in clock ticks of 1/100 s; the name field may hold spaces.
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      return (Number(fields[11]) + Number(fields[12])) * 10;
    },
    peakRssMiB: () => Math.round(statusKiB(pid, 'VmHWM') / 1024),
    rssMiB: () => Math.round(statusKiB(pid, 'VmRSS') / 1024),
    resetPeakRss: () => writeFileSync(`/proc/${pid}/clear_refs`, '5'),
    stop: async () => {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      // A clean stop lets in-flight allocations finish and writes the CPU profile; it takes seconds.
      const timeout = setTimeout(() => child.kill('SIGKILL'), 120_000);
      await exited;
      clearTimeout(timeout);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
