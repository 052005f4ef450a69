/**
 * The operator's token (`ROOT_TOKEN`): the one credential that may create organizations
 * (`POST /api/orgs`, `npx leadrouter org create`), each of which comes with its own admin token and
 * webhook secret. Generated into Secrets Manager on the first deploy, so no one has to invent it and it
 * never appears in the template or in cdk.out.
 *
 * The admin API compares it with the token it receives, so the function needs the value itself:
 * CloudFormation resolves it into the function's `ROOT_TOKEN` at deploy time (a dynamic reference).
 * Anyone allowed `lambda:GetFunctionConfiguration` can therefore read it — the same people who could
 * already read the function's code and database secret ARN. To rotate it: put a new value in the secret
 * and deploy with `-c rootTokenVersionId=<VersionId>`, which changes the reference and so updates the
 * function (README, Deploy to AWS).
 */
import type { Construct } from 'constructs';
import { DeployTimeSecret } from './deploy-time-secret.js';
import type { StageConfig } from './stage-config.js';

export interface OperatorTokenProps {
  readonly config: StageConfig;
}

export class OperatorToken extends DeployTimeSecret {
  constructor(scope: Construct, id: string, props: OperatorTokenProps) {
    super(scope, id, {
      description: `leadrouter ${props.config.stage}: operator token (ROOT_TOKEN), creates organizations`,
      passwordLength: 48,
      removalPolicy: props.config.removalPolicy,
      versionContext: 'rootTokenVersionId',
      environmentVariable: 'ROOT_TOKEN',
      whyNoScheduledRotation:
        'The operator token is resolved into the admin function at deploy time, so rotation is a deliberate ' +
        'step (new value, then deploy with -c rootTokenVersionId) rather than a schedule that would leave ' +
        'the deployed function with the old value.',
    });
  }
}
