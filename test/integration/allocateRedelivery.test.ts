/**
 * Redelivery while the first delivery is still running (an SQS visibility timeout that expired mid-way,
 * two consumers with the same message): the allocator stores the batch's leads first, in ascending id
 * order, and a second delivery waits on those new rows and then skips them. Overlapping batches in
 * different orders, and per-lead copies of the same messages, all at once: every lead is decided once,
 * with one outcome event, counters equal rows, and no transaction deadlocks.
 */
import pg from 'pg';
import { v7 as uuidv7 } from 'uuid';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { groupIdFor, type LeadMessage } from '../../functions/adapters/sqs/leadQueue.js';
import { ManualClock, setClock, systemClock } from '../../functions/clock.js';
import { allocateBatch } from '../../functions/usecases/allocateBatch.js';
import { allocateMessage } from '../../functions/usecases/allocateLead.js';
import { client, startTestStack, uniquePhone, type TestStack } from '../support/stack.js';

let stack: TestStack;
let api: ReturnType<typeof client>;
let db: pg.Client;

beforeAll(async () => {
  setClock(new ManualClock('2026-03-10T19:00:00Z'));
  stack = await startTestStack('alloc_redelivery');
  api = client(stack);
  db = new pg.Client({ connectionString: stack.databaseUrl });
  await db.connect();
});
afterAll(async () => {
  setClock(systemClock);
  await db?.end();
  await stack?.close();
});

function leadMessage(campaign: string): LeadMessage {
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
    },
  };
}

const item = (m: LeadMessage) => ({
  id: `msg-${m.leadId}`,
  group: groupIdFor(m.orgId, m.lead.phone),
  message: m,
});

describe('concurrent redelivery', () => {
  it('overlapping batches in opposite orders and per-lead copies, all at once: each lead decided once, no deadlock', async () => {
    const team = await Promise.all(
      ['R1', 'R2', 'R3', 'R4'].map((name) => api.createRecipient({ name, dailyCap: 25 })),
    );
    await api.createCampaign({ key: 'redo', recipientsPerLead: 2, poolRecipientIds: team.map((r) => r.id) });
    const messages = Array.from({ length: 30 }, () => leadMessage('redo'));
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
      const deliveries = [];
      for (let at = 0; at < messages.length; at += 10) {
        const batch = messages.slice(at, at + 10);
        // The same batch three times, once reversed, one shifted so that it overlaps the next batch,
        // and every message of it on its own.
        deliveries.push(
          allocateBatch(batch.map(item)),
          allocateBatch([...batch].reverse().map(item)),
          allocateBatch(messages.slice(at + 5, at + 15).map(item)),
          ...batch.map((m) => allocateMessage(m).then(() => ({ failedIds: [] as string[] }))),
        );
      }
      const outcomes = await Promise.all(deliveries);
      expect(outcomes.every((o) => o.failedIds.length === 0)).toBe(true);
    } finally {
      spy.mockRestore();
    }
    expect(errorCodes).not.toContain('40P01');

    const ids = messages.map((m) => m.leadId);
    const perLead = await db.query(
      `SELECT l.id, l.status,
         (SELECT count(*) FROM assignments a WHERE a.lead_id = l.id)::int AS rows,
         (SELECT count(*) FROM events e WHERE e.lead_id = l.id AND e.type IN ('lead.assigned', 'lead.unassigned'))::int AS outcomes,
         (SELECT count(*) FROM events e WHERE e.lead_id = l.id AND e.type = 'lead.received')::int AS received
       FROM leads l WHERE l.id = ANY($1::uuid[])`,
      [ids],
    );
    expect(perLead.rows).toHaveLength(30);
    for (const row of perLead.rows) {
      expect(row.outcomes).toBe(1);
      expect(row.received).toBe(1);
      expect(row.rows).toBe(row.status === 'assigned' ? 2 : 0);
    }
    // 30 leads × 2 slots = 60 of the 100 the caps allow: every lead was placed.
    expect(perLead.rows.every((r) => r.status === 'assigned')).toBe(true);
    const counters = await db.query(
      `SELECT d.assigned, (SELECT count(*) FROM assignments a
         WHERE a.recipient_id = d.recipient_id AND a.local_day = d.local_day AND a.counted)::int AS rows
       FROM recipient_day_counts d WHERE d.recipient_id = ANY($1::uuid[])`,
      [team.map((r) => r.id)],
    );
    expect(counters.rows.every((r) => r.assigned === r.rows)).toBe(true);
    expect(counters.rows.reduce((sum, r) => sum + r.assigned, 0)).toBe(60);
  });
});
