/**
 * Fault: a poison message. A lead the allocator fails on every time (here a database trigger rejects
 * its phone, standing in for a bug) is received five times (the receive limit), then lands in the
 * DLQ: `GET /api/stats` counts it in `queue.dlq` and `GET /api/dlq` names its lead. Once the cause is
 * fixed (the trigger dropped), `POST /api/dlq/replay` sends it back and it is allocated like any lead.
 * Nothing was stored for it meanwhile, and nothing is lost.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { logger } from '../../functions/powertools.js';
import { client, startTestStack, uniquePhone, type TestStack } from '../support/stack.js';
import { waitFor } from './support.js';

let stack: TestStack;
let api: ReturnType<typeof client>;
let db: pg.Client;

beforeAll(async () => {
  // The failures this test causes on purpose would otherwise fill the CI log (thousands of lines).
  vi.spyOn(console, 'error').mockImplementation(() => undefined);
  logger.setLogLevel('CRITICAL');
  // Visibility 1 s: each failed receive comes back after a second, so five take about five seconds.
  stack = await startTestStack('fault_poison', { visibilityTimeoutSeconds: 1 });
  api = client(stack);
  db = new pg.Client({ connectionString: stack.databaseUrl });
  await db.connect();
});
afterAll(async () => {
  vi.restoreAllMocks();
  logger.setLogLevel('WARN');
  await db?.end();
  await stack?.close();
});

describe('poison message', () => {
  it('lands in the DLQ after 5 receives, shows in /api/stats and /api/dlq, and replays once fixed', async () => {
    await api.createRecipient({ name: 'Receiver' });
    const poison = uniquePhone();
    await db.query(`
      CREATE SEQUENCE poison_attempts;
      CREATE FUNCTION reject_poison() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        -- nextval is not rolled back with the failing transaction: it counts the attempts.
        IF NEW.phone = '${poison}' THEN PERFORM nextval('poison_attempts'); RAISE EXCEPTION 'poison lead'; END IF;
        RETURN NEW;
      END $$;
      CREATE TRIGGER reject_poison BEFORE INSERT ON leads FOR EACH ROW EXECUTE FUNCTION reject_poison();`);

    const bad = await api.postLead({ phone: poison });
    const good = await api.postLead({ phone: uniquePhone() });
    expect(bad.status).toBe(202);
    expect(good.status).toBe(202);

    await waitFor(
      async () => (await api.get('/api/stats')).body.queue.dlq === 1,
      'the DLQ to hold it',
      60_000,
      250,
    );
    await stack.idle();
    const attempts = await db.query(`SELECT last_value::int AS n FROM poison_attempts`);
    expect(attempts.rows[0].n).toBe(5);
    expect((await api.lead(good.body.leadId)).status).toBe('assigned');
    expect((await api.get(`/api/leads/${bad.body.leadId}`)).status).toBe(404);

    const listed = await api.get('/api/dlq');
    expect(listed.status).toBe(200);
    expect(listed.body.items).toHaveLength(1);
    expect(listed.body.items[0]).toMatchObject({ type: 'lead', leadId: bad.body.leadId });
    expect(listed.body.items[0].receiveCount).toBeGreaterThanOrEqual(1);
    // Listing consumed nothing.
    expect((await api.get('/api/stats')).body.queue.dlq).toBe(1);
    expect((await api.get('/api/dlq')).body.items).toHaveLength(1);

    await db.query(`DROP TRIGGER reject_poison ON leads; DROP FUNCTION reject_poison();`);
    const replayed = await api.post('/api/dlq/replay', {});
    expect(replayed.status).toBe(200);
    expect(replayed.body).toMatchObject({ replayed: 1, items: [{ leadId: bad.body.leadId }] });
    await stack.idle();
    const lead = await api.lead(bad.body.leadId);
    expect(lead).toMatchObject({ status: 'assigned', phone: poison });
    expect(lead.events.filter((e: { type: string }) => e.type === 'lead.received')).toHaveLength(1);
    expect((await api.get('/api/stats')).body.queue.dlq).toBe(0);
    expect((await api.get('/api/dlq')).body.items).toEqual([]);
  }, 120_000);

  it('replays only the messages named, and answers 400 for a bad body', async () => {
    expect((await api.post('/api/dlq/replay', { messageIds: [] })).status).toBe(400);
    expect((await api.post('/api/dlq/replay', { messageIds: 'all' })).status).toBe(400);
    const none = await api.post('/api/dlq/replay', { messageIds: ['not-in-the-dlq'] });
    expect(none.body.replayed).toBe(0);
  });
});
