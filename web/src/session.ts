/**
 * The admin token, kept in localStorage so a manager signs in once per browser. A link may carry it
 * in the fragment (`/#token=...`, never sent to a server); it is stored and removed from the address bar.
 */
const KEY = 'leadrouter.adminToken';

export function takeTokenFromUrl(): void {
  const match = /(?:^#|&)token=([^&]+)/.exec(window.location.hash);
  if (!match?.[1]) return;
  saveToken(decodeURIComponent(match[1]));
  history.replaceState(null, '', window.location.pathname + window.location.search + '#/leads');
}

export function loadToken(): string | null {
  try {
    return localStorage.getItem(KEY);
  } catch {
    return null;
  }
}

export function saveToken(token: string): void {
  try {
    localStorage.setItem(KEY, token);
  } catch {
    // Private mode without storage: the token lives for this page only.
  }
}

export function clearToken(): void {
  try {
    localStorage.removeItem(KEY);
  } catch {
    // nothing stored
  }
}
