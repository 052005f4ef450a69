/**
 * The quota-reset webhook (SPEC §5): every recipient's remaining quota back to its configured quota,
 * exactly once per `eventId`. A DynamoDB conditional put lets exactly one of concurrent copies through;
 * the `quota_resets` primary key makes the reset itself exactly-once even if a claim were lost.
 * If the reset fails after the claim, the claim is released so the sender's retry can apply it.
 */
import { claimEvent, quotaEventKey, releaseEvent } from '../adapters/dynamo/keys.js';
import { withTransaction } from '../adapters/pg/db.js';
import { insertEvents } from '../adapters/pg/events.js';
import { resetQuotas } from '../adapters/pg/recipients.js';
import { clock } from '../clock.js';
import { retryBacklogSoon } from './backlog.js';
import { publishEvents } from './publishEvents.js';

export type QuotaResetResult = { reset: true; recipients: number } | { duplicate: true };

export async function resetQuotasOnce(orgId: string, eventId: string): Promise<QuotaResetResult> {
  const now = clock().now();
  const pk = quotaEventKey(orgId, eventId);
  if (!(await claimEvent(pk, now))) return { duplicate: true };
  try {
    const result = await withTransaction(async (db) => {
      const applied = await db.query(
        `INSERT INTO quota_resets (org_id, event_id, recipients, at) VALUES ($1, $2, 0, $3) ON CONFLICT DO NOTHING`,
        [orgId, eventId, now],
      );
      if ((applied.rowCount ?? 0) === 0) return { result: { duplicate: true } as const, events: [] };
      const recipients = await resetQuotas(db, orgId);
      await db.query(`UPDATE quota_resets SET recipients = $3 WHERE org_id = $1 AND event_id = $2`, [
        orgId,
        eventId,
        recipients,
      ]);
      const events = await insertEvents(
        db,
        [{ orgId, type: 'quota.reset', data: { eventId, recipients } }],
        now,
      );
      return { result: { reset: true, recipients } as const, events };
    });
    await publishEvents(result.events);
    if ('reset' in result.result) await retryBacklogSoon(orgId, 'quota_reset');
    return result.result;
  } catch (error) {
    await releaseEvent(pk).catch(() => undefined);
    throw error;
  }
}
