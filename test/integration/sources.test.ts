/**
 * Sources over HTTP against the real stores: a new source's secret is shown once and works at once,
 * secrets are stored only as hashes (PostgreSQL and DynamoDB), rotation keeps the old secret working
 * through its overlap window and not a second longer (injected clock), and edits reach the ingest path.
 */
import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { createHash } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock, setClock, systemClock } from '../../functions/clock.js';
import { client, startTestStack, uniquePhone, type TestStack } from '../support/stack.js';

let stack: TestStack;
let api: ReturnType<typeof client>;
let db: pg.Client;
let clock: ManualClock;

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

beforeAll(async () => {
  stack = await startTestStack('sources');
  api = client(stack);
  db = new pg.Client({ connectionString: stack.databaseUrl });
  await db.connect();
  clock = new ManualClock('2026-03-02T15:00:00Z');
  setClock(clock);
});
afterAll(async () => {
  setClock(systemClock);
  await db?.end();
  await stack?.close();
});

const postWith = (secret: string, lead: Record<string, unknown>) =>
  api.call('POST', '/webhooks/leads', lead, { 'x-webhook-secret': secret });

async function dynamoItems(): Promise<string> {
  const dynamo = new DynamoDBClient({
    endpoint: process.env.DYNAMODB_ENDPOINT,
    region: 'us-east-1',
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
  });
  try {
    const items: unknown[] = [];
    let start: Record<string, never> | undefined;
    do {
      const out = await dynamo.send(
        new ScanCommand({ TableName: 'leadrouter-keys', ExclusiveStartKey: start }),
      );
      items.push(...(out.Items ?? []));
      start = out.LastEvaluatedKey as typeof start;
    } while (start);
    return JSON.stringify(items);
  } finally {
    dynamo.destroy();
  }
}

