/**
 * Fault: the allocator killed mid-batch, repeatedly. The stand-ins (PostgreSQL database, DynamoDB,
 * SQS FIFO) run in this test process; the allocator runs as a child process
 * (`bin/local/allocatorWorker.ts`) that is SIGKILLed four times while leads keep arriving, each time
 * while it holds received messages, and started again. Messages of a killed worker come back after
 * their visibility timeout (2 s here); a transaction it had committed before dying must not assign
 * again. Four kills stay below the receive limit (5), so no message may reach the DLQ.
 *
 * Then: every accepted lead is stored once and assigned exactly once, one `lead.assigned` event each,
 * and the recipients' counters equal their assignment rows.
 */
import type { ChildProcess } from 'node:child_process';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDynamo, ensureTables } from '../../bin/local/dynamo.js';
import { ensureLeadQueues, startSqs } from '../../bin/local/sqs.js';
import type { SourceSecretRecord } from '../../functions/adapters/dynamo/keys.js';
import { migrateUp } from '../../functions/adapters/pg/migrate.js';
import { resetClients } from '../../functions/clients.js';
import { resetConfig } from '../../functions/config.js';
import { ingestLead } from '../../functions/usecases/ingestLead.js';
import { createOrg } from '../../functions/usecases/orgs.js';
import { createRecipient } from '../../functions/usecases/recipients.js';
import { createEmptyDatabase, type EmptyDatabase } from '../support/pg.js';
import { uniquePhone } from '../support/stack.js';
import { killWorker, queueCounts, sqsClientFor, startAllocatorWorker, waitFor } from './support.js';

const KILLS = 4;

let database: EmptyDatabase;
let stops: (() => Promise<void>)[] = [];
let db: pg.Client;
let queues: Awaited<ReturnType<typeof ensureLeadQueues>>;
let sqsEndpoint: string;
let source: SourceSecretRecord;
let worker: ChildProcess | undefined;

beforeAll(async () => {
  database = await createEmptyDatabase('fault_kill');
  await migrateUp(database.url);
  const dynamo = await startDynamo();
  await ensureTables(dynamo.endpoint);
  const sqs = await startSqs();
  sqsEndpoint = sqs.endpoint;
  queues = await ensureLeadQueues(sqs.endpoint);
  stops = [() => sqs.stop(), () => dynamo.stop()];
  Object.assign(process.env, {
    LOCAL_RUNTIME: '1',
    DATABASE_URL: database.url,
    DYNAMODB_ENDPOINT: dynamo.endpoint,
    SQS_ENDPOINT: sqs.endpoint,
    LEAD_QUEUE_URL: queues.queueUrl,
    LEAD_DLQ_URL: queues.dlqUrl,
    POWERTOOLS_LOG_LEVEL: 'ERROR',
  });
  delete process.env.WS_MANAGEMENT_ENDPOINT;
  resetConfig();
  await resetClients();
  const org = await createOrg({ name: 'Killed allocator' });
  source = { orgId: org.orgId, sourceId: org.sourceId, fieldMap: {}, defaultCampaign: null };
  // The `default` campaign's pool is every active recipient: three of them, no caps.
  for (const name of ['K1', 'K2', 'K3'])
    await createRecipient(org.orgId, {
      name,
      email: null,
      states: [],
      dailyCap: null,
      quota: null,
      weight: 1,
      timezone: 'America/New_York',
      workingHours: null,
      active: true,
    });
  db = new pg.Client({ connectionString: database.url });
  await db.connect();
});

afterAll(async () => {
  worker?.kill('SIGKILL');
  await db?.end();
  await resetClients();
  for (const stop of stops) await stop().catch(() => undefined);
  await database?.drop().catch(() => undefined);
});

const startWorker = () =>
  startAllocatorWorker({
    DATABASE_URL: database.url,
    SQS_ENDPOINT: sqsEndpoint,
    LEAD_QUEUE_URL: queues.queueUrl,
    LEAD_QUEUE_ARN: queues.queueArn,
    ALLOCATOR_VISIBILITY_TIMEOUT: '2',
    ALLOCATOR_POLLERS: '2',
  });

