/**
 * Property-based fuzzing of the public lead webhook (`POST /webhooks/leads`, JSON and form-encoded)
 * and the quota-reset webhook, through real HTTP against the local runtime: deep nesting, huge
 * strings, unicode, `__proto__` keys, numbers out of range, SQL and HTML in every field.
 *
 * Properties: never a 5xx; every answer is JSON with the security headers; every accepted lead is
 * stored (none lost to the DLQ) and well-formed (E.164 phone, USPS state, ZIP format, valid email, no
 * prototype keys in attributes); injected text is stored verbatim and served back inert (JSON-encoded,
 * `application/json`, `nosniff`).
 */
import fc from 'fast-check';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { US_STATE_CODES } from '../../functions/domain/normalize.js';
import { client, startTestStack, uniquePhone, type TestStack } from '../support/stack.js';
import {
  assertInertJson,
  bmp,
  deepNesting,
  hostileJson,
  hostileObject,
  hostileString,
  PAYLOADS,
} from './hostile.js';

let stack: TestStack;
let api: ReturnType<typeof client>;
let db: pg.Client;
const accepted = new Set<string>();

/** Field spellings the normaliser knows, so hostile values reach every branch of it. */
const FIELDS = [
  'phone',
  'phone_number',
  'mobile',
  'email',
  'firstName',
  'first_name',
  'lastName',
  'name',
  'full_name',
  'state',
  'zip',
  'zip_code',
  'campaign',
  'externalId',
  'external_id',
  'attributes',
  'utm_source',
];

beforeAll(async () => {
  stack = await startTestStack('fuzz_webhook');
  api = client(stack);
  db = new pg.Client({ connectionString: stack.databaseUrl });
  await db.connect();
  await api.createRecipient({ name: 'Fuzz target' });
  // The fuzzer is one client sending hundreds of requests a second: lift its source's rate limit.
  const lifted = await api.patch(`/api/sources/${stack.sourceId}`, {
    rateLimit: { perSecond: 10_000, burst: 20_000 },
  });
  expect(lifted.status).toBe(200);
});
afterAll(async () => {
  await db?.end();
  await stack?.close();
});

function send(body: string, contentType = 'application/json') {
  return api.call('POST', '/webhooks/leads', body, {
    'content-type': contentType,
    'x-webhook-secret': stack.webhookSecret,
  });
}

function record(res: { status: number; body?: { leadId?: string; duplicate?: boolean } }) {
  if (res.status === 202 && res.body?.leadId) accepted.add(res.body.leadId);
}

const E164 = /^\+[1-9]\d{7,14}$/;
const ZIP = /^\d{5}(-\d{4})?$/;

