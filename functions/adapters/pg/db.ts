/**
 * Transactions against PostgreSQL. Every state change runs inside `withTransaction`, which retries
 * the whole unit of work on deadlock (40P01) and serialization failure (40001): those abort the
 * transaction before commit, so running it again is safe and keeps every invariant.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import pg from 'pg';
import { dbPool } from '../../clients.js';

// DATE stays 'YYYY-MM-DD' (a recipient's local day is a calendar day, not an instant);
// BIGINT (counts, ids) fits a JS number for every value this product can reach.
pg.types.setTypeParser(pg.types.builtins.DATE, (v) => v);
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v));
pg.types.setTypeParser(pg.types.builtins.NUMERIC, (v) => Number(v));

export type Db = pg.PoolClient;

const RETRYABLE = new Set(['40001', '40P01']);
const MAX_ATTEMPTS = 8;

function isRetryable(error: unknown): boolean {
  return (
    typeof error === 'object' && error !== null && RETRYABLE.has((error as { code?: string }).code ?? '')
  );
}

/**
 * The org whose admin request is being served. Inside `withOrgScope`, every transaction and read runs
 * as the role `leadrouter_app` with `app.org_id` set, so PostgreSQL's row-level security (migration
 * `…_row_level_security.sql`) limits it to that org's rows — a second wall behind the org filter in
 * every query. Both settings are transaction-local (`set_config(…, true)`), which RDS Proxy treats as
 * transaction state: the connection goes back to the proxy's pool at commit, unpinned.
 */
const orgScope = new AsyncLocalStorage<{ orgId: string }>();

export function withOrgScope<T>(orgId: string, work: () => Promise<T>): Promise<T> {
  return orgScope.run({ orgId }, work);
}

async function begin(client: pg.PoolClient): Promise<void> {
  const scope = orgScope.getStore();
  if (!scope) {
    await client.query('BEGIN');
    return;
  }
  await client.query('BEGIN');
  await client.query(
    `SELECT set_config('role', 'leadrouter_app', true), set_config('app.org_id', $1, true)`,
    [scope.orgId],
  );
}

export async function withTransaction<T>(work: (db: Db) => Promise<T>): Promise<T> {
  const pool = await dbPool();
  for (let attempt = 1; ; attempt++) {
    const client = await pool.connect();
    try {
      await begin(client);
      const result = await work(client);
      await client.query('COMMIT');
      client.release();
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      // A broken connection must not go back to the pool.
      client.release(isConnectionError(error) ? (error as Error) : undefined);
      if (!isRetryable(error) || attempt >= MAX_ATTEMPTS) throw error;
      // Jittered backoff so that two retried transactions don't collide again in lockstep.
      await new Promise((r) => setTimeout(r, Math.random() * 5 * 2 ** attempt));
    }
  }
}

/**
 * Runs work in a transaction that is always rolled back: "what would happen now" (campaign
 * simulation) through exactly the code that really allocates, committing nothing.
 */
export async function withRollback<T>(work: (db: Db) => Promise<T>): Promise<T> {
  const pool = await dbPool();
  const client = await pool.connect();
  try {
    await begin(client);
    return await work(client);
  } finally {
    await client.query('ROLLBACK').catch(() => undefined);
    client.release();
  }
}

function isConnectionError(error: unknown): boolean {
  const code = (error as { code?: string })?.code ?? '';
  return code.startsWith('08') || code === '57P01' || code === 'ECONNRESET' || code === 'ECONNREFUSED';
}

/** A single statement outside an explicit transaction (in its own transaction when org-scoped). */
export async function read<T extends pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<T[]> {
  if (orgScope.getStore()) return withTransaction(async (db) => (await db.query<T>(text, values)).rows);
  const pool = await dbPool();
  const out = await pool.query<T>(text, values);
  return out.rows;
}
