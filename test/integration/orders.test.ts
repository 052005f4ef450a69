/**
 * Orders through the whole local pipeline (webhook → queue → allocator → stock → orders API), against
 * real stores: state caps, oldest-first fills, parallel orders over one stock, open orders filled from
 * new stock, deletion back to stock, fulfilment, the New York-time CSV export and Idempotency-Key.
 *
 * Each test works in an org of its own (made with the same `createOrg` the runtime uses for its
 * default org), so stock and open orders of one test never reach another. Lead ages come from an
 * injected clock that moves a minute per lead: "oldest" is exact, without sleeping.
 */
import { parse } from 'csv-parse/sync';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock, setClock, systemClock } from '../../functions/clock.js';
import { createOrg } from '../../functions/usecases/orgs.js';
import { client, startTestStack, uniquePhone, type TestStack } from '../support/stack.js';

let stack: TestStack;
let db: pg.Client;
const clock = new ManualClock('2026-01-15T14:00:00Z');

beforeAll(async () => {
  stack = await startTestStack('orders');
  db = new pg.Client({ connectionString: stack.databaseUrl });
  await db.connect();
  setClock(clock);
});
afterAll(async () => {
  setClock(systemClock);
  await db?.end();
  await stack?.close();
});

type Api = ReturnType<typeof client>;

/** A fresh org with a `stock` campaign (mode stock: its leads wait for orders). */
async function newOrg(name: string): Promise<{ orgId: string; api: Api }> {
  const org = await createOrg({ name });
  const api = client({ url: stack.url, adminToken: org.adminToken, webhookSecret: org.webhookSecret });
  await api.createCampaign({ key: 'stock', mode: 'stock' });
  return { orgId: org.orgId, api };
}

/** Posts one lead per state, a minute apart (so oldest first = the order given), and waits for the allocator. */
async function stockLeads(api: Api, states: string[], campaign = 'stock'): Promise<string[]> {
  const ids: string[] = [];
  for (const state of states) {
    clock.advance(60_000);
    const res = await api.postLead({
      phone: uniquePhone(),
      state,
      campaign,
      firstName: `Lead ${ids.length}`,
    });
    expect(res.status).toBe(202);
    ids.push(res.body.leadId);
  }
  await stack.idle();
  return ids;
}

const repeat = (state: string, n: number) => Array.from({ length: n }, () => state);
const buyer = (states: string[], extra: Record<string, unknown> = {}) => ({
  customerName: 'Jane Doe',
  customerEmail: 'jane@example.com',
  requestedStates: states,
  ...extra,
});
const leadIdsOf = (order: { leads: { id: string }[] }) => order.leads.map((l) => l.id);

