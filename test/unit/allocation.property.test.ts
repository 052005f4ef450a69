/**
 * Property tests of the allocation rule: random recipients and campaigns, random lead sequences, and
 * the caller simulated around `decideAllocation` (counting each pick against the recipient's local
 * day, its quota and the rotation), checking SPEC §4's invariants after every single lead.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decideAllocation,
  type AllocationDecision,
  type CampaignRule,
  type CandidateRecipient,
  type LeadToAllocate,
} from '../../functions/domain/allocation.js';
import { isWithinWorkingHours, localDate } from '../../functions/domain/time.js';
import { WEEKDAYS, type StateRouting, type WorkingHours } from '../../functions/domain/types.js';
import { aRecipient } from './factories.js';

const START = new Date('2024-03-08T12:00:00Z'); // spans the New York spring-forward weekend
const STATES = ['CA', 'NY', 'TX'] as const;
const ZONES = ['America/New_York', 'America/Los_Angeles', 'Asia/Kolkata', 'Pacific/Auckland'] as const;
const ROTATION_REASONS = ['state_match_round_robin', 'round_robin', 'cap_overflow_fallback'];

/* ---------------------------------------------------------------------------------------------- */
/* Arbitraries                                                                                     */

const clockTimes = Array.from(
  { length: 49 },
  (_, i) => `${String(Math.floor(i / 2)).padStart(2, '0')}:${i % 2 ? '30' : '00'}`,
);
const startTime = fc.constantFrom(...clockTimes.slice(0, 48));
const endTime = fc.constantFrom(...clockTimes.slice(1));

const workingHours: fc.Arbitrary<WorkingHours | null> = fc.option(
  fc
    .array(fc.tuple(fc.constantFrom(...WEEKDAYS), startTime, endTime), { maxLength: 7 })
    .map((days) => Object.fromEntries(days.map(([day, start, end]) => [day, [start, end]])) as WorkingHours),
  { freq: 2 },
);

interface RecipientConfig {
  active: boolean;
  weight: number;
  dailyCap: number | null;
  quota: number | null;
  timezone: string;
  workingHours: WorkingHours | null;
  states: string[];
}

const recipientConfig = (options: { constrained: boolean }): fc.Arbitrary<RecipientConfig> =>
  fc.record({
    active: options.constrained ? fc.integer({ min: 0, max: 9 }).map((n) => n > 0) : fc.constant(true),
    weight: fc.integer({ min: 1, max: 5 }),
    dailyCap: options.constrained
      ? fc.option(fc.integer({ min: 0, max: 8 }), { freq: 2 })
      : fc.constant(null),
    quota: options.constrained ? fc.option(fc.integer({ min: 0, max: 25 }), { freq: 2 }) : fc.constant(null),
    timezone: fc.constantFrom(...ZONES),
    workingHours: options.constrained ? workingHours : fc.constant(null),
    states: fc.subarray([...STATES]),
  });

interface World {
  recipients: (RecipientConfig & { id: string })[];
  campaign: CampaignRule;
}

const world = (options: { constrained: boolean }): fc.Arbitrary<World> =>
  fc
    .array(recipientConfig(options), { minLength: 1, maxLength: 8 })
    .chain((configs) => {
      const recipients = configs.map((config, i) => ({ ...config, id: `r${i + 1}` }));
      const ids = recipients.map((r) => r.id);
      return fc.record({
        recipients: fc.constant(recipients),
        k: fc.integer({ min: 1, max: 3 }),
        statics: fc.subarray(ids, { maxLength: Math.min(2, ids.length) }),
        stateRouting: fc.constantFrom<StateRouting>('prefer', 'require', 'ignore'),
        staticOptional: fc.boolean(),
      });
    })
    .map(({ recipients, k, statics, stateRouting, staticOptional }) => ({
      recipients,
      campaign: {
        key: 'c',
        recipientsPerLead: Math.max(k, statics.length),
        staticRecipientIds: statics,
        poolRecipientIds: recipients.map((r) => r.id).filter((id) => !statics.includes(id)),
        stateRouting,
        staticOptional,
      },
    }));

interface LeadEvent {
  state: string | null;
  minutesLater: number;
  returning: number | null;
  previous: number[];
}

const leadEvents = (options: {
  history: boolean;
  state?: fc.Arbitrary<string | null>;
}): fc.Arbitrary<LeadEvent[]> =>
  fc.array(
    fc.record({
      state: options.state ?? fc.constantFrom<string | null>(...STATES, null),
      minutesLater: fc.integer({ min: 1, max: 240 }),
      returning: options.history ? fc.option(fc.integer({ min: 0, max: 8 }), { freq: 3 }) : fc.constant(null),
      previous: options.history
        ? fc.array(fc.integer({ min: 0, max: 8 }), { maxLength: 2 })
        : fc.constant([]),
    }),
    { minLength: 1, maxLength: 60 },
  );

