/**
 * The locked part of allocation: candidate recipients are locked `FOR UPDATE` in ascending id order
 * (after the lead row), read together with their counters, and the decision's effects are written
 * back in the same transaction. See docs/allocation.md for the lock order and why it cannot deadlock.
 */
import type { CandidateRecipient, TraceEntry } from '../../domain/allocation.js';
import type { AssignmentReason, LeadStatus, NormalizedLead, WorkingHours } from '../../domain/types.js';
import type { Db } from './db.js';
import { insertEvents, type NewEvent, type StoredEvent } from './events.js';
import { LEAD_COLUMNS, type LeadRow } from './leads.js';

export interface CampaignRow {
  id: string;
  orgId: string;
  key: string;
  name: string;
  recipientsPerLead: number;
  staticRecipientIds: string[];
  poolRecipientIds: string[] | null;
  stateRouting: 'prefer' | 'require' | 'ignore';
  staticOptional: boolean;
  mode: 'push' | 'stock';
  slaMinutes: number | null;
  maxReassignments: number;
  createdAt: Date;
  updatedAt: Date;
}

export const CAMPAIGN_COLUMNS = `id, org_id AS "orgId", key, name, recipients_per_lead AS "recipientsPerLead",
  static_recipient_ids AS "staticRecipientIds", pool_recipient_ids AS "poolRecipientIds",
  state_routing AS "stateRouting", static_optional AS "staticOptional", mode, sla_minutes AS "slaMinutes",
  max_reassignments AS "maxReassignments", created_at AS "createdAt", updated_at AS "updatedAt"`;

export async function findCampaignByKey(
  db: Db,
  orgId: string,
  key: string,
): Promise<CampaignRow | undefined> {
  const out = await db.query<CampaignRow>(
    `SELECT ${CAMPAIGN_COLUMNS} FROM campaigns WHERE org_id = $1 AND key = $2`,
    [orgId, key],
  );
  return out.rows[0];
}

export interface LockedCandidate extends CandidateRecipient {
  /** The recipient's calendar day at `now` in its own timezone: the day its cap counter is kept for. */
  localDay: string;
  quotaEpoch: number;
  /** False when the recipient has no rotation row in this campaign yet (its picks get seeded). */
  inRotation: boolean;
}

/**
 * Locks every candidate of the campaign — static members, pool members, or (pool unset) every active
 * recipient of the org — in ascending id order, and reads each one's cap counter for its own local
 * day and its rotation state. Locking all candidates, not only the chosen ones, is what makes the
 * rotation exact: two leads of one campaign never decide from the same counters.
 */
export async function lockCandidates(
  db: Db,
  campaign: CampaignRow,
  now: Date,
  /** Other recipients this transaction will touch (holders of a lead being reassigned), locked in the same order. */
  extraRecipientIds: string[] = [],
): Promise<LockedCandidate[]> {
  const ids = [
    ...new Set([...campaign.staticRecipientIds, ...(campaign.poolRecipientIds ?? []), ...extraRecipientIds]),
  ];
  // Two statements on purpose. Under READ COMMITTED a statement reads from a snapshot taken when it
  // starts; if it then waits for a row lock, only the locked row is re-read after the wait (and only
  // if it changed). Counters and rotation rows joined in the same statement would be the stale
  // pre-wait versions, and two waiting allocations would both see the same count. So: lock first,
  // then read everything in a new statement whose snapshot includes what the lock holders committed.
  const locked = await lockRecipientRows(db, campaign.orgId, ids, campaign.poolRecipientIds === null);
  return readCandidates(db, locked, now, campaign.id);
}

/**
 * Locks recipient rows of an org in ascending id order (the global lock order): the given ids, plus
 * every active recipient when `allActive`. Returns the ids locked.
 */
export async function lockRecipientRows(
  db: Db,
  orgId: string,
  ids: string[],
  allActive = false,
): Promise<string[]> {
  const out = await db.query<{ id: string }>(
    `SELECT r.id FROM recipients r
     WHERE r.org_id = $1 AND (r.id = ANY($2::uuid[]) OR ($3::boolean AND r.active))
     ORDER BY r.id
     FOR UPDATE`,
    [orgId, ids, allActive],
  );
  return out.rows.map((r) => r.id);
}

