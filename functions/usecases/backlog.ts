/**
 * Backlog retry (SPEC §2, §3): leads of push campaigns left `unassigned` because nobody was eligible
 * (`no_eligible_recipient`) are allocated again, oldest first, when capacity may have appeared — on a
 * schedule (every 5 minutes, which covers each recipient's local midnight) and right after a quota
 * reset, a new recipient or a recipient re-activated or given more capacity.
 *
 * Per waiting lead, oldest first, in its own transaction:
 *  1. Lock it, chosen `FOR UPDATE SKIP LOCKED`, re-checking that it is still waiting (an order may have
 *     sold it meanwhile).
 *  2. `runAllocation` with `backlog_retry` under a savepoint. Nobody eligible: roll back to the
 *     savepoint, so a waiting lead gets no new trace or event on every retry.
 *  3. When the failure was not about this lead (every candidate capped, out of quota, paused or off
 *     hours — nothing a later lead could get past), the campaign has no capacity now: its later leads
 *     are not tried in this run, so a run does not scan a whole backlog it cannot place. A lead that
 *     failed for its own reasons (its state, its earlier recipients) does not stop the others behind it.
 */
import { findCampaignByKey } from '../adapters/pg/allocation.js';
import { withTransaction } from '../adapters/pg/db.js';
import { insertEvents, type StoredEvent } from '../adapters/pg/events.js';
import { hasBacklog, lockNextBacklogLeadId, orgsWithBacklog, withSavepoint } from '../adapters/pg/jobs.js';
import type { JobTrigger } from '../adapters/pg/jobs.js';
import { lockLead } from '../adapters/pg/leads.js';
import { clock } from '../clock.js';
import type { TraceEntry } from '../domain/allocation.js';
import { logger } from '../powertools.js';
import { DEFAULT_CAMPAIGN } from './allocateLead.js';
import { runJobForOrg, runScheduledJob, type JobDefinition } from './jobs.js';
import { publishEvents } from './publishEvents.js';
import { runAllocation } from './runAllocation.js';

/** Leads tried per org per run at most. */
const MAX_LEADS_PER_RUN = 5_000;
/** A retry right after an event (quota reset, recipient change) spends at most this much of its request. */
const EVENT_BUDGET_MS = 3_000;

/** Exclusions that depend on the lead, not on the recipients' capacity. */
const LEAD_SPECIFIC = new Set(['state', 'already_assigned']);

/** True when no candidate was left out for a reason specific to this lead: no later lead would fare better. */
export function campaignHasNoCapacity(trace: TraceEntry[]): boolean {
  return trace.every((entry) => !LEAD_SPECIFIC.has(entry.reason));
}

type Attempt =
  | { leadId: string; assigned: true; events: StoredEvent[] }
  | { leadId: string; assigned: false; campaign: string; noCapacity: boolean };

async function retryNextLead(
  orgId: string,
  skipCampaigns: string[],
  tried: string[],
): Promise<Attempt | undefined> {
  return withTransaction(async (db) => {
    const leadId = await lockNextBacklogLeadId(db, { orgId, skipCampaigns, skipLeadIds: tried });
    if (!leadId) return undefined;
    const now = clock().now();
    const lead = (await lockLead(db, orgId, leadId))!;
    const campaign = (await findCampaignByKey(db, orgId, lead.campaign ?? DEFAULT_CAMPAIGN))!;
    const outcome = await withSavepoint(
      db,
      'backlog_retry',
      () => runAllocation(db, { lead, campaign, now, reasonOverride: 'backlog_retry', onlyIfAssigned: true }),
      (o) => o.decision.outcome === 'assigned',
    );
    if (outcome.decision.outcome !== 'assigned')
      return {
        leadId,
        assigned: false as const,
        campaign: campaign.key,
        noCapacity: campaignHasNoCapacity(outcome.decision.trace),
      };
    return { leadId, assigned: true as const, events: await insertEvents(db, outcome.events, now) };
  });
}

export const backlogJob: JobDefinition = {
  orgsWithWork: () => orgsWithBacklog(),
  async runForOrg(orgId, budget) {
    const counts = { assigned: 0, stillWaiting: 0, campaignsWithoutCapacity: 0 };
    const tried: string[] = [];
    const exhausted: string[] = [];
    while (!budget.outOfTime() && tried.length < MAX_LEADS_PER_RUN) {
      const attempt = await retryNextLead(orgId, exhausted, tried);
      if (!attempt) break;
      tried.push(attempt.leadId);
      if (attempt.assigned) {
        counts.assigned += 1;
        await publishEvents(attempt.events);
      } else {
        counts.stillWaiting += 1;
        if (attempt.noCapacity) exhausted.push(attempt.campaign);
      }
    }
    counts.campaignsWithoutCapacity = exhausted.length;
    return counts;
  },
};

/** One org now (an operator or an event), or every org with work (the schedule). */
export function runBacklog(opts: { orgId?: string; trigger: JobTrigger; budgetMs: number }) {
  return opts.orgId
    ? runJobForOrg('backlog', backlogJob, { ...opts, orgId: opts.orgId })
    : runScheduledJob('backlog', backlogJob, opts);
}

/**
 * Capacity may have appeared in the org (quota reset, new or re-activated recipient): retry its backlog
 * now, briefly. Called after the change committed; never fails the caller — the scheduled run is the
 * safety net for whatever this one does not reach.
 */
export async function retryBacklogSoon(orgId: string, cause: string): Promise<void> {
  try {
    if (!(await hasBacklog(orgId))) return;
    await runBacklog({ orgId, trigger: 'event', budgetMs: EVENT_BUDGET_MS });
  } catch (error) {
    logger.warn('Backlog retry after a change failed; the scheduled run will retry', {
      orgId,
      cause,
      error: error as Error,
    });
  }
}
