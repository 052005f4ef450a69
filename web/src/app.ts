/** The shell: sign-in, navigation, the connection indicator, and the page for the current route. */
import { h, type FunctionComponent } from 'preact';
import { useEffect, useMemo, useState } from 'preact/hooks';
import { ApiError, createApi } from './api.js';
import type { AppConfig } from './config.js';
import { FEATURE_ROUTES, loadFeatures, type Features } from './features.js';
import { AppContext, useApp, useConnectionState } from './context.js';
import {
  deviceTimeZone,
  onTimeZoneChoice,
  setTimeZoneChoice,
  timeZoneChoice,
  type TimeZoneChoice,
} from './format.js';
import { LiveConnection, type ConnectionState } from './live.js';
import { AnalyticsPage } from './pages/analytics.js';
import { CampaignsPage } from './pages/campaigns.js';
import { ImportsPage } from './pages/imports.js';
import { LeadsPage } from './pages/leads.js';
import { OrdersPage } from './pages/orders.js';
import { RecipientsPage } from './pages/recipients.js';
import { SystemPage } from './pages/system.js';
import { href, useRoute, type PageName, type Route } from './router.js';
import { clearToken, loadToken, saveToken } from './session.js';

const PAGE_COMPONENTS: Record<PageName, FunctionComponent<{ route: Route }>> = {
  leads: LeadsPage,
  recipients: RecipientsPage,
  campaigns: CampaignsPage,
  orders: OrdersPage,
  imports: ImportsPage,
  analytics: AnalyticsPage,
  system: SystemPage,
};

/** The pages, in menu order; `needs` names the API route a page is built on when not every server has it. */
const NAV: { page: PageName; label: string; needs?: string }[] = [
  { page: 'leads', label: 'Live leads' },
  { page: 'recipients', label: 'Recipients' },
  { page: 'campaigns', label: 'Campaigns' },
  { page: 'orders', label: 'Orders', needs: FEATURE_ROUTES.orders },
  { page: 'imports', label: 'Imports', needs: FEATURE_ROUTES.imports },
  { page: 'analytics', label: 'Analytics' },
  { page: 'system', label: 'System' },
];

export function App({ config }: { config: AppConfig }) {
  const [token, setToken] = useState(loadToken);
  const [notice, setNotice] = useState<string | null>(null);
  const signOut = (message?: string) => {
    clearToken();
    setNotice(message ?? null);
    setToken(null);
  };
  if (!token) {
    return h(TokenScreen, {
      config,
      notice,
      onToken: (t) => {
        saveToken(t);
        setNotice(null);
        setToken(t);
      },
    });
  }
  return h(SignedIn, { key: token, config, token, signOut });
}

function SignedIn({
  config,
  token,
  signOut,
}: {
  config: AppConfig;
  token: string;
  signOut: (m?: string) => void;
}) {
  const base = useMemo(() => {
    const api = createApi({
      baseUrl: config.apiUrl,
      token: () => token,
      onUnauthorized: () => signOut('The admin token was not accepted. Enter it again.'),
    });
    return { api, live: new LiveConnection({ wsUrl: config.wsUrl, token, api }), signOut };
    // One set per token: a new token remounts this component (key).
  }, []);
  const [features, setFeatures] = useState<Features | null>(null);
  useEffect(() => {
    base.live.start();
    void loadFeatures(base.api).then(setFeatures);
    return () => base.live.stop();
  }, [base]);
  const services = useMemo(() => (features ? { ...base, features } : null), [base, features]);
  if (!services) return h('div', { class: 'boot', role: 'status' }, 'Loading…');
  return h(AppContext.Provider, { value: services }, h(Shell, null));
}

function Shell() {
  const route = useRoute();
  const { signOut, features } = useApp();
  // Every time on every page follows the chosen zone: a change renders the whole shell again.
  const [zone, setZone] = useState(timeZoneChoice);
  useEffect(() => onTimeZoneChoice(setZone), []);
  const nav = NAV.filter((n) => !n.needs || features.has(n.needs));
  const available = nav.some((n) => n.page === route.page);
  useEffect(() => {
    const label = NAV.find((n) => n.page === route.page)?.label ?? 'Dashboard';
    document.title = `${label} · leadrouter`;
  }, [route.page]);
  const Page = PAGE_COMPONENTS[available ? route.page : 'leads'];
  const page = h(Page, { route: available ? route : { ...route, page: 'leads', id: null } });
  return h(
    'div',
    { class: 'shell' },
    h(
      'a',
      {
        class: 'skip-link',
        href: '#main',
        onClick: (e: MouseEvent) => {
          e.preventDefault();
          document.getElementById('main')?.focus();
        },
      },
      'Skip to content',
    ),
    h(
      'header',
      { class: 'topbar' },
      h(
        'a',
        { class: 'brand', href: href('leads') },
        h('span', { class: 'brand-mark', 'aria-hidden': 'true' }),
        'leadrouter',
      ),
      h(
        'nav',
        { class: 'nav', 'aria-label': 'Main' },
        h(
          'ul',
          null,
          nav.map((n) =>
            h(
              'li',
              { key: n.page },
              h(
                'a',
                {
                  href: href(n.page),
                  class: 'nav-link',
                  'aria-current': route.page === n.page ? 'page' : undefined,
                },
                n.label,
              ),
            ),
          ),
        ),
      ),
      h(
        'div',
        { class: 'topbar-end' },
        h(ConnectionIndicator, null),
        h(TimeZoneSelect, { value: zone }),
        h('button', { type: 'button', class: 'button ghost small', onClick: () => signOut() }, 'Sign out'),
      ),
    ),
    h('main', { id: 'main', class: 'main', tabIndex: -1 }, page),
  );
}

