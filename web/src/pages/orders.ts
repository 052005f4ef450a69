/**
 * Orders: buyers' requests for leads from given states, filled from stock oldest lead first and never
 * more than the state cap per state per order. Create, watch the fill, fulfil, delete (its leads go
 * back to stock), export as CSV, and edit the state caps.
 */
import { h } from 'preact';
import { useState } from 'preact/hooks';
import { ApiError } from '../api.js';
import { ErrorNote, PageHeader, Usage } from '../components/bits.js';
import { Dialog } from '../components/dialog.js';
import { Table, Time } from '../components/table.js';
import { Field } from '../components/field.js';
import { useApp, useLive, useResource, useThrottled } from '../context.js';
import { formatFull, formatPhone, leadName, STATUS_LABELS } from '../format.js';
import { href, navigate, type Route } from '../router.js';
import { US_STATE_CODES } from '../states.js';
import type { LeadStatus, Order, OrderDetail, OrderPage, OrderStatus, StateCaps } from '../types.js';

const PAGE_SIZE = 25;
const STATUS_TABS: { value: OrderStatus | ''; label: string }[] = [
  { value: '', label: 'All' },
  { value: 'open', label: 'Open' },
  { value: 'filled', label: 'Filled' },
  { value: 'fulfilled', label: 'Fulfilled' },
  { value: 'deleted', label: 'Deleted' },
];
const ORDER_STATUS_LABELS: Record<OrderStatus, string> = {
  open: 'Open',
  filled: 'Filled',
  fulfilled: 'Fulfilled',
  deleted: 'Deleted',
};
const ORDER_BADGE: Record<OrderStatus, string> = {
  open: 'status-unassigned',
  filled: 'status-contacted',
  fulfilled: 'status-assigned',
  deleted: 'status-stale',
};

