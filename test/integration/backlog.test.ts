/**
 * Backlog retry through the local runtime with an injected clock: waiting leads of push campaigns are
 * allocated again, oldest first, when capacity appears — a quota reset, a new or re-activated
 * recipient, a recipient's local midnight (the schedule) — and a run does not scan a backlog it cannot
 * place.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock, setClock, systemClock } from '../../functions/clock.js';
import { client, startTestStack, uniquePhone, type TestStack } from '../support/stack.js';

let stack: TestStack;
let api: ReturnType<typeof client>;
let db: pg.Client;
const clock = new ManualClock('2031-09-09T16:00:00Z'); // 12:00 in New York, 09:00 in Los Angeles

beforeAll(async () => {
  setClock(clock);
  stack = await startTestStack('backlog');
  api = client(stack);
  db = new pg.Client({ connectionString: stack.databaseUrl });
  await db.connect();
});
afterAll(async () => {
  setClock(systemClock);
  await db?.end();
  await stack?.close();
});

/** Posts leads one at a time, a second apart, so that "oldest" is well defined; returns their ids in order. */
async function postInOrder(
  campaign: string,
  n: number,
  extra: Record<string, unknown> = {},
): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    clock.advance(1_000);
    const res = await api.postLead({ phone: uniquePhone(), campaign, ...extra });
    expect(res.status).toBe(202);
    await stack.idle();
    ids.push(res.body.leadId);
  }
  return ids;
}

async function statuses(ids: string[]): Promise<string[]> {
  return Promise.all(ids.map(async (id) => (await api.lead(id)).status));
}

async function countersMatchRows(): Promise<boolean> {
  const out = await db.query(`
    SELECT d.assigned, (SELECT count(*) FROM assignments a
      WHERE a.recipient_id = d.recipient_id AND a.local_day = d.local_day AND a.counted)::int AS rows
    FROM recipient_day_counts d`);
  return out.rows.every((r) => r.assigned === r.rows);
}

