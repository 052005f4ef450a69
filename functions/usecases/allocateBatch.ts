/**
 * The allocator's batched unit of work (`ALLOCATOR_MODE=batched`): one transaction for a whole SQS
 * batch instead of one per message, with the same constant number of statements as a single message
 * (`allocateInTransaction`, see allocateLead.ts): the batch's leads stored in one statement, the union
 * of their campaigns' candidates locked in one ordered statement and read in one, the decisions taken
 * in memory in queue order (each sees the counters, quotas and rotation the earlier ones moved, so
 * caps and fairness hold exactly as if they ran one by one), everything written in one statement.
 * Then commit once, push all the batch's events to dashboards and, as the per-lead path does, let new
 * stock (leads left unassigned) fill the org's open orders. See docs/benchmarks.md for what that buys
 * and docs/allocation.md for the lock order.
 *
 * If the batch transaction fails (after `withTransaction`'s own retries of deadlocks and serialization
 * failures), nothing of it was committed. Every message is then run in its own transaction
 * (`allocateMessage`), so a single bad lead fails alone instead of failing its nine neighbours on
 * every redelivery. FIFO holds in both paths: a failed (or unreadable) message fails the later
 * messages of its message group too, which the caller reports as batch item failures.
 */
import { withTransaction } from '../adapters/pg/db.js';
import type { StoredEvent } from '../adapters/pg/events.js';
import type { QueueMessage } from '../adapters/sqs/leadQueue.js';
import { logger } from '../powertools.js';
import { allocateInTransaction, allocateMessage } from './allocateLead.js';
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
    const events = await withTransaction((db) =>
      allocateInTransaction(
        db,
        runnable.map((i) => i.message!),
      ),
    );
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
