/**
 * Isolation between organizations through every admin endpoint, the webhooks, the DLQ and the
 * WebSocket. Two orgs are created with `POST /api/orgs`; then, with org A's token:
 *
 * - every admin route with a path parameter, called with each of org B's ids (taken from the
 *   database, for the table the route names), answers 404 — and B's rows are unchanged afterwards;
 * - every admin list answers without a single id or marker of org B;
 * - cross-org references inside bodies (recipients in campaigns, reassignment, simulation) are refused.
 *
 * The routes are read from the route table itself, so a new endpoint is covered the day it is added;
 * if its resource cannot be found for org B, this test fails and says which fixture to add.
 */
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import pg from 'pg';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listConnections } from '../../functions/adapters/dynamo/connections.js';
import { openApiDocument } from '../../functions/api/openapi.js';
import type { Route } from '../../functions/api/router.js';
import { apiRoutes } from '../../functions/api/routes/index.js';
import { client, startTestStack, uniquePhone, type TestStack } from '../support/stack.js';

const ROOT_TOKEN = 'lr_root_isolation-test-operator-token';

let stack: TestStack;
let root: ReturnType<typeof client>;
let db: pg.Client;

interface Org {
  orgId: string;
  adminToken: string;
  webhookSecret: string;
  api: ReturnType<typeof client>;
  marker: string;
  recipientId: string;
  leadId: string;
}
let A: Org;
let B: Org;

async function createOrg(name: string): Promise<Org> {
  const res = await root.post('/api/orgs', { name });
  expect(res.status).toBe(201);
  const api = client({
    url: stack.url,
    adminToken: res.body.adminToken,
    webhookSecret: res.body.webhookSecret,
  });
  const marker = `${name}-only-${Math.random().toString(36).slice(2, 8)}`;
  const recipient = await api.createRecipient({ name: marker, email: `${marker}@example.com`, quota: 50 });
  await api.createCampaign({ key: marker, poolRecipientIds: [recipient.id] });
  const lead = await api.postLead({ phone: uniquePhone(), campaign: marker, firstName: marker });
  expect(lead.status).toBe(202);
  return { ...res.body, api, marker, recipientId: recipient.id, leadId: lead.body.leadId };
}

/** Every org-owned table and its rows of one org, as JSON (published_at moves on its own). */
async function orgTables(): Promise<string[]> {
  const out = await db.query(
    `SELECT DISTINCT c.table_name FROM information_schema.columns c
     JOIN information_schema.tables t ON t.table_name = c.table_name AND t.table_schema = c.table_schema
     WHERE c.table_schema = 'public' AND c.column_name = 'org_id' AND t.table_type = 'BASE TABLE'
     ORDER BY 1`,
  );
  return out.rows.map((r) => r.table_name as string);
}

async function snapshot(orgId: string): Promise<Record<string, unknown[]>> {
  const result: Record<string, unknown[]> = {};
  for (const table of await orgTables()) {
    const rows = await db.query(
      `SELECT (to_jsonb(t) - 'published_at') AS row FROM ${db.escapeIdentifier(table)} t
       WHERE org_id = $1 ORDER BY 1`,
      [orgId],
    );
    result[table] = rows.rows.map((r) => r.row);
  }
  return result;
}

/** Every uuid-valued id of an org's rows, in every org-owned table. */
async function idsOf(orgId: string): Promise<string[]> {
  const ids = new Set<string>([orgId]);
  for (const table of await orgTables()) {
    const cols = await db.query(
      `SELECT column_name FROM information_schema.columns
       WHERE table_schema = 'public' AND table_name = $1 AND data_type = 'uuid' AND column_name <> 'org_id'`,
      [table],
    );
    for (const { column_name: col } of cols.rows) {
      const rows = await db.query(
        `SELECT DISTINCT ${db.escapeIdentifier(col)}::text AS v FROM ${db.escapeIdentifier(table)}
         WHERE org_id = $1 AND ${db.escapeIdentifier(col)} IS NOT NULL`,
        [orgId],
      );
      for (const r of rows.rows) ids.add(r.v as string);
    }
  }
  return [...ids];
}

