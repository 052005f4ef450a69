/**
 * Request and response schemas of the admin API. They validate requests and generate
 * `/api/openapi.json`, so the document cannot drift from what the code accepts.
 */
import { extendZodWithOpenApi } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { normalizePhone, normalizeState } from '../domain/normalize.js';
import { isValidTimeZone, workingHoursIssues } from '../domain/time.js';
import {
  ASSIGNMENT_REASONS,
  LEAD_STATUSES,
  STATE_ROUTINGS,
  WEEKDAYS,
  type WorkingHours,
} from '../domain/types.js';

extendZodWithOpenApi(z);

export const Uuid = z.uuid();

/** A US state as code or name, any case; stored as its USPS code. */
export const StateCode = z
  .string()
  .transform((value, ctx) => {
    const code = normalizeState(value);
    if (!code) {
      ctx.addIssue({ code: 'custom', message: `Unknown US state "${value.slice(0, 40)}"` });
      return z.NEVER;
    }
    return code;
  })
  .openapi({ type: 'string', example: 'CA', description: 'USPS code or state name' });

/** A phone in any format the webhook takes, normalised to E.164 as the webhook does (US default). */
export const PhoneE164 = z
  .string()
  .max(40)
  .transform((value, ctx) => {
    const e164 = normalizePhone(value);
    if (!e164) {
      ctx.addIssue({ code: 'custom', message: `Not a valid phone number: "${value.slice(0, 40)}"` });
      return z.NEVER;
    }
    return e164;
  })
  .openapi({ type: 'string', example: '(415) 555-0100', description: 'Any format; normalised to E.164' });

export const TimeZone = z
  .string()
  .refine(isValidTimeZone, { message: 'Unknown IANA timezone' })
  .openapi({ example: 'America/New_York' });

const ClockTime = z.string().regex(/^\d{2}:\d{2}$/, 'Expected HH:MM');
export const WorkingHoursSchema = z
  .object(
    Object.fromEntries(WEEKDAYS.map((d) => [d, z.tuple([ClockTime, ClockTime]).optional()])) as Record<
      (typeof WEEKDAYS)[number],
      z.ZodOptional<z.ZodTuple<[typeof ClockTime, typeof ClockTime]>>
    >,
  )
  .strict()
  .superRefine((hours, ctx) => {
    for (const issue of workingHoursIssues(hours as never))
      ctx.addIssue({ code: 'custom', path: [issue.day], message: issue.message });
  })
  .transform((hours) => hours as WorkingHours)
  .openapi('WorkingHours', { example: { mon: ['09:00', '17:00'], tue: ['09:00', '17:00'] } });

const Count = z.number().int().min(0).max(1_000_000);

export const RecipientCreate = z
  .object({
    name: z.string().trim().min(1).max(200),
    email: z.email().max(254).nullable().optional(),
    states: z.array(StateCode).max(60).default([]),
    dailyCap: Count.nullable().default(null),
    quota: Count.nullable().default(null),
    weight: z.number().int().min(1).max(1000).default(1),
    timezone: TimeZone.default('America/New_York'),
    workingHours: WorkingHoursSchema.nullable().default(null),
    active: z.boolean().default(true),
  })
  .openapi('RecipientCreate');

export const RecipientPatch = z
  .object({
    name: z.string().trim().min(1).max(200),
    email: z.email().max(254).nullable(),
    states: z.array(StateCode).max(60),
    dailyCap: Count.nullable(),
    quota: Count.nullable(),
    weight: z.number().int().min(1).max(1000),
    timezone: TimeZone,
    workingHours: WorkingHoursSchema.nullable(),
    active: z.boolean(),
  })
  .partial()
  .openapi('RecipientPatch');

