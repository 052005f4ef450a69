/**
 * Automation rules and their runs. A run is *claimed* before its action executes: a conditional
 * UPDATE of the rule (and, for event rules, a unique (rule, event) run row) decides which of any
 * number of concurrent triggers gets to run it, so a `once` rule runs exactly once and an event
 * triggers a rule at most once.
 */
import type { EventType } from '../../domain/types.js';
import { read, type Db } from './db.js';
import type { StoredEvent } from './events.js';

export interface RuleRow {
  id: string;
  orgId: string;
  name: string;
  triggerType: 'schedule' | 'event';
  cron: string | null;
  timezone: string | null;
  nextRunAt: Date | null;
  eventType: EventType | null;
  eventCursor: number;
  command: string;
  params: Record<string, unknown>;
  once: boolean;
  enabled: boolean;
  runCount: number;
  lastRunAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

const RULE_COLUMNS = `id, org_id AS "orgId", name, trigger_type AS "triggerType", cron, timezone,
  next_run_at AS "nextRunAt", event_type AS "eventType", event_cursor AS "eventCursor", command, params, once,
  enabled, run_count AS "runCount", last_run_at AS "lastRunAt", created_at AS "createdAt", updated_at AS "updatedAt"`;

export interface RunRow {
  id: number;
  ruleId: string;
  trigger: 'schedule' | 'event' | 'manual';
  eventId: number | null;
  command: string;
  params: Record<string, unknown>;
  status: 'running' | 'succeeded' | 'failed';
  result: unknown;
  error: { code: string; message: string; issues?: unknown } | null;
  startedAt: Date;
  finishedAt: Date | null;
}

const RUN_COLUMNS = `id, rule_id AS "ruleId", trigger, event_id AS "eventId", command, params, status, result, error,
  started_at AS "startedAt", finished_at AS "finishedAt"`;

export async function insertRule(
  r: Omit<RuleRow, 'runCount' | 'lastRunAt' | 'updatedAt' | 'eventCursor'> & { eventCursor: number },
): Promise<RuleRow> {
  const rows = await read<RuleRow>(
    `INSERT INTO automation_rules (id, org_id, name, trigger_type, cron, timezone, next_run_at, event_type,
       event_cursor, command, params, once, enabled, created_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14)
     RETURNING ${RULE_COLUMNS}`,
    [
      r.id,
      r.orgId,
      r.name,
      r.triggerType,
      r.cron,
      r.timezone,
      r.nextRunAt,
      r.eventType,
      r.eventCursor,
      r.command,
      JSON.stringify(r.params),
      r.once,
      r.enabled,
      r.createdAt,
    ],
  );
  return rows[0]!;
}

export async function getRule(orgId: string, ruleId: string): Promise<RuleRow | undefined> {
  const rows = await read<RuleRow>(
    `SELECT ${RULE_COLUMNS} FROM automation_rules WHERE org_id = $1 AND id = $2`,
    [orgId, ruleId],
  );
  return rows[0];
}

export async function listRules(orgId: string): Promise<RuleRow[]> {
  return read<RuleRow>(
    `SELECT ${RULE_COLUMNS} FROM automation_rules WHERE org_id = $1 ORDER BY created_at, id`,
    [orgId],
  );
}

export async function updateRule(
  orgId: string,
  ruleId: string,
  patch: { name?: string; enabled?: boolean; nextRunAt?: Date | null },
  now: Date,
): Promise<RuleRow | undefined> {
  const rows = await read<RuleRow>(
    `UPDATE automation_rules SET name = COALESCE($3::text, name), enabled = COALESCE($4::boolean, enabled),
       next_run_at = CASE WHEN $5::boolean THEN $6::timestamptz ELSE next_run_at END, updated_at = $7
     WHERE org_id = $1 AND id = $2
     RETURNING ${RULE_COLUMNS}`,
    [
      orgId,
      ruleId,
      patch.name ?? null,
      patch.enabled ?? null,
      patch.nextRunAt !== undefined,
      patch.nextRunAt ?? null,
      now,
    ],
  );
  return rows[0];
}

export async function deleteRule(orgId: string, ruleId: string): Promise<boolean> {
  const rows = await read(`DELETE FROM automation_rules WHERE org_id = $1 AND id = $2 RETURNING id`, [
    orgId,
    ruleId,
  ]);
  return rows.length > 0;
}

export async function listRuns(orgId: string, ruleId: string, limit: number): Promise<RunRow[]> {
  return read<RunRow>(
    `SELECT ${RUN_COLUMNS} FROM automation_runs WHERE org_id = $1 AND rule_id = $2 ORDER BY id DESC LIMIT $3`,
    [orgId, ruleId, limit],
  );
}

/** Schedule rules due at `now`, every org, most overdue first. */
export async function dueScheduleRules(now: Date, limit: number): Promise<RuleRow[]> {
  return read<RuleRow>(
    `SELECT ${RULE_COLUMNS} FROM automation_rules
     WHERE enabled AND trigger_type = 'schedule' AND next_run_at <= $1
     ORDER BY next_run_at LIMIT $2`,
    [now, limit],
  );
}

/** Enabled event rules, of every org or of one, oldest first. */
export async function enabledEventRules(orgId?: string): Promise<RuleRow[]> {
  return orgId === undefined
    ? read<RuleRow>(
        `SELECT ${RULE_COLUMNS} FROM automation_rules WHERE enabled AND trigger_type = 'event' ORDER BY created_at, id`,
      )
    : read<RuleRow>(
        `SELECT ${RULE_COLUMNS} FROM automation_rules WHERE org_id = $1 AND enabled AND trigger_type = 'event'
         ORDER BY created_at, id`,
        [orgId],
      );
}

/**
 * Events of the rule's type after its cursor that have not triggered it yet (no run row), oldest first.
 */
export async function untriggeredEvents(rule: RuleRow, limit: number): Promise<StoredEvent[]> {
  return read<StoredEvent>(
    `SELECT e.id, e.org_id AS "orgId", e.type, e.lead_id AS "leadId", e.at, e.data FROM events e
     WHERE e.org_id = $1 AND e.type = $2 AND e.id > $3
       AND NOT EXISTS (SELECT 1 FROM automation_runs r WHERE r.rule_id = $4 AND r.event_id = e.id)
     ORDER BY e.id LIMIT $5`,
    [rule.orgId, rule.eventType, rule.eventCursor, rule.id, limit],
  );
}

/** The org's latest committed event: a new event rule reacts to events after it. */
export async function lastEventId(orgId: string): Promise<number> {
  const rows = await read<{ id: number | null }>(`SELECT max(id) AS id FROM events WHERE org_id = $1`, [
    orgId,
  ]);
  return rows[0]?.id ?? 0;
}

/**
 * The highest event id of the org below which every event is certainly committed: that of events
 * stamped before `cutoff`. Event ids are taken when a transaction inserts, not when it commits, so a
 * smaller id can become visible after a larger one; `cutoff` is further in the past than any of our
 * transactions runs (Lambda's 15-minute limit), so nothing below this id can still appear.
 */
export async function settledEventId(orgId: string, afterId: number, cutoff: Date): Promise<number> {
  const rows = await read<{ id: number | null }>(
    `SELECT max(id) AS id FROM events WHERE org_id = $1 AND id > $2 AND at < $3`,
    [orgId, afterId, cutoff],
  );
  return rows[0]?.id ?? afterId;
}

export async function advanceEventCursor(ruleId: string, to: number): Promise<void> {
  await read(`UPDATE automation_rules SET event_cursor = GREATEST(event_cursor, $2) WHERE id = $1`, [
    ruleId,
    to,
  ]);
}

/**
 * Claims one run of a rule, in the caller's transaction: counts it, and for a `once` rule disables it
 * in the same statement. Returns false when the rule is no longer enabled (or, for a schedule tick,
 * when another runner already moved `next_run_at` past `expectedNextRunAt`): the caller must not run it.
 * Concurrent claimers queue on the rule's row lock and re-check the condition after the winner commits.
 */
export async function claimRule(
  db: Db,
  input: {
    ruleId: string;
    now: Date;
    /** Schedule ticks: the tick being claimed and the one after it. */
    tick?: { expectedNextRunAt: Date; nextRunAt: Date | null };
  },
): Promise<boolean> {
  const out = await db.query(
    `UPDATE automation_rules
     SET enabled = enabled AND NOT once, run_count = run_count + 1, last_run_at = $2, updated_at = $2,
         next_run_at = CASE WHEN $3::boolean THEN $5::timestamptz ELSE next_run_at END
     WHERE id = $1 AND enabled AND (NOT $3::boolean OR next_run_at = $4::timestamptz)`,
    [
      input.ruleId,
      input.now,
      input.tick !== undefined,
      input.tick?.expectedNextRunAt ?? null,
      input.tick?.nextRunAt ?? null,
    ],
  );
  return (out.rowCount ?? 0) > 0;
}

/** Records a started run; undefined when this event already triggered this rule. */
export async function insertRun(
  db: Db,
  input: {
    orgId: string;
    ruleId: string;
    trigger: RunRow['trigger'];
    eventId: number | null;
    command: string;
    params: Record<string, unknown>;
    now: Date;
  },
): Promise<RunRow | undefined> {
  const out = await db.query<RunRow>(
    `INSERT INTO automation_runs (org_id, rule_id, trigger, event_id, command, params, status, started_at)
     VALUES ($1, $2, $3, $4, $5, $6, 'running', $7)
     ON CONFLICT (rule_id, event_id) WHERE event_id IS NOT NULL DO NOTHING
     RETURNING ${RUN_COLUMNS}`,
    [
      input.orgId,
      input.ruleId,
      input.trigger,
      input.eventId,
      input.command,
      JSON.stringify(input.params),
      input.now,
    ],
  );
  return out.rows[0];
}

export async function finishRun(
  runId: number,
  outcome: { status: 'succeeded' | 'failed'; result: unknown; error: RunRow['error']; at: Date },
): Promise<RunRow> {
  const rows = await read<RunRow>(
    `UPDATE automation_runs SET status = $2, result = $3, error = $4, finished_at = $5 WHERE id = $1
     RETURNING ${RUN_COLUMNS}`,
    [
      runId,
      outcome.status,
      outcome.result === undefined ? null : JSON.stringify(outcome.result),
      outcome.error === null ? null : JSON.stringify(outcome.error),
      outcome.at,
    ],
  );
  return rows[0]!;
}
