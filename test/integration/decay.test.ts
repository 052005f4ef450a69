/**
 * SLA decay through the local runtime with an injected clock: an assigned lead nobody contacted within
 * its campaign's SLA goes to another recipient (never back to an earlier one), capacity returned, and
 * becomes stale after `maxReassignments`; concurrent runs reassign each lead once.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock, setClock, systemClock } from '../../functions/clock.js';
import { client, startTestStack, uniquePhone, type TestStack } from '../support/stack.js';

let stack: TestStack;
let api: ReturnType<typeof client>;
let db: pg.Client;
const clock = new ManualClock('2031-06-02T15:00:00Z'); // a Monday, 11:00 in New York

beforeAll(async () => {
  setClock(clock);
  stack = await startTestStack('decay');
  api = client(stack);
  db = new pg.Client({ connectionString: stack.databaseUrl });
  await db.connect();
});
afterAll(async () => {
  setClock(systemClock);
  await db?.end();
  await stack?.close();
});

const MINUTE = 60_000;

async function postAndAllocate(campaign: string): Promise<string> {
  const res = await api.postLead({ phone: uniquePhone(), campaign });
  expect(res.status).toBe(202);
  await stack.idle();
  return res.body.leadId as string;
}

async function assignedToday(ids: string[]): Promise<number[]> {
  return Promise.all(ids.map(async (id) => (await api.get(`/api/recipients/${id}`)).body.assignedToday));
}

/** Counters equal rows: every day counter equals the counted assignments of that recipient and day. */
async function countersMatchRows(): Promise<boolean> {
  const out = await db.query(`
    SELECT d.assigned, (SELECT count(*) FROM assignments a
      WHERE a.recipient_id = d.recipient_id AND a.local_day = d.local_day AND a.counted)::int AS rows
    FROM recipient_day_counts d`);
  return out.rows.every((r) => r.assigned === r.rows);
}

