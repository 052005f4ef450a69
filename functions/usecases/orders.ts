/**
 * Buyer orders filled from stock (SPEC §3 "Order", issue 4), on the same footing as the allocator:
 * every change is one transaction that takes the org's stock lock first, then the order rows, then
 * the lead rows (docs/allocation.md, "Orders").
 *
 * Creating an order, in one transaction:
 *  1. Take the stock lock (orders of one org are created and filled one at a time).
 *  2. Insert the order with the next per-org number (its place in the "earliest order first" line).
 *  3. Fill every open order of the org, earliest first — the new one included — from stock, oldest lead
 *     first, within the state caps and quantities (`planOrderFill`).
 *  4. Insert the events; commit; push them.
 *
 * New stock (a lead the allocator left unassigned, a returned lead, a deleted order's leads) fills open
 * orders in a transaction of its own, after the one that made the stock commits: the allocator holds
 * a lead lock, and the stock lock comes before lead locks in the global order.
 */
import { stringify } from 'csv-stringify';
import { Readable } from 'node:stream';
import { v7 as uuidv7 } from 'uuid';
import { z } from 'zod';
import { withTransaction, type Db } from '../adapters/pg/db.js';
import { insertEvents, type NewEvent } from '../adapters/pg/events.js';
import type { LeadRow } from '../adapters/pg/leads.js';
import {
  exportOrderRows,
  findOrderIdByNumber,
  findStockCandidates,
  getOrder,
  hasOpenOrders,
  insertOrder,
  insertOrderFills,
  listOrderLeads,
  listOrders,
  lockOpenOrders,
  lockOrder,
  lockOrderLeads,
  lockStockLeads,
  markOrdersFilled,
  nextOrderNumber,
  orgsWithOpenOrders,
  previousOrdersOfLeads,
  returnOrderLeadsToStock,
  setOrderStatus,
  type OrderExportRow,
  type OrderRow,
  type OrderStatus,
} from '../adapters/pg/orders.js';
import { lockStock, readStateCaps, replaceStateCaps } from '../adapters/pg/stateCaps.js';
import { clock } from '../clock.js';
import { ConflictError, NotFoundError } from '../domain/errors.js';
import { splitStates } from '../domain/automationText.js';
import { assertTransition } from '../domain/leadStatus.js';
import { normalizeState } from '../domain/normalize.js';
import { planOrderFill, type StateCaps, type StockLead } from '../domain/orderFill.js';
import { logger } from '../powertools.js';
import { publishEvents } from './publishEvents.js';
import { leadSummary } from './runAllocation.js';

/** A US state as code or name, any case; its USPS code. */
export const StateCodeInput = z.string().transform((value, ctx) => {
  const code = normalizeState(value);
  if (!code) {
    ctx.addIssue({ code: 'custom', message: `Unknown US state "${value.slice(0, 40)}"` });
    return z.NEVER;
  }
  return code;
});

/** Make, Zapier and sheets send numbers as text: "5" is 5 (anything else is left for the schema to name). */
const wholeNumberText = (v: unknown) => (typeof v === 'string' && /^\s*\d+\s*$/.test(v) ? Number(v) : v);

/** What a buyer's order asks for: the API body and the `create_order` automation command. */
export const OrderInputSchema = z.object({
  customerName: z.string().trim().min(1).max(200),
  customerEmail: z.email().max(254),
  // A list, or one line of them as a form field carries it: "CA, NY".
  requestedStates: z.preprocess(
    (v) => (typeof v === 'string' ? splitStates(v) : v),
    z
      .array(StateCodeInput)
      .min(1)
      .max(60)
      .transform((states) => [...new Set(states)]),
  ),
  quantity: z.preprocess(
    (v) => (v === '' ? null : wholeNumberText(v)),
    z.number().int().min(1).max(100_000).nullable().optional(),
  ),
});
export type OrderInput = z.output<typeof OrderInputSchema>;

const Cap = z.preprocess(wholeNumberText, z.number().int().min(0).max(100_000));

/**
 * `{"default": 10, "caps": {"NY": 2}}`. Keys are states by code or name; every bad key and every bad
 * cap is reported (one pass over the entries, so a bad value does not hide a bad key), and two keys
 * naming one state ("NY" and "New York") are an error rather than a silent overwrite.
 */
