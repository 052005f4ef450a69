/**
 * The allocator's unit of work for queue messages (SPEC §4): one transaction for one message
 * (`allocateMessage`, the default mode) or for a whole SQS batch (`allocateBatch`), through the same
 * code — a message is a batch of one. A constant number of statements per transaction, whatever the
 * batch size:
 *
 *  1. Store the new leads, in ascending id order (`insert … on conflict do nothing`, keyed by the id
 *     ingest gave them); a lead already stored is a redelivery of a message whose transaction
 *     committed: it is skipped. The same statement reads each stored lead's campaign and its
 *     returning contact. Nothing is locked yet but the new lead rows, which no one else can see.
 *  2. Lock the union of the candidates of every push campaign named (one ordered `FOR UPDATE`
 *     statement: org id, then recipient id ascending — the global lock order, docs/allocation.md).
 *  3. Read those recipients' counters for their local day and their rotation rows in those campaigns,
 *     in a new statement (READ COMMITTED: its snapshot includes what the previous lock holders wrote).
 *     Steps 2 and 3 are one round trip: the SQL function `lock_and_read_recipients` runs both.
 *  4. Decide the messages one by one, in queue order, in memory with the pure rule
 *     (`planAllocation` → `decideAllocation`), carrying counters, quotas, rotation picks and returning
 *     contacts forward from one decision to the next exactly as the database would have.
 *     Unknown campaign → `unassigned/unknown_campaign`; stock campaign → `unassigned/stock` (orders
 *     take it); a `duplicate` message only records a `lead.duplicate` event.
 *  5. Write assignments, counters, rotation rows, lead statuses and traces, and the events in one
 *     statement (`writeAllocations`); commit; then push the events to dashboards.
 *
 * Under the recipient locks: steps 2+3 (one call), 5 and the commit — two round trips and the commit.
 */
import {
  insertLeadsForAllocation,
  lockAndReadRecipientSet,
  writeAllocations,
  type AllocationWrite,
  type CampaignRow,
  type LockedCandidate,
  type RecipientSnapshot,
} from '../adapters/pg/allocation.js';
import { withTransaction, type Db } from '../adapters/pg/db.js';
import type { NewEvent, StoredEvent } from '../adapters/pg/events.js';
import type { LeadMessage, QueueMessage } from '../adapters/sqs/leadQueue.js';
import { clock } from '../clock.js';
import { fillOpenOrdersAfterStock } from './orders.js';
import { publishEvents } from './publishEvents.js';
import { campaignCandidates, leadSummary, planAllocation } from './runAllocation.js';

export const DEFAULT_CAMPAIGN = 'default';

export async function allocateMessage(message: QueueMessage): Promise<StoredEvent[]> {
  const stored = await withTransaction((db) => allocateInTransaction(db, [message]));
  await publishEvents(stored);
  // New stock fills open orders in a transaction of its own (the stock lock precedes lead locks).
  if (stored.some((e) => e.type === 'lead.unassigned')) await fillOpenOrdersAfterStock(message.orgId);
  return stored;
}

/** A recipient as the decisions of this transaction see it: its snapshot, moved by earlier decisions. */
interface RecipientState extends Omit<RecipientSnapshot, 'rotation'> {
  rotation: Map<string, { picks: number; lastPickedAt: Date | null }>;
}

function candidateOf(r: RecipientState, campaignId: string): LockedCandidate {
  const rotation = r.rotation.get(campaignId);
  return {
    id: r.id,
    name: r.name,
    active: r.active,
    states: r.states,
    dailyCap: r.dailyCap,
    quotaRemaining: r.quotaRemaining,
    quotaEpoch: r.quotaEpoch,
    weight: r.weight,
    timezone: r.timezone,
    workingHours: r.workingHours,
    localDay: r.localDay,
    assignedToday: r.assignedToday,
    rotationPicks: rotation?.picks ?? 0,
    lastPickedAt: rotation?.lastPickedAt ?? null,
    inRotation: rotation !== undefined,
  };
}

/** What the database does on `writeAllocations`, applied to the in-memory state. */
function applyWrite(recipients: Map<string, RecipientState>, write: AllocationWrite): void {
  for (const a of write.assignments) {
    const r = recipients.get(a.recipientId)!;
    r.assignedToday += 1;
    if (r.quotaRemaining !== null) r.quotaRemaining -= 1;
  }
  for (const w of write.rotation)
    recipients
      .get(w.recipientId)!
      .rotation.set(w.campaignId, { picks: w.picks, lastPickedAt: w.lastPickedAt });
}

