/**
 * SLA decay (SPEC §3 campaign `slaMinutes`, `maxReassignments`): an `assigned` lead that nobody moved
 * to `contacted` within its campaign's SLA is taken from its recipients and given to others.
 *
 * Per overdue lead, oldest first, in its own transaction:
 *  1. Lock it, chosen `FOR UPDATE SKIP LOCKED` (concurrent runs take different leads; a lead someone is
 *     changing right now waits for the next run). The lock re-checks the condition: a lead contacted
 *     meanwhile is no longer `assigned` and is not taken. So a redelivered run finds nothing to do.
 *  2. Reassigned `maxReassignments` times already: it becomes `stale` — its assignments end with
 *     `sla_expired` and their capacity is returned (nobody works a stale lead; a manager reassigns it by
 *     hand), event `lead.status_changed`.
 *  3. Otherwise a new decision (`runAllocation` with `decay_reassign`, ending the open assignments with
 *     `sla_expired` and returning their capacity; previous holders are never chosen again), event
 *     `lead.reassigned`. When nobody else is eligible the attempt is rolled back to a savepoint: the
 *     current recipient keeps the lead, and the next run tries again.
 *
 * Lock order: the lead row, then recipients in ascending id order (inside runAllocation /
 * endAssignments) — the global order of docs/allocation.md.
 */
import { endAssignments, findCampaignByKey } from '../adapters/pg/allocation.js';
import { withTransaction } from '../adapters/pg/db.js';
import { insertEvents, type StoredEvent } from '../adapters/pg/events.js';
import { lockNextOverdueLeadId, orgsWithOverdueLeads, withSavepoint } from '../adapters/pg/jobs.js';
import { lockLead, setLeadStatus } from '../adapters/pg/leads.js';
import { clock } from '../clock.js';
import { assertTransition } from '../domain/leadStatus.js';
import type { JobTrigger } from '../adapters/pg/jobs.js';
import { DEFAULT_CAMPAIGN } from './allocateLead.js';
import { runJobForOrg, runScheduledJob, type JobDefinition } from './jobs.js';
import { publishEvents } from './publishEvents.js';
import { leadSummary, runAllocation } from './runAllocation.js';

/** Leads looked at per org per run at most; the rest wait for the next run. */
const MAX_LEADS_PER_RUN = 2_000;

type Outcome = 'reassigned' | 'stale' | 'kept';

/** Decays one overdue lead of the org; undefined when none is left (or all left were tried). */
async function decayNextLead(
  orgId: string,
  tried: string[],
): Promise<{ leadId: string; outcome: Outcome; events: StoredEvent[] } | undefined> {
  return withTransaction(async (db) => {
    const now = clock().now();
    const leadId = await lockNextOverdueLeadId(db, { orgId, now, skipLeadIds: tried });
    if (!leadId) return undefined;
    const lead = (await lockLead(db, orgId, leadId))!;
    const campaign = (await findCampaignByKey(db, orgId, lead.campaign ?? DEFAULT_CAMPAIGN))!;

    if (lead.reassignmentCount >= campaign.maxReassignments) {
      assertTransition(lead.status, 'stale', 'system');
      const ended = await endAssignments(db, {
        leadId,
        at: now,
        endReason: 'sla_expired',
        creditCapacity: true,
      });
      await setLeadStatus(db, { leadId, status: 'stale', reason: 'max_reassignments', at: now });
      const events = await insertEvents(
        db,
        [
          {
            orgId,
            type: 'lead.status_changed',
            leadId,
            data: {
              lead: leadSummary(lead, 'stale', 'max_reassignments'),
              from: lead.status,
              to: 'stale',
              endReason: 'sla_expired',
              endedRecipientIds: ended.map((e) => e.recipientId),
            },
          },
        ],
        now,
      );
      return { leadId, outcome: 'stale' as const, events };
    }

    assertTransition(lead.status, 'assigned', 'system');
    const outcome = await withSavepoint(
      db,
      'decay_reassign',
      () =>
        runAllocation(db, {
          lead,
          campaign,
          now,
          reasonOverride: 'decay_reassign',
          endOpen: { endReason: 'sla_expired' },
          eventType: 'lead.reassigned',
        }),
      (o) => o.decision.outcome === 'assigned',
    );
    if (outcome.decision.outcome !== 'assigned') return { leadId, outcome: 'kept' as const, events: [] };
    return { leadId, outcome: 'reassigned' as const, events: await insertEvents(db, outcome.events, now) };
  });
}

export const decayJob: JobDefinition = {
  orgsWithWork: (now) => orgsWithOverdueLeads(now),
  async runForOrg(orgId, budget) {
    const counts = { reassigned: 0, stale: 0, kept: 0 };
    const tried: string[] = [];
    while (!budget.outOfTime() && tried.length < MAX_LEADS_PER_RUN) {
      const done = await decayNextLead(orgId, tried);
      if (!done) break;
      tried.push(done.leadId);
      counts[done.outcome] += 1;
      await publishEvents(done.events);
    }
    return counts;
  },
};

/** One org now (an operator or an event), or every org with work (the schedule). */
export function runDecay(opts: { orgId?: string; trigger: JobTrigger; budgetMs: number }) {
  return opts.orgId
    ? runJobForOrg('decay', decayJob, { ...opts, orgId: opts.orgId })
    : runScheduledJob('decay', decayJob, opts);
}