describe('backlog retry', () => {
  it('drains the backlog oldest first right after a quota reset', async () => {
    // Prepare: quota 2, five leads → two assigned, three waiting
    const r = await api.createRecipient({ name: 'Quota two', quota: 2 });
    await api.createCampaign({ key: 'quota', poolRecipientIds: [r.id] });
    const leads = await postInOrder('quota', 5);
    expect(await statuses(leads)).toEqual(['assigned', 'assigned', 'unassigned', 'unassigned', 'unassigned']);

    // Act: the quota-reset webhook
    const reset = await api.post(
      '/webhooks/quota-reset',
      { eventId: 'month-10' },
      { 'x-webhook-secret': stack.webhookSecret },
    );
    expect(reset.body).toMatchObject({ reset: true });

    // Assess: the two oldest waiting leads got the new quota, the newest still waits, no event for it
    expect(await statuses(leads)).toEqual(['assigned', 'assigned', 'assigned', 'assigned', 'unassigned']);
    for (const id of leads.slice(2, 4)) {
      const lead = await api.lead(id);
      expect(lead.assignments[0]).toMatchObject({ recipientId: r.id, reason: 'backlog_retry' });
    }
    const waiting = await api.lead(leads[4]!);
    expect(waiting.reason).toBe('no_eligible_recipient');
    expect(waiting.events.map((e: { type: string }) => e.type)).toEqual(['lead.received', 'lead.unassigned']);
    const runs = (await api.get('/api/jobs/runs?job=backlog')).body.items;
    expect(runs[0]).toMatchObject({
      trigger: 'event',
      status: 'succeeded',
      result: { assigned: 2, stillWaiting: 1 },
    });
    expect(await countersMatchRows()).toBe(true);
  });

  it('retries right after a new recipient is created, and after one is re-activated', async () => {
    // Prepare: a campaign whose only member is paused
    const paused = await api.createRecipient({ name: 'Paused', active: false });
    await api.createCampaign({ key: 'nobody', poolRecipientIds: [paused.id] });
    const [first] = await postInOrder('nobody', 1);
    expect(await statuses([first!])).toEqual(['unassigned']);

    // Act + Assess: re-activated → assigned at once
    await api.patch(`/api/recipients/${paused.id}`, { active: true });
    expect((await api.lead(first!)).assignments[0]).toMatchObject({
      recipientId: paused.id,
      reason: 'backlog_retry',
    });

    // Prepare: a campaign over every active recipient, all capped
    await api.createCampaign({ key: 'everyone', poolRecipientIds: null });
    const everyone = (await api.get('/api/recipients')).body.items as { id: string }[];
    for (const rec of everyone) await api.patch(`/api/recipients/${rec.id}`, { dailyCap: 0 });
    const [second] = await postInOrder('everyone', 1);
    expect(await statuses([second!])).toEqual(['unassigned']);

    // Act + Assess: a new recipient → assigned at once
    const fresh = await api.createRecipient({ name: 'Fresh' });
    expect((await api.lead(second!)).assignments[0]).toMatchObject({
      recipientId: fresh.id,
      reason: 'backlog_retry',
    });
    await api.patch(`/api/recipients/${fresh.id}`, { active: false });
  });

  it('places waiting leads after a recipient’s local midnight (scheduled run)', async () => {
    // Prepare: cap 1 per local day in Los Angeles; two leads → one waits
    const west = await api.createRecipient({ name: 'West', dailyCap: 1, timezone: 'America/Los_Angeles' });
    await api.createCampaign({ key: 'midnight', poolRecipientIds: [west.id] });
    const leads = await postInOrder('midnight', 2);
    expect(await statuses(leads)).toEqual(['assigned', 'unassigned']);

    // Act: a scheduled run before and after midnight in Los Angeles (07:00 UTC)
    clock.set('2031-09-10T06:50:00Z');
    await stack.runJob('backlog');
    const before = await statuses(leads);
    clock.set('2031-09-10T07:05:00Z');
    await stack.runJob('backlog');

    // Assess
    expect(before).toEqual(['assigned', 'unassigned']);
    expect(await statuses(leads)).toEqual(['assigned', 'assigned']);
    clock.set('2031-09-10T16:00:00Z');
  });

  it('stops trying a campaign whose capacity is gone, but not behind a lead nobody covers', async () => {
    // Prepare: a capped campaign with three waiting leads…
    const capped = await api.createRecipient({ name: 'Capped', dailyCap: 1 });
    await api.createCampaign({ key: 'full', poolRecipientIds: [capped.id] });
    await postInOrder('full', 4);
    // …and a campaign requiring state coverage whose oldest lead is from a state nobody covers
    const ca = await api.createRecipient({ name: 'CA', states: ['CA'], dailyCap: 1 });
    await api.createCampaign({ key: 'states', poolRecipientIds: [ca.id], stateRouting: 'require' });
    await api.patch(`/api/recipients/${ca.id}`, { dailyCap: 0 });
    const [alaska] = await postInOrder('states', 1, { state: 'AK' });
    const [california] = await postInOrder('states', 1, { state: 'CA' });
    await db.query(`UPDATE recipients SET daily_cap = 1 WHERE id = $1`, [ca.id]);

    // Act
    const run = await api.post('/api/jobs/backlog/run');

    // Assess: one try for the full campaign (then it is skipped), the CA lead placed behind the AK one
    expect(await statuses([alaska!, california!])).toEqual(['unassigned', 'assigned']);
    const full = await db.query(
      `SELECT count(*)::int AS n FROM leads WHERE campaign = 'full' AND status = 'unassigned'`,
    );
    expect(full.rows[0].n).toBe(3);
    // Tried: the last 'quota' lead (no quota left: that campaign is skipped from then on), the oldest of
    // the three in 'full' (capped: skipped from then on), the AK lead (its own state: go on), the CA lead.
    expect(run.body.result).toEqual({ assigned: 1, stillWaiting: 3, campaignsWithoutCapacity: 2 });
  });

  it('concurrent runs place each waiting lead once', async () => {
    // Prepare: 10 waiting leads, then room for 6
    const team = await Promise.all(['K1', 'K2'].map((name) => api.createRecipient({ name, dailyCap: 0 })));
    await api.createCampaign({
      key: 'race',
      poolRecipientIds: team.map((t) => t.id),
      stateRouting: 'ignore',
    });
    const leads = await postInOrder('race', 10);
    await db.query(`UPDATE recipients SET daily_cap = 3 WHERE id = ANY($1::uuid[])`, [team.map((t) => t.id)]);

    // Act
    await Promise.all([
      api.post('/api/jobs/backlog/run'),
      stack.runJob('backlog'),
      api.post('/api/jobs/backlog/run'),
      stack.runJob('backlog'),
    ]);

    // Assess: the six oldest placed, once each; caps and counters hold
    expect(await statuses(leads)).toEqual([...Array(6).fill('assigned'), ...Array(4).fill('unassigned')]);
    for (const id of leads.slice(0, 6)) expect((await api.lead(id)).assignments).toHaveLength(1);
    const counts = await Promise.all(
      team.map(async (t) => (await api.get(`/api/recipients/${t.id}`)).body.assignedToday),
    );
    expect(counts).toEqual([3, 3]);
    expect(await countersMatchRows()).toBe(true);
  });
});
