/** WebSocket `$disconnect`: forgets the connection. */
import type { APIGatewayProxyResultV2 } from 'aws-lambda';
import { removeConnection } from '../adapters/dynamo/connections.js';

export const handler = async (event: {
  requestContext: { connectionId: string };
}): Promise<APIGatewayProxyResultV2> => {
  await removeConnection(event.requestContext.connectionId);
  return { statusCode: 200, body: 'Disconnected' };
};
