/**
 * CDK assertions on the dev stack, one block per construct. The app is built once (without bundling —
 * `synth.test.ts` covers the real `cdk synth`); expectations derive from `functions/registry.ts` and
 * `tables.ts`, so they follow the registry instead of restating it.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks } from 'cdk-nag';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tables, type TableSpec } from '../../functions/adapters/dynamo/tables.js';
import { handlers, type HandlerDefinition } from '../../functions/registry.js';
import { ALLOCATOR_BATCH_SIZE, ALLOCATOR_MAX_CONCURRENCY } from '../../lib/allocator.js';
import { createApp } from '../../lib/app.js';
import { PLACEHOLDER_WARNING_ID } from '../../lib/dashboard.js';
import { DEFAULT_THROTTLE, WEBHOOK_ROUTE } from '../../lib/ingest-api.js';
import { MAX_RECEIVE_COUNT, VISIBILITY_TIMEOUT_FACTOR } from '../../lib/lead-queue.js';
import { HANDLER_TAG } from '../../lib/leadrouter-function.js';
import { hashDirectory, MIGRATIONS_DIR } from '../../lib/migrations.js';
import { TOKEN_IDENTITY_SOURCE } from '../../lib/realtime.js';
import { LAMBDA_ARCHITECTURE, NODE_RUNTIME } from '../../lib/runtime-aspect.js';
import { ASYNC_RETRY_ATTEMPTS, MAX_EVENT_AGE, RETRY_ATTEMPTS } from '../../lib/schedules.js';
import { buildApp, cdkJsonContext, logicalId, type BuiltApp } from './app.js';
import { acknowledgementsIn } from './nag.js';

type Resource = {
  Type: string;
  Properties: Record<string, any>;
  DependsOn?: string[];
  DeletionPolicy?: string;
};

const registry = Object.entries(handlers) as [string, HandlerDefinition][];
const allocatorDefinition = registry.find(([, d]) => d.trigger.kind === 'sqs')![1];

let built: BuiltApp;
let template: Template;
/** Registry key → logical id of its Lambda function. */
const functionIds: Record<string, string> = {};

function resources(type: string): [string, Resource][] {
  return Object.entries(template.findResources(type)) as [string, Resource][];
}

function functionProps(name: string): Record<string, any> {
  return template.toJSON().Resources[functionIds[name]!].Properties;
}

beforeAll(() => {
  built = buildApp('dev');
  template = built.template;
  for (const [id, resource] of resources('AWS::Lambda::Function')) {
    const tag = (resource.Properties.Tags as { Key: string; Value: string }[] | undefined)?.find(
      (t) => t.Key === HANDLER_TAG,
    );
    if (tag) functionIds[tag.Value] = id;
  }
});

describe('LeadrouterFunction (one per registry entry)', () => {
  it('deploys exactly the registry entries', () => {
    expect(Object.keys(functionIds).sort()).toEqual(registry.map(([name]) => name).sort());
  });

  it.each(registry)(
    '%s: nodejs22.x on arm64, traced, with Powertools env and its own log group',
    (name, def) => {
      const props = functionProps(name);
      expect(props).toMatchObject({
        Runtime: 'nodejs22.x',
        Architectures: ['arm64'],
        Handler: 'index.handler',
        MemorySize: def.memoryMb,
        Timeout: def.timeoutSeconds,
        TracingConfig: { Mode: 'Active' },
        LoggingConfig: { LogGroup: { Ref: expect.stringMatching(/LogGroup/) } },
      });
      expect(props.Environment.Variables).toMatchObject({
        STAGE: 'dev',
        NODE_OPTIONS: '--enable-source-maps',
        POWERTOOLS_SERVICE_NAME: `leadrouter-${name}`,
        POWERTOOLS_METRICS_NAMESPACE: 'leadrouter/dev',
        POWERTOOLS_LOG_LEVEL: 'DEBUG',
      });
      const logGroup = template.toJSON().Resources[props.LoggingConfig.LogGroup.Ref];
      expect(logGroup).toMatchObject({ Type: 'AWS::Logs::LogGroup', Properties: { RetentionInDays: 7 } });
    },
  );

  it.each(registry)('%s: table names, queue URLs and the WebSocket endpoint in its environment', (name) => {
    const env = functionProps(name).Environment.Variables;
    for (const spec of Object.values(tables)) expect(env[spec.envVar], spec.envVar).toBeDefined();
    expect(env.LEAD_QUEUE_URL).toEqual({ Ref: logicalId(built.stack, built.stack.leadQueue.queue) });
    expect(env.WS_MANAGEMENT_ENDPOINT).toEqual({
      'Fn::Join': [
        '',
        [
          'https://',
          { Ref: logicalId(built.stack, built.stack.realtime.api) },
          '.execute-api.',
          { Ref: 'AWS::Region' },
          '.',
          { Ref: 'AWS::URLSuffix' },
          '/dev',
        ],
      ],
    });
  });

  it.each(registry)('%s: in the VPC with DATABASE_* exactly when it uses the database', (name, def) => {
    const props = functionProps(name);
    const env = props.Environment.Variables;
    if (!def.usesDatabase) {
      expect(props.VpcConfig).toBeUndefined();
      expect(env.DATABASE_HOST).toBeUndefined();
      return;
    }
    expect(props.VpcConfig.SubnetIds).toHaveLength(2);
    expect(env.DATABASE_SECRET_ARN).toBeDefined();
    expect(env.DATABASE_NAME).toBe('leadrouter');
    const clusterId = logicalId(built.stack, built.stack.database.cluster);
    const proxyId = logicalId(built.stack, built.stack.database.proxy);
    if (def.trigger.kind === 'custom-resource') {
      // Migrations go to the writer directly, with the SQL files next to the bundle.
      expect(env.DATABASE_HOST).toEqual({ 'Fn::GetAtt': [clusterId, 'Endpoint.Address'] });
      expect(env.MIGRATIONS_DIR).toBe('/var/task/migrations');
    } else {
      expect(env.DATABASE_HOST).toEqual({ 'Fn::GetAtt': [proxyId, 'Endpoint'] });
    }
  });
});

