/**
 * Lead intake (SPEC §5). Runs on the ingest Lambda and never touches PostgreSQL: a 202 means the
 * lead is durably on the FIFO queue.
 *
 * Steps:
 *  1. Normalise and validate the body (every problem listed by field).
 *  2. Claim the externalId for the source (forever) and the phone for the org (24 h) with DynamoDB
 *     conditional puts. Exactly one of any number of concurrent requests wins each claim.
 *  3. Winner: enqueue the lead, then mark the claim `queued`, answer 202.
 *     Loser: answer 200 duplicate naming the earlier lead, and enqueue a `duplicate` message so the
 *     allocator records a `lead.duplicate` event in the same ordered stream.
 *
 * Timeline of the crash case this guards against:
 *   A claims phone (state pending, message stored) → A crashes before SendMessage.
 *   B posts the same phone → sees the pending claim → re-sends A's stored message (same
 *   MessageDeduplicationId, so harmless if A did send it) → marks it queued → answers duplicate.
 *   So a claim never names a lead that is not, or will not be, on the queue.
 */
import { randomUUID } from 'node:crypto';
import { v7 as uuidv7 } from 'uuid';
import {
  claimLeadKey,
  externalIdKey,
  markClaimQueued,
  phoneKey,
  releaseClaim,
  type ClaimRecord,
  type SourceSecretRecord,
} from '../adapters/dynamo/keys.js';
import { resendSerialized, sendToLeadQueue, type LeadMessage } from '../adapters/sqs/leadQueue.js';
import { clock } from '../clock.js';
import { config } from '../config.js';
import { normalizeLeadInput } from '../domain/normalize.js';
import { ValidationError } from '../domain/errors.js';
import { asciiJson } from '../shared/text.js';

export type IngestResult =
  | { statusCode: 202; body: { leadId: string; status: 'queued'; duplicate: false } }
  | { statusCode: 200; body: { duplicate: true; leadId: string; matchedOn: 'phone' | 'externalId' } };

export async function ingestLead(
  source: SourceSecretRecord,
  body: Record<string, unknown>,
): Promise<IngestResult> {
  const normalized = normalizeLeadInput(body, { fieldMap: source.fieldMap });
  if (!normalized.ok) throw new ValidationError(normalized.issues);
  const lead = { ...normalized.lead, campaign: normalized.lead.campaign ?? source.defaultCampaign };

  const now = clock().now();
  const leadId = uuidv7({ msecs: now.getTime() });
  const message: LeadMessage = {
    type: 'lead',
    orgId: source.orgId,
    sourceId: source.sourceId,
    leadId,
    receivedAt: now.toISOString(),
    lead,
  };
  const serialized = asciiJson(message);

  const extKey = lead.externalId ? externalIdKey(source.sourceId, lead.externalId) : undefined;
  if (extKey) {
    const claim = await claimLeadKey({ pk: extKey, leadId, message: serialized, now });
    if (!claim.claimed) return duplicateOf(claim.existing, extKey, source, lead.phone, 'externalId');
  }

  const pKey = phoneKey(source.orgId, lead.phone);
  const claim = await claimLeadKey({
    pk: pKey,
    leadId,
    message: serialized,
    now,
    ttlSeconds: config().duplicateWindowSeconds,
  });
  if (!claim.claimed) {
    if (extKey) await releaseClaim(extKey, leadId);
    return duplicateOf(claim.existing, pKey, source, lead.phone, 'phone');
  }

  try {
    await sendToLeadQueue(message, lead.phone);
  } catch (error) {
    // Not queued: give the claims back so that the client's retry is not called a duplicate.
    await Promise.all([releaseClaim(pKey, leadId), extKey ? releaseClaim(extKey, leadId) : undefined]);
    throw error;
  }
  await Promise.all([markClaimQueued(pKey, leadId), extKey ? markClaimQueued(extKey, leadId) : undefined]);
  return { statusCode: 202, body: { leadId, status: 'queued', duplicate: false } };
}

async function duplicateOf(
  existing: ClaimRecord,
  pk: string,
  source: SourceSecretRecord,
  phone: string,
  matchedOn: 'phone' | 'externalId',
): Promise<IngestResult> {
  if (existing.state === 'pending' && existing.message) {
    // The claimant may have died before enqueueing; make sure the lead we name is on the queue.
    await resendSerialized(existing.message);
    await markClaimQueued(pk, existing.leadId);
  }
  await sendToLeadQueue(
    {
      type: 'duplicate',
      orgId: source.orgId,
      sourceId: source.sourceId,
      leadId: existing.leadId,
      receivedAt: clock().now().toISOString(),
      matchedOn,
      attemptId: randomUUID(),
    },
    phone,
  );
  return { statusCode: 200, body: { duplicate: true, leadId: existing.leadId, matchedOn } };
}
