/** Opaque keyset cursors: the sort key of the last row of a page, base64url-encoded JSON. */
import { ValidationError } from '../domain/errors.js';

export function encodeCursor(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

export function decodeCursor<T>(cursor: string | undefined, check: (v: unknown) => v is T): T | undefined {
  if (!cursor) return undefined;
  try {
    const value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (check(value)) return value;
  } catch {
    // fall through
  }
  throw new ValidationError([{ field: 'cursor', message: 'Invalid cursor' }], 'Invalid cursor');
}
