/**
 * One lead in a drawer: its fields, who holds it and since when, the allocator's decision trace, the
 * event history, and the work-status buttons the lead's current status allows (the same table the API
 * enforces: functions/domain/leadStatus.ts).
 */
import { h, type ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { allowedTransitions } from '../../../functions/domain/leadStatus.js';
import { ApiError } from '../api.js';
import { Dialog } from '../components/dialog.js';
import { Table, Time } from '../components/table.js';
import { FEATURE_ROUTES } from '../features.js';
import { ErrorNote, StatusBadge } from '../components/bits.js';
import { useApp, useLive, useResource, useThrottled } from '../context.js';
import {
  eventLabel,
  formatFull,
  formatPhone,
  formatTime,
  leadName,
  reasonLabel,
  STATUS_LABELS,
} from '../format.js';
import type { LeadDetail, LeadStatus, ReassignResult, Recipient } from '../types.js';

/** Statuses `POST /api/leads/:id/reassign` accepts (functions/usecases/reassignLead.ts, REASSIGNABLE). */
const REASSIGNABLE: readonly LeadStatus[] = ['assigned', 'unassigned', 'returned', 'stale', 'contacted'];

const ACTION_LABELS: Partial<Record<LeadStatus, string>> = {
  contacted: 'Mark contacted',
  qualified: 'Mark qualified',
  won: 'Mark won',
  lost: 'Mark lost',
  returned: 'Return to stock',
};

export function LeadDrawer({ leadId, onClose }: { leadId: string; onClose: () => void }) {
  const { api, features } = useApp();
  const lead = useResource(() => api.get<LeadDetail>(`/api/leads/${encodeURIComponent(leadId)}`), leadId);
  const [busy, setBusy] = useState<LeadStatus | null>(null);
  const [actionError, setActionError] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const refresh = useThrottled(() => void lead.reload(), 400);
  useLive({
    event: (e) => {
      const l = e.data.lead as { id?: string } | undefined;
      if (l?.id === leadId) refresh();
    },
    resync: refresh,
  });

  const setStatus = async (status: LeadStatus) => {
    setBusy(status);
    setActionError(null);
    setDone(null);
    try {
      await api.patch(`/api/leads/${encodeURIComponent(leadId)}/status`, { status });
      setDone(`Status set to ${STATUS_LABELS[status]}.`);
      await lead.reload();
    } catch (e) {
      setActionError(
        e instanceof ApiError && e.status === 409 ? `Not allowed now: ${e.message}` : (e as Error).message,
      );
    } finally {
      setBusy(null);
    }
  };

  const d = lead.data;
  const title = d ? leadName(d) : lead.error ? 'Lead not found' : 'Loading lead…';
  return h(
    Dialog,
    {
      variant: 'drawer',
      title,
      subtitle: d
        ? h(
            'span',
            { class: 'drawer-sub' },
            h(StatusBadge, { status: d.status }),
            d.reason ? ` ${reasonLabel(d.reason)}` : null,
          )
        : null,
      onClose,
    },
    h(ErrorNote, { error: lead.error }),
    d
      ? [
          h(Actions, { key: 'actions', lead: d, busy, onStatus: setStatus }),
          actionError ? h('div', { key: 'err', class: 'note note-error', role: 'alert' }, actionError) : null,
          done ? h('div', { key: 'ok', class: 'note note-ok', role: 'status' }, done) : null,
          features.has(FEATURE_ROUTES.reassign) && REASSIGNABLE.includes(d.status)
            ? h(Reassign, {
                key: 'reassign',
                lead: d,
                onDone: (m) => {
                  setDone(m);
                  void lead.reload();
                },
              })
            : null,
          h(Fields, { key: 'fields', lead: d }),
          h(Assignments, { key: 'assignments', lead: d }),
          h(Trace, { key: 'trace', lead: d }),
          h(Events, { key: 'events', lead: d }),
        ]
      : null,
  );
}

function Actions({
  lead,
  busy,
  onStatus,
}: {
  lead: LeadDetail;
  busy: LeadStatus | null;
  onStatus: (s: LeadStatus) => void;
}) {
  const next = allowedTransitions(lead.status, 'recipient');
  return h(
    'section',
    { class: 'drawer-section', 'aria-labelledby': 'lead-actions' },
    h('h3', { id: 'lead-actions' }, 'Status'),
    next.length === 0
      ? h(
          'p',
          { class: 'muted' },
          lead.status === 'won' || lead.status === 'lost'
            ? 'This lead is closed.'
            : 'No work status can be set from here.',
        )
      : h(
          'div',
          { class: 'button-row' },
          next.map((s) =>
            h(
              'button',
              {
                key: s,
                type: 'button',
                class: `button ${s === 'won' ? 'primary' : ''}`,
                disabled: busy !== null,
                onClick: () => onStatus(s),
              },
              busy === s ? 'Saving…' : (ACTION_LABELS[s] ?? STATUS_LABELS[s]),
            ),
          ),
        ),
  );
}

/** Hand the lead to named recipients, or let the campaign's rule pick someone new. */
function Reassign({ lead, onDone }: { lead: LeadDetail; onDone: (message: string) => void }) {
  const { api } = useApp();
  const recipients = useResource(
    () => api.get<{ items: Recipient[] }>('/api/recipients').then((r) => r.items),
    'recipients',
  );
  const [to, setTo] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const current = new Set(lead.assignments.filter((a) => !a.endedAt).map((a) => a.recipientId));
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const out = await api.post<ReassignResult>(
        `/api/leads/${encodeURIComponent(lead.id)}/reassign`,
        to ? { recipientIds: [to] } : {},
      );
      onDone(`Reassigned to ${out.assignments.map((a) => a.name).join(', ')}.`);
      setTo('');
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };
  return h(
    'form',
    { class: 'drawer-section', 'aria-labelledby': 'lead-reassign', onSubmit: submit },
    h('h3', { id: 'lead-reassign' }, 'Reassign'),
    h(
      'div',
      { class: 'inline-form' },
      h('label', { for: 'reassign-to', class: 'sr-only' }, 'Reassign to'),
      h(
        'select',
        {
          id: 'reassign-to',
          class: 'select',
          value: to,
          onChange: (e: Event) => setTo((e.target as HTMLSelectElement).value),
        },
        h('option', { value: '' }, 'Let the campaign rule choose'),
        (recipients.data ?? [])
          .filter((r) => r.active && !current.has(r.id))
          .map((r) => h('option', { key: r.id, value: r.id }, r.name)),
      ),
      h('button', { type: 'submit', class: 'button', disabled: busy }, busy ? 'Reassigning…' : 'Reassign'),
    ),
    error ? h('p', { class: 'field-error', role: 'alert' }, error) : null,
    h(
      'p',
      { class: 'hint' },
      'Ends the current assignment and returns its capacity. Caps and quotas still apply.',
    ),
  );
}

