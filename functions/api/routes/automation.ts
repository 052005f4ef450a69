import { z } from 'zod';
import {
  AUTOMATION_COMMANDS,
  createRule,
  executeCommand,
  executeText,
  getRuleDetail,
  listRuleRuns,
  listRuleViews,
  patchRule,
  removeRule,
  RuleCreateSchema,
  runRuleNow,
  TEXT_USAGE,
} from '../../usecases/automation.js';
import { route } from '../router.js';
import { ErrorBody, Uuid } from '../schemas.js';

const COMMAND_LIST = AUTOMATION_COMMANDS.join(', ');

/** Either {"command", "params"} or {"text"}; anything else is a 400 that names the field and the commands. */
const Execute = z
  .object({
    command: z
      .enum(AUTOMATION_COMMANDS, { error: () => `Unknown command; the commands are: ${COMMAND_LIST}` })
      .optional(),
    params: z.record(z.string(), z.unknown()).optional(),
    text: z.string().min(1).max(2000).optional(),
  })
  .superRefine((v, ctx) => {
    if (v.command === undefined && v.text === undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['command'],
        message: `Required: send {"command", "params"} (commands: ${COMMAND_LIST}) or {"text"}`,
      });
    if (v.command !== undefined && v.text !== undefined)
      ctx.addIssue({ code: 'custom', path: ['text'], message: 'Send either "command" or "text", not both' });
  })
  .openapi('AutomationExecute', {
    description: `Either {"command", "params"} or {"text"}. Text commands: ${TEXT_USAGE.join(' | ')}`,
    example: { text: 'create order for Jane Doe jane@example.com states CA, NY quantity 5' },
  });

const ExecuteResult = z
  .object({ command: z.enum(AUTOMATION_COMMANDS), params: z.unknown(), result: z.unknown() })
  .openapi('AutomationResult');

// `.clone()`: see OrderCreate in orders.ts.
const RuleCreate = RuleCreateSchema.clone().openapi('AutomationRuleCreate', {
  example: {
    name: 'Weekday fulfilment of order 3',
    trigger: { type: 'schedule', cron: '0 9 * * 1-5', timezone: 'America/New_York' },
    action: { command: 'fulfill_order', params: { orderId: 3 } },
    once: true,
    enabled: true,
  },
});

const Run = z
  .object({
    id: z.number(),
    ruleId: Uuid,
    trigger: z.enum(['schedule', 'event', 'manual']),
    eventId: z.number().nullable(),
    command: z.string(),
    params: z.record(z.string(), z.unknown()),
    status: z.enum(['running', 'succeeded', 'failed']),
    result: z.unknown(),
    error: z.object({ code: z.string(), message: z.string() }).nullable(),
    startedAt: z.string(),
    finishedAt: z.string().nullable(),
  })
  .openapi('AutomationRun');

