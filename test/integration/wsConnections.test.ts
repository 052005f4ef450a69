/**
 * Forgetting WebSocket connections that answer 410 Gone. API Gateway runs `$connect` (which saves the
 * connection's row) before it completes the handshake and answers 410 for the new id until then, so a
 * broadcast racing a reconnect must not delete the row of a connection that is about to open: that
 * dashboard would stay connected and never receive another push (seen in the gateway-restart fault test).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  forgetGoneConnection,
  GONE_GRACE_SECONDS,
  listConnections,
  saveConnection,
} from '../../functions/adapters/dynamo/connections.js';
import { broadcastEvents } from '../../functions/adapters/ws/broadcast.js';
import { startTestStack, type TestStack } from '../support/stack.js';

let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack('ws_connections');
});
afterAll(async () => {
  await stack?.close();
});

describe('forgetting gone connections', () => {
  it('keeps a connection younger than the grace period and forgets an older one', async () => {
    const org = stack.orgId;
    const t0 = new Date('2026-11-23T10:00:00Z');
    await saveConnection(org, 'fresh-conn-1=', t0);
    await saveConnection(org, 'old-conn-1=', new Date(t0.getTime() - (GONE_GRACE_SECONDS + 5) * 1000));

    expect(await forgetGoneConnection('fresh-conn-1=', org, t0)).toBe(false);
    expect(await forgetGoneConnection('old-conn-1=', org, t0)).toBe(true);

    const left = await listConnections(org, t0);
    expect(left).toContain('fresh-conn-1=');
    expect(left).not.toContain('old-conn-1=');
    // Past the grace period the fresh one may go too.
    expect(
      await forgetGoneConnection(
        'fresh-conn-1=',
        org,
        new Date(t0.getTime() + (GONE_GRACE_SECONDS + 1) * 1000),
      ),
    ).toBe(true);
    expect(await listConnections(org, t0)).not.toContain('fresh-conn-1=');
  });

  it('a broadcast that meets 410 for a just-saved connection (handshake not complete) keeps its row', async () => {
    const org = stack.orgId;
    const now = new Date();
    // Saved by `$connect`, but the gateway has no such socket (yet): PostToConnection answers 410.
    await saveConnection(org, 'handshaking-1=', now);
    await saveConnection(org, 'long-gone-1=', new Date(now.getTime() - 3600_000));
    await broadcastEvents(
      [{ id: 1, orgId: org, type: 'lead.received', leadId: null, at: now, data: {} }],
      now,
    );
    const left = await listConnections(org, now);
    expect(left).toContain('handshaking-1=');
    expect(left).not.toContain('long-gone-1=');
  });
});
