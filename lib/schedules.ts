/**
 * EventBridge Scheduler schedules, one per registry handler with a `schedule` trigger (the local
 * runtime's scheduler reads the same expressions). The target input is EventBridge-shaped — what the
 * local scheduler sends too — with the job name in `detail.job`.
 *
 * Failure path: Scheduler retries a failed invoke with back-off for up to `MAX_EVENT_AGE`, at most
 * `RETRY_ATTEMPTS` times; then the event goes to the schedules' DLQ and the DLQ alarm fires. Jobs are
 * idempotent, so a retry that overlaps the next tick is harmless.
 */
import { Aws, Duration, type CfnElement } from 'aws-cdk-lib';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import {
  ContextAttribute,
  Schedule,
  ScheduleExpression,
  ScheduleTargetInput,
} from 'aws-cdk-lib/aws-scheduler';
import { LambdaInvoke } from 'aws-cdk-lib/aws-scheduler-targets';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { HandlerFunctions } from './handler-functions.js';
import { pascalCase } from './names.js';
import { acknowledge, nagRef } from './nag-acknowledgements.js';
import type { StageConfig } from './stage-config.js';

export const RETRY_ATTEMPTS = 3;
/** A tick older than this is skipped: the next scheduled run does the same work. */
export const MAX_EVENT_AGE = Duration.hours(1);

export interface SchedulesProps {
  readonly config: StageConfig;
  readonly functions: HandlerFunctions;
}

export class Schedules extends Construct {
  readonly schedules: Record<string, Schedule> = {};
  /** Scheduler requires a standard (not FIFO) queue as its dead-letter queue. */
  readonly deadLetterQueue: Queue;

  constructor(scope: Construct, id: string, props: SchedulesProps) {
    super(scope, id);
    this.deadLetterQueue = new Queue(this, 'DeadLetterQueue', {
      retentionPeriod: Duration.days(14),
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      removalPolicy: props.config.removalPolicy,
    });

    acknowledge(
      this.deadLetterQueue,
      'SQS3',
      'This queue is itself a dead-letter queue (of the Scheduler targets); it needs no DLQ of its own.',
    );
    // One role for every schedule, so its grants (and their acknowledgements) live in this construct.
    const role = new Role(this, 'SchedulerRole', {
      assumedBy: new ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } },
      }),
      description: 'leadrouter: EventBridge Scheduler invokes the scheduled jobs',
    });

    for (const handler of props.functions.ofKind('schedule')) {
      const { schedule, job } = handler.definition.trigger;
      this.schedules[handler.name] = new Schedule(this, pascalCase(handler.name), {
        description: `leadrouter ${props.config.stage}: ${job} (${handler.definition.description})`.slice(
          0,
          512,
        ),
        schedule: ScheduleExpression.expression(schedule),
        target: new LambdaInvoke(handler.function, {
          input: ScheduleTargetInput.fromObject({
            version: '0',
            id: ContextAttribute.executionId,
            'detail-type': 'Scheduled Event',
            source: 'aws.scheduler',
            account: Aws.ACCOUNT_ID,
            time: ContextAttribute.scheduledTime,
            region: Aws.REGION,
            resources: [ContextAttribute.scheduleArn],
            detail: { job },
          }),
          retryAttempts: RETRY_ATTEMPTS,
          maxEventAge: MAX_EVENT_AGE,
          deadLetterQueue: this.deadLetterQueue,
          role,
        }),
      });
      acknowledge(
        role,
        `IAM5[Resource::${nagRef(handler.function.node.defaultChild as CfnElement, 'Arn')}:*]`,
        'Function.grantInvoke adds the function ARN with ":*" (its versions and aliases); still this one function.',
      );
    }
  }
}
