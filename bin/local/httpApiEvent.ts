import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';

/** One route of an HTTP API, as in `functions/registry.ts` (`POST /webhooks/leads`, `ANY /api/{proxy+}`). */
export interface HttpRouteSpec {
  /** HTTP method, or `ANY`. */
  method: string;
  /** Path template: literal segments, `{name}` (one segment) and a final `{name+}` (the rest). */
  path: string;
}

export interface MatchedRoute {
  /** `POST /webhooks/leads`, exactly as API Gateway sets `routeKey`. */
  routeKey: string;
  pathParameters?: Record<string, string>;
}

/** Text bodies reach the function as UTF-8 strings; everything else base64, like API Gateway. */
const TEXT_CONTENT_TYPE =
  /^(text\/|application\/(json|x-www-form-urlencoded|xml|javascript|csv|ld\+json|problem\+json)\b|application\/[\w.+-]+\+(json|xml)\b)/i;

/**
 * Picks the route API Gateway would: the most specific path wins (literal segments over `{param}`
 * over a greedy `{proxy+}`), and a route for the exact method wins over `ANY`. Undefined when none.
 */
export function matchRoute<R extends HttpRouteSpec>(
  routes: readonly R[],
  method: string,
  path: string,
): { route: R; match: MatchedRoute } | undefined {
  const requestSegments = path.split('/').slice(1);
  let best: { route: R; match: MatchedRoute; score: number[] } | undefined;
  for (const route of routes) {
    if (route.method !== 'ANY' && route.method.toUpperCase() !== method.toUpperCase()) continue;
    const parameters = matchPath(route.path, requestSegments);
    if (!parameters) continue;
    const segments = route.path.split('/').slice(1);
    const greedy = segments.some((segment) => segment.endsWith('+}'));
    const literals = segments.filter((segment) => !segment.startsWith('{')).length;
    const score = [greedy ? 0 : 1, literals, route.method === 'ANY' ? 0 : 1];
    if (!best || compareScores(score, best.score) > 0) {
      const match: MatchedRoute = { routeKey: `${route.method.toUpperCase()} ${route.path}` };
      if (Object.keys(parameters).length > 0) match.pathParameters = parameters;
      best = { route, match, score };
    }
  }
  return best && { route: best.route, match: best.match };
}

function compareScores(a: number[], b: number[]): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return (a[i] ?? 0) - (b[i] ?? 0);
  return 0;
}

function matchPath(template: string, requestSegments: string[]): Record<string, string> | undefined {
  const segments = template.split('/').slice(1);
  const parameters: Record<string, string> = {};
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i] ?? '';
    const rest = requestSegments.slice(i);
    if (segment.startsWith('{') && segment.endsWith('+}')) {
      // A greedy parameter needs at least one non-empty segment: `/api/{proxy+}` does not match `/api`.
      if (rest.length === 0 || rest.join('/') === '') return undefined;
      parameters[segment.slice(1, -2)] = decode(rest.join('/'));
      return parameters;
    }
    const value = requestSegments[i];
    if (value === undefined) return undefined;
    if (segment.startsWith('{') && segment.endsWith('}')) {
      if (value === '') return undefined;
      parameters[segment.slice(1, -1)] = decode(value);
    } else if (segment !== value) {
      return undefined;
    }
  }
  return segments.length === requestSegments.length ? parameters : undefined;
}

function decode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

/**
 * The payload-format-2.0 event API Gateway HTTP API would send for this request: headers lowercased
 * with repeated ones joined by commas, cookies moved out of the headers into `cookies`, repeated
 * query parameters joined by commas, text bodies as strings and others base64, and the
 * `x-forwarded-*` headers API Gateway adds.
 */
export function toHttpApiEvent(
  req: IncomingMessage,
  body: Buffer,
  route: MatchedRoute,
  now: Date = new Date(),
): APIGatewayProxyEventV2 {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const rawPath = (req.url ?? '/').split('?')[0] ?? '/';
  const rawQueryString = (req.url ?? '').includes('?')
    ? (req.url ?? '').slice((req.url ?? '').indexOf('?') + 1)
    : '';
  const sourceIp = (req.socket.remoteAddress ?? '127.0.0.1').replace(/^::ffff:/, '');
  const headers = joinedHeaders(req.rawHeaders);
  const cookies = headers.cookie?.split(/;\s*/).filter(Boolean);
  delete headers.cookie;
  headers['x-forwarded-for'] = headers['x-forwarded-for']
    ? `${headers['x-forwarded-for']}, ${sourceIp}`
    : sourceIp;
  headers['x-forwarded-proto'] ??= 'http';
  headers['x-forwarded-port'] ??= String(req.socket.localPort ?? 80);
  const domainName = headers.host ?? 'localhost';
  const requestId = randomBytes(10).toString('base64');
  const method = (req.method ?? 'GET').toUpperCase();

  const event: APIGatewayProxyEventV2 = {
    version: '2.0',
    routeKey: route.routeKey,
    rawPath,
    rawQueryString,
    headers,
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      domainName,
      domainPrefix: domainName.split('.')[0]?.split(':')[0] ?? 'localhost',
      http: {
        method,
        path: rawPath,
        protocol: `HTTP/${req.httpVersion}`,
        sourceIp,
        userAgent: headers['user-agent'] ?? '',
      },
      requestId,
      routeKey: route.routeKey,
      stage: '$default',
      time: apiGatewayTime(now),
      timeEpoch: now.getTime(),
    },
    isBase64Encoded: false,
  };
  if (cookies?.length) event.cookies = cookies;
  const query = queryParameters(url.searchParams);
  if (query) event.queryStringParameters = query;
  if (route.pathParameters) event.pathParameters = route.pathParameters;
  if (body.length > 0) {
    const isText = TEXT_CONTENT_TYPE.test(headers['content-type'] ?? '');
    event.body = body.toString(isText ? 'utf8' : 'base64');
    event.isBase64Encoded = !isText;
  }
  return event;
}

/** Node joins most repeated headers with ", " and drops some (e.g. a second content-type); API Gateway joins all with ",". */
function joinedHeaders(rawHeaders: string[]): Record<string, string> {
  const headers: Record<string, string> = {};
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = (rawHeaders[i] ?? '').toLowerCase();
    const value = rawHeaders[i + 1] ?? '';
    headers[name] = name in headers ? `${headers[name]},${value}` : value;
  }
  return headers;
}

function queryParameters(params: URLSearchParams): Record<string, string> | undefined {
  const result: Record<string, string> = {};
  for (const [key, value] of params) result[key] = key in result ? `${result[key]},${value}` : value;
  return Object.keys(result).length > 0 ? result : undefined;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** `12/Mar/2020:19:03:58 +0000`, API Gateway's `requestContext.time` format (always UTC). */
export function apiGatewayTime(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return (
    `${pad(date.getUTCDate())}/${MONTHS[date.getUTCMonth()]}/${date.getUTCFullYear()}:` +
    `${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())} +0000`
  );
}
