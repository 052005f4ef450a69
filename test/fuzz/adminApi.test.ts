/**
 * Property-based fuzzing of every admin API body, query and path parameter (the route table is read
 * at run time, so a new route is fuzzed the day it is added): hostile objects with the route's own
 * field names, hostile JSON of any shape, deep nesting, `__proto__` keys, numbers out of range, SQL,
 * HTML and unicode, against the local runtime over HTTP.
 *
 * Properties: never a 5xx; every answer is JSON with the security headers; a success answers with
 * what the route's response schema (its OpenAPI document) promises, so nothing malformed was stored.
 */
import fc from 'fast-check';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { Route } from '../../functions/api/router.js';
import { apiRoutes } from '../../functions/api/routes/index.js';
import { client, startTestStack, uniquePhone, type TestStack } from '../support/stack.js';
import { assertInertJson, deepNesting, hostileJson, hostileObject, hostileString } from './hostile.js';

const ROOT_TOKEN = 'lr_root_fuzz-operator-token';
let stack: TestStack;
let api: ReturnType<typeof client>;
let root: ReturnType<typeof client>;
let db: pg.Client;
const realIds: Record<string, string> = {};

beforeAll(async () => {
  stack = await startTestStack('fuzz_admin', { rootToken: ROOT_TOKEN });
  api = client(stack);
  root = client({ url: stack.url, adminToken: ROOT_TOKEN, webhookSecret: '' });
  db = new pg.Client({ connectionString: stack.databaseUrl });
  await db.connect();
  const r = await api.createRecipient({ name: 'Fuzzed' });
  await api.createCampaign({ key: 'fuzzed', poolRecipientIds: [r.id] });
  const lead = await api.postLead({ phone: uniquePhone(), campaign: 'fuzzed' });
  await stack.idle();
  Object.assign(realIds, {
    recipients: r.id,
    leads: lead.body.leadId,
    campaigns: 'fuzzed',
    sources: stack.sourceId,
  });
});
afterAll(async () => {
  await db?.end();
  await stack?.close();
});

const fieldsOf = (schema: unknown): string[] =>
  schema instanceof z.ZodObject ? Object.keys(schema.shape) : [];

/** A real id of this org for the route's resource (so the handler runs), else any uuid. */
async function realParam(path: string, param: string): Promise<string> {
  const segments = path.split('/');
  const seg = segments[segments.indexOf(`{${param}}`) - 1]!;
  if (realIds[seg]) return realIds[seg]!;
  for (const table of [seg.replace(/-/g, '_'), `${segments[segments.indexOf(seg) - 1]}_${seg}`]) {
    const rows = await db
      .query(`SELECT id::text AS id FROM ${db.escapeIdentifier(table)} WHERE org_id = $1 LIMIT 1`, [
        stack.orgId,
      ])
      .catch(() => ({ rows: [] as { id: string }[] }));
    if (rows.rows[0]) return rows.rows[0].id;
  }
  return crypto.randomUUID();
}

function request(r: Route) {
  const params = [...r.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!);
  const body = r.body
    ? fc.oneof(
        { weight: 5, arbitrary: hostileObject(fieldsOf(r.body)) },
        { weight: 1, arbitrary: hostileJson(3) },
        { weight: 1, arbitrary: deepNesting },
      )
    : fc.constant(undefined);
  const query = fc.array(
    fc.tuple(fc.oneof(fc.constantFrom(...fieldsOf(r.query), '__proto__'), hostileString()), hostileString()),
    { maxLength: fieldsOf(r.query).length + 1 },
  );
  // null = a real id; never empty (`/api/leads/` is the list route, not a lead).
  const param = fc.option(
    hostileString().filter((p) => p.length > 0),
    { freq: 2 },
  );
  return fc.record({
    body,
    query,
    params: fc.array(param, { minLength: params.length, maxLength: params.length }),
  });
}

const fuzzed = apiRoutes.filter(
  (r) => (r.auth === 'admin' || r.auth === 'root') && (r.body || r.query || r.path.includes('{')),
);

describe('fuzz: admin API', () => {
  it('covers every route with a body, a query or a path parameter', () => {
    expect(fuzzed.length).toBeGreaterThanOrEqual(15);
  });

  for (const r of fuzzed) {
    it(`${r.method} ${r.path}: never a 5xx, always inert JSON, successes match the response schema`, async () => {
      const names = [...r.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!);
      await fc.assert(
        fc.asyncProperty(request(r), async ({ body, query, params }) => {
          let path = r.path;
          for (const [i, name] of names.entries())
            path = path.replace(
              `{${name}}`,
              encodeURIComponent(params[i] ?? (await realParam(r.path, name))),
            );
          const search = new URLSearchParams(query).toString();
          const caller = r.auth === 'root' ? root : api;
          const res = await caller.call(r.method, search ? `${path}?${search}` : path, body);
          const what = `${r.method} ${path}?${search.slice(0, 200)} ${String(body).slice(0, 300)}`;
          assertInertJson(res, what);
          const declared = r.responses[res.status]?.schema;
          if (res.status < 300 && declared) {
            const parsed = declared.safeParse(res.body);
            if (!parsed.success)
              throw new Error(`${what}: ${res.status} does not match its schema: ${parsed.error.message}`);
          }
        }),
        { numRuns: 30 },
      );
    }, 60_000);
  }

  it('prototype names and traversal in paths are 4xx', async () => {
    for (const path of [
      '/api/campaigns/__proto__',
      '/api/campaigns/constructor',
      '/api/leads/prototype',
      '/api/campaigns/..%2F..%2Fhealth',
    ]) {
      const res = await api.get(path);
      assertInertJson(res, path);
      expect(res.status).toBeGreaterThanOrEqual(400);
    }
  });
});

describe('faults this fuzzer found (fixed)', () => {
  it('a malformed percent-encoding in a path parameter is a 404', async () => {
    for (const path of ['/api/recipients/%E0%A4%A', '/api/campaigns/%'])
      expect((await api.get(path)).status).toBe(404);
  });
  it('a NUL character in a text field or query is a 400 naming the field', async () => {
    const created = await api.post('/api/recipients', { name: 'a\u0000b' });
    const listed = await api.get('/api/leads?campaign=%00');
    expect([created.status, listed.status]).toEqual([400, 400]);
  });
});