export function OrdersPage({ route }: { route: Route }) {
  const { api } = useApp();
  const status = (route.query.get('status') ?? '') as OrderStatus | '';
  const [page, setPage] = useState(1);
  const orders = useResource(
    () => api.get<OrderPage>('/api/orders', { status: status || undefined, page, limit: PAGE_SIZE }),
    `${status}:${page}`,
  );
  const refresh = useThrottled(() => void orders.reload(), 1000);
  useLive({ event: (e) => e.type.startsWith('order.') && refresh(), resync: refresh });
  const [exporting, setExporting] = useState(false);
  const [exportError, setExportError] = useState<Error | null>(null);

  const data = orders.data;
  const pages = data ? Math.max(1, Math.ceil(data.total / data.limit)) : 1;
  const exportStatus: OrderStatus = status || 'fulfilled';
  const close = () => navigate(href('orders', null, status ? { status } : {}));

  /** The CSV needs the bearer token, so it is fetched and handed to the browser as a file. */
  const exportCsv = async () => {
    setExporting(true);
    setExportError(null);
    try {
      const text = await api.text(`/api/orders/export.csv?status=${exportStatus}`);
      const url = URL.createObjectURL(new Blob([text], { type: 'text/csv' }));
      const a = document.createElement('a');
      a.href = url;
      a.download = `orders-${exportStatus}.csv`;
      a.click();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    } catch (e) {
      setExportError(e as Error);
    } finally {
      setExporting(false);
    }
  };

  return h(
    'section',
    { class: 'page' },
    h(PageHeader, {
      title: 'Orders',
      description:
        'Buyers’ orders, filled from stock: oldest leads first, at most the state cap per state per order.',
      actions: [
        h(
          'button',
          {
            key: 'csv',
            type: 'button',
            class: 'button',
            disabled: exporting,
            onClick: () => void exportCsv(),
          },
          exporting ? 'Exporting…' : `Export ${ORDER_STATUS_LABELS[exportStatus].toLowerCase()} (CSV)`,
        ),
        h('a', { key: 'new', class: 'button primary', href: href('orders', 'new') }, 'New order'),
      ],
    }),
    h(ErrorNote, { error: orders.error ?? exportError }),
    h(
      'div',
      { class: 'segmented tabs', role: 'group', 'aria-label': 'Order status' },
      STATUS_TABS.map((t) =>
        h(
          'button',
          {
            key: t.value,
            type: 'button',
            class: 'segment',
            'aria-pressed': status === t.value ? 'true' : 'false',
            onClick: () => {
              setPage(1);
              navigate(href('orders', null, t.value ? { status: t.value } : {}), { replace: true });
            },
          },
          t.label,
        ),
      ),
    ),
    h(
      'div',
      // Focusable: on a phone the table scrolls sideways, and a keyboard must be able to scroll it too.
      { class: 'table-scroll', tabIndex: 0, role: 'region', 'aria-label': 'Orders table' },
      h(
        'table',
        { class: 'table orders-table' },
        h('caption', { class: 'sr-only' }, 'Orders, newest first'),
        h(
          'thead',
          null,
          h(
            'tr',
            null,
            ['Order', 'Customer', 'States', 'Fill', 'Status', 'Created'].map((c) =>
              h('th', { key: c, scope: 'col' }, c),
            ),
          ),
        ),
        h(
          'tbody',
          null,
          (data?.items ?? []).map((o) =>
            h(
              'tr',
              { key: o.id, 'data-order-id': o.id },
              h(
                'td',
                null,
                h(
                  'a',
                  { href: href('orders', o.id, status ? { status } : {}), class: 'row-link' },
                  `#${o.number}`,
                ),
              ),
              h(
                'td',
                null,
                h('div', null, o.customerName),
                h('div', { class: 'muted small' }, o.customerEmail),
              ),
              h('td', null, o.requestedStates.join(', ')),
              h(
                'td',
                { class: 'fill-cell' },
                h(Usage, {
                  label: 'Leads',
                  used: o.leadCount,
                  limit: o.quantity,
                  unlimited: `${o.leadCount} · up to the caps`,
                  fillIsGood: true,
                }),
              ),
              h(
                'td',
                null,
                h('span', { class: `badge ${ORDER_BADGE[o.status]}` }, ORDER_STATUS_LABELS[o.status]),
              ),
              h('td', null, h(Time, { iso: o.createdAt })),
            ),
          ),
        ),
      ),
      data && data.items.length === 0 ? h('div', { class: 'empty' }, 'No orders here yet.') : null,
    ),
    h(
      'nav',
      { class: 'pager', 'aria-label': 'Pages of orders' },
      h(
        'button',
        { type: 'button', class: 'button', disabled: page <= 1, onClick: () => setPage((p) => p - 1) },
        '← Newer',
      ),
      h('span', { class: 'pager-info' }, `Page ${page} of ${pages}`),
      h(
        'button',
        { type: 'button', class: 'button', disabled: page >= pages, onClick: () => setPage((p) => p + 1) },
        'Older →',
      ),
    ),
    h(StateCapsCard, null),
    route.id === 'new'
      ? h(OrderForm, {
          onClose: close,
          onCreated: (o) => {
            void orders.reload();
            navigate(href('orders', o.id));
          },
        })
      : route.id
        ? h(OrderDrawer, {
            key: route.id,
            orderId: route.id,
            onClose: close,
            onChanged: () => void orders.reload(),
          })
        : null,
  );
}

