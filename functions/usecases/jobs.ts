/**
 * Scheduled jobs (SLA decay, backlog retry, imports): each runs per org, and every run is recorded.
 *
 * EventBridge delivers at least once and an operator may press "run now" during a scheduled run; the
 * (job, org) lease turns the second one into a recorded `skipped` run instead of a second worker, and
 * the jobs themselves claim leads `FOR UPDATE SKIP LOCKED`, so even runs that do overlap (a lease that
 * ran out under a stalled run) never process a lead twice.
 *
 * Records: one `job_runs` row per org a run worked for (what `GET /api/jobs/runs` shows the org, under
 * row-level security), and for a scheduled invocation one more row without an org that sums it up for
 * operators.
 */
import { v7 as uuidv7 } from 'uuid';
import {
  acquireJobLease,
  finishJobRun,
  insertJobRun,
  listJobRuns,
  releaseJobLease,
  type JobRunRow,
  type JobTrigger,
} from '../adapters/pg/jobs.js';
import { clock } from '../clock.js';
import { logger } from '../powertools.js';

export type OrgResult = Record<string, number>;

/** Wall-clock time left to a run. */
export interface Budget {
  outOfTime(): boolean;
  remainingMs(): number;
}

export interface JobDefinition {
  /** Orgs with work now (for a scheduled run over every org). */
  orgsWithWork(now: Date): Promise<string[]>;
  /** Does the org's work until done or out of time; returns its counts. */
  runForOrg(orgId: string, budget: Budget): Promise<OrgResult>;
}

/** A run's lease outlives its time budget by this much. */
const LEASE_MARGIN_SECONDS = 60;

function budgetOf(budgetMs: number): Budget {
  const started = performance.now();
  return {
    remainingMs: () => budgetMs - (performance.now() - started),
    outOfTime: () => performance.now() - started > budgetMs,
  };
}

/** Runs the job for one org under its (job, org) lease and records the run. */
async function runForOrg(
  job: string,
  definition: JobDefinition,
  orgId: string,
  trigger: JobTrigger,
  budget: Budget,
): Promise<JobRunRow> {
  const id = uuidv7();
  await insertJobRun({ id, job, orgId, trigger, status: 'running', startedAt: clock().now() });
  const leased = await acquireJobLease({
    job,
    orgId,
    runId: id,
    leaseSeconds: Math.ceil(Math.max(0, budget.remainingMs()) / 1000) + LEASE_MARGIN_SECONDS,
  });
  if (!leased)
    return finishJobRun({
      id,
      status: 'skipped',
      result: {},
      error: 'Another run of this job is in progress for this organization',
      finishedAt: clock().now(),
    });
  try {
    const result = await definition.runForOrg(orgId, budget);
    return await finishJobRun({ id, status: 'succeeded', result, error: null, finishedAt: clock().now() });
  } catch (error) {
    logger.error('Job failed', { job, orgId, runId: id, error: error as Error });
    return finishJobRun({
      id,
      status: 'failed',
      result: {},
      error: `Internal error (run ${id}); the next run retries`,
      finishedAt: clock().now(),
    });
  } finally {
    await releaseJobLease({ job, orgId, runId: id });
  }
}

/** Runs the job for one org now (an operator, or an event such as a quota reset). */
export function runJobForOrg(
  job: string,
  definition: JobDefinition,
  opts: { orgId: string; trigger: JobTrigger; budgetMs: number },
): Promise<JobRunRow> {
  return runForOrg(job, definition, opts.orgId, opts.trigger, budgetOf(opts.budgetMs));
}

/**
 * The scheduled invocation: every org with work, one after the other, within `budgetMs` of wall-clock
 * time (orgs not reached wait for the next tick). Returns the summary row.
 */
export async function runScheduledJob(
  job: string,
  definition: JobDefinition,
  opts: { budgetMs: number },
): Promise<JobRunRow> {
  const budget = budgetOf(opts.budgetMs);
  const id = uuidv7();
  const startedAt = clock().now();
  await insertJobRun({ id, job, orgId: null, trigger: 'schedule', status: 'running', startedAt });
  const summary = { orgs: 0, skipped: 0, failed: 0, notReached: 0 };
  const totals: Record<string, number> = {};
  let failed = false;
  try {
    for (const orgId of await definition.orgsWithWork(startedAt)) {
      if (budget.outOfTime()) {
        summary.notReached += 1;
        continue;
      }
      const run = await runForOrg(job, definition, orgId, 'schedule', budget);
      summary.orgs += 1;
      if (run.status === 'skipped') summary.skipped += 1;
      if (run.status === 'failed') summary.failed += 1;
      for (const [key, value] of Object.entries(run.result))
        if (typeof value === 'number') totals[key] = (totals[key] ?? 0) + value;
    }
  } catch (error) {
    failed = true;
    logger.error('Scheduled job failed', { job, runId: id, error: error as Error });
  }
  return finishJobRun({
    id,
    status: failed ? 'failed' : 'succeeded',
    result: { ...summary, totals },
    error: failed ? `Internal error (run ${id})` : null,
    finishedAt: clock().now(),
  });
}

export function jobRunView(run: JobRunRow) {
  const { orgId: _org, ...view } = run;
  return view;
}

export async function listJobRunViews(
  orgId: string,
  filter: { job?: string; limit: number; before?: { startedAt: string; id: string } },
) {
  const rows = await listJobRuns(orgId, { ...filter, limit: filter.limit + 1 });
  return { rows: rows.slice(0, filter.limit).map(jobRunView), more: rows.length > filter.limit };
}

/** Wall-clock budget for a scheduled invocation: what the Lambda has left, less time to record the run. */
export function budgetFrom(context: { getRemainingTimeInMillis(): number } | undefined, fallbackMs = 50_000) {
  const left = context?.getRemainingTimeInMillis() ?? fallbackMs;
  return Math.max(1_000, left - 10_000);
}
