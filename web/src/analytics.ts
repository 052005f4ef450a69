/**
 * What the Analytics page adds to `GET /api/analytics` (which counts over every lead and assignment of
 * the window in PostgreSQL): the window it asks for, and the labels its charts show. Pure functions of
 * their inputs (and `now`), so what a chart shows is easy to check by hand.
 */
import type { Datum } from './components/charts.js';
import type { AnalyticsSummary, LeadStatus } from './types.js';

export type Range = '24h' | '7d';
export type Bucket = AnalyticsSummary['bucket'];

const HOUR = 3_600_000;

/** How far `tz`'s wall clock is ahead of UTC at `at`, in ms (negative west of Greenwich). */
export function zoneOffsetMs(at: Date, tz: string): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone: tz,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric',
  }).formatToParts(at);
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  const wall = Date.UTC(
    get('year'),
    get('month') - 1,
    get('day'),
    get('hour') % 24,
    get('minute'),
    get('second'),
  );
  return wall - Math.floor(at.getTime() / 1000) * 1000;
}

/** The midnight in `tz` that starts the day `daysBack` days before `at`'s day there. */
export function startOfDay(at: Date, tz: string, daysBack = 0): Date {
  const wallNow = new Date(at.getTime() + zoneOffsetMs(at, tz));
  const midnight = Date.UTC(wallNow.getUTCFullYear(), wallNow.getUTCMonth(), wallNow.getUTCDate() - daysBack);
  // The instant whose wall clock reads that midnight: the offset at a first guess, then at the answer
  // (they differ when a clock change lies between the two).
  const guess = midnight - zoneOffsetMs(new Date(midnight), tz);
  return new Date(midnight - zoneOffsetMs(new Date(guess), tz));
}

/**
 * The window of a range: the last 24 hours by hour, or today and the six days before it by day (days
 * starting at midnight in `tz`, so that every bar is a whole calendar day but today's).
 */
export function analyticsWindow(
  range: Range,
  now: Date,
  tz: string,
): { since: Date; until: Date; bucket: Bucket } {
  if (range === '24h') return { since: new Date(now.getTime() - 24 * HOUR), until: now, bucket: 'hour' };
  return { since: startOfDay(now, tz, 6), until: now, bucket: 'day' };
}

export const FUNNEL_LABELS: Record<AnalyticsSummary['funnel'][number]['stage'], string> = {
  received: 'Received',
  delivered: 'Delivered to a recipient',
  contacted: 'Contacted',
  won: 'Won',
};

/** A per-bucket series as chart data, each bucket labelled by `label` (an hour or a day). */
export function seriesData(series: { at: string; count: number }[], label: (iso: string) => string): Datum[] {
  return series.map((b) => ({ label: label(b.at), value: b.count }));
}

/** Counts by label, largest first, zeros left out. */
export function rankedData(entries: [string, number][]): Datum[] {
  return entries
    .filter(([, value]) => value > 0)
    .map(([label, value]) => ({ label, value }))
    .sort((a, b) => b.value - a.value || a.label.localeCompare(b.label));
}

/** Leads by current status, with the dashboard's status labels. */
export function statusData(
  byStatus: Partial<Record<LeadStatus, number>>,
  labels: Record<LeadStatus, string>,
): Datum[] {
  return rankedData(
    (Object.entries(byStatus) as [LeadStatus, number][]).map(([s, n]) => [labels[s] ?? s, n]),
  );
}