describe('NodeRuntimeAspect', () => {
  it('runs every Node.js function on nodejs22.x and arm64, CDK custom-resource providers included', () => {
    const node = resources('AWS::Lambda::Function').filter(([, f]) =>
      String(f.Properties.Runtime).startsWith('nodejs'),
    );
    // The registry's functions plus CDK's: the VPC default-SG and S3 auto-delete handlers, log retention
    // (Aurora's log export) and the migrations provider framework.
    const cdkManaged = node.filter(([id]) => !Object.values(functionIds).includes(id)).map(([id]) => id);
    expect(cdkManaged).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^CustomVpcRestrictDefaultSGCustomResourceProviderHandler/),
        expect.stringMatching(/^CustomS3AutoDeleteObjectsCustomResourceProviderHandler/),
        expect.stringMatching(/^LogRetention/),
        expect.stringMatching(/^MigrationsProviderframeworkonEvent/),
      ]),
    );
    for (const [id, fn] of node) {
      expect(fn.Properties.Runtime, id).toBe(NODE_RUNTIME.name);
      expect(fn.Properties.Architectures, id).toEqual([LAMBDA_ARCHITECTURE.name]);
    }
    expect(NODE_RUNTIME.name).toBe('nodejs22.x');
    expect(LAMBDA_ARCHITECTURE.name).toBe('arm64');
    // Other runtimes are left alone (BucketDeployment's handler is Python).
    expect(
      resources('AWS::Lambda::Function').some(([, f]) => String(f.Properties.Runtime).startsWith('python')),
    ).toBe(true);
  });
});

describe('KeyTables', () => {
  it('creates one on-demand table per spec in tables.ts', () => {
    template.resourceCountIs('AWS::DynamoDB::Table', Object.keys(tables).length);
  });

  it.each(Object.entries(tables) as [string, TableSpec][])(
    '%s: keys, TTL, PITR, on-demand, encrypted',
    (_name, spec) => {
      const keySchema: { AttributeName: string; KeyType: string }[] = [
        { AttributeName: spec.partitionKey, KeyType: 'HASH' },
      ];
      if (spec.sortKey) keySchema.push({ AttributeName: spec.sortKey, KeyType: 'RANGE' });
      template.hasResourceProperties('AWS::DynamoDB::Table', {
        KeySchema: keySchema,
        BillingMode: 'PAY_PER_REQUEST',
        TimeToLiveSpecification: { AttributeName: spec.ttlAttribute, Enabled: true },
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        SSESpecification: { SSEEnabled: true },
      });
    },
  );
});

