/**
 * Erasure requests (`DELETE /api/leads/:id`) against the real stores: the person's data is gone from
 * the lead, its events and the DynamoDB phone/externalId claims; the business record (status, state,
 * assignments, counters) stays; a `lead.erased` event is written; erasing twice answers the same.
 */
import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { createHash } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { documentClient } from '../../functions/clients.js';
import { phoneKey } from '../../functions/adapters/dynamo/keys.js';
import { keepOnlyIds } from '../../functions/usecases/eraseLead.js';
import { client, startTestStack, uniquePhone, type TestStack } from '../support/stack.js';

let stack: TestStack;
let api: ReturnType<typeof client>;
let db: pg.Client;

beforeAll(async () => {
  stack = await startTestStack('privacy');
  api = client(stack);
  db = new pg.Client({ connectionString: stack.databaseUrl });
  await db.connect();
});
afterAll(async () => {
  await db?.end();
  await stack?.close();
});

async function dynamoKeys(): Promise<string[]> {
  const dynamo = new DynamoDBClient({
    endpoint: process.env.DYNAMODB_ENDPOINT,
    region: 'us-east-1',
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
  });
  try {
    const out = await dynamo.send(new ScanCommand({ TableName: 'leadrouter-keys' }));
    return (out.Items ?? []).map((i) => i.pk!.S!);
  } finally {
    dynamo.destroy();
  }
}

describe('DELETE /api/leads/:id', () => {
  it("erases the person's data from the lead, its events and the claims; status and assignments stay", async () => {
    const r = await api.createRecipient({ name: 'Keeper', dailyCap: 10 });
    await api.createCampaign({ key: 'erase', poolRecipientIds: [r.id] });
    const phone = uniquePhone();
    const posted = await api.postLead({
      phone,
      email: 'grace.hopper@example.com',
      first_name: 'Grace',
      last_name: 'Hopper',
      state: 'VA',
      zip: '22201',
      external_id: 'crm-4711',
      campaign: 'erase',
      favourite_language: 'COBOL',
    });
    expect(posted.status).toBe(202);
    await stack.idle();
    // A duplicate adds an event to the lead's history too.
    expect((await api.postLead({ phone, campaign: 'erase' })).body.duplicate).toBe(true);
    await stack.idle();
    const id = posted.body.leadId as string;
    const sha = (s: string) => createHash('sha256').update(s).digest('hex');
    expect((await dynamoKeys()).some((k) => k.includes(sha(phone)))).toBe(true);

    const erased = await api.call('DELETE', `/api/leads/${id}`);
    expect(erased.status).toBe(200);
    expect(erased.body).toMatchObject({ id, status: 'assigned', erased: true });

    const lead = await api.lead(id);
    expect(lead).toMatchObject({
      status: 'assigned',
      state: 'VA',
      campaign: 'erase',
      phone: null,
      email: null,
      firstName: null,
      lastName: null,
      zip: null,
      externalId: null,
      attributes: {},
    });
    expect(lead.assignments).toHaveLength(1);
    expect(lead.assignments[0].recipientId).toBe(r.id);
    expect((await api.get(`/api/recipients/${r.id}`)).body.assignedToday).toBe(1);

    // Events keep only ids (and codes): nothing of the person anywhere in the stored history.
    const rows = await db.query(
      `SELECT type, data::text AS data FROM events WHERE lead_id = $1 ORDER BY id`,
      [id],
    );
    const history = rows.rows.map((e) => e.data).join('\n');
    for (const personal of [
      phone,
      phone.slice(2),
      'grace',
      'Grace',
      'Hopper',
      '22201',
      'crm-4711',
      'COBOL',
      'VA',
    ])
      expect(history).not.toContain(personal);
    expect(rows.rows.map((e) => e.type)).toEqual(
      expect.arrayContaining(['lead.received', 'lead.assigned', 'lead.duplicate', 'lead.erased']),
    );
    const assignedEvent = rows.rows.find((e) => e.type === 'lead.assigned')!;
    expect(assignedEvent.data).toContain(id);
    expect(assignedEvent.data).toContain(r.id);
    const leadRow = await db.query(`SELECT row_to_json(l)::text AS j FROM leads l WHERE id = $1`, [id]);
    for (const personal of [phone, 'Grace', 'Hopper', 'grace.hopper', '22201', 'crm-4711', 'COBOL'])
      expect(leadRow.rows[0].j).not.toContain(personal);
    const log = await db.query(`SELECT events_scrubbed FROM lead_erasures WHERE lead_id = $1`, [id]);
    expect(log.rows[0].events_scrubbed).toBeGreaterThanOrEqual(3);

    // The phone and externalId claims are gone: the same person arriving again is a new lead.
    expect((await dynamoKeys()).some((k) => k.includes(sha(phone)) || k.includes(sha('crm-4711')))).toBe(
      false,
    );
    const again = await api.postLead({ phone, external_id: 'crm-4711', campaign: 'erase' });
    expect(again.status).toBe(202);
    expect(again.body.leadId).not.toBe(id);
    await stack.idle();
  });

  it('is idempotent and answers 404 for unknown ids', async () => {
    const posted = await api.postLead({ phone: uniquePhone(), first_name: 'Twice' });
    await stack.idle();
    const first = await api.call('DELETE', `/api/leads/${posted.body.leadId}`);
    const second = await api.call('DELETE', `/api/leads/${posted.body.leadId}`);
    expect(second.status).toBe(200);
    expect(second.body).toEqual(first.body);
    const erasedEvents = await db.query(
      `SELECT count(*)::int AS n FROM events WHERE lead_id = $1 AND type = 'lead.erased'`,
      [posted.body.leadId],
    );
    expect(erasedEvents.rows[0].n).toBe(1);
    expect((await api.call('DELETE', '/api/leads/00000000-0000-4000-8000-00000000dead')).status).toBe(404);
    expect((await api.call('DELETE', '/api/leads/nope')).status).toBe(404);
  });

  it('a claim that moved on to a newer lead of the same phone is left alone', async () => {
    const phone = uniquePhone();
    const posted = await api.postLead({ phone });
    await stack.idle();
    // The window ran out and a later lead of the same person holds the claim now.
    const pk = phoneKey(stack.orgId, phone);
    await documentClient().send(
      new PutCommand({ TableName: 'leadrouter-keys', Item: { pk, leadId: 'a-later-lead', state: 'queued' } }),
    );
    expect((await api.call('DELETE', `/api/leads/${posted.body.leadId}`)).status).toBe(200);
    const claim = await documentClient().send(new GetCommand({ TableName: 'leadrouter-keys', Key: { pk } }));
    expect(claim.Item?.leadId).toBe('a-later-lead');
  });

  it('keepOnlyIds keeps ids and codes at any depth and drops everything else', () => {
    expect(
      keepOnlyIds({
        lead: { id: 'L', status: 'assigned', reason: null, firstName: 'Ada', state: 'CA', receivedAt: 'x' },
        assignments: [{ recipientId: 'R', name: 'Rita', reason: 'round_robin' }],
        endedRecipientIds: ['R0'],
        trace: [{ recipientId: 'R', name: 'Rita', tier: 'pool', reason: 'capped', selected: false }],
        tags: ['vip', 'ada@example.com'],
        note: 'call +14155552671',
      }),
    ).toEqual({
      lead: { id: 'L', status: 'assigned', reason: null },
      assignments: [{ recipientId: 'R', reason: 'round_robin' }],
      endedRecipientIds: ['R0'],
      trace: [{ recipientId: 'R', tier: 'pool', reason: 'capped', selected: false }],
    });
  });
});
