/**
 * Analytics over a window (24 hours or 7 days), computed from the leads and assignments of that
 * window. Reads at most `MAX_PAGES` pages of each; the page says so when a window holds more.
 */
import { h } from 'preact';
import { useState } from 'preact/hooks';
import {
  contactHistogram,
  countBy,
  funnel,
  hourLabel,
  perBucket,
  perLocalDay,
  quantile,
  recipientAssignments,
} from '../analytics.js';
import type { Api } from '../api.js';
import { ErrorNote, PageHeader, Stat } from '../components/bits.js';
import { BarList, ColumnChart, Funnel } from '../components/charts.js';
import { useApp, useLive, useResource, useThrottled } from '../context.js';
import { formatDuration, formatNumber, STATUS_LABELS } from '../format.js';
import type { Assignment, Lead, LeadDetail, Page } from '../types.js';

const PAGE = 500;
const MAX_PAGES = 20;
/** Leads past `contacted` need their history for the contact time; this many are sampled. */
const CONTACT_SAMPLE = 60;

type Range = '24h' | '7d';
const RANGE_MS: Record<Range, number> = { '24h': 24 * 3_600_000, '7d': 7 * 24 * 3_600_000 };

/** Pages newest-first results until they are older than `since`. */
async function pagesSince<T>(
  api: Api,
  path: string,
  at: (item: T) => string,
  since: Date,
): Promise<{ items: T[]; truncated: boolean }> {
  const items: T[] = [];
  let cursor: string | undefined;
  for (let i = 0; i < MAX_PAGES; i++) {
    const page = await api.get<Page<T>>(path, { limit: PAGE, cursor });
    const fresh = page.items.filter((x) => new Date(at(x)) >= since);
    items.push(...fresh);
    if (fresh.length < page.items.length || !page.nextCursor) return { items, truncated: false };
    cursor = page.nextCursor;
  }
  return { items, truncated: true };
}

interface Data {
  since: Date;
  now: Date;
  leads: Lead[];
  assignments: Assignment[];
  truncated: boolean;
  contactMs: number[];
}

async function loadData(api: Api, range: Range): Promise<Data> {
  const now = new Date();
  const since = new Date(now.getTime() - RANGE_MS[range]);
  const [leads, assignments] = await Promise.all([
    pagesSince<Lead>(api, '/api/leads', (l) => l.receivedAt, since),
    pagesSince<Assignment>(api, '/api/assignments', (a) => a.assignedAt, since),
  ]);
  const contactMs = leads.items
    .filter((l) => l.status === 'contacted')
    .map((l) => new Date(l.statusChangedAt).getTime() - new Date(l.receivedAt).getTime());
  const beyond = leads.items
    .filter((l) => ['qualified', 'won', 'lost'].includes(l.status))
    .slice(0, CONTACT_SAMPLE);
  for (let i = 0; i < beyond.length; i += 6) {
    const details = await Promise.all(
      beyond.slice(i, i + 6).map((l) => api.get<LeadDetail>(`/api/leads/${l.id}`).catch(() => null)),
    );
    for (const d of details) {
      const contacted = d?.events.find((e) => e.type === 'lead.status_changed' && e.data.to === 'contacted');
      if (d && contacted) contactMs.push(new Date(contacted.at).getTime() - new Date(d.receivedAt).getTime());
    }
  }
  return {
    since,
    now,
    leads: leads.items,
    assignments: recipientAssignments(assignments.items, since),
    truncated: leads.truncated || assignments.truncated,
    contactMs,
  };
}

export function AnalyticsPage() {
  const { api } = useApp();
  const [range, setRange] = useState<Range>('24h');
  const data = useResource(() => loadData(api, range), range);
  // Charts follow the traffic, but not faster than every 15 s: each refresh reads many pages.
  const refresh = useThrottled(() => void data.reload(), 15_000);
  useLive({ event: (e) => e.type.startsWith('lead.') && refresh(), resync: refresh });

  const d = data.data;
  return h(
    'section',
    { class: 'page' },
    h(PageHeader, {
      title: 'Analytics',
      description: 'Computed from the leads and assignments of the chosen period.',
      actions: h(
        'div',
        { class: 'segmented', role: 'group', 'aria-label': 'Period' },
        (['24h', '7d'] as Range[]).map((r) =>
          h(
            'button',
            {
              key: r,
              type: 'button',
              class: 'segment',
              'aria-pressed': range === r ? 'true' : 'false',
              onClick: () => setRange(r),
            },
            r === '24h' ? 'Last 24 hours' : 'Last 7 days',
          ),
        ),
      ),
    }),
    h(ErrorNote, { error: data.error }),
    !d
      ? h('div', { class: 'card pad muted', 'aria-busy': 'true' }, 'Loading…')
      : h(Charts, { data: d, range }),
  );
}

