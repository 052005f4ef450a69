/**
 * Manual reassignment (`POST /api/leads/:id/reassign`), in one transaction:
 *
 *  1. Lock the lead; it must be in a state a lead can be reassigned from (assigned, unassigned,
 *     returned, stale, contacted).
 *  2. Named recipients: lock them together with the current holders (ascending id), end the current
 *     assignments (`endReason: manual`, capacity credited), then check each named recipient is active
 *     and has capacity — caps and quotas bind an admin too — and assign them with reason `manual`; the
 *     lead's trace becomes the admin's decision (tier and reason `manual`).
 *  3. No names: the campaign's rule chooses (never a previous holder; a static recipient that held it
 *     is skipped, not required), with the holders' capacity returned first. Its rotation picks carry
 *     reason `manual` (the trace keeps the rule's tiers), as decay's carry `decay_reassign`. Nobody eligible → 409 and nothing changes (the transaction rolls back).
 */
import {
  endAssignments,
  findCampaignByKey,
  insertAssignments,
  lockRecipientRows,
  openRecipientIds,
  readCandidates,
} from '../adapters/pg/allocation.js';
import { withTransaction, type Db } from '../adapters/pg/db.js';
import { insertEvents, type NewEvent } from '../adapters/pg/events.js';
import { lockLead, setLeadStatus, type LeadRow } from '../adapters/pg/leads.js';
import { clock } from '../clock.js';
import type { TraceEntry } from '../domain/allocation.js';
import { ConflictError, NotFoundError, ValidationError } from '../domain/errors.js';
import { DEFAULT_CAMPAIGN } from './allocateLead.js';
import { publishEvents } from './publishEvents.js';
import { leadSummary, runAllocation } from './runAllocation.js';

const REASSIGNABLE = new Set(['assigned', 'unassigned', 'returned', 'stale', 'contacted']);

export interface ReassignResult {
  leadId: string;
  status: 'assigned';
  assignments: { recipientId: string; name: string; reason: string }[];
  endedRecipientIds: string[];
}

export async function reassignLead(
  orgId: string,
  leadId: string,
  recipientIds?: string[],
): Promise<ReassignResult> {
  const now = clock().now();
  const { result, events } = await withTransaction(async (db) => {
    const lead = await lockLead(db, orgId, leadId);
    if (!lead) throw new NotFoundError('Lead not found');
    if (!REASSIGNABLE.has(lead.status)) throw new ConflictError(`A ${lead.status} lead cannot be reassigned`);
    return recipientIds && recipientIds.length > 0
      ? assignNamed(db, lead, [...new Set(recipientIds)], now)
      : assignByRule(db, lead, now);
  });
  await publishEvents(events);
  return result;
}

async function assignNamed(db: Db, lead: LeadRow, named: string[], now: Date) {
  const holders = await openRecipientIds(db, lead.id);
  const locked = await lockRecipientRows(db, lead.orgId, [...named, ...holders]);
  const missing = named.filter((id) => !locked.includes(id));
  if (missing.length > 0) {
    throw new ValidationError(
      missing.map((id) => ({
        field: `recipientIds.${named.indexOf(id)}`,
        message: `Unknown recipient ${id}`,
      })),
    );
  }
  const ended = await endAssignments(db, {
    leadId: lead.id,
    at: now,
    endReason: 'manual',
    creditCapacity: true,
  });
  // Read after crediting: a holder named again gets its own returned capacity back.
  const candidates = await readCandidates(db, named, now, null);
  const problems = candidates.flatMap((c) => {
    if (!c.active) return [`${c.name} is paused`];
    if (c.dailyCap !== null && c.assignedToday >= c.dailyCap) return [`${c.name} is at its daily cap`];
    if (c.quotaRemaining !== null && c.quotaRemaining <= 0) return [`${c.name} has no quota left`];
    return [];
  });
  if (problems.length > 0) throw new ConflictError(`Cannot assign: ${problems.join('; ')}`);
  await insertAssignments(db, {
    orgId: lead.orgId,
    leadId: lead.id,
    at: now,
    assignments: candidates.map((c) => ({
      recipientId: c.id,
      reason: 'manual',
      localDay: c.localDay,
      quotaEpoch: c.quotaEpoch,
    })),
  });
  // The decision in effect is the admin's: the trace says so, replacing the rule's earlier one.
  const trace: TraceEntry[] = candidates.map((c) => ({
    recipientId: c.id,
    name: c.name,
    tier: 'manual',
    reason: 'manual',
    selected: true,
  }));
  await setLeadStatus(db, {
    leadId: lead.id,
    status: 'assigned',
    reason: null,
    trace,
    at: now,
    reassignmentIncrement: holders.length > 0 ? 1 : 0,
  });
  const assignments = candidates.map((c) => ({ recipientId: c.id, name: c.name, reason: 'manual' }));
  const endedRecipientIds = ended.flatMap((e) => (e.recipientId ? [e.recipientId] : []));
  const event: NewEvent = {
    orgId: lead.orgId,
    type: 'lead.reassigned',
    leadId: lead.id,
    data: { lead: leadSummary(lead, 'assigned', null), assignments, endedRecipientIds, by: 'manual' },
  };
  return {
    result: { leadId: lead.id, status: 'assigned' as const, assignments, endedRecipientIds },
    events: await insertEvents(db, [event], now),
  };
}

async function assignByRule(db: Db, lead: LeadRow, now: Date) {
  const campaign = await findCampaignByKey(db, lead.orgId, lead.campaign ?? DEFAULT_CAMPAIGN);
  if (!campaign)
    throw new ConflictError(`Campaign "${lead.campaign}" does not exist; name the recipients to assign`);
  const holders = await openRecipientIds(db, lead.id);
  const outcome = await runAllocation(db, {
    lead,
    campaign,
    now,
    endOpen: { endReason: 'manual' },
    // Like decay's `decay_reassign`: the rule chose whom, an admin's reassignment is why.
    reasonOverride: 'manual',
    eventType: 'lead.reassigned',
    onlyIfAssigned: true,
  });
  if (outcome.decision.outcome !== 'assigned') {
    throw new ConflictError(
      'No eligible recipient for this lead right now (see GET /api/leads/:id for the trace)',
    );
  }
  return {
    result: {
      leadId: lead.id,
      status: 'assigned' as const,
      assignments: outcome.assigned,
      endedRecipientIds: holders,
    },
    events: await insertEvents(db, outcome.events, now),
  };
}