function OrderForm({ onClose, onCreated }: { onClose: () => void; onCreated: (o: Order) => void }) {
  const { api } = useApp();
  const [form, setForm] = useState({ customerName: '', customerEmail: '', states: '', quantity: '' });
  const [error, setError] = useState<Error | null>(null);
  const [saving, setSaving] = useState(false);
  const set = (k: keyof typeof form, v: string) => setForm((f) => ({ ...f, [k]: v }));
  const issue = (field: string) => (error instanceof ApiError ? error.issueFor(field) : undefined);
  const submit = async (e: Event) => {
    e.preventDefault();
    setSaving(true);
    setError(null);
    try {
      const order = await api.post<Order>('/api/orders', {
        customerName: form.customerName.trim(),
        customerEmail: form.customerEmail.trim(),
        requestedStates: form.states
          .split(/[,;]+/)
          .map((s) => s.trim())
          .filter(Boolean),
        quantity: form.quantity.trim() ? Number(form.quantity) : null,
      });
      onCreated(order);
    } catch (err) {
      setError(err as Error);
    } finally {
      setSaving(false);
    }
  };
  return h(
    Dialog,
    {
      title: 'New order',
      onClose,
      footer: [
        h('button', { key: 'c', type: 'button', class: 'button ghost', onClick: onClose }, 'Cancel'),
        h(
          'button',
          { key: 's', type: 'submit', form: 'order-form', class: 'button primary', disabled: saving },
          saving ? 'Creating…' : 'Create and fill',
        ),
      ],
    },
    h(
      'form',
      { id: 'order-form', class: 'form', onSubmit: submit, noValidate: true },
      error && !(error instanceof ApiError && error.issues.length) ? h(ErrorNote, { error }) : null,
      h(
        'p',
        { class: 'muted small' },
        'The order is filled from stock at once; what is missing fills as new stock arrives.',
      ),
      h(
        Field,
        { id: 'o-name', label: 'Customer name', error: issue('customerName') },
        h('input', {
          class: 'input',
          value: form.customerName,
          onInput: (e: Event) => set('customerName', (e.target as HTMLInputElement).value),
        }),
      ),
      h(
        Field,
        { id: 'o-email', label: 'Customer email', error: issue('customerEmail') },
        h('input', {
          class: 'input',
          type: 'email',
          value: form.customerEmail,
          onInput: (e: Event) => set('customerEmail', (e.target as HTMLInputElement).value),
        }),
      ),
      h(
        'div',
        { class: 'form-row' },
        h(
          Field,
          {
            id: 'o-states',
            label: 'States',
            hint: 'Codes or names, comma-separated',
            error: issue('requestedStates'),
          },
          h('input', {
            class: 'input',
            placeholder: 'CA, NY',
            value: form.states,
            onInput: (e: Event) => set('states', (e.target as HTMLInputElement).value),
          }),
        ),
        h(
          Field,
          {
            id: 'o-qty',
            label: 'Quantity',
            hint: 'Empty = as many as the caps allow',
            error: issue('quantity'),
          },
          h('input', {
            class: 'input',
            type: 'number',
            min: 1,
            value: form.quantity,
            onInput: (e: Event) => set('quantity', (e.target as HTMLInputElement).value),
          }),
        ),
      ),
    ),
  );
}

/**
 * One order: its fields, its fill by state and its leads, with fulfil and delete. A deleted order (the
 * Deleted tab, or one just deleted here) is shown read-only with the leads it gave back to stock.
 */
