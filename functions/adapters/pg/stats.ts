/** Aggregates for `/api/stats`. */
import { read } from './db.js';

export async function leadCountsByStatus(orgId: string): Promise<Record<string, number>> {
  const rows = await read<{ status: string; n: number }>(
    `SELECT status, count(*)::int AS n FROM leads WHERE org_id = $1 GROUP BY status`,
    [orgId],
  );
  return Object.fromEntries(rows.map((r) => [r.status, r.n]));
}

export async function unpublishedEventCount(orgId: string): Promise<number> {
  const rows = await read<{ n: number }>(
    `SELECT count(*)::int AS n FROM events WHERE org_id = $1 AND published_at IS NULL`,
    [orgId],
  );
  return rows[0]?.n ?? 0;
}

/** The org's newest event id: where a dashboard that just loaded starts following the live stream. */
export async function lastEventId(orgId: string): Promise<number> {
  const rows = await read<{ id: number | null }>(`SELECT max(id) AS id FROM events WHERE org_id = $1`, [
    orgId,
  ]);
  return rows[0]?.id ?? 0;
}