/** Reads locked recipients with their counters for `now` and their rotation state in a campaign (if any). */
export async function readCandidates(
  db: Db,
  ids: string[],
  now: Date,
  campaignId: string | null,
): Promise<LockedCandidate[]> {
  const out = await db.query<{
    id: string;
    name: string;
    active: boolean;
    states: string[];
    dailyCap: number | null;
    quotaRemaining: number | null;
    quotaEpoch: number;
    weight: number;
    timezone: string;
    workingHours: WorkingHours | null;
    localDay: string;
    assignedToday: number;
    rotationPicks: number | null;
    lastPickedAt: Date | null;
  }>(
    `SELECT r.id, r.name, r.active, r.states, r.daily_cap AS "dailyCap", r.quota_remaining AS "quotaRemaining",
            r.quota_epoch AS "quotaEpoch", r.weight, r.timezone, r.working_hours AS "workingHours",
            (($2::timestamptz AT TIME ZONE r.timezone)::date)::text AS "localDay",
            COALESCE(d.assigned, 0) AS "assignedToday",
            rs.picks AS "rotationPicks", rs.last_picked_at AS "lastPickedAt"
     FROM recipients r
     LEFT JOIN recipient_day_counts d
       ON d.recipient_id = r.id AND d.local_day = ($2::timestamptz AT TIME ZONE r.timezone)::date
     LEFT JOIN rotation_state rs ON rs.campaign_id = $3 AND rs.recipient_id = r.id
     WHERE r.id = ANY($1::uuid[])
     ORDER BY r.id`,
    [ids, now, campaignId],
  );
  return out.rows.map((r) => ({
    ...r,
    states: r.states ?? [],
    rotationPicks: r.rotationPicks ?? 0,
    inRotation: r.rotationPicks !== null,
  }));
}

/** Ids of recipients who hold this lead now. */
export async function openRecipientIds(db: Db, leadId: string): Promise<string[]> {
  const out = await db.query<{ recipientId: string }>(
    `SELECT recipient_id AS "recipientId" FROM assignments WHERE lead_id = $1 AND ended_at IS NULL AND recipient_id IS NOT NULL`,
    [leadId],
  );
  return out.rows.map((r) => r.recipientId);
}

/** Ids of recipients who held this lead before (they are never chosen for it again). */
export async function previousRecipientIds(db: Db, leadId: string): Promise<string[]> {
  const out = await db.query<{ recipientId: string }>(
    `SELECT DISTINCT recipient_id AS "recipientId" FROM assignments WHERE lead_id = $1 AND recipient_id IS NOT NULL`,
    [leadId],
  );
  return out.rows.map((r) => r.recipientId);
}

export interface AssignmentWrite {
  recipientId: string;
  reason: AssignmentReason;
  localDay: string;
  quotaEpoch: number;
}

/**
 * Writes the chosen assignments and moves every counter with them, so that counters always equal
 * the rows: one assignment row, +1 on the recipient's local-day counter, −1 on its remaining quota.
 */
export async function insertAssignments(
  db: Db,
  input: { orgId: string; leadId: string; at: Date; assignments: AssignmentWrite[] },
): Promise<void> {
  const a = input.assignments;
  if (a.length === 0) return;
  const ids = a.map((x) => x.recipientId);
  await db.query(
    `WITH ins AS (
       INSERT INTO assignments (org_id, lead_id, recipient_id, reason, assigned_at, local_day, quota_epoch)
       SELECT $1, $2, x.recipient_id, x.reason, $3, x.local_day, x.quota_epoch
       FROM unnest($4::uuid[], $5::text[], $6::date[], $7::int[]) AS x(recipient_id, reason, local_day, quota_epoch)
       RETURNING 1
     ), days AS (
       INSERT INTO recipient_day_counts (recipient_id, local_day, assigned)
       SELECT x.recipient_id, x.local_day, 1 FROM unnest($4::uuid[], $6::date[]) AS x(recipient_id, local_day)
       ON CONFLICT (recipient_id, local_day) DO UPDATE SET assigned = recipient_day_counts.assigned + 1
       RETURNING 1
     )
     UPDATE recipients SET quota_remaining = quota_remaining - 1
     WHERE id = ANY($4::uuid[]) AND quota_remaining IS NOT NULL`,
    [
      input.orgId,
      input.leadId,
      input.at,
      ids,
      a.map((x) => x.reason),
      a.map((x) => x.localDay),
      a.map((x) => x.quotaEpoch),
    ],
  );
}