export const StateCapsSchema = z.object({
  default: Cap,
  caps: z.record(z.string(), z.unknown()).transform((caps, ctx) => {
    const out: Record<string, number> = {};
    const seen = new Set<string>();
    for (const [key, value] of Object.entries(caps)) {
      const state = normalizeState(key);
      const cap = Cap.safeParse(value);
      if (!state)
        ctx.addIssue({ code: 'custom', path: [key], message: `Unknown US state "${key.slice(0, 40)}"` });
      else if (seen.has(state))
        ctx.addIssue({ code: 'custom', path: [key], message: `${state} is given twice` });
      if (!cap.success)
        for (const i of cap.error.issues) ctx.addIssue({ code: 'custom', path: [key], message: i.message });
      if (state && cap.success && !seen.has(state)) out[state] = cap.data;
      if (state) seen.add(state);
    }
    return out;
  }),
});

export function orderView(o: OrderRow) {
  const { orgId: _org, ...view } = o;
  return view;
}

function orderSummary(o: { id: string; number: number; status: OrderStatus; requestedStates: string[] }) {
  return { id: o.id, number: o.number, status: o.status, requestedStates: o.requestedStates };
}

/** An order and its leads; a deleted one only when asked for, with the leads it gave back to stock. */
export async function getOrderDetail(
  orgId: string,
  orderId: string,
  opts: { includeDeleted?: boolean } = {},
) {
  const order = await getOrder(orgId, orderId, opts);
  if (!order) throw new NotFoundError('Order not found');
  const leads = await listOrderLeads(orgId, order.id, { returned: order.status === 'deleted' });
  const leadsByState: Record<string, number> = {};
  for (const l of leads) if (l.state) leadsByState[l.state] = (leadsByState[l.state] ?? 0) + 1;
  return { ...orderView(order), leadsByState, leads };
}

/** An order given by id or by its number (`12`, `"#12"`): automation and the CLI speak numbers. */
export async function resolveOrderId(orgId: string, ref: string | number): Promise<string> {
  const text = String(ref).trim();
  const number = /^#?\d+$/.test(text) ? Number(text.replace('#', '')) : null;
  if (number !== null) {
    const id = await findOrderIdByNumber(orgId, number);
    if (!id) throw new NotFoundError(`Order #${number} not found`);
    return id;
  }
  if (!z.uuid().safeParse(text).success) throw new NotFoundError('Order not found');
  return text;
}

export async function createOrder(orgId: string, input: OrderInput) {
  const now = clock().now();
  const { id, stored } = await withTransaction(async (db) => {
    await lockStock(db, orgId, 'update');
    const id = uuidv7();
    const number = await nextOrderNumber(db, orgId);
    await insertOrder(db, { id, orgId, number, ...input, quantity: input.quantity ?? null, now });
    const events: NewEvent[] = [
      {
        orgId,
        type: 'order.created',
        data: {
          order: {
            ...orderSummary({ id, number, status: 'open', requestedStates: input.requestedStates }),
            customerName: input.customerName,
            quantity: input.quantity ?? null,
          },
        },
      },
    ];
    events.push(...(await fillInTransaction(db, orgId, now)));
    return { id, stored: await insertEvents(db, events, now) };
  });
  await publishEvents(stored);
  return getOrderDetail(orgId, id);
}

/**
 * Fills the org's open orders from stock, inside a transaction that holds the stock lock. Returns
 * the events to insert.
 *
 * Candidates are looked up per state (oldest first, as many as the orders could take), then locked;
 * a lead that left stock while we waited for its lock drops out, and so does one an order had before,
 * so the lookup repeats for the states still short until the orders are satisfied or the state's
 * stock is exhausted. The plan is always recomputed over every lead locked so far, so the oldest
 * leads win even when a later round finds an older one.
 */
