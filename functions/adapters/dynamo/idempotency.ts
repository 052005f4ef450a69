/**
 * `Idempotency-Key` support through Powertools idempotency on DynamoDB: the first request with a key
 * runs and its response is stored; a retry with the same key gets that response back without running
 * again (even a 202). A copy that arrives while the first is still running waits for it (up to
 * `IN_PROGRESS_WAIT_MS`) and gets the same response; only a first run slower than that makes the copy a
 * 409 to retry later.
 * Keys are scoped by org and operation, so two orgs (or two endpoints) can use the same key.
 */
import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import type { Context } from 'aws-lambda';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { dynamoClient } from '../../clients.js';
import { config } from '../../config.js';

export interface IdempotentCall<T> {
  orgId: string;
  operation: string;
  key: string;
  /** Part of the payload hash: the same key with a different body is rejected (422). */
  body: unknown;
  run: () => Promise<T>;
  /** The Lambda context, so an in-progress record expires with the invocation's timeout. */
  context?: Context;
}

/** Stored responses expire after 24 h, matching the window a webhook sender retries in. */
const EXPIRES_AFTER_SECONDS = 24 * 3600;

export async function runIdempotent<T>(call: IdempotentCall<T>): Promise<T> {
  const persistenceStore = new DynamoDBPersistenceLayer({
    tableName: config().tables.idempotency,
    awsSdkV3Client: dynamoClient(),
  });
  const idempotencyConfig = new IdempotencyConfig({
    eventKeyJmesPath: '[orgId, operation, key]',
    payloadValidationJmesPath: 'body',
    expiresAfterSeconds: EXPIRES_AFTER_SECONDS,
  });
  if (call.context) idempotencyConfig.registerLambdaContext(call.context);
  const wrapped = makeIdempotent(
    async (_payload: { orgId: string; operation: string; key: string; body: unknown }) => call.run(),
    { persistenceStore, config: idempotencyConfig, keyPrefix: 'leadrouter' },
  );
  const payload = { orgId: call.orgId, operation: call.operation, key: call.key, body: call.body };
  const waitUntil = Date.now() + IN_PROGRESS_WAIT_MS;
  for (let pause = 25; ; pause = Math.min(pause * 2, 400)) {
    try {
      return (await wrapped(payload)) as T;
    } catch (error) {
      const inProgress = (error as Error | null)?.name === 'IdempotencyAlreadyInProgressError';
      if (!inProgress || Date.now() + pause > waitUntil) throw error;
      await new Promise((resolve) => setTimeout(resolve, pause));
    }
  }
}

/** How long a concurrent copy waits for the first request with its key to finish (then: 409). */
const IN_PROGRESS_WAIT_MS = 5_000;
