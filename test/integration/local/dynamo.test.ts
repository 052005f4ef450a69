import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  ConditionalCheckFailedException,
  DescribeTableCommand,
  DynamoDBClient,
  GetItemCommand,
  ListTablesCommand,
  PutItemCommand,
  TransactionCanceledException,
  TransactWriteItemsCommand,
} from '@aws-sdk/client-dynamodb';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { ensureTables, startDynamo, type RunningDynamo } from '../../../bin/local/dynamo.js';
import { tables } from '../../../functions/adapters/dynamo/tables.js';

function client(endpoint: string): DynamoDBClient {
  return new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
}

/** The conditional put the intake uses to claim a phone number for the duplicate window. */
function claim(endpoint: string, pk: string) {
  return client(endpoint).send(
    new PutItemCommand({
      TableName: tables.keys.defaultName,
      Item: { pk: { S: pk }, leadId: { S: 'lead-1' } },
      ConditionExpression: 'attribute_not_exists(pk)',
    }),
  );
}

describe('startDynamo + ensureTables', () => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'leadrouter-dynamo-test-'));
  let running: RunningDynamo | undefined;

  afterAll(async () => {
    await running?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('creates every table with the key schema of tables.ts, idempotently', async () => {
    running = await startDynamo({ dataDir });
    expect(running.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    await Promise.all([ensureTables(running.endpoint), ensureTables(running.endpoint)]);
    await ensureTables(running.endpoint);

    const { TableNames } = await client(running.endpoint).send(new ListTablesCommand({}));
    expect(TableNames?.sort()).toEqual(
      Object.values(tables)
        .map((t) => t.defaultName)
        .sort(),
    );
    const { Table } = await client(running.endpoint).send(
      new DescribeTableCommand({ TableName: tables.connections.defaultName }),
    );
    expect(Table?.KeySchema).toEqual([
      { AttributeName: 'orgId', KeyType: 'HASH' },
      { AttributeName: 'connectionId', KeyType: 'RANGE' },
    ]);
    expect(Table?.BillingModeSummary?.BillingMode).toBe('PAY_PER_REQUEST');
    expect(Table?.TableStatus).toBe('ACTIVE');
  });

  it('rejects a second conditional put of the same key', async () => {
    await claim(running!.endpoint, 'phone#org-1#+15551230001');
    await expect(claim(running!.endpoint, 'phone#org-1#+15551230001')).rejects.toBeInstanceOf(
      ConditionalCheckFailedException,
    );
  });

  it('keeps tables and items across a restart with a dataDir', async () => {
    await running!.stop();
    running = await startDynamo({ dataDir });
    await ensureTables(running.endpoint);
    const { Item } = await client(running.endpoint).send(
      new GetItemCommand({
        TableName: tables.keys.defaultName,
        Key: { pk: { S: 'phone#org-1#+15551230001' } },
      }),
    );
    expect(Item?.leadId).toEqual({ S: 'lead-1' });
    await expect(claim(running.endpoint, 'phone#org-1#+15551230001')).rejects.toBeInstanceOf(
      ConditionalCheckFailedException,
    );
  });

  it('keeps nothing without a dataDir', async () => {
    const memory = await startDynamo();
    try {
      await ensureTables(memory.endpoint);
      await claim(memory.endpoint, 'phone#org-1#+15551230002');
      await memory.stop();
      const again = await startDynamo();
      try {
        const { TableNames } = await client(again.endpoint).send(new ListTablesCommand({}));
        expect(TableNames).toEqual([]);
      } finally {
        await again.stop();
      }
    } finally {
      await memory.stop();
    }
  });
});

/** Resolves once `pid` is no longer running (polled; the test's timeout bounds it). */
async function exited(pid: number): Promise<void> {
  for (;;) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('the stand-in in its own process', () => {
  it('serves from a child process that stop() ends', async () => {
    const dynamo = await startDynamo();
    expect(dynamo.pid).toBeGreaterThan(0);
    expect(dynamo.pid).not.toBe(process.pid);
    await ensureTables(dynamo.endpoint);
    await dynamo.stop();
    await exited(dynamo.pid!);
    await dynamo.stop(); // idempotent
  });

  it('ends with a runtime that is killed, leaving its dataDir usable by the next start', async () => {
    // Prepare: a process that starts the stand-in on a dataDir, writes an item, and reports the child's pid
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'leadrouter-dynamo-kill-'));
    const script = path.join(dataDir, 'parent.mts');
    const dynamoModule = pathToFileURL(path.resolve('bin/local/dynamo.ts')).href;
    const sdkModule = pathToFileURL(createRequire(import.meta.url).resolve('@aws-sdk/client-dynamodb')).href;
    writeFileSync(
      script,
      `import { ensureTables, startDynamo } from ${JSON.stringify(dynamoModule)};
       import { DynamoDBClient, PutItemCommand } from ${JSON.stringify(sdkModule)};
       const d = await startDynamo({ dataDir: ${JSON.stringify(dataDir)} });
       await ensureTables(d.endpoint);
       const c = new DynamoDBClient({ endpoint: d.endpoint, region: 'us-east-1', credentials: { accessKeyId: 't', secretAccessKey: 't' } });
       await c.send(new PutItemCommand({ TableName: ${JSON.stringify(tables.keys.defaultName)}, Item: { pk: { S: 'kept' }, leadId: { S: 'lead-k' } } }));
       console.log(JSON.stringify({ child: d.pid }));
       setInterval(() => undefined, 1000);`,
    );
    const parent = spawn(process.execPath, ['--import', 'tsx', script], {
      cwd: process.cwd(),
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    try {
      const childPid = await new Promise<number>((resolve, reject) => {
        parent.once('exit', (code) => reject(new Error(`parent exited with ${code}`)));
        parent.stdout!.on('data', (chunk: Buffer) => {
          const match = /"child":(\d+)/.exec(String(chunk));
          if (match) resolve(Number(match[1]));
        });
      });

      // Act: the runtime dies without stopping anything
      parent.kill('SIGKILL');

      // Assess: the stand-in goes too, and the next start opens the same LevelDB with the item in it
      await exited(childPid);
      const again = await startDynamo({ dataDir });
      try {
        const { Item } = await client(again.endpoint).send(
          new GetItemCommand({ TableName: tables.keys.defaultName, Key: { pk: { S: 'kept' } } }),
        );
        expect(Item?.leadId).toEqual({ S: 'lead-k' });
      } finally {
        await again.stop();
      }
    } finally {
      parent.kill('SIGKILL');
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('TransactWriteItems on the stand-in', () => {
  let dynamo: RunningDynamo;
  afterAll(() => dynamo?.stop());

  const put = (pk: string, leadId: string) => ({
    Put: {
      TableName: tables.keys.defaultName,
      Item: { pk: { S: pk }, leadId: { S: leadId } },
      ConditionExpression: 'attribute_not_exists(pk)',
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const,
    },
  });

  it('writes every item or none, naming per item the condition that failed and the item in the way', async () => {
    dynamo = await startDynamo();
    await ensureTables(dynamo.endpoint);
    const c = client(dynamo.endpoint);
    await c.send(
      new TransactWriteItemsCommand({ TransactItems: [put('tx#a', 'lead-a'), put('tx#b', 'lead-b')] }),
    );

    const error = await c
      .send(new TransactWriteItemsCommand({ TransactItems: [put('tx#c', 'lead-c'), put('tx#b', 'lead-x')] }))
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(TransactionCanceledException);
    const reasons = (error as TransactionCanceledException).CancellationReasons;
    expect(reasons?.map((r) => r.Code)).toEqual(['None', 'ConditionalCheckFailed']);
    expect(reasons?.[1]?.Item).toEqual({ pk: { S: 'tx#b' }, leadId: { S: 'lead-b' } });
    const { Item } = await c.send(
      new GetItemCommand({ TableName: tables.keys.defaultName, Key: { pk: { S: 'tx#c' } } }),
    );
    expect(Item).toBeUndefined();
  });

  it('refuses two operations on one item, as DynamoDB does', async () => {
    await expect(
      client(dynamo.endpoint).send(
        new TransactWriteItemsCommand({ TransactItems: [put('tx#d', 'lead-d'), put('tx#d', 'lead-e')] }),
      ),
    ).rejects.toThrow(/multiple operations on one item/);
  });

  it('lets exactly one of many concurrent transactions over one key win it', async () => {
    const c = client(dynamo.endpoint);
    const outcomes = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) =>
        c.send(
          new TransactWriteItemsCommand({
            TransactItems: [put(`tx#own${i}`, `l${i}`), put('tx#shared', `l${i}`)],
          }),
        ),
      ),
    );
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
  });
});
