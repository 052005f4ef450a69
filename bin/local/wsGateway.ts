import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { STATUS_CODES } from 'node:http';
import type { Context } from 'aws-lambda';
import { WebSocketServer, type WebSocket } from 'ws';
import { lambdaContext } from './lambdaContext.js';
import {
  connectionInfo,
  newConnectionId,
  newRequestId,
  toWsEvent,
  type WsConnectionInfo,
  type WsEvent,
  type WsEventType,
} from './wsEvents.js';
import { startManagementApi, type ManagedConnection } from './wsManagementApi.js';

export type { WsEvent } from './wsEvents.js';

export type WsHandler = (event: WsEvent, context: Context) => unknown;

export interface WsGatewayOptions {
  /** The HTTP server whose upgrade requests on `path` become WebSocket connections. */
  server: Server;
  path: '/ws';
  handlers: { connect: WsHandler; disconnect: WsHandler; default: WsHandler };
  /** Port of the `@connections` API on 127.0.0.1. Default: any free port. */
  managementPort?: number;
  /** `requestContext.stage`. Default `local`. */
  stage?: string;
  /** A route handler threw. Default: console.error. */
  onError?: (error: unknown, event: WsEvent) => void;
}

export interface WsGateway {
  /** `http://127.0.0.1:<port>`, the `endpoint` of an `ApiGatewayManagementApiClient`. */
  managementEndpoint: string;
  connectionCount(): number;
  /**
   * Closes every connection with 1001 (going away) — clients reconnect, as when API Gateway
   * deploys — waits (bounded) for their `$disconnect`, and stops the `@connections` API. The HTTP
   * server stays up; a new gateway may be created on it.
   */
  close(): Promise<void>;
}

/** API Gateway's limit for one WebSocket message; bigger frames close the connection (1009). */
const MAX_MESSAGE_BYTES = 128 * 1024;

interface OpenConnection extends ManagedConnection {
  info: WsConnectionInfo;
  socket: WebSocket;
  disconnected: Promise<void>;
}

/**
 * The local API Gateway WebSocket API, on `ws`. Timeline of one connection:
 * 1. the upgrade request on `path` runs `$connect` first; a result with `statusCode` ≥ 400 (or a
 *    throw, as 500) refuses the handshake with that status — the client never gets a socket;
 * 2. each message runs `$default`; a returned `body` (or string) goes back to that client, like a
 *    route response; a throw sends API Gateway's `{"message":"Internal server error",…}`;
 * 3. a close from either side runs `$disconnect` once (after which `@connections` answers 410).
 */
