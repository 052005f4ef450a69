/**
 * Record factories for unit tests: a valid, unremarkable record by default, with only what a test is
 * about given as overrides.
 */
import type { CampaignRule, CandidateRecipient, LeadToAllocate } from '../../functions/domain/allocation.js';

/** A fixed instant, a Wednesday: 2024-06-12 15:00 UTC = 11:00 in New York. */
export const WEDNESDAY_NOON_UTC = new Date('2024-06-12T15:00:00Z');

export function aRecipient(overrides: Partial<CandidateRecipient> & { id: string }): CandidateRecipient {
  return {
    name: `Recipient ${overrides.id}`,
    active: true,
    states: [],
    dailyCap: null,
    quotaRemaining: null,
    weight: 1,
    timezone: 'America/New_York',
    workingHours: null,
    assignedToday: 0,
    rotationPicks: 0,
    lastPickedAt: null,
    ...overrides,
  };
}

export function aCampaign(overrides: Partial<CampaignRule> = {}): CampaignRule {
  return {
    key: 'default',
    recipientsPerLead: 1,
    staticRecipientIds: [],
    poolRecipientIds: [],
    stateRouting: 'prefer',
    staticOptional: false,
    ...overrides,
  };
}

export function aLead(overrides: Partial<LeadToAllocate> = {}): LeadToAllocate {
  return {
    id: 'lead-1',
    state: null,
    previousRecipientIds: [],
    returningRecipientId: null,
    ...overrides,
  };
}

/** A webhook body as Make.com would send it, every value a string. */
export function aRawLead(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    first_name: 'Ada',
    last_name: 'Lovelace',
    phone: '(415) 555-2671',
    email: 'ada@example.com',
    state: 'CA',
    zip: '94105',
    ...overrides,
  };
}