describe('fuzz: POST /webhooks/leads', () => {
  it('hostile JSON bodies: never a 5xx, always inert JSON', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          { weight: 6, arbitrary: hostileObject(FIELDS) },
          // With a valid phone, so the rest of the body is what decides (and leads get stored).
          {
            weight: 6,
            arbitrary: hostileObject(FIELDS.filter((f) => !f.startsWith('phone') && f !== 'mobile')).map(
              (o) => `{"phone":${JSON.stringify(uniquePhone())}${o === '{}' ? '' : ',' + o.slice(1, -1)}}`,
            ),
          },
          { weight: 1, arbitrary: hostileJson(3) },
          { weight: 1, arbitrary: deepNesting },
          { weight: 1, arbitrary: fc.string({ maxLength: 50 }).map(bmp) },
        ),
        async (body) => {
          const res = await send(body);
          assertInertJson(res, `body ${body.slice(0, 200)}`);
          expect([200, 202, 400, 413]).toContain(res.status);
          if (res.status === 400) expect(res.body.issues.length).toBeGreaterThan(0);
          record(res);
        },
      ),
      { numRuns: 250 },
    );
  });

  it('hostile form-encoded bodies: never a 5xx, always inert JSON', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.tuple(
            fc.oneof(fc.constantFrom(...FIELDS, '__proto__', 'constructor'), hostileString()),
            hostileString(),
          ),
          {
            maxLength: 8,
          },
        ),
        fc.boolean(),
        async (pairs, withPhone) => {
          const form = new URLSearchParams(pairs);
          if (withPhone) form.set('phone', uniquePhone());
          const res = await send(form.toString(), 'application/x-www-form-urlencoded');
          assertInertJson(res, `form ${form.toString().slice(0, 200)}`);
          expect([200, 202, 400, 413]).toContain(res.status);
          record(res);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('SQL, HTML and unicode in every text field are stored verbatim and served back inert', async () => {
    let n = 0;
    const text = fc
      .oneof(fc.constantFrom(...PAYLOADS.map(bmp)), hostileString())
      .filter((s) => s.trim().length > 0 && s.trim().length <= 100);
    await fc.assert(
      fc.asyncProperty(text, async (payload) => {
        n += 1;
        const body = {
          phone: uniquePhone(),
          firstName: payload,
          lastName: payload,
          externalId: `${payload}#${n}`,
          notes: payload,
          [payload]: 'key',
        };
        const res = await send(JSON.stringify(body));
        expect(res.status, res.text).toBe(202);
        record(res);
        await stack.idle();
        const read = await api.get(`/api/leads/${res.body.leadId}`);
        assertInertJson(read, 'GET lead');
        expect(read.body).toMatchObject({
          firstName: payload.trim(),
          lastName: payload.trim(),
          externalId: `${payload}#${n}`.trim(),
        });
        expect(read.body.attributes.notes).toBe(payload);
        // And in the list, which the dashboard renders.
        const list = await api.get(`/api/leads?limit=1`);
        assertInertJson(list, 'GET leads');
        expect(list.body.items[0].firstName).toBe(payload.trim());
      }),
      { numRuns: 60 },
    );
  });

  it('no accepted lead is lost and none is stored malformed', async () => {
    await stack.idle();
    expect(accepted.size).toBeGreaterThan(60);
    const rows = await db.query(
      `SELECT id, phone, email, first_name, last_name, state, zip, campaign, external_id, attributes::text AS attributes
       FROM leads WHERE id = ANY($1::uuid[])`,
      [[...accepted]],
    );
    expect(rows.rowCount).toBe(accepted.size);
    for (const l of rows.rows) {
      expect(l.phone).toMatch(E164);
      if (l.email !== null) expect(l.email).toMatch(/^[^\s@]+@[^\s@]+$/);
      if (l.state !== null) expect(US_STATE_CODES).toContain(l.state);
      if (l.zip !== null) expect(l.zip).toMatch(ZIP);
      if (l.campaign !== null) expect(l.campaign).toMatch(/^[A-Za-z0-9_.-]{1,100}$/);
      for (const name of [l.first_name, l.last_name])
        if (name !== null) expect(name.length).toBeLessThanOrEqual(100);
      if (l.external_id !== null) expect(l.external_id.length).toBeLessThanOrEqual(200);
      for (const key of ['"__proto__"', '"constructor"', '"prototype"'])
        expect(l.attributes).not.toContain(`${key}:`);
      expect(typeof JSON.parse(l.attributes)).toBe('object');
    }
    const stats = await api.get('/api/stats');
    expect(stats.body.queue.dlq).toBe(0);
  });
});

describe('fuzz: POST /webhooks/quota-reset', () => {
  it('hostile bodies: never a 5xx, always inert JSON', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(hostileObject(['eventId']), hostileJson(2), deepNesting), async (body) => {
        const res = await api.call('POST', '/webhooks/quota-reset', body, {
          'content-type': 'application/json',
          'x-webhook-secret': stack.webhookSecret,
        });
        assertInertJson(res, `quota-reset ${body.slice(0, 200)}`);
        expect([200, 400, 413]).toContain(res.status);
      }),
      { numRuns: 100 },
    );
  });
});

// Runs last: the lost message keeps being redelivered, which would hold up `idle()` in other tests.
describe('faults this fuzzer found (fixed)', () => {
  it('a NUL or an unpaired surrogate in a text field is a 400 naming the field (never a 202 for a lead that cannot be stored)', async () => {
    const res = await send(JSON.stringify({ phone: uniquePhone(), firstName: 'a\u0000b', notes: 'x\ud800' }));
    expect(res.status).toBe(400);
  });
  it('a lead with an emoji is accepted (queue bodies are ASCII-escaped JSON, which every SQS implementation takes)', async () => {
    const res = await send(JSON.stringify({ phone: uniquePhone(), firstName: 'Ana 🌸' }));
    expect(res.status).toBe(202);
  });
});
