/**
 * Imports: Google Sheets and published CSVs read on a schedule, and one-off CSV uploads. Each run
 * reports what it imported, what were duplicates, and every bad row with its row number and reason.
 */
import { h } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError } from '../api.js';
import { ErrorNote, PageHeader } from '../components/bits.js';
import { Dialog } from '../components/dialog.js';
import { Field } from '../components/field.js';
import { Table } from '../components/table.js';
import { useApp, useLive, useResource, useThrottled } from '../context.js';
import { formatFull, formatNumber, formatTime } from '../format.js';
import { href, navigate, type Route } from '../router.js';
import type { BadRow, Campaign, ImportRun, LeadImport, Page, UploadSummary } from '../types.js';

const KIND_LABELS: Record<LeadImport['kind'], string> = { google_sheet: 'Google Sheet', csv_url: 'CSV URL' };
const RUN_BADGE: Record<ImportRun['status'], string> = {
  running: 'status-contacted',
  succeeded: 'status-assigned',
  failed: 'status-unassigned',
  skipped: 'status-stale',
};

export function ImportsPage({ route }: { route: Route }) {
  const { api } = useApp();
  const imports = useResource(
    () => api.get<{ items: LeadImport[] }>('/api/imports').then((r) => r.items),
    'imports',
  );
  const refresh = useThrottled(() => void imports.reload(), 1000);
  useLive({ event: (e) => e.type.startsWith('import.') && refresh(), resync: refresh });
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<Error | null>(null);
  const close = () => navigate(href('imports'));

  const act = async (imp: LeadImport, what: 'run' | 'toggle') => {
    setBusy(`${what}:${imp.id}`);
    setError(null);
    try {
      if (what === 'run') await api.post(`/api/imports/${imp.id}/run`, {});
      else await api.patch(`/api/imports/${imp.id}`, { active: !imp.active });
      await imports.reload();
    } catch (e) {
      setError(e as Error);
    } finally {
      setBusy(null);
    }
  };

  const items = imports.data ?? [];
  const selected = route.id && route.id !== 'new' ? items.find((i) => i.id === route.id) : undefined;
  return h(
    'section',
    { class: 'page' },
    h(PageHeader, {
      title: 'Imports',
      description:
        'Sheets and CSV files read on a schedule. Rows are imported once, however the sheet is sorted.',
      actions: h('a', { class: 'button primary', href: href('imports', 'new') }, 'New import'),
    }),
    h(ErrorNote, { error: imports.error ?? error }),
    h(
      'div',
      // Focusable: on a phone the table scrolls sideways, and a keyboard must be able to scroll it too.
      { class: 'table-scroll', tabIndex: 0, role: 'region', 'aria-label': 'Imports table' },
      h(
        'table',
        { class: 'table imports-table' },
        h('caption', { class: 'sr-only' }, 'Imports'),
        h(
          'thead',
          null,
          h(
            'tr',
            null,
            [
              'Import',
              'Campaign',
              'Schedule',
              'Last run',
              'Imported',
              'Duplicates',
              'Bad rows',
              'Actions',
            ].map((c) =>
              h(
                'th',
                {
                  key: c,
                  scope: 'col',
                  class: ['Imported', 'Duplicates', 'Bad rows'].includes(c) ? 'num' : undefined,
                },
                c,
              ),
            ),
          ),
        ),
        h(
          'tbody',
          null,
          items.map((imp) => {
            const run = imp.lastRun;
            const runLabel = busy === `run:${imp.id}` ? 'Running…' : 'Run now';
            const toggleLabel = imp.active ? 'Pause' : 'Resume';
            return h(
              'tr',
              { key: imp.id, 'data-import-id': imp.id },
              h(
                'td',
                null,
                h('a', { class: 'row-link', href: href('imports', imp.id) }, imp.name),
                h('div', { class: 'muted small' }, KIND_LABELS[imp.kind], imp.active ? '' : ' · paused'),
              ),
              h('td', null, imp.campaign),
              h('td', null, imp.schedule ?? 'Manual only'),
              h(
                'td',
                null,
                run
                  ? [
                      h('span', { key: 'b', class: `badge ${RUN_BADGE[run.status]}` }, run.status),
                      ' ',
                      h(
                        'time',
                        { key: 't', dateTime: run.startedAt, title: formatFull(run.startedAt) },
                        formatTime(run.startedAt),
                      ),
                    ]
                  : h('span', { class: 'muted' }, 'Never'),
              ),
              h('td', { class: 'num' }, formatNumber(run?.imported)),
              h('td', { class: 'num' }, formatNumber(run?.duplicates)),
              h('td', { class: 'num' }, formatNumber(run?.badRows)),
              h(
                'td',
                null,
                h(
                  'div',
                  { class: 'button-row nowrap' },
                  h(
                    'button',
                    {
                      type: 'button',
                      class: 'button small',
                      disabled: busy !== null,
                      // The name starts with what the button shows, then says which import.
                      'aria-label': `${runLabel}: ${imp.name}`,
                      onClick: () => void act(imp, 'run'),
                    },
                    runLabel,
                  ),
                  h(
                    'button',
                    {
                      type: 'button',
                      class: 'button small ghost',
                      disabled: busy !== null,
                      'aria-label': `${toggleLabel}: ${imp.name}`,
                      onClick: () => void act(imp, 'toggle'),
                    },
                    toggleLabel,
                  ),
                ),
              ),
            );
          }),
        ),
      ),
      !imports.loading && items.length === 0
        ? h(
            'div',
            { class: 'empty' },
            'No imports yet. Connect a Google Sheet or a published CSV, or upload a file below.',
          )
        : null,
    ),
    h(UploadCard, null),
    route.id === 'new'
      ? h(ImportForm, {
          onClose: close,
          onCreated: async () => {
            await imports.reload();
            close();
          },
        })
      : selected
        ? h(RunsDrawer, { key: selected.id, imp: selected, onClose: close })
        : null,
  );
}

