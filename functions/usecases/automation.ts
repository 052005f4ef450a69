/**
 * Automation (issue 4, seed 001): commands that do what the admin API does, from a JSON call, a line
 * of text or a rule; and rules that run a command on a schedule (croner) or when an event commits.
 *
 * - `executeCommand` validates a command's params (snake_case accepted, as Make/Zapier send them) and
 *   runs the same use case the API route runs.
 * - Event rules run right after the events that trigger them commit: `publishEvents` hands each
 *   committed batch to `runEventRulesAfterCommit`, which runs the org's matching rules over the
 *   committed event log (the outbox). The `automation` scheduled job (`runAutomation`, every minute)
 *   runs due schedule rules and is the safety net for event rules: it reads the same log, so a crash
 *   between a commit and the prompt run loses no trigger, and no writer has to know about rules.
 *   Events committed by a rule's own action are left to the job (no chains inside one call, no loops).
 * - Every run is claimed before its action executes (`claimRule` + `insertRun` in one transaction) and
 *   recorded with its result; a `once` rule disables itself in the claim, so it runs exactly once
 *   however many triggers race for it (job runs, manual runs, several events).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { Cron } from 'croner';
import { v7 as uuidv7 } from 'uuid';
import { z } from 'zod';
import {
  advanceEventCursor,
  claimRule,
  deleteRule as deleteRuleRow,
  dueScheduleRules,
  enabledEventRules,
  finishRun,
  getRule as getRuleRow,
  insertRule,
  insertRun,
  lastEventId,
  listRules,
  listRuns,
  settledEventId,
  untriggeredEvents,
  updateRule,
  type RuleRow,
  type RunRow,
} from '../adapters/pg/automation.js';
import { withTransaction } from '../adapters/pg/db.js';
import type { StoredEvent } from '../adapters/pg/events.js';
import { listLeads, type LeadRow } from '../adapters/pg/leads.js';
import { ORDER_STATUSES } from '../adapters/pg/orders.js';
import { clock } from '../clock.js';
import {
  AUTOMATION_COMMANDS,
  parseAutomationText,
  TEXT_USAGE,
  type AutomationCommand,
} from '../domain/automationText.js';
import {
  ConflictError,
  DomainError,
  NotFoundError,
  ValidationError,
  type FieldIssue,
} from '../domain/errors.js';
import { isValidTimeZone } from '../domain/time.js';
import { EVENT_TYPES, LEAD_STATUSES } from '../domain/types.js';
import { logger } from '../powertools.js';
import {
  createOrder,
  deleteOrder,
  fillAllOpenOrders,
  fulfillOrder,
  listOrderPage,
  OrderInputSchema,
  resolveOrderId,
  StateCodeInput,
} from './orders.js';

export { AUTOMATION_COMMANDS, TEXT_USAGE };
/** Commands a rule may run (a rule that creates rules would be a loop waiting to happen). */
export const RULE_COMMANDS = [
  'create_order',
  'fulfill_order',
  'delete_order',
  'get_orders',
  'get_leads',
] as const;
export type RuleCommand = (typeof RULE_COMMANDS)[number];
/** Schedules without a timezone are read in the product's home timezone, like recipients' days. */
export const DEFAULT_RULE_TIMEZONE = 'America/New_York';

// ---- command params ---------------------------------------------------------------------------------

/** Make, Zapier and the seed's examples send snake_case (`customer_name`); we speak camelCase. */
const ALIASES: Record<string, string> = {
  states: 'requestedStates',
  orderNumber: 'orderId',
  order: 'orderId',
};
function camelizeKeys(value: unknown): unknown {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return value;
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => {
      const camel = k.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
      return [ALIASES[camel] ?? camel, v];
    }),
  );
}
const params = <S extends z.ZodType>(schema: S) => z.preprocess(camelizeKeys, schema);

