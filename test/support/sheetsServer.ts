/**
 * A local stand-in for the Google endpoints an import talks to, over real HTTP:
 *
 * - `GET /v4/spreadsheets/{id}/values/{range}` — Sheets API v4 `values.get` (ValueRange JSON), with an
 *   API key (`?key=`) or a bearer token from the token endpoint; 403 otherwise, 404 for an unknown sheet.
 * - `POST /token` — the OAuth 2.0 JWT bearer grant: verifies the RS256 assertion against the public key
 *   of a registered service account (issuer, audience, scope, expiry) and issues an access token.
 * - `GET /csv/{name}` — a sheet "published to the web" as CSV.
 *
 * Tests point `SHEETS_API_BASE_URL` and `GOOGLE_TOKEN_URL` at it.
 */
import { createPublicKey, createVerify, generateKeyPairSync, randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { stringify } from 'csv-stringify/sync';

export interface SheetsServer {
  url: string;
  tokenUrl: string;
  apiKey: string;
  /** Sets the rows (header first) of a spreadsheet, also served as CSV at `/csv/{id}`. */
  setSheet(id: string, rows: string[][]): void;
  csvUrl(id: string): string;
  /** A service account whose key the token endpoint trusts (as in a downloaded JSON key file). */
  serviceAccount(): { type: 'service_account'; client_email: string; private_key: string };
  /** Requests served, by kind. */
  requests: { values: number; token: number; csv: number; refused: number };
  /** Makes the next values.get answer this status (Google's error body). */
  failNext(status: number): void;
  close(): Promise<void>;
}

const SCOPE = 'https://www.googleapis.com/auth/spreadsheets.readonly';

function columnName(n: number): string {
  let name = '';
  for (let i = n; i > 0; i = Math.floor((i - 1) / 26)) name = String.fromCharCode(65 + ((i - 1) % 26)) + name;
  return name || 'A';
}

function googleError(res: http.ServerResponse, status: number, message: string): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(
    JSON.stringify({
      error: { code: status, message, status: status === 403 ? 'PERMISSION_DENIED' : 'NOT_FOUND' },
    }),
  );
}

async function readBody(req: http.IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function startSheetsServer(): Promise<SheetsServer> {
  const sheets = new Map<string, string[][]>();
  const accounts = new Map<string, ReturnType<typeof createPublicKey>>();
  const tokens = new Set<string>();
  const apiKey = `AIza${randomBytes(16).toString('hex')}`;
  const requests = { values: 0, token: 0, csv: 0, refused: 0 };
  let failNext: number | undefined;
  let base = '';

  const server = http.createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', base);
      const values = /^\/v4\/spreadsheets\/([^/]+)\/values\/(.+)$/.exec(url.pathname);
      if (req.method === 'GET' && values) {
        requests.values += 1;
        const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
        if (url.searchParams.get('key') !== apiKey && !(bearer && tokens.has(bearer))) {
          requests.refused += 1;
          return googleError(res, 403, 'The caller does not have permission');
        }
        if (failNext) {
          const status = failNext;
          failNext = undefined;
          return googleError(res, status, 'Injected failure');
        }
        const id = decodeURIComponent(values[1] ?? '');
        const rows = sheets.get(id);
        if (!rows) return googleError(res, 404, 'Requested entity was not found.');
        const range = decodeURIComponent(values[2] ?? '');
        const sheetName = range.includes('!') ? range.split('!')[0] : 'Sheet1';
        const width = Math.max(1, ...rows.map((r) => r.length));
        res.writeHead(200, { 'content-type': 'application/json' });
        // Like the API: trailing empty cells and trailing empty rows are left out.
        const trimmed = rows.map((r) => {
          const copy = [...r];
          while (copy.length > 0 && copy[copy.length - 1] === '') copy.pop();
          return copy;
        });
        return res.end(
          JSON.stringify({
            range: `${sheetName}!A1:${columnName(width)}${Math.max(1, rows.length)}`,
            majorDimension: 'ROWS',
            values: trimmed,
          }),
        );
      }
      if (req.method === 'POST' && url.pathname === '/token') {
        requests.token += 1;
        const form = new URLSearchParams(await readBody(req));
        const refuse = (why: string) => {
          requests.refused += 1;
          res.writeHead(400, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ error: 'invalid_grant', error_description: why }));
        };
        if (form.get('grant_type') !== 'urn:ietf:params:oauth:grant-type:jwt-bearer')
          return refuse('grant_type');
        const [h = '', c = '', sig = ''] = (form.get('assertion') ?? '').split('.');
        const header = JSON.parse(Buffer.from(h, 'base64url').toString('utf8') || '{}') as { alg?: string };
        const claims = JSON.parse(Buffer.from(c, 'base64url').toString('utf8') || '{}') as Record<
          string,
          unknown
        >;
        const key = accounts.get(String(claims.iss));
        if (header.alg !== 'RS256' || !key) return refuse('Invalid JWT Signature.');
        const valid = createVerify('RSA-SHA256')
          .update(`${h}.${c}`)
          .verify(key, Buffer.from(sig, 'base64url'));
        if (!valid) return refuse('Invalid JWT Signature.');
        const now = Math.floor(Date.now() / 1000);
        if (claims.aud !== `${base}/token`) return refuse('Invalid audience');
        if (claims.scope !== SCOPE) return refuse('Invalid scope');
        if (
          typeof claims.exp !== 'number' ||
          claims.exp < now ||
          typeof claims.iat !== 'number' ||
          claims.iat > now + 60
        )
          return refuse('Invalid JWT: Token must be a short-lived token');
        const token = `ya29.${randomBytes(24).toString('hex')}`;
        tokens.add(token);
        res.writeHead(200, { 'content-type': 'application/json' });
        return res.end(JSON.stringify({ access_token: token, expires_in: 3599, token_type: 'Bearer' }));
      }
      const csv = /^\/csv\/([^/]+)$/.exec(url.pathname);
      if (req.method === 'GET' && csv) {
        requests.csv += 1;
        const rows = sheets.get(decodeURIComponent(csv[1] ?? ''));
        if (!rows) {
          res.writeHead(404, { 'content-type': 'text/html' });
          return res.end('<html>Not found</html>');
        }
        res.writeHead(200, { 'content-type': 'text/csv; charset=utf-8' });
        return res.end(stringify(rows));
      }
      res.writeHead(404).end();
    })().catch((error: unknown) => {
      res.writeHead(500).end(String(error));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url: base,
    tokenUrl: `${base}/token`,
    apiKey,
    requests,
    setSheet: (id, rows) =>
      sheets.set(
        id,
        rows.map((r) => [...r]),
      ),
    csvUrl: (id) => `${base}/csv/${encodeURIComponent(id)}`,
    serviceAccount: () => {
      const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      const email = `importer-${randomBytes(4).toString('hex')}@leadrouter-test.iam.gserviceaccount.com`;
      accounts.set(email, publicKey);
      return {
        type: 'service_account',
        client_email: email,
        private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      };
    },
    failNext: (status) => {
      failNext = status;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
