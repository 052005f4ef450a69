/**
 * Fault: the WebSocket gateway restarted (a deploy of the WebSocket API, or its connections dropped)
 * while leads keep arriving. A dashboard client that reconnects and asks `GET /api/events?after=<last
 * id it saw>` ends up with every event of its org exactly once and in order — none missed while it
 * was disconnected — which is what the dashboard does.
 */
import WebSocket from 'ws';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listConnections } from '../../functions/adapters/dynamo/connections.js';
import { client, startTestStack, uniquePhone, type TestStack } from '../support/stack.js';
import { waitFor } from './support.js';

let stack: TestStack;
let api: ReturnType<typeof client>;
let db: pg.Client;

beforeAll(async () => {
  stack = await startTestStack('fault_ws');
  api = client(stack);
  db = new pg.Client({ connectionString: stack.databaseUrl });
  await db.connect();
});
afterAll(async () => {
  await db?.end();
  await stack?.close();
});

/**
 * A dashboard's live connection, as `web/src/live.ts` does it: pushes, and on every reconnect a
 * catch-up from the last id seen before the drop, less a margin (ids are taken at insert, so a
 * transaction can commit a lower id after a higher one was pushed). Events are kept by id, so a push
 * that overlaps the catch-up counts once.
 */
class LiveClient {
  readonly events = new Map<number, { id: number; type: string }>();
  lastId = 0;
  connects = 0;
  private static readonly REPLAY_MARGIN = 100;
  private socket?: WebSocket;
  private closed = false;

  constructor(
    private readonly url: string,
    private readonly token: string,
  ) {}

  private add(event: { id: number; type: string }): void {
    this.events.set(event.id, event);
    this.lastId = Math.max(this.lastId, event.id);
  }

  async open(): Promise<void> {
    const from = Math.max(0, this.lastId - LiveClient.REPLAY_MARGIN);
    for (;;) {
      try {
        await new Promise<void>((resolve, reject) => {
          const socket = new WebSocket(`${this.url}?token=${encodeURIComponent(this.token)}`);
          socket.on('message', (data) => this.add(JSON.parse(data.toString())));
          socket.once('open', () => {
            this.socket = socket;
            this.connects++;
            socket.once('close', () => {
              if (!this.closed) void this.open();
            });
            resolve();
          });
          socket.once('error', reject);
        });
        break;
      } catch {
        if (this.closed) return;
        await new Promise((r) => setTimeout(r, 100)); // the gateway is still restarting
      }
    }
    // Catch up on what was committed while disconnected (pushes may overlap: events are keyed by id).
    const missed = await fetch(`${stack.url}/api/events?after=${from}&limit=1000`, {
      headers: { authorization: `Bearer ${this.token}` },
    });
    for (const e of ((await missed.json()) as { items: { id: number; type: string }[] }).items) this.add(e);
  }

  async close(): Promise<void> {
    this.closed = true;
    const socket = this.socket;
    if (socket && socket.readyState === WebSocket.OPEN)
      await new Promise((resolve) => socket.once('close', resolve).close());
  }
}

describe('WebSocket gateway restarted', () => {
  it('clients reconnect and catch up: every event of the org exactly once', async () => {
    await api.createRecipient({ name: 'Live' });
    const live = new LiveClient(stack.wsUrl, stack.adminToken);
    await live.open();
    const post = (n: number) =>
      Promise.all(Array.from({ length: n }, () => api.postLead({ phone: uniquePhone() })));

    await post(5);
    await stack.idle();
    await waitFor(() => live.events.size >= 10, 'the first pushes', 15_000, 20);

    // Leads keep arriving while the gateway goes down and comes back.
    const during = post(10);
    await stack.restartWsGateway();
    await during;
    await stack.idle();
    await post(5);
    await stack.idle();

    const all = await db.query(`SELECT id::int AS id FROM events WHERE org_id = $1 ORDER BY id`, [
      stack.orgId,
    ]);
    const expected = all.rows.map((r) => r.id as number);
    await waitFor(() => expected.every((id) => live.events.has(id)), 'every event on the client', 15_000, 20);
    expect(live.connects).toBeGreaterThanOrEqual(2);
    expect([...live.events.keys()].sort((a, b) => a - b)).toEqual(expected);
    expect(expected.length).toBeGreaterThanOrEqual(40); // received + assigned for 20 leads

    await live.close();
    await waitFor(
      async () => (await listConnections(stack.orgId, new Date())).length === 0,
      'the disconnect',
    );
  }, 60_000);
});
