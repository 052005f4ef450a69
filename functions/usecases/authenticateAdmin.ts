/**
 * Admin bearer tokens → org. Tokens are looked up by their SHA-256 hash (never stored in clear);
 * hits are cached for 30 s per Lambda environment.
 */
import { findOrgByTokenHash } from '../adapters/pg/orgs.js';
import { unauthorized } from '../http/errors.js';
import { hashSecret, hashesEqual } from '../shared/secrets.js';

const cache = new Map<string, { orgId: string; until: number }>();

function bearer(value: string | undefined): string | undefined {
  const m = /^Bearer\s+(\S{1,512})$/i.exec(value?.trim() ?? '');
  return m?.[1];
}

export async function authenticateAdmin(authorization: string | undefined): Promise<string> {
  const token = bearer(authorization);
  if (!token) throw unauthorized('Missing or invalid bearer token');
  const hash = hashSecret(token);
  const hit = cache.get(hash);
  if (hit && hit.until > Date.now()) return hit.orgId;
  const found = await findOrgByTokenHash(hash);
  if (!found) throw unauthorized('Missing or invalid bearer token');
  if (cache.size > 1000) cache.clear();
  cache.set(hash, { orgId: found.orgId, until: Date.now() + 30_000 });
  return found.orgId;
}

/** The operator's token (`ROOT_TOKEN`); creating orgs is disabled when it is unset. */
export async function authenticateRoot(authorization: string | undefined): Promise<void> {
  const root = process.env.ROOT_TOKEN;
  const token = bearer(authorization);
  if (!root || !token || !hashesEqual(hashSecret(token), hashSecret(root)))
    throw unauthorized('Missing or invalid root token');
}

export function clearAdminCache(): void {
  cache.clear();
}
