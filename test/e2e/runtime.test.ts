/**
 * The local runtime end to end: boot it (with its own embedded stores under a DATA_DIR), post a webhook
 * over HTTP, receive `lead.assigned` over the WebSocket, restart, and find every lead again.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { afterAll, describe, expect, it } from 'vitest';
import { startRuntime, type Runtime } from '../../bin/runtime.js';
import { client, uniquePhone } from '../support/stack.js';
import { createEmptyDatabase } from '../support/pg.js';

const dataDir = mkdtempSync(path.join(os.tmpdir(), 'leadrouter-e2e-'));
let runtime: Runtime | undefined;
let dropDb: (() => Promise<void>) | undefined;

afterAll(async () => {
  await runtime?.stop();
  await dropDb?.();
  rmSync(dataDir, { recursive: true, force: true });
});

function nextMessage(ws: WebSocket, predicate: (m: any) => boolean, timeoutMs = 5000): Promise<any> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no matching WebSocket message in time')), timeoutMs);
    ws.on('message', (raw) => {
      const m = JSON.parse(raw.toString());
      if (predicate(m)) {
        clearTimeout(timer);
        resolve(m);
      }
    });
  });
}

describe('local runtime', () => {
  it('webhook → queue → allocation → WebSocket, and a restart keeps every lead', async () => {
    const db = await createEmptyDatabase('e2e');
    dropDb = db.drop;
    // The database comes from the shared test server; DynamoDB and SQS are the runtime's own, in DATA_DIR.
    runtime = await startRuntime({ dataDir, databaseUrl: db.url, demo: false, ephemeral: true });
    const api = client(runtime);
    expect((await api.get('/health')).body.status).toBe('ok');
    await api.createRecipient({ name: 'Live', states: ['CA'] });

    const refused = new WebSocket(`${runtime.wsUrl}?token=wrong`);
    const refusal = await new Promise<number>((resolve) =>
      refused.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0)),
    );
    expect(refusal).toBe(401);

    const ws = new WebSocket(`${runtime.wsUrl}?token=${runtime.adminToken}`);
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    const phone = uniquePhone();
    const assigned = nextMessage(ws, (m) => m.type === 'lead.assigned');
    const posted = await api.postLead({ first_name: 'Grace', last_name: 'Hopper', phone, state: 'CA' });
    expect(posted.status).toBe(202);
    const message = await assigned;
    expect(message).toMatchObject({ type: 'lead.assigned', data: { lead: { id: posted.body.leadId } } });
    expect(typeof message.at).toBe('string');
    ws.close();

    const more = await Promise.all(
      Array.from({ length: 20 }, () => api.postLead({ phone: uniquePhone(), state: 'CA' })),
    );
    const ids = [posted.body.leadId, ...more.map((r) => r.body.leadId)];
    await runtime.stop();

    runtime = await startRuntime({ dataDir, databaseUrl: db.url, demo: false, ephemeral: true });
    await runtime.idle();
    const again = client(runtime);
    const leads = await Promise.all(ids.map((id) => again.lead(id)));
    expect(leads.every((l) => l && l.id && l.status === 'assigned')).toBe(true);
    // The same credentials work after the restart (kept in DATA_DIR).
    expect((await again.postLead({ phone })).body).toMatchObject({
      duplicate: true,
      leadId: posted.body.leadId,
    });
  });
});
