/**
 * Which stock leads fill which orders (SPEC §3 "Order", issue 4). Pure: the caller locks the open
 * orders and the candidate leads and passes them in; this decides, deterministically.
 *
 * The rule:
 * - Orders are served earliest first (by `number`, the order they were created in). An earlier order
 *   takes every lead it can before a later one sees any: the oldest leads go to the earliest order.
 * - Within an order, leads are taken oldest first (`receivedAt`, then `id`) across all its requested
 *   states.
 * - An order never receives more than the state cap of a state (`caps.byState[state]`, else
 *   `caps.default`) counting every lead it has received of that state, and never more than its
 *   `quantity` overall (no quantity: no overall limit). Leads a buyer returned still count: a return
 *   does not make room for a replacement, and an order is never given a lead it had before.
 * - An order with nothing left to take (quantity reached, or every requested state at its cap) is
 *   complete: it becomes `filled` and takes no more.
 */

export interface StateCaps {
  default: number;
  byState: Record<string, number>;
}

export interface OpenOrder {
  id: string;
  number: number;
  requestedStates: string[];
  quantity: number | null;
  /** Leads of each state this order has received so far. */
  receivedByState: Record<string, number>;
}

export interface StockLead {
  id: string;
  state: string;
  receivedAt: Date;
  /** Orders that had this lead before (it was returned or its order was deleted). */
  previousOrderIds: string[];
}

export interface OrderFill {
  orderId: string;
  /** Oldest first. */
  leadIds: string[];
  /** No demand left after this fill. */
  complete: boolean;
}

export interface FillPlan {
  /** One entry per order given, earliest first (also those that received nothing). */
  fills: OrderFill[];
  /**
   * Per state, how many more leads the orders could still take after this plan (an upper bound: an
   * order's quantity is shared by its states). The caller looks for more stock while this is > 0.
   */
  unmetByState: Record<string, number>;
}

export function capFor(caps: StateCaps, state: string): number {
  return caps.byState[state] ?? caps.default;
}

function byAge(a: StockLead, b: StockLead): number {
  const t = a.receivedAt.getTime() - b.receivedAt.getTime();
  if (t !== 0) return t;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

function received(order: OpenOrder): number {
  return Object.values(order.receivedByState).reduce((sum, n) => sum + n, 0);
}

/** What an order may still take: per state, and overall (Infinity when it has no quantity). */
export function orderDemand(
  order: OpenOrder,
  caps: StateCaps,
): { byState: Record<string, number>; total: number } {
  const byState: Record<string, number> = {};
  for (const state of order.requestedStates)
    byState[state] = Math.max(0, capFor(caps, state) - (order.receivedByState[state] ?? 0));
  const room = Object.values(byState).reduce((sum, n) => sum + n, 0);
  const total =
    order.quantity === null ? room : Math.min(room, Math.max(0, order.quantity - received(order)));
  return { byState, total };
}

export function planOrderFill(input: { orders: OpenOrder[]; leads: StockLead[]; caps: StateCaps }): FillPlan {
  const leads = [...input.leads].sort(byAge);
  const orders = [...input.orders].sort((a, b) => a.number - b.number);
  const taken = new Set<string>();
  const fills: OrderFill[] = [];
  const unmetByState: Record<string, number> = {};

  for (const order of orders) {
    const demand = orderDemand(order, input.caps);
    const leadIds: string[] = [];
    for (const lead of leads) {
      if (demand.total === 0) break;
      if (taken.has(lead.id) || !(demand.byState[lead.state] ?? 0)) continue;
      if (lead.previousOrderIds.includes(order.id)) continue;
      taken.add(lead.id);
      leadIds.push(lead.id);
      demand.byState[lead.state]! -= 1;
      demand.total -= 1;
    }
    if (demand.total > 0)
      for (const [state, n] of Object.entries(demand.byState))
        if (n > 0) unmetByState[state] = (unmetByState[state] ?? 0) + Math.min(n, demand.total);
    fills.push({ orderId: order.id, leadIds, complete: demand.total === 0 });
  }
  return { fills, unmetByState };
}
