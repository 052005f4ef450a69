/**
 * Analytics over a window (the last 24 hours by hour, or the last 7 days by day): one
 * `GET /api/analytics` per range, counted by the server over every lead and assignment of the window,
 * with days and hours in the zone times are shown in. Live events refresh it, at most every few seconds.
 */
import { h } from 'preact';
import { useState } from 'preact/hooks';
import {
  analyticsWindow,
  FUNNEL_LABELS,
  rankedData,
  seriesData,
  statusData,
  type Range,
} from '../analytics.js';
import { ErrorNote, PageHeader, Stat } from '../components/bits.js';
import { BarList, ColumnChart, Funnel } from '../components/charts.js';
import { useApp, useLive, useResource, useThrottled } from '../context.js';
import {
  displayTimeZone,
  formatDay,
  formatDuration,
  formatHour,
  formatNumber,
  STATUS_LABELS,
} from '../format.js';
import type { AnalyticsSummary } from '../types.js';

/** Live events refresh the charts no more often than this. */
const REFRESH_MS = 5_000;

export function AnalyticsPage() {
  const { api } = useApp();
  const [range, setRange] = useState<Range>('24h');
  const tz = displayTimeZone();
  const data = useResource(() => {
    const w = analyticsWindow(range, new Date(), tz);
    return api.get<AnalyticsSummary>('/api/analytics', {
      since: w.since.toISOString(),
      until: w.until.toISOString(),
      bucket: w.bucket,
      tz,
    });
  }, `${range}|${tz}`);
  const refresh = useThrottled(() => void data.reload(), REFRESH_MS);
  useLive({ event: (e) => e.type.startsWith('lead.') && refresh(), resync: refresh });

  const d = data.data;
  return h(
    'section',
    { class: 'page' },
    h(PageHeader, {
      title: 'Analytics',
      description: 'Every lead and assignment of the chosen period.',
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
    !d ? h('div', { class: 'card pad muted', 'aria-busy': 'true' }, 'Loading…') : h(Charts, { data: d }),
  );
}

function Charts({ data }: { data: AnalyticsSummary }) {
  const hourly = data.bucket === 'hour';
  const label = hourly ? formatHour : formatDay;
  const per = hourly ? 'per hour' : 'per day';
  const assignments = data.assignmentsPerBucket.reduce((a, b) => a + b.count, 0);
  const contact = data.firstContact;
  const perRecipient = rankedData(data.perRecipient.map((r) => [r.name, r.count]));
  const perState = rankedData(data.perState.map((s) => [s.state ?? 'No state', s.count])).slice(0, 15);

  return h(
    'div',
    { class: 'stack' },
    h(
      'div',
      { class: 'stats-row' },
      h(Stat, { label: 'Leads received', value: formatNumber(data.received) }),
      h(Stat, { label: 'Assignments', value: formatNumber(assignments) }),
      h(Stat, {
        label: 'In stock',
        value: formatNumber(data.byStatus.unassigned ?? 0),
        hint: 'Unassigned leads of the period',
      }),
      h(Stat, {
        label: 'Median time to first contact',
        value: contact.medianMs === null ? '—' : formatDuration(contact.medianMs),
        hint:
          contact.count > 0 && contact.p90Ms !== null
            ? `p90 ${formatDuration(contact.p90Ms)} · ${formatNumber(contact.count)} leads`
            : 'No contacted leads yet',
      }),
    ),
    h(
      'section',
      { class: 'card', 'aria-labelledby': 'a-received' },
      h('h2', { id: 'a-received', class: 'card-title' }, `Leads received ${per}`),
      h(ColumnChart, {
        title: `Leads received ${per}`,
        data: seriesData(data.receivedPerBucket, label),
        labelHeader: hourly ? 'Hour' : 'Day',
        valueHeader: 'Leads',
      }),
    ),
    h(
      'section',
      { class: 'card', 'aria-labelledby': 'a-time' },
      h('h2', { id: 'a-time', class: 'card-title' }, `Assignments ${per}`),
      h(ColumnChart, {
        title: `Assignments ${per}`,
        data: seriesData(data.assignmentsPerBucket, label),
        labelHeader: hourly ? 'Hour' : 'Day',
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
        h(Funnel, { stages: data.funnel.map((f) => ({ label: FUNNEL_LABELS[f.stage], value: f.count })) }),
        h('h3', { class: 'subhead' }, 'By current status'),
        h(BarList, {
          title: 'Leads by status',
          data: statusData(data.byStatus, STATUS_LABELS),
          empty: 'No leads in this period.',
        }),
      ),
      h(
        'section',
        { class: 'card', 'aria-labelledby': 'a-contact' },
        h('h2', { id: 'a-contact', class: 'card-title' }, 'Time to first contact'),
        h('p', { class: 'muted small' }, 'From receipt to the first “contacted” status.'),
        h(ColumnChart, {
          title: 'Time to first contact',
          data: contact.buckets.map((b) => ({ label: b.label, value: b.count })),
          tickEvery: 1,
          labelHeader: 'Time to contact',
          valueHeader: 'Leads',
        }),
      ),
    ),
  );
}
