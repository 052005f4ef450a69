/**
 * Pushes events to the dashboard connections of their org through the WebSocket API's `@connections`
 * endpoint (API Gateway on AWS, the local gateway locally). A connection that answers 410 Gone is
 * forgotten. Message shape (SPEC §8): `{ "type", "at", "data" }`, plus the event id so a client can
 * ask for what it missed (`GET /api/events?after=<id>`).
 */
import { GoneException, PostToConnectionCommand } from '@aws-sdk/client-apigatewaymanagementapi';
import { managementClient } from '../../clients.js';
import { listConnections, removeConnection } from '../dynamo/connections.js';
import type { StoredEvent } from '../pg/events.js';
import { logger } from '../../powertools.js';

export function realtimeMessage(event: StoredEvent): string {
  return JSON.stringify({
    id: event.id,
    type: event.type,
    at: new Date(event.at).toISOString(),
    data: event.data,
  });
}

/** Returns the ids of events that were handed to every live connection (or had none to reach). */
export async function broadcastEvents(events: StoredEvent[], now: Date): Promise<number[]> {
  const client = managementClient();
  if (!client || events.length === 0) return events.map((e) => e.id);
  const byOrg = new Map<string, StoredEvent[]>();
  for (const e of events) byOrg.set(e.orgId, [...(byOrg.get(e.orgId) ?? []), e]);
  const delivered: number[] = [];
  await Promise.all(
    [...byOrg].map(async ([orgId, orgEvents]) => {
      const connections = await listConnections(orgId, now);
      let failed = false;
      await Promise.all(
        connections.map(async (connectionId) => {
          for (const event of orgEvents) {
            try {
              await client.send(
                new PostToConnectionCommand({ ConnectionId: connectionId, Data: realtimeMessage(event) }),
              );
            } catch (error) {
              if (error instanceof GoneException || (error as { name?: string }).name === 'GoneException') {
                await removeConnection(connectionId, orgId);
                return;
              }
              failed = true;
              logger.warn('Push to a connection failed', { orgId, connectionId, error: error as Error });
              return;
            }
          }
        }),
      );
      if (!failed) delivered.push(...orgEvents.map((e) => e.id));
    }),
  );
  return delivered;
}
