import { randomBytes, randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';

export interface LambdaContextOptions {
  /** The function's timeout; `getRemainingTimeInMillis()` counts down from it. Default 30 s. */
  timeoutMs?: number;
  memoryMb?: number;
  region?: string;
}

/**
 * A Lambda `Context` for one local invocation. Handlers and Powertools read it (request id in logs,
 * remaining time before a batch is abandoned, function name in metrics), so it has every field the
 * real one has; a fresh `awsRequestId` per call, like one invocation on AWS.
 */
export function lambdaContext(functionName: string, opts: LambdaContextOptions = {}): Context {
  const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
  const region = opts.region ?? process.env.AWS_REGION ?? 'us-east-1';
  const day = new Date().toISOString().slice(0, 10).replaceAll('-', '/');
  const unsupported = () => {
    throw new Error('context.done/fail/succeed are not supported: return or throw from an async handler');
  };
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${region}:000000000000:function:${functionName}`,
    memoryLimitInMB: String(opts.memoryMb ?? 1024),
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: `${day}/[$LATEST]${randomBytes(16).toString('hex')}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: unsupported,
    fail: unsupported,
    succeed: unsupported,
  };
}
