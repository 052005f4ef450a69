/**
 * `GET /api/analytics` over HTTP on real PostgreSQL, with an injected clock: counts over every row of
 * the window (not a sample), day buckets that start at the viewer's midnight across a DST change,
 * time to first contact, and 400s by field for a bad window.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock, setClock, systemClock } from '../../functions/clock.js';
import { createOrg } from '../../functions/usecases/orgs.js';
import { client, startTestStack, uniquePhone, type TestStack } from '../support/stack.js';

let stack: TestStack;
const clock = new ManualClock('2026-03-07T15:00:00Z'); // Saturday 10:00 in New York, the day before DST

beforeAll(async () => {
  stack = await startTestStack('analytics');
  setClock(clock);
});
afterAll(async () => {
  setClock(systemClock);
  await stack?.close();
});

describe('GET /api/analytics', () => {
  it('counts received leads and assignments per local day, recipient and state, the funnel and first contact', async () => {
    // Prepare: an org of its own, two recipients in one rotation.
    const org = await createOrg({ name: 'analytics' });
    const api = client({ url: stack.url, adminToken: org.adminToken, webhookSecret: org.webhookSecret });
    const a = (await api.post('/api/recipients', { name: 'An A' })).body;
    const b = (await api.post('/api/recipients', { name: 'An B' })).body;
    await api.post('/api/campaigns', { key: 'an', poolRecipientIds: [a.id, b.id], stateRouting: 'ignore' });
    const post = async (state: string) => {
      const res = await api.postLead({ phone: uniquePhone(), state, campaign: 'an' });
      expect(res.status).toBe(202);
      return res.body.leadId as string;
    };
    const first = await post('CA'); // Sat 10:00 EST
    await post('NY');
    await stack.idle();
    clock.set('2026-03-07T15:12:00Z'); // contacted 12 minutes after receipt
    expect((await api.patch(`/api/leads/${first}/status`, { status: 'contacted' })).status).toBe(200);
    clock.set('2026-03-09T14:00:00Z'); // Monday 10:00 EDT
    await post('CA');
    await stack.idle();

    // Act: the three New York days from Saturday midnight (EST) to Tuesday midnight (EDT).
    const res = await api.get(
      '/api/analytics?since=2026-03-07T05:00:00Z&until=2026-03-10T04:00:00Z&bucket=day&tz=America/New_York',
    );

    // Assess
    expect(res.status).toBe(200);
    const d = res.body;
    expect(d).toMatchObject({ bucket: 'day', tz: 'America/New_York', received: 3 });
    // Sunday is 23 hours long: Monday starts at 04:00Z, not 05:00Z.
    expect(d.receivedPerBucket).toEqual([
      { at: '2026-03-07T05:00:00.000Z', count: 2 },
      { at: '2026-03-08T05:00:00.000Z', count: 0 },
      { at: '2026-03-09T04:00:00.000Z', count: 1 },
    ]);
    expect(d.assignmentsPerBucket.map((x: { count: number }) => x.count)).toEqual([2, 0, 1]);
    expect(d.byStatus).toMatchObject({ assigned: 2, contacted: 1, unassigned: 0 });
    expect(d.funnel).toEqual([
      { stage: 'received', count: 3 },
      { stage: 'delivered', count: 3 },
      { stage: 'contacted', count: 1 },
      { stage: 'won', count: 0 },
    ]);
    expect(d.perRecipient.map((r: { count: number }) => r.count).sort()).toEqual([1, 2]);
    expect(d.perRecipient.map((r: { name: string }) => r.name).sort()).toEqual(['An A', 'An B']);
    expect(d.perState).toEqual([
      { state: 'CA', count: 2 },
      { state: 'NY', count: 1 },
    ]);
    expect(d.firstContact).toMatchObject({ count: 1, medianMs: 12 * 60_000, p90Ms: 12 * 60_000 });
    expect(d.firstContact.buckets).toContainEqual({ label: '5–15 min', count: 1 });

    // Hour buckets by default, the last 24 hours (14:01 to 14:01, so 25 hour starts from 14:00):
    // Monday's lead only, in the bucket of its hour.
    clock.set('2026-03-09T14:01:00Z');
    const hours = (await api.get('/api/analytics')).body;
    expect(hours).toMatchObject({ bucket: 'hour', tz: 'UTC', received: 1 });
    expect(hours.receivedPerBucket).toHaveLength(25);
    expect(hours.receivedPerBucket[0].at).toBe('2026-03-08T14:00:00.000Z');
    expect(hours.receivedPerBucket.filter((x: { count: number }) => x.count > 0)).toEqual([
      { at: '2026-03-09T14:00:00.000Z', count: 1 },
    ]);
  });

  it('answers 400 naming the field for a bad window or timezone', async () => {
    const api = client(stack);
    const backwards = await api.get('/api/analytics?since=2026-03-08T00:00:00Z&until=2026-03-07T00:00:00Z');
    expect(backwards.status).toBe(400);
    expect(backwards.body.issues).toEqual([expect.objectContaining({ field: 'since' })]);
    const tooLong = await api.get('/api/analytics?since=2026-01-01T00:00:00Z&until=2026-03-07T00:00:00Z');
    expect(tooLong.status).toBe(400);
    expect(tooLong.body.issues).toEqual([expect.objectContaining({ field: 'since' })]);
    const zone = await api.get('/api/analytics?tz=Mars/Olympus&bucket=week');
    expect(zone.status).toBe(400);
    expect(zone.body.issues.map((i: { field: string }) => i.field).sort()).toEqual(['bucket', 'tz']);
    expect((await client({ ...stack, adminToken: 'wrong' }).get('/api/analytics')).status).toBe(401);
  });
});