export const Recipient = z
  .object({
    id: Uuid,
    name: z.string(),
    email: z.string().nullable(),
    states: z.array(z.string()),
    dailyCap: z.number().nullable(),
    quota: z.number().nullable(),
    quotaRemaining: z.number().nullable(),
    weight: z.number(),
    timezone: z.string(),
    workingHours: z.record(z.string(), z.tuple([z.string(), z.string()])).nullable(),
    active: z.boolean(),
    assignedToday: z.number(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi('Recipient');

const CampaignKey = z
  .string()
  .min(1)
  .max(100)
  .regex(/^[A-Za-z0-9_.-]+$/, 'Letters, digits, "_", "." and "-" only');

const CampaignFieldsBase = {
  name: z.string().trim().min(1).max(200),
  recipientsPerLead: z.number().int().min(1).max(50),
  staticRecipientIds: z.array(Uuid).max(50),
  poolRecipientIds: z.array(Uuid).max(1000).nullable(),
  stateRouting: z.enum(STATE_ROUTINGS),
  staticOptional: z.boolean(),
  mode: z.enum(['push', 'stock']),
  slaMinutes: z.number().int().min(1).max(100_000).nullable(),
  maxReassignments: z.number().int().min(0).max(100),
};

export const CampaignCreate = z
  .object({
    key: CampaignKey,
    name: CampaignFieldsBase.name.optional(),
    recipientsPerLead: CampaignFieldsBase.recipientsPerLead.default(1),
    staticRecipientIds: CampaignFieldsBase.staticRecipientIds.default([]),
    poolRecipientIds: CampaignFieldsBase.poolRecipientIds.default(null),
    stateRouting: CampaignFieldsBase.stateRouting.default('prefer'),
    staticOptional: CampaignFieldsBase.staticOptional.default(false),
    mode: CampaignFieldsBase.mode.default('push'),
    slaMinutes: CampaignFieldsBase.slaMinutes.default(null),
    maxReassignments: CampaignFieldsBase.maxReassignments.default(3),
  })
  .openapi('CampaignCreate');

export const CampaignPatch = z.object(CampaignFieldsBase).partial().openapi('CampaignPatch');

export const Campaign = z
  .object({
    id: Uuid,
    key: z.string(),
    name: z.string(),
    recipientsPerLead: z.number(),
    staticRecipientIds: z.array(Uuid),
    poolRecipientIds: z.array(Uuid).nullable(),
    stateRouting: z.enum(STATE_ROUTINGS),
    staticOptional: z.boolean(),
    mode: z.enum(['push', 'stock']),
    slaMinutes: z.number().nullable(),
    maxReassignments: z.number(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi('Campaign');

export const TraceEntrySchema = z
  .object({
    recipientId: Uuid,
    name: z.string(),
    tier: z.string(),
    reason: z.string(),
    selected: z.boolean(),
  })
  .openapi('TraceEntry');

export const Assignment = z
  .object({
    id: z.number(),
    leadId: Uuid,
    recipientId: Uuid.nullable(),
    recipientName: z.string().nullable(),
    orderId: Uuid.nullable(),
    reason: z.enum(ASSIGNMENT_REASONS),
    assignedAt: z.string(),
    endedAt: z.string().nullable(),
    endReason: z.string().nullable(),
  })
  .openapi('Assignment');

export const EventSchema = z
  .object({
    id: z.number(),
    type: z.string(),
    at: z.string(),
    leadId: Uuid.nullable(),
    data: z.record(z.string(), z.unknown()),
  })
  .openapi('Event');

export const Lead = z
  .object({
    id: Uuid,
    status: z.enum(LEAD_STATUSES),
    reason: z.string().nullable(),
    phone: z.string().nullable(),
    email: z.string().nullable(),
    firstName: z.string().nullable(),
    lastName: z.string().nullable(),
    state: z.string().nullable(),
    zip: z.string().nullable(),
    campaign: z.string().nullable(),
    externalId: z.string().nullable(),
    sourceId: Uuid.nullable(),
    attributes: z.record(z.string(), z.unknown()),
    reassignmentCount: z.number(),
    receivedAt: z.string(),
    statusChangedAt: z.string(),
  })
  .openapi('Lead');

/** A list item: the lead and who holds it now (its open assignments to recipients, oldest first). */
export const LeadListItem = Lead.extend({
  assignees: z.array(z.object({ recipientId: Uuid, name: z.string() })),
}).openapi('LeadListItem');

export const LeadDetail = Lead.extend({
  assignments: z.array(Assignment),
  trace: z.array(TraceEntrySchema).nullable(),
  events: z.array(EventSchema),
}).openapi('LeadDetail');

const Limit = z.coerce.number().int().min(1).max(500).default(50);

export const LeadListQuery = z.object({
  status: z.enum(LEAD_STATUSES).optional(),
  state: StateCode.optional(),
  campaign: z.string().max(100).optional(),
  recipientId: Uuid.optional(),
  limit: Limit,
  cursor: z.string().max(200).optional(),
});

export const AssignmentListQuery = z.object({
  recipientId: Uuid.optional(),
  leadId: Uuid.optional(),
  limit: Limit,
  cursor: z.string().max(200).optional(),
});

export const EventListQuery = z.object({
  after: z.coerce.number().int().min(0).default(0),
  limit: z.coerce.number().int().min(1).max(1000).default(200),
});

export const StatusChange = z.object({ status: z.enum(LEAD_STATUSES) }).openapi('StatusChange');

export const Page = <T extends z.ZodType>(item: T) =>
  z.object({ items: z.array(item), nextCursor: z.string().nullable() });

export const ErrorBody = z
  .object({
    error: z.string(),
    message: z.string(),
    issues: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
  })
  .openapi('Error');

export const Reassign = z
  .object({ recipientIds: z.array(Uuid).min(1).max(50).optional() })
  .openapi('Reassign');

export const ReassignResult = z
  .object({
    leadId: Uuid,
    status: z.literal('assigned'),
    assignments: z.array(z.object({ recipientId: Uuid, name: z.string(), reason: z.string() })),
    endedRecipientIds: z.array(Uuid),
  })
  .openapi('ReassignResult');

export const Simulate = z
  .object({
    leads: z
      .array(
        z
          .object({ state: StateCode.nullable().optional(), phone: PhoneE164.nullable().optional() })
          .passthrough(),
      )
      .min(1)
      .max(200),
    overrides: z
      .object({
        recipientsPerLead: z.number().int().min(1).max(50),
        staticRecipientIds: z.array(Uuid).max(50),
        poolRecipientIds: z.array(Uuid).max(1000).nullable(),
        stateRouting: z.enum(STATE_ROUTINGS),
        staticOptional: z.boolean(),
        mode: z.enum(['push', 'stock']),
      })
      .partial()
      .optional(),
  })
  .openapi('Simulate');

export const SimulationResults = z
  .object({
    campaign: z.string(),
    results: z.array(
      z.object({
        index: z.number(),
        state: z.string().nullable(),
        outcome: z.enum(['assigned', 'unassigned']),
        reason: z.string().nullable(),
        assignments: z.array(z.object({ recipientId: Uuid, name: z.string(), reason: z.string() })),
        trace: z.array(TraceEntrySchema),
      }),
    ),
  })
  .openapi('SimulationResults');
