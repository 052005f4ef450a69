/**
 * Hash routes (`#/leads/<id>?status=assigned`): they work from S3 + CloudFront without any rewrite
 * rule, and the back button closes a lead's drawer.
 */
import { useEffect, useState } from 'preact/hooks';

export const PAGES = [
  'leads',
  'recipients',
  'campaigns',
  'orders',
  'imports',
  'analytics',
  'system',
] as const;
export type PageName = (typeof PAGES)[number];

export interface Route {
  page: PageName;
  /** The second path segment: a lead id, a campaign key, `new`. */
  id: string | null;
  query: URLSearchParams;
}

export function parseHash(hash: string): Route {
  const [path = '', qs = ''] = hash.replace(/^#/, '').split('?');
  const [first, second] = path.split('/').filter(Boolean);
  const page = (PAGES as readonly string[]).includes(first ?? '') ? (first as PageName) : 'leads';
  return { page, id: second ? decodeURIComponent(second) : null, query: new URLSearchParams(qs) };
}

export function href(
  page: PageName,
  id?: string | null,
  query?: URLSearchParams | Record<string, string>,
): string {
  const qs = new URLSearchParams(query).toString();
  return `#/${page}${id ? `/${encodeURIComponent(id)}` : ''}${qs ? `?${qs}` : ''}`;
}

export function navigate(to: string, opts: { replace?: boolean } = {}): void {
  if (opts.replace) {
    history.replaceState(null, '', to);
    window.dispatchEvent(new HashChangeEvent('hashchange'));
  } else {
    window.location.hash = to;
  }
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseHash(window.location.hash));
  useEffect(() => {
    const onChange = () => setRoute(parseHash(window.location.hash));
    window.addEventListener('hashchange', onChange);
    return () => window.removeEventListener('hashchange', onChange);
  }, []);
  return route;
}
