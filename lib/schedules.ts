/**
 * EventBridge Scheduler schedules, one per registry handler with a `schedule` trigger (the local
 * runtime's scheduler reads the same expressions). The target input is EventBridge-shaped — what the
 * local scheduler sends too — with the job name in `detail.job`.
 *
 * Failure paths, both ending in the schedules' DLQ, where any message fires the DLQ alarm:
 * - Scheduler cannot invoke the function (throttled, missing, no permission): Scheduler retries with
 *   back-off for up to `MAX_EVENT_AGE`, at most `RETRY_ATTEMPTS` times, then sends the event to the DLQ.
 * - The job itself fails (throws, times out): Scheduler invokes asynchronously, so it only sees that
 *   Lambda accepted the event. Lambda retries `ASYNC_RETRY_ATTEMPTS` times, then its on-failure
 *   destination sends the invocation record (event, error message) to the same DLQ; an event that
 *   waited in Lambda's queue longer than `MAX_EVENT_AGE` goes there too.
 * Jobs are idempotent, so a retry that overlaps the next tick is harmless.
 */
import { Aws, Duration, type CfnElement } from 'aws-cdk-lib';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
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
/**
 * Lambda's retries of a job that failed. One retry (about a minute later) rides out a transient error —
 * a database failover, a cold proxy connection — without alarming; a job that fails twice in a row is
 * reported. More would only pile up behind the next ticks, which do the same work.
 */
export const ASYNC_RETRY_ATTEMPTS = 1;

export interface SchedulesProps {
  readonly config: StageConfig;
  readonly functions: HandlerFunctions;
}

export class Schedules extends Construct {
  readonly schedules: Record<string, Schedule> = {};
  /**
   * Failed ticks: events Scheduler could not deliver and invocation records of jobs that failed. Scheduler
   * requires a standard (not FIFO) queue as its dead-letter queue.
   */
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
      'This queue is itself a dead-letter queue (of the Scheduler targets and the scheduled functions) and ' +
        'needs no DLQ of its own.',
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
      handler.function.configureAsyncInvoke({
        retryAttempts: ASYNC_RETRY_ATTEMPTS,
        maxEventAge: MAX_EVENT_AGE,
        onFailure: new SqsDestination(this.deadLetterQueue),
      });
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
