/**
 * The allocation rule (SPEC §4) as a pure function: given a lead, a campaign and a snapshot of every
 * candidate recipient (taken under lock by the caller), decide which k recipients get the lead, or
 * that none do, with a trace of every candidate and why it was or was not chosen.
 *
 * The caller (the allocator use case) owns locking and persistence; this module owns the decision.
 * After an `assigned` decision the caller, in the same transaction, adds 1 to every picked
 * recipient's `assignedToday`, takes 1 off its `quotaRemaining` (when it has a quota), and for picks
 * with `rotates: true` adds 1 to `rotationPicks` and sets `lastPickedAt` to `now`.
 *
 * The decision, in order:
 *
 * 1. Eligibility of each candidate; the first failed check is its exclusion reason: held this lead
 *    before (`already_assigned`), `inactive`, daily cap reached (`capped`), no quota left (`quota`),
 *    outside its working hours on its own clock (`off_hours`), and for pool members under
 *    stateRouting `require` only, not covering the lead's state (`state`).
 * 2. Returning contact: the phone's earlier recipient, when it is a pool member, eligible, and a slot
 *    is left after the static recipients, is picked first (`returning_contact`, no rotation). When it
 *    is a static recipient it is simply picked as one (`static`). When it is in neither list it is
 *    not in the campaign and so not eligible (SPEC §4.1); it is left out of the trace.
 * 3. Every static recipient, in the campaign's configured order (`static`). One that is not eligible
 *    makes the whole decision `unassigned` unless `staticOptional`, in which case it is skipped. One
 *    that held this lead before (`already_assigned`: a reassignment, decay or backlog retry) is always
 *    skipped: it had the lead, and the new choice is among the others.
 *    Static recipients are contractual and always take their slots, so they win over a returning
 *    contact when they fill all k. More static recipients than k is a configuration the API rejects;
 *    should one get here, the first k eligible in configured order are taken.
 * 4. The remaining slots from the pool, tier by tier, in fair rotation (`pickFairly`):
 *    - `ignore`: one tier (`pool`, reason `round_robin`), state not looked at.
 *    - `prefer`: first members covering the lead's state (`state_match`,
 *      `state_match_round_robin`), then the others (`overflow`, `cap_overflow_fallback`). A lead
 *      without a state has nothing to prefer: one `pool` tier, `round_robin`.
 *    - `require`: only members covering the lead's state (`state_match`); the rest are excluded with
 *      `state`. A lead without a state is covered only by members with empty `states`.
 *    A member "covers" a state when its `states` list it or when its `states` are empty: empty means
 *    all states (SPEC §3), so a generalist is a full member of every state's first tier rather than a
 *    second-class overflow behind the specialists. A manager who wants specialists first gives the
 *    generalists explicit states or a lower weight.
 *    `reasonOverride` (backlog retry, decay reassignment) replaces the reason of these rotation picks
 *    only; static and returning-contact picks keep theirs.
 * 5. Exactly k distinct recipients or none: fewer than k found is `unassigned` /
 *    `no_eligible_recipient` (all or nothing), and no counter moves.
 *
 * The trace has one entry per static and pool member of the campaign, statics first, each in the
 * campaign's configured order. A configured member missing from `candidates` (deleted since) is traced
 * as `inactive`. Candidates that are in neither list are ignored.
 */
import { isWithinWorkingHours } from './time.js';
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

/** `manual`: named by an admin in a reassignment (no rule ran); the other tiers are the rule's. */
export type Tier = 'returning' | 'static' | 'state_match' | 'pool' | 'overflow' | 'manual';

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

/** The fairness state of one pool member in one rotation tier. */
export interface RotationMember {
  id: string;
  weight: number;
  rotationPicks: number;
  lastPickedAt: Date | null;
}

/**
 * FNV-1a (32-bit) over the UTF-8 bytes of `leadId` and `recipientId`: the last tie-break of the
 * rotation. It depends on the lead, so exact ties fall to different recipients on different leads,
 * and never on the order the candidates were loaded in (which would be creation order in practice).
 */
export function tieBreakHash(leadId: string, recipientId: string): number {
  let hash = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(`${leadId}\u001f${recipientId}`)) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

function hasUsableWeight(member: RotationMember): boolean {
  return Number.isFinite(member.weight) && member.weight > 0;
}

