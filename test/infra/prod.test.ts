/**
 * What `-c stage=prod` changes: data survives `cdk destroy` and mistakes, the database gets a reader in
 * a second AZ, and the VPC a NAT gateway per AZ. Built once, without bundling.
 */
import { App } from 'aws-cdk-lib';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { tables } from '../../functions/adapters/dynamo/tables.js';
import { handlers } from '../../functions/registry.js';
import { ALLOCATOR_MAX_CONCURRENCY } from '../../lib/allocator.js';
import { stageConfigFromContext } from '../../lib/stage-config.js';
import { buildApp, type BuiltApp } from './app.js';

let built: BuiltApp;
let template: Template;

beforeAll(() => {
  built = buildApp('prod');
  template = built.template;
});

describe('prod stage', () => {
  it('names the stack after the stage', () => {
    expect(built.stack.stackName).toBe('Leadrouter-prod');
  });

  it('protects the database: deletion protection, snapshot on delete, 14 days of backups', () => {
    template.hasResource('AWS::RDS::DBCluster', {
      DeletionPolicy: 'Snapshot',
      Properties: Match.objectLike({ DeletionProtection: true, BackupRetentionPeriod: 14 }),
    });
  });

  it('keeps the database credentials with the final snapshot', () => {
    const secrets = template.findResources('AWS::SecretsManager::Secret', {
      Properties: {
        GenerateSecretString: Match.objectLike({ SecretStringTemplate: '{"username":"leadrouter"}' }),
      },
    });
    expect(Object.values(secrets).map((s) => s.DeletionPolicy)).toEqual(['Retain']);
  });

  it('runs a Serverless v2 writer and a reader that scales with it', () => {
    template.resourceCountIs('AWS::RDS::DBInstance', 2);
    template.hasResourceProperties('AWS::RDS::DBCluster', {
      ServerlessV2ScalingConfiguration: { MinCapacity: 1, MaxCapacity: 16 },
    });
    template.hasResourceProperties('AWS::RDS::DBInstance', {
      DBInstanceClass: 'db.serverless',
      PromotionTier: 1,
    });
  });

  it('retains the tables, with deletion protection', () => {
    const found = template.findResources('AWS::DynamoDB::Table');
    expect(Object.keys(found)).toHaveLength(Object.keys(tables).length);
    for (const table of Object.values(found)) {
      expect(table.DeletionPolicy).toBe('Retain');
      expect(table.Properties.DeletionProtectionEnabled).toBe(true);
    }
  });

  it('has a NAT gateway per AZ', () => {
    template.resourceCountIs('AWS::EC2::NatGateway', 2);
  });

  it('logs at INFO and keeps logs for three months', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ STAGE: 'prod', POWERTOOLS_LOG_LEVEL: 'INFO' }) },
    });
    for (const group of Object.values(template.findResources('AWS::Logs::LogGroup'))) {
      expect(group.Properties.RetentionInDays).toBe(90);
    }
  });

  it('takes the webhook throttle and the allocator concurrency from context (the 10M/day settings)', () => {
    // As the CLI passes them: `-c` values arrive as strings.
    const raised = buildApp('prod', {
      context: { webhookRateLimit: '500', webhookBurstLimit: '1000', allocatorConcurrency: '20' },
    });
    raised.template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      RouteSettings: Match.objectLike({
        'POST /webhooks/leads': Match.objectLike({ ThrottlingRateLimit: 500, ThrottlingBurstLimit: 1000 }),
      }),
    });
    raised.template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      ScalingConfig: { MaximumConcurrency: 20 },
    });
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      ScalingConfig: { MaximumConcurrency: ALLOCATOR_MAX_CONCURRENCY },
    });
  });

  it('rejects an allocator concurrency Lambda would not accept', () => {
    const config = (allocatorConcurrency: unknown) =>
      stageConfigFromContext(new App({ context: { stage: 'prod', allocatorConcurrency } }).node);
    expect(config(undefined).allocatorConcurrency).toBe(ALLOCATOR_MAX_CONCURRENCY);
    expect(config('2').allocatorConcurrency).toBe(2);
    expect(config(1000).allocatorConcurrency).toBe(1000);
    for (const bad of ['1', '1001', '2.5', 'ten', ''])
      expect(() => config(bad), bad).toThrow(/allocatorConcurrency must be a whole number from 2 to 1000/);
  });

  it('runs every Node.js function, CDK helpers included, on nodejs22.x and arm64', () => {
    const node = Object.values(template.findResources('AWS::Lambda::Function')).filter((f) =>
      String(f.Properties.Runtime).startsWith('nodejs'),
    );
    expect(node.length).toBeGreaterThan(Object.keys(handlers).length);
    for (const fn of node) {
      expect(fn.Properties.Runtime).toBe('nodejs22.x');
      expect(fn.Properties.Architectures).toEqual(['arm64']);
    }
  });

  it('has no unacknowledged cdk-nag finding', () => {
    const report = new AwsSolutionsChecks().validateScope(built.stack);
    expect(report.violations.map((v) => `${v.severity} ${v.ruleName}`)).toEqual([]);
  });
});
