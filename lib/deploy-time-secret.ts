/**
 * A secret generated into Secrets Manager on the first deploy and resolved into functions' environment
 * at deploy time (a CloudFormation dynamic reference): it never appears in the template or in cdk.out,
 * and the functions read it without a Secrets Manager call. Principals allowed
 * `lambda:GetFunctionConfiguration` can read it, like the rest of the function's configuration.
 *
 * Rotation is deliberate, not scheduled: put a new value, then deploy with `-c <versionContext>=<VersionId>`,
 * which changes the reference and so updates the functions.
 */
import { SecretValue, type RemovalPolicy } from 'aws-cdk-lib';
import type { Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { acknowledge } from './nag-acknowledgements.js';

export interface DeployTimeSecretProps {
  readonly description: string;
  readonly passwordLength: number;
  readonly removalPolicy: RemovalPolicy;
  /** The context key naming the secret version to resolve (rotation). */
  readonly versionContext: string;
  /** The environment variable the functions get. */
  readonly environmentVariable: string;
  /** Why the secret is not rotated on a schedule (cdk-nag AwsSolutions-SMG4). */
  readonly whyNoScheduledRotation: string;
}

export class DeployTimeSecret extends Construct {
  readonly secret: Secret;
  private readonly value: SecretValue;
  private readonly variable: string;

  constructor(scope: Construct, id: string, props: DeployTimeSecretProps) {
    super(scope, id);
    this.variable = props.environmentVariable;
    this.secret = new Secret(this, 'Secret', {
      description: props.description,
      generateSecretString: { passwordLength: props.passwordLength, excludePunctuation: true },
      removalPolicy: props.removalPolicy,
    });
    const versionId: unknown = this.node.tryGetContext(props.versionContext);
    this.value = SecretValue.secretsManager(this.secret.secretArn, {
      versionId: typeof versionId === 'string' && versionId !== '' ? versionId : undefined,
    });
    acknowledge(this.secret, 'SMG4', props.whyNoScheduledRotation);
  }

  /** Gives a function the secret in its environment variable. */
  provideTo(fn: LambdaFunction): void {
    fn.addEnvironment(this.variable, this.value.unsafeUnwrap());
  }
}
