/**
 * Product vocabulary shared by the domain, the adapters and the API. Pure types: nothing here imports
 * from AWS, PostgreSQL or HTTP.
 */

export const LEAD_STATUSES = [
  'queued',
  'assigned',
  'unassigned',
  'sold',
  'contacted',
  'qualified',
  'won',
  'lost',
  'returned',
  'stale',
] as const;
export type LeadStatus = (typeof LEAD_STATUSES)[number];

/** Statuses a recipient (or an admin acting for one) may set through `PATCH /api/leads/:id/status`. */
export const WORK_STATUSES = ['contacted', 'qualified', 'won', 'lost', 'returned'] as const;
export type WorkStatus = (typeof WORK_STATUSES)[number];

export const ASSIGNMENT_REASONS = [
  'static',
  'state_match_round_robin',
  'round_robin',
  'cap_overflow_fallback',
  'returning_contact',
  'order_fill',
  'manual',
  'decay_reassign',
  'backlog_retry',
] as const;
export type AssignmentReason = (typeof ASSIGNMENT_REASONS)[number];

/** Why an eligible-looking recipient was left out of a decision. */
export const EXCLUSION_REASONS = [
  'capped',
  'quota',
  'inactive',
  'state',
  'off_hours',
  'already_assigned',
] as const;
export type ExclusionReason = (typeof EXCLUSION_REASONS)[number];

/** Why a lead sits in stock (`unassigned`). */
export const UNASSIGNED_REASONS = ['no_eligible_recipient', 'unknown_campaign', 'stock', 'returned'] as const;
export type UnassignedReason = (typeof UNASSIGNED_REASONS)[number];

export const STATE_ROUTINGS = ['prefer', 'require', 'ignore'] as const;
export type StateRouting = (typeof STATE_ROUTINGS)[number];

export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type Weekday = (typeof WEEKDAYS)[number];
/** Local working hours per weekday, `["09:00", "17:00"]`; a day left out is a day off. End before start crosses midnight. */
export type WorkingHours = Partial<Record<Weekday, [string, string]>>;

export const EVENT_TYPES = [
  'lead.received',
  'lead.duplicate',
  'lead.assigned',
  'lead.unassigned',
  'lead.reassigned',
  'lead.status_changed',
  'lead.erased',
  'recipient.created',
  'recipient.updated',
  'campaign.created',
  'campaign.updated',
  'order.created',
  'order.filled',
  'order.fulfilled',
  'order.deleted',
  'import.started',
  'import.completed',
  'quota.reset',
  'notification.created',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** A lead after normalisation, as it travels through the queue. */
export interface NormalizedLead {
  phone: string; // E.164
  email: string | null;
  firstName: string | null;
  lastName: string | null;
  state: string | null; // USPS code
  zip: string | null;
  campaign: string | null;
  externalId: string | null;
  attributes: Record<string, unknown>;
}
