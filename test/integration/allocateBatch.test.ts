/**
 * The batched allocator (`ALLOCATOR_MODE=batched`, `allocateBatch`): one transaction per SQS batch
 * keeps every invariant of the per-lead path — caps, counters = rows, each lead once, fairness,
 * idempotent redelivery — through the local pipeline and under concurrent batches mixed with
 * per-lead transactions on shared recipients; a failing lead falls back to per-lead transactions.
 */
import type { SQSRecord } from 'aws-lambda';
import pg from 'pg';
import { v7 as uuidv7 } from 'uuid';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { groupIdFor, type LeadMessage } from '../../functions/adapters/sqs/leadQueue.js';
import { ManualClock, setClock, systemClock } from '../../functions/clock.js';
import { allocateBatch, type BatchItem } from '../../functions/usecases/allocateBatch.js';
import { allocateMessage } from '../../functions/usecases/allocateLead.js';
import { client, startTestStack, uniquePhone, type TestStack } from '../support/stack.js';

let stack: TestStack;
let api: ReturnType<typeof client>;
let db: pg.Client;

beforeAll(async () => {
  // Mid-afternoon in every US timezone: no recipient's local day turns over during a test.
  setClock(new ManualClock('2026-03-10T19:00:00Z'));
  process.env.ALLOCATOR_MODE = 'batched';
  stack = await startTestStack('allocate_batch');
  api = client(stack);
  db = new pg.Client({ connectionString: stack.databaseUrl });
  await db.connect();
});
afterAll(async () => {
  setClock(systemClock);
  delete process.env.ALLOCATOR_MODE;
  await db?.end();
  await stack?.close();
});

function leadMessage(campaign: string, fields: Partial<LeadMessage['lead']> = {}): LeadMessage {
  return {
    type: 'lead',
    orgId: stack.orgId,
    sourceId: stack.sourceId,
    leadId: uuidv7(),
    receivedAt: new Date().toISOString(),
    lead: {
      phone: uniquePhone(),
      email: null,
      firstName: null,
      lastName: null,
      state: null,
      zip: null,
      campaign,
      externalId: null,
      attributes: {},
      ...fields,
    },
  };
}

function item(message: LeadMessage, group = groupIdFor(message.orgId, message.lead.phone)): BatchItem {
  return { id: `msg-${message.leadId}`, group, message };
}