/** An order by id or number: `"0190…"`, `12`, `"#12"`. */
const OrderRef = z.union([z.number().int().min(1), z.string().trim().min(1).max(100)]);
const Count = (max: number, fallback: number) => z.coerce.number().int().min(1).max(max).default(fallback);

const TriggerSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('schedule'),
    cron: z.string().trim().min(1).max(200),
    timezone: z
      .string()
      .refine(isValidTimeZone, { message: 'Unknown IANA timezone' })
      .default(DEFAULT_RULE_TIMEZONE),
  }),
  z.object({ type: z.literal('event'), event: z.enum(EVENT_TYPES) }),
]);
export type RuleTrigger = z.output<typeof TriggerSchema>;

const ActionSchema = z.object({
  command: z.enum(RULE_COMMANDS),
  params: z.record(z.string(), z.unknown()).default({}),
});

/** A rule as `POST /api/automation/rules` takes it; params are checked against the command. */
export const RuleCreateSchema = z
  .object({
    name: z.string().trim().min(1).max(200),
    trigger: TriggerSchema,
    action: ActionSchema,
    once: z.boolean().default(false),
    enabled: z.boolean().default(true),
  })
  .superRefine((rule, ctx) => {
    if (rule.trigger.type === 'schedule') {
      try {
        new Cron(rule.trigger.cron, { timezone: rule.trigger.timezone, paused: true });
      } catch (error) {
        ctx.addIssue({ code: 'custom', path: ['trigger', 'cron'], message: (error as Error).message });
      }
    }
    // Event rules may fill params from the event ("{{event.data.order.id}}"): checked when they run.
    if (rule.trigger.type === 'event' && hasTemplates(rule.action.params)) return;
    const checked = COMMANDS[rule.action.command].schema.safeParse(rule.action.params);
    if (!checked.success)
      for (const issue of checked.error.issues)
        ctx.addIssue({ code: 'custom', path: ['action', 'params', ...issue.path], message: issue.message });
  });
export type RuleInput = z.output<typeof RuleCreateSchema>;

const OneTimeRuleParams = z
  .object({
    name: z.string().trim().min(1).max(200).optional(),
    /** `"fulfill"`/`"delete"` with `orderId` (the seed's form), or a full `{command, params}`. */
    action: z.union([z.enum(['fulfill', 'delete', 'fulfill_order', 'delete_order']), ActionSchema]),
    orderId: OrderRef.optional(),
    /** When to run: an ISO date-time (`at`), a cron pattern, or an event; none = now. */
    at: z.iso.datetime({ offset: true, local: true }).optional(),
    cron: z.string().trim().min(1).max(200).optional(),
    event: z.enum(EVENT_TYPES).optional(),
    timezone: z.string().refine(isValidTimeZone, { message: 'Unknown IANA timezone' }).optional(),
  })
  .superRefine((p, ctx) => {
    if (typeof p.action === 'string' && p.orderId === undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['orderId'],
        message: `"${p.action}" needs the order's id or number`,
      });
    if ([p.at, p.cron, p.event].filter((x) => x !== undefined).length > 1)
      ctx.addIssue({ code: 'custom', path: ['at'], message: 'Give at most one of at, cron and event' });
  });

interface Command<S extends z.ZodType> {
  schema: S;
  run(orgId: string, params: z.output<S>): Promise<unknown>;
}
const command = <S extends z.ZodType>(schema: S, run: Command<S>['run']): Command<S> => ({ schema, run });

function leadItem(l: LeadRow) {
  const { orgId: _org, trace: _trace, updatedAt: _u, ...view } = l;
  return view;
}

