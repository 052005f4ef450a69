import { ReceiveMessageCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { SqsSchema } from '@aws-lambda-powertools/parser/schemas';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ensureLeadQueues, startSqs, type LeadQueues, type RunningSqs } from '../../../bin/local/sqs.js';
import { recordsToDelete, startSqsPoller, type SqsPoller } from '../../../bin/local/sqsPoller.js';

const sqs = (endpoint: string) =>
  new SQSClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });

interface Invocation {
  leadIds: string[];
  receiveCounts: string[];
  context: Context;
}

describe('startSqsPoller', () => {
  let server: RunningSqs;
  let queues: LeadQueues;
  let poller: SqsPoller | undefined;

  beforeEach(async () => {
    server = await startSqs();
    queues = await ensureLeadQueues(server.endpoint);
  });
  afterEach(async () => {
    await poller?.stop();
    poller = undefined;
    await server.stop();
  });

  async function send(leadId: string, groupId: string) {
    await sqs(server.endpoint).send(
      new SendMessageCommand({
        QueueUrl: queues.queueUrl,
        MessageBody: JSON.stringify({ leadId }),
        MessageGroupId: groupId,
        MessageDeduplicationId: leadId,
        MessageAttributes: { source: { DataType: 'String', StringValue: 'webhook' } },
      }),
    );
  }

  function poll(handler: (event: SQSEvent, context: Context) => Promise<SQSBatchResponse | void>) {
    poller = startSqsPoller({
      endpoint: server.endpoint,
      queueUrl: queues.queueUrl,
      queueArn: queues.queueArn,
      handler,
      waitTimeSeconds: 1,
      // Failed messages come back after 1 s instead of the queue's 30 s.
      visibilityTimeout: 1,
      onError: () => undefined,
    });
    return poller;
  }

  it('deletes what succeeded, redelivers batchItemFailures and dead-letters a poison message', async () => {
    const invocations: Invocation[] = [];
    const seen = new Map<string, number>();
    const running = poll(async (event, context) => {
      SqsSchema.parse(event); // Powertools' own schema of a Lambda SQS event
      invocations.push({
        leadIds: event.Records.map(leadId),
        receiveCounts: event.Records.map((r) => r.attributes.ApproximateReceiveCount),
        context,
      });
      const failures = event.Records.filter((record) => {
        const id = leadId(record);
        seen.set(id, (seen.get(id) ?? 0) + 1);
        return id === 'poison' || (id === 'flaky' && seen.get(id) === 1);
      });
      return { batchItemFailures: failures.map((record) => ({ itemIdentifier: record.messageId })) };
    });
    await send('good', 'org-1');
    await send('flaky', 'org-2');
    await send('poison', 'org-3');

    await running.idle(20_000);

    expect(seen).toEqual(
      new Map([
        ['good', 1],
        ['flaky', 2],
        ['poison', 5],
      ]),
    );
    const first = invocations.find((i) => i.leadIds.includes('good'))!;
    expect(first.context.functionName).toBe('allocator');
    expect(first.context.awsRequestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(first.context.getRemainingTimeInMillis()).toBeLessThanOrEqual(1000);
    const poisonCounts = invocations.flatMap((i) =>
      i.receiveCounts.filter((_, n) => i.leadIds[n] === 'poison'),
    );
    expect(poisonCounts).toEqual(['1', '2', '3', '4', '5']);

    const dead = await sqs(server.endpoint).send(
      new ReceiveMessageCommand({ QueueUrl: queues.dlqUrl, WaitTimeSeconds: 1 }),
    );
    expect(dead.Messages?.map((m) => JSON.parse(m.Body!).leadId)).toEqual(['poison']);
  });

  it('builds records exactly like Lambda', async () => {
    const events: SQSEvent[] = [];
    const running = poll(async (event) => {
      events.push(event);
    });
    await send('lead-1', 'org-1');
    await running.idle();
    const [record] = events[0]!.Records;
    expect(record).toMatchObject({
      body: '{"leadId":"lead-1"}',
      eventSource: 'aws:sqs',
      eventSourceARN: queues.queueArn,
      awsRegion: 'us-east-1',
      messageAttributes: {
        source: { stringValue: 'webhook', stringListValues: [], binaryListValues: [], dataType: 'String' },
      },
      attributes: {
        ApproximateReceiveCount: '1',
        SenderId: expect.any(String),
        MessageGroupId: 'org-1',
        MessageDeduplicationId: 'lead-1',
      },
    });
    expect(Object.keys(record!.attributes).sort()).toEqual([
      'ApproximateFirstReceiveTimestamp',
      'ApproximateReceiveCount',
      'MessageDeduplicationId',
      'MessageGroupId',
      'SenderId',
      'SentTimestamp',
      'SequenceNumber',
    ]);
    expect(record!.md5OfBody).toMatch(/^[0-9a-f]{32}$/);
    expect(record!.receiptHandle).toBeTruthy();
  });

  it('deletes nothing when the handler throws, so the batch is retried', async () => {
    let calls = 0;
    const running = poll(async () => {
      calls++;
      if (calls === 1) throw new Error('database down');
    });
    await send('lead-1', 'org-1');
    await running.idle(10_000);
    expect(calls).toBe(2);
  });

  it('stop() waits for the invocation in flight and lets it settle its messages', async () => {
    let release!: () => void;
    const started = new Promise<void>((resolve) => {
      poll(async () => {
        resolve();
        await new Promise<void>((r) => (release = r));
      });
    });
    await send('lead-1', 'org-1');
    await started;
    let stopped = false;
    const stopping = poller!.stop().then(() => (stopped = true));
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(stopped).toBe(false);
    release();
    await stopping;
    poller = undefined;
    const left = await sqs(server.endpoint).send(
      new ReceiveMessageCommand({ QueueUrl: queues.queueUrl, WaitTimeSeconds: 2 }),
    );
    expect(left.Messages).toBeUndefined();
  });
});

describe('recordsToDelete', () => {
  const record = (messageId: string, group?: string) =>
    ({ messageId, attributes: group ? { MessageGroupId: group } : {} }) as unknown as SQSRecord;
  const batch = [record('a1', 'a'), record('b1', 'b'), record('a2', 'a'), record('c1', 'c')];

  it('deletes everything on success', () => {
    expect(recordsToDelete(batch, undefined)).toEqual(batch);
    expect(recordsToDelete(batch, { batchItemFailures: [] })).toEqual(batch);
  });

  it('keeps failed records and later records of the same FIFO group', () => {
    expect(
      recordsToDelete(batch, { batchItemFailures: [{ itemIdentifier: 'a1' }] }).map((r) => r.messageId),
    ).toEqual(['b1', 'c1']);
  });

  it('keeps the whole batch when an identifier is empty or unknown, like Lambda', () => {
    expect(recordsToDelete(batch, { batchItemFailures: [{ itemIdentifier: 'zz' }] })).toEqual([]);
    expect(recordsToDelete(batch, { batchItemFailures: [{ itemIdentifier: '' }] })).toEqual([]);
  });
});

function leadId(record: SQSRecord): string {
  return (JSON.parse(record.body) as { leadId: string }).leadId;
}
