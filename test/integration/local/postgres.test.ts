import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPostgres, type RunningPostgres } from '../../../bin/local/postgres.js';
import { isAlive, waitForExit } from '../../../bin/local/processInfo.js';

async function query<T extends pg.QueryResultRow>(url: string, sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

function postmasterPid(server: RunningPostgres): number {
  return Number(readFileSync(path.join(server.clusterDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
}

/** Runs startPostgres in a separate Node process (see fixtures/postgresChild.ts). */
async function startInChildProcess(dataDir: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(import.meta.dirname, 'fixtures', 'postgresChild.ts'), dataDir],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const lines = createInterface({ input: child.stdout! });
  const first = await new Promise<string>((resolve, reject) => {
    lines.once('line', resolve);
    child.once('exit', (code) => reject(new Error(`child exited with ${code}`)));
  });
  return { child, url: (JSON.parse(first) as { url: string }).url };
}

describe('startPostgres', () => {
  // mkdtemp gives 0700: as root this also exercises the fallback cluster location under /var/tmp.
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'leadrouter-pg-test-'));
  const clusterDirs = new Set<string>();
  let server: RunningPostgres | undefined;
  let log: string[] = [];

  async function start(): Promise<RunningPostgres> {
    log = [];
    server = await startPostgres({ dataDir, onLog: (line) => log.push(line) });
    clusterDirs.add(server.clusterDir);
    return server;
  }

  afterAll(async () => {
    await server?.stop();
    for (const dir of clusterDirs) {
      // The root fallback location is a directory of its own under /var/tmp: remove that too.
      rmSync(path.basename(path.dirname(dir)).startsWith('leadrouter-pg-data-') ? path.dirname(dir) : dir, {
        recursive: true,
        force: true,
      });
    }
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('initialises a cluster with a leadrouter database and keeps data across a clean restart', async () => {
    const first = await start();
    await query(first.url, 'create table kept (id int primary key); insert into kept values (1)');
    const [settings] = await query<{ db: string; fsync: string; max: string }>(
      first.url,
      "select current_database() db, current_setting('fsync') fsync, current_setting('max_connections') max",
    );
    expect(settings).toEqual({ db: 'leadrouter', fsync: 'on', max: '200' });
    await first.stop();

    const second = await start();
    expect(second.port).toBe(first.port);
    expect(await query(second.url, 'select id from kept')).toEqual([{ id: 1 }]);
    expect(await query(second.adminUrl, 'select current_database() db')).toEqual([{ db: 'postgres' }]);
  });

  it('starts again after the server was SIGKILLed (stale postmaster.pid)', async () => {
    const running = server!;
    await query(running.url, 'insert into kept values (2)');
    const pid = postmasterPid(running);
    process.kill(pid, 'SIGKILL');
    expect(await waitForExit(pid, 10_000)).toBe(true);
    await running.stop(); // a no-op on a dead server, must not hang

    const restarted = await start();
    expect(log.join('\n')).toMatch(/removed stale .*postmaster\.pid \(pid \d+ is not running\)/);
    expect(await query(restarted.url, 'select id from kept order by id')).toEqual([{ id: 1 }, { id: 2 }]);
  });

  it('starts when postmaster.pid names a live process that is not PostgreSQL (PID reused)', async () => {
    await server!.stop();
    const unrelated = spawn('sleep', ['60'], { stdio: 'ignore' });
    try {
      writeFileSync(
        path.join(server!.clusterDir, 'postmaster.pid'),
        `${unrelated.pid}\n${server!.clusterDir}\n`,
      );
      const restarted = await start();
      expect(log.join('\n')).toContain(
        `removed stale ${path.join(server!.clusterDir, 'postmaster.pid')} (pid ${unrelated.pid} is 'sleep'`,
      );
      expect(await query(restarted.url, 'select count(*)::int n from kept')).toEqual([{ n: 2 }]);
    } finally {
      unrelated.kill('SIGKILL');
    }
  });

  it('picks another port when the saved one is taken', async () => {
    const previous = server!;
    await previous.stop();
    const squatter = net.createServer();
    await new Promise<void>((resolve) => squatter.listen(previous.port, '127.0.0.1', resolve));
    try {
      const restarted = await start();
      expect(restarted.port).not.toBe(previous.port);
      expect(await query(restarted.url, 'select count(*)::int n from kept')).toEqual([{ n: 2 }]);
    } finally {
      await new Promise((resolve) => squatter.close(resolve));
    }
  });

  it('stops a server orphaned by a SIGKILLed Node process and takes over its cluster', async () => {
    await server!.stop();
    const { child, url } = await startInChildProcess(dataDir);
    await query(url, 'insert into kept values (3)');
    const orphanedServer = Number(
      readFileSync(path.join(server!.clusterDir, 'postmaster.pid'), 'utf8').split('\n')[0],
    );
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    expect(isAlive(orphanedServer)).toBe(true);

    const restarted = await start();
    expect(log.join('\n')).toContain(`stopping orphaned server pid ${orphanedServer}`);
    expect(isAlive(orphanedServer)).toBe(false);
    expect(await query(restarted.url, 'select count(*)::int n from kept')).toEqual([{ n: 3 }]);
  });
});

describe('startPostgres({ ephemeral: true })', () => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'leadrouter-pg-test-'));
  let server: RunningPostgres;

  beforeAll(async () => {
    chmodSync(dataDir, 0o755);
    server = await startPostgres({ dataDir, ephemeral: true });
  });
  afterAll(async () => {
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('turns durability off for speed and keeps the cluster inside an enterable dataDir', async () => {
    expect(server.clusterDir).toBe(path.join(dataDir, 'pgdata'));
    const [settings] = await query(
      server.url,
      "select current_setting('fsync') f, current_setting('synchronous_commit') s, current_setting('full_page_writes') p",
    );
    expect(settings).toEqual({ f: 'off', s: 'off', p: 'off' });
  });
});