/* ---------------------------------------------------------------------------------------------- */
/* The simulated caller                                                                            */

interface Ledger {
  /** Assignments per recipient per local date in its own timezone. */
  perLocalDay: Map<string, number>;
  quotaRemaining: Map<string, number | null>;
  rotationPicks: Map<string, number>;
  lastPickedAt: Map<string, Date | null>;
}

function newLedger(w: World): Ledger {
  return {
    perLocalDay: new Map(),
    quotaRemaining: new Map(w.recipients.map((r) => [r.id, r.quota])),
    rotationPicks: new Map(w.recipients.map((r) => [r.id, 0])),
    lastPickedAt: new Map(w.recipients.map((r) => [r.id, null])),
  };
}

const dayKey = (id: string, timezone: string, at: Date): string => `${id}|${localDate(at, timezone)}`;

/** The snapshot the allocator would read under lock at `at`. */
function snapshot(w: World, ledger: Ledger, at: Date): CandidateRecipient[] {
  return w.recipients.map((r) =>
    aRecipient({
      id: r.id,
      active: r.active,
      states: r.states,
      dailyCap: r.dailyCap,
      quotaRemaining: ledger.quotaRemaining.get(r.id) ?? null,
      weight: r.weight,
      timezone: r.timezone,
      workingHours: r.workingHours,
      assignedToday: ledger.perLocalDay.get(dayKey(r.id, r.timezone, at)) ?? 0,
      rotationPicks: ledger.rotationPicks.get(r.id) ?? 0,
      lastPickedAt: ledger.lastPickedAt.get(r.id) ?? null,
    }),
  );
}

/** What the allocator writes for an `assigned` decision. */
function apply(w: World, ledger: Ledger, decision: AllocationDecision, at: Date): void {
  if (decision.outcome !== 'assigned') return;
  for (const pick of decision.picks) {
    const r = w.recipients.find((x) => x.id === pick.recipientId);
    if (!r) throw new Error(`picked unknown ${pick.recipientId}`);
    const key = dayKey(r.id, r.timezone, at);
    ledger.perLocalDay.set(key, (ledger.perLocalDay.get(key) ?? 0) + 1);
    const quota = ledger.quotaRemaining.get(r.id);
    if (quota !== null && quota !== undefined) ledger.quotaRemaining.set(r.id, quota - 1);
    if (pick.rotates) {
      ledger.rotationPicks.set(r.id, (ledger.rotationPicks.get(r.id) ?? 0) + 1);
      ledger.lastPickedAt.set(r.id, at);
    }
  }
}

function leadAt(index: number, event: LeadEvent): LeadToAllocate {
  return {
    id: `lead-${index}`,
    state: event.state,
    returningRecipientId: event.returning === null ? null : `r${event.returning + 1}`,
    previousRecipientIds: event.previous.map((i) => `r${i + 1}`),
  };
}

/** SPEC §4.1 written out independently of the implementation. */
function eligible(
  c: CandidateRecipient,
  lead: LeadToAllocate,
  at: Date,
  statePolicyApplies: boolean,
): boolean {
  return (
    !lead.previousRecipientIds.includes(c.id) &&
    c.active &&
    (c.dailyCap === null || c.assignedToday < c.dailyCap) &&
    (c.quotaRemaining === null || c.quotaRemaining > 0) &&
    isWithinWorkingHours(at, c.timezone, c.workingHours) &&
    (!statePolicyApplies || c.states.length === 0 || (lead.state !== null && c.states.includes(lead.state)))
  );
}

/** Runs a lead sequence, calling `check` after each decision with the snapshot it was made on. */
function simulate(
  w: World,
  events: LeadEvent[],
  check: (args: {
    decision: AllocationDecision;
    lead: LeadToAllocate;
    candidates: CandidateRecipient[];
    at: Date;
    ledger: Ledger;
  }) => void,
): Ledger {
  const ledger = newLedger(w);
  let at = START;
  events.forEach((event, index) => {
    at = new Date(at.getTime() + event.minutesLater * 60_000);
    const lead = leadAt(index, event);
    const candidates = snapshot(w, ledger, at);
    const decision = decideAllocation({ lead, campaign: w.campaign, candidates, now: at });
    apply(w, ledger, decision, at);
    check({ decision, lead, candidates, at, ledger });
  });
  return ledger;
}

