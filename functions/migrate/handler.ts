/**
 * CloudFormation custom resource: applies `migrations/` on every deploy (Create and Update), against
 * the writer endpoint directly — RDS Proxy would pin the session for the migration lock anyway.
 * Delete does nothing: data outlives the stack unless the cluster itself is removed.
 */
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { migrateUp } from '../adapters/pg/migrate.js';
import { databaseUrl } from '../clients.js';
import { logger } from '../powertools.js';

export const handler = async (event: CloudFormationCustomResourceEvent) => {
  const physicalResourceId =
    'PhysicalResourceId' in event ? event.PhysicalResourceId : 'leadrouter-migrations';
  if (event.RequestType === 'Delete') return { PhysicalResourceId: physicalResourceId };
  const applied = await migrateUp(await databaseUrl(), (m) => logger.info(m));
  return { PhysicalResourceId: physicalResourceId, Data: { Applied: applied.join(',') || 'none' } };
};
