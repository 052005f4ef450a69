/**
 * What an on-call engineer needs to know, and a dashboard to look at when they do. Every alarm goes to
 * one SNS topic (subscribe an address with `-c alarmEmail=…`, or any other subscriber after deploy).
 *
 * - A lead in the DLQ failed allocation five times: it is not lost (replay it from the admin API), but
 *   something is wrong — any message there alarms.
 * - A failed scheduled job after its retries — Scheduler could not invoke it, or the job threw or timed
 *   out (Lambda's on-failure destination): same rule for the schedules' DLQ. The alarm stays in ALARM
 *   while messages remain; read and delete them once the cause is fixed, so the next failure alarms again.
 * - Allocator errors: a handler error means a whole batch is retried; partial failures are reported as
 *   `batchItemFailures` and show up in the DLQ instead.
 * - Age of the oldest queued lead: leads are normally assigned within seconds; five minutes of backlog
 *   means the allocator is failing, throttled or too slow for the intake rate.
 * - Webhook 5xx: a sender (Make, Zapier) got an error and may not retry forever.
 */
import { Duration } from 'aws-cdk-lib';
import type { HttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import {
  Alarm,
  ComparisonOperator,
  Dashboard as CloudWatchDashboard,
  GraphWidget,
  type IMetric,
  Metric,
  TextWidget,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { DatabaseCluster } from 'aws-cdk-lib/aws-rds';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { StageConfig } from './stage-config.js';

/** Seconds a lead may wait in the queue before the backlog alarm fires. */
export const OLDEST_LEAD_AGE_THRESHOLD_SECONDS = 300;

export interface AlarmsProps {
  readonly config: StageConfig;
  readonly leadQueue: IQueue;
  readonly leadDeadLetterQueue: IQueue;
  readonly scheduleDeadLetterQueue: IQueue;
  readonly allocator: IFunction;
  readonly httpApi: HttpApi;
  readonly functions: readonly { name: string; function: IFunction }[];
  readonly cluster: DatabaseCluster;
}

export class Alarms extends Construct {
  readonly topic: Topic;
  readonly alarms: Alarm[] = [];
  readonly dashboard: CloudWatchDashboard;

  constructor(scope: Construct, id: string, props: AlarmsProps) {
    super(scope, id);
    const { config } = props;

    const key = new Key(this, 'TopicKey', {
      description: `leadrouter ${config.stage} alarm topic`,
      enableKeyRotation: true,
      removalPolicy: config.removalPolicy,
    });
    // CloudWatch publishes to an encrypted topic only if the key lets it.
    key.addToResourcePolicy(
      new PolicyStatement({
        principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
      }),
    );
    this.topic = new Topic(this, 'Topic', {
      displayName: `leadrouter ${config.stage} alarms`,
      masterKey: key,
      enforceSSL: true,
    });
    if (config.alarmEmail) this.topic.addSubscription(new EmailSubscription(config.alarmEmail));
    const action = new SnsAction(this.topic);

    const add = (
      id: string,
      metric: IMetric,
      threshold: number,
      evaluationPeriods: number,
      description: string,
    ) => {
      const alarm = new Alarm(this, id, {
        alarmDescription: `leadrouter ${config.stage}: ${description}`,
        metric,
        threshold,
        evaluationPeriods,
        comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      });
      alarm.addAlarmAction(action);
      alarm.addOkAction(action);
      this.alarms.push(alarm);
      return alarm;
    };

    const minute = Duration.minutes(1);
    const dlqDepth = props.leadDeadLetterQueue.metricApproximateNumberOfMessagesVisible({
      period: minute,
      statistic: 'Maximum',
    });
    add('LeadDeadLetters', dlqDepth, 0, 1, 'leads in the dead-letter queue (allocation failed 5 times)');
    add(
      'ScheduleDeadLetters',
      props.scheduleDeadLetterQueue.metricApproximateNumberOfMessagesVisible({
        period: minute,
        statistic: 'Maximum',
      }),
      0,
      1,
      'scheduled jobs failed after their retries (not invoked, or threw / timed out): see the schedules DLQ',
    );
    const allocatorErrors = props.allocator.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' });
    add('AllocatorErrors', allocatorErrors, 0, 1, 'allocator invocations failed');
    const oldestLead = props.leadQueue.metricApproximateAgeOfOldestMessage({
      period: minute,
      statistic: 'Maximum',
    });
    add(
      'LeadBacklogAge',
      oldestLead,
      OLDEST_LEAD_AGE_THRESHOLD_SECONDS,
      3,
      `oldest queued lead older than ${OLDEST_LEAD_AGE_THRESHOLD_SECONDS} s for 3 minutes`,
    );
    const serverErrors = props.httpApi.metricServerError({ period: Duration.minutes(5), statistic: 'Sum' });
    add('ApiServerErrors', serverErrors, 5, 1, 'more than 5 HTTP 5xx in 5 minutes');

    this.dashboard = new CloudWatchDashboard(this, 'Dashboard', {
      dashboardName: `leadrouter-${config.stage}`,
      defaultInterval: Duration.hours(3),
    });
    const perFunction = (metric: (fn: IFunction) => Metric) =>
      props.functions.map((f) => metric(f.function).with({ label: f.name }));
    this.dashboard.addWidgets(
      new TextWidget({
        markdown: `# leadrouter ${config.stage}\nIntake → lead queue → allocator → Aurora → WebSocket. Alarms go to the SNS topic \`${this.topic.topicName}\`.`,
        width: 24,
        height: 2,
      }),
    );
    this.dashboard.addWidgets(
      new GraphWidget({
        title: 'HTTP API requests and errors',
        left: [props.httpApi.metricCount({ period: minute, statistic: 'Sum' })],
        right: [
          props.httpApi.metricClientError({ period: minute, statistic: 'Sum' }),
          props.httpApi.metricServerError({ period: minute, statistic: 'Sum' }),
        ],
        width: 8,
      }),
      new GraphWidget({
        title: 'Lead queue',
        left: [
          props.leadQueue.metricApproximateNumberOfMessagesVisible({ period: minute, statistic: 'Maximum' }),
          props.leadQueue.metricNumberOfMessagesSent({ period: minute, statistic: 'Sum' }),
          dlqDepth.with({ label: 'DLQ depth' }),
        ],
        right: [oldestLead],
        width: 8,
      }),
      new GraphWidget({
        title: 'Allocator',
        left: [
          props.allocator.metricInvocations({ period: minute, statistic: 'Sum' }),
          props.allocator.metricErrors({ period: minute, statistic: 'Sum' }),
          props.allocator.metricThrottles({ period: minute, statistic: 'Sum' }),
        ],
        right: [props.allocator.metricDuration({ period: minute, statistic: 'p99' })],
        width: 8,
      }),
    );
    this.dashboard.addWidgets(
      new GraphWidget({
        title: 'Errors per function',
        left: perFunction((fn) => fn.metricErrors({ period: minute, statistic: 'Sum' })),
        width: 12,
      }),
      new GraphWidget({
        title: 'Aurora capacity (ACU) and connections',
        left: [
          new Metric({
            namespace: 'AWS/RDS',
            metricName: 'ServerlessDatabaseCapacity',
            dimensionsMap: { DBClusterIdentifier: props.cluster.clusterIdentifier },
            period: minute,
            statistic: 'Maximum',
          }),
        ],
        right: [props.cluster.metricDatabaseConnections({ period: minute, statistic: 'Maximum' })],
        width: 12,
      }),
    );
  }
}
