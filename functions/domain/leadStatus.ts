/**
 * The lead status state machine (SPEC §3). Every status change goes through `assertTransition`, so
 * the table below is the one place a rule about statuses lives.
 *
 * Recipients (or an admin acting for one, through `PATCH /api/leads/:id/status`) move a lead through
 * its work statuses; the system (allocator, orders, decay, backlog retry) moves it in and out of
 * stock. Neither may make the other's moves.
 *
 * | from         | recipient may set                       | system may set                    |
 * |--------------|-----------------------------------------|-----------------------------------|
 * | `queued`     | —                                       | `assigned`, `unassigned`          |
 * | `assigned`   | `contacted`, `returned`                 | `assigned` (reassign), `stale`, `unassigned` |
 * | `unassigned` | —                                       | `assigned`, `sold`                |
 * | `sold`       | `contacted`, `returned`                 | `unassigned` (order deleted)      |
 * | `contacted`  | `qualified`, `won`, `lost`, `returned`  | —                                 |
 * | `qualified`  | `won`, `lost`                           | —                                 |
 * | `returned`   | —                                       | `assigned`, `sold`, `unassigned`  |
 * | `stale`      | —                                       | `assigned` (decay reassign), `unassigned` |
 * | `won`, `lost`| — (final)                               | — (final)                         |
 *
 * Why these system moves: `assigned → unassigned` is a reassignment that found nobody (or reached
 * `maxReassignments`); `stale → unassigned` likewise after decay. A `returned` lead is back in stock,
 * so it can be sold or re-allocated directly. Setting a status to itself is not a transition (a
 * repeated `PATCH` is a 409) except `assigned → assigned`, which is how a reassignment is recorded.
 */
import { IllegalTransitionError } from './errors.js';
import type { LeadStatus } from './types.js';

export type StatusActor = 'recipient' | 'system';

export const LEAD_TRANSITIONS: Readonly<
  Record<StatusActor, Readonly<Record<LeadStatus, readonly LeadStatus[]>>>
> = {
  recipient: {
    queued: [],
    assigned: ['contacted', 'returned'],
    unassigned: [],
    sold: ['contacted', 'returned'],
    contacted: ['qualified', 'won', 'lost', 'returned'],
    qualified: ['won', 'lost'],
    won: [],
    lost: [],
    returned: [],
    stale: [],
  },
  system: {
    queued: ['assigned', 'unassigned'],
    assigned: ['assigned', 'stale', 'unassigned'],
    unassigned: ['assigned', 'sold'],
    sold: ['unassigned'],
    contacted: [],
    qualified: [],
    won: [],
    lost: [],
    returned: ['assigned', 'sold', 'unassigned'],
    stale: ['assigned', 'unassigned'],
  },
};

/** Statuses nothing can leave. */
export const FINAL_STATUSES: readonly LeadStatus[] = ['won', 'lost'];

export function canTransition(from: LeadStatus, to: LeadStatus, actor: StatusActor): boolean {
  return LEAD_TRANSITIONS[actor][from]?.includes(to) ?? false;
}

/** The statuses `actor` may move a lead in `from` to (for the API's error messages and the UI). */
export function allowedTransitions(from: LeadStatus, actor: StatusActor): readonly LeadStatus[] {
  return LEAD_TRANSITIONS[actor][from] ?? [];
}

/** Throws `IllegalTransitionError` (409 `illegal_transition`) unless the move is in the table. */
export function assertTransition(from: LeadStatus, to: LeadStatus, actor: StatusActor): void {
  if (!canTransition(from, to, actor)) throw new IllegalTransitionError(from, to, actor);
}
