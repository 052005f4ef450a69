import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  CreateQueueCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
  type Message,
} from '@aws-sdk/client-sqs';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { ensureLeadQueues, startSqs, type RunningSqs } from '../../../bin/local/sqs.js';

const sqs = (endpoint: string) =>
  new SQSClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });

function sendLead(endpoint: string, queueUrl: string, leadId: string, groupId = 'org-1') {
  return sqs(endpoint).send(
    new SendMessageCommand({
      QueueUrl: queueUrl,
      MessageBody: JSON.stringify({ leadId }),
      MessageGroupId: groupId,
      MessageDeduplicationId: leadId,
      MessageAttributes: {
        orgId: { DataType: 'String', StringValue: groupId },
        raw: { DataType: 'Binary', BinaryValue: Buffer.from([1, 2, 255]) },
      },
    }),
  );
}

/** Receives until `count` messages arrived (fauxqs hands out one message per group per call). */
async function receiveAll(endpoint: string, queueUrl: string, count: number): Promise<Message[]> {
  const received: Message[] = [];
  const deadline = Date.now() + 10_000;
  while (received.length < count && Date.now() < deadline) {
    const { Messages = [] } = await sqs(endpoint).send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 1,
        MessageSystemAttributeNames: ['All'],
        MessageAttributeNames: ['All'],
      }),
    );
    for (const message of Messages) {
      received.push(message);
      await sqs(endpoint).send(
        new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle }),
      );
    }
  }
  return received;
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('startSqs + ensureLeadQueues', () => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'leadrouter-sqs-test-'));
  const started: RunningSqs[] = [];
  async function start(withDataDir = true): Promise<RunningSqs> {
    const running = await startSqs(withDataDir ? { dataDir } : {});
    started.push(running);
    return running;
  }
  afterEach(async () => {
    await Promise.all(started.splice(0).map((running) => running.stop()));
    rmSync(path.join(dataDir, 'queue-snapshot.json'), { force: true });
  });
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('delivers FIFO messages in order within a group, with Lambda-relevant system attributes', async () => {
    const { endpoint } = await start(false);
    const { queueUrl } = await ensureLeadQueues(endpoint);
    expect(await ensureLeadQueues(endpoint)).toMatchObject({ queueUrl });
    for (const id of ['lead-1', 'lead-2', 'lead-3']) await sendLead(endpoint, queueUrl, id);
    await sendLead(endpoint, queueUrl, 'lead-1'); // same deduplication id: dropped

    const received = await receiveAll(endpoint, queueUrl, 3);
    expect(received.map((m) => JSON.parse(m.Body!).leadId)).toEqual(['lead-1', 'lead-2', 'lead-3']);
    expect(received[0]!.Attributes).toMatchObject({
      MessageGroupId: 'org-1',
      MessageDeduplicationId: 'lead-1',
      ApproximateReceiveCount: '1',
    });
    expect(received[0]!.Attributes!.SequenceNumber).toMatch(/^\d+$/);
    const empty = await sqs(endpoint).send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, WaitTimeSeconds: 1 }),
    );
    expect(empty.Messages).toBeUndefined();
  });

  it('moves a message to the DLQ after 5 receives', async () => {
    const { endpoint } = await start(false);
    const { queueUrl, dlqUrl } = await ensureLeadQueues(endpoint);
    await sendLead(endpoint, queueUrl, 'poison');
    for (let attempt = 1; attempt <= 5; attempt++) {
      const { Messages = [] } = await sqs(endpoint).send(
        // VisibilityTimeout 0: the failed message is visible again at once instead of after 30 s.
        new ReceiveMessageCommand({
          QueueUrl: queueUrl,
          VisibilityTimeout: 0,
          MessageSystemAttributeNames: ['ApproximateReceiveCount'],
        }),
      );
      expect(Messages[0]?.Attributes?.ApproximateReceiveCount).toBe(String(attempt));
    }
    const sixth = await sqs(endpoint).send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, VisibilityTimeout: 0 }),
    );
    expect(sixth.Messages).toBeUndefined();
    const dead = await receiveAll(endpoint, dlqUrl, 1);
    expect(JSON.parse(dead[0]!.Body!)).toEqual({ leadId: 'poison' });
  });

  it('keeps queued, in-flight and dead-lettered messages across a graceful stop', async () => {
    const first = await start();
    const queues = await ensureLeadQueues(first.endpoint);
    for (const id of ['a-1', 'a-2']) await sendLead(first.endpoint, queues.queueUrl, id, 'org-a');
    await sendLead(first.endpoint, queues.queueUrl, 'b-1', 'org-b');
    await sendLead(first.endpoint, queues.dlqUrl, 'dead-1', 'org-a');
    // a-1 in flight (received, never deleted) when the runtime stops: it must come back, before a-2.
    const inFlight = await sqs(first.endpoint).send(
      new ReceiveMessageCommand({ QueueUrl: queues.queueUrl, MaxNumberOfMessages: 1 }),
    );
    expect(JSON.parse(inFlight.Messages![0]!.Body!)).toEqual({ leadId: 'a-1' });
    await first.stop();
    expect(existsSync(path.join(dataDir, 'queue-snapshot.json'))).toBe(true);

    const second = await start();
    expect(existsSync(path.join(dataDir, 'queue-snapshot.json'))).toBe(false);
    const again = await ensureLeadQueues(second.endpoint);
    const received = await receiveAll(second.endpoint, again.queueUrl, 3);
    const byGroup = (group: string) =>
      received.filter((m) => m.Attributes!.MessageGroupId === group).map((m) => JSON.parse(m.Body!).leadId);
    expect(byGroup('org-a')).toEqual(['a-1', 'a-2']);
    expect(byGroup('org-b')).toEqual(['b-1']);
    expect(received[0]!.MessageAttributes).toMatchObject({
      orgId: { DataType: 'String' },
      raw: { DataType: 'Binary', BinaryValue: new Uint8Array([1, 2, 255]) },
    });
    expect(received.find((m) => m.Attributes!.MessageDeduplicationId === 'b-1')).toBeDefined();
    const dead = await receiveAll(second.endpoint, again.dlqUrl, 1);
    expect(JSON.parse(dead[0]!.Body!)).toEqual({ leadId: 'dead-1' });
  });

  it('keeps queued messages when the process that started it is SIGKILLed: the stand-in writes its snapshot, and a start at once waits for it', async () => {
    // Prepare: another process starts the stand-in on dataDir, queues a lead and says so
    const script = [
      `import { startSqs, ensureLeadQueues } from ${JSON.stringify(path.resolve('bin/local/sqs.ts'))};`,
      `import { SQSClient, SendMessageCommand } from '@aws-sdk/client-sqs';`,
      `const sqs = await startSqs({ dataDir: ${JSON.stringify(dataDir)} });`,
      `const { queueUrl } = await ensureLeadQueues(sqs.endpoint);`,
      `const client = new SQSClient({ endpoint: sqs.endpoint, region: 'us-east-1', credentials: { accessKeyId: 't', secretAccessKey: 't' } });`,
      `await client.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify({ leadId: 'survivor' }), MessageGroupId: 'org-k', MessageDeduplicationId: 'survivor' }));`,
      `console.log('queued ' + sqs.pid);`,
      `setInterval(() => undefined, 1000);`,
    ].join('\n');
    const parent = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const standInPid = await new Promise<number>((resolve, reject) => {
      parent.once('exit', (code) => reject(new Error(`exited with ${code}`)));
      parent.stdout!.on('data', (chunk: Buffer) => {
        const m = /queued (\d+)/.exec(chunk.toString());
        if (m) resolve(Number(m[1]));
      });
    });

    // Act: kill the parent without warning (the stand-in sees its IPC channel close and writes its
    // snapshot) and start again on the same dataDir at once, as a user restarting would
    parent.kill('SIGKILL');
    await new Promise((resolve) => parent.once('exit', resolve));

    // Assess: the new start waited for the old stand-in, and has the lead
    const second = await start();
    expect(isRunning(standInPid)).toBe(false);
    const again = await ensureLeadQueues(second.endpoint);
    const [message] = await receiveAll(second.endpoint, again.queueUrl, 1);
    expect(JSON.parse(message!.Body!)).toEqual({ leadId: 'survivor' });
  });

  it('updates a lead queue that exists with other settings', async () => {
    const { endpoint } = await start(false);
    const client = sqs(endpoint);
    await client.send(
      new CreateQueueCommand({
        QueueName: 'leadrouter-leads.fifo',
        Attributes: { FifoQueue: 'true', VisibilityTimeout: '60' },
      }),
    );
    const { queueUrl } = await ensureLeadQueues(endpoint);
    const { Attributes } = await client.send(
      new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['All'] }),
    );
    expect(Attributes).toMatchObject({ VisibilityTimeout: '30', ContentBasedDeduplication: 'false' });
    expect(JSON.parse(Attributes!.RedrivePolicy!)).toMatchObject({ maxReceiveCount: 5 });
  });

  it('restores other queues too, dead-letter targets first', async () => {
    const first = await start();
    const client = sqs(first.endpoint);
    const { QueueUrl } = await client.send(
      new CreateQueueCommand({ QueueName: 'plain', Attributes: { VisibilityTimeout: '7' } }),
    );
    await client.send(new SendMessageCommand({ QueueUrl, MessageBody: 'hello' }));
    await first.stop();

    const second = await start();
    const url = (
      await sqs(second.endpoint).send(
        new CreateQueueCommand({ QueueName: 'plain', Attributes: { VisibilityTimeout: '7' } }),
      )
    ).QueueUrl!;
    const [message] = await receiveAll(second.endpoint, url, 1);
    expect(message?.Body).toBe('hello');
  });
});