/**
 * Ends open assignments of a lead and, where they still count, gives their capacity back: −1 on the
 * local-day counter they were counted in, +1 on the quota of the epoch they were taken from.
 * Returns the recipients whose assignments ended.
 */
export async function endAssignments(
  db: Db,
  input: { leadId: string; at: Date; endReason: string; recipientIds?: string[]; creditCapacity: boolean },
): Promise<{ recipientId: string | null; orderId: string | null }[]> {
  // Lock order: recipients in ascending id order before touching their counters (a no-op when the
  // caller already holds them through lockCandidates).
  await db.query(
    `SELECT 1 FROM recipients WHERE id IN (
       SELECT recipient_id FROM assignments
       WHERE lead_id = $1 AND ended_at IS NULL AND ($2::uuid[] IS NULL OR recipient_id = ANY($2::uuid[])))
     ORDER BY id FOR UPDATE`,
    [input.leadId, input.recipientIds ?? null],
  );
  const out = await db.query<{
    recipientId: string | null;
    orderId: string | null;
    localDay: string | null;
    quotaEpoch: number | null;
    wasCounted: boolean;
  }>(
    `UPDATE assignments a SET ended_at = $2, end_reason = $3, counted = a.counted AND NOT $5::boolean
     FROM (SELECT id, counted FROM assignments
           WHERE lead_id = $1 AND ended_at IS NULL AND ($4::uuid[] IS NULL OR recipient_id = ANY($4::uuid[]))
           FOR UPDATE) o
     WHERE a.id = o.id
     RETURNING a.recipient_id AS "recipientId", a.order_id AS "orderId", a.local_day::text AS "localDay",
               a.quota_epoch AS "quotaEpoch", o.counted AS "wasCounted"`,
    [input.leadId, input.at, input.endReason, input.recipientIds ?? null, input.creditCapacity],
  );
  const credited = out.rows.filter(
    (r) => input.creditCapacity && r.wasCounted && r.recipientId && r.localDay,
  );
  if (credited.length > 0) {
    await db.query(
      `UPDATE recipient_day_counts d SET assigned = d.assigned - x.n
       FROM (SELECT recipient_id, local_day, count(*)::int AS n
             FROM unnest($1::uuid[], $2::date[]) AS u(recipient_id, local_day) GROUP BY 1, 2) x
       WHERE d.recipient_id = x.recipient_id AND d.local_day = x.local_day`,
      [credited.map((r) => r.recipientId), credited.map((r) => r.localDay)],
    );
    await db.query(
      `UPDATE recipients r SET quota_remaining = LEAST(r.quota, r.quota_remaining + x.n)
       FROM (SELECT recipient_id, quota_epoch, count(*)::int AS n
             FROM unnest($1::uuid[], $2::int[]) AS u(recipient_id, quota_epoch) GROUP BY 1, 2) x
       WHERE r.id = x.recipient_id AND r.quota_remaining IS NOT NULL AND r.quota_epoch = x.quota_epoch`,
      [credited.map((r) => r.recipientId), credited.map((r) => r.quotaEpoch)],
    );
  }
  return out.rows.map((r) => ({ recipientId: r.recipientId, orderId: r.orderId }));
}

// ---------------------------------------------------------------------------------------------------
// Set-based allocation of queue messages (per-lead = a batch of one): a constant number of statements
// per transaction, whatever the batch size. See functions/usecases/allocateLead.ts for the sequence.
// ---------------------------------------------------------------------------------------------------

export interface NewLead {
  id: string;
  orgId: string;
  sourceId: string | null;
  receivedAt: Date;
  lead: NormalizedLead;
}

/** A lead this call stored, with its campaign (if any) and the phone's earlier recipient (if any). */
export interface InsertedLead {
  lead: LeadRow;
  campaign: CampaignRow | undefined;
  /** The most recent earlier assignment of another lead with this phone in the org, if any. */
  returning: { recipientId: string; assignedAt: Date } | null;
}

interface CampaignJson {
  id: string;
  org_id: string;
  key: string;
  name: string;
  recipients_per_lead: number;
  static_recipient_ids: string[];
  pool_recipient_ids: string[] | null;
  state_routing: CampaignRow['stateRouting'];
  static_optional: boolean;
  mode: CampaignRow['mode'];
  sla_minutes: number | null;
  max_reassignments: number;
  created_at: string;
  updated_at: string;
}

