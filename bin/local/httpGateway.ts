import type { IncomingMessage, RequestListener } from 'node:http';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { matchRoute, toHttpApiEvent, type HttpRouteSpec } from './httpApiEvent.js';
import { writeHttpApiResult, writeJsonError } from './httpApiResult.js';
import { lambdaContext } from './lambdaContext.js';
import { serveStatic } from './staticFiles.js';

export { matchRoute, toHttpApiEvent, type MatchedRoute, type HttpRouteSpec } from './httpApiEvent.js';
export { writeHttpApiResult, type HttpApiResult } from './httpApiResult.js';

export type HttpApiHandler = (event: APIGatewayProxyEventV2, context: Context) => unknown;

export interface HttpRoute extends HttpRouteSpec {
  handler: HttpApiHandler;
  /** Function name in the Lambda context (logs, metrics). Default: `http`. */
  functionName?: string;
  /** For `getRemainingTimeInMillis()`; the HTTP API's own limit is 30 s. */
  timeoutMs?: number;
}

export interface HttpGatewayOptions {
  routes: HttpRoute[];
  /** The dashboard build; GET/HEAD of a path outside the routes' first segments serve it (SPA fallback). */
  staticDir?: string;
  /** API Gateway rejects payloads over 10 MB before any function runs; so do we. */
  maxBodyBytes?: number;
  /** A handler threw; the client got a 500 without details. Default: console.error. */
  onError?: (error: unknown, event: APIGatewayProxyEventV2) => void;
}

const API_GATEWAY_MAX_BODY_BYTES = 10 * 1024 * 1024;

/**
 * The local API Gateway HTTP API: turns each request into a payload-2.0 event for the route's
 * handler and its result back into a response. Routes, status codes and errors follow API Gateway,
 * so a handler behaves the same here as behind the deployed API.
 */
export function createHttpGateway(opts: HttpGatewayOptions): RequestListener {
  const maxBodyBytes = opts.maxBodyBytes ?? API_GATEWAY_MAX_BODY_BYTES;
  const apiFirstSegments = new Set(opts.routes.map((route) => route.path.split('/')[1] ?? ''));
  const onError =
    opts.onError ?? ((error: unknown) => console.error('[http gateway] handler failed:', error));

  return (req, res) => {
    void (async () => {
      const method = (req.method ?? 'GET').toUpperCase();
      const path = (req.url ?? '/').split('?')[0] ?? '/';
      const found = matchRoute(opts.routes, method, path);
      if (!found) {
        const isApiPath = apiFirstSegments.has(path.split('/')[1] ?? '');
        if (
          opts.staticDir &&
          (method === 'GET' || method === 'HEAD') &&
          !isApiPath &&
          (await serveStatic(req, res, opts.staticDir))
        )
          return;
        writeJsonError(res, 404, 'not_found', `No route for ${method} ${path}`);
        return;
      }
      const body = await readBody(req, maxBodyBytes);
      if (body === 'too_large') {
        // Not reading the rest: close the connection instead of draining a huge upload.
        writeJsonError(res, 413, 'payload_too_large', `Request body exceeds ${maxBodyBytes} bytes`, {
          connection: 'close',
        });
        return;
      }
      const event = toHttpApiEvent(req, body, found.match);
      let result: unknown;
      try {
        result = await found.route.handler(
          event,
          lambdaContext(found.route.functionName ?? 'http', { timeoutMs: found.route.timeoutMs ?? 30_000 }),
        );
      } catch (error) {
        onError(error, event);
        writeJsonError(res, 500, 'internal', 'Internal Server Error', {
          'apigw-requestid': event.requestContext.requestId,
        });
        return;
      }
      writeHttpApiResult(res, result, event.requestContext.requestId);
    })().catch((error: unknown) => {
      // The client went away mid-request, or writing failed: nothing left to answer.
      if (!res.headersSent) writeJsonError(res, 500, 'internal', 'Internal Server Error');
      else res.destroy(error instanceof Error ? error : undefined);
    });
  };
}

/** The whole body, or 'too_large' as soon as it passes `limit` (a declared length is checked first). */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer | 'too_large'> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) return Promise.resolve('too_large');
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.off('data', onData);
        req.pause();
        resolve('too_large');
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () => resolve(Buffer.concat(chunks)));
    req.once('error', reject);
  });
}
