import { describe, expect, it } from 'vitest';
import {
  decideAllocation,
  pickFairly,
  tieBreakHash,
  type AllocationDecision,
  type AllocationInput,
  type CandidateRecipient,
  type LeadToAllocate,
  type Pick,
} from '../../functions/domain/allocation.js';
import type { ExclusionReason } from '../../functions/domain/types.js';
import { WEDNESDAY_NOON_UTC, aCampaign, aLead, aRecipient } from './factories.js';

const now = WEDNESDAY_NOON_UTC;

function picksOf(decision: AllocationDecision): Pick[] {
  return decision.outcome === 'assigned' ? decision.picks : [];
}

function traceOf(decision: AllocationDecision, recipientId: string) {
  return decision.trace.find((entry) => entry.recipientId === recipientId);
}

/** What the allocator does with a decision: count the picks on the recipients. */
function applyPicks(
  candidates: CandidateRecipient[],
  decision: AllocationDecision,
  at: Date,
): CandidateRecipient[] {
  return candidates.map((c) => {
    const pick = picksOf(decision).find((p) => p.recipientId === c.id);
    if (!pick) return c;
    return {
      ...c,
      assignedToday: c.assignedToday + 1,
      quotaRemaining: c.quotaRemaining === null ? null : c.quotaRemaining - 1,
      rotationPicks: pick.rotates ? c.rotationPicks + 1 : c.rotationPicks,
      lastPickedAt: pick.rotates ? at : c.lastPickedAt,
    };
  });
}

describe('decideAllocation: order of recipients', () => {
  it('gives the seed-002 shape (P1 static, pool P2–P4, k=3) two leads each to P2, P3, P4 after three leads', () => {
    // Prepare
    let candidates = ['P1', 'P2', 'P3', 'P4'].map((id) => aRecipient({ id }));
    const campaign = aCampaign({
      recipientsPerLead: 3,
      staticRecipientIds: ['P1'],
      poolRecipientIds: ['P2', 'P3', 'P4'],
    });
    const perRecipient = new Map<string, number>();

    // Act
    for (let n = 1; n <= 3; n++) {
      const at = new Date(now.getTime() + n * 60_000);
      const decision = decideAllocation({ lead: aLead({ id: `lead-${n}` }), campaign, candidates, now: at });
      expect(decision.outcome).toBe('assigned');
      expect(picksOf(decision)[0]).toEqual({ recipientId: 'P1', reason: 'static', rotates: false });
      for (const pick of picksOf(decision))
        perRecipient.set(pick.recipientId, (perRecipient.get(pick.recipientId) ?? 0) + 1);
      candidates = applyPicks(candidates, decision, at);
    }

    // Assess
    expect(Object.fromEntries(perRecipient)).toEqual({ P1: 3, P2: 2, P3: 2, P4: 2 });
    expect(candidates.map((c) => c.rotationPicks)).toEqual([0, 2, 2, 2]);
  });

  it('picks statics first, then the pool, with reasons and rotation flags', () => {
    // Prepare
    const input: AllocationInput = {
      lead: aLead(),
      campaign: aCampaign({
        recipientsPerLead: 2,
        staticRecipientIds: ['S'],
        poolRecipientIds: ['A'],
        stateRouting: 'ignore',
      }),
      candidates: [aRecipient({ id: 'A' }), aRecipient({ id: 'S' })],
      now,
    };

    // Act
    const decision = decideAllocation(input);

    // Assess
    expect(decision).toEqual({
      outcome: 'assigned',
      picks: [
        { recipientId: 'S', reason: 'static', rotates: false },
        { recipientId: 'A', reason: 'round_robin', rotates: true },
      ],
      trace: [
        { recipientId: 'S', name: 'Recipient S', tier: 'static', reason: 'static', selected: true },
        { recipientId: 'A', name: 'Recipient A', tier: 'pool', reason: 'round_robin', selected: true },
      ],
    });
  });

  it('marks eligible members that were not needed as not_selected', () => {
    // Prepare
    const candidates = [aRecipient({ id: 'A', rotationPicks: 1 }), aRecipient({ id: 'B' })];
    const campaign = aCampaign({ poolRecipientIds: ['A', 'B'], stateRouting: 'ignore' });

    // Act
    const decision = decideAllocation({ lead: aLead(), campaign, candidates, now });

    // Assess
    expect(picksOf(decision).map((p) => p.recipientId)).toEqual(['B']);
    expect(traceOf(decision, 'A')).toMatchObject({ selected: false, reason: 'not_selected', tier: 'pool' });
  });

  it('applies reasonOverride to rotation picks only', () => {
    // Prepare
    const campaign = aCampaign({ recipientsPerLead: 2, staticRecipientIds: ['S'], poolRecipientIds: ['A'] });
    const candidates = [aRecipient({ id: 'S' }), aRecipient({ id: 'A' })];

    // Act
    const decision = decideAllocation({
      lead: aLead({ state: 'CA' }),
      campaign,
      candidates,
      now,
      reasonOverride: 'backlog_retry',
    });

    // Assess
    expect(picksOf(decision)).toEqual([
      { recipientId: 'S', reason: 'static', rotates: false },
      { recipientId: 'A', reason: 'backlog_retry', rotates: true },
    ]);
  });

  it('takes k distinct pool members for one lead, least picked first', () => {
    // Prepare
    const candidates = [
      aRecipient({ id: 'A', rotationPicks: 5 }),
      aRecipient({ id: 'B', rotationPicks: 3 }),
      aRecipient({ id: 'C', rotationPicks: 4 }),
      aRecipient({ id: 'D', rotationPicks: 3 }),
    ];
    const campaign = aCampaign({
      recipientsPerLead: 3,
      poolRecipientIds: ['A', 'B', 'C', 'D'],
      stateRouting: 'ignore',
    });

    // Act
    const decision = decideAllocation({ lead: aLead(), campaign, candidates, now });

    // Assess
    const picked = picksOf(decision).map((p) => p.recipientId);
    expect(new Set(picked).size).toBe(3);
    expect(picked.slice(0, 2).sort()).toEqual(['B', 'D']);
    expect(picked[2]).toBe('C');
  });
});

