/**
 * Sources: webhook intake channels, each with its own secret (shown once, stored only as a SHA-256
 * hash) and rate limit. PostgreSQL holds the truth; the ingest path reads a mirror in DynamoDB
 * (`secret#<hash>` → org, source, field map, default campaign; `ratecfg#<source>` → rate limit).
 *
 * Mirror writes happen inside the PostgreSQL transaction, after the source row is locked and before
 * commit, so two edits or rotations of one source cannot reorder their DynamoDB writes. If the commit
 * then fails, DynamoDB may be one step ahead (e.g. a rotated secret no one was shown); repeating the
 * request makes the two agree again.
 *
 * Rotation (`rotateSourceSecret`), with an overlap window so integrations can switch without losing
 * a lead:
 *  1. Lock the source; it must be a webhook source.
 *  2. Mirror a new secret; the current one becomes "previous" and keeps working until
 *     now + overlapSeconds (`validUntil` on its DynamoDB record); 0 ends it at once.
 *  3. A secret still in the overlap window of an earlier rotation ends now: only one previous secret
 *     is honoured, so a second rotation is also how a leaked old secret is cut off.
 *  4. Commit; forget this environment's cached lookups. Other warm ingest environments may accept an
 *     ended secret for up to 30 s (their cache, see `authenticateSource`).
 */
import { v7 as uuidv7 } from 'uuid';
import { deleteSourceSecret, putSourceSecret, type SourceSecretRecord } from '../adapters/dynamo/keys.js';
import { putRateLimitConfig } from '../adapters/dynamo/rateLimit.js';
import { withTransaction } from '../adapters/pg/db.js';
import {
  findOrgSource,
  insertWebhookSource,
  listOrgSources,
  lockSource,
  setSourceSecrets,
  updateSource,
  type SourcePatchFields,
  type SourceRecord,
  type SourceWithSecrets,
} from '../adapters/pg/sources.js';
import { clock } from '../clock.js';
import { ConflictError, NotFoundError } from '../domain/errors.js';
import { hashSecret, newSecret } from '../shared/secrets.js';
import { clearSourceCache } from './authenticateSource.js';
import { clearRateLimitCache, DEFAULT_RATE_LIMIT } from './rateLimit.js';

export const DEFAULT_OVERLAP_SECONDS = 24 * 3600;

export function sourceView(s: SourceRecord) {
  const custom = s.rateLimitPerSecond !== null && s.rateLimitBurst !== null;
  return {
    id: s.id,
    name: s.name,
    kind: s.kind,
    fieldMap: s.fieldMap,
    defaultCampaign: s.defaultCampaign,
    rateLimit: custom ? { perSecond: s.rateLimitPerSecond!, burst: s.rateLimitBurst! } : DEFAULT_RATE_LIMIT,
    rateLimitIsDefault: !custom,
    previousSecretValidUntil: s.previousExpiresAt,
    createdAt: s.createdAt,
  };
}

const epochSeconds = (d: Date) => Math.floor(d.getTime() / 1000);

function secretRecord(s: SourceRecord, validUntil?: Date): SourceSecretRecord {
  return {
    orgId: s.orgId,
    sourceId: s.id,
    fieldMap: s.fieldMap,
    defaultCampaign: s.defaultCampaign,
    ...(validUntil ? { validUntil: epochSeconds(validUntil) } : {}),
  };
}

/** The previous secret is live while its window is open. */
function previousIsLive(s: SourceWithSecrets, now: Date): boolean {
  return s.previousSecretHash !== null && s.previousExpiresAt !== null && s.previousExpiresAt > now;
}

export async function listSources(orgId: string) {
  return (await listOrgSources(orgId)).map(sourceView);
}

export async function getSource(orgId: string, id: string) {
  const source = await findOrgSource(orgId, id);
  if (!source) throw new NotFoundError('Source not found');
  return sourceView(source);
}

export async function createSource(
  orgId: string,
  input: Required<Omit<SourcePatchFields, 'name'>> & { name: string },
): Promise<ReturnType<typeof sourceView> & { secret: string }> {
  const now = clock().now();
  const id = uuidv7();
  const secret = newSecret('lr_whsec');
  const secretHash = hashSecret(secret);
  const source = await withTransaction(async (db) => {
    const row = await insertWebhookSource(db, { id, orgId, secretHash, now, ...input });
    // Before commit: a source whose secret is not mirrored would answer 401 to the secret just shown.
    await putRateLimitConfig(id, input.rateLimit);
    await putSourceSecret(secretHash, secretRecord(row));
    return row;
  });
  return { ...sourceView(source), secret };
}

export async function patchSource(orgId: string, id: string, patch: SourcePatchFields) {
  const now = clock().now();
  const source = await withTransaction(async (db) => {
    const current = await lockSource(db, orgId, id);
    if (!current) throw new NotFoundError('Source not found');
    const updated = await updateSource(db, orgId, id, patch);
    if (patch.rateLimit !== undefined) await putRateLimitConfig(id, patch.rateLimit);
    if (patch.fieldMap !== undefined || patch.defaultCampaign !== undefined) {
      if (updated.secretHash) await putSourceSecret(updated.secretHash, secretRecord(updated));
      if (previousIsLive(updated, now))
        await putSourceSecret(updated.previousSecretHash!, secretRecord(updated, updated.previousExpiresAt!));
    }
    return updated;
  });
  clearSourceCache();
  clearRateLimitCache(id);
  return sourceView(source);
}

export async function rotateSourceSecret(
  orgId: string,
  id: string,
  overlapSeconds: number = DEFAULT_OVERLAP_SECONDS,
): Promise<{ id: string; secret: string; previousSecretValidUntil: Date | null }> {
  const now = clock().now();
  const secret = newSecret('lr_whsec');
  const secretHash = hashSecret(secret);
  const previousValidUntil = overlapSeconds > 0 ? new Date(now.getTime() + overlapSeconds * 1000) : null;
  await withTransaction(async (db) => {
    const source = await lockSource(db, orgId, id);
    if (!source) throw new NotFoundError('Source not found');
    if (source.kind !== 'webhook' || !source.secretHash)
      throw new ConflictError(`A ${source.kind} source has no webhook secret to rotate`);
    // PostgreSQL first: if a mirror write then fails, the rotation rolls back there and the caller retries
    // (at worst an earlier rotation's old secret ended early; the new one was never shown).
    await setSourceSecrets(db, orgId, id, {
      secretHash,
      previousSecretHash: previousValidUntil ? source.secretHash : null,
      previousExpiresAt: previousValidUntil,
    });
    await putSourceSecret(secretHash, secretRecord(source));
    // Step 3: an earlier rotation's old secret ends now.
    if (source.previousSecretHash && source.previousSecretHash !== source.secretHash)
      await deleteSourceSecret(source.previousSecretHash);
    if (previousValidUntil)
      await putSourceSecret(source.secretHash, secretRecord(source, previousValidUntil));
    else await deleteSourceSecret(source.secretHash);
  });
  clearSourceCache();
  return { id, secret, previousSecretValidUntil: previousValidUntil };
}
