import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import {
  CreateQueueCommand,
  SendMessageCommand,
  type MessageAttributeValue as SdkMessageAttributeValue,
} from '@aws-sdk/client-sqs';
import { localSqsClient } from './localSqsClient.js';

/**
 * fauxqs keeps queues in memory only ("no persistence across restarts", its README says). So that a
 * lead accepted by the webhook (202) but not yet allocated survives a Ctrl-C of `npm start`, a
 * graceful stop writes every message still in every queue — ready, delayed and in flight — to a JSON
 * file, and the next start sends them again and deletes the file.
 *
 * The stand-in runs in a child process (`sqsProcess.ts`) that also writes the snapshot when the runtime
 * dies without stopping it (SIGKILL, OOM): it sees its IPC channel close.
 *
 * What this does NOT cover:
 * - a hard kill of the stand-in's own process (or of the whole process group, power loss): no snapshot
 *   is written, and every message in the queues is lost. The leads are not in PostgreSQL yet (the
 *   allocator stores them), so they are gone; the webhook caller already got its 202. Use real SQS
 *   (`SQS_ENDPOINT`) where that matters.
 * - receive counts: restored messages start again at 0, so a message close to the DLQ gets its full
 *   `maxReceiveCount` again; message ids, receipt handles and sequence numbers are new.
 * - a message in flight while the snapshot is taken (its handler still running) is in the snapshot
 *   and may also be deleted by that handler: it is delivered once more after the restart. The
 *   allocator is idempotent per lead, so stop the pollers (which waits for handlers) before the queue.
 */
export interface QueueSnapshot {
  version: 1;
  takenAt: string;
  queues: SnapshotQueue[];
}

export interface SnapshotQueue {
  name: string;
  /** The attributes the queue was created with (only those CreateQueue accepts). */
  attributes: Record<string, string>;
  /** In queue order: FIFO by sequence number, standard by send time. */
  messages: SnapshotMessage[];
}

export interface SnapshotMessage {
  body: string;
  messageGroupId?: string;
  messageDeduplicationId?: string;
  /** As SQS returns them in JSON: binary values base64-encoded. */
  messageAttributes: Record<string, JsonMessageAttributeValue>;
  sentTimestamp: number;
}

interface JsonMessageAttributeValue {
  DataType: string;
  StringValue?: string;
  BinaryValue?: string;
}

/** What fauxqs' inspection endpoint returns for one message (see `SqsMessage` in fauxqs). */
interface InspectedMessage {
  body: string;
  messageGroupId?: string;
  messageDeduplicationId?: string;
  messageAttributes?: Record<string, JsonMessageAttributeValue>;
  sentTimestamp: number;
  sequenceNumber?: string;
}

export interface InspectedQueue {
  name: string;
  attributes: Record<string, string>;
  messages: {
    ready: InspectedMessage[];
    delayed: InspectedMessage[];
    inflight: { message: InspectedMessage }[];
  };
}

const CREATE_ATTRIBUTES = [
  'DelaySeconds',
  'MaximumMessageSize',
  'MessageRetentionPeriod',
  'ReceiveMessageWaitTimeSeconds',
  'VisibilityTimeout',
  'RedrivePolicy',
  'Policy',
  'KmsMasterKeyId',
  'KmsDataKeyReusePeriodSeconds',
  'FifoQueue',
  'ContentBasedDeduplication',
  'DeduplicationScope',
  'FifoThroughputLimit',
];

/** Turns fauxqs' inspection of one queue into its snapshot entry, messages in delivery order. */
export function snapshotQueue(inspected: InspectedQueue): SnapshotQueue {
  const all = [
    ...inspected.messages.inflight.map((entry) => entry.message),
    ...inspected.messages.ready,
    ...inspected.messages.delayed,
  ];
  all.sort((a, b) =>
    a.sequenceNumber && b.sequenceNumber
      ? a.sequenceNumber.localeCompare(b.sequenceNumber)
      : a.sentTimestamp - b.sentTimestamp,
  );
  const attributes = Object.fromEntries(
    Object.entries(inspected.attributes).filter(([key]) => CREATE_ATTRIBUTES.includes(key)),
  );
  return {
    name: inspected.name,
    attributes,
    messages: all.map((message) => ({
      body: message.body,
      messageGroupId: message.messageGroupId,
      messageDeduplicationId: message.messageDeduplicationId,
      messageAttributes: message.messageAttributes ?? {},
      sentTimestamp: message.sentTimestamp,
    })),
  };
}

/** Binary attribute values travel base64-encoded in JSON; the SDK wants bytes. */
function toSdkAttributes(
  attributes: Record<string, JsonMessageAttributeValue>,
): Record<string, SdkMessageAttributeValue> {
  return Object.fromEntries(
    Object.entries(attributes).map(([name, value]) => [
      name,
      value.BinaryValue !== undefined
        ? { DataType: value.DataType, BinaryValue: Buffer.from(value.BinaryValue, 'base64') }
        : { DataType: value.DataType, StringValue: value.StringValue },
    ]),
  );
}

/** Written to a temporary name and renamed, so a crash while writing never leaves half a snapshot. */
export function writeSnapshot(file: string, snapshot: QueueSnapshot): void {
  writeFileSync(`${file}.tmp`, JSON.stringify(snapshot, null, 2));
  renameSync(`${file}.tmp`, file);
}

export function readSnapshot(file: string): QueueSnapshot | undefined {
  if (!existsSync(file)) return undefined;
  return JSON.parse(readFileSync(file, 'utf8')) as QueueSnapshot;
}

/**
 * Recreates the snapshot's queues (dead-letter targets first, so redrive policies point at existing
 * queues) and sends their messages again in order, then deletes the file. If sending fails halfway
 * the file stays: the next start sends everything again, and the allocator ignores leads it has.
 */
export async function restoreSnapshot(endpoint: string, file: string): Promise<number> {
  const snapshot = readSnapshot(file);
  if (!snapshot) return 0;
  const client = localSqsClient(endpoint);
  let sent = 0;
  try {
    const ordered = [...snapshot.queues].sort(
      (a, b) => Number('RedrivePolicy' in a.attributes) - Number('RedrivePolicy' in b.attributes),
    );
    for (const queue of ordered) {
      const { QueueUrl } = await client.send(
        new CreateQueueCommand({ QueueName: queue.name, Attributes: queue.attributes }),
      );
      const seenDeduplicationIds = new Map<string, number>();
      for (const message of queue.messages) {
        await client.send(
          new SendMessageCommand({
            QueueUrl,
            MessageBody: message.body,
            MessageGroupId: message.messageGroupId,
            MessageDeduplicationId: distinctDeduplicationId(
              message.messageDeduplicationId,
              seenDeduplicationIds,
            ),
            MessageAttributes: Object.keys(message.messageAttributes).length
              ? toSdkAttributes(message.messageAttributes)
              : undefined,
          }),
        );
        sent++;
      }
    }
  } finally {
    client.destroy();
  }
  rmSync(file, { force: true });
  return sent;
}

/**
 * Two queued messages can share a deduplication id when they were sent more than the 5-minute window
 * apart (e.g. the same lead dead-lettered twice). Sent again within one restore, the second would be
 * swallowed as a duplicate, so it gets a suffix.
 */
function distinctDeduplicationId(id: string | undefined, seen: Map<string, number>): string | undefined {
  if (id === undefined) return undefined;
  const count = seen.get(id) ?? 0;
  seen.set(id, count + 1);
  return count === 0 ? id : `${id.slice(0, 110)}#restored-${count}`;
}
