/**
 * One runtime for every Node.js Lambda in the stack: Node.js 22 on arm64, the pair our own functions use
 * (`LeadrouterFunction`). CDK's own helper functions pick their runtime themselves — the newest Node.js
 * aws-cdk-lib knows, on x86_64 — so without this the stack would run two Node.js versions on two
 * architectures, and a CDK upgrade could move the helpers to a runtime nobody tested here. The helpers:
 *
 * - `Custom::VpcRestrictDefaultSG` and `Custom::S3AutoDeleteObjects` handlers and the log-retention
 *   function (plain `CfnResource`s of type `AWS::Lambda::Function`): set by property override;
 * - the migrations `Provider` framework's `onEvent` (a `CfnFunction`): set on its typed properties, so
 *   what cdk-nag reads is what is deployed.
 *
 * Their code is plain JavaScript with no native modules, so arm64 is safe. Functions of other runtimes
 * (`BucketDeployment`'s Python handler) are left alone.
 */
import { CfnResource, Token, type IAspect } from 'aws-cdk-lib';
import { Architecture, CfnFunction, Runtime } from 'aws-cdk-lib/aws-lambda';
import type { IConstruct } from 'constructs';
import { acknowledge } from './nag-acknowledgements.js';

export const NODE_RUNTIME = Runtime.NODEJS_22_X;
export const LAMBDA_ARCHITECTURE = Architecture.ARM_64;

function isNodeRuntime(runtime: unknown): runtime is string {
  return typeof runtime === 'string' && !Token.isUnresolved(runtime) && runtime.startsWith('nodejs');
}

export class NodeRuntimeAspect implements IAspect {
  visit(node: IConstruct): void {
    if (!CfnResource.isCfnResource(node) || node.cfnResourceType !== 'AWS::Lambda::Function') return;

    if (node instanceof CfnFunction) {
      if (!isNodeRuntime(node.runtime)) return;
      if (node.runtime !== NODE_RUNTIME.name) {
        node.runtime = NODE_RUNTIME.name;
        acknowledge(
          node,
          'L1',
          `A CDK helper function pinned to ${NODE_RUNTIME.name} by NodeRuntimeAspect, the runtime every function ` +
            'of this stack uses and is tested on; moving all of them to a newer one is a deliberate upgrade.',
        );
      }
      node.architectures = [LAMBDA_ARCHITECTURE.name];
      return;
    }

    // A plain CfnResource keeps its properties in a protected getter; reading it is the only way to tell
    // a Node.js function from another runtime before the template is rendered.
    const properties = (node as unknown as { cfnProperties: Record<string, unknown> }).cfnProperties;
    if (!isNodeRuntime(properties.Runtime)) return;
    node.addPropertyOverride('Runtime', NODE_RUNTIME.name);
    node.addPropertyOverride('Architectures', [LAMBDA_ARCHITECTURE.name]);
  }
}
