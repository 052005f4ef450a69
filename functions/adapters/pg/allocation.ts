/**
 * The locked part of allocation: candidate recipients are locked `FOR UPDATE` in ascending id order
 * (after the lead row), read together with their counters, and the decision's effects are written
 * back in the same transaction. See docs/allocation.md for the lock order and why it cannot deadlock.
 */
import type { CandidateRecipient } from '../../domain/allocation.js';
import type { AssignmentReason, WorkingHours } from '../../domain/types.js';
import type { Db } from './db.js';

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

/** Saves rotation state: picks of chosen pool members, and seeded rows of members new to the rotation. */
export async function saveRotation(
  db: Db,
  campaignId: string,
  rows: { recipientId: string; picks: number; lastPickedAt: Date | null }[],
): Promise<void> {
  if (rows.length === 0) return;
  await db.query(
    `INSERT INTO rotation_state (campaign_id, recipient_id, picks, last_picked_at)
     SELECT $1, x.recipient_id, x.picks, x.last_picked_at
     FROM unnest($2::uuid[], $3::bigint[], $4::timestamptz[]) AS x(recipient_id, picks, last_picked_at)
     ON CONFLICT (campaign_id, recipient_id)
     DO UPDATE SET picks = excluded.picks, last_picked_at = excluded.last_picked_at`,
    [campaignId, rows.map((r) => r.recipientId), rows.map((r) => r.picks), rows.map((r) => r.lastPickedAt)],
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