describe('decideAllocation: static recipients', () => {
  it('assigns nobody when a required static is not eligible, and says who and why', () => {
    // Prepare
    const candidates = [
      aRecipient({ id: 'S', dailyCap: 5, assignedToday: 5 }),
      aRecipient({ id: 'A' }),
      aRecipient({ id: 'B', active: false }),
    ];
    const campaign = aCampaign({
      recipientsPerLead: 2,
      staticRecipientIds: ['S'],
      poolRecipientIds: ['A', 'B'],
    });

    // Act
    const decision = decideAllocation({ lead: aLead(), campaign, candidates, now });

    // Assess
    expect(decision).toEqual({
      outcome: 'unassigned',
      reason: 'no_eligible_recipient',
      trace: [
        { recipientId: 'S', name: 'Recipient S', tier: 'static', reason: 'capped', selected: false },
        { recipientId: 'A', name: 'Recipient A', tier: 'pool', reason: 'not_selected', selected: false },
        { recipientId: 'B', name: 'Recipient B', tier: 'pool', reason: 'inactive', selected: false },
      ],
    });
  });

  it('skips an ineligible static when statics are optional, and fills from the pool', () => {
    // Prepare
    const candidates = [
      aRecipient({ id: 'S1', quotaRemaining: 0 }),
      aRecipient({ id: 'S2' }),
      aRecipient({ id: 'A' }),
      aRecipient({ id: 'B' }),
    ];
    const campaign = aCampaign({
      recipientsPerLead: 3,
      staticRecipientIds: ['S1', 'S2'],
      poolRecipientIds: ['A', 'B'],
      staticOptional: true,
    });

    // Act
    const decision = decideAllocation({ lead: aLead(), campaign, candidates, now });

    // Assess
    const [first, ...rest] = picksOf(decision);
    expect(first).toEqual({ recipientId: 'S2', reason: 'static', rotates: false });
    expect(rest.map((p) => p.recipientId).sort()).toEqual(['A', 'B']);
    expect(rest.map((p) => p.reason)).toEqual(['round_robin', 'round_robin']);
    expect(traceOf(decision, 'S1')).toMatchObject({ reason: 'quota', selected: false });
  });

  it('skips a required static that already held the lead (reassignment) and fills k from the pool', () => {
    // Prepare
    const candidates = [aRecipient({ id: 'S' }), aRecipient({ id: 'A' }), aRecipient({ id: 'B' })];
    const campaign = aCampaign({
      recipientsPerLead: 2,
      staticRecipientIds: ['S'],
      poolRecipientIds: ['A', 'B'],
    });

    // Act
    const decision = decideAllocation({
      lead: aLead({ previousRecipientIds: ['S', 'A'] }),
      campaign,
      candidates,
      now,
    });

    // Assess: S and A had it; only B is left, so k = 2 cannot be met, and S did not block the choice.
    expect(decision.outcome).toBe('unassigned');
    expect(traceOf(decision, 'S')).toMatchObject({ reason: 'already_assigned', selected: false });
    const second = decideAllocation({
      lead: aLead({ previousRecipientIds: ['S'] }),
      campaign,
      candidates,
      now,
    });
    expect(
      picksOf(second)
        .map((p) => p.recipientId)
        .sort(),
    ).toEqual(['A', 'B']);
    expect(traceOf(second, 'S')).toMatchObject({ reason: 'already_assigned', selected: false });
  });

  it('does not check states for statics', () => {
    // Prepare
    const candidates = [aRecipient({ id: 'S', states: ['TX'] })];
    const campaign = aCampaign({ staticRecipientIds: ['S'], stateRouting: 'require' });

    // Act
    const decision = decideAllocation({ lead: aLead({ state: 'CA' }), campaign, candidates, now });

    // Assess
    expect(picksOf(decision)).toEqual([{ recipientId: 'S', reason: 'static', rotates: false }]);
  });

  it('traces a configured recipient missing from the snapshot as inactive', () => {
    // Prepare
    const campaign = aCampaign({ staticRecipientIds: ['gone'], poolRecipientIds: ['A'] });

    // Act
    const decision = decideAllocation({
      lead: aLead(),
      campaign,
      candidates: [aRecipient({ id: 'A' })],
      now,
    });

    // Assess
    expect(decision.outcome).toBe('unassigned');
    expect(traceOf(decision, 'gone')).toEqual({
      recipientId: 'gone',
      name: 'gone',
      tier: 'static',
      reason: 'inactive',
      selected: false,
    });
  });

  it('takes the first k statics in configured order when more statics than k are configured', () => {
    // Prepare
    const candidates = ['S1', 'S2', 'S3'].map((id) => aRecipient({ id }));
    const campaign = aCampaign({ recipientsPerLead: 2, staticRecipientIds: ['S3', 'S1', 'S2'] });

    // Act
    const decision = decideAllocation({ lead: aLead(), campaign, candidates, now });

    // Assess
    expect(picksOf(decision).map((p) => p.recipientId)).toEqual(['S3', 'S1']);
    expect(traceOf(decision, 'S2')).toMatchObject({ reason: 'not_selected', selected: false });
  });
});

