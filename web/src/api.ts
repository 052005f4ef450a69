/**
 * The admin API over fetch: bearer token, JSON in and out, errors as `ApiError` carrying the API's
 * `{ error, message, issues }` so forms can show each problem next to its field.
 */
import { readableIssue } from './messages.js';

export interface FieldIssue {
  field: string;
  message: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly issues: FieldIssue[] = [],
  ) {
    super(message);
  }

  /** The message for one form field (`states.2` counts for `states`), in readable words. */
  issueFor(field: string): string | undefined {
    const issue = this.issues.find((i) => i.field === field || i.field.startsWith(`${field}.`));
    return issue && readableIssue(field, issue.message);
  }
}

export type Query = Record<string, string | number | undefined | null>;

export interface Api {
  get<T>(path: string, query?: Query): Promise<T>;
  post<T>(path: string, body?: unknown): Promise<T>;
  patch<T>(path: string, body: unknown): Promise<T>;
  put<T>(path: string, body: unknown): Promise<T>;
  del<T>(path: string): Promise<T>;
  /** A non-JSON body (CSV exports). */
  text(path: string): Promise<string>;
  /** A raw body (CSV uploads). */
  upload<T>(path: string, body: Blob, contentType: string): Promise<T>;
}

export function withQuery(path: string, query: Query = {}): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query))
    if (v !== undefined && v !== null && v !== '') params.set(k, String(v));
  const qs = params.toString();
  return qs ? `${path}?${qs}` : path;
}

export function createApi(opts: {
  baseUrl: string;
  token: () => string | null;
  onUnauthorized: () => void;
}): Api {
  const call = async <T>(
    method: string,
    path: string,
    body?: unknown,
    raw = false,
    contentType?: string,
  ): Promise<T> => {
    let res: Response;
    try {
      res = await fetch(opts.baseUrl + path, {
        method,
        headers: {
          authorization: `Bearer ${opts.token() ?? ''}`,
          ...(body !== undefined ? { 'content-type': contentType ?? 'application/json' } : {}),
        },
        body: body === undefined ? undefined : body instanceof Blob ? body : JSON.stringify(body),
      });
    } catch {
      throw new ApiError(0, 'network', 'The API cannot be reached. Check your connection.');
    }
    const text = await res.text();
    if (raw && res.ok) return text as T;
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    if (res.status === 401) opts.onUnauthorized();
    if (!res.ok) {
      const err = (json ?? {}) as { error?: string; message?: string; issues?: FieldIssue[] };
      throw new ApiError(
        res.status,
        err.error ?? `http_${res.status}`,
        err.message ?? `Request failed (${res.status})`,
        err.issues ?? [],
      );
    }
    return json as T;
  };
  return {
    get: (path, query) => call('GET', withQuery(path, query)),
    post: (path, body) => call('POST', path, body ?? {}),
    patch: (path, body) => call('PATCH', path, body),
    put: (path, body) => call('PUT', path, body),
    del: (path) => call('DELETE', path),
    text: (path) => call<string>('GET', path, undefined, true),
    upload: (path, body, contentType) => call('POST', path, body, false, contentType),
  };
}
