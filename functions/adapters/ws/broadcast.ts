/**
 * Pushes events to the dashboard connections of their org through the WebSocket API's `@connections`
 * endpoint (API Gateway on AWS, the local gateway locally). A connection that answers 410 Gone is
 * forgotten. Message shape (SPEC §8): `{ "type", "at", "data" }`, plus the event id so a client can
 * ask for what it missed (`GET /api/events?after=<id>`) and drop what it already has.
 */
import { GoneException, PostToConnectionCommand } from '@aws-sdk/client-apigatewaymanagementapi';
import pMap from 'p-map';
import { managementClient } from '../../clients.js';
import { forgetGoneConnection, listConnections } from '../dynamo/connections.js';
import type { StoredEvent } from '../pg/events.js';
import { logger } from '../../powertools.js';

/**
 * `PostToConnection` calls in flight at once, per broadcast. Each is one HTTPS request to API Gateway
 * (≈ 10–30 ms from Lambda), so one at a time made a batch's push as slow as the sum of them; the bound
 * keeps a large org (many open dashboards) from opening hundreds of sockets from one invocation.
 */
export const PUSH_CONCURRENCY = 16;

export function realtimeMessage(event: StoredEvent): string {
  return JSON.stringify({
    id: event.id,
    type: event.type,
    at: new Date(event.at).toISOString(),
    data: event.data,
  });
}

/**
 * Returns the ids of events that were handed to every live connection (or had none to reach).
 *
 * One connections Query per org in the call (not per event), then every (connection, event) pair is
 * posted concurrently, at most `PUSH_CONCURRENCY` at once. Order across messages is not kept (it is
 * not on API Gateway either): dashboards apply events by id and drop ids they have seen. A connection
 * found gone is removed once and gets nothing more; any other failure leaves the org's events
 * unpublished, so the outbox relay pushes them again.
 */
export async function broadcastEvents(events: StoredEvent[], now: Date): Promise<number[]> {
  const client = managementClient();
  if (!client || events.length === 0) return events.map((e) => e.id);
  const byOrg = new Map<string, StoredEvent[]>();
  for (const e of events) {
    const list = byOrg.get(e.orgId);
    if (list) list.push(e);
    else byOrg.set(e.orgId, [e]);
  }
  const orgs = await Promise.all(
    [...byOrg].map(async ([orgId, orgEvents]) => ({
      orgId,
      orgEvents,
      connections: await listConnections(orgId, now),
    })),
  );
  const posts = orgs.flatMap(({ orgId, orgEvents, connections }) =>
    connections.flatMap((connectionId) => orgEvents.map((event) => ({ orgId, connectionId, event }))),
  );
  const gone = new Set<string>();
  const failedOrgs = new Set<string>();
  await pMap(
    posts,
    async ({ orgId, connectionId, event }) => {
      if (gone.has(connectionId)) return;
      try {
        await client.send(
          new PostToConnectionCommand({ ConnectionId: connectionId, Data: realtimeMessage(event) }),
        );
      } catch (error) {
        if (error instanceof GoneException || (error as { name?: string }).name === 'GoneException') {
          if (gone.has(connectionId)) return;
          gone.add(connectionId);
          // Not being able to forget it is harmless: the next push finds it gone again, TTL removes it.
          await forgetGoneConnection(connectionId, orgId, now).catch((removal: unknown) =>
            logger.warn('Forgetting a gone connection failed', {
              orgId,
              connectionId,
              error: removal as Error,
            }),
          );
          return;
        }
        failedOrgs.add(orgId);
        logger.warn('Push to a connection failed', { orgId, connectionId, error: error as Error });
      }
    },
    { concurrency: PUSH_CONCURRENCY },
  );
  return orgs.filter((o) => !failedOrgs.has(o.orgId)).flatMap((o) => o.orgEvents.map((e) => e.id));
}
