/**
 * Orders in PostgreSQL: one function per statement. The locking ones (`lockOpenOrders`,
 * `lockStockLeads`, `lockOrder`, `lockOrderLeads`) are only called after the org's stock lock
 * (`lockStock`), in the order docs/allocation.md gives: stock lock → order rows (ascending number) →
 * lead rows (ascending received_at, id).
 */
import type { LeadStatus } from '../../domain/types.js';
import { read, type Db } from './db.js';
import { LEAD_COLUMNS, type LeadRow } from './leads.js';

export type OrderStatus = 'open' | 'filled' | 'fulfilled' | 'deleted';
export const ORDER_STATUSES: readonly OrderStatus[] = ['open', 'filled', 'fulfilled', 'deleted'];
/** Lead statuses that are stock: what an order may take. */
export const STOCK_STATUSES: readonly LeadStatus[] = ['unassigned', 'returned'];

export interface OrderRow {
  id: string;
  orgId: string;
  number: number;
  customerName: string;
  customerEmail: string;
  requestedStates: string[];
  quantity: number | null;
  status: OrderStatus;
  /** Leads the order holds now (open `order_fill` assignments). */
  leadCount: number;
  createdAt: Date;
  updatedAt: Date;
  filledAt: Date | null;
  fulfilledAt: Date | null;
  deletedAt: Date | null;
}

const ORDER_COLUMNS = `o.id, o.org_id AS "orgId", o.number, o.customer_name AS "customerName",
  o.customer_email AS "customerEmail", o.requested_states AS "requestedStates", o.quantity, o.status,
  (SELECT count(*) FROM assignments a WHERE a.order_id = o.id AND a.ended_at IS NULL)::int AS "leadCount",
  o.created_at AS "createdAt", o.updated_at AS "updatedAt", o.filled_at AS "filledAt",
  o.fulfilled_at AS "fulfilledAt", o.deleted_at AS "deletedAt"`;

/** The next per-org order number. Only called under the stock lock, so max + 1 cannot be taken twice. */
export async function nextOrderNumber(db: Db, orgId: string): Promise<number> {
  const out = await db.query<{ n: number }>(
    `SELECT COALESCE(max(number), 0) + 1 AS n FROM orders WHERE org_id = $1`,
    [orgId],
  );
  return out.rows[0]!.n;
}

export async function insertOrder(
  db: Db,
  o: {
    id: string;
    orgId: string;
    number: number;
    customerName: string;
    customerEmail: string;
    requestedStates: string[];
    quantity: number | null;
    now: Date;
  },
): Promise<void> {
  await db.query(
    `INSERT INTO orders (id, org_id, number, customer_name, customer_email, requested_states, quantity, status,
       created_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, 'open', $8, $8)`,
    [o.id, o.orgId, o.number, o.customerName, o.customerEmail, o.requestedStates, o.quantity, o.now],
  );
}

export interface OpenOrderRow {
  id: string;
  number: number;
  requestedStates: string[];
  quantity: number | null;
  /** Every lead of each state the order has received (returned ones too; not those of a deletion). */
  receivedByState: Record<string, number>;
}

/** Locks the org's open orders, earliest first, with what each has received so far. */
export async function lockOpenOrders(db: Db, orgId: string): Promise<OpenOrderRow[]> {
  const orders = await db.query<Omit<OpenOrderRow, 'receivedByState'>>(
    `SELECT id, number, requested_states AS "requestedStates", quantity FROM orders
     WHERE org_id = $1 AND status = 'open' ORDER BY number FOR UPDATE`,
    [orgId],
  );
  if (orders.rows.length === 0) return [];
  const counts = await db.query<{ orderId: string; state: string; n: number }>(
    `SELECT a.order_id AS "orderId", l.state, count(*)::int AS n
     FROM assignments a JOIN leads l ON l.id = a.lead_id
     WHERE a.order_id = ANY($1::uuid[]) AND a.reason = 'order_fill'
     GROUP BY 1, 2`,
    [orders.rows.map((o) => o.id)],
  );
  return orders.rows.map((o) => ({
    ...o,
    receivedByState: Object.fromEntries(
      counts.rows.filter((c) => c.orderId === o.id).map((c) => [c.state, c.n]),
    ),
  }));
}

