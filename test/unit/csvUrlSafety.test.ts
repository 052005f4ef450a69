/**
 * A CSV URL import fetches what a user typed, from inside the VPC: outside the local runtime it may
 * reach only public https addresses — by IP literal, by host name (checked when resolved, at connect
 * time) and after every redirect.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  csvUrlProblem,
  isPublicAddress,
  publicOnlyLookup,
  readCsvUrlRows,
} from '../../functions/adapters/sheets/csvUrl.js';

const PROD: NodeJS.ProcessEnv = {};
const LOCAL: NodeJS.ProcessEnv = { LOCAL_RUNTIME: '1' };

let server: Server;
let base: string;
beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url === '/sheet.csv') {
      res.writeHead(200, { 'content-type': 'text/csv' }).end('phone,first_name\n+12025550101,Ann\n');
    } else if (req.url === '/hop') {
      res.writeHead(302, { location: '/sheet.csv' }).end();
    } else if (req.url === '/loop') {
      res.writeHead(302, { location: '/loop' }).end();
    } else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

async function rows(url: string, env: NodeJS.ProcessEnv) {
  const out = [];
  for await (const row of readCsvUrlRows({ url, env })) out.push(row.cells);
  return out;
}

describe('CSV URL safety', () => {
  it.each([
    ['https://10.0.0.5/x.csv'],
    ['https://127.0.0.1/x.csv'],
    ['https://169.254.169.254/latest/meta-data/'],
    ['https://100.64.1.1/x.csv'],
    ['https://[::1]/x.csv'],
    ['https://[::ffff:10.0.0.1]/x.csv'],
    ['https://[fd00::1]/x.csv'],
    ['https://0.0.0.0/x.csv'],
    ['https://localhost/x.csv'],
    ['https://db.localhost/x.csv'],
  ])('refuses %s outside the local runtime', (url) => {
    expect(csvUrlProblem(url, PROD)).toBe('must be a public address');
  });

  it('accepts public https, refuses plain http and credentials outside the local runtime', () => {
    expect(csvUrlProblem('https://docs.google.com/spreadsheets/d/x/export?format=csv', PROD)).toBeNull();
    expect(csvUrlProblem('https://8.8.8.8/x.csv', PROD)).toBeNull();
    expect(csvUrlProblem('http://docs.google.com/x.csv', PROD)).toBe('must be an https URL');
    expect(csvUrlProblem('https://u:p@example.com/x.csv', PROD)).toBe('must not contain credentials');
    expect(csvUrlProblem('ftp://example.com/x.csv', PROD)).toBe('must be an http(s) URL');
  });

  it('classifies addresses with ipaddr.js ranges', () => {
    expect(isPublicAddress('8.8.8.8')).toBe(true);
    expect(isPublicAddress('2001:4860:4860::8888')).toBe(true);
    for (const ip of [
      '10.1.2.3',
      '172.16.0.1',
      '192.168.1.1',
      '127.0.0.1',
      '169.254.1.1',
      '::1',
      'fe80::1',
      'nonsense',
    ])
      expect(isPublicAddress(ip)).toBe(false);
  });

  it('a host name that resolves to a private address is refused when it is resolved', async () => {
    const error = await new Promise<Error | null>((resolve) =>
      publicOnlyLookup('localhost', {}, (e) => resolve(e)),
    );
    expect(error?.message).toMatch(/resolves to a non-public address/);
  });

  it('follows redirects hop by hop (each target is checked again), at most 5', async () => {
    expect(await rows(`${base}/hop`, LOCAL)).toEqual([
      ['phone', 'first_name'],
      ['+12025550101', 'Ann'],
    ]);
    await expect(rows(`${base}/loop`, LOCAL)).rejects.toThrow(/redirects more than 5 times/);
  });

  it('outside the local runtime a private URL is refused before any request', async () => {
    await expect(rows(`${base}/sheet.csv`, PROD)).rejects.toThrow(/must be an https URL|public address/);
  });
});
