/**
 * A CSV published at a URL (Google Sheets "Publish to the web → CSV", or any other), streamed: the
 * response body flows through csv-parse row by row, so a large file never sits in memory whole.
 */
import { parse } from 'csv-parse';
import ipaddr from 'ipaddr.js';
import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import { isIP } from 'node:net';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { Readable, Transform } from 'node:stream';
import { SourceFetchError, type SheetRow } from './rows.js';

/** Beyond this a "CSV" is not a lead sheet; stop instead of reading forever. */
export const MAX_CSV_BYTES = 200 * 1024 * 1024;

/** csv-parse options shared by URL imports and uploads: tolerant of what spreadsheets export. */
export const CSV_OPTIONS = {
  bom: true,
  relax_column_count: true,
  relax_quotes: true,
  skip_empty_lines: false,
  trim: true,
} as const;

/**
 * Why this URL may not be fetched, or null. Only http(s); outside the local runtime only https and
 * only public addresses: the import runner sits in the VPC, next to the database. An IP literal is
 * checked here; a host name is checked when it is resolved, at connect time (`publicOnlyLookup`), so
 * DNS names of private addresses and DNS rebinding are refused too; redirects are followed one by one
 * and each target is checked again.
 */
export function csvUrlProblem(raw: string, env: NodeJS.ProcessEnv = process.env): string | null {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'is not a URL';
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return 'must be an http(s) URL';
  if (url.username || url.password) return 'must not contain credentials';
  if (env.LOCAL_RUNTIME === '1') return null;
  if (url.protocol !== 'https:') return 'must be an https URL';
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (host === 'localhost' || host.endsWith('.localhost') || (isIP(host) && !isPublicAddress(host)))
    return 'must be a public address';
  return null;
}

/** True for a globally routable unicast address (not private, loopback, link-local, CGNAT, reserved…). */
export function isPublicAddress(ip: string): boolean {
  if (!ipaddr.isValid(ip)) return false;
  return ipaddr.process(ip).range() === 'unicast';
}

type LookupCallback = (
  error: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;

/** `dns.lookup` for sockets that may only reach public addresses: fails when any address is not public. */
export function publicOnlyLookup(hostname: string, options: LookupOptions, callback: LookupCallback): void {
  dnsLookup(hostname, { ...options, all: true }, (error, addresses) => {
    if (error) return callback(error, []);
    const blocked = addresses.find((a) => !isPublicAddress(a.address));
    if (blocked) {
      const refused = Object.assign(
        new Error(`${hostname} resolves to a non-public address (${blocked.address})`),
        {
          code: 'ENOTPUBLIC',
        },
      );
      return callback(refused, []);
    }
    if (options.all) return callback(null, addresses);
    const first = addresses[0]!;
    return callback(null, first.address, first.family);
  });
}

const MAX_REDIRECTS = 5;

/** One GET with Node's http(s) client; `lookup` decides which addresses a host name may connect to. */
function get(url: string, signal: AbortSignal, local: boolean): Promise<IncomingMessage> {
  const send = url.startsWith('https:') ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(url, {
      method: 'GET',
      signal,
      headers: { accept: 'text/csv, text/plain;q=0.9, */*;q=0.5', 'user-agent': 'leadrouter-import' },
      ...(local ? {} : { lookup: publicOnlyLookup }),
    });
    req.once('response', resolve);
    req.once('error', reject);
    req.end();
  });
}

/**
 * GET with redirects followed by hand, each hop checked by `csvUrlProblem`; outside the local runtime
 * the connection itself resolves host names through `publicOnlyLookup`. (Node's http client rather
 * than `fetch`: it takes a `lookup` per request, without a second HTTP library in the bundle.)
 */
async function fetchChecked(
  raw: string,
  signal: AbortSignal,
  env: NodeJS.ProcessEnv,
): Promise<IncomingMessage> {
  const local = env.LOCAL_RUNTIME === '1';
  let url = raw;
  for (let hop = 0; ; hop++) {
    const problem = csvUrlProblem(url, env);
    if (problem)
      throw new SourceFetchError(`The CSV URL ${hop === 0 ? '' : `redirects to an address that `}${problem}`);
    let res: IncomingMessage;
    try {
      res = await get(url, signal, local);
    } catch (error) {
      throw new SourceFetchError(`The CSV URL could not be fetched (${(error as Error).message})`);
    }
    const status = res.statusCode ?? 0;
    const location = res.headers.location;
    if (status < 300 || status >= 400 || !location) return res;
    res.resume();
    if (hop + 1 >= MAX_REDIRECTS)
      throw new SourceFetchError(`The CSV URL redirects more than ${MAX_REDIRECTS} times`);
    url = new URL(location, url).href;
  }
}

/** Parses CSV from a byte stream, yielding rows with their record number (the header is row 1). */
export async function* parseCsvRows(input: Readable): AsyncGenerator<SheetRow> {
  const parser = input.pipe(parse(CSV_OPTIONS));
  input.once('error', (error) => parser.destroy(error));
  let rowNumber = 0;
  for await (const record of parser as AsyncIterable<string[]>) {
    rowNumber += 1;
    yield { rowNumber, cells: record };
  }
}

/** Fetches the URL and yields its CSV rows as they arrive. */
export async function* readCsvUrlRows(input: {
  url: string;
  signal?: AbortSignal;
  env?: NodeJS.ProcessEnv;
}): AsyncGenerator<SheetRow> {
  const res = await fetchChecked(
    input.url,
    input.signal ?? AbortSignal.timeout(120_000),
    input.env ?? process.env,
  );
  const status = res.statusCode ?? 0;
  if (status < 200 || status >= 300) {
    res.destroy();
    throw new SourceFetchError(`The CSV URL answered ${status}`, status);
  }
  const type = res.headers['content-type'] ?? '';
  if (/text\/html/i.test(type)) {
    res.destroy();
    throw new SourceFetchError(
      'The CSV URL answered with a web page, not CSV (publish the sheet as CSV, or share it with the service account)',
    );
  }
  const body = res;
  const limited = body.pipe(byteLimit(MAX_CSV_BYTES));
  body.once('error', (error) => limited.destroy(error));
  try {
    yield* parseCsvRows(limited);
  } finally {
    body.destroy();
  }
}

/** Passes bytes through until `limit`, then fails the stream. */
function byteLimit(limit: number): Transform {
  let bytes = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      bytes += chunk.length;
      if (bytes > limit) done(new SourceFetchError(`The CSV is larger than ${limit / 1024 / 1024} MB`));
      else done(null, chunk);
    },
  });
}
