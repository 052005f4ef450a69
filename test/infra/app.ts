/**
 * Builds the CDK app the way `cdk synth` does (same feature flags from cdk.json), for assertions.
 * Bundling is skipped here — `synth.test.ts` runs the real, bundling `cdk synth` — so a template test
 * file costs a couple of seconds, not a minute of esbuild.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Template } from 'aws-cdk-lib/assertions';
import type { App } from 'aws-cdk-lib';
import { createApp } from '../../lib/app.js';
import { REPO_ROOT } from '../../lib/bundling.js';
import type { LeadrouterStack } from '../../lib/leadrouter-stack.js';
import type { Stage } from '../../lib/stage-config.js';

export function cdkJsonContext(): Record<string, unknown> {
  const cdkJson = JSON.parse(readFileSync(path.join(REPO_ROOT, 'cdk.json'), 'utf8')) as {
    context?: Record<string, unknown>;
  };
  return cdkJson.context ?? {};
}

export interface BuiltApp {
  app: App;
  stack: LeadrouterStack;
  template: Template;
}

export function buildApp(
  stage: Stage,
  options: { webDistDir?: string; context?: Record<string, unknown> } = {},
): BuiltApp {
  const { app, stack } = createApp({
    nag: false,
    webDistDir: options.webDistDir,
    appProps: {
      context: { ...cdkJsonContext(), stage, 'aws:cdk:bundling-stacks': [], ...options.context },
    },
  });
  return { app, stack, template: Template.fromStack(stack) };
}

/** Logical id of a construct's CloudFormation resource. */
export function logicalId(stack: LeadrouterStack, construct: { node: { defaultChild?: unknown } }): string {
  const child = construct.node.defaultChild as { logicalId: string } | undefined;
  if (!child) throw new Error('construct has no default CloudFormation resource');
  return stack.resolve(child.logicalId) as string;
}
