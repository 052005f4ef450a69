import { mkdirSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
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
import { withTransactions } from './dynaliteTransactions.js';
import { closeHttpServer } from './httpServer.js';
import { forkStandIn } from './standInProcess.js';

export interface StartDynamoOptions {
  /** Keeps items in LevelDB under `<dataDir>/dynamo` so claim keys survive restarts; in memory when absent. */
  dataDir?: string;
  /** Default: any free port. */
  port?: number;
  /**
   * Serve from this process instead of a child process (default: a child, see `dynamoProcess.ts`).
   * In process, dynalite's work competes with the handlers for one core.
   */
  inProcess?: boolean;
}

export interface RunningDynamo {
  /** `http://127.0.0.1:<port>`, for `DYNAMODB_ENDPOINT`. */
  endpoint: string;
  /** The child process serving it (undefined when in process). */
  pid?: number;
  stop(): Promise<void>;
}

const HERE = path.dirname(fileURLToPath(import.meta.url));
/** Stopping waits this long for the child to close LevelDB before killing it. */
const CHILD_STOP_MS = 5_000;

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
  return opts.inProcess ? startInProcess(levelPath, opts.port) : startChild(levelPath, opts.port);
}

async function startInProcess(
  levelPath: string | undefined,
  port: number | undefined,
): Promise<RunningDynamo> {
  // Tables become ACTIVE at once instead of after dynalite's default 500 ms of CREATING.
  // TransactWriteItems (which dynalite lacks) is served on its store: bulk intake claims keys with it.
  const server: Server = withTransactions(() =>
    dynalite({ path: levelPath, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 }),
  );
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port: bound } = server.address() as AddressInfo;
  return { endpoint: `http://127.0.0.1:${bound}`, stop: () => closeHttpServer(server) };
}

/**
 * dynalite in a child process (`dynamoProcess.ts`). The child exits by itself when this process goes
 * away, so a killed runtime leaves no stand-in holding the LevelDB lock of `DATA_DIR`.
 */
async function startChild(levelPath: string | undefined, port: number | undefined): Promise<RunningDynamo> {
  return forkStandIn({
    entry: path.join(HERE, 'dynamoProcess.ts'),
    optionsVariable: 'LEADROUTER_DYNAMO_OPTIONS',
    options: { path: levelPath, port },
    label: 'DynamoDB',
    stopTimeoutMs: CHILD_STOP_MS,
  });
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
