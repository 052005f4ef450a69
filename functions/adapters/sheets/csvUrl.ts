/**
 * A CSV published at a URL (Google Sheets "Publish to the web → CSV", or any other), streamed: the
 * response body flows through csv-parse row by row, so a large file never sits in memory whole.
 */
import { parse } from 'csv-parse';
import { isIP } from 'node:net';
import { Readable, Transform } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
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
 * Why this URL may not be fetched, or null. Only http(s); outside the local runtime no address in
 * private, loopback or link-local space typed as an IP literal (the import runner sits in the VPC).
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
  if (host === 'localhost' || (isIP(host) && isPrivateAddress(host))) return 'must be a public address';
  return null;
}

function isPrivateAddress(ip: string): boolean {
  if (isIP(ip) === 6) return /^(::1?$|fc|fd|fe80|::ffff:(10|127|169\.254|192\.168)\.)/i.test(ip);
  const [a = 0, b = 0] = ip.split('.').map(Number);
  return (
    a === 10 ||
    a === 127 ||
    a === 0 ||
    (a === 169 && b === 254) ||
    (a === 172 && b >= 16 && b <= 31) ||
    (a === 192 && b === 168) ||
    (a === 100 && b >= 64 && b <= 127)
  );
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
}): AsyncGenerator<SheetRow> {
  const problem = csvUrlProblem(input.url);
  if (problem) throw new SourceFetchError(`The CSV URL ${problem}`);
  let res: Response;
  try {
    res = await fetch(input.url, {
      redirect: 'follow',
      signal: input.signal ?? AbortSignal.timeout(120_000),
    });
  } catch (error) {
    throw new SourceFetchError(`The CSV URL could not be fetched (${(error as Error).message})`);
  }
  if (!res.ok || !res.body) {
    await res.body?.cancel().catch(() => undefined);
    throw new SourceFetchError(`The CSV URL answered ${res.status}`, res.status);
  }
  const type = res.headers.get('content-type') ?? '';
  if (/text\/html/i.test(type)) {
    await res.body.cancel().catch(() => undefined);
    throw new SourceFetchError(
      'The CSV URL answered with a web page, not CSV (publish the sheet as CSV, or share it with the service account)',
    );
  }
  const body = Readable.fromWeb(res.body as WebReadableStream<Uint8Array>);
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
