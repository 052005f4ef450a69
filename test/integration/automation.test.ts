/**
 * Automation over HTTP against the real stores: every command as JSON (snake_case, as the seed and
 * Make/Zapier send it) and as text, rules on a schedule and on events run by the `automation` job,
 * `once` rules that run exactly once under concurrent triggers, every run recorded — and the
 * `leadrouter` CLI, spawned as a user would run it.
 */
import { execFile } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock, setClock, systemClock } from '../../functions/clock.js';
import { runAutomation } from '../../functions/usecases/automation.js';
import { createOrg } from '../../functions/usecases/orgs.js';
import { client, startTestStack, uniquePhone, type TestStack } from '../support/stack.js';

const run = promisify(execFile);
const CLI = path.resolve(import.meta.dirname, '../../bin/cli.mjs');

let stack: TestStack;
const ROOT_TOKEN = 'lr_root_automation_test';
// A Monday 08:58 in New York (13:58Z, EST).
const clock = new ManualClock('2026-03-02T13:58:00Z');

beforeAll(async () => {
  stack = await startTestStack('automation', { rootToken: ROOT_TOKEN });
  setClock(clock);
});
afterAll(async () => {
  setClock(systemClock);
  await stack?.close();
});

type Api = ReturnType<typeof client>;

async function newOrg(name: string): Promise<{ api: Api; adminToken: string }> {
  const org = await createOrg({ name });
  const api = client({ url: stack.url, adminToken: org.adminToken, webhookSecret: org.webhookSecret });
  await api.createCampaign({ key: 'stock', mode: 'stock' });
  return { api, adminToken: org.adminToken };
}

async function stockLeads(api: Api, states: string[]): Promise<string[]> {
  const ids: string[] = [];
  for (const state of states) {
    clock.advance(1000);
    const res = await api.postLead({ phone: uniquePhone(), state, campaign: 'stock' });
    ids.push(res.body.leadId);
  }
  await stack.idle();
  return ids;
}

const execute = (api: Api, body: unknown) => api.post('/api/automation/execute', body);