function OrderDrawer(props: { orderId: string; onClose: () => void; onChanged: () => void }) {
  const { api } = useApp();
  const order = useResource(
    () =>
      api.get<OrderDetail>(`/api/orders/${encodeURIComponent(props.orderId)}`, { includeDeleted: 'true' }),
    props.orderId,
  );
  const refresh = useThrottled(() => void order.reload(), 500);
  useLive({ event: (e) => e.type.startsWith('order.') && refresh(), resync: refresh });
  const [confirmDelete, setConfirmDelete] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Error | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const [deletedHere, setDeletedHere] = useState(false);

  const act = async (what: 'fulfill' | 'delete') => {
    setBusy(true);
    setError(null);
    try {
      if (what === 'fulfill') {
        await api.patch(`/api/orders/${props.orderId}/fulfill`, {});
        setDone('Marked fulfilled.');
        await order.reload();
      } else {
        const out = await api.del<{ returnedLeadIds: string[] }>(`/api/orders/${props.orderId}`);
        const n = out.returnedLeadIds.length;
        setDeletedHere(true);
        setDone(`Deleted. ${n} ${n === 1 ? 'lead' : 'leads'} went back to stock.`);
        setConfirmDelete(false);
        await order.reload();
      }
      props.onChanged();
    } catch (e) {
      setError(e as Error);
    } finally {
      setBusy(false);
    }
  };

  // Deleted here: so it stays, even if the refresh answers with the order as it was, or not at all (a
  // server that does not show deleted orders).
  const o = order.data && deletedHere ? { ...order.data, status: 'deleted' as const } : order.data;
  const isDeleted = o?.status === 'deleted';
  return h(
    Dialog,
    {
      variant: 'drawer',
      title: o ? `Order #${o.number}` : order.error ? 'Order not found' : 'Loading order…',
      subtitle: o
        ? h('span', { class: `badge ${ORDER_BADGE[o.status]}` }, ORDER_STATUS_LABELS[o.status])
        : null,
      onClose: props.onClose,
    },
    h(ErrorNote, { error: order.error && !deletedHere ? order.error : error }),
    done ? h('div', { class: 'note note-ok', role: 'status' }, done) : null,
    o
      ? [
          isDeleted
            ? null
            : h(
                'section',
                { key: 'actions', class: 'drawer-section', 'aria-labelledby': 'order-actions' },
                h('h3', { id: 'order-actions' }, 'Actions'),
                confirmDelete
                  ? h(
                      'div',
                      { class: 'note note-warn' },
                      h('p', null, `Delete order #${o.number}? Its ${o.leadCount} leads go back to stock.`),
                      h(
                        'div',
                        { class: 'button-row' },
                        h(
                          'button',
                          {
                            type: 'button',
                            class: 'button',
                            disabled: busy,
                            onClick: () => void act('delete'),
                          },
                          'Yes, delete',
                        ),
                        h(
                          'button',
                          { type: 'button', class: 'button ghost', onClick: () => setConfirmDelete(false) },
                          'Keep it',
                        ),
                      ),
                    )
                  : h(
                      'div',
                      { class: 'button-row' },
                      h(
                        'button',
                        {
                          type: 'button',
                          class: 'button primary',
                          disabled: busy || o.status === 'fulfilled',
                          onClick: () => void act('fulfill'),
                        },
                        'Mark fulfilled',
                      ),
                      h(
                        'button',
                        {
                          type: 'button',
                          class: 'button',
                          disabled: busy,
                          onClick: () => setConfirmDelete(true),
                        },
                        'Delete order',
                      ),
                    ),
              ),
          h(
            'section',
            { key: 'fields', class: 'drawer-section', 'aria-labelledby': 'order-fields' },
            h('h3', { id: 'order-fields' }, 'Order'),
            h(
              'dl',
              { class: 'fields' },
              h('dt', null, 'Customer'),
              h('dd', null, o.customerName),
              h('dt', null, 'Email'),
              h('dd', null, h('a', { href: `mailto:${o.customerEmail}` }, o.customerEmail)),
              h('dt', null, 'Quantity'),
              h('dd', null, o.quantity === null ? 'Up to the state caps' : String(o.quantity)),
              h('dt', null, 'Created'),
              h('dd', null, formatFull(o.createdAt)),
              o.filledAt
                ? [h('dt', { key: 'ft' }, 'Filled'), h('dd', { key: 'fd' }, formatFull(o.filledAt))]
                : null,
              o.fulfilledAt
                ? [h('dt', { key: 'ut' }, 'Fulfilled'), h('dd', { key: 'ud' }, formatFull(o.fulfilledAt))]
                : null,
              o.deletedAt
                ? [h('dt', { key: 'dt' }, 'Deleted'), h('dd', { key: 'dd' }, formatFull(o.deletedAt))]
                : null,
            ),
          ),
          isDeleted
            ? null
            : h(
                'section',
                { key: 'fill', class: 'drawer-section', 'aria-labelledby': 'order-fill' },
                h('h3', { id: 'order-fill' }, 'Fill by state'),
                h(Usage, {
                  label: 'Total',
                  used: o.leadCount,
                  limit: o.quantity,
                  unlimited: `${o.leadCount} leads`,
                  fillIsGood: true,
                }),
                h(
                  'dl',
                  { class: 'fields top-gap' },
                  o.requestedStates.map((s) => [
                    h('dt', { key: `${s}t` }, s),
                    h('dd', { key: `${s}d` }, String(o.leadsByState[s] ?? 0)),
                  ]),
                ),
              ),
          h(
            'section',
            { key: 'leads', class: 'drawer-section', 'aria-labelledby': 'order-leads' },
            h(
              'h3',
              { id: 'order-leads' },
              isDeleted ? `Leads given back to stock (${o.leads.length})` : `Leads (${o.leads.length})`,
            ),
            o.leads.length === 0
              ? h(
                  'p',
                  { class: 'muted' },
                  isDeleted ? 'It held no leads.' : 'No leads yet: it fills as stock arrives.',
                )
              : h(Table<OrderDetail['leads'][number]>, {
                  columns: ['Lead', 'Phone', 'State', 'Status'],
                  rows: o.leads,
                  rowKey: (l) => l.id,
                  cells: (l) => [
                    h('a', { href: href('leads', l.id) }, leadName(l)),
                    formatPhone(l.phone),
                    l.state ?? '—',
                    STATUS_LABELS[l.status as LeadStatus] ?? l.status,
                  ],
                }),
          ),
        ]
      : null,
  );
}

