/**
 * Applies `migrations/` on every deploy that changes them: a CloudFormation custom resource whose
 * provider calls the registry's `custom-resource` handler (`migrate`). The resource carries a hash of
 * the migrations folder, so CloudFormation sends an Update — and the function runs — exactly when a
 * migration file is added or edited, and the deploy fails (and rolls back the stack) when one fails.
 *
 * Order of a deploy: VPC and cluster (writer available) → custom resource → migrations applied → the
 * functions that use the database are created or updated; new handler code never meets an old schema.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { CustomResource, type CfnElement } from 'aws-cdk-lib';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup } from 'aws-cdk-lib/aws-logs';
import { Provider } from 'aws-cdk-lib/custom-resources';
import { Construct, type IConstruct } from 'constructs';
import { REPO_ROOT } from './bundling.js';
import type { Database } from './database.js';
import { acknowledge, MANAGED_POLICY, nagRef } from './nag-acknowledgements.js';
import type { StageConfig } from './stage-config.js';

export const MIGRATIONS_DIR = path.join(REPO_ROOT, 'migrations');

export interface MigrationsProps {
  readonly config: StageConfig;
  readonly database: Database;
  /** The registry's custom-resource handler. */
  readonly handler: IFunction;
  /** Functions that use the schema: CloudFormation creates or updates them only after the migrations ran. */
  readonly schemaUsers: readonly IConstruct[];
}

export class Migrations extends Construct {
  readonly provider: Provider;
  readonly resource: CustomResource;
  readonly migrationsHash: string;

  constructor(scope: Construct, id: string, props: MigrationsProps) {
    super(scope, id);
    this.migrationsHash = hashDirectory(MIGRATIONS_DIR);
    this.provider = new Provider(this, 'Provider', {
      onEventHandler: props.handler,
      logGroup: new LogGroup(this, 'ProviderLogs', {
        retention: props.config.logRetention,
        removalPolicy: props.config.removalPolicy,
      }),
    });
    this.resource = new CustomResource(this, 'Run', {
      serviceToken: this.provider.serviceToken,
      resourceType: 'Custom::LeadrouterMigrations',
      properties: {
        MigrationsHash: this.migrationsHash,
        // A new writer endpoint (a replaced cluster) must be migrated too.
        DatabaseHost: props.database.cluster.clusterEndpoint.hostname,
      },
    });
    // The writer, its secret, the security-group rules and the NAT route must all exist first.
    this.resource.node.addDependency(props.database);
    // New code never runs against an old schema (migrations must therefore be additive: expand first,
    // contract in a later deploy).
    for (const user of props.schemaUsers) user.node.addDependency(this.resource);

    acknowledge(
      this.provider,
      MANAGED_POLICY.basicExecution,
      'CDK custom-resource framework function: AWSLambdaBasicExecutionRole only lets it write its own logs.',
    );
    acknowledge(
      this.provider,
      `IAM5[Resource::${nagRef(props.handler.node.defaultChild as CfnElement, 'Arn')}:*]`,
      'The framework invokes the migration function; ":*" covers its versions and aliases, nothing else.',
    );
  }
}

/** sha256 over every file's relative path and content, in a stable order. */
export function hashDirectory(dir: string): string {
  const hash = createHash('sha256');
  const walk = (current: string): void => {
    for (const name of readdirSync(current).sort()) {
      const full = path.join(current, name);
      if (statSync(full).isDirectory()) {
        walk(full);
      } else {
        hash.update(path.relative(dir, full).split(path.sep).join('/'));
        hash.update('\0');
        hash.update(readFileSync(full));
        hash.update('\0');
      }
    }
  };
  walk(dir);
  return hash.digest('hex');
}
