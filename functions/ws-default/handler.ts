/**
 * WebSocket `$default`: the dashboard sends `{"action":"ping"}` to keep idle connections open
 * (API Gateway closes connections idle for 10 minutes); anything else gets a short help answer.
 */
import type { APIGatewayProxyResultV2 } from 'aws-lambda';
import { clock } from '../clock.js';

export const handler = async (event: { body?: string | null }): Promise<APIGatewayProxyResultV2> => {
  let action: unknown;
  try {
    action = (JSON.parse(event.body ?? '{}') as { action?: unknown }).action;
  } catch {
    action = undefined;
  }
  if (action === 'ping')
    return { statusCode: 200, body: JSON.stringify({ type: 'pong', at: clock().now().toISOString() }) };
  return {
    statusCode: 200,
    body: JSON.stringify({ type: 'info', message: 'Send {"action":"ping"}; events are pushed.' }),
  };
};