describe('decideAllocation: returning contact', () => {
  const candidates = [
    aRecipient({ id: 'A' }),
    aRecipient({ id: 'B' }),
    aRecipient({ id: 'C', rotationPicks: 9 }),
    aRecipient({ id: 'S' }),
  ];

  it('gives the lead first to its earlier recipient, outside the rotation', () => {
    // Prepare
    const campaign = aCampaign({ recipientsPerLead: 2, poolRecipientIds: ['A', 'B', 'C'] });

    // Act
    const decision = decideAllocation({
      lead: aLead({ returningRecipientId: 'C' }),
      campaign,
      candidates,
      now,
    });

    // Assess
    expect(picksOf(decision)[0]).toEqual({ recipientId: 'C', reason: 'returning_contact', rotates: false });
    expect(picksOf(decision)).toHaveLength(2);
    expect(traceOf(decision, 'C')).toMatchObject({
      tier: 'returning',
      reason: 'returning_contact',
      selected: true,
    });
  });

  it('records a returning static recipient simply as static', () => {
    // Prepare
    const campaign = aCampaign({
      recipientsPerLead: 2,
      staticRecipientIds: ['S'],
      poolRecipientIds: ['A', 'B'],
    });

    // Act
    const decision = decideAllocation({
      lead: aLead({ returningRecipientId: 'S' }),
      campaign,
      candidates,
      now,
    });

    // Assess
    expect(picksOf(decision)[0]).toEqual({ recipientId: 'S', reason: 'static', rotates: false });
    expect(picksOf(decision).filter((p) => p.reason === 'returning_contact')).toEqual([]);
  });

  it('falls back to the rotation when the earlier recipient is not eligible', () => {
    // Prepare
    const capped = candidates.map((c) =>
      c.id === 'C' ? { ...c, rotationPicks: 0, dailyCap: 1, assignedToday: 1 } : c,
    );
    const campaign = aCampaign({ poolRecipientIds: ['A', 'B', 'C'] });

    // Act
    const decision = decideAllocation({
      lead: aLead({ returningRecipientId: 'C' }),
      campaign,
      candidates: capped,
      now,
    });

    // Assess
    expect(picksOf(decision)).toHaveLength(1);
    expect(picksOf(decision)[0]?.reason).toBe('round_robin');
    expect(traceOf(decision, 'C')).toMatchObject({ tier: 'returning', reason: 'capped', selected: false });
  });

  it('ignores an earlier recipient who is not in the campaign', () => {
    // Prepare
    const campaign = aCampaign({ poolRecipientIds: ['A', 'B'] });

    // Act
    const decision = decideAllocation({
      lead: aLead({ returningRecipientId: 'C' }),
      campaign,
      candidates,
      now,
    });

    // Assess
    expect(picksOf(decision)[0]?.reason).toBe('round_robin');
    expect(traceOf(decision, 'C')).toBeUndefined();
  });

  it('lets statics keep their slots when they fill all k', () => {
    // Prepare
    const campaign = aCampaign({ staticRecipientIds: ['S'], poolRecipientIds: ['A', 'C'] });

    // Act
    const decision = decideAllocation({
      lead: aLead({ returningRecipientId: 'C' }),
      campaign,
      candidates,
      now,
    });

    // Assess
    expect(picksOf(decision)).toEqual([{ recipientId: 'S', reason: 'static', rotates: false }]);
    expect(traceOf(decision, 'C')).toMatchObject({ tier: 'returning', reason: 'not_selected' });
  });

  it('checks state rules for a returning pool member under require', () => {
    // Prepare
    const texan = candidates.map((c) => (c.id === 'C' ? { ...c, states: ['TX'] } : c));
    const campaign = aCampaign({ poolRecipientIds: ['A', 'C'], stateRouting: 'require' });

    // Act
    const decision = decideAllocation({
      lead: aLead({ state: 'CA', returningRecipientId: 'C' }),
      campaign,
      candidates: texan,
      now,
    });

    // Assess
    expect(picksOf(decision)).toEqual([
      { recipientId: 'A', reason: 'state_match_round_robin', rotates: true },
    ]);
    expect(traceOf(decision, 'C')).toMatchObject({ tier: 'returning', reason: 'state' });
  });
});