async function fillInTransaction(db: Db, orgId: string, now: Date): Promise<NewEvent[]> {
  const orders = await lockOpenOrders(db, orgId);
  if (orders.length === 0) return [];
  const caps = await readStateCaps(db, orgId);
  const locked = new Map<string, { row: LeadRow; stock: StockLead }>();
  const seen = new Set<string>();
  const exhausted = new Set<string>();
  const plan = () => planOrderFill({ orders, caps, leads: [...locked.values()].map((l) => l.stock) });
  let current = plan();
  for (;;) {
    const need = Object.entries(current.unmetByState)
      .filter(([state, n]) => n > 0 && !exhausted.has(state))
      .map(([state, n]) => ({ state, n }));
    if (need.length === 0) break;
    const found = await findStockCandidates(db, orgId, need, [...seen]);
    for (const { state, n } of need)
      if (found.filter((f) => f.state === state).length < n) exhausted.add(state);
    if (found.length === 0) break;
    for (const f of found) seen.add(f.id);
    const rows = await lockStockLeads(
      db,
      orgId,
      found.map((f) => f.id),
    );
    const previous = await previousOrdersOfLeads(
      db,
      rows.map((r) => r.id),
    );
    for (const row of rows)
      locked.set(row.id, {
        row,
        stock: {
          id: row.id,
          state: row.state!,
          receivedAt: row.receivedAt,
          previousOrderIds: previous.get(row.id) ?? [],
        },
      });
    current = plan();
  }

  const sold = current.fills.flatMap((f) => f.leadIds.map((leadId) => ({ orderId: f.orderId, leadId })));
  for (const s of sold) assertTransition(locked.get(s.leadId)!.row.status, 'sold', 'system');
  await insertOrderFills(db, { orgId, at: now, fills: sold });
  const completed = current.fills.filter((f) => f.complete).map((f) => f.orderId);
  await markOrdersFilled(db, completed, now);

  const events: NewEvent[] = [];
  const byId = new Map(orders.map((o) => [o.id, o]));
  for (const fill of current.fills) {
    if (fill.leadIds.length === 0 && !fill.complete) continue;
    const order = byId.get(fill.orderId)!;
    events.push({
      orgId,
      type: 'order.filled',
      data: {
        order: orderSummary({ ...order, status: fill.complete ? 'filled' : 'open' }),
        leadIds: fill.leadIds,
        added: fill.leadIds.length,
        complete: fill.complete,
      },
    });
    for (const leadId of fill.leadIds) {
      const lead = locked.get(leadId)!.row;
      events.push({
        orgId,
        type: 'lead.status_changed',
        leadId,
        data: {
          lead: leadSummary(lead, 'sold', null),
          from: lead.status,
          to: 'sold',
          orderId: fill.orderId,
          orderNumber: order.number,
          reason: 'order_fill',
        },
      });
    }
  }
  return events;
}

/** Fills the org's open orders from its stock in one transaction. */
export async function fillOpenOrders(orgId: string): Promise<{ ordersFilled: number; leadsSold: number }> {
  const now = clock().now();
  const stored = await withTransaction(async (db) => {
    await lockStock(db, orgId, 'update');
    return insertEvents(db, await fillInTransaction(db, orgId, now), now);
  });
  await publishEvents(stored);
  return {
    ordersFilled: stored.filter((e) => e.type === 'order.filled').length,
    leadsSold: stored.filter((e) => e.type === 'lead.status_changed').length,
  };
}

/**
 * After new stock committed (the allocator left a lead unassigned, a lead was returned, an order was
 * deleted): fill open orders from it. Never throws — the stock is committed and safe; if this fails,
 * the next stock change, the next order, or the automation job's minute sweep fills it.
 *
 * The check for open orders runs under the *shared* stock lock, so that allocators don't queue on each
 * other for orgs without open orders, and still can't miss an order whose creation is in progress (it
 * holds the lock exclusively; the check waits and then sees it).
 */
export async function fillOpenOrdersAfterStock(orgId: string): Promise<void> {
  try {
    const open = await withTransaction(async (db) => {
      await lockStock(db, orgId, 'share');
      return hasOpenOrders(db, orgId);
    });
    if (open) await fillOpenOrders(orgId);
  } catch (error) {
    logger.warn('Filling open orders from new stock failed; the next fill or the minute sweep retries', {
      orgId,
      error: error as Error,
    });
  }
}