/** Problems grouped by row, in row order: one CSV row may have several (a bad phone and a bad email). */
function groupBadRows(bad: BadRow[]): { row: number; problems: { field: string; message: string }[] }[] {
  const byRow = new Map<number, { field: string; message: string }[]>();
  for (const b of bad)
    byRow.set(b.row, [...(byRow.get(b.row) ?? []), { field: b.field, message: b.message }]);
  return [...byRow].sort(([a], [b]) => a - b).map(([row, problems]) => ({ row, problems }));
}

/**
 * The bad rows of a run, each with its problems. `total` is the run's count of bad rows (the API lists
 * the problems of the first rows only, `truncated` when there are more).
 */
function BadRows({ bad, total, truncated }: { bad: BadRow[]; total?: number; truncated?: boolean }) {
  const rows = groupBadRows(bad);
  const count = Math.max(total ?? 0, rows.length);
  if (count === 0) return null;
  return h(
    'details',
    { class: 'bad-rows' },
    h('summary', null, `Bad rows (${formatNumber(count)})`),
    truncated || rows.length < count
      ? h('p', { class: 'muted small' }, `The first ${formatNumber(rows.length)} are listed.`)
      : null,
    h(Table<(typeof rows)[number]>, {
      columns: ['Row', 'Problems'],
      rows,
      rowKey: (r) => r.row,
      cells: (r) => [
        String(r.row),
        h(
          'ul',
          { class: 'problems' },
          r.problems.map((p, i) =>
            h('li', { key: i }, h('span', { class: 'problem-field' }, p.field), `: ${p.message}`),
          ),
        ),
      ],
    }),
  );
}