describe('decideAllocation: eligibility', () => {
  const campaign = aCampaign({ poolRecipientIds: ['X'], stateRouting: 'require' });
  const decideFor = (recipient: Partial<CandidateRecipient>, lead = aLead({ state: 'CA' }), at = now) =>
    decideAllocation({ lead, campaign, candidates: [aRecipient({ id: 'X', ...recipient })], now: at });

  it.each([
    [
      'already held the lead before anything else',
      { active: false },
      aLead({ previousRecipientIds: ['X'] }),
      'already_assigned',
    ],
    ['inactive before capped', { active: false, dailyCap: 0 }, aLead(), 'inactive'],
    ['capped at the cap', { dailyCap: 3, assignedToday: 3 }, aLead(), 'capped'],
    ['capped before quota', { dailyCap: 0, quotaRemaining: 0 }, aLead(), 'capped'],
    ['a zero quota', { quotaRemaining: 0 }, aLead(), 'quota'],
    ['a negative quota', { quotaRemaining: -2 }, aLead(), 'quota'],
    [
      'quota before off hours',
      { quotaRemaining: 0, workingHours: { sat: ['09:00', '17:00'] } },
      aLead(),
      'quota',
    ],
    [
      'off hours before state',
      { workingHours: { sat: ['09:00', '17:00'] }, states: ['TX'] },
      aLead({ state: 'CA' }),
      'off_hours',
    ],
    [
      'an unknown timezone as off hours',
      { timezone: 'Nowhere/Land', workingHours: { wed: ['00:00', '24:00'] } },
      aLead(),
      'off_hours',
    ],
    ['a state it does not cover', { states: ['TX', 'NV'] }, aLead({ state: 'CA' }), 'state'],
    ['a stateless lead for a state specialist', { states: ['CA'] }, aLead({ state: null }), 'state'],
  ] satisfies [string, Partial<CandidateRecipient>, LeadToAllocate, ExclusionReason][])(
    'excludes %s',
    (_, recipient, lead, reason) => {
      // Act
      const decision = decideFor(recipient, lead);

      // Assess
      expect(decision.outcome).toBe('unassigned');
      expect(traceOf(decision, 'X')).toMatchObject({ reason, selected: false });
    },
  );

  it.each([
    ['below its cap', { dailyCap: 3, assignedToday: 2 }],
    ['with quota left', { quotaRemaining: 1 }],
    ['with no cap and no quota', { dailyCap: null, quotaRemaining: null, assignedToday: 1000 }],
    ['inside its hours', { workingHours: { wed: ['09:00', '17:00'] } }],
    ['covering all states', { states: [] }],
    ['covering the state', { states: ['NV', 'CA'] }],
  ] satisfies [string, Partial<CandidateRecipient>][])('includes a recipient %s', (_, recipient) => {
    expect(decideFor(recipient).outcome).toBe('assigned');
  });

  it('reads working hours on the recipient’s own clock', () => {
    // Prepare: Wednesday 15:00 UTC is 08:00 in Los Angeles, 11:00 in New York, 20:30 in Kolkata
    const hours = { wed: ['09:00', '17:00'] as [string, string] };

    // Act
    const la = decideFor({ timezone: 'America/Los_Angeles', workingHours: hours });
    const ny = decideFor({ timezone: 'America/New_York', workingHours: hours });
    const kolkata = decideFor({ timezone: 'Asia/Kolkata', workingHours: hours });

    // Assess
    expect(traceOf(la, 'X')?.reason).toBe('off_hours');
    expect(traceOf(ny, 'X')?.reason).toBe('state_match_round_robin');
    expect(traceOf(kolkata, 'X')?.reason).toBe('off_hours');
  });

  it('assigns none when fewer than k are eligible, naming every excluded recipient and why', () => {
    // Prepare
    const candidates = [
      aRecipient({ id: 'A' }),
      aRecipient({ id: 'B', dailyCap: 2, assignedToday: 2 }),
      aRecipient({ id: 'C', quotaRemaining: 0 }),
      aRecipient({ id: 'D', active: false }),
      aRecipient({ id: 'E', states: ['TX'] }),
      aRecipient({ id: 'F', workingHours: {} }),
    ];
    const wide = aCampaign({
      recipientsPerLead: 2,
      poolRecipientIds: ['A', 'B', 'C', 'D', 'E', 'F'],
      stateRouting: 'require',
    });

    // Act
    const decision = decideAllocation({ lead: aLead({ state: 'CA' }), campaign: wide, candidates, now });

    // Assess
    expect(decision.outcome).toBe('unassigned');
    expect(decision.trace.map((t) => [t.recipientId, t.reason, t.selected])).toEqual([
      ['A', 'not_selected', false],
      ['B', 'capped', false],
      ['C', 'quota', false],
      ['D', 'inactive', false],
      ['E', 'state', false],
      ['F', 'off_hours', false],
    ]);
  });

  it('never picks a pool member whose weight is not positive', () => {
    // Prepare
    const candidates = [
      aRecipient({ id: 'A', weight: 0 }),
      aRecipient({ id: 'B', weight: 1, rotationPicks: 100 }),
    ];
    const pool = aCampaign({ poolRecipientIds: ['A', 'B'], stateRouting: 'ignore' });

    // Act
    const decision = decideAllocation({ lead: aLead(), campaign: pool, candidates, now });

    // Assess
    expect(picksOf(decision).map((p) => p.recipientId)).toEqual(['B']);
  });

  it('rejects a campaign with recipientsPerLead below 1', () => {
    expect(() =>
      decideAllocation({ lead: aLead(), campaign: aCampaign({ recipientsPerLead: 0 }), candidates: [], now }),
    ).toThrow(RangeError);
  });
});