describe('automation commands', () => {
  it('runs each command as {"command", "params"}, snake_case params included', async () => {
    // Prepare
    const { api } = await newOrg('json-commands');
    const [ca1] = await stockLeads(api, ['CA', 'NY', 'CA']);

    // Act + Assess: create_order, with the seed's field names.
    const created = await execute(api, {
      command: 'create_order',
      params: {
        customer_name: 'John Doe',
        customer_email: 'john@example.com',
        requested_states: ['CA', 'TX'],
      },
    });
    expect(created.status).toBe(200);
    expect(created.body).toMatchObject({
      command: 'create_order',
      result: { number: 1, customerName: 'John Doe', status: 'open', leadsByState: { CA: 2 } },
    });

    const leads = await execute(api, {
      command: 'get_leads',
      params: { status: 'unassigned', state: 'new york' },
    });
    expect(leads.body.result.items).toHaveLength(1);
    expect(leads.body.result.items[0]).toMatchObject({ state: 'NY', status: 'unassigned' });
    const sold = await execute(api, { command: 'get_leads', params: { status: 'sold', limit: '1' } });
    expect(sold.body.result.count).toBe(1);

    const fulfilled = await execute(api, { command: 'fulfill_order', params: { orderId: 1 } });
    expect(fulfilled.body.result).toMatchObject({ id: created.body.result.id, status: 'fulfilled' });

    const listed = await execute(api, { command: 'get_orders', params: { status: 'fulfilled', limit: 10 } });
    expect(listed.body.result).toMatchObject({ total: 1, page: 1, limit: 10 });

    const deleted = await execute(api, {
      command: 'delete_order',
      params: { order_id: created.body.result.id },
    });
    expect(deleted.body.result).toMatchObject({ status: 'deleted' });
    expect(deleted.body.result.returnedLeadIds).toContain(ca1);
    expect((await api.lead(ca1!)).status).toBe('unassigned');
  });

  it('one_time_rule (the seed form) runs its action once, now, as a recorded rule run', async () => {
    const { api } = await newOrg('one-time');
    const order = (
      await execute(api, {
        command: 'create_order',
        params: { customerName: 'Ann', customerEmail: 'ann@example.com', requestedStates: ['OH'] },
      })
    ).body.result;

    const res = await execute(api, {
      command: 'one_time_rule',
      params: { orderId: order.number, action: 'fulfill' },
    });

    expect(res.status).toBe(200);
    expect(res.body.result.run).toMatchObject({
      trigger: 'manual',
      status: 'succeeded',
      command: 'fulfill_order',
    });
    expect(res.body.result.rule).toMatchObject({ once: true, enabled: false, runCount: 1 });
    expect((await api.get(`/api/orders/${order.id}`)).body.status).toBe('fulfilled');
    const again = await api.post(`/api/automation/rules/${res.body.result.rule.id}/run`);
    expect(again.status).toBe(409);
  });

  it('answers 400 naming params fields, 404 for an unknown order', async () => {
    const { api } = await newOrg('bad-commands');
    const bad = await execute(api, {
      command: 'create_order',
      params: { customerName: 'X', customerEmail: 'nope', requestedStates: ['Atlantis'] },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.issues.map((i: { field: string }) => i.field).sort()).toEqual([
      'params.customerEmail',
      'params.requestedStates.0',
    ]);
    const unknown = await execute(api, { command: 'make_coffee', params: {} });
    expect(unknown.status).toBe(400);
    expect(unknown.body.issues).toEqual([
      { field: 'command', message: expect.stringContaining('create_order, fulfill_order, delete_order') },
    ]);
    const neither = await execute(api, {});
    expect(neither.status).toBe(400);
    expect(neither.body.issues).toEqual([
      { field: 'command', message: expect.stringContaining('get_orders, get_leads, one_time_rule') },
    ]);
    expect((await execute(api, { command: 'fulfill_order', params: { orderId: 99 } })).status).toBe(404);
    expect(
      (await execute(api, { command: 'one_time_rule', params: { action: 'fulfill' } })).body.issues,
    ).toEqual([expect.objectContaining({ field: 'params.orderId' })]);
  });

  it('runs the text form of every command', async () => {
    const { api } = await newOrg('text-commands');
    await stockLeads(api, ['CA', 'CA', 'NY']);
    const text = (t: string) => execute(api, { text: t });

    const created = await text('create order for Jane Doe jane@example.com states CA, NY quantity 5');
    expect(created.status).toBe(200);
    expect(created.body).toMatchObject({
      command: 'create_order',
      params: {
        customerName: 'Jane Doe',
        customerEmail: 'jane@example.com',
        requestedStates: ['CA', 'NY'],
        quantity: 5,
      },
      result: { number: 1, quantity: 5, leadCount: 3 },
    });
    const second = await text('create order for Bob <bob@example.com> states Texas');
    expect((await text('get orders status open')).body.result.total).toBe(2);
    expect((await text('get leads status sold state CA limit 10')).body.result.count).toBe(2);
    expect((await text('fulfill order #1')).body.result.status).toBe('fulfilled');
    expect((await text('delete order #2')).body.result).toMatchObject({
      id: second.body.result.id,
      status: 'deleted',
    });
    const once = await text('one time rule fulfill order #1');
    expect(once.body.result.run).toMatchObject({ status: 'failed', error: { code: 'conflict' } });
  });

  it('answers unknown text with 400 listing the commands, and bad values by field', async () => {
    const { api } = await newOrg('text-errors');
    const unknown = await execute(api, { text: 'make me a sandwich' });
    expect(unknown.status).toBe(400);
    const messages = unknown.body.issues.map((i: { message: string }) => i.message).join('\n');
    for (const command of [
      'create order for',
      'fulfill order',
      'delete order',
      'get orders',
      'get leads',
      'one time rule',
    ])
      expect(messages).toContain(command);
    const badState = await execute(api, { text: 'create order for Al al@example.com states CA, Atlantis' });
    expect(badState.status).toBe(400);
    expect(badState.body.issues).toEqual([expect.objectContaining({ field: 'params.requestedStates.1' })]);
  });
});

describe('automation rules', () => {
  it('runs a schedule rule on its cron (in its timezone) from the automation job, recording each run', async () => {
    // Prepare: every weekday at 09:00 New York.
    const { api } = await newOrg('schedule');
    const rule = await api.post('/api/automation/rules', {
      name: 'Morning report',
      trigger: { type: 'schedule', cron: '0 9 * * 1-5', timezone: 'America/New_York' },
      action: { command: 'get_orders', params: { status: 'open' } },
    });
    expect(rule.status).toBe(201);
    expect(rule.body).toMatchObject({ enabled: true, once: false, nextRunAt: '2026-03-02T14:00:00.000Z' });

    // Act: not due yet, then due.
    await stack.runJob('automation');
    const early = (await api.get(`/api/automation/rules/${rule.body.id}/runs`)).body.items;
    clock.set('2026-03-02T14:00:30Z');
    await stack.runJob('automation');

    // Assess
    expect(early).toEqual([]);
    const detail = (await api.get(`/api/automation/rules/${rule.body.id}`)).body;
    expect(detail).toMatchObject({ runCount: 1, enabled: true, nextRunAt: '2026-03-03T14:00:00.000Z' });
    expect(detail.runs).toEqual([
      expect.objectContaining({
        trigger: 'schedule',
        status: 'succeeded',
        result: expect.objectContaining({ total: 0 }),
      }),
    ]);
  });

  it('runs an event rule for each matching event committed after it, filling params from the event', async () => {
    const { api } = await newOrg('events');
    const before = (await execute(api, { text: 'create order for Early early@example.com states UT' })).body
      .result;
    const rule = await api.post('/api/automation/rules', {
      name: 'Auto-fulfil every new order',
      trigger: { type: 'event', event: 'order.created' },
      action: { command: 'fulfill_order', params: { orderId: '{{event.data.order.id}}' } },
    });
    expect(rule.status).toBe(201);
    clock.advance(1000);
    const a = (await execute(api, { text: 'create order for A a@example.com states UT' })).body.result;
    const b = (await execute(api, { text: 'create order for B b@example.com states UT' })).body.result;

    await stack.runJob('automation');
    await stack.runJob('automation');

    const runs = (await api.get(`/api/automation/rules/${rule.body.id}/runs`)).body.items;
    expect(runs).toHaveLength(2);
    expect(runs.map((r: { params: { orderId: string } }) => r.params.orderId).sort()).toEqual(
      [a.id, b.id].sort(),
    );
    expect(
      runs.every(
        (r: { status: string; trigger: string }) => r.status === 'succeeded' && r.trigger === 'event',
      ),
    ).toBe(true);
    expect((await api.get(`/api/orders/${a.id}`)).body.status).toBe('fulfilled');
    expect((await api.get(`/api/orders/${b.id}`)).body.status).toBe('fulfilled');
    expect((await api.get(`/api/orders/${before.id}`)).body.status).toBe('open');
  });

  it('runs an event rule right after its event commits, without waiting for the job; its own events wait', async () => {
    const { api } = await newOrg('prompt');
    const fulfil = await api.post('/api/automation/rules', {
      name: 'Fulfil at once',
      trigger: { type: 'event', event: 'order.created' },
      action: { command: 'fulfill_order', params: { orderId: '{{event.data.order.id}}' } },
    });
    const chain = await api.post('/api/automation/rules', {
      name: 'Each fulfilled order makes another (a loop, were it chained)',
      trigger: { type: 'event', event: 'order.fulfilled' },
      action: {
        command: 'create_order',
        params: { customerName: 'Loop', customerEmail: 'loop@example.com', requestedStates: ['WY'] },
      },
    });
    expect([fulfil.status, chain.status]).toEqual([201, 201]);

    // No job runs here: the answer to the create comes after the rule has run.
    const order = (await execute(api, { text: 'create order for Prompt p@example.com states WY' })).body
      .result;

    expect((await api.get(`/api/orders/${order.id}`)).body.status).toBe('fulfilled');
    const runs = (await api.get(`/api/automation/rules/${fulfil.body.id}/runs`)).body.items;
    expect(runs).toEqual([expect.objectContaining({ trigger: 'event', status: 'succeeded' })]);
    // The fulfilment was committed by a rule's action: the chained rule waits for the job, so one
    // request never runs an unbounded chain.
    expect((await api.get(`/api/automation/rules/${chain.body.id}/runs`)).body.items).toHaveLength(0);
    await stack.runJob('automation');
    expect((await api.get(`/api/automation/rules/${chain.body.id}/runs`)).body.items).toHaveLength(1);
  });

  it('a once event rule runs once when parallel requests commit its event', async () => {
    const { api } = await newOrg('prompt-once');
    const rule = await api.post('/api/automation/rules', {
      name: 'First order only, at once',
      trigger: { type: 'event', event: 'order.created' },
      action: { command: 'get_orders', params: {} },
      once: true,
    });

    await Promise.all(
      ['A', 'B', 'C', 'D', 'E'].map((n) =>
        execute(api, { text: `create order for ${n} x@example.com states ND` }),
      ),
    );

    const detail = (await api.get(`/api/automation/rules/${rule.body.id}`)).body;
    expect(detail).toMatchObject({ enabled: false, runCount: 1 });
    expect(detail.runs).toHaveLength(1);
  });

  it('a once rule runs exactly once under 10 parallel manual runs', async () => {
    // Prepare: a once rule that creates an order — its effect is countable.
    const { api } = await newOrg('once-manual');
    const rule = await api.post('/api/automation/rules', {
      name: 'One order, once',
      trigger: { type: 'schedule', cron: '0 0 1 1 *' },
      action: {
        command: 'create_order',
        params: { customerName: 'Once', customerEmail: 'once@example.com', requestedStates: ['VT'] },
      },
      once: true,
    });

    // Act
    const runs = await Promise.all(
      Array.from({ length: 10 }, () => api.post(`/api/automation/rules/${rule.body.id}/run`)),
    );

    // Assess
    expect(runs.map((r) => r.status).sort()).toEqual([200, ...Array(9).fill(409)]);
    expect((await api.get('/api/orders')).body.total).toBe(1);
    const detail = (await api.get(`/api/automation/rules/${rule.body.id}`)).body;
    expect(detail).toMatchObject({ enabled: false, runCount: 1 });
    expect(detail.runs).toHaveLength(1);
  });

  it('a once event rule runs exactly once when several events and job runs race for it', async () => {
    const { api } = await newOrg('once-event');
    const rule = await api.post('/api/automation/rules', {
      name: 'First order only',
      trigger: { type: 'event', event: 'order.created' },
      action: { command: 'get_orders', params: {} },
      once: true,
    });
    clock.advance(1000);
    for (const name of ['A', 'B', 'C'])
      await execute(api, { text: `create order for ${name} x@example.com states ME` });

    await Promise.all(Array.from({ length: 5 }, () => runAutomation()));
    await stack.runJob('automation');

    const detail = (await api.get(`/api/automation/rules/${rule.body.id}`)).body;
    expect(detail).toMatchObject({ enabled: false, runCount: 1 });
    expect(detail.runs).toEqual([expect.objectContaining({ trigger: 'event', status: 'succeeded' })]);
  });

  it('a once schedule rule at a given time runs once, then disables itself', async () => {
    const { api } = await newOrg('once-at');
    const order = (await execute(api, { text: 'create order for Z z@example.com states NH' })).body.result;
    const at = new Date(clock.now().getTime() + 5 * 60_000).toISOString();
    const created = await execute(api, { text: `one time rule fulfill order #${order.number} at ${at}` });
    expect(created.body.result).toMatchObject({
      run: null,
      rule: { once: true, enabled: true, nextRunAt: at },
    });
    const ruleId = created.body.result.rule.id;

    await stack.runJob('automation');
    expect((await api.get(`/api/orders/${order.id}`)).body.status).toBe('open');
    clock.advance(6 * 60_000);
    await Promise.all([stack.runJob('automation'), runAutomation(), runAutomation()]);
    clock.advance(24 * 3600_000);
    await stack.runJob('automation');

    expect((await api.get(`/api/orders/${order.id}`)).body.status).toBe('fulfilled');
    const detail = (await api.get(`/api/automation/rules/${ruleId}`)).body;
    expect(detail).toMatchObject({ enabled: false, runCount: 1 });
    expect(detail.runs).toEqual([expect.objectContaining({ trigger: 'schedule', status: 'succeeded' })]);
  });

  it('lists, pauses, resumes and deletes rules; rejects bad rules by field', async () => {
    const { api } = await newOrg('rule-admin');
    const bad = await api.post('/api/automation/rules', {
      name: 'Broken',
      trigger: { type: 'schedule', cron: '61 * * * *', timezone: 'Mars/Olympus' },
      action: { command: 'create_order', params: { customerEmail: 'nope' } },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.issues.map((i: { field: string }) => i.field)).toContain('trigger.timezone');
    const badCron = await api.post('/api/automation/rules', {
      name: 'Broken',
      trigger: { type: 'schedule', cron: '61 * * * *' },
      action: { command: 'create_order', params: { customerEmail: 'nope' } },
    });
    expect(badCron.body.issues.map((i: { field: string }) => i.field).sort()).toEqual([
      'action.params.customerEmail',
      'action.params.customerName',
      'action.params.requestedStates',
      'trigger.cron',
    ]);
    const badEvent = await api.post('/api/automation/rules', {
      name: 'Broken',
      trigger: { type: 'event', event: 'order.exploded' },
      action: { command: 'one_time_rule', params: {} },
    });
    expect(badEvent.body.issues.map((i: { field: string }) => i.field).sort()).toEqual([
      'action.command',
      'trigger.event',
    ]);

    const rule = (
      await api.post('/api/automation/rules', {
        name: 'Hourly',
        trigger: { type: 'schedule', cron: '0 * * * *' },
        action: { command: 'get_leads' },
      })
    ).body;
    expect((await api.get('/api/automation/rules')).body.items.map((r: { id: string }) => r.id)).toEqual([
      rule.id,
    ]);
    const paused = await api.patch(`/api/automation/rules/${rule.id}`, { enabled: false });
    expect(paused.body.enabled).toBe(false);
    expect((await api.post(`/api/automation/rules/${rule.id}/run`)).status).toBe(409);
    const resumed = await api.patch(`/api/automation/rules/${rule.id}`, {
      enabled: true,
      name: 'Hourly leads',
    });
    expect(resumed.body).toMatchObject({ enabled: true, name: 'Hourly leads' });
    expect((await api.post(`/api/automation/rules/${rule.id}/run`)).body).toMatchObject({
      status: 'succeeded',
    });
    expect((await api.call('DELETE', `/api/automation/rules/${rule.id}`)).status).toBe(200);
    expect((await api.get(`/api/automation/rules/${rule.id}`)).status).toBe(404);
  });
});

describe('leadrouter CLI', () => {
  const cli = (args: string[], env: Record<string, string>) =>
    run(process.execPath, [CLI, ...args], {
      env: { PATH: process.env.PATH ?? '', ...env },
      timeout: 30_000,
    }).then(
      (r) => ({ code: 0, ...r }),
      (e: { code: number; stdout: string; stderr: string }) => ({
        code: e.code,
        stdout: e.stdout,
        stderr: e.stderr,
      }),
    );

  it('exec runs a text command against LEADROUTER_URL with ADMIN_TOKEN, and prints the result', async () => {
    const { api, adminToken } = await newOrg('cli');
    await stockLeads(api, ['KS']);

    const out = await cli(['exec', 'create order for Jane Doe jane@example.com states KS quantity 5'], {
      LEADROUTER_URL: stack.url,
      ADMIN_TOKEN: adminToken,
    });

    expect(out.code).toBe(0);
    expect(JSON.parse(out.stdout)).toMatchObject({
      command: 'create_order',
      result: { number: 1, leadCount: 1 },
    });
    expect((await api.get('/api/orders')).body.total).toBe(1);
  });

  it('exec finds a runtime started on another PORT from the same environment (no LEADROUTER_URL)', async () => {
    const { adminToken } = await newOrg('cli-port');
    const port = new URL(stack.url).port;

    const out = await cli(['exec', 'get orders'], { PORT: port, ADMIN_TOKEN: adminToken });

    expect(out.code).toBe(0);
    expect(JSON.parse(out.stdout)).toMatchObject({ command: 'get_orders', result: { total: 0 } });
  });

  it('exec reads the admin token npm start saved, and reports errors with the commands', async () => {
    const env = { LEADROUTER_URL: stack.url, DATA_DIR: stack.dataDir };
    const ok = await cli(['exec', '--json', '{"command": "get_orders", "params": {}}'], env);
    const bad = await cli(['exec', 'make me a sandwich'], env);

    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout).command).toBe('get_orders');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('error 400 validation_failed');
    expect(bad.stderr).toContain('text: Command: create order for <name> <email>');
  });

  it('org create makes an organization with ROOT_TOKEN, whose admin token then works with exec', async () => {
    const created = await cli(['org', 'create', 'CLI', 'Org'], { LEADROUTER_URL: stack.url, ROOT_TOKEN });
    const wrong = await cli(['org', 'create', 'Nope'], { LEADROUTER_URL: stack.url, ROOT_TOKEN: 'wrong' });

    expect(created.code).toBe(0);
    const org = JSON.parse(created.stdout);
    expect(org).toMatchObject({ orgId: expect.any(String), adminToken: expect.any(String) });
    const orders = await cli(['exec', 'get orders'], {
      LEADROUTER_URL: stack.url,
      ADMIN_TOKEN: org.adminToken,
    });
    expect(orders.code).toBe(0);
    expect(JSON.parse(orders.stdout).result).toMatchObject({ total: 0 });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain('error 401');
  });

  it('org create says so clearly when the server has no POST /api/orgs', async () => {
    const seen: { method?: string; url?: string; auth?: string; body?: string }[] = [];
    const server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        seen.push({ method: req.method, url: req.url, auth: req.headers.authorization, body });
        res
          .writeHead(404, { 'content-type': 'application/json' })
          .end('{"error":"not_found","message":"No route"}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const missing = await cli(['org', 'create', 'Acme', 'Leads'], {
        LEADROUTER_URL: url,
        ROOT_TOKEN: 'root-1',
      });
      const noToken = await cli(['org', 'create', 'Acme'], { LEADROUTER_URL: url });

      expect(missing.code).toBe(1);
      expect(missing.stderr).toContain('has no POST /api/orgs');
      expect(seen).toEqual([
        { method: 'POST', url: '/api/orgs', auth: 'Bearer root-1', body: '{"name":"Acme Leads"}' },
      ]);
      expect(noToken.code).toBe(2);
      expect(noToken.stderr).toContain('ROOT_TOKEN');
    } finally {
      server.close();
    }
  });
});