describe('LeadQueue', () => {
  it('is FIFO with a FIFO dead-letter queue after 5 receives, encrypted', () => {
    const queueId = logicalId(built.stack, built.stack.leadQueue.queue);
    const dlqId = logicalId(built.stack, built.stack.leadQueue.deadLetterQueue);
    const queue = template.toJSON().Resources[queueId];
    const dlq = template.toJSON().Resources[dlqId];
    expect(dlq.Properties).toMatchObject({
      FifoQueue: true,
      SqsManagedSseEnabled: true,
      MessageRetentionPeriod: 1209600,
    });
    expect(queue.Properties).toMatchObject({
      FifoQueue: true,
      SqsManagedSseEnabled: true,
      DeduplicationScope: 'messageGroup',
      FifoThroughputLimit: 'perMessageGroupId',
      RedrivePolicy: {
        deadLetterTargetArn: { 'Fn::GetAtt': [dlqId, 'Arn'] },
        maxReceiveCount: MAX_RECEIVE_COUNT,
      },
    });
    expect(MAX_RECEIVE_COUNT).toBe(5);
  });

  it('hides a received lead for six times the allocator timeout', () => {
    const queue = template.toJSON().Resources[logicalId(built.stack, built.stack.leadQueue.queue)];
    expect(VISIBILITY_TIMEOUT_FACTOR).toBe(6);
    expect(queue.Properties.VisibilityTimeout).toBe(6 * allocatorDefinition.timeoutSeconds);
  });

  it('refuses unencrypted transport', () => {
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });
});

describe('Allocator', () => {
  it('consumes the lead queue with partial batch failures and bounded concurrency', () => {
    template.resourceCountIs('AWS::Lambda::EventSourceMapping', 1);
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [logicalId(built.stack, built.stack.leadQueue.queue), 'Arn'] },
      FunctionName: { Ref: functionIds.allocator },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      BatchSize: ALLOCATOR_BATCH_SIZE,
      ScalingConfig: { MaximumConcurrency: ALLOCATOR_MAX_CONCURRENCY },
    });
    expect(ALLOCATOR_BATCH_SIZE).toBe(10);
    expect(ALLOCATOR_MAX_CONCURRENCY).toBeGreaterThanOrEqual(2);
    expect(ALLOCATOR_MAX_CONCURRENCY).toBeLessThanOrEqual(20);
  });
});

describe('Database', () => {
  it('is Aurora PostgreSQL 16 Serverless v2, encrypted, IAM auth on, in isolated subnets', () => {
    template.hasResourceProperties('AWS::RDS::DBCluster', {
      Engine: 'aurora-postgresql',
      EngineVersion: Match.stringLikeRegexp('^16\\.'),
      ServerlessV2ScalingConfiguration: { MinCapacity: 0.5, MaxCapacity: 4 },
      StorageEncrypted: true,
      EnableIAMDatabaseAuthentication: true,
      DeletionProtection: false,
      DatabaseName: 'leadrouter',
      EnableCloudwatchLogsExports: ['postgresql'],
    });
    // dev: a writer only.
    template.resourceCountIs('AWS::RDS::DBInstance', 1);
    template.hasResourceProperties('AWS::RDS::DBInstance', { DBInstanceClass: 'db.serverless' });
    const isolated = resources('AWS::EC2::Subnet').filter(([, s]) =>
      (s.Properties.Tags as { Key: string; Value: string }[]).some(
        (t) => t.Key === 'aws-cdk:subnet-type' && t.Value === 'Isolated',
      ),
    );
    expect(isolated).toHaveLength(2);
    template.hasResourceProperties('AWS::RDS::DBSubnetGroup', {
      SubnetIds: Match.arrayWith(isolated.map(([id]) => ({ Ref: id }))),
    });
  });

  it('puts RDS Proxy (TLS, Secrets Manager auth) in front of the cluster', () => {
    const secretAttachment = template.findResources('AWS::SecretsManager::SecretTargetAttachment');
    expect(Object.keys(secretAttachment)).toHaveLength(1);
    template.hasResourceProperties('AWS::SecretsManager::Secret', {
      GenerateSecretString: Match.objectLike({ SecretStringTemplate: '{"username":"leadrouter"}' }),
    });
    template.hasResourceProperties('AWS::RDS::DBProxy', {
      EngineFamily: 'POSTGRESQL',
      RequireTLS: true,
      Auth: [
        Match.objectLike({ AuthScheme: 'SECRETS', SecretArn: { Ref: Object.keys(secretAttachment)[0] } }),
      ],
    });
    template.hasResourceProperties('AWS::RDS::DBProxyTargetGroup', {
      DBClusterIdentifiers: [{ Ref: logicalId(built.stack, built.stack.database.cluster) }],
    });
  });

  it('lets functions reach only the proxy, and only the migrations reach the cluster', () => {
    const sg = (construct: { node: { defaultChild?: unknown } }) => ({
      'Fn::GetAtt': [logicalId(built.stack, construct), 'GroupId'],
    });
    const ingress = resources('AWS::EC2::SecurityGroupIngress').map(([, r]) => r.Properties);
    const appSg = sg(built.stack.database.appSecurityGroup);
    const migrationSg = sg(built.stack.database.migrationSecurityGroup);
    const fromApp = ingress.filter((r) => JSON.stringify(r.SourceSecurityGroupId) === JSON.stringify(appSg));
    expect(fromApp).toHaveLength(1);
    expect(fromApp[0]).toMatchObject({ FromPort: 5432, ToPort: 5432, IpProtocol: 'tcp' });
    const fromMigrations = ingress.filter(
      (r) => JSON.stringify(r.SourceSecurityGroupId) === JSON.stringify(migrationSg),
    );
    expect(fromMigrations).toHaveLength(1);
    expect(JSON.stringify(ingress)).not.toContain('0.0.0.0/0');
  });
});