const count = async (sql: string, values: unknown[] = []) =>
  (await db.query(sql, values)).rows[0].n as number;

describe('allocator killed mid-batch', () => {
  it(`${KILLS} SIGKILLs while leads flow: every lead assigned exactly once after redelivery`, async () => {
    const sqs = sqsClientFor(sqsEndpoint);
    const accepted: string[] = [];
    let producing = true;
    // Leads keep arriving throughout, faster than one worker allocates, so a kill finds it mid-batch.
    const producer = (async () => {
      while (producing) {
        const results = await Promise.all(
          Array.from({ length: 20 }, () => ingestLead(source, { phone: uniquePhone() })),
        );
        for (const r of results) {
          expect(r.statusCode).toBe(202);
          accepted.push(r.body.leadId);
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    })();

    const inFlightAtKill: number[] = [];
    // A kill counts when it hit held messages. The worker can finish its batch between the check and
    // the signal (nothing in flight after the kill): such a kill proves nothing, so it is made again.
    for (let attempt = 0; inFlightAtKill.filter((n) => n > 0).length < KILLS; attempt++) {
      if (attempt >= KILLS * 4) throw new Error(`kills never hit a batch in flight: ${inFlightAtKill}`);
      worker = await startWorker();
      const before = await count(`SELECT count(*)::int AS n FROM leads`);
      // Let it commit some leads (and hold its next batch), then kill it without warning.
      await waitFor(
        async () => (await count(`SELECT count(*)::int AS n FROM leads`)) >= before + 25,
        'progress',
      );
      await waitFor(
        async () => (await queueCounts(sqs, queues.queueUrl)).inFlight > 0,
        'a batch in flight',
        10_000,
        5,
      );
      await killWorker(worker);
      inFlightAtKill.push((await queueCounts(sqs, queues.queueUrl)).inFlight);
    }
    producing = false;
    await producer;

    worker = await startWorker();
    await waitFor(
      async () =>
        (await count(`SELECT count(*)::int AS n FROM leads WHERE status <> 'queued'`)) === accepted.length &&
        (await queueCounts(sqs, queues.queueUrl)).total === 0,
      'the backlog and the redeliveries to drain',
      120_000,
      200,
    );
    await killWorker(worker);
    worker = undefined;

    // The kills really hit held messages: they were in flight when the worker died.
    expect(inFlightAtKill.filter((n) => n > 0)).toHaveLength(KILLS);
    expect(accepted.length).toBeGreaterThan(KILLS * 25);
    expect(await count(`SELECT count(*)::int AS n FROM leads WHERE id = ANY($1::uuid[])`, [accepted])).toBe(
      accepted.length,
    );
    expect(await count(`SELECT count(*)::int AS n FROM leads WHERE status <> 'assigned'`)).toBe(0);
    // Exactly one assignment and one lead.assigned event per lead.
    expect(
      await count(
        `SELECT count(*)::int AS n FROM (SELECT lead_id FROM assignments GROUP BY lead_id HAVING count(*) <> 1) x`,
      ),
    ).toBe(0);
    expect(await count(`SELECT count(*)::int AS n FROM assignments`)).toBe(accepted.length);
    expect(await count(`SELECT count(*)::int AS n FROM events WHERE type = 'lead.assigned'`)).toBe(
      accepted.length,
    );
    expect(
      await count(`SELECT count(*)::int AS n FROM (SELECT lead_id FROM events WHERE type = 'lead.received'
                   GROUP BY lead_id HAVING count(*) <> 1) x`),
    ).toBe(0);
    // Counters equal rows.
    expect(
      await count(`SELECT count(*)::int AS n FROM recipient_day_counts d
                   WHERE d.assigned <> (SELECT count(*) FROM assignments a
                     WHERE a.recipient_id = d.recipient_id AND a.local_day = d.local_day AND a.counted)`),
    ).toBe(0);
    expect((await queueCounts(sqs, queues.dlqUrl)).total).toBe(0);
    sqs.destroy();
    console.log(
      `allocator killed ${KILLS}× (in flight at each kill: ${inFlightAtKill.join(', ')}); ${accepted.length} leads, 0 lost, 0 doubled`,
    );
  }, 240_000);
});
