/**
 * Request bodies as Make.com, Zapier and HTML forms send them: JSON objects or
 * `application/x-www-form-urlencoded`. Anything else is a 400 that says what was expected.
 */
import { badRequest, payloadTooLarge } from './errors.js';
import { header, rawBody, type HttpEvent } from './middleware.js';
import { unstorableTextIssues } from '../shared/text.js';

export function parseObjectBody(event: HttpEvent, limitBytes: number): Record<string, unknown> {
  const body = parseAnyObjectBody(event, limitBytes);
  const issues = unstorableTextIssues(body);
  if (issues.length > 0) throw badRequest('The body contains text that cannot be stored', issues);
  return body;
}

function parseAnyObjectBody(event: HttpEvent, limitBytes: number): Record<string, unknown> {
  const bytes = rawBody(event);
  if (bytes.length > limitBytes) throw payloadTooLarge(limitBytes);
  const type = (header(event, 'content-type') ?? '').split(';')[0]!.trim().toLowerCase();
  const text = bytes.toString('utf8');
  if (type === 'application/x-www-form-urlencoded') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of new URLSearchParams(text)) {
      Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
    }
    return out;
  }
  if (type !== '' && type !== 'application/json' && !type.endsWith('+json') && type !== 'text/plain') {
    throw badRequest(`Unsupported content type ${type}`, [
      { field: 'body', message: 'Send application/json or application/x-www-form-urlencoded' },
    ]);
  }
  if (text.trim() === '') throw badRequest('The body is empty', [{ field: 'body', message: 'Required' }]);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw badRequest('The body is not valid JSON', [{ field: 'body', message: 'Invalid JSON' }]);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw badRequest('The body must be a JSON object', [{ field: 'body', message: 'Expected an object' }]);
  }
  return parsed as Record<string, unknown>;
}
