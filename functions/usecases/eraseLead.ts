/**
 * Erasure request for one lead (`DELETE /api/leads/:id`): the person's data goes, the business record
 * stays. In one transaction:
 *
 *  1. Lock the lead (404 for another org's or an unknown id). Already erased → the same answer again.
 *  2. Give back the DynamoDB claims that still name this lead (the 24 h phone window and the
 *     externalId of its source): conditional deletes, so a claim that moved on to a newer lead of the
 *     same person is left alone. Done before the phone is nulled, while its key can still be computed;
 *     if the commit then fails, a retry finds the lead unerased and finishes the job.
 *  3. Null phone, email, names, zip, external id and attributes; status, state, campaign, assignments
 *     and counters are untouched (caps and reports stay true).
 *  4. Reduce the data of the lead's events to ids (and non-personal codes such as statuses), record
 *     the erasure, and write a `lead.erased` event; commit; push it to dashboards.
 *
 * Not reached: a copy still on the queue or in the DLQ (it is stored on arrival and can be erased then)
 * and backups, which age out with their retention.
 */
import { externalIdKey, phoneKey, releaseClaim } from '../adapters/dynamo/keys.js';
import { withTransaction } from '../adapters/pg/db.js';
import {
  erasePersonalColumns,
  insertErasure,
  lockLeadEventData,
  lockLeadForErasure,
  replaceEventData,
} from '../adapters/pg/erasure.js';
import { insertEvents, type StoredEvent } from '../adapters/pg/events.js';
import { clock } from '../clock.js';
import { NotFoundError } from '../domain/errors.js';
import { publishEvents } from './publishEvents.js';

/** Keys whose values carry no personal data: ids and the product's own codes. */
const ID_KEY = /^id$|Id$|Ids$/;
const CODE_KEYS = new Set([
  'status',
  'reason',
  'from',
  'to',
  'tier',
  'selected',
  'matchedOn',
  'by',
  'endReason',
]);

/**
 * An event's data with only ids and codes left, at any depth (`{ lead: { id, status }, assignments:
 * [{ recipientId, reason }] }`): names, phones, emails, states, attributes and free text are dropped.
 */
export function keepOnlyIds(value: unknown, key = ''): unknown {
  if (Array.isArray(value)) {
    const items = value.map((item) => keepOnlyIds(item, key)).filter((item) => item !== undefined);
    return items.length > 0 || ID_KEY.test(key) ? items : undefined;
  }
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      const kept = keepOnlyIds(v, k);
      if (kept !== undefined) out[k] = kept;
    }
    return Object.keys(out).length > 0 || key === '' ? out : undefined;
  }
  return ID_KEY.test(key) || CODE_KEYS.has(key) ? value : undefined;
}

export interface ErasureResult {
  id: string;
  status: string;
  erased: true;
  erasedAt: Date;
}

export async function eraseLead(orgId: string, leadId: string): Promise<ErasureResult> {
  const now = clock().now();
  const { result, events } = await withTransaction(async (db) => {
    const lead = await lockLeadForErasure(db, orgId, leadId);
    if (!lead) throw new NotFoundError('Lead not found');
    const result = {
      id: lead.id,
      status: lead.status,
      erased: true as const,
      erasedAt: lead.erasedAt ?? now,
    };
    if (lead.erasedAt) return { result, events: [] as StoredEvent[] };

    if (lead.phone) await releaseClaim(phoneKey(orgId, lead.phone), lead.id);
    if (lead.externalId && lead.sourceId)
      await releaseClaim(externalIdKey(lead.sourceId, lead.externalId), lead.id);
    await erasePersonalColumns(db, orgId, lead.id, now);
    const history = await lockLeadEventData(db, orgId, lead.id);
    await replaceEventData(
      db,
      orgId,
      history.map((e) => ({ id: e.id, data: keepOnlyIds(e.data) as Record<string, unknown> })),
    );
    await insertErasure(db, { orgId, leadId: lead.id, at: now, eventsScrubbed: history.length });
    const events = await insertEvents(
      db,
      [{ orgId, type: 'lead.erased', leadId: lead.id, data: { leadId: lead.id } }],
      now,
    );
    return { result, events };
  });
  await publishEvents(events);
  return result;
}