/** The table a parameterised route names: `/api/orders/{id}` → orders, `/api/automation/rules/{id}` → automation_rules. */
async function tableFor(path: string, param: string): Promise<string | undefined> {
  // Where the path does not name the table: a CSV upload's run is an import run.
  const aliases: Record<string, string> = { '/api/leads/import/{runId}': 'import_runs' };
  if (aliases[path]) return aliases[path];
  const segments = path.split('/');
  const at = segments.indexOf(`{${param}}`);
  const seg = segments[at - 1]!.replace(/-/g, '_');
  const candidates = [seg, `${segments[at - 2]}_${seg}`];
  const tables = await orgTables();
  return candidates.find((c) => tables.includes(c));
}

const doc = openApiDocument(apiRoutes) as unknown as {
  paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: unknown }> } }>>;
  components?: { schemas?: Record<string, { example?: unknown }> };
};

/** A body that passes the route's validation, so the request reaches the org lookup. */
function validBody(r: Route, org: Org): unknown {
  const known: Record<string, unknown> = {
    'PATCH /api/leads/{id}/status': { status: 'contacted' },
    'POST /api/leads/{id}/reassign': { recipientIds: [org.recipientId] },
    'POST /api/campaigns/{key}/simulate': { leads: [{ state: 'CA' }] },
    'PATCH /api/recipients/{id}': { name: 'taken over' },
    'PATCH /api/campaigns/{key}': { name: 'taken over' },
    'PATCH /api/sources/{id}': { name: 'taken over', fieldMap: { x: 'phone' } },
    'POST /api/sources/{id}/rotate': { overlapSeconds: 0 },
    // Nothing listens on port 9 of the loopback: a run of it fails at once, without leaving the machine.
    'POST /api/imports': {
      name: `${org.marker}-import`,
      kind: 'csv_url',
      url: 'http://127.0.0.1:9/leads.csv',
      campaign: org.marker,
      schedule: null,
    },
  };
  const key = `${r.method} ${r.path}`;
  if (key in known) return known[key];
  if (!r.body) return undefined;
  const schema = doc.paths[r.path]?.[r.method.toLowerCase()]?.requestBody?.content['application/json']
    ?.schema as { $ref?: string; example?: unknown } | undefined;
  const ref = schema?.$ref?.split('/').pop();
  return (ref ? doc.components?.schemas?.[ref]?.example : schema?.example) ?? {};
}

beforeAll(async () => {
  stack = await startTestStack('isolation', { rootToken: ROOT_TOKEN });
  root = client({ url: stack.url, adminToken: ROOT_TOKEN, webhookSecret: '' });
  db = new pg.Client({ connectionString: stack.databaseUrl });
  await db.connect();
  A = await createOrg('orga');
  B = await createOrg('orgb');
  // Give each org one of everything a parameterised route names, from the route's own OpenAPI example.
  for (const org of [A, B]) {
    const source = await org.api.post('/api/sources', { name: `${org.marker}-source` });
    expect(source.status).toBe(201);
    for (const r of apiRoutes) {
      const param = /\{(\w+)\}/.exec(r.path)?.[1];
      if (r.auth !== 'admin' || !param) continue;
      const table = await tableFor(r.path, param);
      if (!table) continue;
      const count = await db.query(
        `SELECT count(*)::int AS n FROM ${db.escapeIdentifier(table)} WHERE org_id = $1`,
        [org.orgId],
      );
      if (count.rows[0].n > 0) continue;
      const collection = r.path.slice(0, r.path.indexOf(`/{${param}}`));
      const create = apiRoutes.find((c) => c.method === 'POST' && c.path === collection);
      if (create) await org.api.post(collection, validBody(create, org));
    }
    // An import run, for the routes that read runs by id.
    const runImport = apiRoutes.find((r) => r.method === 'POST' && r.path === '/api/imports/{id}/run');
    const anImport = await db
      .query(`SELECT id FROM imports WHERE org_id = $1 LIMIT 1`, [org.orgId])
      .catch(() => null);
    if (runImport && anImport?.rows[0]) await org.api.post(`/api/imports/${anImport.rows[0].id}/run`, {});
  }
  await stack.idle();
});
afterAll(async () => {
  await db?.end();
  await stack?.close();
});

