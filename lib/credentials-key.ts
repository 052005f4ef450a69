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
import type { Construct } from 'constructs';
import { DeployTimeSecret } from './deploy-time-secret.js';
import type { StageConfig } from './stage-config.js';

export interface CredentialsKeyProps {
  readonly config: StageConfig;
}

export class CredentialsKey extends DeployTimeSecret {
  constructor(scope: Construct, id: string, props: CredentialsKeyProps) {
    super(scope, id, {
      description: `leadrouter ${props.config.stage}: key that seals import credentials at rest (CREDENTIALS_KEY)`,
      passwordLength: 64,
      removalPolicy: props.config.removalPolicy,
      versionContext: 'credentialsKeyVersionId',
      environmentVariable: 'CREDENTIALS_KEY',
      whyNoScheduledRotation:
        'An encryption key for data at rest: a scheduled rotation would leave every sealed value unreadable, so ' +
        'a change is a deliberate step (new value, deploy with -c credentialsKeyVersionId, credentials entered ' +
        'again) rather than a schedule.',
    });
  }
}
