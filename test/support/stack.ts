/**
 * Boots the local runtime inside a test: a fresh database on the test run's PostgreSQL, an in-memory
 * DynamoDB stand-in and SQS stand-in, the real handlers behind real HTTP. Each test file runs in its
 * own worker process, so the runtime's process-wide environment belongs to that file alone.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startRuntime, type Runtime, type RuntimeOptions } from '../../bin/runtime.js';
import { createEmptyDatabase } from './pg.js';

export interface TestStack extends Runtime {
  dataDir: string;
  /** Stops everything and drops the database. */
  close(): Promise<void>;
}

export async function startTestStack(name: string, opts: Partial<RuntimeOptions> = {}): Promise<TestStack> {
  const db = await createEmptyDatabase(name);
  const dataDir = opts.dataDir ?? mkdtempSync(path.join(os.tmpdir(), `leadrouter-${name}-`));
  const runtime = await startRuntime({
    dataDir,
    databaseUrl: db.url,
    ephemeral: true,
    demo: false,
    relayIntervalMs: 500,
    ...opts,
  });
  return {
    ...runtime,
    dataDir,
    close: async () => {
      await runtime.stop();
      await db.drop().catch(() => undefined);
      if (!opts.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A tiny client for the admin API and the webhooks of one stack. */
export function client(stack: Pick<Runtime, 'url' | 'adminToken' | 'webhookSecret'>) {
  const call = async (method: string, p: string, body?: unknown, headers: Record<string, string> = {}) => {
    const res = await fetch(stack.url + p, {
      method,
      headers: {
        authorization: `Bearer ${stack.adminToken}`,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...headers,
      },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    let json: any;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    return { status: res.status, body: json, text, headers: res.headers };
  };
  return {
    call,
    get: (p: string) => call('GET', p),
    post: (p: string, body?: unknown, headers?: Record<string, string>) =>
      call('POST', p, body ?? {}, headers),
    patch: (p: string, body: unknown) => call('PATCH', p, body),
    postLead: (lead: Record<string, unknown>, headers: Record<string, string> = {}) =>
      call('POST', '/webhooks/leads', lead, { 'x-webhook-secret': stack.webhookSecret, ...headers }),
    createRecipient: async (fields: Record<string, unknown>) => {
      const res = await call('POST', '/api/recipients', fields);
      if (res.status !== 201) throw new Error(`createRecipient ${res.status} ${res.text}`);
      return res.body as { id: string; name: string } & Record<string, unknown>;
    },
    createCampaign: async (fields: Record<string, unknown>) => {
      const res = await call('POST', '/api/campaigns', fields);
      if (res.status !== 201) throw new Error(`createCampaign ${res.status} ${res.text}`);
      return res.body as Record<string, unknown>;
    },
    lead: async (id: string) => (await call('GET', `/api/leads/${id}`)).body,
  };
}

let phoneCounter = 0;
/** A valid US phone number (E.164), different on each call within a test file. */
export function uniquePhone(): string {
  phoneCounter += 1;
  const exchange = 234 + Math.floor(phoneCounter / 10_000);
  return `+1415${exchange}${String(phoneCounter % 10_000).padStart(4, '0')}`;
}
