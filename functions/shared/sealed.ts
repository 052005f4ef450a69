/**
 * Third-party credentials we must use, not just check (an import's Google API key or service-account
 * private key): they cannot be hashed like our own tokens (`secrets.ts`), so they are sealed with
 * AES-256-GCM before they reach PostgreSQL, and a database dump, a replica or a backup shows only
 * ciphertext.
 *
 * - The key comes from `CREDENTIALS_KEY` (any high-entropy string; HKDF-SHA-256 derives the AES key):
 *   on AWS a generated Secrets Manager secret resolved into the functions that run imports
 *   (`lib/credentials-key.ts`), locally a random value kept in `DATA_DIR/credentials.json`.
 * - Additional authenticated data binds a sealed value to its row (`org:<orgId>/import:<id>`): copied
 *   into another org's or another import's row, it does not open.
 * - `kid` (the first 8 bytes of SHA-256 over the derived key) names the key, so a value sealed under
 *   another key fails with a message that says so instead of a bare authentication error.
 */
import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto';

export interface SealedV1 {
  sealed: 'A256GCM.v1';
  kid: string;
  iv: string;
  tag: string;
  data: string;
}

export class SealedValueError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SealedValueError';
  }
}

let cached: { material: string; key: Buffer; kid: string } | undefined;

function key(): { key: Buffer; kid: string } {
  const material = process.env.CREDENTIALS_KEY;
  if (!material || material.length < 32)
    throw new SealedValueError('CREDENTIALS_KEY must be set (at least 32 characters) to store credentials');
  if (cached?.material !== material) {
    const derived = Buffer.from(hkdfSync('sha256', material, 'leadrouter', 'import credentials v1', 32));
    cached = { material, key: derived, kid: createHash('sha256').update(derived).digest('hex').slice(0, 16) };
  }
  return cached;
}

export function isSealed(value: unknown): value is SealedV1 {
  return typeof value === 'object' && value !== null && (value as SealedV1).sealed === 'A256GCM.v1';
}

export function seal(value: unknown, context: string): SealedV1 {
  const { key: k, kid } = key();
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', k, iv);
  cipher.setAAD(Buffer.from(context, 'utf8'));
  const data = Buffer.concat([cipher.update(JSON.stringify(value), 'utf8'), cipher.final()]);
  return {
    sealed: 'A256GCM.v1',
    kid,
    iv: iv.toString('base64'),
    tag: cipher.getAuthTag().toString('base64'),
    data: data.toString('base64'),
  };
}

export function open<T>(value: SealedV1, context: string): T {
  const { key: k, kid } = key();
  if (value.kid !== kid)
    throw new SealedValueError('sealed under another CREDENTIALS_KEY (was the key changed?); enter it again');
  try {
    const decipher = createDecipheriv('aes-256-gcm', k, Buffer.from(value.iv, 'base64'));
    decipher.setAAD(Buffer.from(context, 'utf8'));
    decipher.setAuthTag(Buffer.from(value.tag, 'base64'));
    const text = Buffer.concat([decipher.update(Buffer.from(value.data, 'base64')), decipher.final()]);
    return JSON.parse(text.toString('utf8')) as T;
  } catch {
    throw new SealedValueError('sealed value does not open here (altered, or copied from another row)');
  }
}
