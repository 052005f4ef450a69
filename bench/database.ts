/**
 * The bench's PostgreSQL: the server in `DATABASE_URL` when set (any database of it; the bench creates
 * and drops its own), else an embedded PostgreSQL 17 in a temporary directory with the same durable
 * settings as `npm start` (fsync and synchronous commit on: a commit waits for the WAL flush, as on
 * Aurora it waits for the storage quorum).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, chmodSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { startPostgres } from '../bin/local/postgres.js';

export interface BenchDatabase {
  url: string;
  serverVersion: string;
  settings: Record<string, string>;
  close(): Promise<void>;
}

async function withClient<T>(url: string, work: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

export async function openBenchDatabase(log: (m: string) => void): Promise<BenchDatabase> {
  let adminUrl = process.env.DATABASE_URL;
  let stopServer: () => Promise<void> = async () => undefined;
  let dataDir: string | undefined;
  let clusterDir: string | undefined;
  if (!adminUrl) {
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'leadrouter-bench-pg-'));
    chmodSync(dataDir, 0o755);
    log(`starting an embedded PostgreSQL in ${dataDir}`);
    const server = await startPostgres({ dataDir, ephemeral: false });
    adminUrl = server.adminUrl;
    clusterDir = server.clusterDir;
    stopServer = () => server.stop();
  }
  const name = `leadrouter_bench_${randomBytes(4).toString('hex')}`;
  await withClient(adminUrl, (c) => c.query(`CREATE DATABASE ${c.escapeIdentifier(name)}`));
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const { serverVersion, settings } = await withClient(url.toString(), async (c) => {
    const version = await c.query<{ server_version: string }>('SHOW server_version');
    const rows = await c.query<{ name: string; setting: string; unit: string | null }>(
      `SELECT name, setting, unit FROM pg_settings
       WHERE name IN ('fsync', 'synchronous_commit', 'full_page_writes', 'shared_buffers', 'max_connections',
                      'wal_level', 'commit_delay', 'work_mem')`,
    );
    return {
      serverVersion: version.rows[0]!.server_version,
      settings: Object.fromEntries(
        rows.rows.map((r) => [r.name, r.unit ? `${r.setting} (${r.unit})` : r.setting]),
      ),
    };
  });
  return {
    url: url.toString(),
    serverVersion,
    settings,
    close: async () => {
      await withClient(adminUrl, (c) =>
        c.query(`DROP DATABASE IF EXISTS ${c.escapeIdentifier(name)} WITH (FORCE)`),
      ).catch((e: Error) => log(`could not drop ${name}: ${e.message}`));
      await stopServer();
      for (const dir of [clusterDir, dataDir]) if (dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A plain client for the bench's own SQL (setup, bulk loads, invariant checks), outside the product's pool. */
export async function benchClient(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  return client;
}
