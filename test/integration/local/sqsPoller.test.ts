import {
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
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

describe('startSqsPoller scaling', () => {
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

  async function sendAll(messages: { leadId: string; group: string }[]) {
    const client = sqs(server.endpoint);
    for (let i = 0; i < messages.length; i += 10)
      await client.send(
        new SendMessageBatchCommand({
          QueueUrl: queues.queueUrl,
          Entries: messages.slice(i, i + 10).map((m, n) => ({
            Id: String(n),
            MessageBody: JSON.stringify({ leadId: m.leadId }),
            MessageGroupId: m.group,
            MessageDeduplicationId: m.leadId,
          })),
        }),
      );
  }

  it('runs more invocations while messages wait, never more than maxPollers, and back to the minimum when idle', async () => {
    // Prepare: 40 leads in 40 groups and a handler that holds each invocation until 4 run at once.
    await sendAll(Array.from({ length: 40 }, (_, i) => ({ leadId: `lead-${i}`, group: `g-${i}` })));
    let running = 0;
    let peak = 0;
    let reachedFour!: () => void;
    const four = new Promise<void>((resolve) => (reachedFour = resolve));
    const handled: string[] = [];

    // Act
    poller = startSqsPoller({
      endpoint: server.endpoint,
      queueUrl: queues.queueUrl,
      queueArn: queues.queueArn,
      batchSize: 1,
      waitTimeSeconds: 1,
      pollers: 1,
      maxPollers: 4,
      onError: () => undefined,
      handler: async (event) => {
        running++;
        peak = Math.max(peak, running);
        if (running === 4) reachedFour();
        await four;
        await new Promise((resolve) => setTimeout(resolve, 5));
        handled.push(...event.Records.map(leadId));
        running--;
      },
    });
    await poller.idle(20_000);

    // Assess: it scaled from 1 to 4 and not beyond; every lead once; then it shrank back to 1.
    expect(peak).toBe(4);
    expect(handled.sort()).toEqual(Array.from({ length: 40 }, (_, i) => `lead-${i}`).sort());
    const deadline = Date.now() + 10_000;
    while (poller.pollers() > 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(poller.pollers()).toBe(1);
  });

  it('stays at the minimum while each receive empties the queue (no backlog)', async () => {
    // Prepare: a handler that records how many pollers run while it is invoked.
    let most = 0;
    poller = startSqsPoller({
      endpoint: server.endpoint,
      queueUrl: queues.queueUrl,
      queueArn: queues.queueArn,
      waitTimeSeconds: 1,
      pollers: 1,
      maxPollers: 4,
      onError: () => undefined,
      handler: async () => {
        most = Math.max(most, poller!.pollers());
      },
    });

    // Act: 15 leads one at a time, each after the previous one was handled.
    for (let i = 0; i < 15; i++) {
      await sendAll([{ leadId: `trickle-${i}`, group: `t-${i}` }]);
      await poller.idle(10_000);
    }

    // Assess
    expect(most).toBe(1);
  });

  it('never runs two messages of one FIFO group at once, however many pollers run', async () => {
    // Prepare: 5 groups × 6 messages, interleaved.
    const messages = Array.from({ length: 30 }, (_, i) => ({ leadId: `lead-${i}`, group: `g-${i % 5}` }));
    await sendAll(messages);
    const busy = new Set<string>();
    const order = new Map<string, string[]>();
    let overlap = false;

    // Act
    poller = startSqsPoller({
      endpoint: server.endpoint,
      queueUrl: queues.queueUrl,
      queueArn: queues.queueArn,
      batchSize: 1,
      waitTimeSeconds: 1,
      maxPollers: 8,
      onError: () => undefined,
      handler: async (event) => {
        const [record] = event.Records;
        const group = record!.attributes.MessageGroupId!;
        if (busy.has(group)) overlap = true;
        busy.add(group);
        await new Promise((resolve) => setTimeout(resolve, 10));
        order.set(group, [...(order.get(group) ?? []), leadId(record!)]);
        busy.delete(group);
      },
    });
    await poller.idle(20_000);

    // Assess: no group in two invocations at once, and each group in send order.
    expect(overlap).toBe(false);
    for (let g = 0; g < 5; g++)
      expect(order.get(`g-${g}`)).toEqual(messages.filter((m) => m.group === `g-${g}`).map((m) => m.leadId));
  });

  it('rejects a maximum below the minimum', () => {
    expect(() =>
      startSqsPoller({
        endpoint: server.endpoint,
        queueUrl: queues.queueUrl,
        queueArn: queues.queueArn,
        handler: async () => undefined,
        pollers: 3,
        maxPollers: 2,
      }),
    ).toThrow(/maxPollers/);
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