/** The most leads of one state a single order may receive. */
function StateCapsCard() {
  const { api } = useApp();
  const caps = useResource(() => api.get<StateCaps>('/api/state-caps'), 'caps');
  const [edit, setEdit] = useState<{ default: string; rows: { state: string; cap: string }[] } | null>(null);
  const [error, setError] = useState<Error | null>(null);
  const [saving, setSaving] = useState(false);
  const start = () =>
    caps.data &&
    setEdit({
      default: String(caps.data.default),
      rows: Object.entries(caps.data.caps).map(([state, cap]) => ({ state, cap: String(cap) })),
    });
  const save = async (e: Event) => {
    e.preventDefault();
    if (!edit) return;
    setSaving(true);
    setError(null);
    try {
      await api.put('/api/state-caps', {
        default: Number(edit.default),
        caps: Object.fromEntries(edit.rows.filter((r) => r.state).map((r) => [r.state, Number(r.cap)])),
      });
      await caps.reload();
      setEdit(null);
    } catch (err) {
      setError(err as Error);
    } finally {
      setSaving(false);
    }
  };
  const c = caps.data;
  return h(
    'section',
    { class: 'card top-gap', 'aria-labelledby': 'caps-title' },
    h(
      'div',
      { class: 'card-head' },
      h('h2', { id: 'caps-title', class: 'card-title' }, 'State caps'),
      !edit
        ? h('button', { type: 'button', class: 'button small', disabled: !c, onClick: start }, 'Edit caps')
        : null,
    ),
    h(ErrorNote, { error: caps.error ?? error }),
    !edit && c
      ? h(
          'p',
          null,
          `Each order gets at most ${c.default} leads per state`,
          Object.keys(c.caps).length
            ? `, except ${Object.entries(c.caps)
                .map(([s, n]) => `${s}: ${n}`)
                .join(', ')}.`
            : '.',
        )
      : null,
    edit
      ? h(
          'form',
          { class: 'form', onSubmit: save },
          h(
            Field,
            { id: 'cap-default', label: 'Default per state' },
            h('input', {
              class: 'input narrow',
              type: 'number',
              min: 0,
              value: edit.default,
              onInput: (e: Event) => setEdit({ ...edit, default: (e.target as HTMLInputElement).value }),
            }),
          ),
          h(
            'ul',
            { class: 'caps-list' },
            edit.rows.map((r, i) =>
              h(
                'li',
                { key: i, class: 'caps-row' },
                h(
                  'select',
                  {
                    class: 'select',
                    'aria-label': `Cap ${i + 1} state`,
                    value: r.state,
                    onChange: (e: Event) =>
                      setEdit({
                        ...edit,
                        rows: edit.rows.map((x, j) =>
                          j === i ? { ...x, state: (e.target as HTMLSelectElement).value } : x,
                        ),
                      }),
                  },
                  US_STATE_CODES.map((s) => h('option', { key: s, value: s }, s)),
                ),
                h('input', {
                  class: 'input',
                  type: 'number',
                  min: 0,
                  'aria-label': `Cap ${i + 1} leads`,
                  value: r.cap,
                  onInput: (e: Event) =>
                    setEdit({
                      ...edit,
                      rows: edit.rows.map((x, j) =>
                        j === i ? { ...x, cap: (e.target as HTMLInputElement).value } : x,
                      ),
                    }),
                }),
                h(
                  'button',
                  {
                    type: 'button',
                    class: 'icon-button',
                    'aria-label': `Remove cap ${i + 1}`,
                    onClick: () => setEdit({ ...edit, rows: edit.rows.filter((_, j) => j !== i) }),
                  },
                  '×',
                ),
              ),
            ),
          ),
          h(
            'div',
            { class: 'button-row' },
            h(
              'button',
              {
                type: 'button',
                class: 'button ghost',
                onClick: () => setEdit({ ...edit, rows: [...edit.rows, { state: 'CA', cap: edit.default }] }),
              },
              'Add state',
            ),
            h('button', { type: 'button', class: 'button ghost', onClick: () => setEdit(null) }, 'Cancel'),
            h(
              'button',
              { type: 'submit', class: 'button primary', disabled: saving },
              saving ? 'Saving…' : 'Save caps',
            ),
          ),
        )
      : null,
  );
}
