/**
 * cdk-nag v3 acknowledgements (`Validations.of(scope).acknowledge`, which replaced v2's
 * `NagSuppressions`). Each construct acknowledges the findings it causes, next to the cause and with the
 * reason; this module holds the helpers and the findings of resources that CDK itself adds at stack
 * level (singleton functions behind `cloudwatchLogsRetention` and `BucketDeployment`).
 *
 * An acknowledgement covers the construct and everything below it. cdk-nag v3 matches exact finding
 * ids — `IAM5[Resource::*]` and `IAM5[Action::s3:List*]` are separate — so each one names exactly what
 * is accepted.
 */
import { Stack, Validations, type CfnElement } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/** Acknowledges the AwsSolutions finding `rule` (e.g. `IAM5[Resource::*]`) on `scope` and below. */
export function acknowledge(scope: IConstruct, rule: string, reason: string): void {
  Validations.of(scope).acknowledge({ id: `AwsSolutions-${rule}`, reason });
}

/** How cdk-nag writes a reference to a resource inside a finding id: `<LogicalId>` or `<LogicalId.Attr>`. */
export function nagRef(element: CfnElement, attribute?: string): string {
  const logicalId = Stack.of(element).resolve(element.logicalId) as string;
  return `<${logicalId}${attribute ? `.${attribute}` : ''}>`;
}

export const MANAGED_POLICY = {
  basicExecution:
    'IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
  vpcAccess:
    'IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]',
} as const;

/** The log-retention function CDK adds for the Aurora log exports' retention. */
function acknowledgeLogRetention(stack: Stack): void {
  for (const child of stack.node.children) {
    if (!child.node.id.startsWith('LogRetention')) continue;
    acknowledge(
      child,
      MANAGED_POLICY.basicExecution,
      'CDK log-retention helper (sets retention on the Aurora postgresql log group): writes only its own logs.',
    );
    acknowledge(
      child,
      'IAM5[Resource::*]',
      'CDK log-retention helper: the RDS-created log group name is only known at deploy time, so its ' +
        'logs:PutRetentionPolicy/DeleteRetentionPolicy statement cannot name it.',
    );
  }
}

/** Findings of resources CDK adds at stack level; call after every construct exists. */
export function acknowledgeNagFindings(stack: Stack): void {
  acknowledgeLogRetention(stack);
}