describe('organizations', () => {
  it('POST /api/orgs needs the root token: an admin token, a wrong token or an unset ROOT_TOKEN is 401', async () => {
    expect((await A.api.post('/api/orgs', { name: 'sneaky' })).status).toBe(401);
    const wrong = client({ url: stack.url, adminToken: 'lr_root_wrong', webhookSecret: '' });
    expect((await wrong.post('/api/orgs', { name: 'sneaky' })).status).toBe(401);
    expect((await root.post('/api/orgs', { name: '' })).status).toBe(400);
    const saved = process.env.ROOT_TOKEN;
    delete process.env.ROOT_TOKEN;
    try {
      expect((await root.post('/api/orgs', { name: 'disabled' })).status).toBe(401);
    } finally {
      process.env.ROOT_TOKEN = saved;
    }
  });
});

describe('isolation through every admin endpoint', () => {
  it("every parameterised admin route answers 404 to org A for each of org B's ids, and B is unchanged", async () => {
    const before = await snapshot(B.orgId);
    const tried: string[] = [];
    const uncovered: string[] = [];
    for (const r of apiRoutes) {
      if (r.auth !== 'admin') continue;
      const params = [...r.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!);
      if (params.length === 0) continue;
      const param = params[0]!;
      const table = await tableFor(r.path, param);
      if (!table) {
        // Not an org resource (e.g. `/api/jobs/{name}/run` names a job kind).
        if (!r.uuidParams?.includes(param) && param !== 'key' && param !== 'id') continue;
        uncovered.push(`${r.method} ${r.path}: no table for {${param}}`);
        continue;
      }
      const column = param === 'key' ? 'key' : 'id';
      // Keys are per org (both have a `default` campaign): only B's keys that A does not also have.
      const ids = (
        await db.query(
          `SELECT ${db.escapeIdentifier(column)}::text AS v FROM ${db.escapeIdentifier(table)} b
           WHERE org_id = $1 AND NOT EXISTS (
             SELECT 1 FROM ${db.escapeIdentifier(table)} a WHERE a.org_id = $2
               AND a.${db.escapeIdentifier(column)} = b.${db.escapeIdentifier(column)})`,
          [B.orgId, A.orgId],
        )
      ).rows.map((row) => row.v as string);
      if (ids.length === 0) {
        uncovered.push(
          `${r.method} ${r.path}: org B has no ${table} row; give the create route an OpenAPI example`,
        );
        continue;
      }
      for (const id of ids) {
        const path = r.path.replace(`{${param}}`, encodeURIComponent(id));
        const res = await A.api.call(r.method, path, validBody(r, A));
        tried.push(`${r.method} ${path} → ${res.status}`);
        expect(res.status, `${r.method} ${path}: ${res.text}`).toBe(404);
        expect(res.text).not.toContain(B.marker);
      }
    }
    expect(uncovered).toEqual([]);
    expect(tried.length).toBeGreaterThanOrEqual(10);
    console.log(
      `isolation: ${tried.length} requests with org B's ids through ${
        new Set(
          tried.map((t) =>
            t
              .split(' ')
              .slice(0, 2)
              .join(' ')
              .replace(/[0-9a-f-]{36}/g, ':id'),
          ),
        ).size
      } routes, all 404`,
    );
    await stack.idle();
    expect(await snapshot(B.orgId)).toEqual(before);
  });

  it("every admin list and read without parameters shows none of org B's ids or markers", async () => {
    const bIds = await idsOf(B.orgId);
    expect(bIds.length).toBeGreaterThan(5);
    let lists = 0;
    for (const r of apiRoutes) {
      if (r.auth !== 'admin' || r.method !== 'GET' || r.path.includes('{')) continue;
      for (const suffix of ['', '?limit=500', '?after=0&limit=1000']) {
        const res = await A.api.get(r.path + suffix);
        expect(res.status, `${r.path}${suffix}`).toBeLessThan(500);
        for (const id of bIds) expect(res.text, `${r.path}${suffix} shows B's ${id}`).not.toContain(id);
        expect(res.text).not.toContain(B.marker);
        lists++;
      }
    }
    expect(lists).toBeGreaterThanOrEqual(15);
    // And the other way round: B's own lists do show B's rows (the check above is not vacuous).
    expect((await B.api.get('/api/leads')).text).toContain(B.leadId);
    expect((await B.api.get('/api/recipients')).text).toContain(B.marker);
  });

  it("references to org B's rows inside org A's bodies are refused or ignored", async () => {
    const campaign = await A.api.post('/api/campaigns', { key: 'steal', poolRecipientIds: [B.recipientId] });
    expect(campaign.status).toBe(400);
    expect(campaign.body.issues[0].field).toBe('poolRecipientIds.0');
    const reassign = await A.api.post(`/api/leads/${A.leadId}/reassign`, { recipientIds: [B.recipientId] });
    expect(reassign.status).toBe(400);
    const simulated = await A.api.post(`/api/campaigns/${A.marker}/simulate`, {
      leads: [{ state: 'CA' }],
      overrides: { staticRecipientIds: [B.recipientId], poolRecipientIds: [B.recipientId] },
    });
    expect(simulated.status).toBe(200);
    // B's recipient is treated as unknown: only the id A sent comes back, none of B's data.
    expect(simulated.text).not.toContain(B.marker);
    for (const entry of simulated.body.results[0].trace.filter(
      (t: { recipientId: string }) => t.recipientId === B.recipientId,
    ))
      expect(entry).toMatchObject({ name: B.recipientId, reason: 'inactive', selected: false });
    expect(simulated.body.results[0].assignments).toEqual([]);
    const list = await A.api.get(`/api/assignments?recipientId=${B.recipientId}`);
    expect(list.body.items).toEqual([]);
    const leads = await A.api.get(`/api/leads?recipientId=${B.recipientId}&campaign=${B.marker}`);
    expect(leads.body.items).toEqual([]);
  });
});

