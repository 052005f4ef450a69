import {
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  type SQSClient,
  type Message,
  type MessageAttributeValue,
} from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent, SQSMessageAttributes, SQSRecord } from 'aws-lambda';
import { lambdaContext } from './lambdaContext.js';
import { localSqsClient } from './localSqsClient.js';

export type SqsLambdaHandler = (
  event: SQSEvent,
  context: Context,
) => Promise<SQSBatchResponse | void> | SQSBatchResponse | void;

export interface SqsPollerOptions {
  endpoint: string;
  queueUrl: string;
  queueArn: string;
  handler: SqsLambdaHandler;
  /** Records per invocation, 1–10 (Lambda's FIFO maximum is 10). Default 10. */
  batchSize?: number;
  /** Long-poll wait, 1–20 s. Default 20; `stop()` aborts a waiting poll, so it does not delay shutdown. */
  waitTimeSeconds?: number;
  /**
   * Pollers kept while the queue is idle (each is one possible concurrent invocation). Default 2. More
   * are started while messages keep arriving, up to `maxPollers`; see `startSqsPoller`.
   */
  pollers?: number;
  /**
   * Concurrent invocations at most, as the event source mapping's `maxConcurrency` on AWS. Default
   * `pollers` (no scaling); must be ≥ `pollers`. The local runtime sets it from `ALLOCATOR_CONCURRENCY`.
   */
  maxPollers?: number;
  /** Overrides the queue's visibility timeout per receive (tests use 1 s to see redelivery fast). */
  visibilityTimeout?: number;
  /** Name in the Lambda context (logs, metrics). Default `allocator`. */
  functionName?: string;
  /** Invocation timeout for `getRemainingTimeInMillis()`. Default: the visibility timeout, or 30 s. */
  timeoutMs?: number;
  /** Handler errors and SQS errors; the poller itself keeps going. Default: console.error. */
  onError?: (error: unknown) => void;
}

export interface SqsPoller {
  /** Stops receiving and waits for the invocations in flight to finish and settle their messages. */
  stop(): Promise<void>;
  /**
   * Resolves once the queue holds no message at all (visible, in flight or delayed) and no invocation
   * is running; rejects after `timeoutMs` (default 30 s). A message waiting out its visibility timeout
   * after a failure still counts, so this also waits for redeliveries and dead-lettering.
   */
  idle(timeoutMs?: number): Promise<void>;
  /** Pollers running now (between `pollers` and `maxPollers`). */
  pollers(): number;
}

/**
 * The local stand-in for Lambda's SQS event source mapping. Each poller loops: long-poll a batch,
 * invoke the handler with an `SQSEvent` shaped exactly like Lambda's, then delete what succeeded:
 *
 * - handler returns `{ batchItemFailures }`: every other record is deleted (partial batch response,
 *   `ReportBatchItemFailures`). An identifier that is not in the batch fails the whole batch, as on AWS.
 * - handler throws: nothing is deleted; all records reappear after the visibility timeout.
 * - FIFO: a record after a failed one of the same message group is kept too, so the group's order
 *   holds even if a handler forgot to report it (Lambda trusts the handler here; Powertools'
 *   `SqsFifoPartialProcessor` reports them). fauxqs hands out one message per group per receive, so
 *   locally a batch rarely holds two of one group.
 *
 * Redelivery and dead-lettering after `maxReceiveCount` are the queue's job (fauxqs does them).
 *
 * Scaling, as Lambda's FIFO event source mapping does it (concurrency grows with the number of message
 * groups that have messages waiting, up to `maxConcurrency`; our group is org + phone, so nearly every
 * lead is its own group): each receive that returns a full batch (so more messages are waiting) starts
 * one more poller while fewer than `maxPollers` run; a poller whose receive comes back partial or empty
 * (it took everything visible) stops while more than `pollers` run. So a backlog ramps up within a few
 * receives and the pollers shrink back as soon as they keep up. Measured (docs/benchmarks.md): every allocation of one campaign pool serialises on the same
 * recipient locks, so locally, where all invocations share one event loop, more invocations than the
 * backlog needs only lengthen each lock hold — scaling on any non-empty receive made the pipeline at
 * 50 leads/s 25× slower (p50 12 s against 0.48 s with 2 pollers).
 * FIFO order does not depend on it: the queue never hands out a message while an earlier one of its
 * group is in flight, however many pollers ask.
 */
