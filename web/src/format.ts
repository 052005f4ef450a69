/** How values read on screen. Codes stay codes in the API; labels live here only. */
import type { LeadStatus } from './types.js';

const timeFmt = new Intl.DateTimeFormat(undefined, { hour: 'numeric', minute: '2-digit', second: '2-digit' });
const shortTimeFmt = new Intl.DateTimeFormat(undefined, { hour: 'numeric', minute: '2-digit' });
const dateTimeFmt = new Intl.DateTimeFormat(undefined, {
  month: 'short',
  day: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
});
const fullFmt = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
const numberFmt = new Intl.NumberFormat();

/** Today's times as a clock, older ones with their date. */
export function formatTime(iso: string | null | undefined, now = new Date()): string {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '—';
  return d.toDateString() === now.toDateString() ? timeFmt.format(d) : dateTimeFmt.format(d);
}

/** For narrow columns: minutes only. */
export function formatShortTime(iso: string | null | undefined, now = new Date()): string {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '—';
  return d.toDateString() === now.toDateString() ? shortTimeFmt.format(d) : dateTimeFmt.format(d);
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
  return Number.isNaN(d.getTime()) ? '—' : fullFmt.format(d);
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