/**
 * Ids of the oldest stock leads of each state, up to `n` per state, leaving out `excludeIds` (leads
 * already looked at in this fill). Unlocked: `lockStockLeads` locks them and re-checks they are stock.
 */
export async function findStockCandidates(
  db: Db,
  orgId: string,
  need: { state: string; n: number }[],
  excludeIds: string[],
): Promise<{ id: string; state: string }[]> {
  const out = await db.query<{ id: string; state: string }>(
    `SELECT c.id, need.state
     FROM unnest($2::text[], $3::int[]) AS need(state, n)
     CROSS JOIN LATERAL (
       SELECT l.id FROM leads l
       WHERE l.org_id = $1 AND l.state = need.state AND l.status = ANY($4::text[]) AND l.erased_at IS NULL
         AND NOT (l.id = ANY($5::uuid[]))
       ORDER BY l.received_at, l.id
       LIMIT need.n
     ) c`,
    [orgId, need.map((x) => x.state), need.map((x) => x.n), STOCK_STATUSES, excludeIds],
  );
  return out.rows;
}

/**
 * Locks the given leads in ascending (received_at, id) order and returns those still in stock.
 * Under READ COMMITTED a row that changed while we waited for its lock is re-checked against the
 * WHERE clause, so a lead the allocator or a backlog retry took in the meantime drops out here.
 */
export async function lockStockLeads(db: Db, orgId: string, ids: string[]): Promise<LeadRow[]> {
  if (ids.length === 0) return [];
  const out = await db.query<LeadRow>(
    `SELECT ${LEAD_COLUMNS} FROM leads
     WHERE org_id = $1 AND id = ANY($2::uuid[]) AND status = ANY($3::text[]) AND erased_at IS NULL
     ORDER BY received_at, id
     FOR UPDATE`,
    [orgId, ids, STOCK_STATUSES],
  );
  return out.rows;
}

/** For each lead, the orders that held it before (an order is never given a lead twice). */
export async function previousOrdersOfLeads(db: Db, leadIds: string[]): Promise<Map<string, string[]>> {
  if (leadIds.length === 0) return new Map();
  const out = await db.query<{ leadId: string; orderIds: string[] }>(
    `SELECT lead_id AS "leadId", array_agg(DISTINCT order_id) AS "orderIds" FROM assignments
     WHERE lead_id = ANY($1::uuid[]) AND order_id IS NOT NULL GROUP BY 1`,
    [leadIds],
  );
  return new Map(out.rows.map((r) => [r.leadId, r.orderIds]));
}

/**
 * Writes the fill: one `order_fill` assignment per lead (no recipient, so no counter: `counted` is
 * false), and the leads become `sold`.
 */
export async function insertOrderFills(
  db: Db,
  input: { orgId: string; at: Date; fills: { orderId: string; leadId: string }[] },
): Promise<void> {
  if (input.fills.length === 0) return;
  await db.query(
    `WITH ins AS (
       INSERT INTO assignments (org_id, lead_id, recipient_id, order_id, reason, assigned_at, counted)
       SELECT $1, x.lead_id, NULL, x.order_id, 'order_fill', $2, false
       FROM unnest($3::uuid[], $4::uuid[]) AS x(order_id, lead_id)
       RETURNING 1
     )
     UPDATE leads SET status = 'sold', reason = NULL, status_changed_at = $2, updated_at = $2
     WHERE id = ANY($4::uuid[])`,
    [input.orgId, input.at, input.fills.map((f) => f.orderId), input.fills.map((f) => f.leadId)],
  );
}

export async function markOrdersFilled(db: Db, orderIds: string[], at: Date): Promise<void> {
  if (orderIds.length === 0) return;
  await db.query(
    `UPDATE orders SET status = 'filled', filled_at = $2, updated_at = $2
     WHERE id = ANY($1::uuid[]) AND status = 'open'`,
    [orderIds, at],
  );
}

