/**
 * Per-source rate limit of the lead webhook (default 100 requests/s, burst 200; configurable per
 * source). Checked right after the secret and before anything is parsed, claimed or queued, so a
 * request over the limit is a 429 with `Retry-After` that has stored nothing.
 *
 * The rule is a sliding-window counter over DynamoDB (`adapters/dynamo/rateLimit.ts`):
 *
 *  - A window lasts `floor(burst / perSecond)` seconds (2 s for the default) and admits
 *    `perSecond × window` requests (200): the long-run rate never exceeds `perSecond`, and a client
 *    that was quiet may send up to `burst` at once.
 *  - The previous window still counts, weighted by how much of it overlaps the last `window` seconds
 *    (Cloudflare's sliding-window approximation). Without it, a client could send a full window just
 *    before a boundary and another just after it: twice the burst in an instant.
 *  - Admission is one conditional increment of the current window's counter ("count < allowed"), which
 *    DynamoDB applies atomically, so it holds across any number of concurrent Lambda instances.
 *
 * Timeline of one request at t = 3.5 s with the default (window 2 s, capacity 200):
 *   current window [2 s, 4 s) is 75 % elapsed; previous window [0, 2 s) counted 160;
 *   allowed now = 200 − floor(160 × 25 %) = 160 → admitted while the current count is below 160.
 *
 * API Gateway's stage throttle on AWS (lib/ingest-api.ts) caps the whole route; this caps each source.
 */
import {
  countInWindow,
  getRateLimitConfig,
  rateWindowKey,
  takeFromWindow,
  type RateLimitConfig,
} from '../adapters/dynamo/rateLimit.js';
import { clock } from '../clock.js';
import { HttpError } from '../http/errors.js';

export type { RateLimitConfig };

export const DEFAULT_RATE_LIMIT: RateLimitConfig = { perSecond: 100, burst: 200 };

/** Configured limits are cached per Lambda environment like secrets (30 s); a change applies within that. */
const CACHE_MS = 30_000;
const cache = new Map<string, { limit: RateLimitConfig; until: number }>();

export function rateWindow(limit: RateLimitConfig): { seconds: number; capacity: number } {
  const seconds = Math.max(1, Math.floor(limit.burst / limit.perSecond));
  return { seconds, capacity: limit.perSecond * seconds };
}

/** How many requests the current window still admits, given the previous window's count. */
export function allowedInWindow(capacity: number, previousCount: number, elapsedFraction: number): number {
  return capacity - Math.floor(previousCount * (1 - elapsedFraction));
}

async function limitOf(sourceId: string): Promise<RateLimitConfig> {
  const hit = cache.get(sourceId);
  if (hit && hit.until > Date.now()) return hit.limit;
  const limit = (await getRateLimitConfig(sourceId)) ?? DEFAULT_RATE_LIMIT;
  if (cache.size > 1000) cache.clear();
  cache.set(sourceId, { limit, until: Date.now() + CACHE_MS });
  return limit;
}

/**
 * A window that has ended no longer changes (bar a request still in flight across the boundary), so its
 * count is read once per window per Lambda environment: admission then costs one DynamoDB write, not a
 * read and a write. Measured locally, the extra read per request cost a third of the ingest throughput.
 */
const previousCounts = new Map<string, number>();

async function previousWindowCount(sourceId: string, windowStartMs: number): Promise<number> {
  const key = rateWindowKey(sourceId, windowStartMs);
  const known = previousCounts.get(key);
  if (known !== undefined) return known;
  const count = await countInWindow(key);
  if (previousCounts.size > 1000) previousCounts.clear();
  previousCounts.set(key, count);
  return count;
}

export class RateLimitedError extends HttpError {
  constructor(readonly retryAfterSeconds: number) {
    super(429, 'rate_limited', `Too many requests for this source; retry after ${retryAfterSeconds} s`, {
      'retry-after': String(retryAfterSeconds),
    });
    this.name = 'RateLimitedError';
  }
}

/** Counts one request of the source, or throws `RateLimitedError` (429, `Retry-After`). */
export async function enforceRateLimit(sourceId: string): Promise<void> {
  const { seconds, capacity } = rateWindow(await limitOf(sourceId));
  const windowMs = seconds * 1000;
  const now = clock().now().getTime();
  const start = Math.floor(now / windowMs) * windowMs;
  const elapsed = (now - start) / windowMs;
  const previous = await previousWindowCount(sourceId, start - windowMs);
  const allowed = allowedInWindow(capacity, previous, elapsed);
  // Kept one window past its end (the next window weighs it), then TTL removes it.
  const expiresAt = Math.ceil((start + 2 * windowMs) / 1000) + 60;
  if (await takeFromWindow(rateWindowKey(sourceId, start), allowed, expiresAt)) return;
  // The current window ends: its count then only weighs, and the allowance grows at once.
  throw new RateLimitedError(Math.max(1, Math.ceil((start + windowMs - now) / 1000)));
}

/** Forget cached limits (a source was patched in this environment; tests). */
export function clearRateLimitCache(sourceId?: string): void {
  if (sourceId) cache.delete(sourceId);
  else cache.clear();
  previousCounts.clear();
}
