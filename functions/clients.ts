/**
 * SDK and database clients, created once per cold start and reused across invocations (Lambda keeps
 * the execution environment warm). `resetClients()` exists for the local runtime, which may restart
 * in-process against new endpoints.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { ApiGatewayManagementApiClient } from '@aws-sdk/client-apigatewaymanagementapi';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import pg from 'pg';
import { config } from './config.js';
import { tracer } from './powertools.js';

let dynamo: DynamoDBClient | undefined;
let documents: DynamoDBDocumentClient | undefined;
let sqs: SQSClient | undefined;
let management: ApiGatewayManagementApiClient | undefined;
let pool: Promise<pg.Pool> | undefined;

/** Local stand-ins accept any credentials; on AWS the SDK's default chain is used. */
function localCredentials(endpoint: string | undefined) {
  return endpoint ? { credentials: { accessKeyId: 'local', secretAccessKey: 'local' } } : {};
}

export function dynamoClient(): DynamoDBClient {
  const c = config();
  // X-Ray subsegments per call on AWS (active tracing); the client itself when tracing is off (locally).
  dynamo ??= tracer.captureAWSv3Client(
    new DynamoDBClient({
      region: c.region,
      endpoint: c.dynamoEndpoint,
      ...localCredentials(c.dynamoEndpoint),
    }),
  );
  return dynamo;
}

export function documentClient(): DynamoDBDocumentClient {
  documents ??= DynamoDBDocumentClient.from(dynamoClient(), {
    marshallOptions: { removeUndefinedValues: true },
  });
  return documents;
}

export function sqsClient(): SQSClient {
  const c = config();
  sqs ??= tracer.captureAWSv3Client(
    new SQSClient({ region: c.region, endpoint: c.sqsEndpoint, ...localCredentials(c.sqsEndpoint) }),
  );
  return sqs;
}

/** The WebSocket API's `@connections` endpoint; undefined when realtime is not configured. */
export function managementClient(): ApiGatewayManagementApiClient | undefined {
  const c = config();
  if (!c.wsManagementEndpoint) return undefined;
  management ??= tracer.captureAWSv3Client(
    new ApiGatewayManagementApiClient({
      region: c.region,
      endpoint: c.wsManagementEndpoint,
      ...localCredentials(c.wsManagementEndpoint.startsWith('http://') ? c.wsManagementEndpoint : undefined),
    }),
  );
  return management;
}

async function connectionString(): Promise<string | pg.PoolConfig> {
  const c = config();
  if (c.databaseUrl) return c.databaseUrl;
  if (!c.databaseSecretArn)
    throw new Error('Missing required environment variable DATABASE_URL or DATABASE_SECRET_ARN');
  const secrets = new SecretsManagerClient({ region: c.region });
  const out = await secrets.send(new GetSecretValueCommand({ SecretId: c.databaseSecretArn }));
  const secret = JSON.parse(out.SecretString ?? '{}') as {
    username: string;
    password: string;
    host?: string;
    port?: number;
  };
  return {
    host: c.databaseHost ?? secret.host,
    port: secret.port ?? 5432,
    user: secret.username,
    password: secret.password,
    database: c.databaseName,
    ssl: { rejectUnauthorized: false },
  };
}

/** A connection URL for tools that want one (migrations). */
export async function databaseUrl(): Promise<string> {
  const conn = await connectionString();
  if (typeof conn === 'string') return conn;
  const u = new URL('postgres://localhost');
  u.hostname = String(conn.host);
  u.port = String(conn.port);
  u.username = encodeURIComponent(String(conn.user));
  u.password = encodeURIComponent(String(conn.password));
  u.pathname = `/${conn.database}`;
  u.searchParams.set('sslmode', 'no-verify');
  return u.toString();
}

/**
 * The PostgreSQL pool. On Lambda one environment serves one request at a time, so a small pool is
 * enough; RDS Proxy multiplexes the connections of many environments onto few database connections.
 */
export function dbPool(): Promise<pg.Pool> {
  pool ??= connectionString().then((conn) => {
    const options: pg.PoolConfig = typeof conn === 'string' ? { connectionString: conn } : conn;
    const p = new pg.Pool({
      ...options,
      max: Number(process.env.DB_POOL_MAX ?? (process.env.LOCAL_RUNTIME === '1' ? 20 : 4)),
      idleTimeoutMillis: 30_000,
      connectionTimeoutMillis: 10_000,
    });
    // A client losing its connection (database restart, failover) must not crash the process: idle
    // clients report it on the pool, checked-out clients on themselves — there the failing query
    // rejects and only that transaction fails (and is retried by its caller or redelivered).
    p.on('error', () => undefined);
    p.on('connect', (client) => client.on('error', () => undefined));
    return p;
  });
  return pool;
}

export async function resetClients(): Promise<void> {
  const p = pool;
  pool = undefined;
  dynamo?.destroy();
  sqs?.destroy();
  management?.destroy();
  dynamo = undefined;
  documents = undefined;
  sqs = undefined;
  management = undefined;
  if (p) await (await p.catch(() => undefined))?.end();
}
