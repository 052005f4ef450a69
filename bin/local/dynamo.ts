import { mkdirSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  ResourceInUseException,
  ResourceNotFoundException,
  type AttributeDefinition,
  type KeySchemaElement,
} from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import { tableName, tables, type TableName } from '../../functions/adapters/dynamo/tables.js';
import { closeHttpServer } from './httpServer.js';

export interface StartDynamoOptions {
  /** Keeps items in LevelDB under `<dataDir>/dynamo` so claim keys survive restarts; in memory when absent. */
  dataDir?: string;
  /** Default: any free port. */
  port?: number;
}

export interface RunningDynamo {
  /** `http://127.0.0.1:<port>`, for `DYNAMODB_ENDPOINT`. */
  endpoint: string;
  stop(): Promise<void>;
}

/**
 * Starts dynalite, a DynamoDB-compatible server, on 127.0.0.1. It has no TTL: expired items stay until
 * overwritten, which is also true for a while on AWS (TTL deletes lazily), so the adapters compare
 * `expiresAt` with the clock themselves and we do not emulate TTL here.
 */
export async function startDynamo(opts: StartDynamoOptions = {}): Promise<RunningDynamo> {
  let levelPath: string | undefined;
  if (opts.dataDir) {
    levelPath = path.join(path.resolve(opts.dataDir), 'dynamo');
    mkdirSync(levelPath, { recursive: true });
  }
  // Tables become ACTIVE at once instead of after dynalite's default 500 ms of CREATING.
  const server: Server = dynalite({ path: levelPath, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return { endpoint: `http://127.0.0.1:${port}`, stop: () => closeHttpServer(server) };
}

/**
 * Creates every table of `functions/adapters/dynamo/tables.ts` that does not exist yet, on demand
 * billing like the CDK app, and waits until each is ACTIVE. Safe to call concurrently and on every
 * start. Key attributes are strings: every key the adapters write is a composed string.
 */
export async function ensureTables(endpoint: string, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const client = new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  try {
    await Promise.all((Object.keys(tables) as TableName[]).map((table) => ensureTable(client, table, env)));
  } finally {
    client.destroy();
  }
}

async function ensureTable(client: DynamoDBClient, table: TableName, env: NodeJS.ProcessEnv): Promise<void> {
  const spec = tables[table];
  const name = tableName(table, env);
  const keys: KeySchemaElement[] = [{ AttributeName: spec.partitionKey, KeyType: 'HASH' }];
  const attributes: AttributeDefinition[] = [{ AttributeName: spec.partitionKey, AttributeType: 'S' }];
  if ('sortKey' in spec) {
    keys.push({ AttributeName: spec.sortKey, KeyType: 'RANGE' });
    attributes.push({ AttributeName: spec.sortKey, AttributeType: 'S' });
  }
  try {
    await client.send(
      new CreateTableCommand({
        TableName: name,
        KeySchema: keys,
        AttributeDefinitions: attributes,
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
  } catch (error) {
    if (!(error instanceof ResourceInUseException)) throw error;
  }
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      const { Table } = await client.send(new DescribeTableCommand({ TableName: name }));
      if (Table?.TableStatus === 'ACTIVE') return;
    } catch (error) {
      if (!(error instanceof ResourceNotFoundException)) throw error;
    }
    if (Date.now() > deadline) throw new Error(`DynamoDB table ${name} did not become ACTIVE within 10 s`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