/** Negative when `a` should be picked before `b`. */
function compareForRotation(a: RotationMember, b: RotationMember, leadId: string): number {
  // (picks_a + 1) / w_a against (picks_b + 1) / w_b, cross-multiplied to stay exact for integer weights.
  const byPriority = (a.rotationPicks + 1) * b.weight - (b.rotationPicks + 1) * a.weight;
  if (byPriority !== 0) return byPriority;
  const aPicked = a.lastPickedAt?.getTime() ?? -Infinity;
  const bPicked = b.lastPickedAt?.getTime() ?? -Infinity;
  if (aPicked !== bPicked) return aPicked < bPicked ? -1 : 1;
  const byHash = tieBreakHash(leadId, a.id) - tieBreakHash(leadId, b.id);
  if (byHash !== 0) return byHash;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/**
 * Chooses the next member of one rotation tier by the quota method (Balinski & Young, 1975).
 *
 * With N the picks and W the weights summed over `members`, member i is admissible while
 * `picks_i < w_i · (N + 1) / W` (it would not pass its upper quota by taking this pick). Some member
 * always is, since the right-hand sides sum to N + 1 > N. Among the admissible, the smallest
 * `(picks_i + 1) / w_i` wins (Jefferson/D'Hondt priority); ties go to the longest unpicked (never
 * picked first), then to `tieBreakHash`. Never to array order.
 *
 * Why this method: it is house-monotone and stays within quota, so over a fixed set of members every
 * count stays within 1 of its weighted share `n · w_i / W` after every pick — with equal weights,
 * counts differ by at most 1. A plain round-robin pointer cannot do weights, and a divisor method
 * alone can drift past quota.
 *
 * `members` are those still selectable for this lead; members with a weight that is not a positive
 * number are never picked (a weight of 0 pauses a member's rotation). Undefined when none is left.
 */
export function pickFairly<T extends RotationMember>(members: readonly T[], leadId: string): T | undefined {
  const pickable = members.filter(hasUsableWeight);
  if (pickable.length === 0) return undefined;
  const totalPicks = pickable.reduce((sum, m) => sum + m.rotationPicks, 0);
  const totalWeight = pickable.reduce((sum, m) => sum + m.weight, 0);
  const admissible = pickable.filter((m) => m.rotationPicks * totalWeight < m.weight * (totalPicks + 1));
  // Non-empty by the argument above; the fallback only guards against float rounding with odd weights.
  const field = admissible.length > 0 ? admissible : pickable;
  return field.reduce((best, m) => (compareForRotation(m, best, leadId) < 0 ? m : best));
}

/** Whether a recipient covering `states` (empty = all) covers a lead in `leadState` (null = unknown). */
export function coversState(states: readonly string[], leadState: string | null): boolean {
  if (states.length === 0) return true;
  return leadState !== null && states.includes(leadState);
}

/**
 * Why `candidate` cannot take the lead at `now`, or null when it can. Checks in the order documented
 * above; `requireState` is true for pool members under stateRouting `require`.
 */
export function exclusionReason(
  candidate: CandidateRecipient,
  lead: LeadToAllocate,
  now: Date,
  requireState: boolean,
): ExclusionReason | null {
  if (lead.previousRecipientIds.includes(candidate.id)) return 'already_assigned';
  if (!candidate.active) return 'inactive';
  if (candidate.dailyCap !== null && candidate.assignedToday >= candidate.dailyCap) return 'capped';
  if (candidate.quotaRemaining !== null && candidate.quotaRemaining <= 0) return 'quota';
  if (!withinHours(candidate, now)) return 'off_hours';
  if (requireState && !coversState(candidate.states, lead.state)) return 'state';
  return null;
}

function withinHours(candidate: CandidateRecipient, now: Date): boolean {
  try {
    return isWithinWorkingHours(now, candidate.timezone, candidate.workingHours);
  } catch {
    // An unknown timezone (rejected by the API, so only old or hand-edited data) fails closed: the
    // recipient shows as `off_hours` in the trace instead of failing every allocation of the campaign.
    return false;
  }
}

const ROTATION_REASON: Record<'state_match' | 'pool' | 'overflow', AssignmentReason> = {
  state_match: 'state_match_round_robin',
  pool: 'round_robin',
  overflow: 'cap_overflow_fallback',
};

interface Member {
  id: string;
  candidate: CandidateRecipient | undefined;
  tier: Tier;
  exclusion: ExclusionReason | null;
}

function poolTier(
  routing: StateRouting,
  candidate: CandidateRecipient | undefined,
  leadState: string | null,
): Tier {
  if (routing === 'ignore') return 'pool';
  if (routing === 'require') return 'state_match';
  if (leadState === null) return 'pool';
  return candidate && coversState(candidate.states, leadState) ? 'state_match' : 'overflow';
}

function rotationTiers(
  routing: StateRouting,
  leadState: string | null,
): ('state_match' | 'pool' | 'overflow')[] {
  if (routing === 'ignore') return ['pool'];
  if (routing === 'require') return ['state_match'];
  return leadState === null ? ['pool'] : ['state_match', 'overflow'];
}

function unique(ids: readonly string[]): string[] {
  return [...new Set(ids)];
}

/**
 * Decides who gets `input.lead` (SPEC §4); see the module comment for the rules and the decisions
 * behind them. Pure and deterministic: the same input gives the same decision whatever the order of
 * `candidates`. Throws a RangeError when `recipientsPerLead` is not a positive integer.
 */
export function decideAllocation(input: AllocationInput): AllocationDecision {
  const { lead, campaign, now } = input;
  const k = campaign.recipientsPerLead;
  if (!Number.isInteger(k) || k < 1) {
    throw new RangeError(`recipientsPerLead must be a positive integer, got ${k}`);
  }
  const byId = new Map(input.candidates.map((c) => [c.id, c]));
  const staticIds = unique(campaign.staticRecipientIds);
  const staticIdSet = new Set(staticIds);
  const poolIds = unique(campaign.poolRecipientIds).filter((id) => !staticIdSet.has(id));
  const requireState = campaign.stateRouting === 'require';

  const member = (id: string, tier: Tier, checkState: boolean): Member => {
    const candidate = byId.get(id);
    const exclusion = candidate ? exclusionReason(candidate, lead, now, checkState) : 'inactive';
    return { id, candidate, tier, exclusion };
  };
  const statics = staticIds.map((id) => member(id, 'static', false));
  const pool = poolIds.map((id) =>
    member(
      id,
      id === lead.returningRecipientId
        ? 'returning'
        : poolTier(campaign.stateRouting, byId.get(id), lead.state),
      requireState,
    ),
  );

  const picks: Pick[] = [];
  const trace = (outcomePicks: Pick[]): TraceEntry[] =>
    [...statics, ...pool].map((m) => {
      const pick = outcomePicks.find((p) => p.recipientId === m.id);
      return {
        recipientId: m.id,
        name: m.candidate?.name ?? m.id,
        tier: m.tier,
        reason: pick ? pick.reason : (m.exclusion ?? 'not_selected'),
        selected: pick !== undefined,
      };
    });
  const unassigned = (): AllocationDecision => ({
    outcome: 'unassigned',
    reason: 'no_eligible_recipient',
    trace: trace([]),
  });

  // A static recipient that already held this lead (a reassignment) has had its contractual share:
  // it is skipped rather than blocking the new choice.
  const blocking = statics.some((m) => m.exclusion !== null && m.exclusion !== 'already_assigned');
  if (!campaign.staticOptional && blocking) return unassigned();
  const staticPicks: Pick[] = statics
    .filter((m) => m.exclusion === null)
    .slice(0, k)
    .map((m) => ({ recipientId: m.id, reason: 'static', rotates: false }));

  const returning = pool.find((m) => m.tier === 'returning');
  if (returning && returning.exclusion === null && staticPicks.length < k) {
    picks.push({ recipientId: returning.id, reason: 'returning_contact', rotates: false });
  }
  picks.push(...staticPicks);

  // One pick at a time, each by the quota method over the tier's members not yet chosen for this lead
  // (recipients are distinct). A chosen member leaves the selection, so no counter has to move
  // between picks; the caller counts the picks when it stores the decision.
  for (const tier of rotationTiers(campaign.stateRouting, lead.state)) {
    const selectable = pool.flatMap((m): RotationMember[] =>
      m.tier === tier && m.candidate && m.exclusion === null ? [m.candidate] : [],
    );
    while (picks.length < k) {
      const next = pickFairly(selectable, lead.id);
      if (!next) break;
      picks.push({
        recipientId: next.id,
        reason: input.reasonOverride ?? ROTATION_REASON[tier],
        rotates: true,
      });
      selectable.splice(selectable.indexOf(next), 1);
    }
  }

  if (picks.length < k) return unassigned();
  return { outcome: 'assigned', picks, trace: trace(picks) };
}