describe('isolation of the webhooks', () => {
  it("org B's webhook secret writes into org B only, even naming org A's campaign", async () => {
    const res = await B.api.postLead({ phone: uniquePhone(), campaign: A.marker });
    expect(res.status).toBe(202);
    await stack.idle();
    const row = await db.query(`SELECT org_id, status, reason FROM leads WHERE id = $1`, [res.body.leadId]);
    expect(row.rows[0]).toEqual({ org_id: B.orgId, status: 'unassigned', reason: 'unknown_campaign' });
    expect((await A.api.get(`/api/leads/${res.body.leadId}`)).status).toBe(404);
  });

  it('a phone seen in org A is not a duplicate in org B (duplicate windows are per org)', async () => {
    const phone = uniquePhone();
    expect((await A.api.postLead({ phone })).status).toBe(202);
    const inB = await B.api.postLead({ phone });
    expect(inB.status).toBe(202);
    expect(inB.body.duplicate).toBe(false);
    await stack.idle();
  });

  it("org B's quota reset resets org B's recipients only", async () => {
    const before = await db.query(`SELECT quota_epoch FROM recipients WHERE id = $1`, [A.recipientId]);
    const res = await B.api.call(
      'POST',
      '/webhooks/quota-reset',
      { eventId: 'iso-1' },
      {
        'x-webhook-secret': B.webhookSecret,
      },
    );
    expect(res.status).toBe(200);
    const after = await db.query(`SELECT quota_epoch FROM recipients WHERE id = $1`, [A.recipientId]);
    expect(after.rows[0]).toEqual(before.rows[0]);
    const b = await db.query(`SELECT quota_epoch FROM recipients WHERE id = $1`, [B.recipientId]);
    expect(b.rows[0].quota_epoch).toBeGreaterThan(0);
  });
});