const COMMANDS = {
  create_order: command(params(OrderInputSchema), (orgId, p) => createOrder(orgId, p)),
  fulfill_order: command(params(z.object({ orderId: OrderRef })), async (orgId, p) =>
    fulfillOrder(orgId, await resolveOrderId(orgId, p.orderId)),
  ),
  delete_order: command(params(z.object({ orderId: OrderRef })), async (orgId, p) =>
    deleteOrder(orgId, await resolveOrderId(orgId, p.orderId)),
  ),
  get_orders: command(
    params(
      z.object({
        status: z.enum(ORDER_STATUSES as ['open', 'filled', 'fulfilled', 'deleted']).optional(),
        page: Count(1_000_000, 1),
        limit: Count(500, 50),
      }),
    ),
    (orgId, p) => listOrderPage(orgId, p),
  ),
  get_leads: command(
    params(
      z.object({
        status: z.enum(LEAD_STATUSES).optional(),
        state: StateCodeInput.optional(),
        campaign: z.string().max(100).optional(),
        limit: Count(500, 50),
      }),
    ),
    async (orgId, p) => {
      const items = (await listLeads(orgId, p)).map(leadItem);
      return { items, count: items.length };
    },
  ),
  one_time_rule: command(params(OneTimeRuleParams), (orgId, p) => createOneTimeRule(orgId, p)),
} satisfies Record<AutomationCommand, Command<any>>;

function issuesOf(error: z.ZodError, prefix?: string): FieldIssue[] {
  return error.issues.map((i) => ({
    field: [prefix, ...i.path.map(String)].filter(Boolean).join('.') || prefix || 'body',
    message: i.message,
  }));
}

/** Validates a command's params (400 naming `params.<field>`) and runs it. */
export async function executeCommand(
  orgId: string,
  name: AutomationCommand,
  raw: unknown,
): Promise<{ command: AutomationCommand; params: unknown; result: unknown }> {
  const cmd = COMMANDS[name] as Command<z.ZodType>;
  const parsed = cmd.schema.safeParse(raw ?? {});
  if (!parsed.success)
    throw new ValidationError(issuesOf(parsed.error, 'params'), `Invalid params for ${name}`);
  return { command: name, params: parsed.data, result: await cmd.run(orgId, parsed.data) };
}

/** A line of text (see `automationText.ts` for the grammar) → its command, run. */
export async function executeText(orgId: string, text: string) {
  const parsed = parseAutomationText(text);
  if (!parsed.ok)
    throw new ValidationError(
      [
        { field: 'text', message: parsed.message },
        ...TEXT_USAGE.map((usage) => ({ field: 'text', message: `Command: ${usage}` })),
      ],
      parsed.message,
    );
  return executeCommand(orgId, parsed.command, parsed.params);
}

// ---- rules ------------------------------------------------------------------------------------------

export function ruleView(r: RuleRow) {
  return {
    id: r.id,
    name: r.name,
    trigger:
      r.triggerType === 'schedule'
        ? { type: 'schedule' as const, cron: r.cron!, timezone: r.timezone! }
        : { type: 'event' as const, event: r.eventType! },
    action: { command: r.command, params: r.params },
    once: r.once,
    enabled: r.enabled,
    nextRunAt: r.nextRunAt,
    runCount: r.runCount,
    lastRunAt: r.lastRunAt,
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
  };
}

export function runView(r: RunRow) {
  return r;
}

/**
 * The next time a schedule fires after `after`. An ISO date-time fires once: if it has passed already
 * (say, "now" given a moment ago), it is due at once rather than never.
 */
export function nextRunAfter(
  trigger: { cron: string; timezone: string },
  after: Date,
  isNew = false,
): Date | null {
  const cron = new Cron(trigger.cron, { timezone: trigger.timezone, paused: true });
  const oneShot = /^\d{4}-\d{2}-\d{2}T/.test(trigger.cron);
  if (oneShot && isNew) {
    const at = cron.nextRun(new Date(0));
    return at && at.getTime() < after.getTime() ? after : at;
  }
  return cron.nextRun(after);
}

/** How far back an event must be stamped before no earlier id can still commit (see settledEventId). */
const EVENT_SETTLE_MS = 20 * 60_000;

