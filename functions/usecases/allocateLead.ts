/**
 * The allocator's unit of work for one queue message (SPEC §4), in one transaction:
 *
 *  1. Store the lead (`insert ... on conflict do nothing`, keyed by the id ingest gave it). If the row
 *     already existed, this is a redelivery of a message whose transaction committed: do nothing.
 *  2. Lock the lead row, then find its campaign: unknown → `unassigned/unknown_campaign`; a stock
 *     campaign → `unassigned/stock` (orders take it).
 *  3. Otherwise run the allocation rule under the candidates' locks and write its effects.
 *  4. Insert the events; commit; then push them to dashboards.
 *
 * A `duplicate` message only records a `lead.duplicate` event.
 */
import { findCampaignByKey } from '../adapters/pg/allocation.js';
import { withTransaction } from '../adapters/pg/db.js';
import { insertEvents, type NewEvent, type StoredEvent } from '../adapters/pg/events.js';
import { insertLeadIfAbsent, lockLead, setLeadStatus } from '../adapters/pg/leads.js';
import type { QueueMessage } from '../adapters/sqs/leadQueue.js';
import { clock } from '../clock.js';
import { fillOpenOrdersAfterStock } from './orders.js';
import { leadSummary, runAllocation } from './runAllocation.js';
import { publishEvents } from './publishEvents.js';

export const DEFAULT_CAMPAIGN = 'default';

export async function allocateMessage(message: QueueMessage): Promise<StoredEvent[]> {
  const stored = await withTransaction((db) => allocateInTransaction(db, message));
  await publishEvents(stored);
  // New stock fills open orders in a transaction of its own (the stock lock precedes lead locks).
  if (stored.some((e) => e.type === 'lead.unassigned')) await fillOpenOrdersAfterStock(message.orgId);
  return stored;
}

export async function allocateInTransaction(
  db: import('../adapters/pg/db.js').Db,
  message: QueueMessage,
): Promise<StoredEvent[]> {
  const now = clock().now();
  if (message.type === 'duplicate') {
    return insertEvents(
      db,
      [
        {
          orgId: message.orgId,
          type: 'lead.duplicate',
          leadId: message.leadId,
          data: {
            leadId: message.leadId,
            sourceId: message.sourceId,
            matchedOn: message.matchedOn,
            receivedAt: message.receivedAt,
          },
        },
      ],
      now,
    );
  }

  const inserted = await insertLeadIfAbsent(db, {
    id: message.leadId,
    orgId: message.orgId,
    sourceId: message.sourceId,
    receivedAt: new Date(message.receivedAt),
    lead: message.lead,
  });
  if (!inserted) return [];
  const lead = (await lockLead(db, message.orgId, message.leadId))!;
  const events: NewEvent[] = [
    {
      orgId: lead.orgId,
      type: 'lead.received',
      leadId: lead.id,
      data: { lead: leadSummary(lead, 'queued', null) },
    },
  ];

  const campaign = await findCampaignByKey(db, lead.orgId, lead.campaign ?? DEFAULT_CAMPAIGN);
  if (!campaign || campaign.mode === 'stock') {
    const reason = campaign ? 'stock' : 'unknown_campaign';
    await setLeadStatus(db, { leadId: lead.id, status: 'unassigned', reason, trace: [], at: now });
    events.push({
      orgId: lead.orgId,
      type: 'lead.unassigned',
      leadId: lead.id,
      data: { lead: leadSummary(lead, 'unassigned', reason), trace: [] },
    });
    return insertEvents(db, events, now);
  }

  const outcome = await runAllocation(db, { lead, campaign, now });
  events.push(...outcome.events);
  return insertEvents(db, events, now);
}
