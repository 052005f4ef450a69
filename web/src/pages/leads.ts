/**
 * Live leads: the newest leads with filters, paged on the server by cursor, updated in place from the
 * WebSocket. New and changed rows flash; the table keeps a fixed height and fixed row heights, so
 * arriving rows never push the rest of the page around, and a reader scrolled down the list keeps
 * looking at the same rows.
 */
import { h } from 'preact';
import { useEffect, useLayoutEffect, useMemo, useRef, useState } from 'preact/hooks';
import { US_STATE_CODES } from '../states.js';
import { LEAD_STATUSES } from '../../../functions/domain/types.js';
import { ErrorNote, PageHeader, StatusBadge } from '../components/bits.js';
import { useApp, useLive, useThrottled } from '../context.js';
import { formatFull, formatPhone, formatShortTime, formatTime, leadName, STATUS_LABELS } from '../format.js';
import { href, navigate, type Route } from '../router.js';
import type { Campaign, Lead, LeadStatus, LeadSummary, LiveEvent, Page, Recipient } from '../types.js';
import { LeadDrawer } from './leadDrawer.js';

const PAGE_SIZE = 50;
/** Rows kept on the first page as live leads arrive; beyond it the oldest fall off. */
const LIVE_ROWS_MAX = 500;
const NEW_FLASH_MS = 2400;
const CHANGED_FLASH_MS = 1600;
/** Statuses in which nobody holds a lead. */
const NOT_HELD: readonly LeadStatus[] = ['queued', 'unassigned', 'returned'];

/** A row: a full lead from the list, or a lead event's summary until the list fills in the rest. */
type Row = LeadSummary & Partial<Pick<Lead, 'phone' | 'email'>>;
interface Holder {
  recipientId: string | null;
  name: string;
}
/**
 * A list item: the lead and the recipients holding it now (its open assignments), so the "Assigned to"
 * column needs no request of its own. A server that does not send `assignees` leaves the column empty.
 */
type ListedLead = Lead & { assignees?: { recipientId: string | null; name: string }[] };

/** Holders as the list says, for the items that say. */
function holdersFromList(items: ListedLead[]): Map<string, Holder[]> {
  const found = new Map<string, Holder[]>();
  for (const l of items) {
    if (!Array.isArray(l.assignees)) continue;
    found.set(
      l.id,
      l.assignees.map((a) => ({ recipientId: a.recipientId ?? null, name: a.name })),
    );
  }
  return found;
}

interface Filters {
  status?: LeadStatus;
  state?: string;
  campaign?: string;
  recipientId?: string;
}

function filtersFrom(query: URLSearchParams): Filters {
  const status = query.get('status');
  return {
    status:
      status && (LEAD_STATUSES as readonly string[]).includes(status) ? (status as LeadStatus) : undefined,
    state: query.get('state') || undefined,
    campaign: query.get('campaign') || undefined,
    recipientId: query.get('recipientId') || undefined,
  };
}

function toQuery(f: Filters): Record<string, string> {
  return Object.fromEntries(Object.entries(f).filter(([, v]) => v)) as Record<string, string>;
}

/** Whether a lead event's lead belongs in the filtered list. */
function matches(f: Filters, lead: LeadSummary, holders: Holder[] | undefined): boolean {
  if (f.status && lead.status !== f.status) return false;
  if (f.state && lead.state !== f.state) return false;
  if (f.campaign && lead.campaign !== f.campaign) return false;
  if (f.recipientId && !holders?.some((x) => x.recipientId === f.recipientId)) return false;
  return true;
}

