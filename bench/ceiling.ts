/**
 * The ceiling: what the same PostgreSQL, through the same pool (`withTransaction`) at the same
 * concurrency, commits when each "lead" is one trivial single-row UPDATE transaction. Each worker updates
 * its own row, so nothing waits for a lock: it is the commit rate of the server and the round trips of
 * BEGIN / UPDATE / COMMIT, which no allocator that commits once per lead can beat.
 */
import type pg from 'pg';
import { withTransaction } from '../functions/adapters/pg/db.js';
import { perSecond, runWorkers, summarize, type LatencySummary } from './stats.js';

export interface CeilingRun {
  workers: number;
  transactions: number;
  tps: number;
  latency: LatencySummary;
}

export async function prepareCeiling(client: pg.Client, rows: number): Promise<void> {
  await client.query(
    `CREATE TABLE IF NOT EXISTS bench_ceiling (id integer PRIMARY KEY, n bigint NOT NULL DEFAULT 0)`,
  );
  await client.query(
    `INSERT INTO bench_ceiling (id) SELECT g FROM generate_series(0, $1::int - 1) g ON CONFLICT DO NOTHING`,
    [rows],
  );
}

export async function measureCeiling(workers: number, transactions: number): Promise<CeilingRun> {
  const items = Array.from({ length: transactions }, (_, i) => i);
  const { elapsedMs, latenciesMs } = await runWorkers(items, workers, async (_, worker) => {
    await withTransaction((db) => db.query(`UPDATE bench_ceiling SET n = n + 1 WHERE id = $1`, [worker]));
  });
  return { workers, transactions, tps: perSecond(transactions, elapsedMs), latency: summarize(latenciesMs) };
}
