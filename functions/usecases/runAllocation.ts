/**
 * One allocation decision inside an open transaction, shared by every path that assigns a lead to
 * recipients: a new lead from the queue, a manual reassign, SLA decay and backlog retry.
 *
 * Steps (the lead row is already locked by the caller):
 *  1. Lock the campaign's candidate recipients in ascending id order and read their counters.
 *  2. Seed rotation state for members new to the campaign's pool (at their fair share, so a newcomer
 *     is not flooded with every lead until it "catches up").
 *  3. Decide with the pure rule (`decideAllocation`).
 *  4. Write assignments, counters, rotation state and the lead's status, and return the events to insert.
 */
import {
  endAssignments,
  insertAssignments,
  lockCandidates,
  openRecipientIds,
  previousRecipientIds,
  saveRotation,
  type CampaignRow,
  type LockedCandidate,
} from '../adapters/pg/allocation.js';
import type { Db } from '../adapters/pg/db.js';
import type { NewEvent } from '../adapters/pg/events.js';
import { findReturningRecipient, setLeadStatus, type LeadRow } from '../adapters/pg/leads.js';
import { decideAllocation, type AllocationDecision } from '../domain/allocation.js';
import type { AssignmentReason } from '../domain/types.js';

export interface AllocationOutcome {
  decision: AllocationDecision;
  events: NewEvent[];
  assigned: { recipientId: string; name: string; reason: AssignmentReason }[];
}

export function leadSummary(lead: LeadRow, status: string, reason: string | null) {
  return {
    id: lead.id,
    status,
    reason,
    firstName: lead.firstName,
    lastName: lead.lastName,
    state: lead.state,
    campaign: lead.campaign,
    receivedAt: lead.receivedAt,
  };
}

/**
 * Rotation picks a member new to the campaign's pool starts with: its weighted share of what the
 * existing members have had (zero when the rotation is new), so that a newcomer is not sent every
 * lead until it "catches up".
 */
function seedPicks(members: LockedCandidate[]): Map<string, number> {
  const known = members.filter((m) => m.inRotation);
  const perWeight =
    known.length === 0 ? 0 : known.reduce((sum, m) => sum + m.rotationPicks / m.weight, 0) / known.length;
  const seeds = new Map<string, number>();
  for (const m of members) if (!m.inRotation) seeds.set(m.id, Math.floor(perWeight * m.weight));
  return seeds;
}

export async function runAllocation(
  db: Db,
  input: {
    lead: LeadRow;
    campaign: CampaignRow;
    now: Date;
    reasonOverride?: AssignmentReason;
    /** End these open assignments first (reassignment), returning their capacity. */
    endOpen?: { endReason: string };
    eventType?: 'lead.assigned' | 'lead.reassigned';
    /**
     * Retries (backlog): when nobody is eligible, write nothing at all — no new trace, no event — so
     * a lead waiting for capacity does not produce an event on every retry.
     */
    onlyIfAssigned?: boolean;
  },
): Promise<AllocationOutcome> {
  const { lead, campaign, now } = input;
  const holders = input.endOpen ? await openRecipientIds(db, lead.id) : [];
  const locked = await lockCandidates(db, campaign, now, holders);
  const members = new Set([...campaign.staticRecipientIds, ...(campaign.poolRecipientIds ?? [])]);
  const candidates = locked.filter((c) => campaign.poolRecipientIds === null || members.has(c.id));

  const ended = input.endOpen
    ? await endAssignments(db, {
        leadId: lead.id,
        at: now,
        endReason: input.endOpen.endReason,
        creditCapacity: true,
      })
    : [];

  const seeds = seedPicks(
    candidates.filter((c) => campaign.poolRecipientIds === null || campaign.poolRecipientIds.includes(c.id)),
  );
  for (const c of candidates) {
    const seeded = seeds.get(c.id);
    if (seeded !== undefined) c.rotationPicks = seeded;
  }

  const previous = input.endOpen ? await previousRecipientIds(db, lead.id) : [];
  const returningRecipientId = await findReturningRecipient(db, lead.orgId, lead.phone, lead.id);
  const staticIds = new Set(campaign.staticRecipientIds);
  const decision = decideAllocation({
    lead: { id: lead.id, state: lead.state, previousRecipientIds: previous, returningRecipientId },
    campaign: {
      key: campaign.key,
      recipientsPerLead: campaign.recipientsPerLead,
      staticRecipientIds: campaign.staticRecipientIds,
      poolRecipientIds: (
        campaign.poolRecipientIds ?? candidates.filter((c) => c.active).map((c) => c.id)
      ).filter((id) => !staticIds.has(id)),
      stateRouting: campaign.stateRouting,
      staticOptional: campaign.staticOptional,
    },
    candidates,
    now,
    reasonOverride: input.reasonOverride,
  });

  const byId = new Map(candidates.map((c) => [c.id, c]));
  const rotation = new Map<string, { recipientId: string; picks: number; lastPickedAt: Date | null }>();
  for (const [id, picks] of seeds)
    rotation.set(id, { recipientId: id, picks, lastPickedAt: byId.get(id)?.lastPickedAt ?? null });

  const events: NewEvent[] = [];
  if (decision.outcome === 'assigned') {
    const writes = decision.picks.map((p) => {
      const c = byId.get(p.recipientId)!;
      if (p.rotates) {
        c.rotationPicks += 1;
        rotation.set(c.id, { recipientId: c.id, picks: c.rotationPicks, lastPickedAt: now });
      }
      return { recipientId: c.id, reason: p.reason, localDay: c.localDay, quotaEpoch: c.quotaEpoch };
    });
    await insertAssignments(db, { orgId: lead.orgId, leadId: lead.id, at: now, assignments: writes });
    await saveRotation(db, campaign.id, [...rotation.values()]);
    await setLeadStatus(db, {
      leadId: lead.id,
      status: 'assigned',
      reason: null,
      trace: decision.trace,
      at: now,
      reassignmentIncrement: input.endOpen ? 1 : 0,
    });
    const assigned = decision.picks.map((p) => ({
      recipientId: p.recipientId,
      name: byId.get(p.recipientId)!.name,
      reason: p.reason,
    }));
    events.push({
      orgId: lead.orgId,
      type: input.eventType ?? 'lead.assigned',
      leadId: lead.id,
      data: {
        lead: leadSummary(lead, 'assigned', null),
        assignments: assigned,
        endedRecipientIds: ended.map((e) => e.recipientId),
      },
    });
    return { decision, events, assigned };
  }

  // A retry that found nobody writes nothing: no new trace, no event, no rotation seeds.
  if (input.onlyIfAssigned) return { decision, events: [], assigned: [] };
  await saveRotation(db, campaign.id, [...rotation.values()]);
  await setLeadStatus(db, {
    leadId: lead.id,
    status: 'unassigned',
    reason: decision.reason,
    trace: decision.trace,
    at: now,
  });
  events.push({
    orgId: lead.orgId,
    type: 'lead.unassigned',
    leadId: lead.id,
    data: { lead: leadSummary(lead, 'unassigned', decision.reason), trace: decision.trace },
  });
  return { decision, events, assigned: [] };
}
