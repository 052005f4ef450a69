/**
 * System: is the pipeline healthy? Queue depth and in-flight allocations, the dead-letter queue and
 * its replay, the scheduled jobs' runs, notifications, events not yet pushed to dashboards, and this
 * dashboard's own connection.
 */
import { h } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { Table, Time } from '../components/table.js';
import { ErrorNote, PageHeader, Stat } from '../components/bits.js';
import { FEATURE_ROUTES } from '../features.js';
import { useApp, useConnectionState, useLive, useResource, useThrottled } from '../context.js';
import { formatFull, formatNumber, formatTime, STATUS_LABELS } from '../format.js';
import { href } from '../router.js';
import type { DlqMessage, JobRun, LeadStatus, Notification, Page, Stats } from '../types.js';

/** Jobs an operator may run now (`POST /api/jobs/:name/run`); imports run from their own page. */
const RUNNABLE_JOBS: { name: string; label: string }[] = [
  { name: 'decay', label: 'Run SLA decay now' },
  { name: 'backlog', label: 'Run backlog retry now' },
];

const POLL_MS = 10_000;

export function SystemPage() {
  const { api, live, features } = useApp();
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
          features.has(FEATURE_ROUTES.dlq) ? h(DeadLetters, { onChange: () => void stats.reload() }) : null,
          h(
            'div',
            { class: 'grid-2' },
            features.has(FEATURE_ROUTES.jobs) ? h(JobRuns, null) : null,
            features.has(FEATURE_ROUTES.notifications) ? h(Notifications, null) : null,
          ),
        )
      : h('div', { class: 'card pad muted' }, 'Loading…'),
  );
}

function DeadLetters({ onChange }: { onChange: () => void }) {
  const { api } = useApp();
  const dlq = useResource(
    () => api.get<{ items: DlqMessage[]; truncated: boolean }>('/api/dlq', { limit: 100 }),
    'dlq',
  );
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<string | null>(null);
  const [error, setError] = useState<Error | null>(null);
  const replay = async () => {
    setBusy(true);
    setError(null);
    try {
      const out = await api.post<{ replayed: number }>('/api/dlq/replay', {});
      setResult(
        `${out.replayed} ${out.replayed === 1 ? 'message' : 'messages'} sent back to the lead queue.`,
      );
      await dlq.reload();
      onChange();
    } catch (e) {
      setError(e as Error);
    } finally {
      setBusy(false);
    }
  };
  const items = dlq.data?.items ?? [];
  return h(
    'section',
    { class: 'card', 'aria-labelledby': 's-dlq' },
    h(
      'div',
      { class: 'card-head' },
      h('h2', { id: 's-dlq', class: 'card-title' }, 'Dead-lettered leads'),
      h(
        'button',
        {
          type: 'button',
          class: 'button small',
          disabled: busy || items.length === 0,
          onClick: () => void replay(),
        },
        busy ? 'Replaying…' : 'Replay all',
      ),
    ),
    h(
      'p',
      { class: 'muted small' },
      'Leads the allocator failed on five times. Replay them once the cause is fixed.',
    ),
    h(ErrorNote, { error: dlq.error ?? error }),
    result ? h('div', { class: 'note note-ok', role: 'status' }, result) : null,
    items.length === 0
      ? h('p', { class: 'muted' }, 'None: every lead was processed.')
      : h(Table<DlqMessage>, {
          columns: ['Lead', 'Sent', { label: 'Attempts', numeric: true }],
          rows: items,
          rowKey: (m) => m.messageId,
          cells: (m) => [
            m.leadId
              ? h('a', { href: href('leads', m.leadId) }, m.leadId.slice(0, 8))
              : m.messageId.slice(0, 12),
            h(Time, { iso: m.sentAt }),
            formatNumber(m.receiveCount),
          ],
        }),
  );
}

