import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { APIGatewayProxyEventV2Schema } from '@aws-lambda-powertools/parser/schemas';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpGateway, matchRoute, type HttpRoute } from '../../../bin/local/httpGateway.js';

describe('createHttpGateway', () => {
  const staticDir = mkdtempSync(path.join(os.tmpdir(), 'leadrouter-static-'));
  const events: APIGatewayProxyEventV2[] = [];
  const contexts: Context[] = [];
  const record = (result: unknown) => (event: APIGatewayProxyEventV2, context: Context) => {
    APIGatewayProxyEventV2Schema.parse(event); // Powertools' own schema of a payload-2.0 event
    events.push(event);
    contexts.push(context);
    return result;
  };
  const routes: HttpRoute[] = [
    {
      method: 'POST',
      path: '/webhooks/leads',
      functionName: 'ingest',
      handler: record({
        statusCode: 202,
        headers: { 'content-type': 'application/json', 'x-count': 3 },
        body: '{"status":"queued"}',
      }),
    },
    { method: 'GET', path: '/health', handler: record('ok') },
    {
      method: 'ANY',
      path: '/api/{proxy+}',
      handler: record({
        statusCode: 200,
        cookies: ['a=1; Path=/', 'b=2'],
        body: Buffer.from([0, 1, 2, 255]).toString('base64'),
        isBase64Encoded: true,
      }),
    },
    { method: 'GET', path: '/api/recipients', handler: record({ items: [] }) },
    { method: 'POST', path: '/boom', handler: () => Promise.reject(new Error('secret internals')) },
  ];
  let server: http.Server;
  let base: string;

  beforeAll(async () => {
    writeFileSync(path.join(staticDir, 'index.html'), '<!doctype html><title>leadrouter</title>');
    mkdirSync(path.join(staticDir, 'assets'));
    writeFileSync(path.join(staticDir, 'assets', 'app-1234.js'), 'console.log(1)');
    server = http.createServer(
      createHttpGateway({ routes, staticDir, maxBodyBytes: 1024, onError: () => undefined }),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    rmSync(staticDir, { recursive: true, force: true });
  });

  /** Raw request, so repeated headers and exact bytes reach the server as written. */
  function request(method: string, urlPath: string, headers: [string, string][], body?: Buffer) {
    return new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }>(
      (resolve, reject) => {
        // An array of raw headers replaces Node's defaults, Host included.
        const raw = [['Host', base.slice('http://'.length)], ...headers].flat();
        const { hostname, port } = new URL(base);
        // `path` as an option is sent verbatim (a URL would normalise away the `..` we test with).
        const req = http.request(
          { hostname, port, path: urlPath, method, headers: raw as unknown as http.OutgoingHttpHeaders },
          (res) => {
            const chunks: Buffer[] = [];
            res
              .on('data', (c: Buffer) => chunks.push(c))
              .on('end', () =>
                resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }),
              );
          },
        );
        req.on('error', reject);
        req.end(body);
      },
    );
  }

  it('turns a JSON POST into a payload 2.0 event and writes the structured result', async () => {
    const body = Buffer.from(JSON.stringify({ phone: '555 123 0001', name: 'Zoë' }));
    const res = await request(
      'POST',
      '/webhooks/leads?utm=a&utm=b&empty=&x=%20y',
      [
        ['Content-Type', 'application/json'],
        ['X-Webhook-Secret', 's3cret'],
        ['X-Tag', 'one'],
        ['X-Tag', 'two'],
        ['Cookie', 'session=abc; theme=dark'],
        ['User-Agent', 'Zapier'],
      ],
      body,
    );
    expect(res.status).toBe(202);
    expect(res.headers['x-count']).toBe('3');
    expect(res.body.toString()).toBe('{"status":"queued"}');

    const event = events.at(-1)!;
    expect(event).toMatchObject({
      version: '2.0',
      routeKey: 'POST /webhooks/leads',
      rawPath: '/webhooks/leads',
      rawQueryString: 'utm=a&utm=b&empty=&x=%20y',
      cookies: ['session=abc', 'theme=dark'],
      queryStringParameters: { utm: 'a,b', empty: '', x: ' y' },
      body: body.toString('utf8'),
      isBase64Encoded: false,
      requestContext: {
        accountId: expect.any(String),
        apiId: expect.any(String),
        domainName: base.slice('http://'.length),
        domainPrefix: '127',
        http: {
          method: 'POST',
          path: '/webhooks/leads',
          protocol: 'HTTP/1.1',
          sourceIp: '127.0.0.1',
          userAgent: 'Zapier',
        },
        routeKey: 'POST /webhooks/leads',
        stage: '$default',
      },
    });
    expect(event.headers).toMatchObject({
      'content-type': 'application/json',
      'x-webhook-secret': 's3cret',
      'x-tag': 'one,two',
      'x-forwarded-for': '127.0.0.1',
    });
    expect(event.headers.cookie).toBeUndefined();
    expect(event.pathParameters).toBeUndefined();
    expect(event.requestContext.time).toMatch(/^\d{2}\/[A-Z][a-z]{2}\/\d{4}:\d{2}:\d{2}:\d{2} \+0000$/);
    expect(Math.abs(event.requestContext.timeEpoch - Date.now())).toBeLessThan(5_000);
    expect(res.headers['apigw-requestid']).toBe(event.requestContext.requestId);
    expect(contexts.at(-1)!.functionName).toBe('ingest');
  });

  it('passes form bodies as text and binary bodies as base64', async () => {
    await request(
      'POST',
      '/webhooks/leads',
      [['Content-Type', 'application/x-www-form-urlencoded']],
      Buffer.from('first_name=Ann&phone=%2B15551230001'),
    );
    expect(events.at(-1)).toMatchObject({
      body: 'first_name=Ann&phone=%2B15551230001',
      isBase64Encoded: false,
    });

    await request(
      'POST',
      '/webhooks/leads',
      [['Content-Type', 'text/csv']],
      Buffer.from('phone\n5551230001\n'),
    );
    expect(events.at(-1)).toMatchObject({ body: 'phone\n5551230001\n', isBase64Encoded: false });

    const bytes = Buffer.from([0, 159, 146, 150, 255, 10]);
    await request('POST', '/webhooks/leads', [['Content-Type', 'application/octet-stream']], bytes);
    expect(events.at(-1)).toMatchObject({ body: bytes.toString('base64'), isBase64Encoded: true });

    await request('POST', '/webhooks/leads', []);
    expect(events.at(-1)!.body).toBeUndefined();
  });

  it('routes {proxy+} and prefers the most specific route', async () => {
    const res = await request('DELETE', '/api/recipients/r%201/notes', []);
    expect(events.at(-1)).toMatchObject({
      routeKey: 'ANY /api/{proxy+}',
      pathParameters: { proxy: 'recipients/r 1/notes' },
    });
    expect(res.body).toEqual(Buffer.from([0, 1, 2, 255]));
    expect(res.headers['set-cookie']).toEqual(['a=1; Path=/', 'b=2']);

    const list = await request('GET', '/api/recipients', []);
    expect(events.at(-1)!.routeKey).toBe('GET /api/recipients');
    expect(list.headers['content-type']).toBe('application/json');
    expect(JSON.parse(list.body.toString())).toEqual({ items: [] });
  });

  it('answers a plain string result with 200 application/json', async () => {
    const res = await request('GET', '/health', []);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/json');
    expect(res.body.toString()).toBe('ok');
  });

  it('answers 404 JSON for unknown API routes and 500 JSON without details when a handler throws', async () => {
    const missing = await request('GET', '/webhooks/leads', []);
    expect(missing.status).toBe(404);
    expect(JSON.parse(missing.body.toString())).toEqual({
      error: 'not_found',
      message: 'No route for GET /webhooks/leads',
    });

    const failed = await request('POST', '/boom', []);
    expect(failed.status).toBe(500);
    expect(JSON.parse(failed.body.toString())).toEqual({
      error: 'internal',
      message: 'Internal Server Error',
    });
  });

  it('rejects bodies over maxBodyBytes with 413 before the handler runs', async () => {
    const before = events.length;
    const res = await request(
      'POST',
      '/webhooks/leads',
      [['Content-Type', 'application/json']],
      Buffer.alloc(4096, 'a'),
    );
    expect(res.status).toBe(413);
    expect(JSON.parse(res.body.toString())).toMatchObject({ error: 'payload_too_large' });
    expect(events.length).toBe(before);
  });

  it('serves the dashboard with an index.html fallback for client-side routes', async () => {
    const page = await request('GET', '/leads/123?tab=events', []);
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.headers['cache-control']).toBe('no-cache');
    expect(page.body.toString()).toContain('<title>leadrouter</title>');

    const asset = await request('GET', '/assets/app-1234.js', []);
    expect(asset.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(asset.headers['cache-control']).toContain('immutable');

    for (const attempt of ['/../../../../etc/passwd', '/assets/..%2f..%2f..%2f..%2fetc%2fpasswd']) {
      const escape = await request('GET', attempt, []);
      expect(escape.body.toString()).toContain('<title>leadrouter</title>');
    }
  });
});

describe('matchRoute', () => {
  const routes = [
    { method: 'ANY', path: '/api/{proxy+}' },
    { method: 'GET', path: '/api/leads/{id}' },
    { method: 'POST', path: '/webhooks/leads' },
  ];

  it('matches like API Gateway', () => {
    expect(matchRoute(routes, 'GET', '/api/leads/7')?.match).toEqual({
      routeKey: 'GET /api/leads/{id}',
      pathParameters: { id: '7' },
    });
    expect(matchRoute(routes, 'PATCH', '/api/leads/7')?.match.routeKey).toBe('ANY /api/{proxy+}');
    expect(matchRoute(routes, 'GET', '/api')).toBeUndefined();
    expect(matchRoute(routes, 'GET', '/api/')).toBeUndefined();
    expect(matchRoute(routes, 'POST', '/webhooks/leads/extra')).toBeUndefined();
  });
});
