/**
 * The allocator's batched unit of work (`ALLOCATOR_MODE=batched`): one transaction for a whole SQS
 * batch instead of one per message. Same rule, same invariants, fewer commits and fewer lock
 * round trips — see docs/benchmarks.md for what that buys and docs/allocation.md for the lock order.
 *
 * Steps:
 *  1. Find the campaign of every lead message and lock the union of their candidates once, in the
 *     global order (org id, then recipient id ascending), before deciding anything.
 *  2. Decide the messages one by one, in queue order, with `allocateInTransaction` — exactly the
 *     per-lead unit of work — inside that same transaction. Each decision's own candidate lock is a
 *     re-lock of rows this transaction already holds, and it reads the counters and rotation state
 *     the earlier decisions of the batch wrote, so caps and fairness hold as if they ran one by one.
 *  3. Commit once, then push all the batch's events to dashboards and, as the per-lead path does, let
 *     new stock (leads left unassigned) fill the org's open orders.
 *
 * If the batch transaction fails (after `withTransaction`'s own retries of deadlocks and serialization
 * failures), nothing of it was committed. Every message is then run in its own transaction
 * (`allocateMessage`), so a single bad lead fails alone instead of failing its nine neighbours on
 * every redelivery. FIFO holds in both paths: a failed (or unreadable) message fails the later
 * messages of its message group too, which the caller reports as batch item failures.
 */
import { findCampaignByKey, lockCandidates, type CampaignRow } from '../adapters/pg/allocation.js';
import { withTransaction, type Db } from '../adapters/pg/db.js';
import type { StoredEvent } from '../adapters/pg/events.js';
import type { QueueMessage } from '../adapters/sqs/leadQueue.js';
import { clock } from '../clock.js';
import { logger } from '../powertools.js';
import { allocateInTransaction, allocateMessage, DEFAULT_CAMPAIGN } from './allocateLead.js';
import { fillOpenOrdersAfterStock } from './orders.js';
import { publishEvents } from './publishEvents.js';

export interface BatchItem {
  /** The SQS message id: what a batch item failure names. */
  id: string;
  /** FIFO message group; a failure blocks the later items of the same group. */
  group?: string;
  /** The parsed message; `null` when the body was unreadable (a poison message: it fails). */
  message: QueueMessage | null;
}

export interface BatchOutcome {
  /** Ids of the items that failed or were held back behind a failure of their group, in batch order. */
  failedIds: string[];
  /** `batched`: one transaction committed the batch; `per-lead`: the fallback ran. */
  path: 'batched' | 'per-lead';
  events: StoredEvent[];
}

export async function allocateBatch(items: BatchItem[]): Promise<BatchOutcome> {
  const { runnable, failedIds } = holdBackUnreadable(items);
  if (runnable.length === 0) return { failedIds, path: 'batched', events: [] };
  try {
    const events = await withTransaction(async (db) => {
      await lockBatchCandidates(
        db,
        runnable.map((i) => i.message!),
      );
      const stored: StoredEvent[] = [];
      for (const item of runnable) stored.push(...(await allocateInTransaction(db, item.message!)));
      return stored;
    });
    await publishEvents(events);
    // As after a per-lead allocation: new stock fills the org's open orders, in transactions of their own.
    const stocked = new Set(events.filter((e) => e.type === 'lead.unassigned').map((e) => e.orgId));
    for (const orgId of stocked) await fillOpenOrdersAfterStock(orgId);
    return { failedIds, path: 'batched', events };
  } catch (error) {
    logger.warn('Batch transaction failed; allocating its messages one by one', {
      error: error as Error,
      size: runnable.length,
    });
  }
  return allocateOneByOne(items);
}

/**
 * The fallback: one transaction per message, in batch order. A message that fails marks its group,
 * so later messages of that group are held back (not run) and fail with it.
 */
async function allocateOneByOne(items: BatchItem[]): Promise<BatchOutcome> {
  const failed = new Set<string>();
  const blockedGroups = new Set<string>();
  const events: StoredEvent[] = [];
  for (const item of items) {
    const blocked = item.group !== undefined && blockedGroups.has(item.group);
    if (item.message && !blocked) {
      try {
        events.push(...(await allocateMessage(item.message)));
        continue;
      } catch (error) {
        logger.error('Allocation failed', {
          error: error as Error,
          leadId: item.message.leadId,
          orgId: item.message.orgId,
        });
      }
    }
    failed.add(item.id);
    if (item.group !== undefined) blockedGroups.add(item.group);
  }
  return { failedIds: items.filter((i) => failed.has(i.id)).map((i) => i.id), path: 'per-lead', events };
}

/** Splits off unreadable items and everything behind them in their group. */
function holdBackUnreadable(items: BatchItem[]): { runnable: BatchItem[]; failedIds: string[] } {
  const blockedGroups = new Set<string>();
  const runnable: BatchItem[] = [];
  const failedIds: string[] = [];
  for (const item of items) {
    const blocked = item.group !== undefined && blockedGroups.has(item.group);
    if (item.message && !blocked) {
      runnable.push(item);
      continue;
    }
    failedIds.push(item.id);
    if (item.group !== undefined) blockedGroups.add(item.group);
  }
  return { runnable, failedIds };
}

/**
 * Locks, once and in the global order, every recipient any lead of the batch may need: per org
 * (ascending org id; recipient sets of different orgs are disjoint), the union of the candidates of
 * the campaigns the batch's leads name, in ascending id order. Without this, deciding lead 1
 * (campaign A) and then lead 2 (campaign B) would take B's recipients after A's, out of order.
 * Duplicates, unknown and stock campaigns lock nothing, as in the per-lead path.
 */
async function lockBatchCandidates(db: Db, messages: QueueMessage[]): Promise<void> {
  const keysByOrg = new Map<string, Set<string>>();
  for (const m of messages) {
    if (m.type !== 'lead') continue;
    const keys = keysByOrg.get(m.orgId) ?? new Set<string>();
    keys.add(m.lead.campaign ?? DEFAULT_CAMPAIGN);
    keysByOrg.set(m.orgId, keys);
  }
  const now = clock().now();
  for (const orgId of [...keysByOrg.keys()].sort()) {
    const campaigns: CampaignRow[] = [];
    for (const key of keysByOrg.get(orgId)!) {
      const campaign = await findCampaignByKey(db, orgId, key);
      if (campaign && campaign.mode === 'push') campaigns.push(campaign);
    }
    if (campaigns.length === 0) continue;
    // One ordered statement for the union: the campaigns' static and pool members, plus every active
    // recipient of the org when a campaign's pool is unset (as lockCandidates does for one campaign).
    const union = new Set(campaigns.flatMap((c) => [...c.staticRecipientIds, ...(c.poolRecipientIds ?? [])]));
    const everyActive = campaigns.some((c) => c.poolRecipientIds === null);
    await lockCandidates(
      db,
      { ...campaigns[0]!, staticRecipientIds: [], poolRecipientIds: everyActive ? null : [] },
      now,
      [...union],
    );
  }
}
