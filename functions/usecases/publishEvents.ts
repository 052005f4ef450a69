/**
 * After a commit: push the transaction's events to the org's dashboards and mark them published, then
 * run the automation rules they trigger (`runEventRulesAfterCommit`).
 * A crash (or failed push) in between leaves them unpublished; the outbox relay pushes them later.
 * Pushing never fails the caller: the change it describes is already committed.
 *
 * Cost on the allocator's path, per call: one connections Query per org, the pushes (concurrent,
 * bounded: `broadcastEvents`) and one mark statement whose commit does not wait for the WAL flush
 * (`markEventsPublished`: a lost mark means one more push of an event dashboards de-duplicate by id).
 */
import { claimUnpublishedEvents, markEventsPublished, type StoredEvent } from '../adapters/pg/events.js';
import { withTransaction } from '../adapters/pg/db.js';
import { broadcastEvents } from '../adapters/ws/broadcast.js';
import { clock } from '../clock.js';
import { logger } from '../powertools.js';

export async function publishEvents(events: StoredEvent[]): Promise<void> {
  if (events.length === 0) return;
  try {
    const delivered = await broadcastEvents(events, clock().now());
    await markEventsPublished(delivered, clock().now());
  } catch (error) {
    logger.warn('Publishing events failed; the outbox relay will retry', { error: error as Error });
  }
  try {
    // Loaded on first use: automation's commands reach back into the use cases that publish events.
    const { runEventRulesAfterCommit } = await import('./automation.js');
    await runEventRulesAfterCommit(events);
  } catch (error) {
    logger.warn('Event rules failed after a commit; the automation job will run them', {
      error: error as Error,
    });
  }
}

/** The outbox relay: pushes events older than `graceMs` that are still unpublished. */
export async function relayOutbox(graceMs = 2000, batch = 500): Promise<{ published: number }> {
  let published = 0;
  for (;;) {
    const n = await withTransaction(async (db) => {
      const now = clock().now();
      const events = await claimUnpublishedEvents(db, new Date(now.getTime() - graceMs), batch);
      if (events.length === 0) return 0;
      const delivered = await broadcastEvents(events, now);
      await markEventsPublished(delivered, now, db);
      return delivered.length === 0 ? 0 : events.length;
    });
    published += n;
    if (n < batch) return { published };
  }
}
