/**
 * State caps (the most leads of one state a single order may receive) and the org's stock lock, which
 * lives on the same row. See docs/allocation.md ("Orders: the stock lock") for why every order change
 * takes the stock lock first.
 */
import type { StateCaps } from '../../domain/orderFill.js';
import { read, type Db } from './db.js';

const ENSURE_ROW = `INSERT INTO stock_settings (org_id) VALUES ($1) ON CONFLICT (org_id) DO NOTHING`;

/**
 * Takes the org's stock lock: `update` serialises every order fill, fulfilment, deletion and cap
 * change of the org; `share` only waits for one in progress to commit (a cheap "are there open
 * orders?" check that sees what it committed). The row is created on first use; an `INSERT … ON
 * CONFLICT DO NOTHING` racing another one waits for it, so two first users still queue on one row.
 */
export async function lockStock(db: Db, orgId: string, mode: 'update' | 'share'): Promise<void> {
  await db.query(ENSURE_ROW, [orgId]);
  await db.query(
    mode === 'update'
      ? `SELECT 1 FROM stock_settings WHERE org_id = $1 FOR UPDATE`
      : `SELECT 1 FROM stock_settings WHERE org_id = $1 FOR SHARE`,
    [orgId],
  );
}

/** The org's caps; the product default (10) when it never set any. */
export async function readStateCaps(db: Db | null, orgId: string): Promise<StateCaps> {
  const q = <T extends Record<string, unknown>>(text: string) =>
    db ? db.query<T>(text, [orgId]).then((r) => r.rows) : read<T>(text, [orgId]);
  const [settings, caps] = await Promise.all([
    q<{ defaultStateCap: number }>(
      `SELECT default_state_cap AS "defaultStateCap" FROM stock_settings WHERE org_id = $1`,
    ),
    q<{ state: string; cap: number }>(`SELECT state, cap FROM state_caps WHERE org_id = $1 ORDER BY state`),
  ]);
  return {
    default: settings[0]?.defaultStateCap ?? 10,
    byState: Object.fromEntries(caps.map((c) => [c.state, c.cap])),
  };
}

/** Replaces the org's caps (PUT semantics: states left out fall back to the default). */
export async function replaceStateCaps(db: Db, orgId: string, caps: StateCaps, now: Date): Promise<void> {
  await db.query(`UPDATE stock_settings SET default_state_cap = $2, updated_at = $3 WHERE org_id = $1`, [
    orgId,
    caps.default,
    now,
  ]);
  await db.query(`DELETE FROM state_caps WHERE org_id = $1`, [orgId]);
  const entries = Object.entries(caps.byState);
  if (entries.length === 0) return;
  await db.query(
    `INSERT INTO state_caps (org_id, state, cap)
     SELECT $1, x.state, x.cap FROM unnest($2::text[], $3::int[]) AS x(state, cap)`,
    [orgId, entries.map(([s]) => s), entries.map(([, c]) => c)],
  );
}