/** The minute sweep's part for orders: every org with open orders gets a fill. */
export async function fillAllOpenOrders(): Promise<{ orgs: number; leadsSold: number; failed: number }> {
  let leadsSold = 0;
  let failed = 0;
  const orgs = await orgsWithOpenOrders();
  for (const orgId of orgs) {
    try {
      leadsSold += (await fillOpenOrders(orgId)).leadsSold;
    } catch (error) {
      failed += 1;
      logger.error('Scheduled fill of open orders failed', { orgId, error: error as Error });
    }
  }
  return { orgs: orgs.length, leadsSold, failed };
}

export async function fulfillOrder(orgId: string, orderId: string) {
  const now = clock().now();
  const stored = await withTransaction(async (db) => {
    await lockStock(db, orgId, 'update');
    const order = await lockOrder(db, orgId, orderId);
    if (!order) throw new NotFoundError('Order not found');
    if (order.status === 'fulfilled') throw new ConflictError(`Order #${order.number} is already fulfilled`);
    await setOrderStatus(db, order.id, 'fulfilled', now);
    return insertEvents(
      db,
      [
        {
          orgId,
          type: 'order.fulfilled',
          data: { order: orderSummary({ ...order, status: 'fulfilled' }), leadCount: order.leadCount },
        },
      ],
      now,
    );
  });
  await publishEvents(stored);
  return getOrderDetail(orgId, orderId);
}

/**
 * Deletes an order and returns its leads to stock (`unassigned`, reason `stock`; their assignments
 * end with `order_deleted`), in one transaction. A lead the buyer already works (contacted, qualified,
 * won, lost) cannot go back to stock: such an order answers 409 and nothing changes.
 */
export async function deleteOrder(orgId: string, orderId: string) {
  const now = clock().now();
  const { order, leads, stored } = await withTransaction(async (db) => {
    await lockStock(db, orgId, 'update');
    const order = await lockOrder(db, orgId, orderId);
    if (!order) throw new NotFoundError('Order not found');
    const leads = await lockOrderLeads(db, order.id);
    const inWork = leads.filter((l) => l.status !== 'sold');
    if (inWork.length > 0)
      throw new ConflictError(
        `Order #${order.number} has leads in work that cannot go back to stock: ` +
          inWork.map((l) => `${l.id} (${l.status})`).join(', '),
      );
    for (const l of leads) assertTransition(l.status, 'unassigned', 'system');
    await returnOrderLeadsToStock(db, {
      orderId: order.id,
      leadIds: leads.map((l) => l.id),
      at: now,
      endReason: 'order_deleted',
    });
    await setOrderStatus(db, order.id, 'deleted', now);
    const events: NewEvent[] = [
      {
        orgId,
        type: 'order.deleted',
        data: {
          order: orderSummary({ ...order, status: 'deleted' }),
          returnedLeadIds: leads.map((l) => l.id),
        },
      },
      ...leads.map((lead): NewEvent => ({
        orgId,
        type: 'lead.status_changed',
        leadId: lead.id,
        data: {
          lead: leadSummary(lead, 'unassigned', 'stock'),
          from: lead.status,
          to: 'unassigned',
          orderId: order.id,
          orderNumber: order.number,
          reason: 'order_deleted',
        },
      })),
    ];
    return { order, leads, stored: await insertEvents(db, events, now) };
  });
  await publishEvents(stored);
  if (leads.length > 0) await fillOpenOrdersAfterStock(orgId);
  return {
    ...orderView({ ...order, status: 'deleted', leadCount: 0, deletedAt: now, updatedAt: now }),
    returnedLeadIds: leads.map((l) => l.id),
  };
}

export async function listOrderPage(orgId: string, q: { status?: OrderStatus; page: number; limit: number }) {
  const { items, total } = await listOrders(orgId, {
    status: q.status,
    offset: (q.page - 1) * q.limit,
    limit: q.limit,
  });
  return { items: items.map(orderView), page: q.page, limit: q.limit, total };
}

export async function getStateCaps(
  orgId: string,
): Promise<{ default: number; caps: Record<string, number> }> {
  const caps = await readStateCaps(null, orgId);
  return { default: caps.default, caps: caps.byState };
}

/**
 * Replaces the org's state caps. Taken under the stock lock, so a fill never plans with half-written
 * caps; raised caps may let open orders take more, so they are filled right after.
 */