function campaignFromJson(c: CampaignJson): CampaignRow {
  return {
    id: c.id,
    orgId: c.org_id,
    key: c.key,
    name: c.name,
    recipientsPerLead: c.recipients_per_lead,
    staticRecipientIds: c.static_recipient_ids,
    poolRecipientIds: c.pool_recipient_ids,
    stateRouting: c.state_routing,
    staticOptional: c.static_optional,
    mode: c.mode,
    slaMinutes: c.sla_minutes,
    maxReassignments: c.max_reassignments,
    createdAt: new Date(c.created_at),
    updatedAt: new Date(c.updated_at),
  };
}

/**
 * Stores the leads that are not stored yet (`ON CONFLICT (id) DO NOTHING`: an existing row is a
 * redelivery of a committed message) and, in the same statement, reads for each lead it stored the
 * campaign its key names (`defaultCampaign` when none) and the phone's returning contact: the
 * recipient of the most recent assignment (latest `assigned_at`, then latest row) of another lead of
 * the org with that phone. Rows are inserted in ascending id order, so two transactions storing
 * overlapping sets of new leads take their row locks in one order. Returns the stored leads in
 * ascending id order; leads already stored are absent.
 */
export async function insertLeadsForAllocation(
  db: Db,
  leads: NewLead[],
  defaultCampaign: string,
): Promise<InsertedLead[]> {
  if (leads.length === 0) return [];
  const out = await db.query<
    LeadRow & {
      campaignRow: CampaignJson | null;
      returningRecipientId: string | null;
      returningAssignedAt: Date | null;
    }
  >(
    `WITH ins AS (
       INSERT INTO leads (id, org_id, source_id, phone, email, first_name, last_name, state, zip, campaign,
         external_id, attributes, status, received_at, status_changed_at)
       SELECT x.id, x.org_id, x.source_id, x.phone, x.email, x.first_name, x.last_name, x.state, x.zip, x.campaign,
         x.external_id, x.attributes, 'queued', x.received_at, x.received_at
       FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
                   $9::text[], $10::text[], $11::text[], $12::jsonb[], $13::timestamptz[])
         AS x(id, org_id, source_id, phone, email, first_name, last_name, state, zip, campaign, external_id,
              attributes, received_at)
       ORDER BY x.id
       ON CONFLICT (id) DO NOTHING
       RETURNING ${LEAD_COLUMNS}
     )
     SELECT ins.*, CASE WHEN c.id IS NULL THEN NULL ELSE to_json(c.*) END AS "campaignRow",
            rc.recipient_id AS "returningRecipientId", rc.assigned_at AS "returningAssignedAt"
     FROM ins
     LEFT JOIN campaigns c ON c.org_id = ins."orgId" AND c.key = COALESCE(ins.campaign, $14)
     LEFT JOIN LATERAL (
       SELECT a.recipient_id, a.assigned_at
       FROM leads l JOIN assignments a ON a.lead_id = l.id
       WHERE ins.phone IS NOT NULL AND ins.phone <> '' AND l.org_id = ins."orgId" AND l.phone = ins.phone
         AND l.id <> ins.id AND a.recipient_id IS NOT NULL
       ORDER BY a.assigned_at DESC, a.id DESC LIMIT 1
     ) rc ON true
     ORDER BY ins.id`,
    [
      leads.map((l) => l.id),
      leads.map((l) => l.orgId),
      leads.map((l) => l.sourceId),
      leads.map((l) => l.lead.phone),
      leads.map((l) => l.lead.email),
      leads.map((l) => l.lead.firstName),
      leads.map((l) => l.lead.lastName),
      leads.map((l) => l.lead.state),
      leads.map((l) => l.lead.zip),
      leads.map((l) => l.lead.campaign),
      leads.map((l) => l.lead.externalId),
      leads.map((l) => JSON.stringify(l.lead.attributes ?? {})),
      leads.map((l) => l.receivedAt),
      defaultCampaign,
    ],
  );
  return out.rows.map(({ campaignRow, returningRecipientId, returningAssignedAt, ...lead }) => ({
    lead,
    campaign: campaignRow ? campaignFromJson(campaignRow) : undefined,
    returning: returningRecipientId
      ? { recipientId: returningRecipientId, assignedAt: returningAssignedAt! }
      : null,
  }));
}

/**
 * The returning contact of one lead: the recipient of the most recent assignment (latest
 * `assigned_at`, then latest row) of another lead of the org with this phone.
 */
