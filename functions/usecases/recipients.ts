/**
 * Recipient administration. Changing a quota keeps what was used in the current quota period:
 * remaining = max(0, new quota − assignments counted in this epoch).
 */
import { v7 as uuidv7 } from 'uuid';
import { withTransaction } from '../adapters/pg/db.js';
import { insertEvents } from '../adapters/pg/events.js';
import {
  countQuotaUsed,
  getRecipient,
  insertRecipient,
  lockRecipient,
  updateRecipient,
  type RecipientFields,
  type RecipientRow,
} from '../adapters/pg/recipients.js';
import { clock } from '../clock.js';
import { NotFoundError } from '../domain/errors.js';
import { retryBacklogSoon } from './backlog.js';
import { publishEvents } from './publishEvents.js';

export function recipientView(r: RecipientRow) {
  const { orgId: _org, ...view } = r;
  return view;
}

export async function createRecipient(orgId: string, fields: RecipientFields): Promise<RecipientRow> {
  const now = clock().now();
  const id = uuidv7();
  const { row, events } = await withTransaction(async (db) => {
    await insertRecipient(db, orgId, id, fields, now);
    const row = (await getRecipient(orgId, id, now, db))!;
    const events = await insertEvents(
      db,
      [{ orgId, type: 'recipient.created', data: { recipient: recipientView(row) } }],
      now,
    );
    return { row, events };
  });
  await publishEvents(events);
  if (row.active) await retryBacklogSoon(orgId, 'recipient_created');
  return row;
}

export async function patchRecipient(
  orgId: string,
  id: string,
  patch: Partial<RecipientFields>,
): Promise<RecipientRow> {
  const now = clock().now();
  const { row, events, addsCapacity } = await withTransaction(async (db) => {
    const current = await lockRecipient(db, orgId, id);
    if (!current) throw new NotFoundError('Recipient not found');
    const before = (await getRecipient(orgId, id, now, db))!;
    const changes: Partial<RecipientFields> & { quotaRemaining?: number | null } = { ...patch };
    if ('quota' in patch && patch.quota !== current.quota) {
      const used = await countQuotaUsed(db, id, current.quotaEpoch);
      changes.quotaRemaining =
        patch.quota === null || patch.quota === undefined ? null : Math.max(0, patch.quota - used);
    }
    await updateRecipient(db, orgId, id, changes, now);
    const row = (await getRecipient(orgId, id, now, db))!;
    const events = await insertEvents(
      db,
      [{ orgId, type: 'recipient.updated', data: { recipient: recipientView(row) } }],
      now,
    );
    // Re-activated, or given a higher cap or quota: waiting leads may fit now.
    const raised = (before: number | null, after: number | null) =>
      before !== null && (after === null || after > before);
    const addsCapacity =
      row.active &&
      (!before.active || raised(before.dailyCap, row.dailyCap) || raised(before.quota, row.quota));
    return { row, events, addsCapacity };
  });
  await publishEvents(events);
  if (addsCapacity) await retryBacklogSoon(orgId, 'recipient_updated');
  return row;
}