describe('isolation of the dead-letter queue', () => {
  it("org A lists and replays its own dead-lettered messages only; org B's stay in place", async () => {
    const sqs = new SQSClient({
      endpoint: process.env.SQS_ENDPOINT,
      region: 'us-east-1',
      credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    });
    const message = (org: Org) => ({
      type: 'lead',
      orgId: org.orgId,
      sourceId: null,
      leadId: crypto.randomUUID(),
      receivedAt: new Date().toISOString(),
      lead: {
        phone: uniquePhone(),
        email: null,
        firstName: null,
        lastName: null,
        state: null,
        zip: null,
        campaign: org.marker,
        externalId: null,
        attributes: {},
      },
    });
    const mA = message(A);
    const mB = message(B);
    for (const m of [mA, mB])
      await sqs.send(
        new SendMessageCommand({
          QueueUrl: stack.dlqUrl,
          MessageBody: JSON.stringify(m),
          MessageGroupId: `${m.orgId}:iso`,
          MessageDeduplicationId: m.leadId,
        }),
      );
    sqs.destroy();

    const listA = await A.api.get('/api/dlq');
    expect(listA.body.items.map((i: { leadId: string }) => i.leadId)).toEqual([mA.leadId]);
    const listB = await B.api.get('/api/dlq');
    expect(listB.body.items.map((i: { leadId: string }) => i.leadId)).toEqual([mB.leadId]);

    const replayed = await A.api.post('/api/dlq/replay', {});
    expect(replayed.status).toBe(200);
    expect(replayed.body.replayed).toBe(1);
    await stack.idle();
    expect((await A.api.get(`/api/leads/${mA.leadId}`)).body.status).toBe('assigned');
    // B's message is still there, untouched, and B can replay it.
    expect((await B.api.get('/api/dlq')).body.items.map((i: { leadId: string }) => i.leadId)).toEqual([
      mB.leadId,
    ]);
    expect((await B.api.post('/api/dlq/replay', {})).body.replayed).toBe(1);
    await stack.idle();
    expect((await B.api.get(`/api/leads/${mB.leadId}`)).body.status).toBe('assigned');
    expect((await A.api.get(`/api/leads/${mB.leadId}`)).status).toBe(404);
  });
});

describe('isolation of the WebSocket', () => {
  function connect(
    token: string,
  ): Promise<{ socket: WebSocket; messages: { type: string; data: unknown }[] }> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(`${stack.wsUrl}?token=${encodeURIComponent(token)}`);
      const messages: { type: string; data: unknown }[] = [];
      socket.on('message', (data) => messages.push(JSON.parse(data.toString())));
      socket.once('open', () => resolve({ socket, messages }));
      socket.once('error', reject);
      socket.once('unexpected-response', (_req, res) => reject(new Error(`refused ${res.statusCode}`)));
    });
  }
  async function until(condition: () => boolean | Promise<boolean>, what: string): Promise<void> {
    const deadline = Date.now() + 15_000;
    while (!(await condition())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  const mentions = (messages: { data: unknown }[], id: string) =>
    messages.some((m) => JSON.stringify(m.data).includes(id));

  it("a connection of org A never receives org B's events; a bad token is refused", async () => {
    await expect(connect('lr_admin_not-a-token')).rejects.toThrow(/refused|401|Unexpected/);
    const a = await connect(A.adminToken);
    const b = await connect(B.adminToken);
    try {
      const leadB = await B.api.postLead({ phone: uniquePhone(), campaign: B.marker, firstName: B.marker });
      const leadA = await A.api.postLead({ phone: uniquePhone(), campaign: A.marker });
      await until(() => mentions(b.messages, leadB.body.leadId), "B's event on B's socket");
      await until(() => mentions(a.messages, leadA.body.leadId), "A's event on A's socket");
      // One more of A's after B's were delivered: anything of B's pushed to A would be there by now.
      const lastA = await A.api.postLead({ phone: uniquePhone(), campaign: A.marker });
      await until(() => mentions(a.messages, lastA.body.leadId), "A's last event");
      const bIds = await idsOf(B.orgId);
      const seenByA = JSON.stringify(a.messages);
      for (const id of bIds) expect(seenByA).not.toContain(id);
      expect(seenByA).not.toContain(B.marker);
      expect(mentions(b.messages, leadA.body.leadId)).toBe(false);
    } finally {
      // Wait for $disconnect to have run, so nothing is left running when the stack stops.
      await Promise.all([a, b].map(({ socket }) => new Promise((r) => socket.once('close', r).close())));
      const now = new Date();
      await until(
        async () =>
          (await listConnections(A.orgId, now)).length + (await listConnections(B.orgId, now)).length === 0,
        'the disconnects',
      );
    }
  });
});