function Fields({ lead }: { lead: LeadDetail }) {
  const rows: [string, ComponentChildren][] = [
    ['Phone', lead.phone ? h('a', { href: `tel:${lead.phone}` }, formatPhone(lead.phone)) : '—'],
    ['Email', lead.email ? h('a', { href: `mailto:${lead.email}` }, lead.email) : '—'],
    ['State', lead.state ?? '—'],
    ['ZIP', lead.zip ?? '—'],
    ['Campaign', lead.campaign ?? '—'],
    ['External id', lead.externalId ?? '—'],
    ['Received', formatFull(lead.receivedAt)],
    ['Status since', formatFull(lead.statusChangedAt)],
    ['Reassignments', String(lead.reassignmentCount)],
  ];
  const attributes = Object.entries(lead.attributes ?? {});
  return h(
    'section',
    { class: 'drawer-section', 'aria-labelledby': 'lead-fields' },
    h('h3', { id: 'lead-fields' }, 'Details'),
    h(
      'dl',
      { class: 'fields' },
      rows.map(([k, v]) => [h('dt', { key: `${k}t` }, k), h('dd', { key: `${k}d` }, v)]),
    ),
    attributes.length
      ? h(
          'details',
          { class: 'attributes' },
          h('summary', null, `Other fields (${attributes.length})`),
          h(
            'dl',
            { class: 'fields' },
            attributes.map(([k, v]) => [
              h('dt', { key: `${k}t` }, k),
              h('dd', { key: `${k}d`, class: 'wrap' }, typeof v === 'string' ? v : JSON.stringify(v)),
            ]),
          ),
        )
      : null,
  );
}

