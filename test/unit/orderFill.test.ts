import { describe, expect, it } from 'vitest';
import { planOrderFill, type OpenOrder, type StockLead } from '../../functions/domain/orderFill.js';

const caps = { default: 10, byState: { NY: 2 } as Record<string, number> };
const t0 = Date.parse('2026-01-01T00:00:00Z');

function leads(state: string, n: number, fromMinute = 0): StockLead[] {
  return Array.from({ length: n }, (_, i) => ({
    id: `${state}-${String(fromMinute + i).padStart(3, '0')}`,
    state,
    receivedAt: new Date(t0 + (fromMinute + i) * 60_000),
    previousOrderIds: [],
  }));
}

function order(number: number, states: string[], extra: Partial<OpenOrder> = {}): OpenOrder {
  return { id: `o${number}`, number, requestedStates: states, quantity: null, receivedByState: {}, ...extra };
}

describe('planOrderFill', () => {
  it('gives an order the oldest leads of each state up to the state cap', () => {
    // Prepare: stock given newest first, to show the plan sorts it.
    const stock = [...leads('CA', 12), ...leads('NY', 3, 100)].reverse();
    // Act
    const plan = planOrderFill({ orders: [order(1, ['CA', 'NY'])], leads: stock, caps });
    // Assess
    expect(plan.fills[0]!.leadIds).toEqual([
      ...leads('CA', 10).map((l) => l.id),
      ...leads('NY', 2, 100).map((l) => l.id),
    ]);
    expect(plan.fills[0]!.complete).toBe(true);
  });

  it('serves the earliest order first, then the next, never a lead twice', () => {
    const plan = planOrderFill({
      orders: [order(3, ['CA']), order(1, ['CA']), order(2, ['CA'])],
      leads: leads('CA', 12),
      caps,
    });
    expect(plan.fills.map((f) => [f.orderId, f.leadIds.length, f.complete])).toEqual([
      ['o1', 10, true],
      ['o2', 2, false],
      ['o3', 0, false],
    ]);
    expect(plan.fills[0]!.leadIds).toEqual(leads('CA', 10).map((l) => l.id));
    expect(plan.unmetByState).toEqual({ CA: 8 + 10 });
  });

  it('stops at the quantity, taking the oldest across states', () => {
    const stock = [...leads('CA', 3, 10), ...leads('TX', 3, 0)];
    const plan = planOrderFill({ orders: [order(1, ['CA', 'TX'], { quantity: 4 })], leads: stock, caps });
    expect(plan.fills[0]!.leadIds).toEqual(['TX-000', 'TX-001', 'TX-002', 'CA-010']);
    expect(plan.fills[0]!.complete).toBe(true);
  });

  it('counts what an order received before, and never gives it a lead it had', () => {
    const stock = leads('NY', 3);
    stock[0]!.previousOrderIds = ['o1'];
    const plan = planOrderFill({
      orders: [order(1, ['NY'], { receivedByState: { NY: 1 } })],
      leads: stock,
      caps,
    });
    expect(plan.fills[0]).toEqual({ orderId: 'o1', leadIds: ['NY-001'], complete: true });
  });

  it('ignores leads of states the order did not ask for, and reports the demand left', () => {
    const plan = planOrderFill({
      orders: [order(1, ['NY', 'WA'], { quantity: 5 })],
      leads: leads('CA', 5),
      caps,
    });
    expect(plan.fills[0]).toEqual({ orderId: 'o1', leadIds: [], complete: false });
    expect(plan.unmetByState).toEqual({ NY: 2, WA: 5 });
  });

  it('completes an order whose every state is capped at 0', () => {
    const plan = planOrderFill({
      orders: [order(1, ['NY'])],
      leads: leads('NY', 2),
      caps: { default: 10, byState: { NY: 0 } },
    });
    expect(plan.fills[0]).toEqual({ orderId: 'o1', leadIds: [], complete: true });
  });
});
