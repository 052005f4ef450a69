/**
 * `GET /api/analytics`: what the dashboard's charts show, over every lead and assignment of the window
 * (computed in PostgreSQL, so 100,000 leads cost the browser one small answer).
 */
import {
  assignmentsPerBucket,
  assignmentsPerRecipient,
  assignmentsPerState,
  bucketStarts,
  firstContact,
  receivedByStatus,
  receivedPerBucket,
  type BucketCount,
  type Window,
} from '../adapters/pg/analytics.js';
import { LEAD_STATUSES, type LeadStatus } from '../domain/types.js';

/** Labels of the time-to-first-contact buckets, in order (the last is above every bound). */
export const CONTACT_LABELS = ['< 5 min', '5–15 min', '15–60 min', '1–4 h', '4–24 h', '> 1 day'] as const;

/** Statuses a lead only reaches after it was delivered to a recipient or a buyer. */
const DELIVERED: LeadStatus[] = [
  'assigned',
  'sold',
  'contacted',
  'qualified',
  'won',
  'lost',
  'stale',
  'returned',
];
/** Statuses a lead only reaches after it was contacted (`lost` is reachable from contacted or qualified). */
const CONTACTED: LeadStatus[] = ['contacted', 'qualified', 'won', 'lost'];

function fill(starts: Date[], counts: BucketCount[]): { at: string; count: number }[] {
  const byStart = new Map(counts.map((c) => [c.at.getTime(), c.count]));
  return starts.map((at) => ({ at: at.toISOString(), count: byStart.get(at.getTime()) ?? 0 }));
}

export async function analytics(w: Window) {
  const [starts, received, assigned, statuses, perRecipient, perState, contact] = await Promise.all([
    bucketStarts(w),
    receivedPerBucket(w),
    assignmentsPerBucket(w),
    receivedByStatus(w),
    assignmentsPerRecipient(w),
    assignmentsPerState(w),
    firstContact(w),
  ]);
  const byStatus = Object.fromEntries(LEAD_STATUSES.map((s) => [s, statuses[s] ?? 0])) as Record<
    LeadStatus,
    number
  >;
  const total = Object.values(byStatus).reduce((a, b) => a + b, 0);
  const sum = (list: LeadStatus[]) => list.reduce((a, s) => a + byStatus[s], 0);
  return {
    since: w.since.toISOString(),
    until: w.until.toISOString(),
    bucket: w.bucket,
    tz: w.tz,
    received: total,
    byStatus,
    funnel: [
      { stage: 'received' as const, count: total },
      { stage: 'delivered' as const, count: sum(DELIVERED) },
      { stage: 'contacted' as const, count: sum(CONTACTED) },
      { stage: 'won' as const, count: byStatus.won },
    ],
    receivedPerBucket: fill(starts, received),
    assignmentsPerBucket: fill(starts, assigned),
    perRecipient,
    perState,
    firstContact: {
      count: contact.count,
      medianMs: contact.medianMs,
      p90Ms: contact.p90Ms,
      buckets: CONTACT_LABELS.map((label, i) => ({ label, count: contact.bucketCounts[i] ?? 0 })),
    },
  };
}
