import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  ConditionalCheckFailedException,
  DescribeTableCommand,
  DynamoDBClient,
  GetItemCommand,
  ListTablesCommand,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
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
