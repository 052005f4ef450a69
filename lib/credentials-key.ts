/**
 * The key that seals third-party credentials at rest (an import's Google API key or service-account
 * private key; `functions/shared/sealed.ts`): generated into Secrets Manager on the first deploy, so it
 * never appears in the template or in cdk.out, and resolved into the functions that store or use those
 * credentials (`CREDENTIALS_KEY`, a CloudFormation dynamic reference, like the operator token).
 *
 * Not rotated on a schedule: values sealed under the old key would no longer open. A sealed value
 * names its key (`kid`), so after a deliberate change (new value, then deploy with
 * `-c credentialsKeyVersionId=<VersionId>`) an import whose credentials were sealed under the old key
 * says so (`credentialsProblem`) and its owner enters them again.
 */
import { SecretValue } from 'aws-cdk-lib';
import type { Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { acknowledge } from './nag-acknowledgements.js';
import type { StageConfig } from './stage-config.js';

export interface CredentialsKeyProps {
  readonly config: StageConfig;
}

export class CredentialsKey extends Construct {
  readonly secret: Secret;
  private readonly value: SecretValue;

  constructor(scope: Construct, id: string, props: CredentialsKeyProps) {
    super(scope, id);
    this.secret = new Secret(this, 'Secret', {
      description: `leadrouter ${props.config.stage}: key that seals import credentials at rest (CREDENTIALS_KEY)`,
      generateSecretString: { passwordLength: 64, excludePunctuation: true },
      removalPolicy: props.config.removalPolicy,
    });
    const versionId: unknown = this.node.tryGetContext('credentialsKeyVersionId');
    this.value = SecretValue.secretsManager(this.secret.secretArn, {
      versionId: typeof versionId === 'string' && versionId !== '' ? versionId : undefined,
    });
    acknowledge(
      this.secret,
      'SMG4',
      'An encryption key for data at rest: a scheduled rotation would leave every sealed value unreadable, so ' +
        'a change is a deliberate step (new value, deploy with -c credentialsKeyVersionId, credentials entered ' +
        'again) rather than a schedule.',
    );
  }

  /** Gives a function `CREDENTIALS_KEY`. */
  provideTo(fn: LambdaFunction): void {
    fn.addEnvironment('CREDENTIALS_KEY', this.value.unsafeUnwrap());
  }
}
