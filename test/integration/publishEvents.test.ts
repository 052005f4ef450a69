/**
 * The realtime push after a commit (`publishEvents`) and its safety net (`relayOutbox`), against the
 * local runtime's real WebSocket gateway, DynamoDB stand-in and PostgreSQL.
 */
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import { documentClient, dbPool } from '../../functions/clients.js';
import { listConnections, saveConnection } from '../../functions/adapters/dynamo/connections.js';
import { withTransaction } from '../../functions/adapters/pg/db.js';
import { insertEvents, markEventsPublished, type StoredEvent } from '../../functions/adapters/pg/events.js';
import { PUSH_CONCURRENCY } from '../../functions/adapters/ws/broadcast.js';
import { publishEvents, relayOutbox } from '../../functions/usecases/publishEvents.js';
import { startTestStack, type TestStack } from '../support/stack.js';

let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack('publish');
});
afterAll(async () => {
  await stack?.close();
});

/** A dashboard connection that records the event ids it receives, in arrival order. */
async function dashboard(): Promise<{ ids: number[]; close(): void }> {
  const socket = new WebSocket(`${stack.wsUrl}?token=${stack.adminToken}`);
  const ids: number[] = [];
  socket.on('message', (raw) => {
    const message = JSON.parse(String(raw)) as { id?: number };
    if (typeof message.id === 'number') ids.push(message.id);
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  return { ids, close: () => socket.close() };
}

async function storeEvents(count: number): Promise<StoredEvent[]> {
  return withTransaction((db) =>
    insertEvents(
      db,
      Array.from({ length: count }, (_, i) => ({
        orgId: stack.orgId,
        type: 'recipient.updated' as const,
        data: { n: i },
      })),
      new Date(),
    ),
  );
}

async function publishedAt(ids: number[]): Promise<(Date | null)[]> {
  const pool = await dbPool();
  const out = await pool.query<{ published_at: Date | null }>(
    `SELECT published_at FROM events WHERE id = ANY($1::bigint[]) ORDER BY id`,
    [ids],
  );
  return out.rows.map((r) => r.published_at);
}

async function until(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('publishEvents', () => {
  it('pushes every event to every connection of the org once, with one connections Query, and marks them published', async () => {
    // Prepare: two dashboards and more events than pushes run at once.
    const a = await dashboard();
    const b = await dashboard();
    const events = await storeEvents(PUSH_CONCURRENCY + 4);
    const ids = events.map((e) => e.id);
    const send = vi.spyOn(documentClient(), 'send');

    // Act
    await publishEvents(events);

    // Assess
    const queries = send.mock.calls.filter(([command]) => command instanceof QueryCommand);
    send.mockRestore();
    expect(queries).toHaveLength(1);
    await until(() => a.ids.length >= ids.length && b.ids.length >= ids.length);
    expect([...a.ids].sort((x, y) => x - y)).toEqual(ids);
    expect([...b.ids].sort((x, y) => x - y)).toEqual(ids);
    expect((await publishedAt(ids)).every((at) => at instanceof Date)).toBe(true);
    a.close();
    b.close();
  });

  it('forgets a connection that is gone and still delivers to the live ones', async () => {
    // Prepare: a live dashboard and a connection id the gateway does not know (closed without $disconnect).
    const live = await dashboard();
    // (Older than the grace in which a 410 may mean "handshake not completed yet".)
    await saveConnection(stack.orgId, 'gone-connection', new Date(Date.now() - 120_000));
    const events = await storeEvents(3);

    // Act
    await publishEvents(events);

    // Assess
    await until(() => live.ids.length >= 3);
    expect(live.ids.sort((x, y) => x - y)).toEqual(events.map((e) => e.id));
    expect(await listConnections(stack.orgId, new Date())).not.toContain('gone-connection');
    expect((await publishedAt(events.map((e) => e.id))).every((at) => at instanceof Date)).toBe(true);
    live.close();
  });

  it('marks events published without leaving synchronous_commit off on the pooled connection', async () => {
    // Prepare: a pooled connection that commits durably.
    const [event] = await storeEvents(1);
    const pool = await dbPool();
    const connection = await pool.connect();
    try {
      await connection.query(`SET synchronous_commit = on`);

      // Act
      await markEventsPublished([event!.id], new Date(), connection);

      // Assess: marked, and the setting was the statement's transaction's alone.
      expect((await publishedAt([event!.id]))[0]).toBeInstanceOf(Date);
      const setting = await connection.query<{ synchronous_commit: string }>(`SHOW synchronous_commit`);
      expect(setting.rows[0]!.synchronous_commit).toBe('on');
    } finally {
      connection.release();
    }
  });
  it('does not wait for events the outbox relay holds: it marks the others and leaves those to the relay', async () => {
    // Prepare: the relay has claimed two events (its transaction is still open, pushing).
    const [claimed1, claimed2, free] = await storeEvents(3);
    const pool = await dbPool();
    const relay = await pool.connect();
    try {
      await relay.query('BEGIN');
      await relay.query(`SELECT id FROM events WHERE id = ANY($1::bigint[]) FOR UPDATE`, [
        [claimed1!.id, claimed2!.id],
      ]);

      // Act
      const started = Date.now();
      await markEventsPublished([claimed1!.id, claimed2!.id, free!.id], new Date());
      const waitedMs = Date.now() - started;

      // Assess: answered without waiting for the relay; only the free event marked.
      expect(waitedMs).toBeLessThan(2_000);
      const [at1, at2, atFree] = await publishedAt([claimed1!.id, claimed2!.id, free!.id]);
      expect([at1, at2]).toEqual([null, null]);
      expect(atFree).toBeInstanceOf(Date);
    } finally {
      await relay.query('ROLLBACK');
      relay.release();
    }
  });
});

describe('relayOutbox', () => {
  it('pushes committed events that were never pushed, once, and marks them', async () => {
    // Prepare: events committed as if the writer had crashed before its push.
    const live = await dashboard();
    const events = await storeEvents(5);
    const ids = events.map((e) => e.id);

    // Act: the runtime's own relay (every 500 ms here) may run concurrently; rows are claimed with
    // skip locked, so together they push each event once.
    await relayOutbox(0);

    // Assess
    await until(() => ids.every((id) => live.ids.includes(id)));
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(live.ids.filter((id) => ids.includes(id)).sort((x, y) => x - y)).toEqual(ids);
    expect((await publishedAt(ids)).every((at) => at instanceof Date)).toBe(true);
    live.close();
  });
});