describe('decideAllocation: state routing', () => {
  const candidates = [
    aRecipient({ id: 'CA1', states: ['CA'], rotationPicks: 3 }),
    aRecipient({ id: 'CA2', states: ['CA', 'NV'], rotationPicks: 3 }),
    aRecipient({ id: 'ALL', states: [], rotationPicks: 3 }),
    aRecipient({ id: 'TX', states: ['TX'], rotationPicks: 0 }),
  ];
  const pool = ['CA1', 'CA2', 'ALL', 'TX'];

  it('prefer: state-matched members first (explicit and all-states alike), then the rest as overflow', () => {
    // Prepare
    const campaign = aCampaign({ recipientsPerLead: 4, poolRecipientIds: pool, stateRouting: 'prefer' });

    // Act
    const decision = decideAllocation({ lead: aLead({ state: 'CA' }), campaign, candidates, now });

    // Assess: TX has the fewest picks but is overflow, so it comes last
    const picks = picksOf(decision);
    expect(picks.slice(0, 3).map((p) => p.reason)).toEqual(Array(3).fill('state_match_round_robin'));
    expect(
      picks
        .slice(0, 3)
        .map((p) => p.recipientId)
        .sort(),
    ).toEqual(['ALL', 'CA1', 'CA2']);
    expect(picks[3]).toEqual({ recipientId: 'TX', reason: 'cap_overflow_fallback', rotates: true });
    expect(traceOf(decision, 'TX')?.tier).toBe('overflow');
    expect(traceOf(decision, 'ALL')?.tier).toBe('state_match');
  });

  it('prefer: overflows to the others when the state-matched are capped', () => {
    // Prepare
    const capped = candidates.map((c) => (c.id === 'TX' ? c : { ...c, dailyCap: 3, assignedToday: 3 }));
    const campaign = aCampaign({ poolRecipientIds: pool, stateRouting: 'prefer' });

    // Act
    const decision = decideAllocation({ lead: aLead({ state: 'CA' }), campaign, candidates: capped, now });

    // Assess
    expect(picksOf(decision)).toEqual([
      { recipientId: 'TX', reason: 'cap_overflow_fallback', rotates: true },
    ]);
    expect(decision.trace.filter((t) => t.reason === 'capped').map((t) => t.recipientId)).toEqual([
      'CA1',
      'CA2',
      'ALL',
    ]);
  });

  it('prefer: a lead without a state is plain rotation over the whole pool', () => {
    // Prepare
    const campaign = aCampaign({ poolRecipientIds: pool, stateRouting: 'prefer' });

    // Act
    const decision = decideAllocation({ lead: aLead({ state: null }), campaign, candidates, now });

    // Assess
    expect(picksOf(decision)).toEqual([{ recipientId: 'TX', reason: 'round_robin', rotates: true }]);
  });

  it('require: only members covering the state, the others excluded for state', () => {
    // Prepare
    const campaign = aCampaign({ recipientsPerLead: 3, poolRecipientIds: pool, stateRouting: 'require' });

    // Act
    const decision = decideAllocation({ lead: aLead({ state: 'CA' }), campaign, candidates, now });

    // Assess
    expect(
      picksOf(decision)
        .map((p) => p.recipientId)
        .sort(),
    ).toEqual(['ALL', 'CA1', 'CA2']);
    expect(traceOf(decision, 'TX')).toMatchObject({ reason: 'state', selected: false });
  });

  it('require: fewer covering members than k assigns none', () => {
    // Prepare
    const campaign = aCampaign({ recipientsPerLead: 4, poolRecipientIds: pool, stateRouting: 'require' });

    // Act
    const decision = decideAllocation({ lead: aLead({ state: 'CA' }), campaign, candidates, now });

    // Assess
    expect(decision.outcome).toBe('unassigned');
  });

  it('require: a lead without a state goes only to all-states members', () => {
    // Prepare
    const campaign = aCampaign({ poolRecipientIds: pool, stateRouting: 'require' });

    // Act
    const decision = decideAllocation({ lead: aLead({ state: null }), campaign, candidates, now });

    // Assess
    expect(picksOf(decision)).toEqual([
      { recipientId: 'ALL', reason: 'state_match_round_robin', rotates: true },
    ]);
  });

  it('ignore: one tier, state not looked at', () => {
    // Prepare
    const campaign = aCampaign({ poolRecipientIds: pool, stateRouting: 'ignore' });

    // Act
    const decision = decideAllocation({ lead: aLead({ state: 'CA' }), campaign, candidates, now });

    // Assess
    expect(picksOf(decision)).toEqual([{ recipientId: 'TX', reason: 'round_robin', rotates: true }]);
    expect(decision.trace.every((t) => t.tier === 'pool')).toBe(true);
  });
});