function RunsDrawer({ imp, onClose }: { imp: LeadImport; onClose: () => void }) {
  const { api } = useApp();
  const runs = useResource(
    () => api.get<Page<ImportRun>>(`/api/imports/${imp.id}/runs`, { limit: 20 }),
    imp.id,
  );
  const refresh = useThrottled(() => void runs.reload(), 1000);
  useLive({ event: (e) => e.type.startsWith('import.') && refresh(), resync: refresh });
  return h(
    Dialog,
    { variant: 'drawer', title: imp.name, subtitle: `${KIND_LABELS[imp.kind]} → ${imp.campaign}`, onClose },
    h(ErrorNote, { error: runs.error }),
    h(
      'section',
      { class: 'drawer-section', 'aria-labelledby': 'imp-source' },
      h('h3', { id: 'imp-source' }, 'Source'),
      h(
        'dl',
        { class: 'fields' },
        imp.kind === 'google_sheet'
          ? [
              h('dt', { key: 'st' }, 'Sheet'),
              h('dd', { key: 'sd' }, `${imp.spreadsheetId ?? '—'} ${imp.range ?? ''}`),
            ]
          : [h('dt', { key: 'ut' }, 'URL'), h('dd', { key: 'ud' }, imp.url ?? '—')],
        imp.kind === 'google_sheet'
          ? [
              h('dt', { key: 'at' }, 'Access'),
              h(
                'dd',
                { key: 'ad' },
                imp.credentialsProblem
                  ? h('span', { class: 'field-error' }, imp.credentialsProblem)
                  : imp.auth === 'service_account'
                    ? `Service account ${imp.serviceAccountEmail ?? ''}`
                    : imp.auth === 'api_key'
                      ? 'API key (stored encrypted)'
                      : 'None',
              ),
            ]
          : null,
        h('dt', null, 'Schedule'),
        h('dd', null, imp.schedule ?? 'Manual only'),
        h('dt', null, 'Next run'),
        h('dd', null, imp.active ? formatFull(imp.nextRunAt) : 'Paused'),
        h('dt', null, 'Columns'),
        h(
          'dd',
          null,
          Object.keys(imp.columnMap).length
            ? Object.entries(imp.columnMap)
                .map(([col, field]) => `${col} → ${field}`)
                .join(', ')
            : 'Default names (phone, email, first_name, …)',
        ),
      ),
    ),
    h(
      'section',
      { class: 'drawer-section', 'aria-labelledby': 'imp-runs' },
      h('h3', { id: 'imp-runs' }, 'Runs'),
      runs.data && runs.data.items.length === 0 ? h('p', { class: 'muted' }, 'No runs yet.') : null,
      h(
        'ol',
        { class: 'runs' },
        (runs.data?.items ?? []).map((r) =>
          h(
            'li',
            { key: r.id, class: 'run' },
            h(
              'div',
              { class: 'run-head' },
              h('span', { class: `badge ${RUN_BADGE[r.status]}` }, r.status),
              h('time', { dateTime: r.startedAt }, formatFull(r.startedAt)),
              h('span', { class: 'muted small' }, r.trigger),
            ),
            h(
              'p',
              { class: 'run-counts' },
              `${formatNumber(r.imported)} imported · ${formatNumber(r.duplicates)} duplicates · ${formatNumber(r.badRows)} bad · ${formatNumber(r.rowsSeen)} rows read`,
              r.complete ? '' : ' · continues next run',
            ),
            r.error ? h('p', { class: 'field-error' }, r.error) : null,
            h(BadRows, { bad: r.bad, total: r.badRows }),
          ),
        ),
      ),
    ),
  );
}

