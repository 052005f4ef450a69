import { describe, expect, it } from 'vitest';
import {
  ConflictError,
  DomainError,
  IllegalTransitionError,
  NotFoundError,
  ValidationError,
} from '../../functions/domain/errors.js';
import {
  FINAL_STATUSES,
  allowedTransitions,
  assertTransition,
  canTransition,
  type StatusActor,
} from '../../functions/domain/leadStatus.js';
import { LEAD_STATUSES, WORK_STATUSES, type LeadStatus } from '../../functions/domain/types.js';

/** SPEC §3, written out independently of the implementation's table. */
const RECIPIENT_MOVES: [LeadStatus, LeadStatus][] = [
  ['assigned', 'contacted'],
  ['sold', 'contacted'],
  ['contacted', 'qualified'],
  ['contacted', 'won'],
  ['qualified', 'won'],
  ['contacted', 'lost'],
  ['qualified', 'lost'],
  ['assigned', 'returned'],
  ['sold', 'returned'],
  ['contacted', 'returned'],
];

const SYSTEM_MOVES: [LeadStatus, LeadStatus][] = [
  ['queued', 'assigned'],
  ['queued', 'unassigned'],
  ['unassigned', 'assigned'],
  ['unassigned', 'sold'],
  ['returned', 'assigned'],
  ['returned', 'sold'],
  ['returned', 'unassigned'],
  ['assigned', 'assigned'],
  ['assigned', 'stale'],
  ['assigned', 'unassigned'],
  ['stale', 'assigned'],
  ['stale', 'unassigned'],
  ['sold', 'unassigned'],
];

const allPairs = LEAD_STATUSES.flatMap((from) => LEAD_STATUSES.map((to) => [from, to] as const));
const key = ([from, to]: readonly [LeadStatus, LeadStatus]): string => `${from}->${to}`;

describe('canTransition', () => {
  it.each([
    ['recipient', RECIPIENT_MOVES],
    ['system', SYSTEM_MOVES],
  ] as const)('allows exactly the %s moves of the table', (actor, moves) => {
    // Prepare
    const allowed = new Set(moves.map(key));

    // Act
    const verdicts = allPairs.map((pair) => [key(pair), canTransition(pair[0], pair[1], actor)] as const);

    // Assess
    for (const [move, verdict] of verdicts)
      expect({ move, verdict }).toEqual({ move, verdict: allowed.has(move) });
  });

  it('lets recipients set only work statuses', () => {
    for (const [from, to] of allPairs) {
      if (canTransition(from, to, 'recipient')) expect(WORK_STATUSES).toContain(to);
    }
  });

  it('never lets the system set a work status', () => {
    for (const [from, to] of allPairs) {
      if (canTransition(from, to, 'system')) expect(WORK_STATUSES).not.toContain(to);
    }
  });

  it.each(['recipient', 'system'] as const)(
    'treats won and lost as final for the %s',
    (actor: StatusActor) => {
      for (const from of FINAL_STATUSES) {
        expect(allowedTransitions(from, actor)).toEqual([]);
      }
    },
  );

  it('does not let a recipient repeat a status', () => {
    expect(canTransition('contacted', 'contacted', 'recipient')).toBe(false);
  });
});

describe('assertTransition', () => {
  it('passes an allowed move', () => {
    expect(() => assertTransition('assigned', 'contacted', 'recipient')).not.toThrow();
  });

  it('throws a 409 illegal_transition naming both statuses', () => {
    // Act
    const thrown = (() => {
      try {
        assertTransition('won', 'contacted', 'recipient');
      } catch (error) {
        return error;
      }
      return undefined;
    })();

    // Assess
    expect(thrown).toBeInstanceOf(IllegalTransitionError);
    expect(thrown).toBeInstanceOf(DomainError);
    expect(thrown).toMatchObject({
      from: 'won',
      to: 'contacted',
      statusCode: 409,
      code: 'illegal_transition',
      expose: true,
      name: 'IllegalTransitionError',
    });
  });

  it('refuses a recipient the system’s moves', () => {
    expect(() => assertTransition('unassigned', 'sold', 'recipient')).toThrow(IllegalTransitionError);
  });
});

describe('domain errors', () => {
  it.each([
    [new NotFoundError(), 404, 'not_found', 'NotFoundError'],
    [new ConflictError(), 409, 'conflict', 'ConflictError'],
    [
      new ValidationError([{ field: 'phone', message: 'is required' }]),
      400,
      'validation_failed',
      'ValidationError',
    ],
  ])('%s carries its HTTP meaning', (error, statusCode, code, name) => {
    expect(error).toBeInstanceOf(Error);
    expect(error).toBeInstanceOf(DomainError);
    expect(error).toMatchObject({ statusCode, code, name, expose: true });
  });

  it('keeps the issues of a validation error', () => {
    const error = new ValidationError([
      { field: 'phone', message: 'is required' },
      { field: 'state', message: 'is not a US state, DC or territory' },
    ]);
    expect(error.issues.map((i) => i.field)).toEqual(['phone', 'state']);
  });

  it('does not expose a 5xx message by default', () => {
    const error = new DomainError('database exploded', { statusCode: 503, code: 'unavailable' });
    expect(error.expose).toBe(false);
  });

  it('keeps the cause', () => {
    const cause = new Error('row missing');
    expect(new NotFoundError('Lead not found', cause).cause).toBe(cause);
  });
});