describe('decideAllocation: ties', () => {
  it('breaks a tie by the oldest lastPickedAt, never-picked first', () => {
    // Prepare
    const candidates = [
      aRecipient({ id: 'A', rotationPicks: 2, lastPickedAt: new Date('2024-06-12T10:00:00Z') }),
      aRecipient({ id: 'B', rotationPicks: 2, lastPickedAt: new Date('2024-06-12T09:00:00Z') }),
      aRecipient({ id: 'C', rotationPicks: 2, lastPickedAt: null }),
    ];
    const campaign = aCampaign({
      recipientsPerLead: 3,
      poolRecipientIds: ['A', 'B', 'C'],
      stateRouting: 'ignore',
    });

    // Act
    const decision = decideAllocation({ lead: aLead(), campaign, candidates, now });

    // Assess
    expect(picksOf(decision).map((p) => p.recipientId)).toEqual(['C', 'B', 'A']);
  });

  it('gives the same picks whatever the order of candidates and pool', () => {
    // Prepare: eight identical recipients, so only the lead-and-recipient hash decides
    const ids = ['r1', 'r2', 'r3', 'r4', 'r5', 'r6', 'r7', 'r8'];
    const candidates = ids.map((id) => aRecipient({ id }));
    const decide = (order: string[], leadId: string) =>
      picksOf(
        decideAllocation({
          lead: aLead({ id: leadId }),
          campaign: aCampaign({ recipientsPerLead: 3, poolRecipientIds: order, stateRouting: 'ignore' }),
          candidates: order.map((id) => candidates.find((c) => c.id === id) as CandidateRecipient),
          now,
        }),
      );
    const rotations = ids.map((_, i) => [...ids.slice(i), ...ids.slice(0, i)]);
    const orders = [...rotations, ...rotations.map((o) => [...o].reverse())];

    for (const leadId of ['lead-a', 'lead-b', 'lead-c']) {
      // Act
      const results = orders.map((order) => decide(order, leadId));

      // Assess
      for (const result of results) expect(result).toEqual(results[0]);
    }
  });

  it('does not always favour the same recipient on exact ties (not creation order)', () => {
    // Prepare
    const candidates = ['r1', 'r2', 'r3', 'r4'].map((id) => aRecipient({ id }));
    const campaign = aCampaign({ poolRecipientIds: ['r1', 'r2', 'r3', 'r4'], stateRouting: 'ignore' });

    // Act
    const firstPicks = new Set(
      Array.from(
        { length: 40 },
        (_, n) =>
          picksOf(decideAllocation({ lead: aLead({ id: `lead-${n}` }), campaign, candidates, now }))[0]
            ?.recipientId,
      ),
    );

    // Assess
    expect(firstPicks.size).toBe(4);
  });

  it('hashes with FNV-1a', () => {
    // FNV-1a 32-bit of the single separator byte 0x1f: (0x811c9dc5 ^ 0x1f) * 16777619 mod 2^32
    expect(tieBreakHash('a', 'b')).toBe(tieBreakHash('a', 'b'));
    expect(tieBreakHash('lead-1', 'r1')).not.toBe(tieBreakHash('lead-1', 'r2'));
    expect(tieBreakHash('', '')).toBe(0x1a0c7e2e);
  });
});

describe('pickFairly', () => {
  it('splits picks by weight, within quota at every step', () => {
    // Prepare
    const members = [
      { id: 'heavy', weight: 3, rotationPicks: 0, lastPickedAt: null as Date | null },
      { id: 'light', weight: 1, rotationPicks: 0, lastPickedAt: null as Date | null },
    ];

    // Act
    const sequence: string[] = [];
    for (let n = 0; n < 8; n++) {
      const next = pickFairly(members, `lead-${n}`);
      if (!next) throw new Error('nobody picked');
      sequence.push(next.id);
      next.rotationPicks += 1;
    }

    // Assess
    expect(sequence.filter((id) => id === 'heavy')).toHaveLength(6);
    expect(sequence.slice(0, 4).filter((id) => id === 'light')).toHaveLength(1);
  });

  it('returns undefined for no members', () => {
    expect(pickFairly([], 'lead-1')).toBeUndefined();
  });
});
