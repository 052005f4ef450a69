/**
 * Erasure of a lead's personal data (`DELETE /api/leads/:id`): the lead row keeps its ids, status,
 * state and history; its events keep only ids. Every query is scoped by org.
 */
import type { Db } from './db.js';

export interface ErasableLead {
  id: string;
  sourceId: string | null;
  status: string;
  phone: string | null;
  externalId: string | null;
  erasedAt: Date | null;
}

/** Locks the lead row (first in the global lock order, docs/allocation.md). */
export async function lockLeadForErasure(
  db: Db,
  orgId: string,
  leadId: string,
): Promise<ErasableLead | undefined> {
  const out = await db.query<ErasableLead>(
    `SELECT id, source_id AS "sourceId", status, phone, external_id AS "externalId", erased_at AS "erasedAt"
     FROM leads WHERE org_id = $1 AND id = $2 FOR UPDATE`,
    [orgId, leadId],
  );
  return out.rows[0];
}

export async function erasePersonalColumns(db: Db, orgId: string, leadId: string, at: Date): Promise<void> {
  await db.query(
    `UPDATE leads SET phone = NULL, email = NULL, first_name = NULL, last_name = NULL, zip = NULL,
       external_id = NULL, attributes = '{}'::jsonb, erased_at = $3, updated_at = $3
     WHERE org_id = $1 AND id = $2`,
    [orgId, leadId, at],
  );
}

/** The lead's events, locked: the outbox relay may be publishing some of them right now. */
export async function lockLeadEventData(
  db: Db,
  orgId: string,
  leadId: string,
): Promise<{ id: number; data: Record<string, unknown> }[]> {
  const out = await db.query<{ id: number; data: Record<string, unknown> }>(
    `SELECT id, data FROM events WHERE org_id = $1 AND lead_id = $2 ORDER BY id FOR UPDATE`,
    [orgId, leadId],
  );
  return out.rows;
}

export async function replaceEventData(
  db: Db,
  orgId: string,
  events: { id: number; data: Record<string, unknown> }[],
): Promise<void> {
  if (events.length === 0) return;
  await db.query(
    `UPDATE events e SET data = x.data
     FROM unnest($2::bigint[], $3::jsonb[]) AS x(id, data)
     WHERE e.org_id = $1 AND e.id = x.id`,
    [orgId, events.map((e) => e.id), events.map((e) => JSON.stringify(e.data))],
  );
}

export async function insertErasure(
  db: Db,
  input: { orgId: string; leadId: string; at: Date; eventsScrubbed: number },
): Promise<void> {
  await db.query(
    `INSERT INTO lead_erasures (lead_id, org_id, erased_at, events_scrubbed) VALUES ($1, $2, $3, $4)
     ON CONFLICT (lead_id) DO NOTHING`,
    [input.leadId, input.orgId, input.at, input.eventsScrubbed],
  );
}
