import { describe, expect, it } from 'vitest';
import { parseAutomationText, splitStates, TEXT_USAGE } from '../../functions/domain/automationText.js';

describe('parseAutomationText', () => {
  it('reads the create order example of the issue', () => {
    expect(
      parseAutomationText('create order for Jane Doe jane@example.com states CA, NY quantity 5'),
    ).toEqual({
      ok: true,
      command: 'create_order',
      params: {
        customerName: 'Jane Doe',
        customerEmail: 'jane@example.com',
        requestedStates: ['CA', 'NY'],
        quantity: 5,
      },
    });
  });

  it('takes state names, "and", spaces, <email>, qty and any keyword case', () => {
    const parsed = parseAutomationText(
      'Create an Order for  "Ana María López"  <ana@example.com>  QTY 3  STATES California and New York, tx',
    );
    expect(parsed).toEqual({
      ok: true,
      command: 'create_order',
      params: {
        customerName: 'Ana María López',
        customerEmail: 'ana@example.com',
        requestedStates: ['California', 'New York', 'tx'],
        quantity: 3,
      },
    });
    expect(splitStates('CA NY')).toEqual(['CA', 'NY']);
    expect(splitStates('New York')).toEqual(['New York']);
    expect(splitStates('CA & WA')).toEqual(['CA', 'WA']);
  });

  it('reads punctuation as people type it: commas around the email, "states:", a closing period', () => {
    expect(
      parseAutomationText('create order for Jane Doe, jane@example.com, states: CA, NY quantity 5.'),
    ).toEqual({
      ok: true,
      command: 'create_order',
      params: {
        customerName: 'Jane Doe',
        customerEmail: 'jane@example.com',
        requestedStates: ['CA', 'NY'],
        quantity: 5,
      },
    });
    expect(parseAutomationText('fulfill order #16.')).toEqual({
      ok: true,
      command: 'fulfill_order',
      params: { orderId: 16 },
    });
    expect(parseAutomationText('get orders status: open!')).toEqual({
      ok: true,
      command: 'get_orders',
      params: { status: 'open' },
    });
  });

  it('leaves an unknown state as written, for the schema to name', () => {
    const parsed = parseAutomationText('create order for Jo jo@example.com states CA, Atlantis');
    expect(parsed).toMatchObject({ ok: true, params: { requestedStates: ['CA', 'Atlantis'] } });
  });

  it('keeps a non-numeric quantity as text (the schema rejects it by field)', () => {
    expect(parseAutomationText('create order for Jo jo@example.com states CA quantity five')).toMatchObject({
      ok: true,
      params: { quantity: 'five' },
    });
  });

  it('rejects a create order without email or states', () => {
    expect(parseAutomationText('create order for Jane Doe states CA')).toMatchObject({ ok: false });
    expect(parseAutomationText('create order for Jane jane@example.com quantity 2')).toEqual({
      ok: false,
      message: 'Expected "states <CA, NY, …>" after the email',
    });
  });

  it.each([
    ['fulfill order #12', 'fulfill_order', { orderId: 12 }],
    ['Fulfil order 7', 'fulfill_order', { orderId: 7 }],
    [
      'complete order 0190a3c4-0000-7000-8000-000000000001',
      'fulfill_order',
      { orderId: '0190a3c4-0000-7000-8000-000000000001' },
    ],
    ['delete order #3', 'delete_order', { orderId: 3 }],
    ['cancel order 4', 'delete_order', { orderId: 4 }],
    ['get orders', 'get_orders', {}],
    [
      'list orders status fulfilled page 2 limit 10',
      'get_orders',
      { status: 'fulfilled', page: 2, limit: 10 },
    ],
    ['show leads', 'get_leads', {}],
    [
      'get leads status unassigned state New York limit 5',
      'get_leads',
      { status: 'unassigned', state: 'New York', limit: 5 },
    ],
    ['get leads campaign solar', 'get_leads', { campaign: 'solar' }],
  ])('%s', (text, command, params) => {
    expect(parseAutomationText(text)).toEqual({ ok: true, command, params });
  });

  it('reads one time rules with a time, an event, or neither', () => {
    expect(parseAutomationText('one time rule fulfill order #3 at 2026-03-01T09:00:00-05:00')).toEqual({
      ok: true,
      command: 'one_time_rule',
      params: {
        at: '2026-03-01T09:00:00-05:00',
        action: { command: 'fulfill_order', params: { orderId: 3 } },
      },
    });
    expect(parseAutomationText('once: delete order 9 on order.fulfilled')).toEqual({
      ok: true,
      command: 'one_time_rule',
      params: { event: 'order.fulfilled', action: { command: 'delete_order', params: { orderId: 9 } } },
    });
    expect(parseAutomationText('One-time rule fulfill order 2')).toEqual({
      ok: true,
      command: 'one_time_rule',
      params: { action: { command: 'fulfill_order', params: { orderId: 2 } } },
    });
  });

  it('only fulfil or delete an order in a one time rule', () => {
    expect(parseAutomationText('one time rule get orders')).toEqual({
      ok: false,
      message: 'A one time rule takes: fulfill order <order> or delete order <order>',
    });
    expect(parseAutomationText('one time rule one time rule fulfill order 1')).toMatchObject({ ok: false });
  });

  it('names the problem in options', () => {
    expect(parseAutomationText('get orders colour red')).toMatchObject({
      ok: false,
      message: expect.stringContaining('Unexpected "colour"'),
    });
    expect(parseAutomationText('get orders status')).toEqual({
      ok: false,
      message: '"status" needs a value',
    });
    expect(parseAutomationText('get orders page 1 page 2')).toEqual({
      ok: false,
      message: '"page" is given twice',
    });
  });

  it('answers unknown or empty text with every command', () => {
    for (const text of ['make me a sandwich', '   ', 'fulfill order', 'delete orders 3']) {
      const parsed = parseAutomationText(text);
      expect(parsed.ok).toBe(false);
      if (!parsed.ok) for (const usage of TEXT_USAGE) expect(parsed.message).toContain(usage);
    }
  });
});
