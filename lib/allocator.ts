/**
 * The allocator consumes the lead queue. Partial batch responses: a failed lead is retried alone while
 * the others of its batch are deleted (the handler reports `batchItemFailures`; for FIFO it also fails
 * every later message of the same group so their order holds). Concurrency is capped so a burst of
 * leads cannot open more allocation transactions than Aurora and the proxy comfortably serve; the
 * queue absorbs the rest.
 */
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

/** Messages per invocation (the FIFO maximum). */
export const ALLOCATOR_BATCH_SIZE = 10;
/**
 * Default number of concurrent allocator invocations (SQS event source maximum concurrency), overridable
 * with `-c allocatorConcurrency=N`. Each invocation holds one proxied connection for its transactions, so
 * at most N × 10 leads are in flight. Not measured on AWS yet: raise it together with `auroraMaxAcu` if
 * the oldest-message-age alarm fires under steady load (README, Operating it).
 */
export const ALLOCATOR_MAX_CONCURRENCY = 10;
/** What Lambda accepts as an SQS event source's maximum concurrency. */
export const MAX_CONCURRENCY_RANGE = { min: 2, max: 1000 } as const;

export interface AllocatorProps {
  readonly handler: IFunction;
  readonly queue: IQueue;
  /** Concurrent invocations; `StageConfig.allocatorConcurrency`. */
  readonly maxConcurrency: number;
}

export class Allocator extends Construct {
  readonly handler: IFunction;

  constructor(scope: Construct, id: string, props: AllocatorProps) {
    super(scope, id);
    this.handler = props.handler;
    this.handler.addEventSource(
      new SqsEventSource(props.queue, {
        batchSize: ALLOCATOR_BATCH_SIZE,
        reportBatchItemFailures: true,
        maxConcurrency: props.maxConcurrency,
      }),
    );
  }
}