export async function findReturningContact(
  db: Db,
  orgId: string,
  phone: string | null,
  leadId: string,
): Promise<string | null> {
  if (!phone) return null;
  const out = await db.query<{ recipientId: string }>(
    `SELECT a.recipient_id AS "recipientId"
     FROM leads l JOIN assignments a ON a.lead_id = l.id
     WHERE l.org_id = $1 AND l.phone = $2 AND l.id <> $3 AND a.recipient_id IS NOT NULL
     ORDER BY a.assigned_at DESC, a.id DESC LIMIT 1`,
    [orgId, phone, leadId],
  );
  return out.rows[0]?.recipientId ?? null;
}

export interface RecipientSnapshot extends Omit<
  LockedCandidate,
  'rotationPicks' | 'lastPickedAt' | 'inRotation'
> {
  orgId: string;
  /** Rotation rows of this recipient in the campaigns asked for. */
  rotation: { campaignId: string; picks: number; lastPickedAt: Date | null }[];
}

/**
 * Locks, in the global order (org id, then recipient id, ascending; recipient sets of different orgs
 * are disjoint), the given recipients of each org plus every active recipient of the orgs in
 * `allActiveOrgIds`, then reads them with their cap counter for their own local day at `now` and
 * their rotation rows in the given campaigns — in ONE round trip: the SQL function
 * `lock_and_read_recipients` (migration 1700000000700) runs the lock and then the read as two
 * statements, the read with a snapshot taken after the lock (see `lockCandidates` for why that
 * matters under READ COMMITTED).
 */
export async function lockAndReadRecipientSet(
  db: Db,
  members: { orgId: string; recipientId: string }[],
  allActiveOrgIds: string[],
  now: Date,
  campaignIds: string[],
): Promise<RecipientSnapshot[]> {
  // One row per (recipient, rotation row in the campaigns asked for), or one with nulls when it has none.
  const out = await db.query<
    Omit<RecipientSnapshot, 'rotation'> & {
      campaignId: string | null;
      picks: number | null;
      lastPickedAt: Date | null;
    }
  >(
    `SELECT id, org_id AS "orgId", name, active, states, daily_cap AS "dailyCap",
            quota_remaining AS "quotaRemaining", quota_epoch AS "quotaEpoch", weight, timezone,
            working_hours AS "workingHours", local_day AS "localDay", assigned_today AS "assignedToday",
            campaign_id AS "campaignId", picks, last_picked_at AS "lastPickedAt"
     FROM lock_and_read_recipients($1::uuid[], $2::uuid[], $3::uuid[], $4::timestamptz, $5::uuid[])`,
    [members.map((m) => m.orgId), members.map((m) => m.recipientId), allActiveOrgIds, now, campaignIds],
  );
  const byId = new Map<string, RecipientSnapshot>();
  for (const { campaignId, picks, lastPickedAt, ...r } of out.rows) {
    let snapshot = byId.get(r.id);
    if (!snapshot) {
      snapshot = { ...r, states: r.states ?? [], rotation: [] };
      byId.set(r.id, snapshot);
    }
    if (campaignId !== null) snapshot.rotation.push({ campaignId, picks: picks!, lastPickedAt });
  }
  return [...byId.values()];
}

/** The columns of a stored event, as `StoredEvent` (events.ts) names them. */
const EVENT_COLUMNS = `id, org_id AS "orgId", type, lead_id AS "leadId", at, data`;

export interface RotationWrite {
  campaignId: string;
  recipientId: string;
  picks: number;
  lastPickedAt: Date | null;
}

/** Everything one decision (or a stock/unknown-campaign verdict) writes. */
export interface AllocationWrite {
  orgId: string;
  leadId: string;
  status: LeadStatus;
  reason: string | null;
  /** The decision trace; null keeps the stored one. */
  trace: TraceEntry[] | null;
  reassignmentIncrement: number;
  assignments: AssignmentWrite[];
  rotation: RotationWrite[];
}

/**
 * Writes the effects of any number of decisions, and their events, in ONE statement (data-modifying
 * CTEs over `unnest`): assignment rows (in decision order, then pick order), +n on each recipient's
 * local-day counter, −n on its remaining quota, the rotation rows, each lead's status, reason and
 * trace, and the events. Counters move with the rows, so counters equal rows. The caller holds the
 * locks of every recipient named. A rotation row named twice is written with its last value.
 * Returns the stored events in insertion order.
 */