describe('Migrations', () => {
  it('runs the custom-resource handler with a hash of migrations/ against the writer', () => {
    template.hasResourceProperties('Custom::LeadrouterMigrations', {
      MigrationsHash: hashDirectory(MIGRATIONS_DIR),
      DatabaseHost: {
        'Fn::GetAtt': [logicalId(built.stack, built.stack.database.cluster), 'Endpoint.Address'],
      },
    });
    const onEvent = template.toJSON().Resources[logicalId(built.stack, built.stack.migrations.resource)];
    expect(onEvent.Properties.ServiceToken['Fn::GetAtt'][0]).toMatch(/^MigrationsProviderframeworkonEvent/);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          USER_ON_EVENT_FUNCTION_ARN: { 'Fn::GetAtt': [functionIds.migrate, 'Arn'] },
        }),
      },
    });
  });

  it('changes the hash when a migration changes, so CloudFormation re-runs it', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'leadrouter-migrations-'));
    try {
      writeFileSync(path.join(dir, '001_a.sql'), 'create table a ();');
      const first = hashDirectory(dir);
      expect(hashDirectory(dir)).toBe(first);
      writeFileSync(path.join(dir, '001_a.sql'), 'create table a (id int);');
      const edited = hashDirectory(dir);
      mkdirSync(path.join(dir, 'sub'));
      writeFileSync(path.join(dir, 'sub', '002_b.sql'), 'select 1;');
      expect(new Set([first, edited, hashDirectory(dir)]).size).toBe(3);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('creates and updates the database functions only after the migrations', () => {
    const migrationId = logicalId(built.stack, built.stack.migrations.resource);
    for (const [name, def] of registry) {
      if (!def.usesDatabase || def.trigger.kind === 'custom-resource') continue;
      const fn = template.toJSON().Resources[functionIds[name]!] as Resource;
      expect(fn.DependsOn, name).toContain(migrationId);
    }
  });
});

describe('IngestApi', () => {
  const httpRoutes = registry.flatMap(([name, d]) =>
    d.trigger.kind === 'http' ? d.trigger.routes.map((r) => [name, r] as const) : [],
  );

  it('has exactly the registry routes, each integrated with its handler', () => {
    const apiId = logicalId(built.stack, built.stack.ingestApi.api);
    const routes = resources('AWS::ApiGatewayV2::Route').filter(([, r]) => r.Properties.ApiId.Ref === apiId);
    expect(routes.map(([, r]) => r.Properties.RouteKey).sort()).toEqual(httpRoutes.map(([, r]) => r).sort());
    const integrations = template.toJSON().Resources;
    for (const [name, routeKey] of httpRoutes) {
      const [, route] = routes.find(([, r]) => r.Properties.RouteKey === routeKey)!;
      const integrationId = route.Properties.Target['Fn::Join'][1][1].Ref as string;
      expect(integrations[integrationId].Properties, routeKey).toMatchObject({
        IntegrationType: 'AWS_PROXY',
        PayloadFormatVersion: '2.0',
        IntegrationUri: { 'Fn::GetAtt': [functionIds[name], 'Arn'] },
      });
    }
  });

  it('throttles the webhook at 100 rps / burst 200 and every other route at the stage default', () => {
    const [, stage] = resources('AWS::ApiGatewayV2::Stage').find(
      ([, s]) => s.Properties.StageName === '$default',
    )!;
    expect(stage.Properties.RouteSettings[WEBHOOK_ROUTE]).toEqual({
      ThrottlingRateLimit: 100,
      ThrottlingBurstLimit: 200,
      DetailedMetricsEnabled: true,
    });
    expect(stage.Properties.DefaultRouteSettings).toMatchObject({
      ThrottlingRateLimit: DEFAULT_THROTTLE.rateLimit,
      ThrottlingBurstLimit: DEFAULT_THROTTLE.burstLimit,
      DetailedMetricsEnabled: true,
    });
    // API Gateway rejects settings for a route key that does not exist.
    for (const key of Object.keys(stage.Properties.RouteSettings)) {
      expect(httpRoutes.map(([, r]) => r)).toContain(key);
    }
    expect(stage.Properties.AccessLogSettings.DestinationArn).toBeDefined();
    expect(stage.Properties.AutoDeploy).toBe(true);
  });

  it('creates the stage after the routes its RouteSettings name, keeping their detailed metrics', () => {
    const apiId = logicalId(built.stack, built.stack.ingestApi.api);
    const [, stage] = resources('AWS::ApiGatewayV2::Stage').find(
      ([, s]) => s.Properties.StageName === '$default',
    )!;
    const routeIds = Object.fromEntries(
      resources('AWS::ApiGatewayV2::Route')
        .filter(([, r]) => r.Properties.ApiId.Ref === apiId)
        .map(([id, r]) => [r.Properties.RouteKey as string, id]),
    );
    const keys = Object.keys(stage.Properties.RouteSettings);
    expect(keys.sort()).toEqual([WEBHOOK_ROUTE, 'POST /webhooks/quota-reset'].sort());
    for (const key of keys) {
      expect(stage.DependsOn, key).toContain(routeIds[key]);
      // A route's own settings replace the stage defaults, so each repeats DetailedMetricsEnabled.
      expect(stage.Properties.RouteSettings[key].DetailedMetricsEnabled, key).toBe(true);
    }
  });

  it('allows the dashboard origin only', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Api', {
      ProtocolType: 'HTTP',
      CorsConfiguration: Match.objectLike({
        AllowOrigins: [
          {
            'Fn::Join': [
              '',
              [
                'https://',
                { 'Fn::GetAtt': [logicalId(built.stack, built.stack.dashboard.distribution), 'DomainName'] },
              ],
            ],
          },
        ],
      }),
    });
  });
});

