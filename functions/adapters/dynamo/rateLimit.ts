/**
 * Per-source rate limiting state in the DynamoDB keys table (the ingest path never reads PostgreSQL):
 *
 * - `rate#<source id>#<window start ms>`: a request counter per fixed window, incremented with one
 *   conditional `ADD`. DynamoDB evaluates the condition and the increment atomically on the item, so
 *   any number of Lambda instances share one exact count without a read-modify-write race.
 * - `ratecfg#<source id>`: the source's configured limit (absent = the product default), written by
 *   the admin API when a source is created or patched. One item per source rather than a field of the
 *   secret record, so the current and the rotated-out secret of a source share one limit.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { documentClient } from '../../clients.js';
import { config } from '../../config.js';

export interface RateLimitConfig {
  perSecond: number;
  burst: number;
}

export const rateWindowKey = (sourceId: string, windowStartMs: number) => `rate#${sourceId}#${windowStartMs}`;
export const rateConfigKey = (sourceId: string) => `ratecfg#${sourceId}`;

/** Requests counted in a window so far (0 when none). */
export async function countInWindow(pk: string): Promise<number> {
  const out = await documentClient().send(
    new GetCommand({ TableName: config().tables.keys, Key: { pk }, ProjectionExpression: 'n' }),
  );
  return typeof out.Item?.n === 'number' ? out.Item.n : 0;
}

/**
 * Counts one request in the window when fewer than `allowed` were counted; false (nothing written)
 * otherwise. `expiresAt` (epoch seconds) lets DynamoDB's TTL delete old windows.
 */
export async function takeFromWindow(pk: string, allowed: number, expiresAt: number): Promise<boolean> {
  // `attribute_not_exists(n)` would admit the first request even when nothing is allowed.
  if (allowed <= 0) return false;
  try {
    await documentClient().send(
      new UpdateCommand({
        TableName: config().tables.keys,
        Key: { pk },
        UpdateExpression: 'SET expiresAt = :exp ADD n :one',
        ConditionExpression: 'attribute_not_exists(n) OR n < :allowed',
        ExpressionAttributeValues: { ':one': 1, ':allowed': allowed, ':exp': expiresAt },
      }),
    );
    return true;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return false;
    throw error;
  }
}

export async function getRateLimitConfig(sourceId: string): Promise<RateLimitConfig | undefined> {
  const out = await documentClient().send(
    new GetCommand({ TableName: config().tables.keys, Key: { pk: rateConfigKey(sourceId) } }),
  );
  const item = out.Item as Partial<RateLimitConfig> | undefined;
  if (typeof item?.perSecond !== 'number' || typeof item.burst !== 'number') return undefined;
  return { perSecond: item.perSecond, burst: item.burst };
}

/** Stores a source's limit; `null` removes it (the default applies). */
export async function putRateLimitConfig(sourceId: string, limit: RateLimitConfig | null): Promise<void> {
  const pk = rateConfigKey(sourceId);
  if (limit === null) {
    await documentClient().send(new DeleteCommand({ TableName: config().tables.keys, Key: { pk } }));
    return;
  }
  await documentClient().send(
    new PutCommand({
      TableName: config().tables.keys,
      Item: { pk, perSecond: limit.perSecond, burst: limit.burst },
    }),
  );
}
