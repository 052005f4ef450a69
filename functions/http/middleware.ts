/**
 * Cross-cutting HTTP concerns as middy middlewares: security headers, CORS, and the error handler
 * (last, so it sees every error). Errors with `expose` become `{ error, message, issues? }` with their
 * status; anything else is a 500 that names the request id and logs the cause, never leaking internals.
 * A ZodError that escapes a handler is mapped explicitly (it would otherwise be a 500).
 */
import middy from '@middy/core';
import httpCors from '@middy/http-cors';
import httpSecurityHeaders from '@middy/http-security-headers';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { ZodError } from 'zod';
import { logger } from '../powertools.js';

export type HttpEvent = APIGatewayProxyEventV2;
export type HttpResult = APIGatewayProxyStructuredResultV2;
export type HttpHandler = (event: HttpEvent, context: Context) => Promise<HttpResult>;

interface ExposedError {
  statusCode: number;
  code: string;
  message: string;
  expose?: boolean;
  issues?: { field: string; message: string }[];
  headers?: Record<string, string>;
}

function isExposed(error: unknown): error is ExposedError {
  const e = error as Partial<ExposedError> | null;
  return (
    !!e &&
    typeof e.statusCode === 'number' &&
    e.statusCode < 500 &&
    typeof e.code === 'string' &&
    e.expose !== false
  );
}

export function json(statusCode: number, body: unknown, headers: Record<string, string> = {}): HttpResult {
  return {
    statusCode,
    headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
    body: JSON.stringify(body),
  };
}

export function errorResult(error: unknown, requestId: string): HttpResult {
  if (error instanceof ZodError) {
    return json(400, {
      error: 'validation_failed',
      message: 'The request is invalid',
      issues: error.issues.map((i) => ({ field: i.path.join('.') || 'body', message: i.message })),
    });
  }
  const name = (error as Error | null)?.name;
  if (name === 'IdempotencyAlreadyInProgressError') {
    return json(
      409,
      {
        error: 'in_progress',
        message: 'A request with this Idempotency-Key is still running; retry shortly',
      },
      { 'retry-after': '1' },
    );
  }
  if (name === 'IdempotencyValidationError') {
    return json(422, {
      error: 'idempotency_key_reused',
      message: 'This Idempotency-Key was used with a different body',
    });
  }
  if (isExposed(error)) {
    return json(
      error.statusCode,
      { error: error.code, message: error.message, ...(error.issues ? { issues: error.issues } : {}) },
      error.headers ?? {},
    );
  }
  logger.error('Unhandled error', { requestId, error: error as Error });
  return json(500, { error: 'internal', message: 'Internal Server Error', requestId });
}

const errorHandler = (): middy.MiddlewareObj<HttpEvent, HttpResult> => ({
  onError: async (request) => {
    request.response = errorResult(request.error, request.context.awsRequestId);
  },
});

/** Wraps an HTTP handler with our standard middleware stack. */
export function httpHandler(handler: HttpHandler) {
  return middy<HttpEvent, HttpResult>()
    .use(httpSecurityHeaders())
    .use(httpCors({ origin: '*', headers: 'authorization,content-type,idempotency-key,x-webhook-secret' }))
    .use(errorHandler())
    .handler(handler);
}

export function header(event: HttpEvent, name: string): string | undefined {
  const lower = name.toLowerCase();
  for (const [k, v] of Object.entries(event.headers ?? {})) if (k.toLowerCase() === lower) return v;
  return undefined;
}

/** The raw request body as bytes (API Gateway base64-encodes non-text payloads). */
export function rawBody(event: HttpEvent): Buffer {
  if (!event.body) return Buffer.alloc(0);
  return event.isBase64Encoded ? Buffer.from(event.body, 'base64') : Buffer.from(event.body, 'utf8');
}