describe('sources', () => {
  it('creates a source whose secret is shown once, works at once, and is stored only as a hash', async () => {
    const created = await api.post('/api/sources', { name: 'Zapier form' });
    expect(created.status).toBe(201);
    expect(created.body.secret).toMatch(/^lr_whsec_/);
    expect(created.body).toMatchObject({
      name: 'Zapier form',
      kind: 'webhook',
      rateLimit: { perSecond: 100, burst: 200 },
      rateLimitIsDefault: true,
    });

    const list = await api.get('/api/sources');
    expect(list.status).toBe(200);
    expect(list.body.items.map((s: { id: string }) => s.id)).toContain(created.body.id);
    expect(list.text).not.toContain(created.body.secret);
    expect((await api.get(`/api/sources/${created.body.id}`)).text).not.toContain(created.body.secret);

    const res = await postWith(created.body.secret, { phone: uniquePhone() });
    expect(res.status).toBe(202);
    await stack.idle();
    expect((await api.lead(res.body.leadId)).sourceId).toBe(created.body.id);

    // Hashes only: no column of any row holds a secret or token in clear, in PostgreSQL or DynamoDB.
    const secrets = [created.body.secret, stack.webhookSecret, stack.adminToken];
    const tables = await db.query(`SELECT row_to_json(s)::text AS j FROM sources s
                                   UNION ALL SELECT row_to_json(t)::text FROM admin_tokens t`);
    const pgText = tables.rows.map((r) => r.j).join('\n');
    const dynamoText = await dynamoItems();
    for (const secret of secrets) {
      expect(pgText).not.toContain(secret);
      expect(dynamoText).not.toContain(secret);
    }
    expect(pgText).toContain(sha256(created.body.secret));
    expect(pgText).toContain(sha256(stack.adminToken));
    expect(dynamoText).toContain(`secret#${sha256(created.body.secret)}`);
  });

  it('rotation: the old secret works through the overlap window, then answers 401; the new one works', async () => {
    const created = (await api.post('/api/sources', { name: 'Make scenario' })).body;
    const rotated = await api.post(`/api/sources/${created.id}/rotate`, { overlapSeconds: 3600 });
    expect(rotated.status).toBe(200);
    const fresh = rotated.body.secret as string;
    expect(fresh).not.toBe(created.secret);
    expect(rotated.body.previousSecretValidUntil).toBe('2026-03-02T16:00:00.000Z');

    expect((await postWith(created.secret, { phone: uniquePhone() })).status).toBe(202);
    expect((await postWith(fresh, { phone: uniquePhone() })).status).toBe(202);
    clock.advance(3599 * 1000);
    expect((await postWith(created.secret, { phone: uniquePhone() })).status).toBe(202);
    clock.advance(1000);
    expect((await postWith(created.secret, { phone: uniquePhone() })).status).toBe(401);
    expect((await postWith(fresh, { phone: uniquePhone() })).status).toBe(202);

    const row = await db.query(`SELECT secret_hash, previous_secret_hash FROM sources WHERE id = $1`, [
      created.id,
    ]);
    expect(row.rows[0]).toEqual({ secret_hash: sha256(fresh), previous_secret_hash: sha256(created.secret) });
    expect((await api.get(`/api/sources/${created.id}`)).body.previousSecretValidUntil).toBe(
      '2026-03-02T16:00:00.000Z',
    );
  });

  it('rotation defaults to a 24 h overlap; overlap 0 and a second rotation end old secrets at once', async () => {
    const created = (await api.post('/api/sources', { name: 'Sheet webhook' })).body;
    const first = (await api.post(`/api/sources/${created.id}/rotate`, {})).body;
    expect(new Date(first.previousSecretValidUntil).getTime() - clock.now().getTime()).toBe(86_400_000);
    expect((await postWith(created.secret, { phone: uniquePhone() })).status).toBe(202);

    // A second rotation: only one previous secret is honoured, the first one ends now.
    const second = (await api.post(`/api/sources/${created.id}/rotate`, { overlapSeconds: 600 })).body;
    expect((await postWith(created.secret, { phone: uniquePhone() })).status).toBe(401);
    expect((await postWith(first.secret, { phone: uniquePhone() })).status).toBe(202);

    const third = (await api.post(`/api/sources/${created.id}/rotate`, { overlapSeconds: 0 })).body;
    expect(third.previousSecretValidUntil).toBeNull();
    expect((await postWith(second.secret, { phone: uniquePhone() })).status).toBe(401);
    expect((await postWith(first.secret, { phone: uniquePhone() })).status).toBe(401);
    expect((await postWith(third.secret, { phone: uniquePhone() })).status).toBe(202);
  });

  it('PATCH changes name, field map, default campaign and rate limit, and the ingest path follows', async () => {
    const created = (await api.post('/api/sources', { name: 'Old name' })).body;
    await api.post(`/api/sources/${created.id}/rotate`, { overlapSeconds: 600 });
    const r = await api.createRecipient({ name: 'Mapped' });
    await api.createCampaign({ key: 'mapped', poolRecipientIds: [r.id] });
    const patched = await api.patch(`/api/sources/${created.id}`, {
      name: 'New name',
      fieldMap: { 'Cell #': 'phone', 'Where from': 'origin' },
      defaultCampaign: 'mapped',
      rateLimit: { perSecond: 20, burst: 50 },
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({
      name: 'New name',
      fieldMap: { 'Cell #': 'phone', 'Where from': 'origin' },
      defaultCampaign: 'mapped',
      rateLimit: { perSecond: 20, burst: 50 },
      rateLimitIsDefault: false,
    });
    // The rotated-out secret (still in its window) follows the edit too.
    const phone = uniquePhone();
    const res = await postWith(created.secret, { 'Cell #': phone, 'Where from': 'billboard' });
    expect(res.status).toBe(202);
    await stack.idle();
    const lead = await api.lead(res.body.leadId);
    expect(lead).toMatchObject({
      phone,
      campaign: 'mapped',
      status: 'assigned',
      attributes: { origin: 'billboard' },
    });
    expect(await dynamoItems()).toContain('"ratecfg#' + created.id + '"');

    const reset = await api.patch(`/api/sources/${created.id}`, { rateLimit: null });
    expect(reset.body).toMatchObject({ rateLimit: { perSecond: 100, burst: 200 }, rateLimitIsDefault: true });
  });

  it('answers 400 naming the field for bad input, and 404 for unknown ids', async () => {
    const bad = await api.post('/api/sources', {
      name: '',
      fieldMap: { __proto__x: 1 },
      defaultCampaign: 'no spaces allowed',
      rateLimit: { perSecond: 50, burst: 10 },
    });
    expect(bad.status).toBe(400);
    const fields = bad.body.issues.map((i: { field: string }) => i.field);
    expect(fields).toEqual(
      expect.arrayContaining(['name', 'fieldMap.__proto__x', 'defaultCampaign', 'rateLimit.burst']),
    );
    const proto = await api.call('POST', '/api/sources', '{"name":"x","fieldMap":{"__proto__":"phone"}}');
    expect(proto.status).toBe(400);
    expect((await api.post('/api/sources/00000000-0000-4000-8000-00000000dead/rotate', {})).status).toBe(404);
    expect((await api.patch('/api/sources/00000000-0000-4000-8000-00000000dead', { name: 'x' })).status).toBe(
      404,
    );
    expect((await api.get('/api/sources/not-a-uuid')).status).toBe(404);
  });
});