describe('orders', () => {
  it('12 CA and 3 NY stock leads, NY cap 2: an order for CA and NY gets the 10 oldest CA and the 2 oldest NY', async () => {
    // Prepare
    const { api } = await newOrg('caps');
    const caps = await api.call('PUT', '/api/state-caps', { default: 10, caps: { 'New York': 2 } });
    expect(caps).toMatchObject({ status: 200, body: { default: 10, caps: { NY: 2 } } });
    // Interleaved, so that "oldest" has to be worked out per state.
    const states = [...repeat('CA', 3), 'NY', ...repeat('CA', 5), 'NY', ...repeat('CA', 4), 'NY'];
    const ids = await stockLeads(api, states);
    const ca = ids.filter((_, i) => states[i] === 'CA');
    const ny = ids.filter((_, i) => states[i] === 'NY');

    // Act
    const res = await api.post('/api/orders', buyer(['CA', 'NY']));

    // Assess
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ status: 'filled', leadCount: 12, leadsByState: { CA: 10, NY: 2 } });
    expect(leadIdsOf(res.body).sort()).toEqual([...ca.slice(0, 10), ...ny.slice(0, 2)].sort());
    for (const id of leadIdsOf(res.body)) {
      const lead = await api.lead(id);
      expect(lead.status).toBe('sold');
      expect(lead.assignments).toEqual([
        expect.objectContaining({
          reason: 'order_fill',
          orderId: res.body.id,
          recipientId: null,
          endedAt: null,
        }),
      ]);
      expect(lead.events.map((e: { type: string }) => e.type)).toContain('lead.status_changed');
    }
    const left = await api.get('/api/leads?status=unassigned&limit=50');
    expect(left.body.items.map((l: { id: string }) => l.id).sort()).toEqual(
      [...ca.slice(10), ...ny.slice(2)].sort(),
    );
    expect((await api.get('/api/state-caps')).body).toEqual({ default: 10, caps: { NY: 2 } });
  });

  it('five orders created in parallel for CA over 12 stock leads: no lead twice, none over its cap, 12 sold, the oldest to the earliest order', async () => {
    // Prepare
    const { api } = await newOrg('parallel');
    const ids = await stockLeads(api, repeat('CA', 12));

    // Act
    const created = await Promise.all(
      Array.from({ length: 5 }, () => api.post('/api/orders', buyer(['CA']))),
    );

    // Assess
    expect(created.map((r) => r.status)).toEqual([201, 201, 201, 201, 201]);
    const orders = await Promise.all(
      created.map((r) => api.get(`/api/orders/${r.body.id}`).then((o) => o.body)),
    );
    orders.sort((a, b) => a.number - b.number);
    expect(orders.map((o) => o.number)).toEqual([1, 2, 3, 4, 5]);
    const held = orders.flatMap(leadIdsOf);
    expect(new Set(held).size).toBe(held.length);
    expect(held.sort()).toEqual([...ids].sort());
    for (const o of orders) expect(o.leads.length).toBeLessThanOrEqual(10);
    expect(leadIdsOf(orders[0]!)).toEqual(ids.slice(0, 10));
    expect(leadIdsOf(orders[1]!)).toEqual(ids.slice(10));
    expect(orders.map((o) => o.status)).toEqual(['filled', 'open', 'open', 'open', 'open']);
    const rows = await db.query(
      `SELECT lead_id, count(*)::int AS n FROM assignments WHERE lead_id = ANY($1) AND ended_at IS NULL GROUP BY 1`,
      [ids],
    );
    expect(rows.rows.map((r) => r.n)).toEqual(repeat('x', 12).map(() => 1));
    const sold = await api.get('/api/leads?status=sold&limit=50');
    expect(sold.body.items).toHaveLength(12);
  });

  it('fills open orders from new stock as it arrives, the earliest open order first, push leftovers included', async () => {
    // Prepare: two open orders for WA, the first with quantity 2.
    const { api } = await newOrg('open');
    const first = await api.post('/api/orders', buyer(['WA'], { quantity: 2 }));
    const second = await api.post('/api/orders', buyer(['Washington']));
    expect([first.body.status, second.body.status]).toEqual(['open', 'open']);

    // Act: stock arrives — from a stock campaign, and from a push campaign nobody could take it in.
    const [a, b] = await stockLeads(api, ['WA', 'WA']);
    const [c] = await stockLeads(api, ['WA'], 'default');

    // Assess
    const one = (await api.get(`/api/orders/${first.body.id}`)).body;
    const two = (await api.get(`/api/orders/${second.body.id}`)).body;
    expect(one).toMatchObject({ status: 'filled', leadCount: 2 });
    expect(leadIdsOf(one)).toEqual([a, b]);
    expect(leadIdsOf(two)).toEqual([c]);
    const pushed = await api.lead(c!);
    expect(pushed.events.map((e: { type: string }) => e.type)).toEqual(
      expect.arrayContaining(['lead.unassigned', 'lead.status_changed']),
    );
  });

  it('delete returns its leads to stock in one transaction, and a later order gets them', async () => {
    // Prepare
    const { api } = await newOrg('delete');
    const ids = await stockLeads(api, repeat('TX', 4));
    const order = (await api.post('/api/orders', buyer(['TX']))).body;
    expect(leadIdsOf(order)).toEqual(ids);

    // Act
    const deleted = await api.call('DELETE', `/api/orders/${order.id}`);

    // Assess
    expect(deleted.status).toBe(200);
    expect(deleted.body).toMatchObject({
      id: order.id,
      status: 'deleted',
      returnedLeadIds: ids,
      leadCount: 0,
    });
    for (const id of ids) {
      const lead = await api.lead(id);
      expect(lead).toMatchObject({ status: 'unassigned', reason: 'stock' });
      expect(lead.assignments).toEqual([
        expect.objectContaining({ orderId: order.id, endReason: 'order_deleted' }),
      ]);
    }
    expect((await api.get(`/api/orders/${order.id}`)).status).toBe(404);
    const kept = await api.get(`/api/orders/${order.id}?includeDeleted=true`);
    expect(kept.status).toBe(200);
    expect(kept.body).toMatchObject({ id: order.id, status: 'deleted' });
    expect(kept.body.leads.map((l: { id: string }) => l.id)).toEqual(ids);
    expect((await api.call('DELETE', `/api/orders/${order.id}`)).status).toBe(404);
    expect((await api.get('/api/orders')).body.items).toEqual([]);
    expect((await api.get('/api/orders?status=deleted')).body.items.map((o: { id: string }) => o.id)).toEqual(
      [order.id],
    );

    const later = await api.post('/api/orders', buyer(['TX']));
    expect(later.status).toBe(201);
    expect(leadIdsOf(later.body)).toEqual(ids);
    expect(later.body.number).toBe(2);
  });

  it('does not delete an order whose leads are in work (409, nothing changes)', async () => {
    const { api } = await newOrg('in-work');
    const [id] = await stockLeads(api, ['OR']);
    const order = (await api.post('/api/orders', buyer(['OR']))).body;
    expect((await api.patch(`/api/leads/${id}/status`, { status: 'contacted' })).status).toBe(200);

    const res = await api.call('DELETE', `/api/orders/${order.id}`);

    expect(res.status).toBe(409);
    expect(res.body.message).toContain(id);
    expect((await api.get(`/api/orders/${order.id}`)).body).toMatchObject({ status: 'open', leadCount: 1 });
  });

  it('a lead the buyer returns goes back to stock, to another open order, never back to its own', async () => {
    const { api } = await newOrg('returns');
    const [id] = await stockLeads(api, ['NV']);
    const first = (await api.post('/api/orders', buyer(['NV']))).body;
    const second = (await api.post('/api/orders', buyer(['NV']))).body;
    expect(leadIdsOf(first)).toEqual([id]);

    expect((await api.patch(`/api/leads/${id}/status`, { status: 'returned' })).status).toBe(200);

    expect((await api.get(`/api/orders/${first.id}`)).body.leads).toEqual([]);
    expect(leadIdsOf((await api.get(`/api/orders/${second.id}`)).body)).toEqual([id]);
    expect((await api.lead(id!)).status).toBe('sold');
  });

  it('fulfils an order (409 the second time; it takes no more leads) and exports fulfilled orders as CSV in New York time', async () => {
    // Prepare: a lead and an order in winter (EST, -05:00), fulfilled in summer (EDT, -04:00).
    const { api } = await newOrg('export');
    clock.set('2026-01-20T14:29:00Z');
    const [id] = await stockLeads(api, ['FL']); // received 14:30Z
    const order = (
      await api.post('/api/orders', buyer(['FL'], { customerName: '=HYPERLINK("http://x")', quantity: 5 }))
    ).body;
    const open = (await api.post('/api/orders', buyer(['GA']))).body;
    clock.set('2026-07-04T16:00:00Z');

    // Act
    const fulfilled = await api.patch(`/api/orders/${order.id}/fulfill`, {});
    const again = await api.patch(`/api/orders/${order.id}/fulfill`, {});
    const [late] = await stockLeads(api, ['FL']);
    const csv = await api.get('/api/orders/export.csv?status=fulfilled');

    // Assess
    expect(fulfilled.status).toBe(200);
    expect(fulfilled.body).toMatchObject({ status: 'fulfilled', fulfilledAt: '2026-07-04T16:00:00.000Z' });
    expect(again.status).toBe(409);
    expect((await api.lead(late!)).status).toBe('unassigned');
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    const rows = parse(csv.text, { columns: true }) as Record<string, string>[];
    expect(rows).toEqual([
      expect.objectContaining({
        order_number: '1',
        order_id: order.id,
        customer_name: `'=HYPERLINK("http://x")`,
        customer_email: 'jane@example.com',
        order_status: 'fulfilled',
        requested_states: 'FL',
        quantity: '5',
        order_created_at: '2026-01-20T09:30:00-05:00',
        order_fulfilled_at: '2026-07-04T12:00:00-04:00',
        lead_id: id,
        state: 'FL',
        lead_received_at: '2026-01-20T09:30:00-05:00',
        sold_at: '2026-01-20T09:30:00-05:00',
      }),
    ]);
    const openCsv = parse((await api.get('/api/orders/export.csv?status=open')).text, { columns: true });
    expect(openCsv).toEqual([expect.objectContaining({ order_id: open.id, lead_id: '' })]);
  });

  it('Idempotency-Key: a retried create answers the first response and creates one order', async () => {
    const { api } = await newOrg('idempotent');
    await stockLeads(api, ['AZ']);
    const headers = { 'idempotency-key': 'order-42' };

    const [a, b] = [
      await api.post('/api/orders', buyer(['AZ']), headers),
      await api.post('/api/orders', buyer(['AZ']), headers),
    ];
    const other = await api.post('/api/orders', buyer(['NM']), headers);

    expect(a.status).toBe(201);
    expect(b.status).toBe(201);
    expect(b.body).toEqual(a.body);
    expect(other.status).toBe(422);
    expect((await api.get('/api/orders')).body.total).toBe(1);
  });

  it('pages the order list newest first and filters by status', async () => {
    const { api } = await newOrg('pages');
    for (let i = 0; i < 3; i++) await api.post('/api/orders', buyer(['ME']));
    const page2 = await api.get('/api/orders?limit=2&page=2');
    expect(page2.body).toMatchObject({ page: 2, limit: 2, total: 3 });
    expect(page2.body.items.map((o: { number: number }) => o.number)).toEqual([1]);
    expect((await api.get('/api/orders?status=fulfilled')).body).toMatchObject({ items: [], total: 0 });
  });

  it('answers 400 by field for bad input, 404 for unknown or foreign ids', async () => {
    const { api } = await newOrg('invalid');
    const { api: stranger } = await newOrg('stranger');
    const order = (await api.post('/api/orders', buyer(['ID']))).body;

    const bad = await api.post('/api/orders', {
      customerName: '',
      customerEmail: 'nope',
      requestedStates: ['CA', 'Atlantis'],
      quantity: 0,
    });
    const badCaps = await api.call('PUT', '/api/state-caps', {
      default: -1,
      caps: { Atlantis: 1, NY: 1.5, 'New York': 2 },
    });
    const badPage = await api.get('/api/orders?page=0&status=lost');

    expect(bad.status).toBe(400);
    expect(bad.body.issues.map((i: { field: string }) => i.field).sort()).toEqual([
      'customerEmail',
      'customerName',
      'quantity',
      'requestedStates.1',
    ]);
    expect(badCaps.status).toBe(400);
    expect(badCaps.body.issues.map((i: { field: string }) => i.field).sort()).toEqual([
      'caps.Atlantis',
      'caps.NY',
      'caps.New York',
      'default',
    ]);
    expect(badPage.status).toBe(400);
    expect(badPage.body.issues.map((i: { field: string }) => i.field).sort()).toEqual(['page', 'status']);
    expect((await api.get('/api/orders/not-a-uuid')).status).toBe(404);
    expect((await stranger.get(`/api/orders/${order.id}`)).status).toBe(404);
    expect((await stranger.patch(`/api/orders/${order.id}/fulfill`, {})).status).toBe(404);
    expect((await stranger.call('DELETE', `/api/orders/${order.id}`)).status).toBe(404);
  });

  it('takes numbers and state lists as text, as Make and Zapier send them', async () => {
    const { api } = await newOrg('as-text');
    const created = await api.post('/api/orders', {
      customerName: 'Text Buyer',
      customerEmail: 'text@example.com',
      requestedStates: 'California, ny',
      quantity: '3',
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ requestedStates: ['CA', 'NY'], quantity: 3 });
    const caps = await api.call('PUT', '/api/state-caps', { default: '7', caps: { NY: '2' } });
    expect(caps.status).toBe(200);
    expect((await api.get('/api/state-caps')).body).toEqual({ default: 7, caps: { NY: 2 } });
    const bad = await api.post('/api/orders', { ...buyer(['CA']), quantity: 'five' });
    expect(bad.status).toBe(400);
    expect(bad.body.issues).toEqual([expect.objectContaining({ field: 'quantity' })]);
  });
});
