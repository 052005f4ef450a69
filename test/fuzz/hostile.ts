/**
 * fast-check arbitraries for hostile input, shared by the fuzz suites: strings that are SQL, HTML,
 * template and path payloads, unicode of every plane (RTL overrides, combining marks, emoji), huge
 * strings, numbers out of any sane range (written as raw JSON tokens such as `1e400` and 30-digit
 * integers, which `JSON.stringify` could not produce), deep nesting and prototype keys (`__proto__`,
 * `constructor`, `prototype`) — all rendered as raw JSON text, so the server parses exactly what an
 * attacker would send.
 *
 * Two kinds of characters are opt-in (they once failed; the `faults this fuzzer found` tests pin the fixes
 * tests in the suites and the hardening report):
 * - `unstorable`: NUL and unpaired surrogates, which PostgreSQL cannot store;
 * - `astral`: characters above U+FFFF (emoji, 𝕳), which the local SQS stand-in refuses in a message
 *   body (AWS SQS accepts them); by default they are mapped to a BMP character of the same shape.
 */
import fc from 'fast-check';

export const PAYLOADS = [
  `'; DROP TABLE leads; --`,
  `" OR 1=1 --`,
  `1; SELECT pg_sleep(10)`,
  `$1`,
  `\\'`,
  `<script>alert(1)</script>`,
  `<img src=x onerror=alert(document.cookie)>`,
  `"><svg onload=alert(1)>`,
  `javascript:alert(1)`,
  `{{7*7}}`,
  '${jndi:ldap://127.0.0.1/x}',
  `../../../../etc/passwd`,
  `%00`,
  `%s%s%s%n`,
  `\u202eevil\u202c`,
  `Z̴̡̪͙a̷l̶g̵o̷`,
  `👩‍👩‍👧‍👦🏳️‍🌈`,
  `𝕳𝖊𝖑𝖑𝖔`,
  `ﷺ`,
  `\r\nSet-Cookie: a=b`,
  `   `,
  ``,
];

export const PROTO_KEYS = ['__proto__', 'constructor', 'prototype'];

/** Characters above U+FFFF replaced by U+2603 (see `astral` above). */
export const bmp = (s: string) => s.replace(/[\u{10000}-\u{10FFFF}]/gu, '\u2603');

export interface HostileOptions {
  unstorable?: boolean;
  astral?: boolean;
}

/** A string an attacker might send: payloads, random unicode, or a payload glued to random text. */
export const hostileString = (opts: HostileOptions = {}): fc.Arbitrary<string> =>
  anyHostileString(opts).map((s) => (opts.astral ? s : bmp(s)));

const anyHostileString = (opts: HostileOptions): fc.Arbitrary<string> =>
  fc.oneof(
    fc.constantFrom(...PAYLOADS),
    fc.string({ unit: 'grapheme', maxLength: 40 }),
    fc.string({ maxLength: 40 }),
    fc
      .tuple(fc.constantFrom(...PAYLOADS), fc.string({ unit: 'grapheme-composite', maxLength: 10 }))
      .map(([a, b]) => a + b),
    fc.nat({ max: 100_000 }).map((n) => 'x'.repeat(n)),
    ...(opts.unstorable ? [fc.constantFrom('a\u0000b', '\u0000', 'x\ud800', '\udc00y')] : []),
  );

/** A raw JSON number token, including ones JavaScript cannot represent exactly or at all. */
export const hostileNumber: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    '1e400',
    '-1e400',
    '1e-400',
    '-0',
    '123456789012345678901234567890',
    '9007199254740993',
    '0.1e1',
  ),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((n) => JSON.stringify(n)),
  fc.integer().map(String),
);

/** Raw JSON text of any value, nested up to `depth`, with hostile leaves and keys. */
export function hostileJson(depth = 3, opts: HostileOptions = {}): fc.Arbitrary<string> {
  const key = fc.oneof(
    fc.constantFrom(...PROTO_KEYS),
    hostileString(opts).map((s) => s.slice(0, 50)),
  );
  const { value } = fc.letrec<{ value: string }>((tie) => ({
    value: fc.oneof(
      { depthSize: 'small', maxDepth: depth },
      hostileString(opts).map((s) => JSON.stringify(s)),
      hostileNumber,
      fc.constantFrom('true', 'false', 'null'),
      fc.array(tie('value'), { maxLength: 4 }).map((items) => `[${items.join(',')}]`),
      fc
        .array(fc.tuple(key, tie('value')), { maxLength: 4 })
        .map((entries) => `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',')}}`),
    ),
  }));
  return value;
}

/** Nesting far deeper than any limit: `[[[[…]]]]` or `{"a":{"a":…}}`. */
export const deepNesting: fc.Arbitrary<string> = fc
  .tuple(fc.integer({ min: 50, max: 5000 }), fc.boolean())
  .map(([n, arrays]) => (arrays ? '['.repeat(n) + ']'.repeat(n) : '{"a":'.repeat(n) + '1' + '}'.repeat(n)));

/**
 * A JSON object with the given field names (and prototype keys) mapped to hostile values, as raw text.
 * `known` fields appear with probability 1/2 each so that every combination of present/absent occurs.
 */
export function hostileObject(
  known: string[],
  opts: HostileOptions & { depth?: number } = {},
): fc.Arbitrary<string> {
  const value = fc.oneof(hostileJson(opts.depth ?? 2, opts), deepNesting);
  return fc
    .tuple(
      fc.subarray(known),
      fc.array(value, { minLength: known.length, maxLength: known.length }),
      fc.array(
        fc.tuple(
          fc.oneof(
            fc.constantFrom(...PROTO_KEYS),
            hostileString(opts).map((k) => k.slice(0, 20)),
          ),
          value,
        ),
        {
          maxLength: 3,
        },
      ),
    )
    .map(([present, values, extra]) => {
      const entries = [...present.map((k, i) => [k, values[i]!] as const), ...extra];
      return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',')}}`;
    });
}

/**
 * What every answer must carry: JSON (so text in it is inert) and the security headers. A CSV download
 * (`text/csv` with `nosniff`) is inert too: a browser never renders it as a page.
 */
export function assertInertJson(res: { status: number; headers: Headers; text: string }, what: string): void {
  if (res.status >= 500) throw new Error(`${what}: ${res.status} ${res.text.slice(0, 300)}`);
  // Empty answers carry nothing to render: 204, and the HTTP server's own 431/414 for a URL or header
  // beyond its limits (API Gateway has such limits too), which never reach a handler.
  if (res.status === 204 || res.text === '') return;
  if (res.headers.get('x-content-type-options') !== 'nosniff') throw new Error(`${what}: no nosniff header`);
  const type = res.headers.get('content-type') ?? '';
  if (res.status < 300 && type.startsWith('text/csv')) return;
  if (!type.startsWith('application/json')) throw new Error(`${what}: content-type ${type}`);
  JSON.parse(res.text);
}