export async function writeAllocations(
  db: Db,
  input: { at: Date; writes: AllocationWrite[]; events: NewEvent[] },
): Promise<StoredEvent[]> {
  const { at, writes, events } = input;
  if (writes.length === 0) return insertEvents(db, events, at);
  const assignments = writes.flatMap((w) =>
    w.assignments.map((a) => ({ ...a, orgId: w.orgId, leadId: w.leadId })),
  );
  const rotation = new Map<string, RotationWrite>();
  for (const w of writes) for (const r of w.rotation) rotation.set(`${r.campaignId}:${r.recipientId}`, r);
  const rot = [...rotation.values()];
  const out = await db.query<StoredEvent>(
    `WITH a AS (
       INSERT INTO assignments (org_id, lead_id, recipient_id, reason, assigned_at, local_day, quota_epoch)
       SELECT x.org_id, x.lead_id, x.recipient_id, x.reason, $1, x.local_day, x.quota_epoch
       FROM unnest($2::uuid[], $3::uuid[], $4::uuid[], $5::text[], $6::date[], $7::int[]) WITH ORDINALITY
         AS x(org_id, lead_id, recipient_id, reason, local_day, quota_epoch, n)
       ORDER BY x.n
       RETURNING 1
     ), d AS (
       INSERT INTO recipient_day_counts (recipient_id, local_day, assigned)
       SELECT x.recipient_id, x.local_day, count(*) FROM unnest($4::uuid[], $6::date[]) AS x(recipient_id, local_day)
       GROUP BY 1, 2
       ON CONFLICT (recipient_id, local_day) DO UPDATE SET assigned = recipient_day_counts.assigned + excluded.assigned
       RETURNING 1
     ), q AS (
       UPDATE recipients r SET quota_remaining = r.quota_remaining - x.n
       FROM (SELECT recipient_id, count(*)::int AS n FROM unnest($4::uuid[]) AS u(recipient_id) GROUP BY 1) x
       WHERE r.id = x.recipient_id AND r.quota_remaining IS NOT NULL
       RETURNING 1
     ), rot AS (
       INSERT INTO rotation_state (campaign_id, recipient_id, picks, last_picked_at)
       SELECT * FROM unnest($8::uuid[], $9::uuid[], $10::bigint[], $11::timestamptz[])
       ON CONFLICT (campaign_id, recipient_id)
       DO UPDATE SET picks = excluded.picks, last_picked_at = excluded.last_picked_at
       RETURNING 1
     ), l AS (
       UPDATE leads l SET status = x.status, reason = x.reason, trace = COALESCE(x.trace, l.trace),
         status_changed_at = $1, updated_at = $1, reassignment_count = l.reassignment_count + x.inc
       FROM unnest($12::uuid[], $13::text[], $14::text[], $15::jsonb[], $16::int[]) AS x(id, status, reason, trace, inc)
       WHERE l.id = x.id
       RETURNING 1
     ), e AS (
       INSERT INTO events (org_id, type, lead_id, at, data)
       SELECT x.org_id, x.type, x.lead_id, $1, x.data
       FROM unnest($17::uuid[], $18::text[], $19::uuid[], $20::jsonb[]) WITH ORDINALITY AS x(org_id, type, lead_id, data, n)
       ORDER BY x.n
       RETURNING ${EVENT_COLUMNS}
     )
     SELECT * FROM e ORDER BY id`,
    [
      at,
      assignments.map((a) => a.orgId),
      assignments.map((a) => a.leadId),
      assignments.map((a) => a.recipientId),
      assignments.map((a) => a.reason),
      assignments.map((a) => a.localDay),
      assignments.map((a) => a.quotaEpoch),
      rot.map((r) => r.campaignId),
      rot.map((r) => r.recipientId),
      rot.map((r) => r.picks),
      rot.map((r) => r.lastPickedAt),
      writes.map((w) => w.leadId),
      writes.map((w) => w.status),
      writes.map((w) => w.reason),
      writes.map((w) => (w.trace === null ? null : JSON.stringify(w.trace))),
      writes.map((w) => w.reassignmentIncrement),
      events.map((e) => e.orgId),
      events.map((e) => e.type),
      events.map((e) => e.leadId ?? null),
      events.map((e) => JSON.stringify(e.data)),
    ],
  );
  return out.rows;
}