export function LeadsPage({ route }: { route: Route }) {
  const { api } = useApp();
  const filters = useMemo(() => filtersFrom(route.query), [route.query.toString()]);
  const filterKey = JSON.stringify(filters);
  const [cursors, setCursors] = useState<(string | undefined)[]>([undefined]);
  const cursor = cursors[cursors.length - 1];
  const onFirstPage = cursors.length === 1;

  const [rows, setRows] = useState<Row[]>([]);
  const [nextCursor, setNextCursor] = useState<string | null>(null);
  const [holders, setHolders] = useState<Map<string, Holder[]>>(new Map());
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<Error | null>(null);
  const [missed, setMissed] = useState(0);
  const [announcement, setAnnouncement] = useState('');
  const [campaigns, setCampaigns] = useState<Campaign[]>([]);
  const [recipients, setRecipients] = useState<Recipient[]>([]);

  const rowEls = useRef(new Map<string, HTMLTableRowElement>());
  const pendingFlash = useRef(new Map<string, 'new' | 'changed'>());
  const scrollRef = useRef<HTMLDivElement>(null);
  /** The first row in view and its distance from the top of the table's box, before rows are added. */
  const anchor = useRef<{ id: string; top: number } | null>(null);
  /** Leads received since this page loaded, and those of them the filters match: the banner's count. */
  const receivedSinceLoad = useRef(new Set<string>());
  const missedIds = useRef(new Set<string>());
  /** Which load was running when an event last said who holds a lead: that load's answer may be older. */
  const holdersFromEvent = useRef(new Map<string, number>());
  const loadSeq = useRef(0);
  /** Whether a page of this filter and cursor has been shown yet. */
  const shown = useRef(false);
  const stateRef = useRef({ rows, filters, onFirstPage, holders });
  stateRef.current = { rows, filters, onFirstPage, holders };

  // Reset paging when the filters change.
  useEffect(() => {
    setCursors([undefined]);
  }, [filterKey]);

  useEffect(() => {
    void Promise.all([
      api.get<{ items: Campaign[] }>('/api/campaigns').then((r) => setCampaigns(r.items)),
      api.get<{ items: Recipient[] }>('/api/recipients').then((r) => setRecipients(r.items)),
    ]).catch(() => undefined);
  }, [api]);

  /** Loads the current page. `quiet`: keep what is shown and merge (live refresh, resync). */
  const load = async (quiet: boolean) => {
    const seq = ++loadSeq.current;
    if (!quiet) shown.current = false;
    if (!quiet) setLoading(true);
    try {
      const page = await api.get<Page<ListedLead>>('/api/leads', {
        ...filters,
        limit: PAGE_SIZE,
        cursor,
      });
      if (seq !== loadSeq.current) return;
      setError(null);
      // Merging (and flashing what is new) only makes sense over a list already on screen.
      const merge = quiet && onFirstPage && shown.current;
      shown.current = true;
      setNextCursor((prev) => (merge ? (prev ?? page.nextCursor) : page.nextCursor));
      if (merge) {
        const shownIds = new Set(stateRef.current.rows.map((r) => r.id));
        if (page.items.some((l) => !shownIds.has(l.id))) captureAnchor();
        setRows((prev) => {
          const fresh = new Map(page.items.map((l) => [l.id, l]));
          const known = new Set(prev.map((r) => r.id));
          const added = page.items.filter((l) => !known.has(l.id));
          for (const l of added) pendingFlash.current.set(l.id, 'new');
          for (const r of prev) {
            const f = fresh.get(r.id);
            if (f && f.status !== r.status) pendingFlash.current.set(r.id, 'changed');
          }
          const merged = [...added, ...prev.map((r) => fresh.get(r.id) ?? r)];
          return merged
            .sort((a, b) => b.receivedAt.localeCompare(a.receivedAt) || b.id.localeCompare(a.id))
            .slice(0, LIVE_ROWS_MAX);
        });
      } else {
        setRows(page.items);
        scrollRef.current?.scrollTo({ top: 0 });
      }
      const listed = holdersFromList(page.items);
      setHolders((prev) => {
        const next = merge ? new Map(prev) : new Map<string, Holder[]>();
        for (const [id, list] of listed) if (holdersFromEvent.current.get(id) !== seq) next.set(id, list);
        return next;
      });
    } catch (e) {
      if (seq === loadSeq.current) setError(e as Error);
    } finally {
      if (seq === loadSeq.current) setLoading(false);
    }
  };

  useEffect(() => {
    receivedSinceLoad.current.clear();
    missedIds.current.clear();
    holdersFromEvent.current.clear();
    setMissed(0);
    void load(false);
  }, [filterKey, cursor]);

  /**
   * Remembers the first row in view and where it is, so that rows added above it do not move it (the
   * layout effect below scrolls by exactly what was added). The browser's own scroll anchoring is off
   * for this table (`overflow-anchor: none`): the two together moved the rows by twice the height.
   * A reader at the very top keeps seeing the newest rows arrive.
   */
  const captureAnchor = () => {
    const el = scrollRef.current;
    if (!el || anchor.current || el.scrollTop <= 0) return;
    const box = el.getBoundingClientRect();
    const head = el.querySelector('thead')?.getBoundingClientRect().height ?? 0;
    for (const row of stateRef.current.rows) {
      const r = rowEls.current.get(row.id)?.getBoundingClientRect();
      if (r && r.bottom > box.top + head) {
        anchor.current = { id: row.id, top: r.top - box.top };
        return;
      }
    }
  };

  // Fills in phone and email of rows that came from events, and catches anything missed.
  const refreshFirstPage = useThrottled(() => {
    if (stateRef.current.onFirstPage) void load(true);
  }, 1000);

  // Screen readers hear "3 new leads arrived", not every row.
  const announced = useRef(0);
  const announce = useThrottled(() => {
    const n = announced.current;
    announced.current = 0;
    setAnnouncement(n === 1 ? 'A new lead arrived.' : `${n} new leads arrived.`);
  }, 3000);

  useLive({
    event: (e: LiveEvent) => {
      const lead = e.data.lead as LeadSummary | undefined;
      if (!e.type.startsWith('lead.') || !lead?.id || e.type === 'lead.duplicate') return;
      const { rows: current, filters: f, onFirstPage: first } = stateRef.current;
      if (e.type === 'lead.received') receivedSinceLoad.current.add(lead.id);
      // Who holds the lead now, when the event says: assignment events carry the new holders and the
      // ended ones; no recipient holds a lead in stock or sold to an order (as the list says).
      let eventHolders: Holder[] | undefined;
      const assignments = e.data.assignments as { recipientId: string; name: string }[] | undefined;
      const ended = (e.data.endedRecipientIds as (string | null)[] | undefined) ?? [];
      if (NOT_HELD.includes(lead.status) || lead.status === 'sold') eventHolders = [];
      else if (assignments || ended.length) {
        const before = stateRef.current.holders.get(lead.id) ?? [];
        eventHolders = [
          ...before.filter((x) => !ended.includes(x.recipientId)),
          ...(assignments ?? []).map((a) => ({ recipientId: a.recipientId, name: a.name })),
        ];
      }
      if (eventHolders) {
        const hs = eventHolders;
        holdersFromEvent.current.set(lead.id, loadSeq.current);
        setHolders((prev) => new Map(prev).set(lead.id, hs));
      }
      const existing = current.find((r) => r.id === lead.id);
      if (existing) {
        if (existing.status !== lead.status || existing.reason !== lead.reason) {
          pendingFlash.current.set(lead.id, 'changed');
          setRows((prev) =>
            prev.map((r) => (r.id === lead.id ? { ...r, status: lead.status, reason: lead.reason } : r)),
          );
        }
        return;
      }
      if (!matches(f, lead, eventHolders)) return;
      if (!first) {
        // One lead is one more, however many events it sends (received, then assigned, ...); a lead
        // received before this page loaded is not new, even when it changes.
        if (receivedSinceLoad.current.has(lead.id) && !missedIds.current.has(lead.id)) {
          missedIds.current.add(lead.id);
          setMissed(missedIds.current.size);
        }
        return;
      }
      pendingFlash.current.set(lead.id, 'new');
      captureAnchor();
      announced.current += 1;
      announce();
      setRows((prev) =>
        prev.some((r) => r.id === lead.id) ? prev : [lead, ...prev].slice(0, LIVE_ROWS_MAX),
      );
      refreshFirstPage();
    },
    resync: () => {
      if (stateRef.current.onFirstPage) void load(true);
    },
  });

  // Keep the rows a reader is looking at in place when new ones are added above them.
  useLayoutEffect(() => {
    const el = scrollRef.current;
    const a = anchor.current;
    anchor.current = null;
    const tr = a && rowEls.current.get(a.id);
    if (el && a && tr)
      el.scrollTop += tr.getBoundingClientRect().top - el.getBoundingClientRect().top - a.top;
    for (const [id, kind] of pendingFlash.current) {
      const tr = rowEls.current.get(id);
      if (!tr) continue;
      // A lead is usually assigned a moment after it arrives: let its "new" flash run to the end.
      const running = tr.getAnimations().some((a) => a.playState === 'running');
      if (kind === 'changed' && tr.dataset.flash === 'new' && running) continue;
      tr.animate(
        kind === 'new'
          ? [
              { backgroundColor: 'var(--flash-new)' },
              { backgroundColor: 'var(--flash-new)', offset: 0.4 },
              { backgroundColor: 'transparent' },
            ]
          : [{ backgroundColor: 'var(--flash-changed)' }, { backgroundColor: 'transparent' }],
        { duration: kind === 'new' ? NEW_FLASH_MS : CHANGED_FLASH_MS, easing: 'ease-out' },
      );
      tr.dataset.flash = kind;
    }
    pendingFlash.current.clear();
  }, [rows]);

  const setFilter = (name: keyof Filters, value: string) => {
    navigate(href('leads', null, toQuery({ ...filters, [name]: value || undefined })), { replace: true });
  };
  const hasFilters = Object.values(filters).some(Boolean);
  const query = toQuery(filters);
  const closeDrawer = () => navigate(href('leads', null, query));

  return h(
    'section',
    { class: 'page page-leads' },
    h(PageHeader, {
      title: 'Live leads',
      description: 'Newest first. New leads and status changes appear as they happen.',
    }),
    h(
      'form',
      {
        class: 'filters',
        role: 'search',
        'aria-label': 'Filter leads',
        onSubmit: (e: Event) => e.preventDefault(),
      },
      h(FilterSelect, {
        id: 'f-status',
        label: 'Status',
        value: filters.status ?? '',
        onChange: (v) => setFilter('status', v),
        options: LEAD_STATUSES.map((s) => [s, STATUS_LABELS[s]] as const),
      }),
      h(FilterSelect, {
        id: 'f-state',
        label: 'State',
        value: filters.state ?? '',
        onChange: (v) => setFilter('state', v),
        options: US_STATE_CODES.map((s) => [s, s] as const),
      }),
      h(FilterSelect, {
        id: 'f-campaign',
        label: 'Campaign',
        value: filters.campaign ?? '',
        onChange: (v) => setFilter('campaign', v),
        options: campaigns.map((c) => [c.key, c.name] as const),
      }),
      h(FilterSelect, {
        id: 'f-recipient',
        label: 'Recipient',
        value: filters.recipientId ?? '',
        onChange: (v) => setFilter('recipientId', v),
        options: recipients.map((r) => [r.id, r.name] as const),
      }),
      h(
        'button',
        {
          type: 'button',
          class: 'button ghost',
          disabled: !hasFilters,
          onClick: () => navigate(href('leads'), { replace: true }),
        },
        'Clear filters',
      ),
    ),
    h('div', { class: 'sr-only', role: 'status', 'aria-live': 'polite' }, announcement),
    h(ErrorNote, { error }),
    h(
      'div',
      { class: 'banner-slot' },
      !onFirstPage && missed > 0
        ? h(
            'div',
            { class: 'note note-info' },
            `${missed} new ${missed === 1 ? 'lead' : 'leads'} since this page loaded. `,
            h(
              'button',
              { type: 'button', class: 'link-button', onClick: () => setCursors([undefined]) },
              'Show newest',
            ),
          )
        : null,
    ),
    h(
      'div',
      {
        class: 'table-scroll leads-scroll',
        ref: scrollRef,
        tabIndex: 0,
        role: 'region',
        'aria-label': 'Leads table',
        'aria-busy': loading ? 'true' : 'false',
      },
      h(
        'table',
        { class: 'table leads-table' },
        h('caption', { class: 'sr-only' }, `Leads${hasFilters ? ' (filtered)' : ''}, newest first`),
        h(
          'thead',
          null,
          h(
            'tr',
            null,
            h('th', { scope: 'col', class: 'col-time' }, 'Received'),
            h('th', { scope: 'col', class: 'col-name' }, 'Lead'),
            h('th', { scope: 'col', class: 'col-phone' }, 'Phone'),
            h('th', { scope: 'col', class: 'col-state' }, 'State'),
            h('th', { scope: 'col', class: 'col-campaign' }, 'Campaign'),
            h('th', { scope: 'col', class: 'col-status' }, 'Status'),
            h('th', { scope: 'col', class: 'col-holder' }, 'Assigned to'),
          ),
        ),
        h(
          'tbody',
          null,
          rows.map((r) =>
            h(
              'tr',
              {
                key: r.id,
                ref: (el: HTMLTableRowElement | null) => {
                  if (el) rowEls.current.set(r.id, el);
                  else rowEls.current.delete(r.id);
                },
                class: 'lead-row',
                'data-lead-id': r.id,
                onClick: (e: MouseEvent) => {
                  if ((e.target as HTMLElement).closest('a,button')) return;
                  navigate(href('leads', r.id, query));
                },
              },
              h(
                'td',
                { class: 'col-time' },
                h(
                  'time',
                  { dateTime: r.receivedAt, title: formatFull(r.receivedAt) },
                  h('span', { class: 't-long' }, formatTime(r.receivedAt)),
                  h('span', { class: 't-short' }, formatShortTime(r.receivedAt)),
                ),
              ),
              h(
                'td',
                { class: 'col-name' },
                h('a', { href: href('leads', r.id, query), class: 'row-link' }, leadName(r)),
              ),
              h('td', { class: 'col-phone' }, r.phone === undefined ? '…' : formatPhone(r.phone)),
              h('td', { class: 'col-state' }, r.state ?? '—'),
              h('td', { class: 'col-campaign' }, r.campaign ?? '—'),
              h('td', { class: 'col-status' }, h(StatusBadge, { status: r.status })),
              h('td', { class: 'col-holder' }, holderText(holders.get(r.id), r)),
            ),
          ),
        ),
      ),
      !loading && rows.length === 0
        ? h(
            'div',
            { class: 'empty' },
            hasFilters
              ? 'No leads match these filters.'
              : 'No leads yet. Post one to the webhook and it appears here.',
          )
        : null,
    ),
    h(
      'nav',
      { class: 'pager', 'aria-label': 'Pages of leads' },
      h(
        'button',
        { type: 'button', class: 'button', disabled: onFirstPage, onClick: () => setCursors([undefined]) },
        'Newest',
      ),
      h(
        'button',
        {
          type: 'button',
          class: 'button',
          disabled: onFirstPage,
          onClick: () => setCursors((c) => c.slice(0, -1)),
        },
        '← Newer',
      ),
      h('span', { class: 'pager-info' }, `Page ${cursors.length}`),
      h(
        'button',
        {
          type: 'button',
          class: 'button',
          disabled: !nextCursor,
          onClick: () => nextCursor && setCursors((c) => [...c, nextCursor]),
        },
        'Older →',
      ),
    ),
    route.id ? h(LeadDrawer, { key: route.id, leadId: route.id, onClose: closeDrawer }) : null,
  );
}

function holderText(list: Holder[] | undefined, r: Row): string {
  if (NOT_HELD.includes(r.status)) return '—';
  if (r.status === 'sold') return 'Order';
  // Unknown (a server without `assignees`): nothing rather than a guess.
  if (!list) return '';
  return list.length ? list.map((x) => x.name).join(', ') : '—';
}

function FilterSelect(props: {
  id: string;
  label: string;
  value: string;
  options: readonly (readonly [string, string])[];
  onChange: (value: string) => void;
}) {
  return h(
    'div',
    { class: 'filter' },
    h('label', { for: props.id, class: 'label' }, props.label),
    h(
      'select',
      {
        id: props.id,
        class: 'select',
        value: props.value,
        onChange: (e: Event) => props.onChange((e.target as HTMLSelectElement).value),
      },
      h('option', { value: '' }, 'All'),
      props.options.map(([value, label]) => h('option', { key: value, value }, label)),
    ),
  );
}
