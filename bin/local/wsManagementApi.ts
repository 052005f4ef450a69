import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { closeHttpServer } from './httpServer.js';

/** The gateway's side of one open connection, as the `@connections` API needs it. */
export interface ManagedConnection {
  connectedAt: number;
  lastActiveAt: number;
  sourceIp: string;
  userAgent: string;
  send(data: Buffer): Promise<void>;
  /** Server-side close, as `DeleteConnection` does (the client sees 1000, `$disconnect` runs). */
  close(): void;
}

export interface ManagementApi {
  /** `http://127.0.0.1:<port>`: the `endpoint` for `ApiGatewayManagementApiClient`. */
  endpoint: string;
  close(): Promise<void>;
}

/** API Gateway's limit for one message posted to a connection. */
const MAX_POST_BYTES = 128 * 1024;

/**
 * The `@connections` management API of API Gateway WebSocket on its own port:
 * `POST /@connections/{id}` sends the body to the client, `GET` describes the connection, `DELETE`
 * closes it. Unknown or closed ids get 410 `GoneException`, with the error type in the
 * `x-amzn-ErrorType` header where the AWS SDK's REST-JSON parser looks for it, so the broadcaster's
 * "forget connections that are gone" path runs locally exactly as on AWS. Any path prefix before
 * `/@connections` (a stage, as in `https://…/prod/@connections/…`) is accepted.
 */
export async function startManagementApi(
  lookup: (connectionId: string) => ManagedConnection | undefined,
  port = 0,
): Promise<ManagementApi> {
  const server = http.createServer((req, res) => {
    void handle(req, res, lookup).catch((error: unknown) => {
      if (!res.headersSent)
        sendError(
          res,
          500,
          'InternalServerErrorException',
          error instanceof Error ? error.message : 'internal error',
        );
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => closeHttpServer(server, 500),
  };
}

async function handle(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  lookup: (id: string) => ManagedConnection | undefined,
) {
  const match = /(?:^|\/)@connections\/([^/?]+)\/?(?:\?.*)?$/.exec(req.url ?? '');
  if (!match?.[1]) {
    sendError(res, 404, 'NotFoundException', 'Not Found');
    return;
  }
  const body = await readBody(req);
  const connection = lookup(decodeURIComponent(match[1]));
  if (!connection) {
    sendError(res, 410, 'GoneException', 'GoneException');
    return;
  }
  switch (req.method) {
    case 'POST': {
      if (body.length > MAX_POST_BYTES) {
        sendError(res, 413, 'PayloadTooLargeException', `Message too long; max ${MAX_POST_BYTES} bytes`);
        return;
      }
      await connection.send(body);
      res.writeHead(200).end();
      return;
    }
    case 'GET': {
      const description = JSON.stringify({
        connectedAt: new Date(connection.connectedAt).toISOString(),
        identity: { sourceIp: connection.sourceIp, userAgent: connection.userAgent },
        lastActiveAt: new Date(connection.lastActiveAt).toISOString(),
      });
      res.writeHead(200, { 'content-type': 'application/json' }).end(description);
      return;
    }
    case 'DELETE':
      connection.close();
      res.writeHead(204).end();
      return;
    default:
      sendError(res, 405, 'MethodNotAllowedException', `${req.method ?? ''} not allowed`);
  }
}

function sendError(res: http.ServerResponse, status: number, type: string, message: string) {
  res
    .writeHead(status, { 'content-type': 'application/json', 'x-amzn-ErrorType': type })
    .end(JSON.stringify({ message }));
}

function readBody(req: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.once('end', () => resolve(Buffer.concat(chunks)));
    req.once('error', reject);
  });
}