function sqsRecord(body: string, group: string): SQSRecord {
  return {
    messageId: uuidv7(),
    receiptHandle: 'r',
    body,
    attributes: {
      ApproximateReceiveCount: '1',
      SentTimestamp: '0',
      SenderId: 'test',
      ApproximateFirstReceiveTimestamp: '0',
      MessageGroupId: group,
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:leadrouter-leads.fifo',
    awsRegion: 'us-east-1',
  };
}

async function countsByRecipient(campaign: string): Promise<Map<string, number>> {
  const rows = await db.query(
    `SELECT a.recipient_id, count(*)::int AS n FROM assignments a JOIN leads l ON l.id = a.lead_id
     WHERE l.campaign = $1 AND a.ended_at IS NULL GROUP BY 1`,
    [campaign],
  );
  return new Map(rows.rows.map((r) => [r.recipient_id as string, r.n as number]));
}

/** Counters equal rows: every day counter equals the counted assignments of that recipient and day. */
async function countersMatchRows(): Promise<boolean> {
  const out = await db.query(`
    SELECT d.assigned,
      (SELECT count(*) FROM assignments a
       WHERE a.recipient_id = d.recipient_id AND a.local_day = d.local_day AND a.counted)::int AS rows
    FROM recipient_day_counts d`);
  return out.rows.every((r) => r.assigned === r.rows);
}

/** Open assignments per lead: each lead holds exactly k recipients (assigned) or none. */
async function openAssignmentsPerLead(leadIds: string[]): Promise<number[]> {
  const out = await db.query(
    `SELECT l.id, count(a.id)::int AS n FROM leads l
     LEFT JOIN assignments a ON a.lead_id = l.id AND a.ended_at IS NULL
     WHERE l.id = ANY($1::uuid[]) GROUP BY l.id`,
    [leadIds],
  );
  return out.rows.map((r) => r.n as number);
}

describe('batched allocation through the local pipeline', () => {
  it('40 parallel webhooks against one recipient with dailyCap 5: exactly 5 assigned, 35 unassigned as capped', async () => {
    const solo = await api.createRecipient({ name: 'Solo', dailyCap: 5 });
    await api.createCampaign({ key: 'cap5', poolRecipientIds: [solo.id] });
    const posted = await Promise.all(
      Array.from({ length: 40 }, () => api.postLead({ phone: uniquePhone(), campaign: 'cap5' })),
    );
    expect(posted.every((r) => r.status === 202)).toBe(true);
    await stack.idle();

    const leads = await Promise.all(posted.map((p) => api.lead(p.body.leadId)));
    expect(leads.filter((l) => l.status === 'assigned')).toHaveLength(5);
    const unassigned = leads.filter((l) => l.status === 'unassigned');
    expect(unassigned).toHaveLength(35);
    for (const l of unassigned)
      expect(l.trace).toContainEqual(
        expect.objectContaining({ recipientId: solo.id, reason: 'capped', selected: false }),
      );
    expect((await api.get(`/api/recipients/${solo.id}`)).body.assignedToday).toBe(5);
    expect(await countersMatchRows()).toBe(true);
  });

  it('the handler commits a whole SQS batch in one transaction', async () => {
    const r = await api.createRecipient({ name: 'One transaction' });
    await api.createCampaign({ key: 'onetx', poolRecipientIds: [r.id] });
    const messages = Array.from({ length: 10 }, () => leadMessage('onetx'));
    const { handler } = await import('../../functions/allocator/handler.js');

    const response = await handler(
      { Records: messages.map((m) => sqsRecord(JSON.stringify(m), groupIdFor(m.orgId, m.lead.phone))) },
      {} as never,
    );

    expect(response).toEqual({ batchItemFailures: [] });
    // Rows written by one transaction carry its transaction id.
    const tx = await db.query(
      `SELECT count(DISTINCT xmin::text)::int AS n FROM leads WHERE id = ANY($1::uuid[])`,
      [messages.map((m) => m.leadId)],
    );
    expect(tx.rows[0].n).toBe(1);
    expect(await openAssignmentsPerLead(messages.map((m) => m.leadId))).toEqual(Array(10).fill(1));
  });

  it('an unreadable record fails with the later records of its group; the rest commit', async () => {
    const r = await api.createRecipient({ name: 'Poison neighbours' });
    await api.createCampaign({ key: 'poison', poolRecipientIds: [r.id] });
    const good = leadMessage('poison');
    const behind = leadMessage('poison');
    const records = [
      sqsRecord('{"type":"lead","orgId":"not-a-uuid"}', 'poisoned-group'),
      sqsRecord(JSON.stringify(behind), 'poisoned-group'),
      sqsRecord(JSON.stringify(good), 'healthy-group'),
    ];
    const { handler } = await import('../../functions/allocator/handler.js');

    const response = await handler({ Records: records }, {} as never);

    expect(response).toEqual({
      batchItemFailures: [
        { itemIdentifier: records[0]!.messageId },
        { itemIdentifier: records[1]!.messageId },
      ],
    });
    expect((await api.lead(good.leadId)).status).toBe('assigned');
    expect((await api.get(`/api/leads/${behind.leadId}`)).status).toBe(404);
  });
});

describe('allocateBatch', () => {
  it('concurrent batches of 10 keep 300 leads over 3 equal recipients within 1 of each other', async () => {
    const team = await Promise.all(['F1', 'F2', 'F3'].map((name) => api.createRecipient({ name })));
    await api.createCampaign({
      key: 'fair3',
      poolRecipientIds: team.map((r) => r.id),
      stateRouting: 'ignore',
    });
    const batches = Array.from({ length: 30 }, () =>
      Array.from({ length: 10 }, () => item(leadMessage('fair3'))),
    );

    const outcomes = [];
    for (let round = 0; round < 5; round++)
      outcomes.push(
        ...(await Promise.all(batches.slice(round * 6, round * 6 + 6).map((b) => allocateBatch(b)))),
      );

    expect(outcomes.every((o) => o.path === 'batched' && o.failedIds.length === 0)).toBe(true);
    const counts = [...(await countsByRecipient('fair3')).values()];
    expect(counts).toHaveLength(3);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(300);
    expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
    expect(await countersMatchRows()).toBe(true);
  });

  it('k = 3 over 7 recipients in batches: 3 distinct recipients per lead, counts within 1', async () => {
    const team = await Promise.all(
      Array.from({ length: 7 }, (_, i) => api.createRecipient({ name: `K${i}`, states: ['TX'] })),
    );
    await api.createCampaign({ key: 'k3', recipientsPerLead: 3, poolRecipientIds: team.map((r) => r.id) });
    const messages = Array.from({ length: 70 }, () => leadMessage('k3', { state: 'TX' }));

    await Promise.all(
      Array.from({ length: 7 }, (_, b) =>
        allocateBatch(messages.slice(b * 10, b * 10 + 10).map((m) => item(m))),
      ),
    );

    const perLead = await db.query(
      `SELECT count(*)::int AS n, count(DISTINCT recipient_id)::int AS d FROM assignments
       WHERE lead_id = ANY($1::uuid[]) AND ended_at IS NULL GROUP BY lead_id`,
      [messages.map((m) => m.leadId)],
    );
    expect(perLead.rows).toHaveLength(70);
    expect(perLead.rows.every((r) => r.n === 3 && r.d === 3)).toBe(true);
    const counts = [...(await countsByRecipient('k3')).values()];
    expect(counts.reduce((a, b) => a + b, 0)).toBe(210);
    expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
  });

  it('batches and per-lead transactions racing on shared, capped recipients never exceed a cap', async () => {
    // Shared recipients: static in one campaign, pooled in the other (one row, one lock, one counter).
    const shared = await Promise.all(
      ['S1', 'S2', 'S3', 'S4'].map((name) => api.createRecipient({ name, dailyCap: 12 })),
    );
    await api.createCampaign({
      key: 'mix-static',
      recipientsPerLead: 2,
      staticRecipientIds: [shared[0]!.id],
      poolRecipientIds: shared.slice(1).map((r) => r.id),
      stateRouting: 'ignore',
    });
    await api.createCampaign({
      key: 'mix-pool',
      poolRecipientIds: shared.map((r) => r.id),
      stateRouting: 'ignore',
    });
    const batched = Array.from({ length: 6 }, (_, b) =>
      Array.from({ length: 10 }, (_, i) => leadMessage((b + i) % 2 === 0 ? 'mix-static' : 'mix-pool')),
    );
    const single = Array.from({ length: 30 }, (_, i) => leadMessage(i % 2 === 0 ? 'mix-pool' : 'mix-static'));

    const [outcomes] = await Promise.all([
      Promise.all(batched.map((b) => allocateBatch(b.map((m) => item(m))))),
      Promise.all(single.map((m) => allocateMessage(m))),
    ]);

    expect(outcomes.every((o) => o.path === 'batched' && o.failedIds.length === 0)).toBe(true);
    const used = await db.query(
      `SELECT recipient_id, count(*)::int AS n FROM assignments WHERE recipient_id = ANY($1::uuid[]) GROUP BY 1`,
      [shared.map((r) => r.id)],
    );
    const byRecipient = new Map(used.rows.map((r) => [r.recipient_id as string, r.n as number]));
    // 90 leads want 135 slots and the 4 recipients have 48: demand far beyond every cap, none exceeded.
    expect([...byRecipient.values()].every((n) => n <= 12)).toBe(true);
    // S1 is wanted by every mix-static lead and a quarter of mix-pool ones: it is always filled.
    expect(byRecipient.get(shared[0]!.id)).toBe(12);
    expect(await countersMatchRows()).toBe(true);
    // Each lead once: all or nothing, k of its campaign or none.
    const all = [...batched.flat(), ...single];
    const held = await db.query(
      `SELECT l.id, count(a.id)::int AS n FROM leads l LEFT JOIN assignments a ON a.lead_id = l.id
       WHERE l.id = ANY($1::uuid[]) GROUP BY l.id`,
      [all.map((m) => m.leadId)],
    );
    expect(held.rows).toHaveLength(90);
    const k = new Map(all.map((m) => [m.leadId, m.lead.campaign === 'mix-static' ? 2 : 1]));
    for (const row of held.rows) expect([0, k.get(row.id)]).toContain(row.n);
  });

  it('batches naming two campaigns in opposite orders never deadlock (the union is locked first, in order)', async () => {
    // Recipients get ascending ids in creation order: campaign A's are all below campaign B's.
    const a = [await api.createRecipient({ name: 'A1' }), await api.createRecipient({ name: 'A2' })];
    const b = [await api.createRecipient({ name: 'B1' }), await api.createRecipient({ name: 'B2' })];
    await api.createCampaign({ key: 'order-a', poolRecipientIds: a.map((r) => r.id) });
    await api.createCampaign({ key: 'order-b', poolRecipientIds: b.map((r) => r.id) });
    const errorCodes: string[] = [];
    const query = pg.Client.prototype.query;
    const spy = vi.spyOn(pg.Client.prototype, 'query').mockImplementation(function (
      this: pg.Client,
      ...args
    ) {
      const result = (query as (...a: unknown[]) => unknown).apply(this, args);
      if (result instanceof Promise) result.catch((e: { code?: string }) => errorCodes.push(e.code ?? ''));
      return result as never;
    });
    try {
      // Deciding one by one without the up-front lock, AB takes A's rows then B's, BA the reverse.
      const outcomes = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          allocateBatch(
            (i % 2 === 0 ? ['order-a', 'order-b'] : ['order-b', 'order-a']).map((key) =>
              item(leadMessage(key)),
            ),
          ),
        ),
      );
      expect(outcomes.every((o) => o.path === 'batched' && o.failedIds.length === 0)).toBe(true);
    } finally {
      spy.mockRestore();
    }
    expect(errorCodes).not.toContain('40P01');
  });

  it('redelivering a batch, or a message twice within one, assigns nothing twice', async () => {
    const r = await api.createRecipient({ name: 'Redelivery' });
    await api.createCampaign({ key: 'redeliver', poolRecipientIds: [r.id] });
    const messages = Array.from({ length: 5 }, () => leadMessage('redeliver'));
    const batch = [...messages.map((m) => item(m)), { ...item(messages[0]!), id: 'again-in-same-batch' }];

    await allocateBatch(batch);
    const again = await allocateBatch(batch);

    expect(again).toMatchObject({ path: 'batched', failedIds: [], events: [] });
    expect(await openAssignmentsPerLead(messages.map((m) => m.leadId))).toEqual(Array(5).fill(1));
    const assignedEvents = await db.query(
      `SELECT count(*)::int AS n FROM events WHERE type = 'lead.assigned' AND lead_id = ANY($1::uuid[])`,
      [messages.map((m) => m.leadId)],
    );
    expect(assignedEvents.rows[0].n).toBe(5);
    expect((await api.get(`/api/recipients/${r.id}`)).body.assignedToday).toBe(5);
    expect(await countersMatchRows()).toBe(true);
  });

  it('a lead failing inside the batch falls back to per-lead transactions: it fails alone, with its group', async () => {
    const r = await api.createRecipient({ name: 'Fallback' });
    await api.createCampaign({ key: 'fallback', poolRecipientIds: [r.id] });
    const before = leadMessage('fallback');
    // An org that does not exist: the lead row's foreign key fails, inside the batch and alone.
    const broken = { ...leadMessage('fallback'), orgId: uuidv7() };
    const behindBroken = leadMessage('fallback');
    const after = leadMessage('fallback');

    const outcome = await allocateBatch([
      item(before),
      item(broken, 'group-b'),
      item(behindBroken, 'group-b'),
      item(after),
    ]);

    expect(outcome.path).toBe('per-lead');
    expect(outcome.failedIds).toEqual([`msg-${broken.leadId}`, `msg-${behindBroken.leadId}`]);
    expect((await api.lead(before.leadId)).status).toBe('assigned');
    expect((await api.lead(after.leadId)).status).toBe('assigned');
    expect((await api.get(`/api/leads/${behindBroken.leadId}`)).status).toBe(404);
    expect(await countersMatchRows()).toBe(true);
  });

  it('a lead the batch leaves unassigned fills an open order, as after a per-lead allocation', async () => {
    const full = await api.createRecipient({ name: 'No capacity', dailyCap: 0 });
    await api.createCampaign({ key: 'stock-fill', poolRecipientIds: [full.id] });
    const order = await api.post('/api/orders', {
      customerName: 'Jane Doe',
      customerEmail: 'jane@example.com',
      requestedStates: ['WA'],
    });
    expect(order.body.status).toBe('open');
    const lead = leadMessage('stock-fill', { state: 'WA' });

    await allocateBatch([item(lead)]);

    const filled = (await api.get(`/api/orders/${order.body.id}`)).body;
    expect(filled.leads.map((l: { id: string }) => l.id)).toEqual([lead.leadId]);
  });

  it('an unknown ALLOCATOR_MODE fails at cold start, naming the variable', async () => {
    vi.resetModules();
    process.env.ALLOCATOR_MODE = 'bulk';
    try {
      await expect(import('../../functions/allocator/handler.js')).rejects.toThrow(/ALLOCATOR_MODE/);
    } finally {
      process.env.ALLOCATOR_MODE = 'batched';
    }
  });
});