/**
 * The variable holds a dynamic reference to `secret` in exactly the functions `receives` names, and is
 * absent from every other function.
 */
function expectResolvedOnlyWhere(
  variable: string,
  secret: Parameters<typeof logicalId>[1],
  receives: (def: HandlerDefinition) => boolean,
): string {
  const secretId = logicalId(built.stack, secret);
  for (const [name, def] of registry) {
    const value = functionProps(name).Environment.Variables[variable];
    if (!receives(def)) {
      expect(value, name).toBeUndefined();
      continue;
    }
    expect(JSON.stringify(value), name).toContain('{{resolve:secretsmanager:');
    expect(JSON.stringify(value), name).toContain(secretId);
  }
  return secretId;
}

const servesAdminApi = (def: HandlerDefinition) =>
  def.trigger.kind === 'http' && def.trigger.routes.some((r) => r.includes(' /api/'));

describe('OperatorToken', () => {
  it('gives ROOT_TOKEN, resolved from a generated secret, to the admin API only', () => {
    template.hasResourceProperties('AWS::SecretsManager::Secret', {
      GenerateSecretString: { PasswordLength: 48, ExcludePunctuation: true },
    });
    const secretId = expectResolvedOnlyWhere('ROOT_TOKEN', built.stack.operatorToken.secret, servesAdminApi);
    expect(template.toJSON().Outputs.OperatorTokenSecretArn.Value).toEqual({ Ref: secretId });
  });
});

describe('CredentialsKey', () => {
  it('gives CREDENTIALS_KEY, resolved from a generated secret, to the admin API and the import runner only', () => {
    template.hasResourceProperties('AWS::SecretsManager::Secret', {
      GenerateSecretString: { PasswordLength: 64, ExcludePunctuation: true },
    });
    expectResolvedOnlyWhere(
      'CREDENTIALS_KEY',
      built.stack.credentialsKey.secret,
      (def) => servesAdminApi(def) || (def.trigger.kind === 'schedule' && def.trigger.job === 'imports'),
    );
  });
});

