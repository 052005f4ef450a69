/**
 * Analytics computed in the browser from pages of `/api/leads` and `/api/assignments`. Pure functions
 * of their inputs (and `now`), so what a chart shows is easy to check by hand.
 */
import type { Assignment, Lead, LeadStatus } from './types.js';
import type { Datum } from './components/charts.js';

const HOUR = 3_600_000;

/** Counts per time bucket from `since` to `now`, oldest first; labels in the viewer's local time. */
export function perBucket(
  times: string[],
  since: Date,
  now: Date,
  bucketMs: number,
  label: (d: Date) => string,
): Datum[] {
  const start = Math.floor(since.getTime() / bucketMs) * bucketMs;
  const n = Math.max(1, Math.ceil((now.getTime() - start) / bucketMs));
  const counts = new Array<number>(n).fill(0);
  for (const t of times) {
    const i = Math.floor((new Date(t).getTime() - start) / bucketMs);
    if (i >= 0 && i < n) counts[i]! += 1;
  }
  return counts.map((value, i) => ({ label: label(new Date(start + i * bucketMs)), value }));
}

export function hourLabel(d: Date): string {
  return `${String(d.getHours()).padStart(2, '0')}:00`;
}

export function dayLabel(d: Date): string {
  return d.toLocaleDateString(undefined, { weekday: 'short', day: 'numeric' });
}

/** Days are bucketed at local midnight, not at UTC's. */
export function perLocalDay(times: string[], since: Date, now: Date): Datum[] {
  const days: { start: number; label: string; value: number }[] = [];
  const d = new Date(since);
  d.setHours(0, 0, 0, 0);
  while (d.getTime() <= now.getTime()) {
    days.push({ start: d.getTime(), label: dayLabel(d), value: 0 });
    d.setDate(d.getDate() + 1);
  }
  for (const t of times) {
    const ms = new Date(t).getTime();
    for (let i = days.length - 1; i >= 0; i--) {
      if (ms >= days[i]!.start) {
        days[i]!.value += 1;
        break;
      }
    }
  }
  return days.map(({ label, value }) => ({ label, value }));
}

export function countBy<T>(items: T[], key: (item: T) => string | null | undefined): Datum[] {
  const counts = new Map<string, number>();
  for (const item of items) {
    const k = key(item);
    if (k) counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  return [...counts]
    .map(([label, value]) => ({ label, value }))
    .sort((a, b) => b.value - a.value || a.label.localeCompare(b.label));
}

const REACHED_ASSIGNED: LeadStatus[] = [
  'assigned',
  'sold',
  'contacted',
  'qualified',
  'won',
  'lost',
  'stale',
  'returned',
];
const REACHED_CONTACTED: LeadStatus[] = ['contacted', 'qualified', 'won', 'lost'];

/**
 * How far leads got, by their current status. `lost` counts as contacted (it is only reachable from
 * contacted or qualified); `returned` counts as delivered; qualified is not a stage because `won` may
 * skip it.
 */
export function funnel(leads: Pick<Lead, 'status'>[]): Datum[] {
  const count = (statuses: LeadStatus[]) => leads.filter((l) => statuses.includes(l.status)).length;
  return [
    { label: 'Received', value: leads.length },
    { label: 'Delivered to a recipient', value: count(REACHED_ASSIGNED) },
    { label: 'Contacted', value: count(REACHED_CONTACTED) },
    { label: 'Won', value: count(['won']) },
  ];
}

export function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

export const CONTACT_BUCKETS: { label: string; maxMs: number }[] = [
  { label: '< 5 min', maxMs: 5 * 60_000 },
  { label: '5–15 min', maxMs: 15 * 60_000 },
  { label: '15–60 min', maxMs: HOUR },
  { label: '1–4 h', maxMs: 4 * HOUR },
  { label: '4–24 h', maxMs: 24 * HOUR },
  { label: '> 1 day', maxMs: Infinity },
];

export function contactHistogram(durationsMs: number[]): Datum[] {
  const counts = CONTACT_BUCKETS.map((b) => ({ label: b.label, value: 0 }));
  for (const d of durationsMs) {
    const i = CONTACT_BUCKETS.findIndex((b) => d < b.maxMs);
    counts[i === -1 ? counts.length - 1 : i]!.value += 1;
  }
  return counts;
}

/** Assignments made in the window, current or since ended. */
export function recipientAssignments(assignments: Assignment[], since: Date): Assignment[] {
  return assignments.filter((a) => new Date(a.assignedAt) >= since);
}