export function startSqsPoller(opts: SqsPollerOptions): SqsPoller {
  // The limits of ReceiveMessage (and of Lambda's FIFO event source mapping), checked up front so a
  // typo fails at start instead of as a stream of errors from every poll.
  const batchSize = opts.batchSize ?? 10;
  const waitTimeSeconds = opts.waitTimeSeconds ?? 20;
  const minPollers = opts.pollers ?? 2;
  const maxPollers = opts.maxPollers ?? minPollers;
  if (!Number.isInteger(minPollers) || minPollers < 1)
    throw new RangeError(`pollers must be an integer ≥ 1, got ${minPollers}`);
  if (!Number.isInteger(maxPollers) || maxPollers < minPollers)
    throw new RangeError(`maxPollers must be an integer ≥ pollers (${minPollers}), got ${maxPollers}`);
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 10)
    throw new RangeError(`batchSize must be 1–10, got ${batchSize}`);
  if (!Number.isInteger(waitTimeSeconds) || waitTimeSeconds < 1 || waitTimeSeconds > 20) {
    throw new RangeError(`waitTimeSeconds must be 1–20, got ${waitTimeSeconds}`);
  }
  const client = localSqsClient(opts.endpoint, regionOf(opts.queueArn));
  const onError = opts.onError ?? ((error: unknown) => console.error('[sqs poller]', error));
  const abort = new AbortController();
  let inFlight = 0;

  let pollers = 0;
  const running = new Set<Promise<void>>();

  function startPoller(): void {
    pollers++;
    const done: Promise<void> = loop().finally(() => running.delete(done));
    running.add(done);
  }

  /** One receive and its invocation; `true` when the batch was full (more messages probably wait). */
  async function pollOnce(): Promise<boolean> {
    const { Messages = [] } = await client.send(
      new ReceiveMessageCommand({
        QueueUrl: opts.queueUrl,
        MaxNumberOfMessages: batchSize,
        WaitTimeSeconds: waitTimeSeconds,
        VisibilityTimeout: opts.visibilityTimeout,
        AttributeNames: ['All'],
        MessageSystemAttributeNames: ['All'],
        MessageAttributeNames: ['All'],
      }),
      { abortSignal: abort.signal },
    );
    if (Messages.length === 0) return false;
    // A full batch: more messages are probably waiting (a partial one emptied what was visible), so one
    // more concurrent invocation, up to the maximum.
    const full = Messages.length === batchSize;
    if (full && pollers < maxPollers && !abort.signal.aborted) startPoller();
    inFlight++;
    try {
      await invokeAndSettle(Messages);
    } finally {
      inFlight--;
    }
    return full;
  }

  async function invokeAndSettle(messages: Message[]): Promise<void> {
    const records = messages.map((message) => toSqsRecord(message, opts.queueArn));
    const timeoutMs = opts.timeoutMs ?? (opts.visibilityTimeout ?? 30) * 1000;
    let response: SQSBatchResponse | void;
    try {
      response = await opts.handler(
        { Records: records },
        lambdaContext(opts.functionName ?? 'allocator', { timeoutMs }),
      );
    } catch (error) {
      onError(error);
      return;
    }
    const done = recordsToDelete(records, response);
    if (done.length === 0) return;
    const result = await client.send(
      new DeleteMessageBatchCommand({
        QueueUrl: opts.queueUrl,
        Entries: done.map((record, index) => ({ Id: String(index), ReceiptHandle: record.receiptHandle })),
      }),
    );
    if (result.Failed?.length)
      onError(
        new Error(
          `could not delete ${result.Failed.length} processed message(s): ${JSON.stringify(result.Failed)}`,
        ),
      );
  }

  async function loop(): Promise<void> {
    while (!abort.signal.aborted) {
      try {
        // Nothing waiting any more (an empty or partial batch): scale down towards the minimum. The
        // check and the decrement run in one tick, so two pollers cannot both leave when one may.
        if (!(await pollOnce()) && pollers > minPollers) {
          pollers--;
          return;
        }
      } catch (error) {
        if (abort.signal.aborted) break;
        onError(error);
        // The queue server is down or restarting: do not spin.
        await sleep(1_000);
      }
    }
    pollers--;
  }

  for (let i = 0; i < minPollers; i++) startPoller();

  return {
    async stop() {
      abort.abort();
      // A poller may start another one as it stops (its receive had just returned messages).
      while (running.size > 0) await Promise.all(running);
      client.destroy();
    },
    async idle(timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        if (inFlight === 0 && (await messagesInQueue(client, opts.queueUrl)) === 0 && inFlight === 0) return;
        if (Date.now() > deadline) throw new Error(`queue ${opts.queueUrl} not idle after ${timeoutMs} ms`);
        await sleep(50);
      }
    },
    pollers: () => pollers,
  };
}

