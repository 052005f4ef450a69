/** Sealing third-party credentials at rest (functions/shared/sealed.ts). */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isSealed, open, seal, SealedValueError } from '../../functions/shared/sealed.js';

const KEY = 'k'.repeat(40);
let saved: string | undefined;
beforeEach(() => {
  saved = process.env.CREDENTIALS_KEY;
  process.env.CREDENTIALS_KEY = KEY;
});
afterEach(() => {
  if (saved === undefined) delete process.env.CREDENTIALS_KEY;
  else process.env.CREDENTIALS_KEY = saved;
});

describe('seal / open', () => {
  const secret = {
    apiKey: 'AIza-very-secret',
    serviceAccount: { client_email: 'a@b.c', private_key: 'PEM' },
  };

  it('round-trips, and the sealed form shows none of the value', () => {
    const sealed = seal(secret, 'org:1/import:2');
    expect(isSealed(sealed)).toBe(true);
    expect(JSON.stringify(sealed)).not.toMatch(/AIza|a@b\.c|PEM/);
    expect(open(sealed, 'org:1/import:2')).toEqual(secret);
  });

  it('uses a fresh IV each time: the same value seals differently', () => {
    expect(seal(secret, 'c').data).not.toBe(seal(secret, 'c').data);
  });

  it('does not open in another context (copied to another row) or when altered', () => {
    const sealed = seal(secret, 'org:1/import:2');
    expect(() => open(sealed, 'org:9/import:2')).toThrow(SealedValueError);
    const data = Buffer.from(sealed.data, 'base64');
    data[0] = data[0]! ^ 1;
    expect(() => open({ ...sealed, data: data.toString('base64') }, 'org:1/import:2')).toThrow(
      /does not open/,
    );
  });

  it('names a different key instead of failing vaguely, and refuses a missing or short key', () => {
    const sealed = seal(secret, 'c');
    process.env.CREDENTIALS_KEY = 'x'.repeat(40);
    expect(() => open(sealed, 'c')).toThrow(/another CREDENTIALS_KEY/);
    process.env.CREDENTIALS_KEY = 'short';
    expect(() => seal(secret, 'c')).toThrow(/CREDENTIALS_KEY must be set/);
    delete process.env.CREDENTIALS_KEY;
    expect(() => seal(secret, 'c')).toThrow(/CREDENTIALS_KEY must be set/);
  });
});
