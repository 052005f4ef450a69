/**
 * Leads in PostgreSQL: stored by the allocator (idempotently, keyed by the id ingest gave them),
 * locked while a decision about them is made, listed with keyset paging.
 */
import type { LeadStatus, NormalizedLead } from '../../domain/types.js';
import type { TraceEntry } from '../../domain/allocation.js';
import { read, type Db } from './db.js';

export interface LeadRow {
  id: string;
  orgId: string;
  sourceId: string | null;
  phone: string | null;
  email: string | null;
  firstName: string | null;
  lastName: string | null;
  state: string | null;
  zip: string | null;
  campaign: string | null;
  externalId: string | null;
  attributes: Record<string, unknown>;
  status: LeadStatus;
  reason: string | null;
  trace: TraceEntry[] | null;
  reassignmentCount: number;
  receivedAt: Date;
  statusChangedAt: Date;
  updatedAt: Date;
}

const leadColumns = (trace: string) => `id, org_id AS "orgId", source_id AS "sourceId", phone, email,
  first_name AS "firstName", last_name AS "lastName", state, zip, campaign, external_id AS "externalId", attributes,
  status, reason, ${trace}, reassignment_count AS "reassignmentCount", received_at AS "receivedAt",
  status_changed_at AS "statusChangedAt", updated_at AS "updatedAt"`;

export const LEAD_COLUMNS = leadColumns('trace');

/**
 * The list leaves the decision trace out (`trace` is null): a trace has an entry per candidate, kilobytes
 * for a campaign of 50, and reading and decoding it for every row of a page the list never shows was
 * most of the page's cost (measured in docs/benchmarks.md).
 */
const LEAD_LIST_COLUMNS = leadColumns('NULL::jsonb AS trace');

/** Inserts the lead unless a row with its id exists; true when this call inserted it. */
export async function insertLeadIfAbsent(
  db: Db,
  input: { id: string; orgId: string; sourceId: string | null; receivedAt: Date; lead: NormalizedLead },
): Promise<boolean> {
  const l = input.lead;
  const out = await db.query(
    `INSERT INTO leads (id, org_id, source_id, phone, email, first_name, last_name, state, zip, campaign, external_id,
       attributes, status, received_at, status_changed_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 'queued', $13, $13)
     ON CONFLICT (id) DO NOTHING`,
    [
      input.id,
      input.orgId,
      input.sourceId,
      l.phone,
      l.email,
      l.firstName,
      l.lastName,
      l.state,
      l.zip,
      l.campaign,
      l.externalId,
      JSON.stringify(l.attributes ?? {}),
      input.receivedAt,
    ],
  );
  return (out.rowCount ?? 0) > 0;
}

/** Locks the lead row: every decision about one lead is serialised on it (first in the lock order). */
export async function lockLead(db: Db, orgId: string, leadId: string): Promise<LeadRow | undefined> {
  const out = await db.query<LeadRow>(
    `SELECT ${LEAD_COLUMNS} FROM leads WHERE id = $1 AND org_id = $2 FOR UPDATE`,
    [leadId, orgId],
  );
  return out.rows[0];
}

export async function setLeadStatus(
  db: Db,
  input: {
    leadId: string;
    status: LeadStatus;
    reason: string | null;
    trace?: TraceEntry[] | null;
    at: Date;
    reassignmentIncrement?: number;
  },
): Promise<void> {
  await db.query(
    `UPDATE leads SET status = $2, reason = $3, trace = COALESCE($4::jsonb, trace), status_changed_at = $5,
       updated_at = $5, reassignment_count = reassignment_count + $6
     WHERE id = $1`,
    [
      input.leadId,
      input.status,
      input.reason,
      input.trace === undefined ? null : JSON.stringify(input.trace),
      input.at,
      input.reassignmentIncrement ?? 0,
    ],
  );
}

export async function getLead(orgId: string, leadId: string): Promise<LeadRow | undefined> {
  const rows = await read<LeadRow>(`SELECT ${LEAD_COLUMNS} FROM leads WHERE id = $1 AND org_id = $2`, [
    leadId,
    orgId,
  ]);
  return rows[0];
}

export interface LeadFilter {
  status?: string;
  state?: string;
  campaign?: string;
  recipientId?: string;
  limit: number;
  /** Keyset cursor: the (receivedAt, id) of the last row of the previous page. */
  after?: { receivedAt: string; id: string };
}

export async function listLeads(orgId: string, f: LeadFilter): Promise<LeadRow[]> {
  const where = ['l.org_id = $1'];
  const values: unknown[] = [orgId];
  const add = (sql: string, v: unknown) => {
    values.push(v);
    where.push(sql.replace('?', `$${values.length}`));
  };
  if (f.status) add('l.status = ?', f.status);
  if (f.state) add('l.state = ?', f.state);
  if (f.campaign) add('l.campaign = ?', f.campaign);
  if (f.recipientId) {
    // A recipient's leads are found from its open assignments, which carry their lead's received_at,
    // so the partial index assignments_recipient_open_received_idx yields them in page order.
    add('a.recipient_id = ?', f.recipientId);
    where.push('a.ended_at IS NULL', 'a.recipient_id IS NOT NULL');
    if (f.after) {
      values.push(f.after.receivedAt, f.after.id);
      where.push(
        `(a.lead_received_at, a.lead_id) < ($${values.length - 1}::timestamptz, $${values.length}::uuid)`,
      );
    }
    values.push(f.limit);
    return read<LeadRow>(
      `WITH page AS (
         SELECT a.lead_id FROM assignments a JOIN leads l ON l.id = a.lead_id
         WHERE ${where.join(' AND ')}
         ORDER BY a.lead_received_at DESC, a.lead_id DESC LIMIT $${values.length}
       )
       SELECT ${LEAD_LIST_COLUMNS} FROM leads WHERE id IN (SELECT lead_id FROM page)
       ORDER BY received_at DESC, id DESC`,
      values,
    );
  }
  if (f.after) {
    values.push(f.after.receivedAt, f.after.id);
    where.push(`(l.received_at, l.id) < ($${values.length - 1}::timestamptz, $${values.length}::uuid)`);
  }
  values.push(f.limit);
  return read<LeadRow>(
    `SELECT ${LEAD_LIST_COLUMNS} FROM leads l WHERE ${where.join(' AND ')}
     ORDER BY l.received_at DESC, l.id DESC LIMIT $${values.length}`,
    values,
  );
}

export interface Assignee {
  recipientId: string;
  name: string;
}

/** Who holds each of these leads now: open assignments to recipients, oldest first (one query per page). */
export async function openAssignees(orgId: string, leadIds: string[]): Promise<Map<string, Assignee[]>> {
  const out = new Map<string, Assignee[]>(leadIds.map((id) => [id, []]));
  if (leadIds.length === 0) return out;
  const rows = await read<Assignee & { leadId: string }>(
    `SELECT a.lead_id AS "leadId", a.recipient_id AS "recipientId", r.name
     FROM assignments a JOIN recipients r ON r.id = a.recipient_id
     WHERE a.org_id = $1 AND a.lead_id = ANY($2::uuid[]) AND a.ended_at IS NULL
     ORDER BY a.lead_id, a.assigned_at, a.id`,
    [orgId, leadIds],
  );
  for (const { leadId, ...assignee } of rows) out.get(leadId)?.push(assignee);
  return out;
}