/* ---------------------------------------------------------------------------------------------- */
/* Properties                                                                                      */

describe('decideAllocation properties', () => {
  it('never exceeds a cap or quota, assigns exactly k distinct eligible recipients incl. every static, or none only when fewer than k are eligible', () => {
    fc.assert(
      fc.property(world({ constrained: true }), leadEvents({ history: true }), (w, events) => {
        const { campaign } = w;
        const k = campaign.recipientsPerLead;
        const members = [...campaign.staticRecipientIds, ...campaign.poolRecipientIds];
        simulate(w, events, ({ decision, lead, candidates, at, ledger }) => {
          const byId = new Map(candidates.map((c) => [c.id, c]));
          const requireState = campaign.stateRouting === 'require';
          const staticOk = campaign.staticRecipientIds.map((id) => eligible(byId.get(id)!, lead, at, false));
          const poolOk = campaign.poolRecipientIds.filter((id) =>
            eligible(byId.get(id)!, lead, at, requireState),
          );
          const reachable = Math.min(staticOk.filter(Boolean).length, k) + poolOk.length;
          // A static that held the lead before is skipped (reassignment), never blocking.
          const staticsBlock =
            !campaign.staticOptional &&
            campaign.staticRecipientIds.some(
              (id, i) => !staticOk[i] && !lead.previousRecipientIds.includes(id),
            );

          // one trace entry per member of the campaign
          expect(decision.trace.map((t) => t.recipientId)).toEqual(members);

          if (decision.outcome === 'unassigned') {
            expect(staticsBlock || reachable < k).toBe(true);
            expect(decision.trace.every((t) => !t.selected)).toBe(true);
            return;
          }
          expect(staticsBlock || reachable < k).toBe(false);
          const ids = decision.picks.map((p) => p.recipientId);
          expect(ids).toHaveLength(k);
          expect(new Set(ids).size).toBe(k);
          for (const pick of decision.picks) {
            const isStatic = campaign.staticRecipientIds.includes(pick.recipientId);
            expect(eligible(byId.get(pick.recipientId)!, lead, at, !isStatic && requireState)).toBe(true);
            expect(pick.rotates).toBe(ROTATION_REASONS.includes(pick.reason));
          }
          const eligibleStatics = campaign.staticRecipientIds.filter((_, i) => staticOk[i]);
          if (eligibleStatics.length <= k) expect(ids).toEqual(expect.arrayContaining(eligibleStatics));
          expect(
            decision.trace
              .filter((t) => t.selected)
              .map((t) => t.recipientId)
              .sort(),
          ).toEqual([...ids].sort());

          // after the caller has counted the picks
          for (const r of w.recipients) {
            const today = ledger.perLocalDay.get(dayKey(r.id, r.timezone, at)) ?? 0;
            if (r.dailyCap !== null) expect(today).toBeLessThanOrEqual(r.dailyCap);
            const quota = ledger.quotaRemaining.get(r.id);
            if (quota !== null && quota !== undefined) expect(quota).toBeGreaterThanOrEqual(0);
          }
        });
      }),
      { numRuns: 300 },
    );
  });

  it('keeps equal-weight members of one tier within 1 of each other while they stay eligible', () => {
    fc.assert(
      fc.property(
        world({ constrained: true }),
        leadEvents({ history: false, state: fc.constant('CA') }),
        (w, events) => {
          const { campaign } = w;
          const requireState = campaign.stateRouting === 'require';
          // With every lead from CA, each pool member sits in the same tier for the whole sequence.
          const tierOf = (r: RecipientConfig): string =>
            campaign.stateRouting === 'prefer' && r.states.length > 0 && !r.states.includes('CA')
              ? 'overflow'
              : 'first';
          const alwaysEligible = new Set(campaign.poolRecipientIds);
          simulate(w, events, ({ lead, candidates, at, ledger }) => {
            for (const c of candidates) {
              if (!eligible(c, lead, at, requireState)) alwaysEligible.delete(c.id);
            }
            const groups = new Map<string, number[]>();
            for (const r of w.recipients) {
              if (!alwaysEligible.has(r.id)) continue;
              const key = `${tierOf(r)}|${r.weight}`;
              groups.set(key, [...(groups.get(key) ?? []), ledger.rotationPicks.get(r.id) ?? 0]);
            }
            for (const counts of groups.values()) {
              expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
            }
          });
        },
      ),
      { numRuns: 300 },
    );
  });

  it('with equal weights and a fixed eligible set, counts differ by at most 1 after every lead, for any k', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 1, max: 120 }),
        (size, kWanted, leads) => {
          const k = Math.min(kWanted, size);
          const w: World = {
            recipients: Array.from({ length: size }, (_, i) => ({
              id: `r${i + 1}`,
              active: true,
              weight: 1,
              dailyCap: null,
              quota: null,
              timezone: 'America/New_York',
              workingHours: null,
              states: [],
            })),
            campaign: {
              key: 'c',
              recipientsPerLead: k,
              staticRecipientIds: [],
              poolRecipientIds: Array.from({ length: size }, (_, i) => `r${i + 1}`),
              stateRouting: 'ignore',
              staticOptional: false,
            },
          };
          const events = Array.from({ length: leads }, () => ({
            state: null,
            minutesLater: 1,
            returning: null,
            previous: [],
          }));
          simulate(w, events, ({ decision, ledger }) => {
            expect(decision.outcome).toBe('assigned');
            const counts = [...ledger.rotationPicks.values()];
            expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
          });
        },
      ),
      { numRuns: 300 },
    );
  });

  it('with weights, keeps every count within 1 of its weighted share after every lead', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 8 }),
        fc.integer({ min: 1, max: 200 }),
        fc.constantFrom<StateRouting>('prefer', 'require', 'ignore'),
        (weights, leads, stateRouting) => {
          const w: World = {
            recipients: weights.map((weight, i) => ({
              id: `r${i + 1}`,
              active: true,
              weight,
              dailyCap: null,
              quota: null,
              timezone: 'Asia/Kolkata',
              workingHours: null,
              states: [],
            })),
            campaign: {
              key: 'c',
              recipientsPerLead: 1,
              staticRecipientIds: [],
              poolRecipientIds: weights.map((_, i) => `r${i + 1}`),
              stateRouting,
              staticOptional: false,
            },
          };
          const totalWeight = weights.reduce((a, b) => a + b, 0);
          const events = Array.from({ length: leads }, () => ({
            state: 'TX',
            minutesLater: 7,
            returning: null,
            previous: [],
          }));
          let n = 0;
          simulate(w, events, ({ ledger }) => {
            n += 1;
            weights.forEach((weight, i) => {
              const share = (n * weight) / totalWeight;
              expect(Math.abs((ledger.rotationPicks.get(`r${i + 1}`) ?? 0) - share)).toBeLessThan(1);
            });
          });
        },
      ),
      { numRuns: 300 },
    );
  });

  it('decides the same whatever the order of candidates and pool members', () => {
    fc.assert(
      fc.property(
        world({ constrained: true }),
        fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 8, maxLength: 8 }),
        fc.array(fc.option(fc.integer({ min: 0, max: 2 })), { minLength: 8, maxLength: 8 }),
        fc.constantFrom<string | null>(...STATES, null),
        fc.integer({ min: 0, max: 7 * 24 * 60 }),
        fc.nat(),
        (w, picks, lastPicked, state, minutes, seed) => {
          // Prepare: few distinct counters and timestamps, so ties are common
          const at = new Date(START.getTime() + minutes * 60_000);
          const candidates = w.recipients.map((r, i) =>
            aRecipient({
              ...r,
              quotaRemaining: r.quota,
              rotationPicks: picks[i] ?? 0,
              lastPickedAt:
                lastPicked[i] == null ? null : new Date(START.getTime() - (lastPicked[i] ?? 0) * 60_000),
            }),
          );
          const lead: LeadToAllocate = {
            id: `lead-${seed}`,
            state,
            previousRecipientIds: [],
            returningRecipientId: null,
          };
          const shuffled = <T>(items: T[]): T[] =>
            items
              .map((item, i) => ({ item, key: (Math.imul(i + 1, 2654435761) ^ seed) >>> 0 }))
              .sort((a, b) => a.key - b.key)
              .map(({ item }) => item);

          // Act
          const original = decideAllocation({ lead, campaign: w.campaign, candidates, now: at });
          const reordered = decideAllocation({
            lead,
            campaign: { ...w.campaign, poolRecipientIds: shuffled(w.campaign.poolRecipientIds) },
            candidates: shuffled(candidates).reverse(),
            now: at,
          });

          // Assess
          expect(reordered.outcome).toBe(original.outcome);
          if (original.outcome === 'assigned' && reordered.outcome === 'assigned') {
            expect(reordered.picks).toEqual(original.picks);
          }
          const byId = (d: AllocationDecision) =>
            [...d.trace].sort((a, b) => a.recipientId.localeCompare(b.recipientId));
          expect(byId(reordered)).toEqual(byId(original));
        },
      ),
      { numRuns: 300 },
    );
  });
});
