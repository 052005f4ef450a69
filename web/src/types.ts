/**
 * The API's shapes, taken from the schemas that validate it (`functions/api/schemas.ts`), so the
 * dashboard and the API cannot disagree about a field. Type-only imports: nothing of zod reaches the
 * bundle.
 */
import type { z } from 'zod';
import type * as api from '../../functions/api/schemas.js';
import type { LeadStatus } from '../../functions/domain/types.js';

export type { LeadStatus };
export type Lead = z.output<typeof api.Lead>;
export type LeadDetail = z.output<typeof api.LeadDetail>;
export type Assignment = z.output<typeof api.Assignment>;
export type TraceEntry = z.output<typeof api.TraceEntrySchema>;
export type StoredEvent = z.output<typeof api.EventSchema>;
export type Recipient = z.output<typeof api.Recipient>;
export type RecipientInput = z.input<typeof api.RecipientCreate>;
export type Campaign = z.output<typeof api.Campaign>;
export type CampaignInput = z.input<typeof api.CampaignCreate>;
export type WorkingHours = NonNullable<Recipient['workingHours']>;

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/** What lead events carry in `data.lead` (functions/usecases/runAllocation.ts `leadSummary`). */
export interface LeadSummary {
  id: string;
  status: LeadStatus;
  reason: string | null;
  firstName: string | null;
  lastName: string | null;
  state: string | null;
  campaign: string | null;
  receivedAt: string;
}

/** A realtime message (`/ws`) or a stored event (`/api/events`): the same record. */
export interface LiveEvent {
  id: number;
  type: string;
  at: string;
  data: Record<string, unknown>;
}

export interface Stats {
  leads: { total: number; byStatus: Partial<Record<LeadStatus, number>> };
  assignedToday: number;
  recipients: {
    id: string;
    name: string;
    active: boolean;
    assignedToday: number;
    dailyCap: number | null;
    quota: number | null;
    quotaRemaining: number | null;
  }[];
  queue: { depth: number | null; inFlight: number | null; dlq: number | null };
  unpublishedEvents: number;
}

/** `POST /api/campaigns/:key/simulate`: what the allocator would decide, without storing anything. */
export type SimulationResult = z.output<typeof api.SimulationResults>['results'][number];
export type SimulationOverrides = NonNullable<z.input<typeof api.Simulate>['overrides']>;
export type ReassignResult = z.output<typeof api.ReassignResult>;