/** Locks one order row (after the stock lock). Deleted orders are not found. */
export async function lockOrder(db: Db, orgId: string, orderId: string): Promise<OrderRow | undefined> {
  const out = await db.query<OrderRow>(
    `SELECT ${ORDER_COLUMNS} FROM orders o
     WHERE o.org_id = $1 AND o.id = $2 AND o.status <> 'deleted' FOR UPDATE OF o`,
    [orgId, orderId],
  );
  return out.rows[0];
}

export async function setOrderStatus(
  db: Db,
  orderId: string,
  status: 'fulfilled' | 'deleted',
  at: Date,
): Promise<void> {
  await db.query(
    status === 'fulfilled'
      ? `UPDATE orders SET status = 'fulfilled', fulfilled_at = $2, updated_at = $2 WHERE id = $1`
      : `UPDATE orders SET status = 'deleted', deleted_at = $2, updated_at = $2 WHERE id = $1`,
    [orderId, at],
  );
}

/** Locks the leads an order holds now, in ascending (received_at, id) order. */
export async function lockOrderLeads(db: Db, orderId: string): Promise<LeadRow[]> {
  const out = await db.query<LeadRow>(
    `SELECT ${LEAD_COLUMNS} FROM leads
     WHERE id IN (SELECT lead_id FROM assignments WHERE order_id = $1 AND ended_at IS NULL)
     ORDER BY received_at, id
     FOR UPDATE`,
    [orderId],
  );
  return out.rows;
}

/**
 * Ends the order's open assignments and puts their leads back in stock (`unassigned`, reason
 * `stock`): what deleting an order does.
 */
export async function returnOrderLeadsToStock(
  db: Db,
  input: { orderId: string; leadIds: string[]; at: Date; endReason: string },
): Promise<void> {
  if (input.leadIds.length === 0) return;
  await db.query(
    `WITH ended AS (
       UPDATE assignments SET ended_at = $3, end_reason = $4
       WHERE order_id = $1 AND lead_id = ANY($2::uuid[]) AND ended_at IS NULL
       RETURNING 1
     )
     UPDATE leads SET status = 'unassigned', reason = 'stock', status_changed_at = $3, updated_at = $3
     WHERE id = ANY($2::uuid[])`,
    [input.orderId, input.leadIds, input.at, input.endReason],
  );
}

/** Cheap check (under a shared stock lock) before taking the exclusive one. */
export async function hasOpenOrders(db: Db, orgId: string): Promise<boolean> {
  const out = await db.query(`SELECT 1 FROM orders WHERE org_id = $1 AND status = 'open' LIMIT 1`, [orgId]);
  return (out.rowCount ?? 0) > 0;
}

/** Orgs that have open orders (the scheduled safety-net fill visits them). */
export async function orgsWithOpenOrders(): Promise<string[]> {
  const rows = await read<{ orgId: string }>(
    `SELECT DISTINCT org_id AS "orgId" FROM orders WHERE status = 'open'`,
  );
  return rows.map((r) => r.orgId);
}

export async function getOrder(
  orgId: string,
  orderId: string,
  opts: { includeDeleted?: boolean } = {},
): Promise<OrderRow | undefined> {
  const rows = await read<OrderRow>(
    `SELECT ${ORDER_COLUMNS} FROM orders o WHERE o.org_id = $1 AND o.id = $2 AND ($3 OR o.status <> 'deleted')`,
    [orgId, orderId, opts.includeDeleted === true],
  );
  return rows[0];
}

export async function findOrderIdByNumber(orgId: string, number: number): Promise<string | undefined> {
  const rows = await read<{ id: string }>(
    `SELECT id FROM orders WHERE org_id = $1 AND number = $2 AND status <> 'deleted'`,
    [orgId, number],
  );
  return rows[0]?.id;
}

