/** Campaigns: how leads of one kind are routed (SPEC §3). */
import { read, type Db } from './db.js';
import { CAMPAIGN_COLUMNS, type CampaignRow } from './allocation.js';

export interface CampaignFields {
  name: string;
  recipientsPerLead: number;
  staticRecipientIds: string[];
  poolRecipientIds: string[] | null;
  stateRouting: 'prefer' | 'require' | 'ignore';
  staticOptional: boolean;
  mode: 'push' | 'stock';
  slaMinutes: number | null;
  maxReassignments: number;
}

const COLUMN: Record<keyof CampaignFields, string> = {
  name: 'name',
  recipientsPerLead: 'recipients_per_lead',
  staticRecipientIds: 'static_recipient_ids',
  poolRecipientIds: 'pool_recipient_ids',
  stateRouting: 'state_routing',
  staticOptional: 'static_optional',
  mode: 'mode',
  slaMinutes: 'sla_minutes',
  maxReassignments: 'max_reassignments',
};

export async function listCampaigns(orgId: string): Promise<CampaignRow[]> {
  return read<CampaignRow>(
    `SELECT ${CAMPAIGN_COLUMNS} FROM campaigns WHERE org_id = $1 ORDER BY created_at, key`,
    [orgId],
  );
}

export async function getCampaign(orgId: string, key: string): Promise<CampaignRow | undefined> {
  return (
    await read<CampaignRow>(`SELECT ${CAMPAIGN_COLUMNS} FROM campaigns WHERE org_id = $1 AND key = $2`, [
      orgId,
      key,
    ])
  )[0];
}

/** Inserts a campaign; false when the key is taken in this org. */
export async function insertCampaign(
  db: Db,
  orgId: string,
  id: string,
  key: string,
  f: CampaignFields,
  now: Date,
): Promise<boolean> {
  const out = await db.query(
    `INSERT INTO campaigns (id, org_id, key, name, recipients_per_lead, static_recipient_ids, pool_recipient_ids,
       state_routing, static_optional, mode, sla_minutes, max_reassignments, created_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13)
     ON CONFLICT (org_id, key) DO NOTHING`,
    [
      id,
      orgId,
      key,
      f.name,
      f.recipientsPerLead,
      f.staticRecipientIds,
      f.poolRecipientIds,
      f.stateRouting,
      f.staticOptional,
      f.mode,
      f.slaMinutes,
      f.maxReassignments,
      now,
    ],
  );
  return (out.rowCount ?? 0) > 0;
}

export async function updateCampaign(
  db: Db,
  orgId: string,
  key: string,
  f: Partial<CampaignFields>,
  now: Date,
): Promise<void> {
  const sets: string[] = [];
  const values: unknown[] = [orgId, key, now];
  for (const [k, column] of Object.entries(COLUMN)) {
    if (!(k in f)) continue;
    values.push((f as Record<string, unknown>)[k]);
    sets.push(`${column} = $${values.length}`);
  }
  await db.query(
    `UPDATE campaigns SET ${[...sets, 'updated_at = $3'].join(', ')} WHERE org_id = $1 AND key = $2`,
    values,
  );
}
