/** How values read on screen. Codes stay codes in the API; labels live here only. */
import type { LeadStatus } from './types.js';

/**
 * The zone every time is shown in: New York by default (the business runs on Eastern time), or this
 * device's, as the viewer chooses in the header. Kept in localStorage; a change re-renders the shell.
 */
export type TimeZoneChoice = 'new_york' | 'device';
export const BUSINESS_TIME_ZONE = 'America/New_York';
const TZ_KEY = 'leadrouter.timeZone';

function readChoice(): TimeZoneChoice {
  try {
    return localStorage.getItem(TZ_KEY) === 'device' ? 'device' : 'new_york';
  } catch {
    return 'new_york';
  }
}

let choice: TimeZoneChoice = readChoice();
const zoneListeners = new Set<(c: TimeZoneChoice) => void>();

export function timeZoneChoice(): TimeZoneChoice {
  return choice;
}

export function setTimeZoneChoice(next: TimeZoneChoice): void {
  if (next === choice) return;
  choice = next;
  try {
    localStorage.setItem(TZ_KEY, next);
  } catch {
    // Private mode without storage: the choice lasts for this page.
  }
  for (const l of zoneListeners) l(next);
}

export function onTimeZoneChoice(listener: (c: TimeZoneChoice) => void): () => void {
  zoneListeners.add(listener);
  return () => zoneListeners.delete(listener);
}

export function deviceTimeZone(): string {
  return new Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
}

/** The IANA zone times are shown in now. */
export function displayTimeZone(): string {
  return choice === 'device' ? deviceTimeZone() : BUSINESS_TIME_ZONE;
}

const formatters = new Map<string, Intl.DateTimeFormat>();
/** A formatter for the zone shown now (made once per zone and style). */
function fmt(style: string, opts: Intl.DateTimeFormatOptions, locale?: string): Intl.DateTimeFormat {
  const timeZone = displayTimeZone();
  const key = `${timeZone}|${style}`;
  let f = formatters.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat(locale, { ...opts, timeZone });
    formatters.set(key, f);
  }
  return f;
}

const timeFmt = () => fmt('time', { hour: 'numeric', minute: '2-digit', second: '2-digit' });
const shortTimeFmt = () => fmt('short', { hour: 'numeric', minute: '2-digit' });
const dateTimeFmt = () =>
  fmt('datetime', { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
/** With the zone's abbreviation ("EST", "GMT+9"): a full timestamp says which clock it is on. */
const fullFmt = () => fmt('full', { dateStyle: 'medium', timeStyle: 'long' });
/** The calendar day in the zone shown, to tell today from other days. */
const dayKey = (d: Date) =>
  fmt('day', { year: 'numeric', month: '2-digit', day: '2-digit' }, 'en-CA').format(d);
const numberFmt = new Intl.NumberFormat();

/** Today's times as a clock, older ones with their date. */
export function formatTime(iso: string | null | undefined, now = new Date()): string {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '—';
  return dayKey(d) === dayKey(now) ? timeFmt().format(d) : dateTimeFmt().format(d);
}

/** For narrow columns: minutes only. */
export function formatShortTime(iso: string | null | undefined, now = new Date()): string {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '—';
  return dayKey(d) === dayKey(now) ? shortTimeFmt().format(d) : dateTimeFmt().format(d);
}

/** An hour of a chart ("14:00"), in the zone shown. */
export function formatHour(iso: string): string {
  return fmt('hour', { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(new Date(iso));
}

/** A day of a chart ("Mon 5"), in the zone shown. */
export function formatDay(iso: string): string {
  return fmt('weekday', { weekday: 'short', day: 'numeric' }).format(new Date(iso));
}

/** US numbers as people write them; anything else as stored. */
export function formatPhone(e164: string | null | undefined): string {
  if (!e164) return '—';
  const us = /^\+1(\d{3})(\d{3})(\d{4})$/.exec(e164);
  return us ? `(${us[1]}) ${us[2]}-${us[3]}` : e164;
}

export function formatFull(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? '—' : fullFmt().format(d);
}

export function formatNumber(n: number | null | undefined): string {
  return n === null || n === undefined ? '—' : numberFmt.format(n);
}

export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '—';
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.round(s / 60);
  if (m < 60) return `${m} min`;
  const h = m / 60;
  if (h < 48) return `${h.toFixed(h < 10 ? 1 : 0)} h`;
  return `${Math.round(h / 24)} d`;
}

export function leadName(lead: { firstName?: string | null; lastName?: string | null }): string {
  const name = [lead.firstName, lead.lastName].filter(Boolean).join(' ').trim();
  return name || 'Unnamed lead';
}

export const STATUS_LABELS: Record<LeadStatus, string> = {
  queued: 'Queued',
  assigned: 'Assigned',
  unassigned: 'In stock',
  sold: 'Sold',
  contacted: 'Contacted',
  qualified: 'Qualified',
  won: 'Won',
  lost: 'Lost',
  returned: 'Returned',
  stale: 'Stale',
};

const REASON_LABELS: Record<string, string> = {
  static: 'Static recipient',
  state_match_round_robin: 'State match, in rotation',
  round_robin: 'Rotation',
  cap_overflow_fallback: 'Overflow (other states)',
  returning_contact: 'Returning contact',
  order_fill: 'Order fill',
  manual: 'Manual',
  decay_reassign: 'Reassigned after SLA',
  backlog_retry: 'Backlog retry',
  no_eligible_recipient: 'No eligible recipient',
  unknown_campaign: 'Unknown campaign',
  stock: 'Stock campaign',
  returned: 'Returned',
  capped: 'Daily cap reached',
  quota: 'Quota used up',
  inactive: 'Paused',
  state: 'Does not cover the state',
  off_hours: 'Outside working hours',
  already_assigned: 'Had this lead before',
  sla_expired: 'SLA expired',
  order_deleted: 'Order deleted',
  selected: 'Selected',
};

export function reasonLabel(code: string | null | undefined): string {
  if (!code) return '—';
  return REASON_LABELS[code] ?? code.replace(/_/g, ' ');
}

export function eventLabel(type: string): string {
  return type.replace(/^lead\./, '').replace(/[._]/g, ' ');
}
