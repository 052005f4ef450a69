/**
 * Reads the cdk-nag (AwsSolutions) acknowledgements (`Validations.of(x).acknowledge`) recorded on a construct tree.
 */
import { Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

export interface RecordedAcknowledgement {
  path: string;
  id: string;
  reason: string;
}

export function acknowledgementsIn(root: IConstruct): RecordedAcknowledgement[] {
  const found: RecordedAcknowledgement[] = [];
  for (const node of root.node.findAll()) {
    for (const entry of node.node.metadata) {
      if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
      for (const [id, reason] of Object.entries(entry.data as Record<string, string>)) {
        // CDK acknowledges some of its own annotation warnings; only ours concern cdk-nag.
        if (id.includes('AwsSolutions-')) found.push({ path: node.node.path, id, reason });
      }
    }
  }
  return found;
}
