import http from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  ApiGatewayManagementApiClient,
  DeleteConnectionCommand,
  GetConnectionCommand,
  GoneException,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createWsGateway, type WsEvent, type WsGateway } from '../../../bin/local/wsGateway.js';

describe('createWsGateway', () => {
  let server: http.Server;
  let port: number;
  let gateway: WsGateway;
  let events: WsEvent[];
  const waiters: { match: (e: WsEvent) => boolean; resolve: (e: WsEvent) => void }[] = [];

  function record(event: WsEvent) {
    events.push(event);
    for (const waiter of waiters.splice(0)) {
      if (waiter.match(event)) waiter.resolve(event);
      else waiters.push(waiter);
    }
  }
  /** Resolves with the first recorded event (past or future) that matches; bounded by the test timeout. */
  function eventWhere(match: (e: WsEvent) => boolean): Promise<WsEvent> {
    const seen = events.find(match);
    return seen ? Promise.resolve(seen) : new Promise((resolve) => waiters.push({ match, resolve }));
  }

  const handlers = {
    connect: (event: WsEvent) => {
      record(event);
      return event.queryStringParameters?.token === 'good'
        ? { statusCode: 200 }
        : { statusCode: 401, body: 'Unauthorized' };
    },
    disconnect: (event: WsEvent) => {
      record(event);
      return { statusCode: 200 };
    },
    default: (event: WsEvent) => {
      record(event);
      if (event.body === 'ping') return { statusCode: 200, body: 'pong' };
      if (event.body === 'fail') throw new Error('boom');
      return { statusCode: 200 };
    },
  };

  const management = () =>
    new ApiGatewayManagementApiClient({
      endpoint: gateway.managementEndpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });

  async function connect(
    token: string,
  ): Promise<{ socket: WebSocket; connectionId: string; messages: string[] }> {
    const socket = new WebSocket(`ws://127.0.0.1:${port}/ws?token=${token}`, {
      headers: { 'User-Agent': 'dashboard-test' },
    });
    const messages: string[] = [];
    socket.on('message', (data) => messages.push(data.toString()));
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
    // $connect ran before the handshake completed, so its event is the latest CONNECT by now.
    const connected = events.filter((e) => e.requestContext.eventType === 'CONNECT').at(-1)!;
    return { socket, connectionId: connected.requestContext.connectionId, messages };
  }

  async function until(condition: () => boolean) {
    for (let i = 0; i < 200 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(condition()).toBe(true);
  }

  beforeAll(async () => {
    server = http.createServer((_req, res) => res.writeHead(404).end());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
    gateway = await createWsGateway({ server, path: '/ws', handlers, onError: () => undefined });
  });
  beforeEach(() => {
    events = [];
  });
  afterAll(async () => {
    await gateway.close();
    await new Promise((resolve) => server.close(resolve));
  });

  it('refuses the handshake with 401 when $connect returns 401', async () => {
    const socket = new WebSocket(`ws://127.0.0.1:${port}/ws?token=bad`);
    const status = await new Promise<number>((resolve) =>
      socket.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0)),
    );
    expect(status).toBe(401);
    expect(gateway.connectionCount()).toBe(0);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      queryStringParameters: { token: 'bad' },
      requestContext: {
        routeKey: '$connect',
        eventType: 'CONNECT',
        stage: 'local',
        messageDirection: 'IN',
        identity: { sourceIp: '127.0.0.1' },
      },
    });
  });

  it('refuses upgrades on other paths', async () => {
    const socket = new WebSocket(`ws://127.0.0.1:${port}/other`);
    const status = await new Promise<number>((resolve) =>
      socket.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0)),
    );
    expect(status).toBe(404);
  });

  it('delivers PostToConnection from the real SDK client, and answers $default like a route response', async () => {
    const { socket, connectionId, messages } = await connect('good');
    expect(connectionId).toMatch(/^[A-Za-z0-9_-]{15}=$/);
    const connectEvent = events.find((e) => e.requestContext.eventType === 'CONNECT')!;
    expect(connectEvent.requestContext).toMatchObject({
      domainName: `127.0.0.1:${port}`,
      identity: { userAgent: 'dashboard-test' },
      apiId: 'local',
    });
    expect(connectEvent.headers).toMatchObject({ 'User-Agent': 'dashboard-test' });
    expect(connectEvent.requestContext.connectedAt).toBeLessThanOrEqual(Date.now());

    await management().send(
      new PostToConnectionCommand({
        ConnectionId: connectionId,
        Data: JSON.stringify({ type: 'lead.assigned', at: 'now', data: {} }),
      }),
    );
    await until(() => messages.length === 1);
    expect(JSON.parse(messages[0]!)).toMatchObject({ type: 'lead.assigned' });

    socket.send('ping');
    await until(() => messages.length === 2);
    expect(messages[1]).toBe('pong');
    const message = await eventWhere((e) => e.requestContext.eventType === 'MESSAGE');
    expect(message).toMatchObject({
      body: 'ping',
      isBase64Encoded: false,
      requestContext: { routeKey: '$default', connectionId, messageId: expect.any(String) },
    });

    socket.send('fail');
    await until(() => messages.length === 3);
    expect(JSON.parse(messages[2]!)).toMatchObject({ message: 'Internal server error', connectionId });
    socket.close();
    await eventWhere((e) => e.requestContext.eventType === 'DISCONNECT');
  });

  it('describes a connection with GetConnection (camelCase fields, as AWS)', async () => {
    const { socket, connectionId } = await connect('good');
    const raw = await fetch(`${gateway.managementEndpoint}/@connections/${encodeURIComponent(connectionId)}`);
    const body = (await raw.json()) as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual(['connectedAt', 'identity', 'lastActiveAt']);
    expect(body.identity).toEqual({ sourceIp: '127.0.0.1', userAgent: 'dashboard-test' });

    const described = await management().send(new GetConnectionCommand({ ConnectionId: connectionId }));
    expect(described.ConnectedAt).toBeInstanceOf(Date);
    expect(described.LastActiveAt).toBeInstanceOf(Date);
    expect(Math.abs(described.ConnectedAt!.getTime() - Date.now())).toBeLessThan(10_000);
    expect(described.Identity).toEqual({ SourceIp: '127.0.0.1', UserAgent: 'dashboard-test' });
    socket.close();
  });

  it('closes a connection on DeleteConnection, runs $disconnect, then answers GoneException', async () => {
    const { socket, connectionId } = await connect('good');
    const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
    await management().send(new DeleteConnectionCommand({ ConnectionId: connectionId }));
    expect(await closed).toBe(1000);
    const disconnect = await eventWhere(
      (e) => e.requestContext.eventType === 'DISCONNECT' && e.requestContext.connectionId === connectionId,
    );
    expect(disconnect.requestContext).toMatchObject({ routeKey: '$disconnect', disconnectStatusCode: 1000 });

    const post = management().send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: 'late' }));
    await expect(post).rejects.toBeInstanceOf(GoneException);
    await expect(
      management().send(new GetConnectionCommand({ ConnectionId: 'never-existed=' })),
    ).rejects.toBeInstanceOf(GoneException);
    const raw = await fetch(`${gateway.managementEndpoint}/@connections/unknown`, {
      method: 'POST',
      body: 'x',
    });
    expect(raw.status).toBe(410);
    expect(raw.headers.get('x-amzn-errortype')).toBe('GoneException');
    expect(await raw.json()).toEqual({ message: 'GoneException' });
  });

  it('closes clients with 1001 on close() and accepts them again on a new gateway', async () => {
    const { socket } = await connect('good');
    const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
    const oldEndpoint = gateway.managementEndpoint;
    await gateway.close();
    expect(await closed).toBe(1001);
    expect(gateway.connectionCount()).toBe(0);
    await expect(fetch(`${oldEndpoint}/@connections/x`)).rejects.toThrow();

    gateway = await createWsGateway({ server, path: '/ws', handlers, onError: () => undefined });
    const again = await connect('good');
    expect(gateway.connectionCount()).toBe(1);
    again.socket.close();
    await until(() => gateway.connectionCount() === 0);
  });
});
