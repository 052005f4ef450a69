/**
 * Organizations (tenants) with their first admin token, webhook source and `default` campaign.
 * Secrets are returned once and stored only as hashes: in PostgreSQL (the source of truth) and,
 * for webhook secrets, mirrored into DynamoDB so the ingest path can check them without PostgreSQL.
 */
import { v7 as uuidv7 } from 'uuid';
import { putSourceSecret } from '../adapters/dynamo/keys.js';
import { insertCampaign } from '../adapters/pg/campaigns.js';
import { withTransaction } from '../adapters/pg/db.js';
import { insertAdminToken, insertOrg, insertSource } from '../adapters/pg/orgs.js';
import { clock } from '../clock.js';
import { hashSecret, newSecret } from '../shared/secrets.js';
import { DEFAULT_CAMPAIGN } from './allocateLead.js';

export interface CreatedOrg {
  orgId: string;
  sourceId: string;
  adminToken: string;
  webhookSecret: string;
}

export async function createOrg(input: {
  name: string;
  orgId?: string;
  sourceId?: string;
  adminToken?: string;
  webhookSecret?: string;
}): Promise<CreatedOrg> {
  const now = clock().now();
  const orgId = input.orgId ?? uuidv7();
  const sourceId = input.sourceId ?? uuidv7();
  const adminToken = input.adminToken ?? newSecret('lr_admin');
  const webhookSecret = input.webhookSecret ?? newSecret('lr_whsec');
  const secretHash = hashSecret(webhookSecret);
  await withTransaction(async (db) => {
    await insertOrg(db, orgId, input.name, now);
    await insertAdminToken(db, {
      id: uuidv7(),
      orgId,
      tokenHash: hashSecret(adminToken),
      label: 'admin',
      now,
    });
    await insertSource(db, {
      id: sourceId,
      orgId,
      name: 'Default webhook',
      kind: 'webhook',
      secretHash,
      fieldMap: {},
      defaultCampaign: null,
      now,
    });
    await insertCampaign(
      db,
      orgId,
      uuidv7(),
      DEFAULT_CAMPAIGN,
      {
        name: 'Default',
        recipientsPerLead: 1,
        staticRecipientIds: [],
        poolRecipientIds: null,
        stateRouting: 'prefer',
        staticOptional: false,
        mode: 'push',
        slaMinutes: null,
        maxReassignments: 3,
      },
      now,
    );
  });
  await putSourceSecret(secretHash, { orgId, sourceId, fieldMap: {}, defaultCampaign: null });
  return { orgId, sourceId, adminToken, webhookSecret };
}
