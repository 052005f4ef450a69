/**
 * The allocation rule (SPEC §4) as a pure function: given a lead, a campaign and a snapshot of every
 * candidate recipient (taken under lock by the caller), decide which k recipients get the lead, or
 * that none do, with a trace of every candidate and why it was or was not chosen.
 *
 * The caller (the allocator use case) owns locking and persistence; this module owns the decision.
 */
import type { AssignmentReason, ExclusionReason, StateRouting, WorkingHours } from './types.js';

export interface CandidateRecipient {
  id: string;
  name: string;
  active: boolean;
  /** USPS codes covered; empty = all states. */
  states: string[];
  dailyCap: number | null;
  /** Remaining allowance until the next quota reset; null = no quota. */
  quotaRemaining: number | null;
  weight: number;
  timezone: string;
  workingHours: WorkingHours | null;
  /** Assignments counted against today's cap, "today" being `now` in the recipient's timezone. */
  assignedToday: number;
  /** Pool picks of this recipient in this campaign's rotation (fairness state). */
  rotationPicks: number;
  /** When this recipient was last picked from this campaign's pool; null = never. */
  lastPickedAt: Date | null;
}

export interface CampaignRule {
  key: string;
  recipientsPerLead: number;
  staticRecipientIds: string[];
  /** Pool members (static recipients are never also pool members of the same decision). */
  poolRecipientIds: string[];
  stateRouting: StateRouting;
  staticOptional: boolean;
}

export interface LeadToAllocate {
  id: string;
  state: string | null;
  /** Recipients that held this lead before (never chosen again). */
  previousRecipientIds: string[];
  /** Earlier recipient of the same phone (outside the duplicate window), if any. */
  returningRecipientId: string | null;
}

export type Tier = 'returning' | 'static' | 'state_match' | 'pool' | 'overflow';

export interface TraceEntry {
  recipientId: string;
  name: string;
  tier: Tier;
  /** Assignment reason when chosen; exclusion reason when left out; `not_selected` when eligible but not needed. */
  reason: AssignmentReason | ExclusionReason | 'not_selected';
  selected: boolean;
}

export interface Pick {
  recipientId: string;
  reason: AssignmentReason;
  /** Pool picks advance the campaign's rotation; static and returning-contact picks do not. */
  rotates: boolean;
}

export type AllocationDecision =
  | { outcome: 'assigned'; picks: Pick[]; trace: TraceEntry[] }
  | { outcome: 'unassigned'; reason: 'no_eligible_recipient'; trace: TraceEntry[] };

export interface AllocationInput {
  lead: LeadToAllocate;
  campaign: CampaignRule;
  /** Every static and pool recipient of the campaign, whatever its state. */
  candidates: CandidateRecipient[];
  now: Date;
  /** Reason to record for pool picks instead of the rotation reasons (e.g. `backlog_retry`, `decay_reassign`). */
  reasonOverride?: AssignmentReason;
}
