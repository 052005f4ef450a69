/**
 * Configuration read from the environment once per cold start (and again after `resetConfig()`, which
 * the local runtime calls when it restarts in-process). Missing required values fail fast, naming the
 * variable, instead of failing later inside a request.
 */
import { tableName } from './adapters/dynamo/tables.js';

export interface Config {
  region: string;
  stage: string;
  /** Full URL (local or given), or built from the Secrets Manager secret on AWS. */
  databaseUrl: string | undefined;
  databaseSecretArn: string | undefined;
  databaseHost: string | undefined;
  databaseName: string;
  dynamoEndpoint: string | undefined;
  sqsEndpoint: string | undefined;
  leadQueueUrl: string;
  wsManagementEndpoint: string | undefined;
  tables: { idempotency: string; keys: string; connections: string };
  /** Body limit of the lead webhook (SPEC §5). */
  maxWebhookBodyBytes: number;
  /** Duplicate window for phones (SPEC §5). */
  duplicateWindowSeconds: number;
}

let cached: Config | undefined;

function required(env: NodeJS.ProcessEnv, name: string): string {
  const value = env[name];
  if (!value) throw new Error(`Missing required environment variable ${name}`);
  return value;
}

/** Webhook bodies (leads, quota resets) over this are a 413. */
export const MAX_WEBHOOK_BODY_BYTES = 64 * 1024;

export function config(env: NodeJS.ProcessEnv = process.env): Config {
  if (cached) return cached;
  cached = {
    region: env.AWS_REGION ?? 'us-east-1',
    stage: env.STAGE ?? 'local',
    databaseUrl: env.DATABASE_URL,
    databaseSecretArn: env.DATABASE_SECRET_ARN,
    databaseHost: env.DATABASE_HOST,
    databaseName: env.DATABASE_NAME ?? 'leadrouter',
    dynamoEndpoint: env.DYNAMODB_ENDPOINT,
    sqsEndpoint: env.SQS_ENDPOINT,
    leadQueueUrl: required(env, 'LEAD_QUEUE_URL'),
    wsManagementEndpoint: env.WS_MANAGEMENT_ENDPOINT,
    tables: {
      idempotency: tableName('idempotency', env),
      keys: tableName('keys', env),
      connections: tableName('connections', env),
    },
    maxWebhookBodyBytes: MAX_WEBHOOK_BODY_BYTES,
    duplicateWindowSeconds: 24 * 60 * 60,
  };
  return cached;
}

export function resetConfig(): void {
  cached = undefined;
}
