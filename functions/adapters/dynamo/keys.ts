/**
 * Claim keys in DynamoDB, written with conditional puts so that concurrent requests agree on one
 * winner without a database round trip: the 24 h phone duplicate window, externalId per source,
 * quota-reset event ids, and webhook secret lookups.
 *
 * DynamoDB's TTL deletes expired items lazily (up to days later) and the local stand-in has no TTL
 * at all, so every condition treats `expiresAt <= now` as absent.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { createHash } from 'node:crypto';
import { documentClient } from '../../clients.js';
import { config } from '../../config.js';

export type ClaimState = 'pending' | 'queued';

export interface ClaimRecord {
  pk: string;
  leadId: string;
  state: ClaimState;
  /** The queue message to re-send if the claimant died before enqueueing (see `claimLeadKey`). */
  message?: string;
  expiresAt?: number;
}

export type ClaimResult = { claimed: true } | { claimed: false; existing: ClaimRecord };

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

/** Phones are hashed in the key: the table never holds a readable phone number. */
export const phoneKey = (orgId: string, e164: string) => `phone#${orgId}#${sha256(e164)}`;
export const externalIdKey = (sourceId: string, externalId: string) =>
  `ext#${sourceId}#${sha256(externalId)}`;
export const quotaEventKey = (orgId: string, eventId: string) => `quota#${orgId}#${sha256(eventId)}`;
export const secretKey = (secretHash: string) => `secret#${secretHash}`;

const epoch = (d: Date) => Math.floor(d.getTime() / 1000);

/**
 * Claims `pk` for `leadId` unless a live claim exists. `ttlSeconds` undefined = forever.
 * Returns the existing claim when another lead holds it.
 */
export async function claimLeadKey(input: {
  pk: string;
  leadId: string;
  message: string;
  now: Date;
  ttlSeconds?: number;
}): Promise<ClaimResult> {
  const now = epoch(input.now);
  try {
    await documentClient().send(
      new PutCommand({
        TableName: config().tables.keys,
        Item: {
          pk: input.pk,
          leadId: input.leadId,
          state: 'pending',
          message: input.message,
          createdAt: now,
          ...(input.ttlSeconds !== undefined ? { expiresAt: now + input.ttlSeconds } : {}),
        },
        ConditionExpression: 'attribute_not_exists(pk) OR expiresAt <= :now',
        ExpressionAttributeValues: { ':now': now },
      }),
    );
    return { claimed: true };
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
    const existing = await getClaim(input.pk);
    // Deleted or expired between our put and get: try once more.
    if (!existing || (existing.expiresAt !== undefined && existing.expiresAt <= now)) {
      return claimLeadKey(input);
    }
    return { claimed: false, existing };
  }
}

export async function getClaim(pk: string): Promise<ClaimRecord | undefined> {
  const out = await documentClient().send(
    new GetCommand({ TableName: config().tables.keys, Key: { pk }, ConsistentRead: true }),
  );
  return out.Item as ClaimRecord | undefined;
}

/** Marks a claim's lead as durably queued; the stored message is no longer needed. */
export async function markClaimQueued(pk: string, leadId: string): Promise<void> {
  await documentClient()
    .send(
      new UpdateCommand({
        TableName: config().tables.keys,
        Key: { pk },
        UpdateExpression: 'SET #s = :queued REMOVE message',
        ConditionExpression: 'leadId = :lead',
        ExpressionAttributeNames: { '#s': 'state' },
        ExpressionAttributeValues: { ':queued': 'queued', ':lead': leadId },
      }),
    )
    .catch((error) => {
      // The claim moved on to another lead (window expired meanwhile): nothing to mark.
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    });
}

/** Gives a claim back (the request that took it failed before its lead was queued). */
export async function releaseClaim(pk: string, leadId: string): Promise<void> {
  await documentClient()
    .send(
      new DeleteCommand({
        TableName: config().tables.keys,
        Key: { pk },
        ConditionExpression: 'leadId = :lead',
        ExpressionAttributeValues: { ':lead': leadId },
      }),
    )
    .catch((error) => {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    });
}

/** Claims a one-off event id (quota reset); false when it was claimed before. */
export async function claimEvent(pk: string, now: Date, ttlSeconds = 30 * 24 * 3600): Promise<boolean> {
  try {
    await documentClient().send(
      new PutCommand({
        TableName: config().tables.keys,
        Item: { pk, createdAt: epoch(now), expiresAt: epoch(now) + ttlSeconds },
        ConditionExpression: 'attribute_not_exists(pk) OR expiresAt <= :now',
        ExpressionAttributeValues: { ':now': epoch(now) },
      }),
    );
    return true;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return false;
    throw error;
  }
}

export async function releaseEvent(pk: string): Promise<void> {
  await documentClient().send(new DeleteCommand({ TableName: config().tables.keys, Key: { pk } }));
}

export interface SourceSecretRecord {
  orgId: string;
  sourceId: string;
  fieldMap: Record<string, string>;
  defaultCampaign: string | null;
  /** Set on a rotated-out secret: it keeps working until then (the rotation overlap window). */
  validUntil?: number;
}

export async function putSourceSecret(secretHash: string, record: SourceSecretRecord): Promise<void> {
  await documentClient().send(
    new PutCommand({
      TableName: config().tables.keys,
      Item: {
        pk: secretKey(secretHash),
        ...record,
        // TTL cleans up rotated-out secrets a day after their window closes.
        ...(record.validUntil ? { expiresAt: record.validUntil + 86_400 } : {}),
      },
    }),
  );
}

export async function getSourceSecret(
  secretHash: string,
  now: Date,
): Promise<SourceSecretRecord | undefined> {
  const out = await documentClient().send(
    new GetCommand({ TableName: config().tables.keys, Key: { pk: secretKey(secretHash) } }),
  );
  const item = out.Item as (SourceSecretRecord & { pk: string }) | undefined;
  if (!item) return undefined;
  if (item.validUntil !== undefined && item.validUntil <= epoch(now)) return undefined;
  return {
    orgId: item.orgId,
    sourceId: item.sourceId,
    fieldMap: item.fieldMap ?? {},
    defaultCampaign: item.defaultCampaign ?? null,
    validUntil: item.validUntil,
  };
}

export async function deleteSourceSecret(secretHash: string): Promise<void> {
  await documentClient().send(
    new DeleteCommand({ TableName: config().tables.keys, Key: { pk: secretKey(secretHash) } }),
  );
}
