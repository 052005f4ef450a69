/**
 * Text PostgreSQL and the queue can carry. PostgreSQL cannot store NUL (U+0000) in text or jsonb, and
 * an unpaired UTF-16 surrogate is not valid Unicode at all: accepting either would mean a 202 for a
 * lead that can never be stored. So they are rejected up front, naming the field.
 */
// eslint-disable-next-line no-control-regex -- finding NUL is the point
const NUL_OR_LONE_SURROGATE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

export function unstorableTextIssues(value: unknown, path = ''): { field: string; message: string }[] {
  const issues: { field: string; message: string }[] = [];
  const walk = (v: unknown, p: string, depth: number) => {
    if (issues.length >= 20 || depth > 64) return;
    if (typeof v === 'string') {
      if (NUL_OR_LONE_SURROGATE.test(v))
        issues.push({ field: p || 'body', message: 'Contains a NUL character or invalid Unicode' });
    } else if (Array.isArray(v)) {
      v.forEach((x, i) => walk(x, p ? `${p}.${i}` : String(i), depth + 1));
    } else if (v && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) {
        if (NUL_OR_LONE_SURROGATE.test(k))
          issues.push({
            field: p || 'body',
            message: 'A field name contains a NUL character or invalid Unicode',
          });
        walk(x, p ? `${p}.${k}` : k, depth + 1);
      }
    }
  };
  walk(value, path, 0);
  return issues;
}

/**
 * JSON with every non-ASCII character escaped (`\uXXXX`, surrogate pairs as two escapes): the same
 * value when parsed, and a body every SQS implementation accepts (the local stand-in refuses
 * characters above U+FFFF, which AWS allows).
 */
export function asciiJson(value: unknown): string {
  return JSON.stringify(value).replace(
    /[\u007f-\uffff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}
