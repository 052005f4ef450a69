/**
 * Scheduled jobs' bookkeeping (runs, per-org leases) and the claims SLA decay and backlog retry make:
 * one lead per transaction, chosen `FOR UPDATE SKIP LOCKED`, so concurrent runs never take the same lead
 * and neither waits on a lead someone else (the allocator, a status change) is working on.
 */
import { read, type Db } from './db.js';

export type JobTrigger = 'schedule' | 'manual' | 'event';
export type JobStatus = 'running' | 'succeeded' | 'failed' | 'skipped';

export interface JobRunRow {
  id: string;
  job: string;
  orgId: string | null;
  trigger: JobTrigger;
  status: JobStatus;
  result: Record<string, unknown>;
  error: string | null;
  startedAt: Date;
  finishedAt: Date | null;
}

const RUN_COLUMNS = `id, job, org_id AS "orgId", trigger, status, result, error, started_at AS "startedAt",
  finished_at AS "finishedAt"`;

export async function insertJobRun(
  input: Omit<JobRunRow, 'finishedAt' | 'result' | 'error'> &
    Partial<Pick<JobRunRow, 'finishedAt' | 'result'>>,
): Promise<void> {
  await read(
    `INSERT INTO job_runs (id, job, org_id, trigger, status, result, started_at, finished_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
    [
      input.id,
      input.job,
      input.orgId,
      input.trigger,
      input.status,
      JSON.stringify(input.result ?? {}),
      input.startedAt,
      input.finishedAt ?? null,
    ],
  );
}

export async function finishJobRun(input: {
  id: string;
  status: JobStatus;
  result: Record<string, unknown>;
  error: string | null;
  finishedAt: Date;
}): Promise<JobRunRow> {
  const rows = await read<JobRunRow>(
    `UPDATE job_runs SET status = $2, result = $3, error = $4, finished_at = $5 WHERE id = $1
     RETURNING ${RUN_COLUMNS}`,
    [input.id, input.status, JSON.stringify(input.result), input.error, input.finishedAt],
  );
  return rows[0]!;
}

/** The org's runs of scheduled jobs, newest first. */
export async function listJobRuns(
  orgId: string,
  filter: { job?: string; limit: number; before?: { startedAt: string; id: string } },
): Promise<JobRunRow[]> {
  return read<JobRunRow>(
    `SELECT ${RUN_COLUMNS} FROM job_runs
     WHERE org_id = $1 AND ($2::text IS NULL OR job = $2)
       AND ($4::timestamptz IS NULL OR (started_at, id) < ($4::timestamptz, $5::uuid))
     ORDER BY started_at DESC, id DESC LIMIT $3`,
    [orgId, filter.job ?? null, filter.limit, filter.before?.startedAt ?? null, filter.before?.id ?? null],
  );
}

/**
 * Takes the (job, org) lease unless a live one is held by another run. `INSERT ... ON CONFLICT DO UPDATE
 * ... WHERE expired` is atomic: of two runs racing for a free lease exactly one gets a row back.
 */
export async function acquireJobLease(input: {
  job: string;
  orgId: string;
  runId: string;
  leaseSeconds: number;
}): Promise<boolean> {
  const rows = await read(
    `INSERT INTO job_leases (job, org_id, run_id, expires_at)
     VALUES ($1, $2, $3, clock_timestamp() + make_interval(secs => $4))
     ON CONFLICT (job, org_id) DO UPDATE SET run_id = excluded.run_id, expires_at = excluded.expires_at
       WHERE job_leases.expires_at < clock_timestamp()
     RETURNING run_id`,
    [input.job, input.orgId, input.runId, input.leaseSeconds],
  );
  return rows.length > 0;
}

export async function releaseJobLease(input: { job: string; orgId: string; runId: string }): Promise<void> {
  await read(`DELETE FROM job_leases WHERE job = $1 AND org_id = $2 AND run_id = $3`, [
    input.job,
    input.orgId,
    input.runId,
  ]);
}

/* ------------------------------------------------------------------------------------------------ */
/* SLA decay                                                                                         */

/** Orgs with at least one assigned lead past its campaign's SLA at `now`. */
export async function orgsWithOverdueLeads(now: Date): Promise<string[]> {
  const rows = await read<{ orgId: string }>(
    `SELECT DISTINCT l.org_id AS "orgId"
     FROM leads l JOIN campaigns c ON c.org_id = l.org_id AND c.key = COALESCE(l.campaign, 'default')
     WHERE l.status = 'assigned' AND c.sla_minutes IS NOT NULL
       AND l.status_changed_at + make_interval(mins => c.sla_minutes) <= $1`,
    [now],
  );
  return rows.map((r) => r.orgId);
}

/**
 * Locks the assigned lead of the org that has been waiting longest past its campaign's SLA, skipping
 * leads another transaction holds and those this run already tried. Returns its id; the caller reads
 * the row with `lockLead` in a new statement, which sees the latest committed version. "Assigned since" is the lead's
 * `status_changed_at`: set when it was (re)assigned, so a reassignment restarts the clock.
 */
export async function lockNextOverdueLeadId(
  db: Db,
  input: { orgId: string; now: Date; skipLeadIds: string[] },
): Promise<string | undefined> {
  const out = await db.query<{ id: string }>(
    `SELECT l.id FROM leads l
     JOIN campaigns c ON c.org_id = l.org_id AND c.key = COALESCE(l.campaign, 'default')
     WHERE l.org_id = $1 AND l.status = 'assigned' AND c.sla_minutes IS NOT NULL
       AND l.status_changed_at + make_interval(mins => c.sla_minutes) <= $2
       AND l.id <> ALL($3::uuid[])
     ORDER BY l.status_changed_at, l.id
     LIMIT 1
     FOR UPDATE OF l SKIP LOCKED`,
    [input.orgId, input.now, input.skipLeadIds],
  );
  return out.rows[0]?.id;
}

/* ------------------------------------------------------------------------------------------------ */
/* Backlog retry                                                                                     */

/** Orgs with push-campaign leads waiting for a recipient. */
export async function orgsWithBacklog(): Promise<string[]> {
  const rows = await read<{ orgId: string }>(
    `SELECT DISTINCT org_id AS "orgId" FROM leads WHERE status = 'unassigned' AND reason = 'no_eligible_recipient'`,
  );
  return rows.map((r) => r.orgId);
}

/**
 * Locks the oldest lead of the org waiting for a recipient in a push campaign, leaving out campaigns
 * this run found without capacity and leads it already tried.
 */
export async function lockNextBacklogLeadId(
  db: Db,
  input: { orgId: string; skipCampaigns: string[]; skipLeadIds: string[] },
): Promise<string | undefined> {
  const out = await db.query<{ id: string }>(
    `SELECT l.id FROM leads l
     JOIN campaigns c ON c.org_id = l.org_id AND c.key = COALESCE(l.campaign, 'default') AND c.mode = 'push'
     WHERE l.org_id = $1 AND l.status = 'unassigned' AND l.reason = 'no_eligible_recipient'
       AND c.key <> ALL($2::text[]) AND l.id <> ALL($3::uuid[])
     ORDER BY l.received_at, l.id
     LIMIT 1
     FOR UPDATE OF l SKIP LOCKED`,
    [input.orgId, input.skipCampaigns, input.skipLeadIds],
  );
  return out.rows[0]?.id;
}

/* ------------------------------------------------------------------------------------------------ */
/* Savepoints                                                                                        */

/**
 * Runs `work` under a savepoint and keeps its writes only when `keep(result)` says so; otherwise rolls
 * back to the savepoint (the transaction, and the locks it took before, stay). Decay and backlog use it
 * to try an allocation and leave everything as it was when nobody is eligible.
 */
export async function withSavepoint<T>(
  db: Db,
  name: string,
  work: () => Promise<T>,
  keep: (result: T) => boolean,
): Promise<T> {
  if (!/^[a-z_]+$/.test(name)) throw new Error(`Invalid savepoint name ${name}`);
  await db.query(`SAVEPOINT ${name}`);
  const result = await work();
  await db.query(keep(result) ? `RELEASE SAVEPOINT ${name}` : `ROLLBACK TO SAVEPOINT ${name}`);
  return result;
}

/** True when the org has at least one push-campaign lead waiting for a recipient (a cheap index probe). */
export async function hasBacklog(orgId: string): Promise<boolean> {
  const rows = await read(
    `SELECT 1 FROM leads WHERE org_id = $1 AND status = 'unassigned' AND reason = 'no_eligible_recipient' LIMIT 1`,
    [orgId],
  );
  return rows.length > 0;
}
