/**
 * The lead queue between intake and allocation: SQS FIFO, so leads of one group are allocated in
 * arrival order and a retried send (same MessageDeduplicationId) is stored once. High-throughput FIFO
 * (deduplication and throughput limits per message group) lifts the 300 messages/s per-queue ceiling
 * that would cap the 10 million leads/day case.
 *
 * Timeline of a failing lead (allocator timeout T = 30 s, visibility timeout 6 T = 180 s):
 *   receive #1 … allocator fails or times out → invisible until 180 s → receive #2 … → after receive #5
 *   SQS moves the message to the DLQ (≈ 15 min after the first try), the DLQ alarm fires, and the admin
 *   API can replay it. Six timeouts, not one, because AWS recommends visibility ≥ 6 × function timeout
 *   for SQS event sources: the poller's own retries of a throttled invoke must fit inside it.
 */
import { Duration } from 'aws-cdk-lib';
import type { IGrantable } from 'aws-cdk-lib/aws-iam';
import { DeduplicationScope, FifoThroughputLimit, Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { StageConfig } from './stage-config.js';

/** Receives before a lead goes to the DLQ: enough to ride out a database failover, not a poison message. */
export const MAX_RECEIVE_COUNT = 5;
/** Visibility timeout as a multiple of the allocator's timeout (see the timeline above). */
export const VISIBILITY_TIMEOUT_FACTOR = 6;

export interface LeadQueueProps {
  readonly config: StageConfig;
  /** The consumer's Lambda timeout; the visibility timeout derives from it. */
  readonly consumerTimeout: Duration;
}

export class LeadQueue extends Construct {
  readonly queue: Queue;
  readonly deadLetterQueue: Queue;
  /** `LEAD_QUEUE_URL` and `LEAD_DLQ_URL` for the handlers. */
  readonly environment: Record<string, string>;

  constructor(scope: Construct, id: string, props: LeadQueueProps) {
    super(scope, id);
    this.deadLetterQueue = new Queue(this, 'DeadLetterQueue', {
      fifo: true,
      retentionPeriod: Duration.days(14),
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      removalPolicy: props.config.removalPolicy,
    });
    this.queue = new Queue(this, 'Queue', {
      fifo: true,
      // Ingest sets a deterministic MessageDeduplicationId; content-based dedup covers any other sender.
      contentBasedDeduplication: true,
      deduplicationScope: DeduplicationScope.MESSAGE_GROUP,
      fifoThroughputLimit: FifoThroughputLimit.PER_MESSAGE_GROUP_ID,
      visibilityTimeout: Duration.seconds(props.consumerTimeout.toSeconds() * VISIBILITY_TIMEOUT_FACTOR),
      retentionPeriod: Duration.days(4),
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: MAX_RECEIVE_COUNT },
      removalPolicy: props.config.removalPolicy,
    });
    this.environment = {
      LEAD_QUEUE_URL: this.queue.queueUrl,
      LEAD_DLQ_URL: this.deadLetterQueue.queueUrl,
    };
  }

  /** Producers: intake, imports, backlog retry, and DLQ replay (which also reads and deletes from the DLQ). */
  grantProduce(grantee: IGrantable): void {
    this.queue.grantSendMessages(grantee);
    this.deadLetterQueue.grantConsumeMessages(grantee);
  }
}