/** A page of orders, newest first. Without a status: every order but deleted ones. */
export async function listOrders(
  orgId: string,
  f: { status?: OrderStatus; offset: number; limit: number },
): Promise<{ items: OrderRow[]; total: number }> {
  const where = f.status ? `o.org_id = $1 AND o.status = $2` : `o.org_id = $1 AND o.status <> $2`;
  const status = f.status ?? 'deleted';
  const [items, total] = await Promise.all([
    read<OrderRow>(
      `SELECT ${ORDER_COLUMNS} FROM orders o WHERE ${where} ORDER BY o.number DESC LIMIT $3 OFFSET $4`,
      [orgId, status, f.limit, f.offset],
    ),
    read<{ n: number }>(`SELECT count(*)::int AS n FROM orders o WHERE ${where}`, [orgId, status]),
  ]);
  return { items, total: total[0]?.n ?? 0 };
}

export interface OrderLeadRow {
  id: string;
  firstName: string | null;
  lastName: string | null;
  phone: string | null;
  email: string | null;
  state: string | null;
  zip: string | null;
  status: LeadStatus;
  receivedAt: Date;
  soldAt: Date;
}

/** The leads an order holds now, oldest first. */
/** The leads an order holds; with `returned`, those its deletion gave back to stock. */
export async function listOrderLeads(
  orgId: string,
  orderId: string,
  opts: { returned?: boolean } = {},
): Promise<OrderLeadRow[]> {
  return read<OrderLeadRow>(
    `SELECT l.id, l.first_name AS "firstName", l.last_name AS "lastName", l.phone, l.email, l.state, l.zip,
            l.status, l.received_at AS "receivedAt", a.assigned_at AS "soldAt"
     FROM assignments a JOIN leads l ON l.id = a.lead_id
     WHERE a.org_id = $1 AND a.order_id = $2
       AND (CASE WHEN $3 THEN a.end_reason = 'order_deleted' ELSE a.ended_at IS NULL END)
     ORDER BY l.received_at, l.id`,
    [orgId, orderId, opts.returned === true],
  );
}

export interface OrderExportRow {
  key: number;
  orderNumber: number;
  orderId: string;
  customerName: string;
  customerEmail: string;
  orderStatus: OrderStatus;
  requestedStates: string[];
  quantity: number | null;
  orderCreatedAt: Date;
  orderFilledAt: Date | null;
  orderFulfilledAt: Date | null;
  leadId: string | null;
  firstName: string | null;
  lastName: string | null;
  phone: string | null;
  email: string | null;
  state: string | null;
  zip: string | null;
  leadReceivedAt: Date | null;
  soldAt: Date | null;
}

/**
 * One batch of the CSV export: a row per (order, lead it holds), or one row for an order without
 * leads; keyset-paged on (order number, assignment id) so a large export never holds a big result.
 */
export async function exportOrderRows(
  orgId: string,
  status: OrderStatus,
  after: { number: number; key: number },
  limit: number,
): Promise<OrderExportRow[]> {
  return read<OrderExportRow>(
    `SELECT COALESCE(a.id, 0) AS key, o.number AS "orderNumber", o.id AS "orderId",
            o.customer_name AS "customerName", o.customer_email AS "customerEmail", o.status AS "orderStatus",
            o.requested_states AS "requestedStates", o.quantity, o.created_at AS "orderCreatedAt",
            o.filled_at AS "orderFilledAt", o.fulfilled_at AS "orderFulfilledAt",
            l.id AS "leadId", l.first_name AS "firstName", l.last_name AS "lastName", l.phone, l.email,
            l.state, l.zip, l.received_at AS "leadReceivedAt", a.assigned_at AS "soldAt"
     FROM orders o
     LEFT JOIN assignments a ON a.order_id = o.id AND a.ended_at IS NULL
     LEFT JOIN leads l ON l.id = a.lead_id
     WHERE o.org_id = $1 AND o.status = $2 AND (o.number, COALESCE(a.id, 0)) > ($3::int, $4::bigint)
     ORDER BY o.number, COALESCE(a.id, 0)
     LIMIT $5`,
    [orgId, status, after.number, after.key, limit],
  );
}
