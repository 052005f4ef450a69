/**
 * The lead queue, ten messages per request (`SendMessageBatch`): bulk intake (imports, CSV uploads)
 * sends a tenth of the requests single sends would. Same group and deduplication ids as `sendToLeadQueue`,
 * so a batch-sent lead is ordered and deduplicated exactly like a webhook lead.
 */
import { SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import { sqsClient } from '../../clients.js';
import { config } from '../../config.js';
import { deduplicationIdFor, groupIdFor, type QueueMessage } from './leadQueue.js';
import { asciiJson } from '../../shared/text.js';

/** SQS's limit per SendMessageBatch. */
export const SQS_BATCH_SIZE = 10;

export interface BatchEntry {
  message: QueueMessage;
  /** The phone whose group the message joins (E.164). */
  groupPhone: string;
}

/** Sends up to 10 messages; returns the indexes of entries SQS did not accept (to retry or give back). */
export async function sendLeadMessageBatch(entries: BatchEntry[]): Promise<number[]> {
  if (entries.length === 0) return [];
  if (entries.length > SQS_BATCH_SIZE) throw new RangeError(`At most ${SQS_BATCH_SIZE} entries per batch`);
  const out = await sqsClient().send(
    new SendMessageBatchCommand({
      QueueUrl: config().leadQueueUrl,
      Entries: entries.map((entry, index) => ({
        Id: String(index),
        MessageBody: asciiJson(entry.message),
        MessageGroupId: groupIdFor(entry.message.orgId, entry.groupPhone),
        MessageDeduplicationId: deduplicationIdFor(entry.message),
      })),
    }),
  );
  return (out.Failed ?? []).map((failure) => Number(failure.Id));
}