describe('Realtime', () => {
  it('routes $connect, $disconnect and $default to their registry handlers', () => {
    const apiId = logicalId(built.stack, built.stack.realtime.api);
    template.hasResourceProperties('AWS::ApiGatewayV2::Api', { ProtocolType: 'WEBSOCKET' });
    const routes = resources('AWS::ApiGatewayV2::Route').filter(([, r]) => r.Properties.ApiId.Ref === apiId);
    expect(routes.map(([, r]) => r.Properties.RouteKey).sort()).toEqual([
      '$connect',
      '$default',
      '$disconnect',
    ]);
    for (const [name, d] of registry) {
      if (d.trigger.kind !== 'websocket') continue;
      const [, route] = routes.find(
        ([, r]) => r.Properties.RouteKey === (d.trigger as { route: string }).route,
      )!;
      const integration = template.toJSON().Resources[route.Properties.Target['Fn::Join'][1][1].Ref];
      expect(JSON.stringify(integration.Properties.IntegrationUri), name).toContain(functionIds[name]);
    }
  });

  it('authorizes $connect with the token authorizer on ?token=', () => {
    const wsAuthorizer = registry.find(([, d]) => d.trigger.kind === 'websocket-authorizer')![0];
    const [authorizerId, authorizer] = resources('AWS::ApiGatewayV2::Authorizer')[0]!;
    expect(authorizer.Properties).toMatchObject({
      AuthorizerType: 'REQUEST',
      IdentitySource: [TOKEN_IDENTITY_SOURCE],
    });
    expect(TOKEN_IDENTITY_SOURCE).toBe('route.request.querystring.token');
    expect(JSON.stringify(authorizer.Properties.AuthorizerUri)).toContain(functionIds[wsAuthorizer]);
    template.hasResourceProperties('AWS::ApiGatewayV2::Route', {
      RouteKey: '$connect',
      AuthorizationType: 'CUSTOM',
      AuthorizerId: { Ref: authorizerId },
    });
  });

  it('grants execute-api:ManageConnections to the functions that broadcast', () => {
    for (const name of ['allocator', 'api', 'outboxRelay']) {
      const roleId = functionProps(name).Role['Fn::GetAtt'][0];
      const policies = resources('AWS::IAM::Policy').filter(([, p]) =>
        p.Properties.Roles.some((r: any) => r.Ref === roleId),
      );
      const statements = policies.flatMap(([, p]) => p.Properties.PolicyDocument.Statement);
      const manage = statements.find((s: any) => [s.Action].flat().includes('execute-api:ManageConnections'));
      expect(manage, name).toBeDefined();
      expect(JSON.stringify(manage.Resource)).toContain('/dev/*/@connections/*');
    }
  });

  it('deploys a stage named after the deployment stage', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      ApiId: { Ref: logicalId(built.stack, built.stack.realtime.api) },
      StageName: 'dev',
      AutoDeploy: true,
    });
  });
});

describe('Schedules', () => {
  const scheduled = registry.filter(([, d]) => d.trigger.kind === 'schedule');

  it('creates one schedule per scheduled registry entry, with retries and a DLQ', () => {
    template.resourceCountIs('AWS::Scheduler::Schedule', scheduled.length);
    const dlqId = logicalId(built.stack, built.stack.schedules.deadLetterQueue);
    for (const [name, def] of scheduled) {
      const trigger = def.trigger as { schedule: string; job: string };
      template.hasResourceProperties('AWS::Scheduler::Schedule', {
        ScheduleExpression: trigger.schedule,
        State: 'ENABLED',
        Target: Match.objectLike({
          Arn: { 'Fn::GetAtt': [functionIds[name], 'Arn'] },
          RetryPolicy: {
            MaximumRetryAttempts: RETRY_ATTEMPTS,
            MaximumEventAgeInSeconds: MAX_EVENT_AGE.toSeconds(),
          },
          DeadLetterConfig: { Arn: { 'Fn::GetAtt': [dlqId, 'Arn'] } },
          Input: Match.objectLike({
            'Fn::Join': ['', Match.arrayWith([Match.stringLikeRegexp(`"job":"${trigger.job}"`)])],
          }),
        }),
      });
    }
    // Scheduler accepts only a standard queue as its DLQ.
    expect(template.toJSON().Resources[dlqId].Properties.FifoQueue).toBeUndefined();
  });

  it('sends a job that failed after its Lambda retries to the same DLQ, which alarms', () => {
    const dlqId = logicalId(built.stack, built.stack.schedules.deadLetterQueue);
    // Scheduler invokes asynchronously: its retry policy and DLQ never see a function error.
    template.resourceCountIs('AWS::Lambda::EventInvokeConfig', scheduled.length);
    for (const [name] of scheduled) {
      template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
        FunctionName: { Ref: functionIds[name] },
        Qualifier: '$LATEST',
        MaximumRetryAttempts: ASYNC_RETRY_ATTEMPTS,
        MaximumEventAgeInSeconds: MAX_EVENT_AGE.toSeconds(),
        DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [dlqId, 'Arn'] } } },
      });
      const roleId = functionProps(name).Role['Fn::GetAtt'][0];
      const statements = resources('AWS::IAM::Policy')
        .filter(([, p]) => p.Properties.Roles.some((r: any) => r.Ref === roleId))
        .flatMap(([, p]) => p.Properties.PolicyDocument.Statement);
      expect(
        statements.some(
          (st: any) =>
            [st.Action].flat().includes('sqs:SendMessage') &&
            [st.Resource]
              .flat()
              .some((r: unknown) => JSON.stringify(r) === JSON.stringify({ 'Fn::GetAtt': [dlqId, 'Arn'] })),
        ),
        name,
      ).toBe(true);
    }
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [dlqId, 'QueueName'] } }],
      Statistic: 'Maximum',
      Period: 60,
      ComparisonOperator: 'GreaterThanThreshold',
      Threshold: 0,
      EvaluationPeriods: 1,
      AlarmActions: [{ Ref: logicalId(built.stack, built.stack.alarms.topic) }],
    });
  });
});

