/**
 * What differs between a disposable `dev` stack and `prod`, in one place. The stage comes from CDK
 * context (`-c stage=prod`); everything else derives from it, with a few numbers overridable by context
 * for accounts that outgrow the defaults (see README, Deploy to AWS).
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Node } from 'constructs';
import { ALLOCATOR_MAX_CONCURRENCY, MAX_CONCURRENCY_RANGE } from './allocator.js';

export const STAGES = ['dev', 'prod'] as const;
export type Stage = (typeof STAGES)[number];

export interface StageConfig {
  stage: Stage;
  /** Lambda, API access and VPC flow logs. */
  logRetention: RetentionDays;
  /** Tables, buckets and log groups: kept on `cdk destroy` in prod, removed in dev. */
  removalPolicy: RemovalPolicy;
  /** Aurora cluster: a final snapshot in prod; nothing in dev. */
  databaseRemovalPolicy: RemovalPolicy;
  deletionProtection: boolean;
  /**
   * Aurora Serverless v2 capacity per instance, in ACUs (1 ACU ≈ 2 GiB). Not 0: RDS Proxy keeps
   * connections open, which rules out auto-pause, and the outbox relay connects every minute anyway.
   */
  auroraMinAcu: number;
  auroraMaxAcu: number;
  /** A Serverless v2 reader in a second AZ, scaling with the writer, so a failover is fast. */
  auroraReader: boolean;
  backupRetention: Duration;
  /** One NAT gateway in dev; one per AZ in prod so an AZ outage does not cut the VPC functions off. */
  natGateways: number;
  powertoolsLogLevel: 'DEBUG' | 'INFO';
  /** `POST /webhooks/leads` throttle: steady requests per second and token-bucket burst. */
  webhookRateLimit: number;
  webhookBurstLimit: number;
  /** Concurrent allocator invocations (the SQS event source's maximum concurrency). */
  allocatorConcurrency: number;
  /** Optional address subscribed to the alarm topic. */
  alarmEmail: string | undefined;
}

export function parseStage(value: unknown): Stage {
  const stage = value ?? 'dev';
  if (typeof stage === 'string' && (STAGES as readonly string[]).includes(stage)) return stage as Stage;
  throw new Error(`Unknown stage ${JSON.stringify(stage)}: use -c stage=${STAGES.join('|')}`);
}

function numberContext(node: Node, key: string, fallback: number): number {
  const raw: unknown = node.tryGetContext(key);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0)
    throw new Error(`Context ${key} must be a positive number, got ${String(raw)}`);
  return value;
}

function integerContext(
  node: Node,
  key: string,
  fallback: number,
  range: { readonly min: number; readonly max: number },
): number {
  const raw: unknown = node.tryGetContext(key);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < range.min || value > range.max)
    throw new Error(
      `Context ${key} must be a whole number from ${range.min} to ${range.max}, got ${String(raw)}`,
    );
  return value;
}

/** Reads `stage` and the optional overrides from the app's context. */
export function stageConfigFromContext(node: Node): StageConfig {
  const stage = parseStage(node.tryGetContext('stage'));
  const prod = stage === 'prod';
  const alarmEmail: unknown = node.tryGetContext('alarmEmail');
  return {
    stage,
    logRetention: prod ? RetentionDays.THREE_MONTHS : RetentionDays.ONE_WEEK,
    removalPolicy: prod ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    databaseRemovalPolicy: prod ? RemovalPolicy.SNAPSHOT : RemovalPolicy.DESTROY,
    deletionProtection: prod,
    auroraMinAcu: numberContext(node, 'auroraMinAcu', prod ? 1 : 0.5),
    auroraMaxAcu: numberContext(node, 'auroraMaxAcu', prod ? 16 : 4),
    auroraReader: prod,
    backupRetention: Duration.days(prod ? 14 : 1),
    natGateways: prod ? 2 : 1,
    powertoolsLogLevel: prod ? 'INFO' : 'DEBUG',
    webhookRateLimit: numberContext(node, 'webhookRateLimit', 100),
    webhookBurstLimit: numberContext(node, 'webhookBurstLimit', 200),
    allocatorConcurrency: integerContext(
      node,
      'allocatorConcurrency',
      ALLOCATOR_MAX_CONCURRENCY,
      MAX_CONCURRENCY_RANGE,
    ),
    alarmEmail: typeof alarmEmail === 'string' && alarmEmail !== '' ? alarmEmail : undefined,
  };
}