function JobRuns() {
  const { api } = useApp();
  const runs = useResource(() => api.get<Page<JobRun>>('/api/jobs/runs', { limit: 15 }), 'runs');
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<Error | null>(null);
  const run = async (name: string) => {
    setBusy(name);
    setError(null);
    try {
      await api.post(`/api/jobs/${name}/run`, {});
      await runs.reload();
    } catch (e) {
      setError(e as Error);
    } finally {
      setBusy(null);
    }
  };
  return h(
    'section',
    { class: 'card', 'aria-labelledby': 's-jobs' },
    h('h2', { id: 's-jobs', class: 'card-title' }, 'Scheduled jobs'),
    h(
      'div',
      { class: 'button-row' },
      RUNNABLE_JOBS.map((j) =>
        h(
          'button',
          {
            key: j.name,
            type: 'button',
            class: 'button small',
            disabled: busy !== null,
            onClick: () => void run(j.name),
          },
          busy === j.name ? 'Running…' : j.label,
        ),
      ),
    ),
    h(ErrorNote, { error: runs.error ?? error }),
    (runs.data?.items.length ?? 0) === 0
      ? h('p', { class: 'muted top-gap' }, 'No runs recorded yet.')
      : h(Table<JobRun>, {
          class: 'compact top-gap',
          columns: ['Job', 'Started', 'Status', 'Result'],
          rows: runs.data!.items,
          rowKey: (r) => r.id,
          cells: (r) => [
            [r.job, r.trigger === 'manual' ? h('span', { class: 'muted small' }, ' (manual)') : null],
            h('span', { class: 'nowrap-cell' }, h(Time, { iso: r.startedAt })),
            r.status,
            h('span', { class: 'small' }, r.error ?? jobResultText(r.result)),
          ],
        }),
  );
}

function Notifications() {
  const { api } = useApp();
  const list = useResource(
    () => api.get<Page<Notification> & { unread?: number }>('/api/notifications', { limit: 20 }),
    'notes',
  );
  const refresh = useThrottled(() => void list.reload(), 1000);
  useLive({ event: (e) => e.type === 'notification.created' && refresh(), resync: refresh });
  const [error, setError] = useState<Error | null>(null);
  const markAll = async () => {
    setError(null);
    try {
      await api.post('/api/notifications/read', {});
      await list.reload();
    } catch (e) {
      setError(e as Error);
    }
  };
  const items = list.data?.items ?? [];
  const unread = list.data?.unread ?? items.filter((n) => !n.readAt).length;
  return h(
    'section',
    { class: 'card', 'aria-labelledby': 's-notes' },
    h(
      'div',
      { class: 'card-head' },
      h('h2', { id: 's-notes', class: 'card-title' }, `Notifications${unread ? ` (${unread} unread)` : ''}`),
      h(
        'button',
        {
          type: 'button',
          class: 'button small ghost',
          disabled: unread === 0,
          onClick: () => void markAll(),
        },
        'Mark all read',
      ),
    ),
    h(ErrorNote, { error: list.error ?? error }),
    items.length === 0
      ? h('p', { class: 'muted' }, 'Nothing yet. Imports post one notification per run.')
      : h(
          'ul',
          { class: 'notes' },
          items.map((n) =>
            h(
              'li',
              { key: n.id, class: n.readAt ? 'note-item' : 'note-item unread' },
              h('span', null, n.title),
              h(
                'time',
                { class: 'muted small', dateTime: n.createdAt, title: formatFull(n.createdAt) },
                formatTime(n.createdAt),
              ),
            ),
          ),
        ),
  );
}

/** `{ assigned: 2, stillWaiting: 0 }` → "assigned 2, stillWaiting 0". */
function jobResultText(result: Record<string, unknown>): string {
  const parts = Object.entries(result)
    .filter(([, v]) => typeof v === 'number' || typeof v === 'string')
    .map(([k, v]) => `${k} ${String(v)}`);
  return parts.join(', ') || '—';
}