/** Locks and reads every candidate of the given push campaigns (steps 2 and 3). */
async function lockAndRead(
  db: Db,
  campaigns: CampaignRow[],
  now: Date,
): Promise<Map<string, RecipientState>> {
  const recipients = new Map<string, RecipientState>();
  if (campaigns.length === 0) return recipients;
  const members = new Map<string, { orgId: string; recipientId: string }>();
  for (const c of campaigns)
    for (const id of [...c.staticRecipientIds, ...(c.poolRecipientIds ?? [])])
      members.set(`${c.orgId}:${id}`, { orgId: c.orgId, recipientId: id });
  const allActiveOrgIds = [
    ...new Set(campaigns.filter((c) => c.poolRecipientIds === null).map((c) => c.orgId)),
  ];
  const snapshot = await lockAndReadRecipientSet(
    db,
    [...members.values()],
    allActiveOrgIds,
    now,
    campaigns.map((c) => c.id),
  );
  for (const r of snapshot)
    recipients.set(r.id, {
      ...r,
      rotation: new Map(
        r.rotation.map((x) => [x.campaignId, { picks: x.picks, lastPickedAt: x.lastPickedAt }]),
      ),
    });
  return recipients;
}

/**
 * Allocates queue messages, in order, inside an open transaction; returns the stored events in order.
 * See the module comment for the steps and docs/allocation.md for the lock order.
 */
export async function allocateInTransaction(db: Db, messages: QueueMessage[]): Promise<StoredEvent[]> {
  const now = clock().now();
  // A lead id twice in one batch: the first copy decides, the second is a redelivery.
  const leads = new Map<string, LeadMessage>();
  for (const m of messages) if (m.type === 'lead' && !leads.has(m.leadId)) leads.set(m.leadId, m);
  const inserted = await insertLeadsForAllocation(
    db,
    [...leads.values()].map((m) => ({
      id: m.leadId,
      orgId: m.orgId,
      sourceId: m.sourceId,
      receivedAt: new Date(m.receivedAt),
      // A lead sent without a campaign (and no source default) belongs to `default`, and says so.
      lead: { ...m.lead, campaign: m.lead.campaign ?? DEFAULT_CAMPAIGN },
    })),
    DEFAULT_CAMPAIGN,
  );
  const stored = new Map(inserted.map((i) => [i.lead.id, i]));

  const campaigns = new Map<string, CampaignRow>();
  for (const { campaign } of inserted) if (campaign?.mode === 'push') campaigns.set(campaign.id, campaign);
  const recipients = await lockAndRead(db, [...campaigns.values()], now);

  // The latest assignment of each phone made in this transaction: a later lead of the same contact in
  // the batch sees it as its returning contact, as it would after the earlier one's commit.
  const latestByPhone = new Map<string, string>();
  const writes: AllocationWrite[] = [];
  const events: NewEvent[] = [];
  for (const m of messages) {
    if (m.type === 'duplicate') {
      events.push({
        orgId: m.orgId,
        type: 'lead.duplicate',
        leadId: m.leadId,
        data: { leadId: m.leadId, sourceId: m.sourceId, matchedOn: m.matchedOn, receivedAt: m.receivedAt },
      });
      continue;
    }
    const entry = stored.get(m.leadId);
    if (!entry) continue; // already stored: a redelivery (or the second copy in this batch)
    stored.delete(m.leadId);
    const { lead, campaign } = entry;
    events.push({
      orgId: lead.orgId,
      type: 'lead.received',
      leadId: lead.id,
      data: { lead: leadSummary(lead, 'queued', null) },
    });

    if (!campaign || campaign.mode === 'stock') {
      const reason = campaign ? 'stock' : 'unknown_campaign';
      writes.push({
        orgId: lead.orgId,
        leadId: lead.id,
        status: 'unassigned',
        reason,
        trace: [],
        reassignmentIncrement: 0,
        assignments: [],
        rotation: [],
      });
      events.push({
        orgId: lead.orgId,
        type: 'lead.unassigned',
        leadId: lead.id,
        data: { lead: leadSummary(lead, 'unassigned', reason), trace: [] },
      });
      continue;
    }

    const phoneKey = lead.phone ? `${lead.orgId}:${lead.phone}` : null;
    const earlier = phoneKey ? latestByPhone.get(phoneKey) : undefined;
    // Rows written here are newer than every stored one unless the stored one is later in time.
    const returningRecipientId =
      earlier !== undefined && (!entry.returning || entry.returning.assignedAt.getTime() <= now.getTime())
        ? earlier
        : (entry.returning?.recipientId ?? null);
    const orgRecipients = [...recipients.values()].filter((r) => r.orgId === lead.orgId);
    const plan = planAllocation({
      lead,
      campaign,
      candidates: campaignCandidates(campaign, orgRecipients).map((r) => candidateOf(r, campaign.id)),
      now,
      previousRecipientIds: [],
      returningRecipientId,
    });
    writes.push(plan.write!);
    events.push(...plan.events);
    applyWrite(recipients, plan.write!);
    const last = plan.write!.assignments.at(-1);
    if (phoneKey && last) latestByPhone.set(phoneKey, last.recipientId);
  }
  return writeAllocations(db, { at: now, writes, events });
}
