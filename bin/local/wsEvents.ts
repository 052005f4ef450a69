import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { APIGatewayProxyWebsocketEventV2 } from 'aws-lambda';
import { apiGatewayTime } from './httpApiEvent.js';

export type WsEventType = 'CONNECT' | 'MESSAGE' | 'DISCONNECT';

/**
 * What API Gateway WebSocket sends to a route's Lambda. `@types/aws-lambda` models the common part;
 * the real events also carry `identity`, and `$connect` (and `$disconnect`) the handshake's headers
 * and query string, which is where our dashboard passes its token.
 */
export type WsEvent = APIGatewayProxyWebsocketEventV2 & {
  headers?: Record<string, string>;
  multiValueHeaders?: Record<string, string[]>;
  requestContext: APIGatewayProxyWebsocketEventV2['requestContext'] & {
    identity: { sourceIp: string; userAgent?: string };
    disconnectStatusCode?: number;
    disconnectReason?: string;
  };
};

/** What the gateway knows about one connection, from its handshake on. */
export interface WsConnectionInfo {
  connectionId: string;
  connectedAt: number;
  sourceIp: string;
  userAgent: string;
  domainName: string;
  headers: Record<string, string>;
  multiValueHeaders: Record<string, string[]>;
  queryStringParameters?: Record<string, string>;
  multiValueQueryStringParameters?: Record<string, string[]>;
}

/** API Gateway's connection ids are 16 characters of base64 with a trailing `=`, e.g. `L0SM9cOFvHcCIhw=`. */
export function newConnectionId(): string {
  return randomBytes(11).toString('base64url').slice(0, 15) + '=';
}

export function newRequestId(): string {
  return randomBytes(10).toString('base64');
}

/** Handshake details, headers with their original case as API Gateway passes them to `$connect`. */
export function connectionInfo(
  req: IncomingMessage,
  connectionId: string,
  connectedAt: number,
): WsConnectionInfo {
  const headers: Record<string, string> = {};
  const multiValueHeaders: Record<string, string[]> = {};
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i] ?? '';
    const value = req.rawHeaders[i + 1] ?? '';
    headers[name] = name in headers ? `${headers[name]},${value}` : value;
    (multiValueHeaders[name] ??= []).push(value);
  }
  const url = new URL(req.url ?? '/', 'http://localhost');
  const query: Record<string, string> = {};
  const multiQuery: Record<string, string[]> = {};
  for (const [key, value] of url.searchParams) {
    query[key] = key in query ? `${query[key]},${value}` : value;
    (multiQuery[key] ??= []).push(value);
  }
  const hasQuery = Object.keys(query).length > 0;
  return {
    connectionId,
    connectedAt,
    sourceIp: (req.socket.remoteAddress ?? '127.0.0.1').replace(/^::ffff:/, ''),
    userAgent: req.headers['user-agent'] ?? '',
    domainName: req.headers.host ?? 'localhost',
    headers,
    multiValueHeaders,
    ...(hasQuery && { queryStringParameters: query, multiValueQueryStringParameters: multiQuery }),
  };
}

export interface WsEventInput {
  connection: WsConnectionInfo;
  eventType: WsEventType;
  stage: string;
  body?: { data: Buffer; isBinary: boolean };
  disconnect?: { statusCode: number; reason: string };
  now?: Date;
}

const ROUTE_KEYS: Record<WsEventType, string> = {
  CONNECT: '$connect',
  MESSAGE: '$default',
  DISCONNECT: '$disconnect',
};

/** One event as API Gateway builds it for `$connect`, `$default` or `$disconnect`. */
export function toWsEvent(input: WsEventInput): WsEvent {
  const now = input.now ?? new Date();
  const { connection } = input;
  const requestId = newRequestId();
  const event: WsEvent = {
    requestContext: {
      routeKey: ROUTE_KEYS[input.eventType],
      eventType: input.eventType,
      extendedRequestId: requestId,
      requestTime: apiGatewayTime(now),
      messageDirection: 'IN',
      stage: input.stage,
      connectedAt: connection.connectedAt,
      requestTimeEpoch: now.getTime(),
      identity: { sourceIp: connection.sourceIp, userAgent: connection.userAgent },
      requestId,
      domainName: connection.domainName,
      connectionId: connection.connectionId,
      apiId: 'local',
      messageId: newRequestId(),
    },
    isBase64Encoded: false,
  };
  // Only messages have an id; `$connect` and `$disconnect` events carry none.
  if (input.eventType !== 'MESSAGE') delete (event.requestContext as { messageId?: string }).messageId;
  if (input.eventType !== 'MESSAGE') {
    event.headers = connection.headers;
    event.multiValueHeaders = connection.multiValueHeaders;
    if (connection.queryStringParameters) {
      event.queryStringParameters = connection.queryStringParameters;
      event.multiValueQueryStringParameters = connection.multiValueQueryStringParameters;
    }
  }
  if (input.body) {
    event.body = input.body.data.toString(input.body.isBinary ? 'base64' : 'utf8');
    event.isBase64Encoded = input.body.isBinary;
  }
  if (input.disconnect) {
    event.requestContext.disconnectStatusCode = input.disconnect.statusCode;
    event.requestContext.disconnectReason = input.disconnect.reason;
  }
  return event;
}
