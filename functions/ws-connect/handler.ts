/**
 * WebSocket `$connect`: records the connection under its org. The org comes from the authorizer
 * context on AWS; where no authorizer ran (the local gateway), the token is checked here, so a
 * connection without a valid token is refused either way.
 */
import type { APIGatewayProxyResultV2 } from 'aws-lambda';
import { saveConnection } from '../adapters/dynamo/connections.js';
import { clock } from '../clock.js';
import { authenticateAdmin } from '../usecases/authenticateAdmin.js';

interface ConnectEvent {
  queryStringParameters?: Record<string, string | undefined> | null;
  requestContext: { connectionId: string; authorizer?: { orgId?: string } | null };
}

export const handler = async (event: ConnectEvent): Promise<APIGatewayProxyResultV2> => {
  let orgId = event.requestContext.authorizer?.orgId;
  if (!orgId) {
    const token = event.queryStringParameters?.token;
    orgId = await authenticateAdmin(token ? `Bearer ${token}` : undefined).catch(() => undefined);
  }
  if (!orgId) return { statusCode: 401, body: 'Unauthorized' };
  await saveConnection(orgId, event.requestContext.connectionId, clock().now());
  return { statusCode: 200, body: 'Connected' };
};
