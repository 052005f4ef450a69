/**
 * The system of record: Aurora PostgreSQL Serverless v2 behind RDS Proxy, in its own VPC.
 *
 * Subnets, by what lives there:
 * - `public`: only the NAT gateways.
 * - `app` (private, egress through NAT): the ENIs of the database-using Lambdas. They need the internet
 *   for Secrets Manager, SQS, the WebSocket `@connections` API and Google Sheets imports; DynamoDB goes
 *   through a free gateway endpoint instead.
 * - `data` (isolated, no route out): the Aurora instances and the proxy.
 *
 * Who may connect (security groups, port 5432):
 *   app functions → proxy → cluster      (every request: the proxy multiplexes thousands of Lambda
 *                                          environments onto a few database connections)
 *   migration function → cluster writer  (deploy time only: DDL and node-pg-migrate's session advisory
 *                                          lock would pin every proxied connection anyway)
 *
 * Credentials are a generated Secrets Manager secret; the functions read it (`DATABASE_SECRET_ARN`) and
 * authenticate to the proxy with it over TLS.
 */
import { Duration } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type { IGrantable } from 'aws-cdk-lib/aws-iam';
import { LogGroup } from 'aws-cdk-lib/aws-logs';
import {
  AuroraPostgresEngineVersion,
  ClusterInstance,
  Credentials,
  DatabaseCluster,
  DatabaseClusterEngine,
  type DatabaseProxy,
  type DatabaseSecret,
} from 'aws-cdk-lib/aws-rds';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { acknowledge } from './nag-acknowledgements.js';
import type { StageConfig } from './stage-config.js';

/** Aurora PostgreSQL 16; minor upgrades are applied automatically in the maintenance window. */
export const AURORA_POSTGRES_VERSION = AuroraPostgresEngineVersion.VER_16_11;
export const DATABASE_NAME = 'leadrouter';
/** PostgreSQL's port. RDS Proxy always listens on it for PostgreSQL, so the cluster keeps it too. */
export const DATABASE_PORT = 5432;

export interface DatabaseProps {
  readonly config: StageConfig;
}

export class Database extends Construct {
  readonly vpc: ec2.Vpc;
  readonly cluster: DatabaseCluster;
  readonly proxy: DatabaseProxy;
  readonly secret: ISecret;
  /** For functions that reach the database through the proxy. */
  readonly appSecurityGroup: ec2.SecurityGroup;
  /** For the migration function, the one client allowed to reach the writer directly. */
  readonly migrationSecurityGroup: ec2.SecurityGroup;
  readonly appSubnets: ec2.SubnetSelection = { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS };

