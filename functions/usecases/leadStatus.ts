/**
 * Work-status changes by recipients (SPEC §3): enforced by the state machine (409 when illegal).
 * `returned` ends the lead's open assignments, credits each recipient's capacity (the local-day
 * counter and quota epoch it was counted in) and puts the lead back in stock — in one transaction.
 */
import { endAssignments } from '../adapters/pg/allocation.js';
import { withTransaction } from '../adapters/pg/db.js';
import { insertEvents } from '../adapters/pg/events.js';
import { lockLead, setLeadStatus } from '../adapters/pg/leads.js';
import { clock } from '../clock.js';
import { NotFoundError } from '../domain/errors.js';
import { assertTransition } from '../domain/leadStatus.js';
import type { LeadStatus } from '../domain/types.js';
import { fillOpenOrdersAfterStock } from './orders.js';
import { publishEvents } from './publishEvents.js';
import { leadSummary } from './runAllocation.js';

export async function changeLeadStatus(
  orgId: string,
  leadId: string,
  to: LeadStatus,
): Promise<{ id: string; status: LeadStatus; previousStatus: LeadStatus }> {
  const now = clock().now();
  const { from, events } = await withTransaction(async (db) => {
    const lead = await lockLead(db, orgId, leadId);
    if (!lead) throw new NotFoundError('Lead not found');
    assertTransition(lead.status, to, 'recipient');
    let endedRecipientIds: (string | null)[] = [];
    if (to === 'returned') {
      const ended = await endAssignments(db, {
        leadId,
        at: now,
        endReason: 'returned',
        creditCapacity: true,
      });
      endedRecipientIds = ended.map((e) => e.recipientId);
    }
    await setLeadStatus(db, { leadId, status: to, reason: to === 'returned' ? 'returned' : null, at: now });
    const events = await insertEvents(
      db,
      [
        {
          orgId,
          type: 'lead.status_changed',
          leadId,
          data: {
            lead: leadSummary(lead, to, to === 'returned' ? 'returned' : null),
            from: lead.status,
            to,
            endedRecipientIds,
          },
        },
      ],
      now,
    );
    return { from: lead.status, events };
  });
  await publishEvents(events);
  // A returned lead is stock again: open orders may take it (after this commit; see orders.ts).
  if (to === 'returned') await fillOpenOrdersAfterStock(orgId);
  return { id: leadId, status: to, previousStatus: from };
}