describe('Dashboard', () => {
  it('serves a private bucket through CloudFront with origin access control', () => {
    template.hasResourceProperties('AWS::CloudFront::OriginAccessControl', {
      OriginAccessControlConfig: {
        OriginAccessControlOriginType: 's3',
        SigningBehavior: 'always',
        SigningProtocol: 'sigv4',
      },
    });
    const [oacId] = resources('AWS::CloudFront::OriginAccessControl')[0]!;
    template.hasResourceProperties('AWS::CloudFront::Distribution', {
      DistributionConfig: Match.objectLike({
        DefaultRootObject: 'index.html',
        Origins: [
          Match.objectLike({
            OriginAccessControlId: { 'Fn::GetAtt': [oacId, 'Id'] },
            S3OriginConfig: { OriginAccessIdentity: '' },
          }),
        ],
        DefaultCacheBehavior: Match.objectLike({
          ViewerProtocolPolicy: 'redirect-to-https',
          ResponseHeadersPolicyId: Match.anyValue(),
        }),
        Logging: Match.objectLike({ Prefix: 'cloudfront/' }),
      }),
    });
    template.hasResourceProperties('AWS::S3::Bucket', {
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      LoggingConfiguration: Match.objectLike({ LogFilePrefix: 's3-site/' }),
    });
  });

  it('falls back to /index.html for client routes (403 and 404)', () => {
    template.hasResourceProperties('AWS::CloudFront::Distribution', {
      DistributionConfig: Match.objectLike({
        CustomErrorResponses: [403, 404].map((code) =>
          Match.objectLike({ ErrorCode: code, ResponseCode: 200, ResponsePagePath: '/index.html' }),
        ),
      }),
    });
  });

  it('sends security headers', () => {
    template.hasResourceProperties('AWS::CloudFront::ResponseHeadersPolicy', {
      ResponseHeadersPolicyConfig: Match.objectLike({
        SecurityHeadersConfig: Match.objectLike({
          StrictTransportSecurity: Match.objectLike({
            AccessControlMaxAgeSec: 31536000,
            IncludeSubdomains: true,
          }),
          ContentTypeOptions: { Override: true },
          FrameOptions: { FrameOption: 'DENY', Override: true },
          ReferrerPolicy: Match.objectLike({ ReferrerPolicy: 'strict-origin-when-cross-origin' }),
          ContentSecurityPolicy: Match.objectLike({ Override: true }),
        }),
      }),
    });
  });

  it('publishes config.json with the API and WebSocket URLs, never cached', () => {
    const apiId = logicalId(built.stack, built.stack.ingestApi.api);
    const wsId = logicalId(built.stack, built.stack.realtime.api);
    const config = resources('Custom::CDKBucketDeployment').find(([, r]) => r.Properties.SourceMarkers);
    expect(config).toBeDefined();
    const markers = JSON.stringify(config![1].Properties.SourceMarkers);
    expect(markers).toContain(`"Fn::GetAtt":["${apiId}","ApiEndpoint"]`);
    expect(markers).toContain(`"Ref":"${wsId}"`);
    expect(config![1].Properties.SystemMetadata).toEqual({ 'cache-control': 'no-cache' });
    template.hasResourceProperties('AWS::CloudFront::Distribution', {
      DistributionConfig: Match.objectLike({
        CacheBehaviors: [
          Match.objectLike({
            PathPattern: '/config.json',
            CachePolicyId: '4135ea2d-6df8-44a3-9df3-4b5a84be39ad',
          }),
        ],
      }),
    });
  });

  it('deploys the built app, pruning old files and invalidating the distribution', () => {
    template.hasResourceProperties('Custom::CDKBucketDeployment', {
      Prune: true,
      Exclude: ['config.json'],
      DistributionPaths: ['/*'],
    });
  });
});

describe('Dashboard without and with web/dist', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'leadrouter-web-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const warnings = (b: BuiltApp) =>
    b.stack.dashboard.node.metadata.filter((m) => m.type === 'aws:cdk:warning').map((m) => String(m.data));

  it('deploys a placeholder with a warning when the app is not built', () => {
    const b = buildApp('dev', { webDistDir: path.join(dir, 'missing') });
    expect(
      warnings(b).some((w) => w.includes('npm run build:web') && w.includes(PLACEHOLDER_WARNING_ID)),
    ).toBe(true);
  });

  it('deploys web/dist without a warning when it is built', () => {
    writeFileSync(path.join(dir, 'index.html'), '<!doctype html><title>x</title>');
    const b = buildApp('dev', { webDistDir: dir });
    expect(warnings(b).some((w) => w.includes(PLACEHOLDER_WARNING_ID))).toBe(false);
  });
});

