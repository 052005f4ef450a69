/**
 * The DynamoDB tables, one per spec in `functions/adapters/dynamo/tables.ts` (the local runtime creates
 * the same tables from the same specs). On-demand billing: intake is bursty (a Make scenario replaying
 * a sheet) and on-demand absorbs bursts without capacity planning. TTL on the spec's expiry attribute,
 * point-in-time recovery on all of them: the keys table holds the externalId claims that never expire.
 */
import { Tags } from 'aws-cdk-lib';
import type { IGrantable } from 'aws-cdk-lib/aws-iam';
import { AttributeType, BillingMode, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { tables, type TableName, type TableSpec } from '../functions/adapters/dynamo/tables.js';
import { pascalCase } from './names.js';
import type { StageConfig } from './stage-config.js';

export interface KeyTablesProps {
  readonly config: StageConfig;
}

export class KeyTables extends Construct {
  readonly tables: Record<TableName, Table>;
  /** `{ IDEMPOTENCY_TABLE: <name>, … }`: the environment the handlers read table names from. */
  readonly environment: Record<string, string>;

  constructor(scope: Construct, id: string, props: KeyTablesProps) {
    super(scope, id);
    const entries = (Object.entries(tables) as [TableName, TableSpec][]).map(([name, spec]) => {
      const table = new Table(this, pascalCase(name), {
        partitionKey: { name: spec.partitionKey, type: AttributeType.STRING },
        sortKey: spec.sortKey ? { name: spec.sortKey, type: AttributeType.STRING } : undefined,
        timeToLiveAttribute: spec.ttlAttribute,
        billingMode: BillingMode.PAY_PER_REQUEST,
        pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
        encryption: TableEncryption.AWS_MANAGED,
        deletionProtection: props.config.deletionProtection,
        removalPolicy: props.config.removalPolicy,
      });
      Tags.of(table).add('leadrouter:table', name);
      return [name, table] as const;
    });
    this.tables = Object.fromEntries(entries) as Record<TableName, Table>;
    this.environment = Object.fromEntries(
      entries.map(([name, table]) => [tables[name].envVar, table.tableName]),
    );
  }

  /**
   * Every handler may read and write every table. The tables hold claim keys, idempotency records and
   * connection ids, written by whichever handler owns the operation (ingest, admin API, jobs, WebSocket
   * routes); a per-handler list here would be a second registry that silently breaks when a handler
   * starts using a table.
   */
  grantReadWrite(grantee: IGrantable): void {
    for (const table of Object.values(this.tables)) table.grantReadWriteData(grantee);
  }
}
