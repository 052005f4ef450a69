/**
 * WebSocket `$connect` authorizer on AWS: the dashboard connects with `?token=<admin token>`; the
 * org id travels to `$connect` in the authorizer context.
 */
import type { APIGatewayRequestAuthorizerEvent, APIGatewayAuthorizerResult } from 'aws-lambda';
import { authenticateAdmin } from '../usecases/authenticateAdmin.js';

export const handler = async (
  event: APIGatewayRequestAuthorizerEvent,
): Promise<APIGatewayAuthorizerResult> => {
  const token = event.queryStringParameters?.token;
  try {
    const orgId = await authenticateAdmin(token ? `Bearer ${token}` : undefined);
    return { principalId: orgId, policyDocument: policy('Allow', event.methodArn), context: { orgId } };
  } catch {
    return { principalId: 'anonymous', policyDocument: policy('Deny', event.methodArn) };
  }
};

function policy(effect: 'Allow' | 'Deny', resource: string) {
  return {
    Version: '2012-10-17',
    Statement: [{ Action: 'execute-api:Invoke', Effect: effect, Resource: resource }],
  };
}
