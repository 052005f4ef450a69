/**
 * Google service-account authentication (OAuth 2.0 JWT bearer grant, RFC 7523), as Google's client
 * libraries do it: sign a short-lived JWT with the account's private key (RS256), exchange it at the
 * token endpoint for an access token, and reuse that token until shortly before it expires.
 *
 * The token endpoint is `GOOGLE_TOKEN_URL` (default Google's), never the `token_uri` inside a pasted key
 * file: we would otherwise post signed assertions to any URL a user types in.
 *
 * Times here are real time on purpose, not the product clock: Google checks `iat`/`exp` against its own.
 */
import { createPrivateKey, createSign } from 'node:crypto';

export const SHEETS_READONLY_SCOPE = 'https://www.googleapis.com/auth/spreadsheets.readonly';
const DEFAULT_TOKEN_URL = 'https://oauth2.googleapis.com/token';
/** Google accepts assertions valid for at most an hour. */
const ASSERTION_SECONDS = 3600;
/** Refresh this long before expiry so a token never dies mid-request. */
const REFRESH_MARGIN_MS = 60_000;

export interface ServiceAccountKey {
  client_email: string;
  private_key: string;
}

export class GoogleAuthError extends Error {
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'GoogleAuthError';
  }
}

export function tokenUrl(env: NodeJS.ProcessEnv = process.env): string {
  return env.GOOGLE_TOKEN_URL || DEFAULT_TOKEN_URL;
}

/** Null when the PEM parses as a private key; otherwise why not (for a 400 naming the field). */
export function privateKeyProblem(pem: string): string | null {
  try {
    const key = createPrivateKey(pem);
    return key.asymmetricKeyType === 'rsa' ? null : 'must be an RSA private key';
  } catch {
    return 'is not a PEM private key (paste the private_key of the JSON key file)';
  }
}

const base64url = (value: string | Buffer) => Buffer.from(value).toString('base64url');

/** The signed assertion: `header.claims.signature`, RS256 over the first two parts. */
export function signAssertion(
  key: ServiceAccountKey,
  audience: string,
  scope: string,
  nowMs: number,
): string {
  const iat = Math.floor(nowMs / 1000);
  const header = base64url(JSON.stringify({ alg: 'RS256', typ: 'JWT' }));
  const claims = base64url(
    JSON.stringify({ iss: key.client_email, scope, aud: audience, iat, exp: iat + ASSERTION_SECONDS }),
  );
  const signature = createSign('RSA-SHA256').update(`${header}.${claims}`).sign(key.private_key, 'base64url');
  return `${header}.${claims}.${signature}`;
}

const cache = new Map<string, { token: string; expiresAtMs: number }>();

/** An access token for the service account (cached per account and scope until near expiry). */
export async function serviceAccountToken(
  key: ServiceAccountKey,
  scope: string = SHEETS_READONLY_SCOPE,
): Promise<string> {
  const url = tokenUrl();
  const cacheKey = `${url} ${key.client_email} ${scope}`;
  const cached = cache.get(cacheKey);
  if (cached && cached.expiresAtMs - REFRESH_MARGIN_MS > Date.now()) return cached.token;

  const assertion = signAssertion(key, url, scope, Date.now());
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion }),
    signal: AbortSignal.timeout(15_000),
  });
  const body = (await res.json().catch(() => ({}))) as {
    access_token?: string;
    expires_in?: number;
    error?: string;
    error_description?: string;
  };
  if (!res.ok || !body.access_token) {
    throw new GoogleAuthError(
      `Google refused the service account (${res.status} ${body.error ?? ''}${body.error_description ? `: ${body.error_description}` : ''})`.trim(),
      res.status,
    );
  }
  cache.set(cacheKey, {
    token: body.access_token,
    expiresAtMs: Date.now() + (body.expires_in ?? 3600) * 1000,
  });
  return body.access_token;
}

/** Forgets cached tokens (tests, or after Google answered 401 with one). */
export function clearTokenCache(): void {
  cache.clear();
}
