/**
 * Builds the CDK app: `bin/app.ts` for the CLI, the infra tests with the same context. cdk-nag's
 * AwsSolutions pack is registered as a policy-validation plugin, so `cdk synth` and `cdk deploy` fail on
 * any finding that is not acknowledged with a reason (see `lib/nag-acknowledgements.ts`).
 */
import { App, Validations, type AppProps } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { LeadrouterStack } from './leadrouter-stack.js';
import { stageConfigFromContext } from './stage-config.js';

export interface CreateAppOptions {
  readonly appProps?: AppProps;
  /** Register cdk-nag as a synth-time validation (default true). */
  readonly nag?: boolean;
  /** Where the built dashboard is; defaults to `web/dist`. */
  readonly webDistDir?: string;
}

export function createApp(options: CreateAppOptions = {}): { app: App; stack: LeadrouterStack } {
  const app = new App(options.appProps);
  const config = stageConfigFromContext(app.node);
  const stack = new LeadrouterStack(app, `Leadrouter-${config.stage}`, {
    config,
    webDistDir: options.webDistDir,
    description: `leadrouter (${config.stage}): lead intake and fair, atomic lead distribution`,
  });
  if (options.nag ?? true) Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
  return { app, stack };
}