/** "Times in: New York (ET) | this device". */
function TimeZoneSelect({ value }: { value: TimeZoneChoice }) {
  const device = deviceTimeZone();
  return h(
    'div',
    { class: 'tz' },
    h('label', { for: 'tz-select', class: 'tz-label' }, 'Times in'),
    h(
      'select',
      {
        id: 'tz-select',
        class: 'select tz-select',
        value,
        title: `Times in ${value === 'device' ? device.replace(/_/g, ' ') : 'New York (America/New_York)'}`,
        onChange: (e: Event) => setTimeZoneChoice((e.target as HTMLSelectElement).value as TimeZoneChoice),
      },
      h('option', { value: 'new_york' }, 'New York (ET)'),
      h('option', { value: 'device' }, 'This device'),
    ),
  );
}

const STATE_TEXT: Record<ConnectionState, string> = {
  connecting: 'Connecting',
  live: 'Live',
  reconnecting: 'Reconnecting',
  offline: 'Offline',
};

function ConnectionIndicator() {
  const { live } = useApp();
  const state = useConnectionState();
  const [, tick] = useState(0);
  useEffect(() => {
    if (state === 'live') return;
    const t = window.setInterval(() => tick((n) => n + 1), 1000);
    return () => clearInterval(t);
  }, [state]);
  const seconds = live.retryAt ? Math.max(0, Math.ceil((live.retryAt - Date.now()) / 1000)) : null;
  const detail =
    state === 'live'
      ? 'Receiving changes as they happen'
      : seconds !== null
        ? `Retrying in ${seconds} s`
        : 'Opening the connection';
  return h(
    'div',
    {
      class: `conn conn-${state}`,
      role: 'status',
      'aria-live': 'polite',
      title: detail,
      'data-state': state,
    },
    h('span', { class: 'conn-dot', 'aria-hidden': 'true' }),
    h('span', { class: 'conn-text' }, STATE_TEXT[state]),
    state === 'reconnecting' || state === 'offline'
      ? h(
          'button',
          { type: 'button', class: 'link-button small', onClick: () => live.retryNow() },
          'Retry now',
        )
      : null,
  );
}

function TokenScreen({
  config,
  notice,
  onToken,
}: {
  config: AppConfig;
  notice: string | null;
  onToken: (t: string) => void;
}) {
  const [value, setValue] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    const token = value.trim();
    if (!token) {
      setError('Enter the admin token.');
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const api = createApi({ baseUrl: config.apiUrl, token: () => token, onUnauthorized: () => undefined });
      await api.get('/api/stats');
      onToken(token);
    } catch (err) {
      setError(
        err instanceof ApiError && err.status === 401
          ? 'That token was not accepted.'
          : (err as Error).message,
      );
    } finally {
      setBusy(false);
    }
  };
  return h(
    'main',
    { class: 'signin', id: 'main' },
    h(
      'form',
      { class: 'card signin-card', onSubmit: submit, 'aria-labelledby': 'signin-title', noValidate: true },
      h(
        'div',
        { class: 'brand signin-brand' },
        h('span', { class: 'brand-mark', 'aria-hidden': 'true' }),
        'leadrouter',
      ),
      h('h1', { id: 'signin-title' }, 'Sign in to the dashboard'),
      h(
        'p',
        { class: 'muted' },
        'Paste the admin token. ',
        h('code', null, 'npm start'),
        ' prints it; on AWS it is in the stack outputs.',
      ),
      notice ? h('div', { class: 'note note-warn', role: 'status' }, notice) : null,
      h('label', { for: 'token', class: 'label' }, 'Admin token'),
      h('input', {
        id: 'token',
        class: 'input',
        type: 'password',
        autoComplete: 'current-password',
        value,
        'aria-invalid': error ? 'true' : undefined,
        'aria-describedby': error ? 'token-error' : undefined,
        onInput: (e: Event) => setValue((e.target as HTMLInputElement).value),
      }),
      error ? h('p', { id: 'token-error', class: 'field-error', role: 'alert' }, error) : null,
      h(
        'button',
        { type: 'submit', class: 'button primary block', disabled: busy },
        busy ? 'Checking…' : 'Sign in',
      ),
      h('p', { class: 'muted small' }, 'The token is kept in this browser only.'),
    ),
  );
}
