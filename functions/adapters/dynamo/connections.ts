/**
 * Open dashboard WebSocket connections, keyed by org so the broadcaster reaches exactly the org's
 * connections (one Query, no scan across tenants).
 */
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