function ImportForm({ onClose, onCreated }: { onClose: () => void; onCreated: () => Promise<void> }) {
  const { api } = useApp();
  const campaigns = useResource(
    () => api.get<{ items: Campaign[] }>('/api/campaigns').then((r) => r.items),
    'campaigns',
  );
  const [f, setF] = useState({
    name: '',
    kind: 'google_sheet' as LeadImport['kind'],
    spreadsheetId: '',
    range: '',
    apiKey: '',
    url: '',
    campaign: 'default',
    schedule: 'rate(10 minutes)',
  });
  const [error, setError] = useState<Error | null>(null);
  const [saving, setSaving] = useState(false);
  const set = (k: keyof typeof f, v: string) => setF((x) => ({ ...x, [k]: v }));
  const issue = (field: string) => (error instanceof ApiError ? error.issueFor(field) : undefined);
  const submit = async (e: Event) => {
    e.preventDefault();
    setSaving(true);
    setError(null);
    const opt = (v: string) => (v.trim() ? v.trim() : undefined);
    try {
      await api.post('/api/imports', {
        name: f.name.trim(),
        kind: f.kind,
        campaign: f.campaign,
        schedule: opt(f.schedule) ?? null,
        ...(f.kind === 'google_sheet'
          ? { spreadsheetId: opt(f.spreadsheetId), range: opt(f.range), apiKey: opt(f.apiKey) }
          : { url: opt(f.url) }),
      });
      await onCreated();
    } catch (err) {
      setError(err as Error);
    } finally {
      setSaving(false);
    }
  };
  const input = (k: keyof typeof f, extra: Record<string, unknown> = {}) =>
    h('input', {
      class: 'input',
      value: f[k],
      onInput: (e: Event) => set(k, (e.target as HTMLInputElement).value),
      ...extra,
    });
  return h(
    Dialog,
    {
      title: 'New import',
      onClose,
      footer: [
        h('button', { key: 'c', type: 'button', class: 'button ghost', onClick: onClose }, 'Cancel'),
        h(
          'button',
          { key: 's', type: 'submit', form: 'import-form', class: 'button primary', disabled: saving },
          saving ? 'Saving…' : 'Create import',
        ),
      ],
    },
    h(
      'form',
      { id: 'import-form', class: 'form', onSubmit: submit, noValidate: true },
      error && !(error instanceof ApiError && error.issues.length) ? h(ErrorNote, { error }) : null,
      h(Field, { id: 'i-name', label: 'Name', error: issue('name') }, input('name')),
      h(
        'fieldset',
        { class: 'fieldset' },
        h('legend', null, 'Source'),
        h(
          'div',
          { class: 'radio-inline' },
          (['google_sheet', 'csv_url'] as const).map((k) =>
            h(
              'label',
              { key: k, class: 'radio' },
              h('input', {
                type: 'radio',
                name: 'kind',
                checked: f.kind === k,
                onChange: () => set('kind', k),
              }),
              ` ${KIND_LABELS[k]}`,
            ),
          ),
        ),
        f.kind === 'google_sheet'
          ? [
              h(
                Field,
                {
                  key: 'sid',
                  id: 'i-sheet',
                  label: 'Spreadsheet id',
                  hint: 'The part of the sheet’s URL between /d/ and /edit',
                  error: issue('spreadsheetId'),
                },
                input('spreadsheetId'),
              ),
              h(
                'div',
                { key: 'row', class: 'form-row' },
                h(
                  Field,
                  { id: 'i-range', label: 'Range', hint: 'Optional, e.g. Leads!A:Z', error: issue('range') },
                  input('range'),
                ),
                h(
                  Field,
                  {
                    id: 'i-key',
                    label: 'API key',
                    hint: 'For a sheet shared with “anyone with the link”',
                    error: issue('apiKey'),
                  },
                  input('apiKey', { type: 'password', autoComplete: 'off' }),
                ),
              ),
            ]
          : h(
              Field,
              {
                id: 'i-url',
                label: 'CSV URL',
                hint: 'File → Share → Publish to web → CSV',
                error: issue('url'),
              },
              input('url', { type: 'url' }),
            ),
      ),
      h(
        'div',
        { class: 'form-row' },
        h(
          Field,
          { id: 'i-campaign', label: 'Campaign', error: issue('campaign') },
          h(
            'select',
            {
              class: 'select',
              value: f.campaign,
              onChange: (e: Event) => set('campaign', (e.target as HTMLSelectElement).value),
            },
            (campaigns.data ?? [{ key: 'default', name: 'Default' }]).map((c) =>
              h('option', { key: c.key, value: c.key }, c.name),
            ),
          ),
        ),
        h(
          Field,
          {
            id: 'i-schedule',
            label: 'Schedule',
            hint: 'rate(10 minutes) or cron (UTC); empty = manual',
            error: issue('schedule'),
          },
          input('schedule'),
        ),
      ),
    ),
  );
}

/** How often a large upload's progress is polled while the import runner finishes it. */
const UPLOAD_POLL_MS = 2_000;
/** Past uploads listed under the form. */
const RECENT_UPLOADS = 10;

/**
 * A one-off CSV upload: streamed by the API row by row, with per-row results. A file the API does not
 * finish within its time limit answers 202 with the counts so far; the page then polls the upload
 * (`GET /api/leads/import/{runId}`, the answer's Location) and shows the progress until it is complete.
 */
