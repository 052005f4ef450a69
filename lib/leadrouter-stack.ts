/**
 * The whole product in one stack. Env-agnostic: no account, region or context lookups, so it
 * synthesizes offline and deploys into whichever account and region the CLI's credentials name.
 *
 *   webhook ─► IngestApi ─► ingest ─► LeadQueue (FIFO) ─► Allocator ─► Database (Aurora via proxy)
 *                                 └─► KeyTables (claims, idempotency)        │
 *   dashboard (Dashboard) ◄── Realtime (WebSocket) ◄── broadcasts after commit ┘
 *   Schedules ─► scheduled jobs; Migrations ─► writer on deploy; Alarms watch all of it.
 */
import { AspectPriority, Aspects, CfnOutput, Duration, Stack, Tags, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { Alarms } from './alarms.js';
import { Allocator } from './allocator.js';
import { Dashboard } from './dashboard.js';
import { Database } from './database.js';
import { HandlerFunctions, registryEntryOfKind } from './handler-functions.js';
import { IngestApi, parseRouteKey } from './ingest-api.js';
import { KeyTables } from './key-tables.js';
import { LeadQueue } from './lead-queue.js';
import { Migrations } from './migrations.js';
import { acknowledgeNagFindings } from './nag-acknowledgements.js';
import { CredentialsKey } from './credentials-key.js';
import { OperatorToken } from './operator-token.js';
import { Realtime } from './realtime.js';
import { NodeRuntimeAspect } from './runtime-aspect.js';
import { Schedules } from './schedules.js';
import type { StageConfig } from './stage-config.js';

export interface LeadrouterStackProps extends StackProps {
  readonly config: StageConfig;
  /** Where the built dashboard is; defaults to `web/dist`. */
  readonly webDistDir?: string;
}

export class LeadrouterStack extends Stack {
  readonly tables: KeyTables;
  readonly leadQueue: LeadQueue;
  readonly database: Database;
  readonly functions: HandlerFunctions;
  readonly operatorToken: OperatorToken;
  readonly credentialsKey: CredentialsKey;
  readonly realtime: Realtime;
  readonly dashboard: Dashboard;
  readonly ingestApi: IngestApi;
  readonly allocator: Allocator;
  readonly schedules: Schedules;
  readonly migrations: Migrations;
  readonly alarms: Alarms;

  constructor(scope: Construct, id: string, props: LeadrouterStackProps) {
    super(scope, id, props);
    const { config } = props;
    Tags.of(this).add('app', 'leadrouter');
    Tags.of(this).add('stage', config.stage);
    // CDK's helper functions too (custom-resource handlers, log retention): Node.js 22 on arm64.
    Aspects.of(this).add(new NodeRuntimeAspect(), { priority: AspectPriority.MUTATING });

    this.tables = new KeyTables(this, 'Tables', { config });
    this.leadQueue = new LeadQueue(this, 'LeadQueue', {
      config,
      consumerTimeout: Duration.seconds(registryEntryOfKind('sqs').definition.timeoutSeconds),
    });
    this.database = new Database(this, 'Database', { config });
    this.functions = new HandlerFunctions(this, 'Functions', {
      config,
      tables: this.tables,
      leadQueue: this.leadQueue,
      database: this.database,
    });
    this.operatorToken = new OperatorToken(this, 'OperatorToken', { config });
    this.credentialsKey = new CredentialsKey(this, 'CredentialsKey', { config });
    // The admin API (routes under /api/) is where organizations are created, and imports with their
    // credentials; the import runner uses those credentials.
    for (const h of this.functions.ofKind('http')) {
      if (h.definition.trigger.routes.some((route) => parseRouteKey(route).path.startsWith('/api/'))) {
        this.operatorToken.provideTo(h.function);
        this.credentialsKey.provideTo(h.function);
      }
    }
    for (const h of this.functions.ofKind('schedule'))
      if (h.definition.trigger.job === 'imports') this.credentialsKey.provideTo(h.function);
    this.realtime = new Realtime(this, 'Realtime', { config, functions: this.functions });
    this.dashboard = new Dashboard(this, 'Dashboard', { config, webDistDir: props.webDistDir });
    this.ingestApi = new IngestApi(this, 'IngestApi', {
      config,
      functions: this.functions,
      allowedOrigins: [this.dashboard.url],
    });
    this.dashboard.publishSite({ apiUrl: this.ingestApi.url, wsUrl: this.realtime.url });
    const allocator = this.functions.single('sqs');
    this.allocator = new Allocator(this, 'Allocator', {
      handler: allocator.function,
      queue: this.leadQueue.queue,
      maxConcurrency: config.allocatorConcurrency,
    });
    this.schedules = new Schedules(this, 'Schedules', { config, functions: this.functions });
    this.migrations = new Migrations(this, 'Migrations', {
      config,
      database: this.database,
      handler: this.functions.single('custom-resource').function,
      schemaUsers: this.functions.all
        .filter((h) => h.definition.usesDatabase && h.definition.trigger.kind !== 'custom-resource')
        .map((h) => h.function),
    });
    this.alarms = new Alarms(this, 'Alarms', {
      config,
      leadQueue: this.leadQueue.queue,
      leadDeadLetterQueue: this.leadQueue.deadLetterQueue,
      scheduleDeadLetterQueue: this.schedules.deadLetterQueue,
      allocator: allocator.function,
      httpApi: this.ingestApi.api,
      functions: this.functions.all,
      cluster: this.database.cluster,
    });

    new CfnOutput(this, 'WebhookUrl', {
      description: 'POST leads here with the X-Webhook-Secret header (Make.com, Zapier, forms)',
      value: this.ingestApi.webhookUrl,
    });
    new CfnOutput(this, 'ApiUrl', {
      description: 'Admin API base URL (Authorization: Bearer <admin token>)',
      value: this.ingestApi.url,
    });
    new CfnOutput(this, 'DashboardUrl', { description: 'The dashboard', value: this.dashboard.url });
    new CfnOutput(this, 'WebSocketUrl', {
      description: 'Live events (wss://…?token=<admin token>)',
      value: this.realtime.url,
    });
    new CfnOutput(this, 'AlarmTopicArn', {
      description: 'Subscribe on-call addresses or chat integrations here',
      value: this.alarms.topic.topicArn,
    });
    new CfnOutput(this, 'OperatorTokenSecretArn', {
      description:
        'ROOT_TOKEN for creating organizations: aws secretsmanager get-secret-value --secret-id <this>',
      value: this.operatorToken.secret.secretArn,
    });
    new CfnOutput(this, 'DatabaseSecretArn', {
      description: 'Aurora credentials (for psql through a bastion or Session Manager)',
      value: this.database.secret.secretArn,
    });

    acknowledgeNagFindings(this);
  }
}