describe('Alarms', () => {
  it('alarms on any lead in the DLQ', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [
        {
          Name: 'QueueName',
          Value: {
            'Fn::GetAtt': [logicalId(built.stack, built.stack.leadQueue.deadLetterQueue), 'QueueName'],
          },
        },
      ],
      ComparisonOperator: 'GreaterThanThreshold',
      Threshold: 0,
      AlarmActions: [{ Ref: logicalId(built.stack, built.stack.alarms.topic) }],
    });
  });

  it('alarms on allocator errors', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/Lambda',
      MetricName: 'Errors',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: functionIds.allocator } }],
      Threshold: 0,
    });
  });

  it('alarms on the age of the oldest queued lead', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateAgeOfOldestMessage',
      Dimensions: [
        {
          Name: 'QueueName',
          Value: { 'Fn::GetAtt': [logicalId(built.stack, built.stack.leadQueue.queue), 'QueueName'] },
        },
      ],
      Threshold: 300,
    });
  });

  it('alarms on failed scheduled jobs and has a CloudWatch dashboard', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [
        {
          Name: 'QueueName',
          Value: {
            'Fn::GetAtt': [logicalId(built.stack, built.stack.schedules.deadLetterQueue), 'QueueName'],
          },
        },
      ],
    });
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
    template.hasResourceProperties('AWS::CloudWatch::Dashboard', { DashboardName: 'leadrouter-dev' });
    template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
  });
});

describe('LeadrouterStack', () => {
  it('outputs the webhook, API, dashboard and WebSocket URLs', () => {
    const outputs = template.toJSON().Outputs;
    expect(outputs.WebhookUrl.Value).toEqual({
      'Fn::Join': [
        '',
        [
          { 'Fn::GetAtt': [logicalId(built.stack, built.stack.ingestApi.api), 'ApiEndpoint'] },
          '/webhooks/leads',
        ],
      ],
    });
    for (const name of ['ApiUrl', 'DashboardUrl', 'WebSocketUrl']) expect(outputs[name], name).toBeDefined();
    expect(JSON.stringify(outputs.WebSocketUrl.Value)).toContain('wss://');
  });

  it('is env-agnostic: no account, no region, no context lookups', () => {
    expect(built.stack.resolve(built.stack.account)).toEqual({ Ref: 'AWS::AccountId' });
    expect(built.stack.resolve(built.stack.region)).toEqual({ Ref: 'AWS::Region' });
    expect(built.app.synth().manifest.missing ?? []).toEqual([]);
    expect(JSON.stringify(template.toJSON())).not.toMatch(/\b\d{12}\b/);
  });
});

describe('cdk-nag AwsSolutions', () => {
  it('has no unacknowledged finding, error or warning', () => {
    const report = new AwsSolutionsChecks(undefined, { verbose: true }).validateScope(built.stack);
    const findings = report.violations.map(
      (v) => `${v.severity} ${v.ruleName}: ${v.violatingResources.map((r) => r.constructPath).join(', ')}`,
    );
    expect(findings).toEqual([]);
  });

  it('fails `cdk synth` on a finding nobody acknowledged', () => {
    const { app, stack } = createApp({
      appProps: { context: { ...cdkJsonContext(), stage: 'dev', 'aws:cdk:bundling-stacks': [] } },
    });
    new Queue(stack, 'UnencryptedProbe', { encryption: QueueEncryption.UNENCRYPTED });
    expect(() => app.synth()).toThrow(/AwsSolutions-SQS2/);
  });

  it('gives every acknowledgement a specific reason', () => {
    const acks = acknowledgementsIn(built.stack);
    expect(acks.length).toBeGreaterThan(0);
    for (const ack of acks) {
      expect(ack.reason.length, `${ack.path} ${ack.id}`).toBeGreaterThanOrEqual(40);
    }
    // A reason says why for this resource, not a stock phrase repeated for different rules.
    const reasonsByRule = new Map<string, Set<string>>();
    for (const ack of acks)
      reasonsByRule.set(
        ack.reason,
        (reasonsByRule.get(ack.reason) ?? new Set()).add(ack.id.replace(/\[.*$/, '')),
      );
    for (const [reason, rules] of reasonsByRule) expect(rules.size, reason).toBe(1);
  });
});