function UploadCard() {
  const { api } = useApp();
  const campaigns = useResource(
    () => api.get<{ items: Campaign[] }>('/api/campaigns').then((r) => r.items),
    'campaigns',
  );
  const [file, setFile] = useState<File | null>(null);
  const [campaign, setCampaign] = useState('default');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Error | null>(null);
  const [summary, setSummary] = useState<UploadSummary | null>(null);
  const [progress, setProgress] = useState<UploadSummary | null>(null);
  /** Bumped when an upload is stored or finishes: the recent uploads list reads again. */
  const [uploads, setUploads] = useState(0);
  const mounted = useRef(true);
  useEffect(
    () => () => {
      mounted.current = false;
    },
    [],
  );
  const submit = async (e: Event) => {
    e.preventDefault();
    if (!file) return;
    setBusy(true);
    setError(null);
    setSummary(null);
    setProgress(null);
    try {
      let current = await api.upload<UploadSummary>(
        `/api/leads/import?campaign=${encodeURIComponent(campaign)}`,
        file,
        'text/csv',
      );
      setUploads((n) => n + 1);
      while (!current.complete) {
        setProgress(current);
        await new Promise((resolve) => setTimeout(resolve, UPLOAD_POLL_MS));
        // Leaving the page stops polling; the server finishes the upload either way.
        if (!mounted.current) return;
        current = await api.get<UploadSummary>(`/api/leads/import/${encodeURIComponent(current.runId)}`);
      }
      setProgress(null);
      setSummary(current);
      setUploads((n) => n + 1);
    } catch (err) {
      setProgress(null);
      setError(err as Error);
    } finally {
      if (mounted.current) setBusy(false);
    }
  };
  return h(
    'section',
    { class: 'card top-gap', 'aria-labelledby': 'upload-title' },
    h('h2', { id: 'upload-title', class: 'card-title' }, 'Upload a CSV'),
    h(
      'p',
      { class: 'muted small' },
      'Columns named like phone, email, first_name, last_name, state, zip. Duplicates are checked as for webhooks.',
    ),
    h(
      'form',
      { class: 'upload-form', onSubmit: submit },
      h(
        'div',
        { class: 'field' },
        h('label', { for: 'u-file', class: 'label' }, 'CSV file'),
        h('input', {
          id: 'u-file',
          class: 'input',
          type: 'file',
          accept: '.csv,text/csv',
          onChange: (e: Event) => setFile((e.target as HTMLInputElement).files?.[0] ?? null),
        }),
      ),
      h(
        'div',
        { class: 'field' },
        h('label', { for: 'u-campaign', class: 'label' }, 'Campaign'),
        h(
          'select',
          {
            id: 'u-campaign',
            class: 'select',
            value: campaign,
            onChange: (e: Event) => setCampaign((e.target as HTMLSelectElement).value),
          },
          (campaigns.data ?? [{ key: 'default', name: 'Default' }]).map((c) =>
            h('option', { key: c.key, value: c.key }, c.name),
          ),
        ),
      ),
      h(
        'button',
        { type: 'submit', class: 'button primary', disabled: !file || busy },
        busy ? (progress ? 'Importing…' : 'Uploading…') : 'Upload',
      ),
    ),
    h(ErrorNote, { error }),
    progress
      ? h(
          'div',
          { class: 'note', role: 'status', 'aria-live': 'polite' },
          `Importing on the server: ${formatNumber(progress.rows)} rows so far — ${formatNumber(progress.imported)} imported, ${formatNumber(progress.duplicates)} duplicates, ${formatNumber(progress.badRows)} bad. You can leave this page; the import continues.`,
        )
      : null,
    summary
      ? h(
          'div',
          { class: 'note note-ok', role: 'status' },
          `${formatNumber(summary.imported)} imported, ${formatNumber(summary.duplicates)} duplicates, ${formatNumber(summary.badRows)} bad of ${formatNumber(summary.rows)} rows.`,
        )
      : null,
    summary
      ? h(BadRows, { bad: summary.bad, total: summary.badRows, truncated: summary.badTruncated })
      : null,
    h(RecentUploads, { version: uploads }),
  );
}

const UPLOAD_BADGE: Record<UploadSummary['status'], string> = {
  running: RUN_BADGE.running,
  succeeded: RUN_BADGE.succeeded,
  failed: RUN_BADGE.failed,
};

/**
 * Past uploads (`GET /api/leads/import`), newest first, so their results outlive the page: counts, and
 * the bad rows of each. A server without the list shows nothing here.
 */
function RecentUploads({ version }: { version: number }) {
  const { api } = useApp();
  const list = useResource(
    () => api.get<Page<UploadSummary>>('/api/leads/import', { limit: RECENT_UPLOADS }),
    `uploads:${version}`,
  );
  const refresh = useThrottled(() => void list.reload(), 1000);
  useLive({ event: (e) => e.type.startsWith('import.') && refresh(), resync: refresh });
  const items = list.data?.items ?? [];
  if (items.length === 0) return null;
  return h(
    'section',
    { class: 'recent-uploads', 'aria-labelledby': 'uploads-title' },
    h('h3', { id: 'uploads-title', class: 'subhead' }, 'Recent uploads'),
    h(
      'ol',
      { class: 'runs' },
      items.map((u) =>
        h(
          'li',
          { key: u.runId, class: 'run', 'data-run-id': u.runId },
          h(
            'div',
            { class: 'run-head' },
            h('span', { class: `badge ${UPLOAD_BADGE[u.status]}` }, u.status),
            h('time', { dateTime: u.startedAt, title: formatFull(u.startedAt) }, formatTime(u.startedAt)),
          ),
          h(
            'p',
            { class: 'run-counts' },
            `${formatNumber(u.imported)} imported · ${formatNumber(u.duplicates)} duplicates · ${formatNumber(u.badRows)} bad of ${formatNumber(u.rows)} rows`,
            u.complete ? '' : ' · still importing',
          ),
          u.error ? h('p', { class: 'field-error' }, u.error) : null,
          h(BadRows, { bad: u.bad, total: u.badRows, truncated: u.badTruncated }),
        ),
      ),
    ),
  );
}
