/**
 * The admin API's routing: a route table (method, path template, auth, schemas, handler) that
 * both dispatches requests and generates the OpenAPI document. Validation failures become 400s
 * listing every problem by field; ids that don't parse are 404s, like ids of another org.
 */
import type { Context } from 'aws-lambda';
import { z } from 'zod';
import { withOrgScope } from '../adapters/pg/db.js';
import { unstorableTextIssues } from '../shared/text.js';
import { NotFoundError, ValidationError } from '../domain/errors.js';
import { unauthorized } from '../http/errors.js';
import { header, json, rawBody, type HttpEvent, type HttpResult } from '../http/middleware.js';
import { authenticateAdmin, authenticateRoot } from '../usecases/authenticateAdmin.js';

export type Auth = 'admin' | 'root' | 'webhook' | 'none';

export interface RequestContext<B = unknown, Q = unknown> {
  orgId: string;
  params: Record<string, string>;
  query: Q;
  body: B;
  event: HttpEvent;
  requestId: string;
  /** The Lambda context (Idempotency-Key handling needs its remaining time). */
  context: Context;
}

export interface RouteResponse {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
  /** Raw body (CSV and other non-JSON answers). */
  raw?: string;
}

export interface Route<B = any, Q = any> {
  method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
  /** OpenAPI-style template: `/api/recipients/{id}`. */
  path: string;
  summary: string;
  tag: string;
  auth: Auth;
  /** Path parameters that must be UUIDs (anything else is a 404). */
  uuidParams?: string[];
  body?: z.ZodType<B>;
  /**
   * Documentation only: the body of a webhook route, which authenticates its secret first and then
   * parses the body itself (JSON or form-encoded), so a bad secret is a 401 whatever the body.
   */
  requestBody?: z.ZodType;
  query?: z.ZodType<Q>;
  responses: Record<number, { description: string; schema?: z.ZodType }>;
  handle(ctx: RequestContext<B, Q>): Promise<RouteResponse>;
}

/** Helper that keeps the body/query types of a route inferred from its schemas. */
export function route<B = undefined, Q = undefined>(r: Route<B, Q>): Route<B, Q> {
  return r;
}

function compile(path: string): RegExp {
  return new RegExp(`^${path.replace(/\{(\w+)\}/g, '(?<$1>[^/]+)')}$`);
}

export function zodIssues(error: z.ZodError, prefix?: string) {
  return error.issues.map((i) => ({
    field: [prefix, ...i.path.map(String)].filter(Boolean).join('.') || prefix || 'body',
    message: i.message,
  }));
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function parseJsonBody(event: HttpEvent): unknown {
  const bytes = rawBody(event);
  if (bytes.length === 0) return {};
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new ValidationError([{ field: 'body', message: 'Invalid JSON' }], 'The body is not valid JSON');
  }
}

export function createRouter(routes: Route[]) {
  // The most specific path first: `/api/leads/import` is tried before `/api/leads/{id}` (stable sort,
  // so routes with as many parameters keep their order).
  const params = (path: string) => (path.match(/\{/g) ?? []).length;
  const compiled = [...routes]
    .sort((a, b) => params(a.path) - params(b.path))
    .map((r) => ({ route: r, pattern: compile(r.path) }));
  return async (event: HttpEvent, context: Context): Promise<HttpResult> => {
    const method = event.requestContext.http.method.toUpperCase();
    const path = event.rawPath.replace(/\/+$/, '') || '/';
    let pathMatched = false;
    for (const { route: r, pattern } of compiled) {
      const m = pattern.exec(path);
      if (!m) continue;
      pathMatched = true;
      if (r.method !== method) continue;
      let params: Record<string, string>;
      try {
        params = Object.fromEntries(
          Object.entries(m.groups ?? {}).map(([k, v]) => [k, decodeURIComponent(v)]),
        );
      } catch {
        throw new NotFoundError(); // a malformed percent-encoding names nothing that exists
      }
      for (const p of r.uuidParams ?? []) if (!UUID.test(params[p] ?? '')) throw new NotFoundError();

      let orgId = '';
      if (r.auth === 'admin') orgId = await authenticateAdmin(header(event, 'authorization'));
      if (r.auth === 'root') await authenticateRoot(header(event, 'authorization'));

      let query: unknown = event.queryStringParameters ?? {};
      const textIssues = unstorableTextIssues(query);
      if (textIssues.length > 0) throw new ValidationError(textIssues, 'Invalid query parameters');
      if (r.query) {
        const q = r.query.safeParse(query);
        if (!q.success) throw new ValidationError(zodIssues(q.error), 'Invalid query parameters');
        query = q.data;
      }
      let body: unknown = undefined;
      if (r.body) {
        const raw = parseJsonBody(event);
        const bodyIssues = unstorableTextIssues(raw);
        if (bodyIssues.length > 0) throw new ValidationError(bodyIssues, 'Invalid request body');
        const b = r.body.safeParse(raw);
        if (!b.success) throw new ValidationError(zodIssues(b.error), 'Invalid request body');
        body = b.data;
      }
      const run = () =>
        r.handle({ orgId, params, query, body, event, requestId: context.awsRequestId, context });
      // Admin requests run under row-level security for their org (see withOrgScope).
      const out = orgId ? await withOrgScope(orgId, run) : await run();
      if (out.raw !== undefined) return { statusCode: out.status, headers: out.headers, body: out.raw };
      return out.body === undefined
        ? { statusCode: out.status, headers: out.headers }
        : json(out.status, out.body, out.headers);
    }
    if (pathMatched)
      return json(405, { error: 'method_not_allowed', message: `${method} is not allowed on ${path}` });
    throw new NotFoundError(`No route for ${method} ${path}`);
  };
}

export { unauthorized };
