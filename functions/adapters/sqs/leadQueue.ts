/**
 * The lead queue (SQS FIFO). What travels on it, and how it is sent.
 *
 * MessageGroupId = org + a hash of the phone. FIFO orders messages only within a group and a group
 * is processed by one consumer at a time, so this keeps everything about one contact in order (the
 * lead, then its duplicates, then a returning visit) while leads of different contacts are allocated
 * in parallel. One group per org would serialise a whole org onto one consumer; one group per lead
 * would lose per-contact order. The allocator's row locks, not the queue, protect caps and fairness.
 *
 * MessageDeduplicationId = the lead id (or a deterministic id for other messages), so a re-send after
 * a timeout within SQS's five-minute window is dropped, and the allocator is idempotent beyond it.
 */
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { createHash } from 'node:crypto';
import { sqsClient } from '../../clients.js';
import { config } from '../../config.js';
import type { NormalizedLead } from '../../domain/types.js';
import { asciiJson } from '../../shared/text.js';

export interface LeadMessage {
  type: 'lead';
  orgId: string;
  sourceId: string | null;
  leadId: string;
  receivedAt: string;
  lead: NormalizedLead;
}

export interface DuplicateMessage {
  type: 'duplicate';
  orgId: string;
  sourceId: string | null;
  /** The earlier lead this one duplicates. */
  leadId: string;
  receivedAt: string;
  /** Which rule matched. */
  matchedOn: 'phone' | 'externalId';
  attemptId: string;
}

export type QueueMessage = LeadMessage | DuplicateMessage;

export function groupIdFor(orgId: string, phone: string): string {
  return `${orgId}:${createHash('sha256').update(phone).digest('hex').slice(0, 24)}`;
}

export function deduplicationIdFor(message: QueueMessage): string {
  return message.type === 'lead' ? message.leadId : `dup-${message.attemptId}`;
}

export async function sendToLeadQueue(message: QueueMessage, groupPhone: string): Promise<void> {
  await sqsClient().send(
    new SendMessageCommand({
      QueueUrl: config().leadQueueUrl,
      MessageBody: asciiJson(message),
      MessageGroupId: groupIdFor(message.orgId, groupPhone),
      MessageDeduplicationId: deduplicationIdFor(message),
    }),
  );
}

/** Re-sends a message serialised earlier (a claim's stored message), with its original ids. */
export async function resendSerialized(body: string): Promise<void> {
  const message = JSON.parse(body) as LeadMessage;
  await sendToLeadQueue(message, message.lead.phone);
}
