/**
 * Open dashboard WebSocket connections, keyed by org so the broadcaster reaches exactly the org's
 * connections (one Query, no scan across tenants).
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { documentClient } from '../../clients.js';
import { config } from '../../config.js';

/** API Gateway closes WebSocket connections after 2 hours; TTL removes rows of connections that vanished. */
const CONNECTION_TTL_SECONDS = 3 * 3600;

export async function saveConnection(orgId: string, connectionId: string, now: Date): Promise<void> {
  const at = Math.floor(now.getTime() / 1000);
  await documentClient().send(
    new PutCommand({
      TableName: config().tables.connections,
      Item: { orgId, connectionId, connectedAt: at, expiresAt: at + CONNECTION_TTL_SECONDS },
    }),
  );
  // A reverse entry lets $disconnect (which knows only the connection id) find the org.
  await documentClient().send(
    new PutCommand({
      TableName: config().tables.connections,
      Item: { orgId: `conn#${connectionId}`, connectionId: orgId, expiresAt: at + CONNECTION_TTL_SECONDS },
    }),
  );
}

export async function listConnections(orgId: string, now: Date): Promise<string[]> {
  const ids: string[] = [];
  let start: Record<string, unknown> | undefined;
  const at = Math.floor(now.getTime() / 1000);
  do {
    const out = await documentClient().send(
      new QueryCommand({
        TableName: config().tables.connections,
        KeyConditionExpression: 'orgId = :org',
        ExpressionAttributeValues: { ':org': orgId },
        ExclusiveStartKey: start,
      }),
    );
    for (const item of out.Items ?? []) {
      if (typeof item.expiresAt === 'number' && item.expiresAt <= at) continue;
      ids.push(String(item.connectionId));
    }
    start = out.LastEvaluatedKey;
  } while (start);
  return ids;
}

export async function removeConnection(connectionId: string, orgId?: string): Promise<void> {
  const table = config().tables.connections;
  let org = orgId;
  if (!org) {
    const out = await documentClient().send(
      new QueryCommand({
        TableName: table,
        KeyConditionExpression: 'orgId = :k',
        ExpressionAttributeValues: { ':k': `conn#${connectionId}` },
      }),
    );
    org = out.Items?.[0]?.connectionId as string | undefined;
  }
  if (org)
    await documentClient().send(new DeleteCommand({ TableName: table, Key: { orgId: org, connectionId } }));
  await documentClient()
    .send(
      new DeleteCommand({
        TableName: table,
        Key: { orgId: `conn#${connectionId}`, connectionId: org ?? '' },
      }),
    )
    .catch(() => undefined);
}

/**
 * A connection must be this old before a 410 from `PostToConnection` may forget it. API Gateway runs
 * `$connect` (which saves the row) before it completes the handshake, and until then it answers 410
 * for the new id; a broadcast in that window used to delete the row of a connection that then opened
 * and never received another push. A connection that really is gone and younger than this is
 * forgotten by its `$disconnect`, or by a later push, or by TTL.
 */
export const GONE_GRACE_SECONDS = 30;

/**
 * Forgets a connection that answered 410 Gone, unless it connected less than `GONE_GRACE_SECONDS` ago
 * (a conditional delete, so a row saved by a racing `$connect` is never removed by a stale 410).
 * True when it was forgotten.
 */
export async function forgetGoneConnection(connectionId: string, orgId: string, now: Date): Promise<boolean> {
  const table = config().tables.connections;
  const cutoff = Math.floor(now.getTime() / 1000) - GONE_GRACE_SECONDS;
  try {
    await documentClient().send(
      new DeleteCommand({
        TableName: table,
        Key: { orgId, connectionId },
        ConditionExpression: 'attribute_not_exists(connectedAt) OR connectedAt < :cutoff',
        ExpressionAttributeValues: { ':cutoff': cutoff },
      }),
    );
  } catch (error) {
    if (
      error instanceof ConditionalCheckFailedException ||
      (error as { name?: string }).name === 'ConditionalCheckFailedException'
    )
      return false;
    throw error;
  }
  await documentClient()
    .send(
      new DeleteCommand({ TableName: table, Key: { orgId: `conn#${connectionId}`, connectionId: orgId } }),
    )
    .catch(() => undefined);
  return true;
}