export async function createWsGateway(opts: WsGatewayOptions): Promise<WsGateway> {
  const stage = opts.stage ?? 'local';
  const onError = opts.onError ?? ((error: unknown) => console.error('[ws gateway] handler failed:', error));
  const connections = new Map<string, OpenConnection>();
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: MAX_MESSAGE_BYTES,
    handleProtocols: (protocols, req) =>
      (req as IncomingMessage & { selectedProtocol?: string }).selectedProtocol ?? false,
  });
  const management = await startManagementApi((id) => connections.get(id), opts.managementPort);

  async function invoke(kind: WsEventType, event: WsEvent): Promise<unknown> {
    const handler =
      kind === 'CONNECT'
        ? opts.handlers.connect
        : kind === 'DISCONNECT'
          ? opts.handlers.disconnect
          : opts.handlers.default;
    const name = kind === 'CONNECT' ? 'ws-connect' : kind === 'DISCONNECT' ? 'ws-disconnect' : 'ws-default';
    return handler(event, lambdaContext(name, { timeoutMs: 10_000 }));
  }

  async function onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const connectionId = newConnectionId();
    const info = connectionInfo(req, connectionId, Date.now());
    const connectEvent = toWsEvent({ connection: info, eventType: 'CONNECT', stage });
    let result: unknown;
    try {
      result = await invoke('CONNECT', connectEvent);
    } catch (error) {
      onError(error, connectEvent);
      refuse(socket, 500);
      return;
    }
    const statusCode = statusOf(result);
    if (statusCode >= 400) {
      refuse(socket, statusCode);
      return;
    }
    if (socket.destroyed) return;
    const protocol = headerOf(result, 'sec-websocket-protocol');
    if (protocol) (req as IncomingMessage & { selectedProtocol?: string }).selectedProtocol = protocol;
    wss.handleUpgrade(req, socket, head, (ws) => accept(ws, info));
  }

  function accept(socket: WebSocket, info: WsConnectionInfo): void {
    let resolveDisconnected!: () => void;
    const connection: OpenConnection = {
      info,
      socket,
      connectedAt: info.connectedAt,
      lastActiveAt: info.connectedAt,
      sourceIp: info.sourceIp,
      userAgent: info.userAgent,
      send: (data) =>
        new Promise<void>((resolve, reject) => {
          connection.lastActiveAt = Date.now();
          socket.send(data, { binary: false }, (error) => (error ? reject(error) : resolve()));
        }),
      close: () => socket.close(1000),
      disconnected: new Promise<void>((resolve) => (resolveDisconnected = resolve)),
    };
    connections.set(info.connectionId, connection);

    socket.on('message', (data: Buffer, isBinary: boolean) => {
      connection.lastActiveAt = Date.now();
      const event = toWsEvent({ connection: info, eventType: 'MESSAGE', stage, body: { data, isBinary } });
      invoke('MESSAGE', event).then(
        (result) => {
          const reply = replyOf(result);
          if (reply !== undefined && socket.readyState === socket.OPEN) socket.send(reply);
        },
        (error: unknown) => {
          onError(error, event);
          if (socket.readyState === socket.OPEN) {
            socket.send(
              JSON.stringify({
                message: 'Internal server error',
                connectionId: info.connectionId,
                requestId: newRequestId(),
              }),
            );
          }
        },
      );
    });
    socket.on('error', () => undefined); // a broken client connection ends in 'close' as well
    socket.once('close', (code: number, reason: Buffer) => {
      connections.delete(info.connectionId);
      const event = toWsEvent({
        connection: info,
        eventType: 'DISCONNECT',
        stage,
        disconnect: { statusCode: code, reason: reason.toString() },
      });
      Promise.resolve()
        .then(() => invoke('DISCONNECT', event))
        .catch((error: unknown) => onError(error, event))
        .finally(resolveDisconnected);
    });
  }

  const upgradeListener = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== opts.path) {
      // Another upgrade listener (e.g. a dev server's HMR) may want it; if there is none, say so.
      if (opts.server.listenerCount('upgrade') === 1) refuse(socket, 404);
      return;
    }
    socket.on('error', () => undefined);
    void onUpgrade(req, socket, head).catch(() => refuse(socket, 500));
  };
  opts.server.on('upgrade', upgradeListener);

  return {
    managementEndpoint: management.endpoint,
    connectionCount: () => connections.size,
    async close() {
      opts.server.off('upgrade', upgradeListener);
      const open = [...connections.values()];
      for (const connection of open) connection.socket.close(1001, 'Going away');
      await Promise.race([
        Promise.all(open.map((c) => c.disconnected)),
        new Promise((resolve) => setTimeout(resolve, 5_000)),
      ]);
      for (const connection of open) connection.socket.terminate();
      wss.close();
      await management.close();
    },
  };
}

/** The handshake answer API Gateway gives when `$connect` refuses: a plain HTTP status, no socket. */
function refuse(socket: Duplex, statusCode: number): void {
  if (socket.destroyed) return;
  const body = JSON.stringify({ message: STATUS_CODES[statusCode] ?? 'Error' });
  socket.end(
    `HTTP/1.1 ${statusCode} ${STATUS_CODES[statusCode] ?? 'Error'}\r\n` +
      'Connection: close\r\nContent-Type: application/json\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

function statusOf(result: unknown): number {
  if (typeof result === 'object' && result !== null && 'statusCode' in result)
    return Number(result.statusCode);
  return 200;
}

function headerOf(result: unknown, name: string): string | undefined {
  if (typeof result !== 'object' || result === null || !('headers' in result)) return undefined;
  const headers = result.headers as Record<string, unknown> | undefined;
  const key = Object.keys(headers ?? {}).find((k) => k.toLowerCase() === name);
  return key ? String(headers?.[key]) : undefined;
}

/** A route response: the result's `body`, or a string result itself; nothing otherwise. */
function replyOf(result: unknown): string | undefined {
  if (typeof result === 'string') return result;
  if (typeof result === 'object' && result !== null && 'body' in result && typeof result.body === 'string')
    return result.body;
  return undefined;
}
