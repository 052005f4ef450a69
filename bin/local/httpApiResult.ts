import type { ServerResponse } from 'node:http';

/** What a handler behind an HTTP API may return (payload format 2.0), plus `multiValueHeaders`. */
export interface HttpApiResult {
  statusCode?: number;
  headers?: Record<string, boolean | number | string>;
  /** Not part of format 2.0 (API Gateway ignores it); honoured here so format-1.0 habits still work. */
  multiValueHeaders?: Record<string, (boolean | number | string)[]>;
  cookies?: string[];
  body?: string;
  isBase64Encoded?: boolean;
}

/**
 * Writes a handler's result the way API Gateway turns it into an HTTP response. A result without
 * `statusCode` is not a response description but the body itself: 200, `application/json`, and the
 * body is the string as is, or anything else JSON-encoded. `cookies` become one `Set-Cookie` each.
 * A malformed result is a 500, as API Gateway answers for a bad integration response.
 */
export function writeHttpApiResult(res: ServerResponse, result: unknown, requestId?: string): void {
  if (requestId) res.setHeader('apigw-requestid', requestId);
  if (!isStructured(result)) {
    const body = typeof result === 'string' ? result : JSON.stringify(result ?? null);
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
    return;
  }
  const statusCode = result.statusCode ?? 200;
  if (!Number.isInteger(statusCode) || statusCode < 100 || statusCode > 599) {
    writeJsonError(res, 500, 'internal', 'Internal Server Error');
    return;
  }
  for (const [name, value] of Object.entries(result.headers ?? {})) res.setHeader(name, String(value));
  for (const [name, values] of Object.entries(result.multiValueHeaders ?? {}))
    res.setHeader(name, values.map(String));
  if (result.cookies?.length) res.setHeader('set-cookie', result.cookies);
  const body =
    result.body === undefined
      ? Buffer.alloc(0)
      : Buffer.from(result.body, result.isBase64Encoded ? 'base64' : 'utf8');
  res.setHeader('content-length', body.length);
  res.writeHead(statusCode);
  res.end(body);
}

/** API Gateway reads a result as a response description when it has a `statusCode`. */
function isStructured(result: unknown): result is HttpApiResult {
  return typeof result === 'object' && result !== null && 'statusCode' in result;
}

/** The product's error shape (`{"error", "message"}`) for answers the gateway itself gives. */
export function writeJsonError(
  res: ServerResponse,
  statusCode: number,
  error: string,
  message: string,
  headers: Record<string, string> = {},
): void {
  const body = JSON.stringify({ error, message });
  res.writeHead(statusCode, {
    ...headers,
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}
