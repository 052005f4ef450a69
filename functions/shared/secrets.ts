/**
 * Tokens and webhook secrets: 256 random bits, shown once, stored as SHA-256 hashes. A fast hash is
 * enough because the input is random (no dictionary to attack), and it lets a lookup by hash replace
 * any comparison of secrets; the final equality check is still constant-time.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export function newSecret(prefix: 'lr_admin' | 'lr_whsec' | 'lr_root'): string {
  return `${prefix}_${randomBytes(32).toString('base64url')}`;
}

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

export function hashesEqual(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && timingSafeEqual(x, y);
}
