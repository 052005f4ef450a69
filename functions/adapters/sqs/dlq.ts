/**
 * The lead queue's dead-letter queue: messages the allocator failed `maxReceiveCount` (5) times. The
 * messages are org-agnostic SQS messages; the org is read from each body by the use case.
 */
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
} from '@aws-sdk/client-sqs';
import { sqsClient } from '../../clients.js';
import { config } from '../../config.js';

export interface DlqMessage {
  messageId: string;
  receiptHandle: string;
  body: string;
  groupId: string | undefined;
  /** When the message was first sent to the lead queue (epoch ms). */
  sentAt: number | undefined;
  /** How often the DLQ handed it out (peeks included). */
  receiveCount: number | undefined;
}

function dlqUrl(): string {
  const url = process.env.LEAD_DLQ_URL;
  if (!url) throw new Error('Missing required environment variable LEAD_DLQ_URL');
  return url;
}

/**
 * Receives up to 10 messages and hides them for `visibilitySeconds` (long enough to finish one pass;
 * `releaseDlqMessages` shows them again at once). No long polling: an empty answer means done.
 */
export async function receiveDlqMessages(visibilitySeconds: number): Promise<DlqMessage[]> {
  const out = await sqsClient().send(
    new ReceiveMessageCommand({
      QueueUrl: dlqUrl(),
      MaxNumberOfMessages: 10,
      WaitTimeSeconds: 0,
      VisibilityTimeout: visibilitySeconds,
      MessageSystemAttributeNames: ['MessageGroupId', 'SentTimestamp', 'ApproximateReceiveCount'],
    }),
  );
  return (out.Messages ?? []).map((m) => ({
    messageId: m.MessageId ?? '',
    receiptHandle: m.ReceiptHandle ?? '',
    body: m.Body ?? '',
    groupId: m.Attributes?.MessageGroupId,
    sentAt: m.Attributes?.SentTimestamp ? Number(m.Attributes.SentTimestamp) : undefined,
    receiveCount: m.Attributes?.ApproximateReceiveCount
      ? Number(m.Attributes.ApproximateReceiveCount)
      : undefined,
  }));
}

/** Makes received messages visible again now (visibility 0): they stay in the DLQ untouched. */
export async function releaseDlqMessages(receiptHandles: string[]): Promise<void> {
  for (let i = 0; i < receiptHandles.length; i += 10) {
    const chunk = receiptHandles.slice(i, i + 10);
    await sqsClient().send(
      new ChangeMessageVisibilityBatchCommand({
        QueueUrl: dlqUrl(),
        Entries: chunk.map((handle, n) => ({ Id: String(n), ReceiptHandle: handle, VisibilityTimeout: 0 })),
      }),
    );
  }
}

export async function deleteDlqMessage(receiptHandle: string): Promise<void> {
  await sqsClient().send(new DeleteMessageCommand({ QueueUrl: dlqUrl(), ReceiptHandle: receiptHandle }));
}

/**
 * Sends a dead-lettered body back to the lead queue in its original message group (FIFO order per
 * contact). The deduplication id is derived from the DLQ message id, not the lead id: the lead's own
 * id was used minutes ago and SQS would drop the replay as a duplicate within its 5-minute window,
 * while a replay repeated after a crash (sent, not yet deleted) is still dropped.
 */
export async function sendBackToLeadQueue(message: DlqMessage, fallbackGroupId: string): Promise<void> {
  await sqsClient().send(
    new SendMessageCommand({
      QueueUrl: config().leadQueueUrl,
      MessageBody: message.body,
      MessageGroupId: message.groupId ?? fallbackGroupId,
      MessageDeduplicationId: `replay-${message.messageId}`.slice(0, 128),
    }),
  );
}
