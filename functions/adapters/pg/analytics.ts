/**
 * Aggregates for `GET /api/analytics`, computed in PostgreSQL over every row of the window (never a
 * sample), one statement each. Buckets are hours or days started in the viewer's timezone
 * (`date_trunc(unit, t, tz)`; `generate_series(…, tz)` lists them, across DST changes included).
 */
import { read } from './db.js';

export type Bucket = 'hour' | 'day';

export interface Window {
  orgId: string;
  since: Date;
  until: Date;
  bucket: Bucket;
  tz: string;
}

export interface BucketCount {
  at: Date;
  count: number;
}

/** Every bucket start of the window, oldest first: the first is the one `since` falls in. */
export async function bucketStarts(w: Window): Promise<Date[]> {
  const rows = await read<{ at: Date }>(
    `SELECT generate_series(date_trunc($1, $2::timestamptz, $4), $3::timestamptz - interval '1 microsecond',
       ('1 ' || $1)::interval, $4) AS at`,
    [w.bucket, w.since, w.until, w.tz],
  );
  return rows.map((r) => r.at);
}

/** Leads received in the window, per bucket (only buckets that have any). */
export async function receivedPerBucket(w: Window): Promise<BucketCount[]> {
  return read<BucketCount>(
    `SELECT date_trunc($4, received_at, $5) AS at, count(*)::int AS count FROM leads
     WHERE org_id = $1 AND received_at >= $2 AND received_at < $3 GROUP BY 1`,
    [w.orgId, w.since, w.until, w.bucket, w.tz],
  );
}

/** Assignments made in the window (to recipients and order fills), per bucket. */
export async function assignmentsPerBucket(w: Window): Promise<BucketCount[]> {
  return read<BucketCount>(
    `SELECT date_trunc($4, assigned_at, $5) AS at, count(*)::int AS count FROM assignments
     WHERE org_id = $1 AND assigned_at >= $2 AND assigned_at < $3 GROUP BY 1`,
    [w.orgId, w.since, w.until, w.bucket, w.tz],
  );
}

/** Leads received in the window by their current status. */
export async function receivedByStatus(w: Window): Promise<Record<string, number>> {
  const rows = await read<{ status: string; count: number }>(
    `SELECT status, count(*)::int AS count FROM leads
     WHERE org_id = $1 AND received_at >= $2 AND received_at < $3 GROUP BY status`,
    [w.orgId, w.since, w.until],
  );
  return Object.fromEntries(rows.map((r) => [r.status, r.count]));
}

/** Assignments to recipients made in the window, per recipient, most first. */
export async function assignmentsPerRecipient(
  w: Window,
): Promise<{ recipientId: string; name: string; count: number }[]> {
  return read(
    `SELECT a.recipient_id AS "recipientId", r.name, count(*)::int AS count
     FROM assignments a JOIN recipients r ON r.id = a.recipient_id
     WHERE a.org_id = $1 AND a.assigned_at >= $2 AND a.assigned_at < $3
     GROUP BY a.recipient_id, r.name ORDER BY count DESC, r.name, a.recipient_id`,
    [w.orgId, w.since, w.until],
  );
}

/** Assignments made in the window by their lead's state (null: a lead without one), most first. */
export async function assignmentsPerState(w: Window): Promise<{ state: string | null; count: number }[]> {
  return read(
    `SELECT l.state, count(*)::int AS count
     FROM assignments a JOIN leads l ON l.id = a.lead_id
     WHERE a.org_id = $1 AND a.assigned_at >= $2 AND a.assigned_at < $3
     GROUP BY l.state ORDER BY count DESC, l.state NULLS LAST`,
    [w.orgId, w.since, w.until],
  );
}

/** Upper bounds (ms) of the time-to-first-contact buckets; the last bucket is everything above. */
export const CONTACT_BOUNDS_MS = [5 * 60_000, 15 * 60_000, 3_600_000, 4 * 3_600_000, 24 * 3_600_000];

export interface FirstContactStats {
  count: number;
  medianMs: number | null;
  p90Ms: number | null;
  /** One count per bound of CONTACT_BOUNDS_MS, then the count above the last bound. */
  bucketCounts: number[];
}

/**
 * Time from receipt to the first change to `contacted`, for leads received in the window that got
 * there (a lead now qualified, won or lost was contacted on the way).
 */
export async function firstContact(w: Window): Promise<FirstContactStats> {
  const bounds = CONTACT_BOUNDS_MS;
  const filters = bounds
    .map((b, i) => `count(*) FILTER (WHERE ms >= ${i === 0 ? 0 : bounds[i - 1]} AND ms < ${b})::int`)
    .concat(`count(*) FILTER (WHERE ms >= ${bounds.at(-1)})::int`);
  const rows = await read<{ count: number; median: number | null; p90: number | null; buckets: number[] }>(
    `WITH contact AS (
       SELECT extract(epoch FROM (fc.at - l.received_at)) * 1000 AS ms
       FROM leads l
       CROSS JOIN LATERAL (
         SELECT min(e.at) AS at FROM events e
         WHERE e.lead_id = l.id AND e.type = 'lead.status_changed' AND e.data->>'to' = 'contacted'
       ) fc
       WHERE l.org_id = $1 AND l.received_at >= $2 AND l.received_at < $3
         AND l.status IN ('contacted', 'qualified', 'won', 'lost', 'returned', 'stale')
         AND fc.at IS NOT NULL
     )
     SELECT count(*)::int AS count,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) AS median,
       percentile_cont(0.9) WITHIN GROUP (ORDER BY ms) AS p90,
       ARRAY[${filters.join(', ')}] AS buckets
     FROM contact`,
    [w.orgId, w.since, w.until],
  );
  const r = rows[0]!;
  return {
    count: r.count,
    medianMs: r.median === null ? null : Math.round(Number(r.median)),
    p90Ms: r.p90 === null ? null : Math.round(Number(r.p90)),
    bucketCounts: r.buckets,
  };
}
