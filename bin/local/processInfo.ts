import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface ProcessInfo {
  pid: number;
  /** Executable name, e.g. `postgres`. */
  comm: string;
  ppid: number;
  /** Full command line, arguments joined by spaces. */
  args: string;
}

/**
 * What is running under `pid`, or undefined when nothing is. Reads `/proc` on Linux and falls back to
 * `ps` elsewhere (macOS). Used to tell a live server from a stale lock file whose PID was reused.
 */
export function processInfo(pid: number): ProcessInfo | undefined {
  if (!isAlive(pid)) return undefined;
  try {
    const comm = readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name in `stat` is parenthesised and may contain spaces; fields after it are fixed.
    const afterName = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // A zombie has exited; it only waits for its parent to reap it.
    if (afterName[0] === 'Z') return undefined;
    const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
    return { pid, comm, ppid: Number(afterName[1]), args };
  } catch {
    return processInfoFromPs(pid);
  }
}

function processInfoFromPs(pid: number): ProcessInfo | undefined {
  try {
    const out = execFileSync('ps', ['-o', 'ppid=,comm=', '-p', String(pid)], { encoding: 'utf8' }).trim();
    const args = execFileSync('ps', ['-o', 'args=', '-p', String(pid)], { encoding: 'utf8' }).trim();
    const match = /^(\d+)\s+(.*)$/.exec(out);
    if (!match) return undefined;
    return { pid, ppid: Number(match[1]), comm: (match[2] ?? '').split('/').pop() ?? '', args };
  } catch {
    return undefined;
  }
}

/** `kill(pid, 0)`: EPERM still means a process exists (it belongs to another user). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Polls until `pid` is gone; false when it is still there after `timeoutMs`. */
export async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (isAlive(pid)) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return true;
}
