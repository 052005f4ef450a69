/** Campaign administration: every referenced recipient must belong to the org. */
import { v7 as uuidv7 } from 'uuid';
import {
  getCampaign,
  insertCampaign,
  updateCampaign,
  type CampaignFields,
} from '../adapters/pg/campaigns.js';
import type { CampaignRow } from '../adapters/pg/allocation.js';
import { withTransaction } from '../adapters/pg/db.js';
import { insertEvents } from '../adapters/pg/events.js';
import { existingRecipientIds } from '../adapters/pg/recipients.js';
import { clock } from '../clock.js';
import { ConflictError, NotFoundError, ValidationError } from '../domain/errors.js';
import { publishEvents } from './publishEvents.js';

export function campaignView(c: CampaignRow) {
  const { orgId: _org, ...view } = c;
  return view;
}

async function checkMembers(orgId: string, f: Partial<CampaignFields>): Promise<void> {
  const lists = {
    staticRecipientIds: f.staticRecipientIds ?? [],
    poolRecipientIds: f.poolRecipientIds ?? [],
  };
  const known = await existingRecipientIds(orgId, [...lists.staticRecipientIds, ...lists.poolRecipientIds]);
  const issues = Object.entries(lists).flatMap(([field, ids]) =>
    ids.flatMap((id, i) =>
      known.has(id) ? [] : [{ field: `${field}.${i}`, message: `Unknown recipient ${id}` }],
    ),
  );
  if (issues.length > 0) throw new ValidationError(issues, 'Unknown recipients');
}

/**
 * Static recipients get every lead of the campaign, so there can be at most k of them: with more, some
 * would never get a lead although the rule promises statics are always included.
 */
function checkStaticsFit(f: Pick<CampaignFields, 'staticRecipientIds' | 'recipientsPerLead'>): void {
  const statics = new Set(f.staticRecipientIds).size;
  if (statics <= f.recipientsPerLead) return;
  const message = `${statics} static recipients but recipientsPerLead is ${f.recipientsPerLead}: every static recipient gets every lead, so a campaign can have at most recipientsPerLead of them`;
  throw new ValidationError([{ field: 'staticRecipientIds', message }], message);
}

export async function createCampaign(
  orgId: string,
  key: string,
  fields: CampaignFields,
): Promise<CampaignRow> {
  checkStaticsFit(fields);
  await checkMembers(orgId, fields);
  const now = clock().now();
  const events = await withTransaction(async (db) => {
    if (!(await insertCampaign(db, orgId, uuidv7(), key, fields, now))) {
      throw new ConflictError(`A campaign with key "${key}" exists`);
    }
    return insertEvents(db, [{ orgId, type: 'campaign.created', data: { key } }], now);
  });
  await publishEvents(events);
  return (await getCampaign(orgId, key))!;
}

export async function patchCampaign(
  orgId: string,
  key: string,
  patch: Partial<CampaignFields>,
): Promise<CampaignRow> {
  const current = await getCampaign(orgId, key);
  if (!current) throw new NotFoundError('Campaign not found');
  checkStaticsFit({
    staticRecipientIds: patch.staticRecipientIds ?? current.staticRecipientIds,
    recipientsPerLead: patch.recipientsPerLead ?? current.recipientsPerLead,
  });
  await checkMembers(orgId, patch);
  const now = clock().now();
  const events = await withTransaction(async (db) => {
    await updateCampaign(db, orgId, key, patch, now);
    return insertEvents(db, [{ orgId, type: 'campaign.updated', data: { key } }], now);
  });
  await publishEvents(events);
  return (await getCampaign(orgId, key))!;
}
