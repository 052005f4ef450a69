/**
 * One allocation decision, shared by every path that assigns a lead to recipients: new leads from the
 * queue (`allocateLead.ts`, many decisions per transaction), a manual reassign, SLA decay and backlog
 * retry (`runAllocation`, one decision inside the caller's transaction).
 *
 * `planAllocation` is the in-memory half, given a snapshot of the candidates taken under their locks:
 *  1. Seed rotation state for members new to the campaign's pool (at their fair share, so a newcomer
 *     is not flooded with every lead until it "catches up").
 *  2. Decide with the pure rule (`decideAllocation`).
 *  3. Return what to write (assignments, rotation rows, the lead's status and trace) and the events.
 * `writeAllocations` (adapters/pg/allocation.ts) is the one write implementation: one statement for
 * any number of plans.
 *
 * `runAllocation` (the lead row is already locked by the caller): look up the returning contact,
 * lock the campaign's candidate recipients in ascending id order and read their counters, end open
 * assignments when reassigning, plan, write.
 */
import {
  endAssignments,
  findReturningContact,
  lockCandidates,
  openRecipientIds,
  previousRecipientIds,
  writeAllocations,
  type AllocationWrite,
  type CampaignRow,
  type LockedCandidate,
  type RotationWrite,
} from '../adapters/pg/allocation.js';
import type { Db } from '../adapters/pg/db.js';
import type { NewEvent } from '../adapters/pg/events.js';
import type { LeadRow } from '../adapters/pg/leads.js';
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

export interface PlanInput {
  lead: LeadRow;
  campaign: CampaignRow;
  /**
   * The locked recipients of the campaign (static members, pool members, or every active recipient
   * when the pool is unset), each a fresh object: seeding and picks change them.
   */
  candidates: LockedCandidate[];
  now: Date;
  /** Recipients that held this lead before (reassignment). */
  previousRecipientIds: string[];
  returningRecipientId: string | null;
  reasonOverride?: AssignmentReason;
  eventType?: 'lead.assigned' | 'lead.reassigned';
  /** Set when the lead's open assignments were ended for this decision (reassignment). */
  endedRecipientIds?: (string | null)[];
  onlyIfAssigned?: boolean;
}

export interface AllocationPlan extends AllocationOutcome {
  /** What to write; null when nothing is (a retry that found nobody, `onlyIfAssigned`). */
  write: AllocationWrite | null;
}

/** The in-memory half of a decision: seeds, the rule, and what to write. Pure given its input. */
export function planAllocation(input: PlanInput): AllocationPlan {
  const { lead, campaign, candidates, now } = input;
  const seeds = seedPicks(
    candidates.filter((c) => campaign.poolRecipientIds === null || campaign.poolRecipientIds.includes(c.id)),
  );
  for (const c of candidates) {
    const seeded = seeds.get(c.id);
    if (seeded !== undefined) c.rotationPicks = seeded;
  }

  const staticIds = new Set(campaign.staticRecipientIds);
  const decision = decideAllocation({
    lead: {
      id: lead.id,
      state: lead.state,
      previousRecipientIds: input.previousRecipientIds,
      returningRecipientId: input.returningRecipientId,
    },
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
  const rotation = new Map<string, RotationWrite>();
  for (const [id, picks] of seeds)
    rotation.set(id, {
      campaignId: campaign.id,
      recipientId: id,
      picks,
      lastPickedAt: byId.get(id)?.lastPickedAt ?? null,
    });

  if (decision.outcome === 'assigned') {
    const assignments = decision.picks.map((p) => {
      const c = byId.get(p.recipientId)!;
      if (p.rotates) {
        c.rotationPicks += 1;
        rotation.set(c.id, {
          campaignId: campaign.id,
          recipientId: c.id,
          picks: c.rotationPicks,
          lastPickedAt: now,
        });
      }
      return { recipientId: c.id, reason: p.reason, localDay: c.localDay, quotaEpoch: c.quotaEpoch };
    });
    const assigned = decision.picks.map((p) => ({
      recipientId: p.recipientId,
      name: byId.get(p.recipientId)!.name,
      reason: p.reason,
    }));
    return {
      decision,
      assigned,
      write: {
        orgId: lead.orgId,
        leadId: lead.id,
        status: 'assigned',
        reason: null,
        trace: decision.trace,
        reassignmentIncrement: input.endedRecipientIds ? 1 : 0,
        assignments,
        rotation: [...rotation.values()],
      },
      events: [
        {
          orgId: lead.orgId,
          type: input.eventType ?? 'lead.assigned',
          leadId: lead.id,
          data: {
            lead: leadSummary(lead, 'assigned', null),
            assignments: assigned,
            endedRecipientIds: input.endedRecipientIds ?? [],
          },
        },
      ],
    };
  }

  // A retry that found nobody writes nothing: no new trace, no event, no rotation seeds.
  if (input.onlyIfAssigned) return { decision, events: [], assigned: [], write: null };
  return {
    decision,
    assigned: [],
    write: {
      orgId: lead.orgId,
      leadId: lead.id,
      status: 'unassigned',
      reason: decision.reason,
      trace: decision.trace,
      reassignmentIncrement: 0,
      assignments: [],
      rotation: [...rotation.values()],
    },
    events: [
      {
        orgId: lead.orgId,
        type: 'lead.unassigned',
        leadId: lead.id,
        data: { lead: leadSummary(lead, 'unassigned', decision.reason), trace: decision.trace },
      },
    ],
  };
}

/**
 * The candidates of a campaign among locked recipients: its static and pool members, or, when its
 * pool is unset, its static members and every active recipient (what `lockCandidates` locks).
 */
export function campaignCandidates<T extends { id: string; active: boolean }>(
  campaign: CampaignRow,
  locked: T[],
): T[] {
  if (campaign.poolRecipientIds === null) {
    const statics = new Set(campaign.staticRecipientIds);
    return locked.filter((c) => c.active || statics.has(c.id));
  }
  const members = new Set([...campaign.staticRecipientIds, ...campaign.poolRecipientIds]);
  return locked.filter((c) => members.has(c.id));
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
  // Read before the recipient locks: nothing they protect (the lead row, locked by the caller, is).
  const returningRecipientId = await findReturningContact(db, lead.orgId, lead.phone, lead.id);
  const previous = input.endOpen ? await previousRecipientIds(db, lead.id) : [];
  const holders = input.endOpen ? await openRecipientIds(db, lead.id) : [];
  const locked = await lockCandidates(db, campaign, now, holders);
  const candidates = campaign.poolRecipientIds === null ? locked : campaignCandidates(campaign, locked);

  const ended = input.endOpen
    ? await endAssignments(db, {
        leadId: lead.id,
        at: now,
        endReason: input.endOpen.endReason,
        creditCapacity: true,
      })
    : [];

  const plan = planAllocation({
    lead,
    campaign,
    candidates,
    now,
    previousRecipientIds: previous,
    returningRecipientId,
    reasonOverride: input.reasonOverride,
    eventType: input.eventType,
    endedRecipientIds: input.endOpen ? ended.map((e) => e.recipientId) : undefined,
    onlyIfAssigned: input.onlyIfAssigned,
  });
  if (plan.write) await writeAllocations(db, { at: now, writes: [plan.write], events: [] });
  return { decision: plan.decision, events: plan.events, assigned: plan.assigned };
}
