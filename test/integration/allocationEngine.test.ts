/**
 * Issue 3 over HTTP: k recipients per lead with statics, quotas under real parallel requests, a
 * recipient shared by campaigns, the quota-reset webhook under concurrent copies, pool fairness of
 * the seed-002 shape, returning contacts, manual reassignment and simulation.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock, setClock, systemClock } from '../../functions/clock.js';
import { client, startTestStack, uniquePhone, type TestStack } from '../support/stack.js';

let stack: TestStack;
let api: ReturnType<typeof client>;
let db: pg.Client;

beforeAll(async () => {
  stack = await startTestStack('engine');
  api = client(stack);
  db = new pg.Client({ connectionString: stack.databaseUrl });
  await db.connect();
});
afterAll(async () => {
  setClock(systemClock);
  await db?.end();
  await stack?.close();
});

const recipients = (names: string[], fields: Record<string, unknown> = {}) =>
  Promise.all(names.map((name) => api.createRecipient({ name, ...fields })));

async function postMany(n: number, campaign: string, extra: Record<string, unknown> = {}) {
  const posted = await Promise.all(
    Array.from({ length: n }, () => api.postLead({ phone: uniquePhone(), campaign, ...extra })),
  );
  expect(posted.every((p) => p.status === 202)).toBe(true);
  await stack.idle();
  return Promise.all(posted.map((p) => api.lead(p.body.leadId)));
}

async function invariantsHold(): Promise<void> {
  const days = await db.query(`
    SELECT d.assigned, (SELECT count(*) FROM assignments a WHERE a.recipient_id = d.recipient_id AND a.local_day = d.local_day AND a.counted)::int AS rows
    FROM recipient_day_counts d`);
  for (const r of days.rows) expect(r.assigned).toBe(r.rows);
  const quotas = await db.query(`
    SELECT r.quota, r.quota_remaining,
      (SELECT count(*) FROM assignments a WHERE a.recipient_id = r.id AND a.counted AND a.quota_epoch = r.quota_epoch)::int AS used
    FROM recipients r WHERE r.quota IS NOT NULL`);
  for (const r of quotas.rows) {
    expect(r.used).toBeLessThanOrEqual(r.quota);
    expect(r.quota_remaining).toBe(r.quota - r.used);
  }
}

describe('allocation engine', () => {
  it('static P1 with quota 10 and a pool of three, k = 3, 12 parallel leads: 10 assigned, 2 unassigned, P1 at quota', async () => {
    const [p1] = await recipients(['P1'], { quota: 10 });
    const pool = await recipients(['Q2', 'Q3', 'Q4']);
    await api.createCampaign({
      key: 'k3',
      recipientsPerLead: 3,
      staticRecipientIds: [p1!.id],
      poolRecipientIds: pool.map((r) => r.id),
    });

    const leads = await postMany(12, 'k3');

    const assigned = leads.filter((l) => l.status === 'assigned');
    expect(assigned).toHaveLength(10);
    expect(
      leads.filter((l) => l.status === 'unassigned' && l.reason === 'no_eligible_recipient'),
    ).toHaveLength(2);
    for (const l of assigned) {
      const ids = l.assignments.map((a: { recipientId: string }) => a.recipientId);
      expect(new Set(ids).size).toBe(3);
      expect(l.assignments).toContainEqual(
        expect.objectContaining({ recipientId: p1!.id, reason: 'static' }),
      );
    }
    for (const l of leads.filter((x) => x.status === 'unassigned')) {
      expect(l.trace).toContainEqual(
        expect.objectContaining({ recipientId: p1!.id, reason: 'quota', selected: false }),
      );
    }
    expect((await api.get(`/api/recipients/${p1!.id}`)).body).toMatchObject({ quota: 10, quotaRemaining: 0 });
    await invariantsHold();
  });

  it('P1 static in two campaigns with quota 20, 15 parallel leads to each: P1 gets exactly 20', async () => {
    const [p1] = await recipients(['Shared P1'], { quota: 20 });
    await api.createCampaign({ key: 'twinA', staticRecipientIds: [p1!.id], poolRecipientIds: [] });
    await api.createCampaign({ key: 'twinB', staticRecipientIds: [p1!.id], poolRecipientIds: [] });

    const [a, b] = await Promise.all([postMany(15, 'twinA'), postMany(15, 'twinB')]);

    const assigned = [...a!, ...b!].filter((l) => l.status === 'assigned');
    expect(assigned).toHaveLength(20);
    const rows = await db.query(
      `SELECT count(*)::int AS n FROM assignments WHERE recipient_id = $1 AND counted`,
      [p1!.id],
    );
    expect(rows.rows[0].n).toBe(20);
    expect((await api.get(`/api/recipients/${p1!.id}`)).body.quotaRemaining).toBe(0);
    await invariantsHold();
  });

  it('a recipient static in one campaign and pooled in another never exceeds its daily cap', async () => {
    const [shared] = await recipients(['Static+Pool'], { dailyCap: 7 });
    const others = await recipients(['O1', 'O2']);
    await api.createCampaign({ key: 'mixS', staticRecipientIds: [shared!.id], poolRecipientIds: [] });
    await api.createCampaign({
      key: 'mixP',
      recipientsPerLead: 2,
      poolRecipientIds: [shared!.id, ...others.map((o) => o.id)],
      stateRouting: 'ignore',
    });

    await Promise.all([postMany(10, 'mixS'), postMany(10, 'mixP')]);

    const rows = await db.query(
      `SELECT count(*)::int AS n FROM assignments WHERE recipient_id = $1 AND counted`,
      [shared!.id],
    );
    expect(rows.rows[0].n).toBe(7);
    await invariantsHold();
  });

  it('five parallel copies of one quota-reset event reset once', async () => {
    const [r] = await recipients(['Quota reset'], { quota: 3 });
    await api.createCampaign({ key: 'resetq', staticRecipientIds: [r!.id], poolRecipientIds: [] });
    await postMany(3, 'resetq');
    expect((await api.get(`/api/recipients/${r!.id}`)).body.quotaRemaining).toBe(0);

    const answers = await Promise.all(
      Array.from({ length: 5 }, () =>
        api.post(
          '/webhooks/quota-reset',
          { eventId: 'evt-2026-11' },
          { 'x-webhook-secret': stack.webhookSecret },
        ),
      ),
    );

    expect(answers.every((a) => a.status === 200)).toBe(true);
    const resets = answers.filter((a) => a.body.reset === true);
    expect(resets).toHaveLength(1);
    expect(answers.filter((a) => a.body.duplicate === true)).toHaveLength(4);
    expect(resets[0]!.body.recipients).toBeGreaterThanOrEqual(1);
    const events = await db.query(`SELECT count(*)::int AS n FROM events WHERE type = 'quota.reset'`);
    expect(events.rows[0].n).toBe(1);
    expect((await api.get(`/api/recipients/${r!.id}`)).body.quotaRemaining).toBe(3);
    const later = await api.post(
      '/webhooks/quota-reset',
      { eventId: 'evt-2026-11' },
      { 'x-webhook-secret': stack.webhookSecret },
    );
    expect(later.body).toEqual({ duplicate: true });
    expect(
      (await api.post('/webhooks/quota-reset', {}, { 'x-webhook-secret': stack.webhookSecret })).status,
    ).toBe(400);
    expect(
      (await api.post('/webhooks/quota-reset', { eventId: 'x' }, { 'x-webhook-secret': 'wrong' })).status,
    ).toBe(401);
    await invariantsHold();
  });

  it('the quota-reset webhook takes form-encoded bodies and numeric event ids, as Make and Zapier send them', async () => {
    const secret = { 'x-webhook-secret': stack.webhookSecret };
    const form = { ...secret, 'content-type': 'application/x-www-form-urlencoded' };
    const first = await api.call('POST', '/webhooks/quota-reset', 'eventId=form-2026-12', form);
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ reset: true });
    expect((await api.call('POST', '/webhooks/quota-reset', 'eventId=form-2026-12', form)).body).toEqual({
      duplicate: true,
    });
    expect((await api.post('/webhooks/quota-reset', { eventId: 202612 }, secret)).body).toMatchObject({
      reset: true,
    });
    expect((await api.post('/webhooks/quota-reset', { eventId: '202612' }, secret)).body).toEqual({
      duplicate: true,
    });
    // The secret is checked before the body is read.
    const badBoth = await api.call('POST', '/webhooks/quota-reset', 'not json', {
      'x-webhook-secret': 'wrong',
      'content-type': 'application/json',
    });
    expect(badBoth.status).toBe(401);
    const big = await api.post('/webhooks/quota-reset', { eventId: 'x'.repeat(70_000) }, secret);
    expect(big.status).toBe(413);
  });

  it('seed 002 Service 1 shape: after 3 leads, P2, P3 and P4 have 2 each', async () => {
    const [p1] = await recipients(['S1-P1']);
    const pool = await recipients(['S1-P2', 'S1-P3', 'S1-P4']);
    await api.createCampaign({
      key: 'service1',
      recipientsPerLead: 3,
      staticRecipientIds: [p1!.id],
      poolRecipientIds: pool.map((r) => r.id),
    });
    for (let i = 0; i < 3; i++) await postMany(1, 'service1');
    const counts = await db.query(
      `SELECT recipient_id, count(*)::int AS n FROM assignments a JOIN leads l ON l.id = a.lead_id WHERE l.campaign = 'service1' GROUP BY 1`,
    );
    const byId = new Map(counts.rows.map((r) => [r.recipient_id, r.n]));
    expect(byId.get(p1!.id)).toBe(3);
    for (const r of pool) expect(byId.get(r.id)).toBe(2);
  });

  it('sends a returning contact (seen before, outside the duplicate window) to its earlier recipient', async () => {
    const clock = new ManualClock('2026-02-02T15:00:00Z');
    setClock(clock);
    try {
      const team = await recipients(['Ret A', 'Ret B', 'Ret C']);
      await api.createCampaign({
        key: 'returning',
        poolRecipientIds: team.map((r) => r.id),
        stateRouting: 'ignore',
      });
      const phone = uniquePhone();
      const first = await api.postLead({ phone, campaign: 'returning' });
      await stack.idle();
      const earlier = (await api.lead(first.body.leadId)).assignments[0].recipientId;
      await postMany(4, 'returning'); // the rotation moves on

      clock.advance(3 * 24 * 3600 * 1000);
      const back = await api.postLead({ phone, campaign: 'returning' });
      expect(back.status).toBe(202);
      await stack.idle();
      const lead = await api.lead(back.body.leadId);
      expect(lead.assignments[0]).toMatchObject({ recipientId: earlier, reason: 'returning_contact' });
    } finally {
      setClock(systemClock);
    }
  });

  it('excludes recipients outside their working hours as off_hours', async () => {
    const clock = new ManualClock('2026-02-04T15:00:00Z'); // Wednesday 10:00 in New York
    setClock(clock);
    try {
      const [night] = await recipients(['Night shift'], { workingHours: { wed: ['22:00', '06:00'] } });
      const [day] = await recipients(['Day shift'], { workingHours: { wed: ['09:00', '17:00'] } });
      await api.createCampaign({
        key: 'hours',
        poolRecipientIds: [night!.id, day!.id],
        stateRouting: 'ignore',
      });
      const [lead] = await postMany(1, 'hours');
      expect(lead.assignments[0].recipientId).toBe(day!.id);
      expect(lead.trace).toContainEqual(
        expect.objectContaining({ recipientId: night!.id, reason: 'off_hours' }),
      );
    } finally {
      setClock(systemClock);
    }
  });

  it('reassigns manually to named recipients, and by the rule, returning capacity', async () => {
    const [a, b, c] = await recipients(['Re A', 'Re B', 'Re C'], { dailyCap: 5 });
    await api.createCampaign({ key: 'reassign', poolRecipientIds: [a!.id, b!.id], stateRouting: 'ignore' });
    const [lead] = await postMany(1, 'reassign');
    const holder = lead.assignments[0].recipientId as string;
    const before = (await api.get(`/api/recipients/${holder}`)).body.assignedToday;

    const manual = await api.post(`/api/leads/${lead.id}/reassign`, { recipientIds: [c!.id] });
    expect(manual.status).toBe(200);
    expect(manual.body.assignments).toEqual([
      expect.objectContaining({ recipientId: c!.id, reason: 'manual' }),
    ]);
    expect((await api.get(`/api/recipients/${holder}`)).body.assignedToday).toBe(before - 1);

    const byRule = await api.post(`/api/leads/${lead.id}/reassign`, {});
    expect(byRule.status).toBe(200);
    const chosen = byRule.body.assignments[0].recipientId;
    expect(byRule.body.assignments[0].reason).toBe('manual');
    expect([a!.id, b!.id]).toContain(chosen);
    expect(chosen).not.toBe(holder); // never a previous holder
    const detail = await api.lead(lead.id);
    expect(detail.assignments.filter((x: { endedAt: string | null }) => x.endedAt === null)).toHaveLength(1);
    expect(
      detail.assignments.filter((x: { endReason: string | null }) => x.endReason === 'manual'),
    ).toHaveLength(2);
    expect(detail.events.map((e: { type: string }) => e.type)).toContain('lead.reassigned');

    // Nobody left who never held it: 409, and nothing changes.
    const none = await api.post(`/api/leads/${lead.id}/reassign`, {});
    expect(none.status).toBe(409);
    expect(
      (await api.lead(lead.id)).assignments.filter((x: { endedAt: string | null }) => x.endedAt === null),
    ).toHaveLength(1);
    await invariantsHold();
  });

  it('simulates a campaign without committing anything', async () => {
    const [ny, ca] = await Promise.all([
      api.createRecipient({ name: 'Sim NY', states: ['NY'] }),
      api.createRecipient({ name: 'Sim CA', states: ['CA'] }),
    ]);
    await api.createCampaign({ key: 'sim', poolRecipientIds: [ny.id, ca.id], stateRouting: 'require' });
    const before = await db.query(
      `SELECT (SELECT count(*) FROM leads)::int AS leads, (SELECT count(*) FROM assignments)::int AS a`,
    );

    const res = await api.post('/api/campaigns/sim/simulate', {
      leads: [{ state: 'New York' }, { state: 'CA' }, { state: 'TX' }],
    });

    expect(res.status).toBe(200);
    expect(res.body.results.map((r: { outcome: string }) => r.outcome)).toEqual([
      'assigned',
      'assigned',
      'unassigned',
    ]);
    expect(res.body.results[0].assignments[0].recipientId).toBe(ny.id);
    expect(res.body.results[1].assignments[0].recipientId).toBe(ca.id);
    expect(res.body.results[2].trace).toContainEqual(
      expect.objectContaining({ recipientId: ny.id, reason: 'state' }),
    );
    const after = await db.query(
      `SELECT (SELECT count(*) FROM leads)::int AS leads, (SELECT count(*) FROM assignments)::int AS a`,
    );
    expect(after.rows[0]).toEqual(before.rows[0]);
    expect((await api.post('/api/campaigns/nope/simulate', { leads: [{ state: 'CA' }] })).status).toBe(404);
  });

  it('simulates with phones normalised as the webhook does (returning contact) and stock campaigns as stock', async () => {
    const [a, b] = await recipients(['SimRet A', 'SimRet B']);
    await api.createCampaign({ key: 'simret', poolRecipientIds: [a!.id, b!.id], stateRouting: 'ignore' });
    const phone = uniquePhone();
    const clock = new ManualClock(new Date());
    setClock(clock);
    try {
      const [first] = await Promise.all([api.postLead({ phone, campaign: 'simret' })]);
      await stack.idle();
      const earlier = (await api.lead(first!.body.leadId)).assignments[0].recipientId as string;
      clock.advance(2 * 24 * 3600 * 1000); // outside the duplicate window

      const digits = phone.replace(/^\+1/, '');
      const formatted = `(${digits.slice(0, 3)}) ${digits.slice(3, 6)}-${digits.slice(6)}`;
      const sim = await api.post('/api/campaigns/simret/simulate', { leads: [{ phone: formatted }] });
      expect(sim.status).toBe(200);
      expect(sim.body.results[0].assignments).toEqual([
        expect.objectContaining({ recipientId: earlier, reason: 'returning_contact' }),
      ]);

      const bad = await api.post('/api/campaigns/simret/simulate', { leads: [{ phone: 'not a phone' }] });
      expect(bad.status).toBe(400);
      expect(bad.body.issues).toContainEqual(expect.objectContaining({ field: 'leads.0.phone' }));

      const stock = await api.post('/api/campaigns/simret/simulate', {
        leads: [{ state: 'CA' }],
        overrides: { mode: 'stock' },
      });
      expect(stock.body.results[0]).toMatchObject({
        outcome: 'unassigned',
        reason: 'stock',
        assignments: [],
      });
    } finally {
      setClock(systemClock);
    }
    await api.createCampaign({ key: 'simstock', mode: 'stock', poolRecipientIds: [a!.id] });
    const stocked = await api.post('/api/campaigns/simstock/simulate', { leads: [{ state: 'CA' }] });
    expect(stocked.body.results[0]).toMatchObject({ outcome: 'unassigned', reason: 'stock' });
  });

  it('reassigns by the rule in a campaign with a static recipient: the static that held the lead is skipped', async () => {
    const [s] = await recipients(['RS static']);
    const pool = await recipients(['RS P1', 'RS P2', 'RS P3', 'RS P4']);
    await api.createCampaign({
      key: 'restatic',
      recipientsPerLead: 2,
      staticRecipientIds: [s!.id],
      poolRecipientIds: pool.map((r) => r.id),
      stateRouting: 'ignore',
    });
    const [lead] = await postMany(1, 'restatic');
    const held = lead.assignments.map((a: { recipientId: string }) => a.recipientId) as string[];
    expect(held).toContain(s!.id);

    const byRule = await api.post(`/api/leads/${lead.id}/reassign`, {});

    expect(byRule.status).toBe(200);
    const chosen = byRule.body.assignments.map((a: { recipientId: string }) => a.recipientId) as string[];
    expect(chosen).toHaveLength(2);
    for (const id of chosen) expect(held).not.toContain(id);
    const detail = await api.lead(lead.id);
    expect(detail.trace).toContainEqual(
      expect.objectContaining({ recipientId: s!.id, reason: 'already_assigned' }),
    );
    await invariantsHold();
  });

  it('a named reassignment replaces the trace with the admin decision', async () => {
    const [a, b, c] = await recipients(['NT A', 'NT B', 'NT C']);
    await api.createCampaign({ key: 'namedtrace', poolRecipientIds: [a!.id, b!.id], stateRouting: 'ignore' });
    const [lead] = await postMany(1, 'namedtrace');

    expect((await api.post(`/api/leads/${lead.id}/reassign`, { recipientIds: [c!.id] })).status).toBe(200);

    const detail = await api.lead(lead.id);
    expect(detail.trace).toEqual([
      { recipientId: c!.id, name: 'NT C', tier: 'manual', reason: 'manual', selected: true },
    ]);
  });

  it('refuses more static recipients than recipientsPerLead, on create and on patch, naming the field', async () => {
    const [s1, s2] = await recipients(['Two statics 1', 'Two statics 2']);
    const create = await api.post('/api/campaigns', {
      key: 'toomanystatics',
      recipientsPerLead: 1,
      staticRecipientIds: [s1!.id, s2!.id],
    });
    expect(create.status).toBe(400);
    expect(create.body.issues).toEqual([expect.objectContaining({ field: 'staticRecipientIds' })]);

    await api.createCampaign({
      key: 'twostatics',
      recipientsPerLead: 2,
      staticRecipientIds: [s1!.id, s2!.id],
    });
    const lower = await api.patch('/api/campaigns/twostatics', { recipientsPerLead: 1 });
    expect(lower.status).toBe(400);
    expect(lower.body.issues).toEqual([expect.objectContaining({ field: 'staticRecipientIds' })]);
    expect((await api.get('/api/campaigns/twostatics')).body.recipientsPerLead).toBe(2);
  });
});
