/**
 * Claim keys in bulk for bulk intake (imports, CSV uploads): claimed up to 100 at a time, all or none
 * (`TransactWriteItems`), and marked queued 25 at a time (`BatchWriteItem`).
 *
 * Claiming: one conditional put per key is what a webhook lead does (`claimLeadKey`); the SDK alone
 * spends about 1 ms of CPU per request, so 200,000 of them for a 100,000-row upload cannot fit a
 * minute. A transaction of up to 100 conditional puts costs one request; its conditions are the
 * same as `claimLeadKey`'s, so a key is won exactly as a single put would win it. If any condition
 * fails nothing is written and the answer says, per item, whether its condition held and the claim
 * that was in the way (`ReturnValuesOnConditionCheckFailure: ALL_OLD`).
 *
 * Marking: claims marked queued 25 at a time (BatchWriteItem) for bulk intake. A conditional UpdateItem per
 * claim (`markClaimQueued`) is what a single webhook lead does; for an upload of 100,000 rows that is
 * 200,000 requests. Measured against the local stand-in (dynalite, 2-core machine): 1,000 conditional
 * updates take 4.4 s, the same 1,000 items as 40 BatchWriteItem requests 0.4 s.
 *
 * BatchWriteItem has no conditions, so each item is written whole, as `markClaimQueued` would leave it.
 * That is safe only right after this caller won the conditional put of the same claim: an externalId
 * claim never expires and only its claimant deletes it, and a phone claim could pass to another lead
 * only after its 24 h window — not in the seconds between claim and mark.
 */
import {
  TransactionCanceledException,
  TransactWriteItemsCommand,
  type AttributeValue,
} from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand } from '@aws-sdk/lib-dynamodb';
import type { ClaimRecord } from './keys.js';
import { documentClient, dynamoClient } from '../../clients.js';
import { config } from '../../config.js';

/** DynamoDB's limit per BatchWriteItem. */
const BATCH_ITEMS = 25;
/** DynamoDB's limit per TransactWriteItems. */
export const TRANSACT_ITEMS = 100;

export interface NewClaim {
  pk: string;
  leadId: string;
  /** The queue message to re-send if the claimant dies before enqueueing (as `claimLeadKey`). */
  message: string;
  /** Undefined = forever. */
  ttlSeconds?: number;
}

/** Per key of a transaction that did not go through: free (its condition held), taken, or unknown. */
export type ClaimReason =
  | { kind: 'free' }
  | { kind: 'taken'; existing: ClaimRecord }
  /** Another transaction or write raced it (AWS: `TransactionConflict`), or no claim came back. */
  | { kind: 'unknown' };

export type ClaimsOutcome = { written: true } | { written: false; reasons: ClaimReason[] };

const epoch = (d: Date) => Math.floor(d.getTime() / 1000);

function fromAttributes(item: Record<string, AttributeValue>): ClaimRecord {
  const n = (a?: AttributeValue) => (a?.N !== undefined ? Number(a.N) : undefined);
  return {
    pk: item.pk?.S ?? '',
    leadId: item.leadId?.S ?? '',
    state: item.state?.S === 'queued' ? 'queued' : 'pending',
    ...(item.message?.S !== undefined ? { message: item.message.S } : {}),
    ...(n(item.expiresAt) !== undefined ? { expiresAt: n(item.expiresAt) } : {}),
  };
}

/**
 * Claims every key or none (at most 100 distinct keys): each with `claimLeadKey`'s condition — no
 * claim, or an expired one. When one is in the way nothing is written and `reasons` says, per key in
 * input order, which were free and which claim holds the others.
 */
export async function claimKeysTogether(claims: NewClaim[], now: Date): Promise<ClaimsOutcome> {
  if (claims.length === 0) return { written: true };
  if (claims.length > TRANSACT_ITEMS) throw new RangeError(`At most ${TRANSACT_ITEMS} claims at once`);
  const table = config().tables.keys;
  const at = epoch(now);
  try {
    await dynamoClient().send(
      new TransactWriteItemsCommand({
        TransactItems: claims.map((claim) => ({
          Put: {
            TableName: table,
            Item: {
              pk: { S: claim.pk },
              leadId: { S: claim.leadId },
              state: { S: 'pending' },
              message: { S: claim.message },
              createdAt: { N: String(at) },
              ...(claim.ttlSeconds !== undefined ? { expiresAt: { N: String(at + claim.ttlSeconds) } } : {}),
            },
            ConditionExpression: 'attribute_not_exists(pk) OR expiresAt <= :now',
            ExpressionAttributeValues: { ':now': { N: String(at) } },
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          },
        })),
      }),
    );
    return { written: true };
  } catch (error) {
    if (!(error instanceof TransactionCanceledException)) throw error;
    const reasons = error.CancellationReasons ?? [];
    return {
      written: false,
      reasons: claims.map((_, i): ClaimReason => {
        const reason = reasons[i];
        if (reason?.Code === 'None') return { kind: 'free' };
        if (reason?.Code === 'ConditionalCheckFailed' && reason.Item)
          return { kind: 'taken', existing: fromAttributes(reason.Item) };
        return { kind: 'unknown' };
      }),
    };
  }
}

export interface QueuedClaim {
  pk: string;
  leadId: string;
  /** When the claim was taken (epoch seconds), as the conditional put wrote it. */
  createdAt: number;
  expiresAt?: number;
}

/**
 * Writes the claims as queued. Returns how many could not be written after retrying unprocessed items;
 * those stay `pending`, which the intake protocol tolerates (the next duplicate re-sends and marks them).
 */
export async function markClaimsQueued(claims: QueuedClaim[]): Promise<number> {
  const table = config().tables.keys;
  let left = 0;
  for (let i = 0; i < claims.length; i += BATCH_ITEMS) {
    let requests = claims.slice(i, i + BATCH_ITEMS).map((claim) => ({
      PutRequest: {
        Item: {
          pk: claim.pk,
          leadId: claim.leadId,
          state: 'queued',
          createdAt: claim.createdAt,
          ...(claim.expiresAt !== undefined ? { expiresAt: claim.expiresAt } : {}),
        },
      },
    }));
    for (let attempt = 0; requests.length > 0 && attempt < 4; attempt++) {
      if (attempt > 0) await new Promise((r) => setTimeout(r, 50 * 2 ** attempt));
      const out = await documentClient().send(new BatchWriteCommand({ RequestItems: { [table]: requests } }));
      requests = (out.UnprocessedItems?.[table] ?? []) as typeof requests;
    }
    left += requests.length;
  }
  return left;
}
