/**
 * Fault: PostgreSQL stopped for 30 s under load. The ingest path never touches PostgreSQL (secrets,
 * claims and the queue are DynamoDB and SQS), so every webhook call during the outage still answers
 * 202. The allocator fails meanwhile; its messages come back after their visibility timeout (20 s here:
 * at most two failed receives in the outage, well under the DLQ's limit of 5), and once the database is
 * back the backlog drains: every accepted lead stored and assigned exactly once, nothing in the DLQ.
 *
 * Set-up, all on this machine: a dedicated embedded PostgreSQL with crash-safe settings (so it can be
 * stopped and started on its port, like the Aurora it stands in for), the DynamoDB and SQS stand-ins,
 * the ingest handler behind the local HTTP API gateway, and two allocator processes
 * (`bin/local/allocatorWorker.ts`, one invocation at a time each — two Lambda environments).
 */
import type { ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ensureTables, startDynamo } from '../../bin/local/dynamo.js';
import { createHttpGateway } from '../../bin/local/httpGateway.js';
import { startPostgres, type RunningPostgres } from '../../bin/local/postgres.js';
import { ensureLeadQueues, startSqs } from '../../bin/local/sqs.js';
import { migrateUp } from '../../functions/adapters/pg/migrate.js';
import { resetClients } from '../../functions/clients.js';
import { resetConfig } from '../../functions/config.js';
import { handler as ingest } from '../../functions/ingest/handler.js';
import { logger } from '../../functions/powertools.js';
import { createOrg } from '../../functions/usecases/orgs.js';
import { createRecipient } from '../../functions/usecases/recipients.js';
import { uniquePhone } from '../support/stack.js';
import { killWorker, queueCounts, sqsClientFor, startAllocatorWorker, waitFor } from './support.js';

const OUTAGE_MS = 30_000;
const LEADS_PER_SECOND = 20;

let pgDir: string;
let server: RunningPostgres;
let queues: Awaited<ReturnType<typeof ensureLeadQueues>>;
let sqsEndpoint: string;
let url: string;
let secret: string;
const workers: ChildProcess[] = [];
const stops: (() => Promise<void>)[] = [];