function Assignments({ lead }: { lead: LeadDetail }) {
  return h(
    'section',
    { class: 'drawer-section', 'aria-labelledby': 'lead-assignments' },
    h('h3', { id: 'lead-assignments' }, 'Assignments'),
    lead.assignments.length === 0
      ? h(
          'p',
          { class: 'muted' },
          lead.status === 'queued' ? 'Waiting for the allocator.' : 'Never assigned.',
        )
      : h(Table<LeadDetail['assignments'][number]>, {
          columns: ['Recipient', 'Why', 'Assigned', 'Ended'],
          rows: lead.assignments,
          rowKey: (a) => a.id,
          cells: (a) => [
            a.recipientName ?? (a.orderId ? 'Order' : '—'),
            reasonLabel(a.reason),
            h(Time, { iso: a.assignedAt }),
            a.endedAt
              ? `${formatTime(a.endedAt)} · ${reasonLabel(a.endReason)}`
              : h('span', { class: 'badge status-assigned' }, 'Current'),
          ],
        }),
  );
}

function Trace({ lead }: { lead: LeadDetail }) {
  if (!lead.trace || lead.trace.length === 0) return null;
  return h(
    'section',
    { class: 'drawer-section', 'aria-labelledby': 'lead-trace' },
    h('h3', { id: 'lead-trace' }, 'Decision trace'),
    h(
      'p',
      { class: 'muted small' },
      'Every recipient the allocator considered, and why it was picked or left out.',
    ),
    h(Table<NonNullable<LeadDetail['trace']>[number]>, {
      columns: ['Recipient', 'Tier', 'Outcome'],
      rows: lead.trace,
      rowKey: (t, i) => `${t.recipientId}-${i}`,
      cells: (t) => [
        t.name,
        reasonLabel(t.tier),
        t.selected ? h('span', { class: 'badge status-assigned' }, 'Picked') : reasonLabel(t.reason),
      ],
    }),
  );
}

function Events({ lead }: { lead: LeadDetail }) {
  return h(
    'section',
    { class: 'drawer-section', 'aria-labelledby': 'lead-events' },
    h('h3', { id: 'lead-events' }, 'History'),
    h(
      'ol',
      { class: 'timeline' },
      lead.events.map((e) =>
        h(
          'li',
          { key: e.id },
          h(Time, { iso: e.at }),
          h('span', { class: 'timeline-type' }, eventLabel(e.type)),
          h('span', { class: 'muted' }, eventDetail(e.type, e.data)),
        ),
      ),
    ),
  );
}

function eventDetail(type: string, data: Record<string, unknown>): string {
  const assignments = data.assignments as { name: string }[] | undefined;
  if ((type === 'lead.assigned' || type === 'lead.reassigned') && assignments?.length)
    return `to ${assignments.map((a) => a.name).join(', ')}`;
  if (type === 'lead.status_changed' && typeof data.to === 'string')
    return `${String(data.from ?? '')} → ${data.to}`;
  const lead = data.lead as { reason?: string | null } | undefined;
  if (type === 'lead.unassigned' && lead?.reason) return reasonLabel(lead.reason);
  return '';
}
