/**
 * Google Sheets API v4 `spreadsheets.values.get`: the cells of a range as rows of strings (formatted
 * values, so a phone stays `(415) 555-2671` instead of becoming a number). Authenticated with an API
 * key (sheets shared "anyone with the link") or a service account the sheet is shared with.
 *
 * Base URL: `SHEETS_API_BASE_URL` (default Google's), so tests run against a local compatible server.
 */
import { GoogleAuthError, serviceAccountToken, type ServiceAccountKey } from './googleAuth.js';
import { SourceFetchError, type SheetRow } from './rows.js';

const DEFAULT_BASE_URL = 'https://sheets.googleapis.com';
/** Every column a lead sheet could reasonably use, on the first sheet. */
export const DEFAULT_RANGE = 'A:ZZ';

export type SheetsAuth = { apiKey: string } | { serviceAccount: ServiceAccountKey };

export function sheetsBaseUrl(env: NodeJS.ProcessEnv = process.env): string {
  return (env.SHEETS_API_BASE_URL || DEFAULT_BASE_URL).replace(/\/+$/, '');
}

interface ValueRange {
  range?: string;
  majorDimension?: string;
  values?: unknown[][];
}

/** The first row number of an A1 range as the API echoes it (`Leads!A1:F120` → 1, `B5:D` → 5). */
export function firstRowOf(range: string | undefined): number {
  const cells = (range ?? '').split('!').pop() ?? '';
  const match = /^[A-Za-z]*(\d+)/.exec(cells);
  return match ? Number(match[1]) : 1;
}

/**
 * Reads the range and yields its rows (header first) with their sheet row numbers. Empty rows inside
 * the range are yielded too (as empty cells), so numbers stay those the user sees in the sheet.
 */
export async function* readSheetRows(input: {
  spreadsheetId: string;
  range: string;
  auth: SheetsAuth;
  signal?: AbortSignal;
}): AsyncGenerator<SheetRow> {
  const url = new URL(
    `${sheetsBaseUrl()}/v4/spreadsheets/${encodeURIComponent(input.spreadsheetId)}/values/${encodeURIComponent(input.range)}`,
  );
  url.searchParams.set('majorDimension', 'ROWS');
  url.searchParams.set('valueRenderOption', 'FORMATTED_VALUE');
  const headers: Record<string, string> = { accept: 'application/json' };
  if ('apiKey' in input.auth) url.searchParams.set('key', input.auth.apiKey);
  else {
    try {
      headers.authorization = `Bearer ${await serviceAccountToken(input.auth.serviceAccount)}`;
    } catch (error) {
      if (error instanceof GoogleAuthError) throw new SourceFetchError(error.message, error.status);
      throw error;
    }
  }
  const res = await fetch(url, {
    headers,
    signal: input.signal ?? AbortSignal.timeout(60_000),
  });
  if (!res.ok) {
    const body = (await res.json().catch(() => ({}))) as { error?: { message?: string; status?: string } };
    throw new SourceFetchError(sheetsErrorMessage(res.status, body.error?.message), res.status);
  }
  const body = (await res.json()) as ValueRange;
  const first = firstRowOf(body.range);
  const rows = body.values ?? [];
  for (let i = 0; i < rows.length; i++) {
    yield { rowNumber: first + i, cells: (rows[i] ?? []).map((cell) => (cell == null ? '' : String(cell))) };
  }
}

function sheetsErrorMessage(status: number, detail: string | undefined): string {
  const why =
    status === 403
      ? 'the sheet is not shared with this service account, or the API key may not read it'
      : status === 404
        ? 'no spreadsheet with this id (check spreadsheetId)'
        : status === 400
          ? 'the range is not valid for this sheet'
          : status === 401
            ? 'the credentials were refused'
            : 'Google Sheets did not answer normally';
  return `Google Sheets answered ${status}: ${why}${detail ? ` (${detail})` : ''}`;
}