function Charts({ data, range }: { data: Data; range: Range }) {
  const { leads, assignments, since, now, contactMs } = data;
  const assignedTimes = assignments.map((a) => a.assignedAt);
  const timeSeries =
    range === '24h'
      ? perBucket(assignedTimes, since, now, 3_600_000, hourLabel)
      : perLocalDay(assignedTimes, since, now);
  const stateOf = new Map(leads.map((l) => [l.id, l.state]));
  const perRecipient = countBy(assignments, (a) => a.recipientName ?? (a.orderId ? 'Orders' : null));
  const perState = countBy(assignments, (a) => stateOf.get(a.leadId) ?? null).slice(0, 15);
  const sorted = [...contactMs].filter((x) => x >= 0).sort((a, b) => a - b);
  const unassigned = leads.filter((l) => l.status === 'unassigned').length;
  const byStatus = countBy(leads, (l) => STATUS_LABELS[l.status]);

  return h(
    'div',
    { class: 'stack' },
    data.truncated
      ? h(
          'div',
          { class: 'note note-info' },
          `This period holds more than ${formatNumber(PAGE * MAX_PAGES)} records; the charts show the newest ones.`,
        )
      : null,
    h(
      'div',
      { class: 'stats-row' },
      h(Stat, { label: 'Leads received', value: formatNumber(leads.length) }),
      h(Stat, { label: 'Assignments', value: formatNumber(assignments.length) }),
      h(Stat, { label: 'In stock', value: formatNumber(unassigned), hint: 'Unassigned leads of the period' }),
      h(Stat, {
        label: 'Median time to first contact',
        value: sorted.length ? formatDuration(quantile(sorted, 0.5)) : '—',
        hint: sorted.length
          ? `p90 ${formatDuration(quantile(sorted, 0.9))} · ${sorted.length} leads`
          : 'No contacted leads yet',
      }),
    ),
    h(
      'section',
      { class: 'card', 'aria-labelledby': 'a-time' },
      h(
        'h2',
        { id: 'a-time', class: 'card-title' },
        range === '24h' ? 'Assignments per hour' : 'Assignments per day',
      ),
      h(ColumnChart, {
        title: range === '24h' ? 'Assignments per hour' : 'Assignments per day',
        data: timeSeries,
        labelHeader: range === '24h' ? 'Hour' : 'Day',
        valueHeader: 'Assignments',
      }),
    ),
    h(
      'div',
      { class: 'grid-2' },
      h(
        'section',
        { class: 'card', 'aria-labelledby': 'a-recipient' },
        h('h2', { id: 'a-recipient', class: 'card-title' }, 'Assignments per recipient'),
        h(BarList, {
          title: 'Assignments per recipient',
          data: perRecipient,
          empty: 'No assignments in this period.',
        }),
      ),
      h(
        'section',
        { class: 'card', 'aria-labelledby': 'a-state' },
        h('h2', { id: 'a-state', class: 'card-title' }, 'Assignments per state'),
        h(BarList, {
          title: 'Assignments per state',
          data: perState,
          empty: 'No assignments in this period.',
        }),
      ),
      h(
        'section',
        { class: 'card', 'aria-labelledby': 'a-funnel' },
        h('h2', { id: 'a-funnel', class: 'card-title' }, 'Funnel'),
        h('p', { class: 'muted small' }, 'Leads received in the period, by how far they got.'),
        h(Funnel, { stages: funnel(leads) }),
        h('h3', { class: 'subhead' }, 'By current status'),
        h(BarList, { title: 'Leads by status', data: byStatus, empty: 'No leads in this period.' }),
      ),
      h(
        'section',
        { class: 'card', 'aria-labelledby': 'a-contact' },
        h('h2', { id: 'a-contact', class: 'card-title' }, 'Time to first contact'),
        h('p', { class: 'muted small' }, 'From receipt to the first “contacted” status.'),
        h(ColumnChart, {
          title: 'Time to first contact',
          data: contactHistogram(sorted),
          tickEvery: 1,
          labelHeader: 'Time to contact',
          valueHeader: 'Leads',
        }),
      ),
    ),
  );
}
