/**
 * System: is the pipeline healthy? Queue depth and in-flight allocations, the dead-letter queue,
 * events not yet pushed to dashboards, and this dashboard's own connection.
 */
import { h } from 'preact';
import { useEffect } from 'preact/hooks';
import { ErrorNote, PageHeader, Stat } from '../components/bits.js';
import { useApp, useConnectionState, useLive, useResource, useThrottled } from '../context.js';
import { formatNumber, STATUS_LABELS } from '../format.js';
import type { LeadStatus, Stats } from '../types.js';

const POLL_MS = 10_000;

export function SystemPage() {
  const { api, live } = useApp();
  const stats = useResource(() => api.get<Stats>('/api/stats'), 'stats');
  const connection = useConnectionState();
  const refresh = useThrottled(() => void stats.reload(), 2000);
  useLive({ event: refresh, resync: refresh });
  // Queue depth changes without events (messages waiting, retries): poll while the page is open.
  useEffect(() => {
    const t = window.setInterval(
      () => document.visibilityState === 'visible' && void stats.reload(),
      POLL_MS,
    );
    return () => clearInterval(t);
  }, [stats.reload]);

  const s = stats.data;
  const q = s?.queue;
  return h(
    'section',
    { class: 'page' },
    h(PageHeader, {
      title: 'System',
      description: `Pipeline health. Refreshes every ${POLL_MS / 1000} s and on every change.`,
    }),
    h(ErrorNote, { error: stats.error }),
    s
      ? h(
          'div',
          { class: 'stack' },
          h(
            'div',
            { class: 'stats-row' },
            h(Stat, {
              label: 'Queue depth',
              value: formatNumber(q?.depth),
              hint: q?.depth === null ? 'Queue not reachable' : 'Leads waiting for the allocator',
            }),
            h(Stat, { label: 'In flight', value: formatNumber(q?.inFlight), hint: 'Being allocated now' }),
            h(Stat, {
              label: 'Dead-letter queue',
              value: formatNumber(q?.dlq),
              hint: q?.dlq ? 'Messages that failed repeatedly' : 'Empty',
              tone: q?.dlq ? 'warn' : 'ok',
            }),
            h(Stat, {
              label: 'Unpublished events',
              value: formatNumber(s.unpublishedEvents),
              hint: s.unpublishedEvents ? 'The outbox relay will push them' : 'All pushed',
              tone: s.unpublishedEvents > 100 ? 'warn' : undefined,
            }),
          ),
          h(
            'div',
            { class: 'grid-2' },
            h(
              'section',
              { class: 'card', 'aria-labelledby': 's-leads' },
              h('h2', { id: 's-leads', class: 'card-title' }, 'Leads'),
              h(
                'dl',
                { class: 'fields' },
                h('dt', null, 'Total'),
                h('dd', null, formatNumber(s.leads.total)),
                h('dt', null, 'Assigned today'),
                h('dd', null, formatNumber(s.assignedToday)),
                (Object.entries(s.leads.byStatus) as [LeadStatus, number][]).map(([status, n]) => [
                  h('dt', { key: `${status}t` }, STATUS_LABELS[status] ?? status),
                  h('dd', { key: `${status}d` }, formatNumber(n)),
                ]),
              ),
            ),
            h(
              'section',
              { class: 'card', 'aria-labelledby': 's-conn' },
              h('h2', { id: 's-conn', class: 'card-title' }, 'This dashboard'),
              h(
                'dl',
                { class: 'fields' },
                h('dt', null, 'Realtime'),
                h('dd', null, connection),
                h('dt', null, 'Last event id'),
                h('dd', null, live.lastEventId === null ? 'none yet' : String(live.lastEventId)),
                h('dt', null, 'Recipients active'),
                h('dd', null, `${s.recipients.filter((r) => r.active).length} of ${s.recipients.length}`),
                h('dt', null, 'At their daily cap'),
                h(
                  'dd',
                  null,
                  String(
                    s.recipients.filter((r) => r.dailyCap !== null && r.assignedToday >= r.dailyCap).length,
                  ),
                ),
              ),
            ),
          ),
        )
      : h('div', { class: 'card pad muted' }, 'Loading…'),
  );
}