beforeAll(async () => {
  // The failures this test causes on purpose would otherwise fill the CI log.
  vi.spyOn(console, 'error').mockImplementation(() => undefined);
  logger.setLogLevel('CRITICAL');
  pgDir = mkdtempSync(path.join(os.tmpdir(), 'leadrouter-fault-pg-'));
  chmodSync(pgDir, 0o755); // the server may run as the `postgres` user
  server = await startPostgres({ dataDir: pgDir });
  await migrateUp(server.url);
  const dynamo = await startDynamo();
  await ensureTables(dynamo.endpoint);
  const sqs = await startSqs();
  sqsEndpoint = sqs.endpoint;
  queues = await ensureLeadQueues(sqs.endpoint);
  stops.push(
    () => sqs.stop(),
    () => dynamo.stop(),
  );
  Object.assign(process.env, {
    LOCAL_RUNTIME: '1',
    DATABASE_URL: server.url,
    DYNAMODB_ENDPOINT: dynamo.endpoint,
    SQS_ENDPOINT: sqs.endpoint,
    LEAD_QUEUE_URL: queues.queueUrl,
    LEAD_DLQ_URL: queues.dlqUrl,
  });
  delete process.env.WS_MANAGEMENT_ENDPOINT;
  resetConfig();
  await resetClients();
  const org = await createOrg({ name: 'Outage' });
  secret = org.webhookSecret;
  await createRecipient(org.orgId, {
    name: 'Patient',
    email: null,
    states: [],
    dailyCap: null,
    quota: null,
    weight: 1,
    timezone: 'America/New_York',
    workingHours: null,
    active: true,
  });
  // Lead intake exactly as deployed: the ingest Lambda behind the HTTP API.
  const httpServer = http.createServer(
    createHttpGateway({ routes: [{ method: 'POST', path: '/webhooks/leads', handler: ingest }] }),
  );
  await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(httpServer.address() as AddressInfo).port}`;
  stops.unshift(() => new Promise((resolve) => httpServer.close(() => resolve())));
  for (let i = 0; i < 2; i++)
    workers.push(
      await startAllocatorWorker({
        DATABASE_URL: server.url,
        SQS_ENDPOINT: sqsEndpoint,
        LEAD_QUEUE_URL: queues.queueUrl,
        LEAD_QUEUE_ARN: queues.queueArn,
        ALLOCATOR_VISIBILITY_TIMEOUT: '20',
        ALLOCATOR_POLLERS: '1',
      }),
    );
});

afterAll(async () => {
  for (const w of workers) await killWorker(w, 'SIGTERM');
  await resetClients();
  for (const stop of stops) await stop().catch(() => undefined);
  await server?.stop();
  if (server) rmSync(server.clusterDir, { recursive: true, force: true });
  if (pgDir) rmSync(pgDir, { recursive: true, force: true });
  vi.restoreAllMocks();
  logger.setLogLevel('WARN');
});

const postLead = async () => {
  const res = await fetch(`${url}/webhooks/leads`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-webhook-secret': secret },
    body: JSON.stringify({ phone: uniquePhone() }),
  });
  return { status: res.status, body: (await res.json()) as { leadId?: string } };
};

describe('PostgreSQL outage', () => {
  it('ingest keeps answering 202 for 30 s without PostgreSQL; the backlog drains after, nothing lost or doubled', async () => {
    const statuses: number[] = [];
    const accepted: string[] = [];
    const duringOutage: number[] = [];
    let outage = false;
    let producing = true;
    const producer = (async () => {
      while (producing) {
        const started = Date.now();
        const answers = await Promise.all(Array.from({ length: LEADS_PER_SECOND / 4 }, postLead));
        for (const a of answers) {
          statuses.push(a.status);
          if (a.status === 202 && a.body.leadId) accepted.push(a.body.leadId);
          if (outage) duringOutage.push(a.status);
        }
        await new Promise((r) => setTimeout(r, Math.max(0, 250 - (Date.now() - started))));
      }
    })();

    await new Promise((r) => setTimeout(r, 3000));
    await server.stop();
    outage = true;
    const down = Date.now();
    await new Promise((r) => setTimeout(r, OUTAGE_MS));
    outage = false;
    server = await startPostgres({ dataDir: pgDir, port: server.port });
    const outageMs = Date.now() - down;
    await new Promise((r) => setTimeout(r, 3000));
    producing = false;
    await producer;

    // Intake went on through the whole outage (the rate reached depends on the machine's load).
    expect(duringOutage.length).toBeGreaterThanOrEqual(OUTAGE_MS / 1000);
    expect(statuses.every((s) => s === 202)).toBe(true);

    const db = new pg.Client({ connectionString: server.url });
    await db.connect();
    const sqs = sqsClientFor(sqsEndpoint);
    try {
      const stored = async () =>
        (await db.query(`SELECT count(*)::int AS n FROM leads WHERE status <> 'queued'`)).rows[0].n as number;
      await waitFor(
        async () =>
          (await stored()) === accepted.length && (await queueCounts(sqs, queues.queueUrl)).total === 0,
        'the backlog to drain',
        120_000,
        500,
      ).catch(async (error: Error) => {
        const have = new Set((await db.query(`SELECT id FROM leads`)).rows.map((r) => r.id as string));
        const state = {
          accepted: accepted.length,
          stored: await stored(),
          missing: accepted.filter((id) => !have.has(id)),
          queue: await queueCounts(sqs, queues.queueUrl),
          dlq: await queueCounts(sqs, queues.dlqUrl),
        };
        throw new Error(`${error.message}: ${JSON.stringify(state)}`);
      });
      const leads = await db.query(`SELECT id, status FROM leads`);
      expect(new Set(leads.rows.map((r) => r.id))).toEqual(new Set(accepted));
      expect(leads.rows.every((r) => r.status === 'assigned')).toBe(true);
      const doubled = await db.query(
        `SELECT lead_id FROM assignments GROUP BY lead_id HAVING count(*) <> 1
         UNION ALL SELECT lead_id FROM events WHERE type = 'lead.received' GROUP BY lead_id HAVING count(*) <> 1`,
      );
      expect(doubled.rows).toEqual([]);
      expect((await queueCounts(sqs, queues.dlqUrl)).total).toBe(0);
      console.log(
        `PostgreSQL down ${(outageMs / 1000).toFixed(1)} s: ${statuses.length} requests (${duringOutage.length} during the outage), all 202; ${accepted.length} leads stored and assigned once, 0 lost`,
      );
    } finally {
      sqs.destroy();
      await db.end();
    }
  }, 300_000);
});