/**
 * Which records to delete given the handler's answer, following Lambda's rules for
 * `ReportBatchItemFailures` (plus keeping later records of a failed FIFO group, see above).
 */
export function recordsToDelete(records: SQSRecord[], response: SQSBatchResponse | void): SQSRecord[] {
  const failures = response?.batchItemFailures ?? [];
  const ids = new Set(records.map((record) => record.messageId));
  // Lambda: a null, empty or unknown identifier means the whole batch failed.
  if (failures.some((failure) => !failure.itemIdentifier || !ids.has(failure.itemIdentifier))) return [];
  const failed = new Set(failures.map((failure) => failure.itemIdentifier));
  const blockedGroups = new Set<string>();
  const toDelete: SQSRecord[] = [];
  for (const record of records) {
    const group = record.attributes.MessageGroupId;
    if (failed.has(record.messageId) || (group !== undefined && blockedGroups.has(group))) {
      if (group !== undefined) blockedGroups.add(group);
      continue;
    }
    toDelete.push(record);
  }
  return toDelete;
}

/** One received message as Lambda puts it in `event.Records` (camelCase, binary values base64). */
export function toSqsRecord(message: Message, queueArn: string): SQSRecord {
  const attributes = message.Attributes ?? {};
  const record: SQSRecord = {
    messageId: message.MessageId ?? '',
    receiptHandle: message.ReceiptHandle ?? '',
    body: message.Body ?? '',
    attributes: {
      ApproximateReceiveCount: attributes.ApproximateReceiveCount ?? '1',
      SentTimestamp: attributes.SentTimestamp ?? String(Date.now()),
      SenderId: attributes.SenderId ?? '000000000000',
      ApproximateFirstReceiveTimestamp: attributes.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
      ...(attributes.SequenceNumber !== undefined && { SequenceNumber: attributes.SequenceNumber }),
      ...(attributes.MessageGroupId !== undefined && { MessageGroupId: attributes.MessageGroupId }),
      ...(attributes.MessageDeduplicationId !== undefined && {
        MessageDeduplicationId: attributes.MessageDeduplicationId,
      }),
    },
    messageAttributes: toLambdaMessageAttributes(message.MessageAttributes ?? {}),
    md5OfBody: message.MD5OfBody ?? '',
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: regionOf(queueArn),
  };
  if (message.MD5OfMessageAttributes) record.md5OfMessageAttributes = message.MD5OfMessageAttributes;
  return record;
}

function toLambdaMessageAttributes(attributes: Record<string, MessageAttributeValue>): SQSMessageAttributes {
  return Object.fromEntries(
    Object.entries(attributes).map(([name, value]) => [
      name,
      {
        ...(value.StringValue !== undefined && { stringValue: value.StringValue }),
        ...(value.BinaryValue !== undefined && {
          binaryValue: Buffer.from(value.BinaryValue).toString('base64'),
        }),
        stringListValues: value.StringListValues ?? [],
        binaryListValues: (value.BinaryListValues ?? []).map((bytes) =>
          Buffer.from(bytes).toString('base64'),
        ),
        dataType: value.DataType ?? 'String',
      },
    ]),
  );
}

/** `arn:aws:sqs:<region>:<account>:<name>` → region. */
function regionOf(queueArn: string): string {
  return queueArn.split(':')[3] || 'us-east-1';
}

async function messagesInQueue(client: SQSClient, queueUrl: string): Promise<number> {
  const { Attributes = {} } = await client.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: [
        'ApproximateNumberOfMessages',
        'ApproximateNumberOfMessagesNotVisible',
        'ApproximateNumberOfMessagesDelayed',
      ],
    }),
  );
  return (
    Number(Attributes.ApproximateNumberOfMessages ?? 0) +
    Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0) +
    Number(Attributes.ApproximateNumberOfMessagesDelayed ?? 0)
  );
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