describe('SLA decay', () => {
  it('reassigns to a recipient who never had the lead, returns capacity, and makes it stale after maxReassignments', async () => {
    // Prepare: three recipients, SLA 30 minutes, at most 2 reassignments
    const team = await Promise.all(['D1', 'D2', 'D3'].map((name) => api.createRecipient({ name })));
    const ids = team.map((r) => r.id);
    await api.createCampaign({
      key: 'sla',
      poolRecipientIds: ids,
      stateRouting: 'ignore',
      slaMinutes: 30,
      maxReassignments: 2,
    });
    const leadId = await postAndAllocate('sla');
    const holders: string[] = [(await api.lead(leadId)).assignments[0].recipientId];

    // Act + Assess: not yet due at 29 minutes
    clock.advance(29 * MINUTE);
    await stack.runJob('decay');
    expect((await api.lead(leadId)).assignments).toHaveLength(1);

    // Two reassignments, each to someone new, each returning the previous holder's capacity
    for (let round = 1; round <= 2; round++) {
      clock.advance(2 * MINUTE + (round === 2 ? 29 * MINUTE : 0));
      await stack.runJob('decay');
      const lead = await api.lead(leadId);
      const open = lead.assignments.filter((a: { endedAt: string | null }) => a.endedAt === null);
      expect(open).toHaveLength(1);
      expect(open[0].reason).toBe('decay_reassign');
      expect(holders).not.toContain(open[0].recipientId);
      const ended = lead.assignments.find((a: { recipientId: string }) => a.recipientId === holders.at(-1));
      expect(ended).toMatchObject({ endReason: 'sla_expired' });
      holders.push(open[0].recipientId);
      expect(lead).toMatchObject({ status: 'assigned', reassignmentCount: round });
      expect((await assignedToday(ids)).reduce((a, b) => a + b, 0)).toBe(1);
      expect(lead.events.filter((e: { type: string }) => e.type === 'lead.reassigned')).toHaveLength(round);
    }
    expect(new Set(holders).size).toBe(3);

    // Third expiry: the limit is reached — stale, last assignment ended, capacity returned
    clock.advance(31 * MINUTE);
    await stack.runJob('decay');
    const stale = await api.lead(leadId);
    expect(stale).toMatchObject({ status: 'stale', reason: 'max_reassignments', reassignmentCount: 2 });
    expect(stale.assignments.every((a: { endReason: string | null }) => a.endReason === 'sla_expired')).toBe(
      true,
    );
    expect(await assignedToday(ids)).toEqual([0, 0, 0]);
    expect(await countersMatchRows()).toBe(true);

    // A stale lead is not decayed again
    clock.advance(60 * MINUTE);
    await stack.runJob('decay');
    expect((await api.lead(leadId)).assignments).toHaveLength(3);
  });

  it('leaves a contacted lead alone', async () => {
    const solo = await api.createRecipient({ name: 'Caller' });
    const other = await api.createRecipient({ name: 'Other' });
    await api.createCampaign({ key: 'sla-contacted', poolRecipientIds: [solo.id, other.id], slaMinutes: 10 });
    const leadId = await postAndAllocate('sla-contacted');
    clock.advance(5 * MINUTE);
    expect((await api.patch(`/api/leads/${leadId}/status`, { status: 'contacted' })).status).toBe(200);

    clock.advance(30 * MINUTE);
    await stack.runJob('decay');

    const lead = await api.lead(leadId);
    expect(lead.status).toBe('contacted');
    expect(lead.assignments).toHaveLength(1);
    expect(lead.assignments[0].endedAt).toBeNull();
  });

  it('keeps the current recipient when nobody else is eligible, and reassigns once someone is', async () => {
    // Prepare: a campaign with one recipient
    const only = await api.createRecipient({ name: 'Only' });
    await api.createCampaign({ key: 'sla-alone', poolRecipientIds: [only.id], slaMinutes: 15 });
    const leadId = await postAndAllocate('sla-alone');
    const eventsBefore = (await api.lead(leadId)).events.length;

    // Act: overdue, nobody else
    clock.advance(20 * MINUTE);
    const first = await api.post('/api/jobs/decay/run');
    await stack.runJob('decay');

    // Assess: kept, no new assignment or event, capacity unchanged
    expect(first.body).toMatchObject({
      job: 'decay',
      trigger: 'manual',
      status: 'succeeded',
      result: { kept: 1 },
    });
    const kept = await api.lead(leadId);
    expect(kept.assignments).toHaveLength(1);
    expect(kept.assignments[0]).toMatchObject({ recipientId: only.id, endedAt: null });
    expect(kept.events).toHaveLength(eventsBefore);
    expect(await assignedToday([only.id])).toEqual([1]);

    // Act: a second recipient joins the campaign; the next run reassigns
    const backup = await api.createRecipient({ name: 'Backup' });
    await api.patch('/api/campaigns/sla-alone', { poolRecipientIds: [only.id, backup.id] });
    await stack.runJob('decay');

    // Assess
    const moved = await api.lead(leadId);
    expect(moved.assignments.find((a: { endedAt: string | null }) => a.endedAt === null)).toMatchObject({
      recipientId: backup.id,
      reason: 'decay_reassign',
    });
    expect(await assignedToday([only.id, backup.id])).toEqual([0, 1]);
  });

  it('concurrent runs (operator and schedule, at-least-once) reassign each overdue lead once', async () => {
    // Prepare: 12 leads over 4 recipients, all overdue
    const team = await Promise.all(['C1', 'C2', 'C3', 'C4'].map((name) => api.createRecipient({ name })));
    await api.createCampaign({
      key: 'sla-race',
      poolRecipientIds: team.map((r) => r.id),
      stateRouting: 'ignore',
      slaMinutes: 5,
      maxReassignments: 5,
    });
    const leads: string[] = [];
    for (let i = 0; i < 12; i++) leads.push(await postAndAllocate('sla-race'));
    clock.advance(6 * MINUTE);

    // Act
    const runs = await Promise.all([
      api.post('/api/jobs/decay/run'),
      api.post('/api/jobs/decay/run'),
      stack.runJob('decay'),
      api.post('/api/jobs/decay/run'),
    ]);

    // Assess: every lead reassigned exactly once, counters still equal rows
    for (const id of leads) {
      const lead = await api.lead(id);
      expect(lead.reassignmentCount).toBe(1);
      expect(lead.assignments).toHaveLength(2);
      expect(lead.events.filter((e: { type: string }) => e.type === 'lead.reassigned')).toHaveLength(1);
    }
    expect(await countersMatchRows()).toBe(true);
    const manual = runs.slice(0, 2).concat(runs[3]) as {
      body: { status: string; result: { reassigned?: number } };
    }[];
    const reassignedByManual = manual.reduce((sum, r) => sum + (r.body.result.reassigned ?? 0), 0);
    expect(manual.some((r) => r.body.status === 'skipped')).toBe(true);
    expect(reassignedByManual).toBeLessThanOrEqual(12);

    const recorded = (await api.get('/api/jobs/runs?job=decay&limit=200')).body.items;
    const total = recorded
      .filter((r: { startedAt: string }) => r.startedAt === clock.now().toISOString())
      .reduce((sum: number, r: { result: { reassigned?: number } }) => sum + (r.result.reassigned ?? 0), 0);
    expect(total).toBe(12);
  });

  it('answers 404 for a job that cannot be run by hand', async () => {
    const res = await api.post('/api/jobs/nope/run');
    expect(res.status).toBe(404);
    expect(res.body.message).toContain('decay, backlog');
  });
});
