/**
 * Where the API and the WebSocket are. The deploy writes `config.json` next to `index.html`
 * (`{ "apiUrl", "wsUrl" }`: API Gateway's HTTP and WebSocket URLs); locally it is `{}`, and both are
 * the page's own origin, the WebSocket at `/ws`.
 */
export interface AppConfig {
  /** Base URL of the HTTP API, without a trailing slash; '' = same origin. */
  apiUrl: string;
  /** Full `ws:`/`wss:` URL of the WebSocket endpoint, without the token. */
  wsUrl: string;
}

export function resolveConfig(raw: unknown, location: Pick<Location, 'protocol' | 'host'>): AppConfig {
  const given = typeof raw === 'object' && raw !== null ? (raw as Record<string, unknown>) : {};
  const str = (v: unknown) => (typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined);
  const apiUrl = (str(given.apiUrl) ?? '').replace(/\/+$/, '');
  const sameOriginWs = `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}/ws`;
  return { apiUrl, wsUrl: str(given.wsUrl) ?? sameOriginWs };
}

export async function loadConfig(): Promise<AppConfig> {
  let raw: unknown = {};
  try {
    const res = await fetch('config.json', { cache: 'no-store' });
    // A missing file comes back as the SPA's index.html: anything but JSON means "use defaults".
    if (res.ok && (res.headers.get('content-type') ?? '').includes('json')) raw = await res.json();
  } catch {
    raw = {};
  }
  return resolveConfig(raw, window.location);
}