export async function createRule(orgId: string, raw: unknown) {
  const parsed = RuleCreateSchema.safeParse(raw);
  if (!parsed.success) throw new ValidationError(issuesOf(parsed.error), 'Invalid rule');
  const input = parsed.data;
  const now = clock().now();
  const t = input.trigger;
  const row = await insertRule({
    id: uuidv7(),
    orgId,
    name: input.name,
    triggerType: t.type,
    cron: t.type === 'schedule' ? t.cron : null,
    timezone: t.type === 'schedule' ? t.timezone : null,
    nextRunAt: t.type === 'schedule' ? nextRunAfter(t, now, true) : null,
    eventType: t.type === 'event' ? t.event : null,
    // Events committed from now on: one still in flight now (a smaller id committing later) happened
    // before the rule existed and is rightly left out.
    eventCursor: t.type === 'event' ? await lastEventId(orgId) : 0,
    command: input.action.command,
    params: input.action.params,
    once: input.once,
    enabled: input.enabled,
    createdAt: now,
  });
  forgetRuleTypes(orgId);
  return ruleView(row);
}

export async function getRuleDetail(orgId: string, ruleId: string) {
  const rule = await getRuleRow(orgId, ruleId);
  if (!rule) throw new NotFoundError('Rule not found');
  return { ...ruleView(rule), runs: (await listRuns(orgId, ruleId, 20)).map(runView) };
}

export async function listRuleViews(orgId: string) {
  return { items: (await listRules(orgId)).map(ruleView) };
}

export async function listRuleRuns(orgId: string, ruleId: string, limit: number) {
  if (!(await getRuleRow(orgId, ruleId))) throw new NotFoundError('Rule not found');
  return { items: (await listRuns(orgId, ruleId, limit)).map(runView) };
}

/** Renames, pauses or resumes a rule; a resumed schedule rule continues from now (missed ticks are not run). */
export async function patchRule(orgId: string, ruleId: string, patch: { name?: string; enabled?: boolean }) {
  const rule = await getRuleRow(orgId, ruleId);
  if (!rule) throw new NotFoundError('Rule not found');
  const now = clock().now();
  const resumes = patch.enabled === true && !rule.enabled && rule.triggerType === 'schedule';
  const updated = await updateRule(
    orgId,
    ruleId,
    {
      ...patch,
      ...(resumes
        ? { nextRunAt: nextRunAfter({ cron: rule.cron!, timezone: rule.timezone! }, now, true) }
        : {}),
    },
    now,
  );
  if (!updated) throw new NotFoundError('Rule not found');
  forgetRuleTypes(orgId);
  return ruleView(updated);
}

export async function removeRule(orgId: string, ruleId: string) {
  if (!(await deleteRuleRow(orgId, ruleId))) throw new NotFoundError('Rule not found');
  forgetRuleTypes(orgId);
  return { id: ruleId, deleted: true };
}

async function createOneTimeRule(orgId: string, p: z.output<typeof OneTimeRuleParams>) {
  const action =
    typeof p.action === 'string'
      ? {
          command: p.action.startsWith('delete') ? 'delete_order' : 'fulfill_order',
          params: { orderId: p.orderId },
        }
      : p.action;
  const now = clock().now();
  const when = p.at ?? p.cron;
  const trigger = p.event
    ? { type: 'event', event: p.event }
    : { type: 'schedule', cron: when ?? now.toISOString(), timezone: p.timezone ?? DEFAULT_RULE_TIMEZONE };
  const rule = await createRule(orgId, {
    name: p.name ?? `One time: ${action.command} ${JSON.stringify(action.params)}`.slice(0, 200),
    trigger,
    action,
    once: true,
  });
  if (p.event || when) return { rule, run: null };
  // No trigger: a one time operation now. It is still a claimed rule run, so the job can't run it too.
  const run = await runRuleNow(orgId, rule.id);
  return { rule: ruleView((await getRuleRow(orgId, rule.id))!), run };
}

class NotClaimed extends Error {}

/**
 * Claims and runs one run of a rule, recording it. Returns undefined when the claim was lost (the rule
 * got disabled — a `once` rule that already ran — or another runner took this tick or event).
 */
