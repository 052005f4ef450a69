/**
 * Webhook secret → org and source, from DynamoDB (the ingest path never reads PostgreSQL).
 * Found secrets are cached per Lambda environment for 30 s; unknown ones are not cached, so a secret
 * created a moment ago works at once. A revoked secret stops working within 30 s.
 */
import { getSourceSecret, type SourceSecretRecord } from '../adapters/dynamo/keys.js';
import { clock } from '../clock.js';
import { unauthorized } from '../http/errors.js';
import { hashSecret } from '../shared/secrets.js';

const CACHE_MS = 30_000;
const cache = new Map<string, { record: SourceSecretRecord; until: number }>();

export async function authenticateSource(secret: string | undefined): Promise<SourceSecretRecord> {
  if (!secret || secret.length > 512) throw unauthorized('Missing or invalid X-Webhook-Secret');
  const hash = hashSecret(secret);
  const now = clock().now();
  const hit = cache.get(hash);
  if (hit && hit.until > Date.now() && (hit.record.validUntil ?? Infinity) > now.getTime() / 1000)
    return hit.record;
  const record = await getSourceSecret(hash, now);
  if (!record) throw unauthorized('Missing or invalid X-Webhook-Secret');
  if (cache.size > 1000) cache.clear();
  cache.set(hash, { record, until: Date.now() + CACHE_MS });
  return record;
}

/** For secret rotation and tests: forget cached lookups. */
export function clearSourceCache(): void {
  cache.clear();
}