const Rule = z
  .object({
    id: Uuid,
    name: z.string(),
    trigger: z.union([
      z.object({ type: z.literal('schedule'), cron: z.string(), timezone: z.string() }),
      z.object({ type: z.literal('event'), event: z.string() }),
    ]),
    action: z.object({ command: z.string(), params: z.record(z.string(), z.unknown()) }),
    once: z.boolean(),
    enabled: z.boolean(),
    nextRunAt: z.string().nullable(),
    runCount: z.number(),
    lastRunAt: z.string().nullable(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi('AutomationRule');

export const automationRoutes = [
  route({
    method: 'POST',
    path: '/api/automation/execute',
    summary: 'Run an automation command, as {"command", "params"} or as a line of text',
    tag: 'Automation',
    auth: 'admin',
    body: Execute,
    responses: {
      200: { description: 'The command ran', schema: ExecuteResult },
      400: {
        description: 'Invalid params, or text that is no command (the commands are listed)',
        schema: ErrorBody,
      },
      404: { description: 'The order named does not exist', schema: ErrorBody },
      409: { description: 'Conflict (e.g. order already fulfilled)', schema: ErrorBody },
    },
    handle: async ({ orgId, body }) => ({
      status: 200,
      body:
        body.text !== undefined
          ? await executeText(orgId, body.text)
          : await executeCommand(orgId, body.command!, body.params ?? {}),
    }),
  }),
  route({
    method: 'POST',
    path: '/api/automation/rules',
    summary:
      'Create a rule: on a schedule (cron, or an ISO date-time for once) or on an event, run a command',
    tag: 'Automation',
    auth: 'admin',
    body: RuleCreate,
    responses: {
      201: { description: 'Created', schema: Rule },
      400: { description: 'Invalid, every problem by field', schema: ErrorBody },
    },
    handle: async ({ orgId, body }) => ({ status: 201, body: await createRule(orgId, body) }),
  }),
  route({
    method: 'GET',
    path: '/api/automation/rules',
    summary: 'List rules',
    tag: 'Automation',
    auth: 'admin',
    responses: { 200: { description: 'Rules', schema: z.object({ items: z.array(Rule) }) } },
    handle: async ({ orgId }) => ({ status: 200, body: await listRuleViews(orgId) }),
  }),
  route({
    method: 'GET',
    path: '/api/automation/rules/{id}',
    summary: 'A rule with its 20 latest runs',
    tag: 'Automation',
    auth: 'admin',
    uuidParams: ['id'],
    responses: {
      200: { description: 'Rule', schema: Rule.extend({ runs: z.array(Run) }) },
      404: { description: 'Not found', schema: ErrorBody },
    },
    handle: async ({ orgId, params }) => ({ status: 200, body: await getRuleDetail(orgId, params.id!) }),
  }),
  route({
    method: 'PATCH',
    path: '/api/automation/rules/{id}',
    summary: 'Rename, pause ({"enabled": false}) or resume a rule',
    tag: 'Automation',
    auth: 'admin',
    uuidParams: ['id'],
    body: z
      .object({ name: z.string().trim().min(1).max(200), enabled: z.boolean() })
      .partial()
      .openapi('AutomationRulePatch'),
    responses: {
      200: { description: 'Rule', schema: Rule },
      404: { description: 'Not found', schema: ErrorBody },
    },
    handle: async ({ orgId, params, body }) => ({
      status: 200,
      body: await patchRule(orgId, params.id!, body),
    }),
  }),
  route({
    method: 'DELETE',
    path: '/api/automation/rules/{id}',
    summary: 'Delete a rule and its run history',
    tag: 'Automation',
    auth: 'admin',
    uuidParams: ['id'],
    responses: {
      200: { description: 'Deleted', schema: z.object({ id: Uuid, deleted: z.literal(true) }) },
      404: { description: 'Not found', schema: ErrorBody },
    },
    handle: async ({ orgId, params }) => ({ status: 200, body: await removeRule(orgId, params.id!) }),
  }),
  route({
    method: 'GET',
    path: '/api/automation/rules/{id}/runs',
    summary: 'Runs of a rule, newest first, each with its result or error',
    tag: 'Automation',
    auth: 'admin',
    uuidParams: ['id'],
    query: z.object({ limit: z.coerce.number().int().min(1).max(500).default(50) }),
    responses: {
      200: { description: 'Runs', schema: z.object({ items: z.array(Run) }) },
      404: { description: 'Not found', schema: ErrorBody },
    },
    handle: async ({ orgId, params, query }) => ({
      status: 200,
      body: await listRuleRuns(orgId, params.id!, query.limit),
    }),
  }),
  route({
    method: 'POST',
    path: '/api/automation/rules/{id}/run',
    summary: 'Run a rule now (a once rule runs only once, whoever triggers it)',
    tag: 'Automation',
    auth: 'admin',
    uuidParams: ['id'],
    responses: {
      200: { description: 'The recorded run', schema: Run },
      404: { description: 'Not found', schema: ErrorBody },
      409: { description: 'Disabled, or a once rule that has run', schema: ErrorBody },
    },
    handle: async ({ orgId, params }) => ({ status: 200, body: await runRuleNow(orgId, params.id!) }),
  }),
];