async function claimAndRun(
  rule: RuleRow,
  trigger: RunRow['trigger'],
  opts: { event?: StoredEvent; tick?: { expectedNextRunAt: Date; nextRunAt: Date | null } } = {},
): Promise<RunRow | undefined> {
  const now = clock().now();
  const actionParams = opts.event ? fillTemplates(rule.params, opts.event) : rule.params;
  let run: RunRow;
  try {
    run = await withTransaction(async (db) => {
      if (!(await claimRule(db, { ruleId: rule.id, now, tick: opts.tick }))) throw new NotClaimed();
      const started = await insertRun(db, {
        orgId: rule.orgId,
        ruleId: rule.id,
        trigger,
        eventId: opts.event?.id ?? null,
        command: rule.command,
        params: actionParams as Record<string, unknown>,
        now,
      });
      if (!started) throw new NotClaimed();
      return started;
    });
  } catch (error) {
    if (error instanceof NotClaimed) return undefined;
    throw error;
  }
  try {
    const out = await insideRuleRun.run(true, () =>
      executeCommand(rule.orgId, rule.command as RuleCommand, actionParams),
    );
    return await finishRun(run.id, {
      status: 'succeeded',
      result: out.result,
      error: null,
      at: clock().now(),
    });
  } catch (error) {
    if (!(error instanceof DomainError))
      logger.error('Automation rule run failed', {
        ruleId: rule.id,
        orgId: rule.orgId,
        error: error as Error,
      });
    return finishRun(run.id, { status: 'failed', result: null, error: runError(error), at: clock().now() });
  }
}

function runError(error: unknown): RunRow['error'] {
  if (error instanceof ValidationError)
    return { code: error.code, message: error.message, issues: error.issues };
  if (error instanceof DomainError) return { code: error.code, message: error.message };
  return { code: 'internal', message: 'The action failed unexpectedly; see the logs' };
}

/** `POST /api/automation/rules/:id/run`: runs an enabled rule now (409 when it is disabled or a `once` rule ran). */
export async function runRuleNow(orgId: string, ruleId: string) {
  const rule = await getRuleRow(orgId, ruleId);
  if (!rule) throw new NotFoundError('Rule not found');
  const run = await claimAndRun(rule, 'manual');
  if (!run) throw new ConflictError(rule.once ? 'This once rule has run already' : 'The rule is disabled');
  return runView(run);
}

// ---- event templates --------------------------------------------------------------------------------

const TEMPLATE = /^\{\{\s*event\.([\w.]+)\s*\}\}$/;

function hasTemplates(value: unknown): boolean {
  if (typeof value === 'string') return TEMPLATE.test(value);
  if (Array.isArray(value)) return value.some(hasTemplates);
  if (typeof value === 'object' && value !== null) return Object.values(value).some(hasTemplates);
  return false;
}

/** A param that is exactly `{{event.<path>}}` becomes that value of the triggering event. */
export function fillTemplates(value: unknown, event: StoredEvent): unknown {
  if (typeof value === 'string') {
    const m = TEMPLATE.exec(value);
    if (!m) return value;
    let v: unknown = event;
    for (const key of m[1]!.split('.')) v = typeof v === 'object' && v !== null ? (v as any)[key] : undefined;
    return v ?? null;
  }
  if (Array.isArray(value)) return value.map((v) => fillTemplates(v, event));
  if (typeof value === 'object' && value !== null)
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fillTemplates(v, event)]));
  return value;
}

// ---- event rules, right after a commit ---------------------------------------------------------------

/** Events a rule takes per pass; the rest wait for the next pass. */
const EVENTS_PER_RULE = 100;

/** Set while a rule's action runs: the events it commits wait for the job instead of chaining. */
const insideRuleRun = new AsyncLocalStorage<true>();