  constructor(scope: Construct, id: string, props: DatabaseProps) {
    super(scope, id);
    const { config } = props;
    const dataSubnets: ec2.SubnetSelection = { subnetType: ec2.SubnetType.PRIVATE_ISOLATED };

    const flowLogGroup = new LogGroup(this, 'FlowLogs', {
      retention: config.logRetention,
      removalPolicy: config.removalPolicy,
    });
    this.vpc = new ec2.Vpc(this, 'Vpc', {
      ipAddresses: ec2.IpAddresses.cidr('10.40.0.0/16'),
      maxAzs: 2,
      natGateways: config.natGateways,
      subnetConfiguration: [
        { name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 },
        // /20: room for the ENIs of many concurrent VPC functions.
        { name: 'app', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 20 },
        { name: 'data', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 24 },
      ],
      gatewayEndpoints: { DynamoDb: { service: ec2.GatewayVpcEndpointAwsService.DYNAMODB } },
      flowLogs: {
        FlowLog: {
          destination: ec2.FlowLogDestination.toCloudWatchLogs(flowLogGroup),
          // Rejected traffic is what an investigation needs; every accepted packet of a busy prod VPC is
          // worth its ingest cost only in prod.
          trafficType: config.stage === 'prod' ? ec2.FlowLogTrafficType.ALL : ec2.FlowLogTrafficType.REJECT,
        },
      },
    });

    this.appSecurityGroup = new ec2.SecurityGroup(this, 'AppSecurityGroup', {
      vpc: this.vpc,
      description: 'leadrouter functions that use the database (through RDS Proxy)',
      allowAllOutbound: true,
    });
    this.migrationSecurityGroup = new ec2.SecurityGroup(this, 'MigrationSecurityGroup', {
      vpc: this.vpc,
      description: 'leadrouter migration function (writer endpoint, deploy time)',
      allowAllOutbound: true,
    });
    const clusterSecurityGroup = new ec2.SecurityGroup(this, 'ClusterSecurityGroup', {
      vpc: this.vpc,
      description: 'leadrouter Aurora cluster',
      allowAllOutbound: false,
    });
    const proxySecurityGroup = new ec2.SecurityGroup(this, 'ProxySecurityGroup', {
      vpc: this.vpc,
      description: 'leadrouter RDS Proxy',
      allowAllOutbound: false,
    });

    this.cluster = new DatabaseCluster(this, 'Cluster', {
      engine: DatabaseClusterEngine.auroraPostgres({ version: AURORA_POSTGRES_VERSION }),
      writer: ClusterInstance.serverlessV2('Writer', { autoMinorVersionUpgrade: true }),
      readers: config.auroraReader
        ? [ClusterInstance.serverlessV2('Reader', { autoMinorVersionUpgrade: true, scaleWithWriter: true })]
        : [],
      serverlessV2MinCapacity: config.auroraMinAcu,
      serverlessV2MaxCapacity: config.auroraMaxAcu,
      vpc: this.vpc,
      vpcSubnets: dataSubnets,
      securityGroups: [clusterSecurityGroup],
      port: DATABASE_PORT,
      credentials: Credentials.fromGeneratedSecret('leadrouter'),
      defaultDatabaseName: DATABASE_NAME,
      storageEncrypted: true,
      iamAuthentication: true,
      deletionProtection: config.deletionProtection,
      removalPolicy: config.databaseRemovalPolicy,
      backup: { retention: config.backupRetention },
      copyTagsToSnapshot: true,
      cloudwatchLogsExports: ['postgresql'],
      cloudwatchLogsRetention: config.logRetention,
    });
    if (!this.cluster.secret) throw new Error('The cluster was created without a credentials secret');
    this.secret = this.cluster.secret;
    // cluster.secret is the secret's attachment to the cluster; the secret itself is the child `Secret`.
    const generatedSecret = this.cluster.node.findChild('Secret') as DatabaseSecret;
    // In prod the final snapshot outlives the stack; keep its credentials with it.
    generatedSecret.applyRemovalPolicy(config.removalPolicy);

    this.proxy = this.cluster.addProxy('Proxy', {
      vpc: this.vpc,
      vpcSubnets: dataSubnets,
      securityGroups: [proxySecurityGroup],
      secrets: [this.secret],
      requireTLS: true,
      // Lambda environments come and go; a proxied client idle for 30 min is gone.
      idleClientTimeout: Duration.minutes(30),
      // Leave headroom for the migration function and an operator's psql on the writer.
      maxConnectionsPercent: 90,
      borrowTimeout: Duration.seconds(30),
    });

    acknowledge(
      generatedSecret,
      'SMG4',
      'Rotation would change the password under warm Lambda environments that read it at cold start, ' +
        'failing their new proxy connections until they recycle. The secret never leaves the VPC path; rotate ' +
        'it deliberately (README, Deploy to AWS) until the functions use IAM authentication to the proxy.',
    );
    if (!config.deletionProtection) {
      acknowledge(
        this.cluster,
        'RDS10',
        'dev stacks are disposable and `cdk destroy` must remove them; prod enables deletion protection.',
      );
    }

    this.cluster.connections.allowDefaultPortFrom(proxySecurityGroup, 'RDS Proxy to Aurora');
    this.cluster.connections.allowDefaultPortFrom(this.migrationSecurityGroup, 'Migrations to the writer');
    proxySecurityGroup.addEgressRule(
      clusterSecurityGroup,
      ec2.Port.tcp(DATABASE_PORT),
      'RDS Proxy to Aurora',
    );
    proxySecurityGroup.addIngressRule(
      this.appSecurityGroup,
      ec2.Port.tcp(DATABASE_PORT),
      'leadrouter functions to RDS Proxy',
    );
  }

  /** `DATABASE_*` for a function that goes through the proxy. */
  get proxyEnvironment(): Record<string, string> {
    return {
      DATABASE_SECRET_ARN: this.secret.secretArn,
      DATABASE_HOST: this.proxy.endpoint,
      DATABASE_NAME,
    };
  }

  /** `DATABASE_*` for the migration function, which talks to the writer directly. */
  get writerEnvironment(): Record<string, string> {
    return {
      DATABASE_SECRET_ARN: this.secret.secretArn,
      DATABASE_HOST: this.cluster.clusterEndpoint.hostname,
      DATABASE_NAME,
    };
  }

  grantCredentials(grantee: IGrantable): void {
    this.secret.grantRead(grantee);
  }
}
