/**
 * `POST /api/campaigns/:key/simulate`: what the rule would do now with these leads, in order — each
 * simulated lead sees the capacity and rotation the previous ones used — through the real allocation
 * code inside a transaction that is rolled back, so nothing is committed and no event is sent.
 * Optional rule overrides answer "what if" before saving an edit. Phones and states are normalised by
 * the request schema as the webhook normalises them, so a returning contact is recognised in any format;
 * a stock campaign answers `unassigned`/`stock` for every lead, as the allocator would.
 */
import { v7 as uuidv7 } from 'uuid';
import { findCampaignByKey, type CampaignRow } from '../adapters/pg/allocation.js';
import { withRollback } from '../adapters/pg/db.js';
import { insertLeadIfAbsent, lockLead } from '../adapters/pg/leads.js';
import { clock } from '../clock.js';
import { NotFoundError } from '../domain/errors.js';
import type { TraceEntry } from '../domain/allocation.js';
import { runAllocation } from './runAllocation.js';

export interface SimulatedLead {
  state?: string | null;
  phone?: string | null;
}

export interface SimulationResult {
  index: number;
  state: string | null;
  outcome: 'assigned' | 'unassigned';
  reason: string | null;
  assignments: { recipientId: string; name: string; reason: string }[];
  trace: TraceEntry[];
}

export type CampaignOverrides = Partial<
  Pick<
    CampaignRow,
    | 'recipientsPerLead'
    | 'staticRecipientIds'
    | 'poolRecipientIds'
    | 'stateRouting'
    | 'staticOptional'
    | 'mode'
  >
>;

export async function simulateCampaign(
  orgId: string,
  key: string,
  leads: SimulatedLead[],
  overrides: CampaignOverrides = {},
): Promise<{ campaign: string; results: SimulationResult[] }> {
  const now = clock().now();
  return withRollback(async (db) => {
    const stored = await findCampaignByKey(db, orgId, key);
    if (!stored) throw new NotFoundError('Campaign not found');
    const campaign: CampaignRow = { ...stored, ...overrides };
    const results: SimulationResult[] = [];
    for (const [index, input] of leads.entries()) {
      const id = uuidv7();
      await insertLeadIfAbsent(db, {
        id,
        orgId,
        sourceId: null,
        receivedAt: now,
        lead: {
          phone: input.phone ?? '',
          email: null,
          firstName: null,
          lastName: null,
          state: input.state ?? null,
          zip: null,
          campaign: key,
          externalId: null,
          attributes: {},
        },
      });
      const lead = (await lockLead(db, orgId, id))!;
      if (campaign.mode === 'stock') {
        // A stock campaign never pushes: its leads wait for orders, exactly as the allocator files them.
        results.push({
          index,
          state: lead.state,
          outcome: 'unassigned',
          reason: 'stock',
          assignments: [],
          trace: [],
        });
        continue;
      }
      const outcome = await runAllocation(db, { lead, campaign, now });
      results.push({
        index,
        state: lead.state,
        outcome: outcome.decision.outcome,
        reason: outcome.decision.outcome === 'unassigned' ? outcome.decision.reason : null,
        assignments: outcome.assigned,
        trace: outcome.decision.trace,
      });
    }
    return { campaign: key, results };
  });
}
