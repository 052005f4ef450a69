/**
 * Two faults found while building the fault tests, now fixed; each test is the deterministic
 * reproduction, written as the behaviour that must hold.
 */
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { migrateUp } from '../../functions/adapters/pg/migrate.js';
import { resetClients } from '../../functions/clients.js';
import { resetConfig } from '../../functions/config.js';
import { logger } from '../../functions/powertools.js';
import { createOrg } from '../../functions/usecases/orgs.js';
import { createEmptyDatabase, type EmptyDatabase } from '../support/pg.js';
import { uniquePhone } from '../support/stack.js';

let database: EmptyDatabase;
let orgId: string;

beforeAll(async () => {
  vi.spyOn(console, 'error').mockImplementation(() => undefined);
  logger.setLogLevel('CRITICAL');
  database = await createEmptyDatabase('known_bugs');
  await migrateUp(database.url);
  Object.assign(process.env, {
    LOCAL_RUNTIME: '1',
    DATABASE_URL: database.url,
    // The allocator reads its configuration at cold start; these tests never send to a queue.
    LEAD_QUEUE_URL: 'http://127.0.0.1:9/000000000000/unused.fifo',
  });
  delete process.env.WS_MANAGEMENT_ENDPOINT;
  resetConfig();
  await resetClients();
  // No DynamoDB here: createOrg's secret mirror is not needed, so its failure is ignored.
  orgId = (await createOrg({ name: 'Known bugs' }).catch(() => undefined))?.orgId ?? '';
  if (!orgId) {
    const db = new pg.Client({ connectionString: database.url });
    await db.connect();
    orgId = (await db.query(`SELECT id FROM orgs LIMIT 1`)).rows[0].id;
    await db.end();
  }
});
afterAll(async () => {
  await resetClients();
  await database?.drop().catch(() => undefined);
  vi.restoreAllMocks();
  logger.setLogLevel('WARN');
});

function record(messageId: string, body: string, group: string): SQSRecord {
  return {
    messageId,
    receiptHandle: messageId,
    body,
    attributes: {
      ApproximateReceiveCount: '1',
      SentTimestamp: String(Date.now()),
      SenderId: 'local',
      ApproximateFirstReceiveTimestamp: String(Date.now()),
      MessageGroupId: group,
      MessageDeduplicationId: messageId,
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:leadrouter-leads.fifo',
    awsRegion: 'us-east-1',
  };
}

const leadBody = () =>
  JSON.stringify({
    type: 'lead',
    orgId,
    sourceId: null,
    leadId: crypto.randomUUID(),
    receivedAt: new Date().toISOString(),
    lead: {
      phone: uniquePhone(),
      email: null,
      firstName: null,
      lastName: null,
      state: null,
      zip: null,
      campaign: null,
      externalId: null,
      attributes: {},
    },
  });

const context = { awsRequestId: 'known-bugs', getRemainingTimeInMillis: () => 30_000 } as unknown as Context;

describe('faults inside one process', () => {
  it('two allocator invocations at once in one process keep their batch failures apart (a failed record is never reported as done)', async () => {
    const { handler } = await import('../../functions/allocator/handler.js');
    // A: an unreadable record (fails at once) and a lead (takes a transaction); B starts meanwhile.
    const a = handler(
      {
        Records: [record('a-bad', '{"not":"a lead"}', 'g-bad'), record('a-good', leadBody(), 'g-a')],
      } as SQSEvent,
      context,
    );
    const b = handler({ Records: [record('b-good', leadBody(), 'g-b')] } as SQSEvent, context);
    const [fromA] = await Promise.all([a, b]);
    expect(fromA?.batchItemFailures.map((f) => f.itemIdentifier)).toEqual(['a-bad']);
  });

  it('a connection dropped while a transaction awaits other work fails that transaction only, never as an uncaught exception', async () => {
    const { withTransaction } = await import('../../functions/adapters/pg/db.js');
    const admin = new pg.Client({ connectionString: database.url });
    await admin.connect();
    const uncaught: unknown[] = [];
    const listener = (error: unknown) => uncaught.push(error);
    process.on('uncaughtException', listener);
    try {
      await withTransaction(async (db) => {
        const { rows } = await db.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
        // The server ends this connection while the transaction waits for something else.
        await admin.query('SELECT pg_terminate_backend($1)', [rows[0]!.pid]);
        await new Promise((r) => setTimeout(r, 300));
      }).catch(() => undefined);
    } finally {
      process.off('uncaughtException', listener);
      await admin.end();
    }
    expect(uncaught).toEqual([]);
  });
});