/**
 * The event types each org has enabled event rules for, cached briefly: most commits (every allocated
 * lead) match no rule, and must not pay a query each to find out. A rule changed in this process is
 * seen at once; one changed elsewhere within `RULE_TYPES_TTL_MS` (the job catches anything missed).
 */
const RULE_TYPES_TTL_MS = 2_000;
const ruleTypesByOrg = new Map<string, { until: number; types: Set<string> }>();

function forgetRuleTypes(orgId: string): void {
  ruleTypesByOrg.delete(orgId);
}

async function eventRuleTypes(orgId: string): Promise<Set<string>> {
  const cached = ruleTypesByOrg.get(orgId);
  if (cached && cached.until > Date.now()) return cached.types;
  const types = new Set((await enabledEventRules(orgId)).flatMap((r) => (r.eventType ? [r.eventType] : [])));
  ruleTypesByOrg.set(orgId, { until: Date.now() + RULE_TYPES_TTL_MS, types });
  return types;
}

/**
 * Runs the event rules the just-committed `events` trigger, over the committed log: each (rule, event)
 * is claimed before it runs, so this, the job and a concurrent caller never run one twice, and a
 * `once` rule runs once. Returns the number of runs; failures are recorded on the run, not thrown.
 */
export async function runEventRulesAfterCommit(events: readonly StoredEvent[]): Promise<number> {
  if (events.length === 0 || insideRuleRun.getStore()) return 0;
  const typesByOrg = new Map<string, Set<string>>();
  for (const e of events) {
    const types = typesByOrg.get(e.orgId) ?? new Set<string>();
    types.add(e.type);
    typesByOrg.set(e.orgId, types);
  }
  let runs = 0;
  for (const [orgId, types] of typesByOrg) {
    const ruleTypes = await eventRuleTypes(orgId);
    if (![...types].some((t) => ruleTypes.has(t))) continue;
    for (const rule of await enabledEventRules(orgId)) {
      if (!rule.eventType || !types.has(rule.eventType)) continue;
      for (const event of await untriggeredEvents(rule, EVENTS_PER_RULE)) {
        if (await claimAndRun(rule, 'event', { event })) runs += 1;
        if (rule.once) break;
      }
    }
  }
  return runs;
}

// ---- the scheduled job ------------------------------------------------------------------------------

const DUE_BATCH = 100;

/**
 * The `automation` job (every minute): runs due schedule rules, then event rules for events committed
 * since their cursor, then — as the orders' safety net — fills open orders of every org from stock
 * (a fill after new stock is best-effort; this bounds how long a missed one waits).
 *
 * Safe to run concurrently with itself and with manual runs: every run is claimed first.
 */
export async function runAutomation(): Promise<{
  scheduleRuns: number;
  eventRuns: number;
  orders: { orgs: number; leadsSold: number; failed: number };
}> {
  const now = clock().now();
  let scheduleRuns = 0;
  for (const rule of await dueScheduleRules(now, DUE_BATCH)) {
    const tick = {
      expectedNextRunAt: rule.nextRunAt!,
      nextRunAt: rule.once ? null : nextRunAfter({ cron: rule.cron!, timezone: rule.timezone! }, now),
    };
    if (await claimAndRun(rule, 'schedule', { tick })) scheduleRuns += 1;
  }

  let eventRuns = 0;
  const cutoff = new Date(now.getTime() - EVENT_SETTLE_MS);
  for (const rule of await enabledEventRules()) {
    const events = await untriggeredEvents(rule, EVENTS_PER_RULE);
    for (const event of events) {
      if (await claimAndRun(rule, 'event', { event })) eventRuns += 1;
      if (rule.once) break;
    }
    if (events.length < EVENTS_PER_RULE) {
      // Only while nothing is left behind: the cursor must never pass an event not yet considered.
      await advanceEventCursor(rule.id, await settledEventId(rule.orgId, rule.eventCursor, cutoff));
    }
  }

  const orders = await fillAllOpenOrders();
  return { scheduleRuns, eventRuns, orders };
}