export async function putStateCaps(orgId: string, input: { default: number; caps: Record<string, number> }) {
  const now = clock().now();
  const caps: StateCaps = { default: input.default, byState: input.caps };
  await withTransaction(async (db) => {
    await lockStock(db, orgId, 'update');
    await replaceStateCaps(db, orgId, caps, now);
  });
  await fillOpenOrdersAfterStock(orgId);
  return getStateCaps(orgId);
}

// ---- CSV export -------------------------------------------------------------------------------------

export const EXPORT_TIMEZONE = 'America/New_York';

const offsetFormatters = new Map<string, Intl.DateTimeFormat>();

/**
 * An instant as local wall-clock time with its UTC offset, e.g. `2026-03-01T09:15:00-05:00`: what a
 * spreadsheet user in New York reads, and still an unambiguous instant (daylight saving included).
 */
export function formatWithOffset(at: Date, timeZone: string): string {
  let f = offsetFormatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      timeZoneName: 'longOffset',
    });
    offsetFormatters.set(timeZone, f);
  }
  const p: Record<string, string> = {};
  for (const part of f.formatToParts(at)) p[part.type] = part.value;
  // "GMT-05:00", or plain "GMT" when the offset is zero.
  const offset = p.timeZoneName === 'GMT' ? '+00:00' : p.timeZoneName!.replace('GMT', '');
  return `${p.year}-${p.month}-${p.day}T${p.hour}:${p.minute}:${p.second}${offset}`;
}

/**
 * Spreadsheet formula injection: a cell of free text that starts with `=`, `+`, `-`, `@` (or a tab or
 * carriage return) would run as a formula in Excel or Sheets. Names and emails come from webhooks, so
 * such values get a leading apostrophe (OWASP's advice). Phones are normalised E.164 and left alone.
 */
function safeText(value: string | null): string {
  if (value === null) return '';
  return /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
}

export const EXPORT_COLUMNS = [
  'order_number',
  'order_id',
  'customer_name',
  'customer_email',
  'order_status',
  'requested_states',
  'quantity',
  'order_created_at',
  'order_filled_at',
  'order_fulfilled_at',
  'lead_id',
  'first_name',
  'last_name',
  'phone',
  'email',
  'state',
  'zip',
  'lead_received_at',
  'sold_at',
] as const;

function exportRecord(r: OrderExportRow): Record<(typeof EXPORT_COLUMNS)[number], string | number> {
  const t = (d: Date | null) => (d ? formatWithOffset(d, EXPORT_TIMEZONE) : '');
  return {
    order_number: r.orderNumber,
    order_id: r.orderId,
    customer_name: safeText(r.customerName),
    customer_email: safeText(r.customerEmail),
    order_status: r.orderStatus,
    requested_states: r.requestedStates.join(' '),
    quantity: r.quantity ?? '',
    order_created_at: t(r.orderCreatedAt),
    order_filled_at: t(r.orderFilledAt),
    order_fulfilled_at: t(r.orderFulfilledAt),
    lead_id: r.leadId ?? '',
    first_name: safeText(r.firstName),
    last_name: safeText(r.lastName),
    phone: r.phone ?? '',
    email: safeText(r.email),
    state: r.state ?? '',
    zip: r.zip ?? '',
    lead_received_at: t(r.leadReceivedAt),
    sold_at: t(r.soldAt),
  };
}

const EXPORT_BATCH = 500;

async function* exportRecords(orgId: string, status: OrderStatus) {
  let after = { number: 0, key: 0 };
  for (;;) {
    const batch = await exportOrderRows(orgId, status, after, EXPORT_BATCH);
    for (const row of batch) yield exportRecord(row);
    const last = batch.at(-1);
    if (!last || batch.length < EXPORT_BATCH) return;
    after = { number: last.orderNumber, key: last.key };
  }
}

/**
 * The orders of one status as CSV, one row per lead an order holds (an order without leads gets one
 * row with empty lead columns), times in America/New_York with their offset. Produced as a stream:
 * rows are read in keyset batches and stringified as they come.
 */
export function exportOrdersCsv(orgId: string, status: OrderStatus): AsyncIterable<string> {
  const csv = stringify({ header: true, columns: [...EXPORT_COLUMNS] });
  Readable.from(exportRecords(orgId, status))
    .on('error', (error) => csv.destroy(error))
    .pipe(csv);
  return csv;
}
