/**
 * Recipients: who receives leads, how many today against the daily cap, what is left of the quota,
 * and the settings that decide eligibility (states, weight, timezone, working hours, paused).
 */
import { h } from 'preact';
import { useState } from 'preact/hooks';
import { WEEKDAYS, type Weekday } from '../../../functions/domain/types.js';
import { ApiError } from '../api.js';
import { ErrorNote, PageHeader, Usage } from '../components/bits.js';
import { Dialog } from '../components/dialog.js';
import { Field } from '../components/field.js';
import { useApp, useLive, useResource, useThrottled } from '../context.js';
import { navigate, href, type Route } from '../router.js';
import type { Recipient, RecipientInput, WorkingHours } from '../types.js';

const DAY_NAMES: Record<Weekday, string> = {
  mon: 'Monday',
  tue: 'Tuesday',
  wed: 'Wednesday',
  thu: 'Thursday',
  fri: 'Friday',
  sat: 'Saturday',
  sun: 'Sunday',
};

/** Events after which counts or settings shown here may have changed. */
const REFRESH_ON =
  /^(recipient\.|lead\.(assigned|reassigned|unassigned|status_changed)|quota\.reset|order\.)/;

export function RecipientsPage({ route }: { route: Route }) {
  const { api } = useApp();
  const list = useResource(
    () => api.get<{ items: Recipient[] }>('/api/recipients').then((r) => r.items),
    'recipients',
  );
  const refresh = useThrottled(() => void list.reload(), 750);
  useLive({ event: (e) => REFRESH_ON.test(e.type) && refresh(), resync: refresh });
  const [toggling, setToggling] = useState<string | null>(null);
  const [error, setError] = useState<Error | null>(null);

  const editing =
    route.id === 'new' ? 'new' : route.id ? list.data?.find((r) => r.id === route.id) : undefined;
  const close = () => navigate(href('recipients'));

  const toggle = async (r: Recipient) => {
    setToggling(r.id);
    setError(null);
    try {
      await api.patch(`/api/recipients/${r.id}`, { active: !r.active });
      await list.reload();
    } catch (e) {
      setError(e as Error);
    } finally {
      setToggling(null);
    }
  };

  const items = list.data ?? [];
  return h(
    'section',
    { class: 'page' },
    h(PageHeader, {
      title: 'Recipients',
      description:
        'Callers, providers and buyers who receive leads. Counts reset at each recipient’s local midnight.',
      actions: h('a', { class: 'button primary', href: href('recipients', 'new') }, 'Add recipient'),
    }),
    h(ErrorNote, { error: list.error ?? error }),
    // A link to a recipient that is not there (deleted, another org's, mistyped).
    route.id && route.id !== 'new' && list.data && !editing
      ? h(
          'div',
          { class: 'note note-warn', role: 'alert' },
          'Recipient not found. ',
          h('a', { href: href('recipients') }, 'Back to all recipients'),
        )
      : null,
    !list.loading && items.length === 0 && !list.error
      ? h('div', { class: 'empty card' }, 'No recipients yet. Add one so leads have somewhere to go.')
      : null,
    h(
      'ul',
      { class: 'recipient-grid', 'aria-label': 'Recipients' },
      items.map((r) =>
        h(
          'li',
          { key: r.id, class: `card recipient ${r.active ? '' : 'is-paused'}`, 'data-recipient-id': r.id },
          h(
            'div',
            { class: 'recipient-head' },
            h(
              'div',
              null,
              h('h2', { class: 'recipient-name' }, r.name),
              h('div', { class: 'muted small' }, r.email ?? 'No email'),
            ),
            h(
              'span',
              { class: `badge ${r.active ? 'status-assigned' : 'status-stale'}` },
              r.active ? 'Active' : 'Paused',
            ),
          ),
          h(Usage, {
            label: 'Today',
            used: r.assignedToday,
            limit: r.dailyCap,
            unlimited: `${r.assignedToday} · no daily cap`,
          }),
          h(Usage, {
            label: 'Quota',
            used: r.quota === null ? 0 : r.quota - (r.quotaRemaining ?? 0),
            limit: r.quota,
            unlimited: 'no quota',
          }),
          h(
            'dl',
            { class: 'mini-fields' },
            h('dt', null, 'States'),
            h('dd', null, r.states.length ? r.states.join(', ') : 'All'),
            h('dt', null, 'Weight'),
            h('dd', null, String(r.weight)),
            h('dt', null, 'Hours'),
            h('dd', null, hoursSummary(r.workingHours), ' · ', r.timezone.replace(/_/g, ' ')),
          ),
          h(
            'div',
            { class: 'button-row' },
            h(
              'a',
              { class: 'button small', href: href('recipients', r.id), 'aria-label': `Edit ${r.name}` },
              'Edit',
            ),
            h(
              'button',
              {
                type: 'button',
                class: 'button small ghost',
                disabled: toggling === r.id,
                'aria-label': `${r.active ? 'Pause' : 'Resume'} ${r.name}`,
                onClick: () => void toggle(r),
              },
              r.active ? 'Pause' : 'Resume',
            ),
            h(
              'a',
              {
                class: 'button small ghost',
                href: href('leads', null, { recipientId: r.id }),
                'aria-label': `Leads of ${r.name}`,
              },
              'Leads',
            ),
          ),
        ),
      ),
    ),
    editing
      ? h(RecipientForm, {
          key: editing === 'new' ? 'new' : editing.id,
          recipient: editing === 'new' ? null : editing,
          onClose: close,
          onSaved: async () => {
            await list.reload();
            close();
          },
        })
      : null,
  );
}

/** "Mon–Fri 09:00–17:00, Sat 10:00–14:00": runs of consecutive days with the same hours. */
function hoursSummary(hours: Recipient['workingHours']): string {
  if (!hours || Object.keys(hours).length === 0) return 'Any time';
  const dayName = (d: string) => d[0]!.toUpperCase() + d.slice(1);
  const runs: { from: string; to: string; span: string }[] = [];
  for (const d of WEEKDAYS) {
    const h = hours[d];
    const span = h ? `${h[0]}–${h[1]}` : '';
    const last = runs.at(-1);
    if (last && last.span === span && WEEKDAYS.indexOf(last.to as Weekday) === WEEKDAYS.indexOf(d) - 1)
      last.to = d;
    else runs.push({ from: d, to: d, span });
  }
  return runs
    .filter((r) => r.span)
    .map((r) => `${dayName(r.from)}${r.to !== r.from ? `–${dayName(r.to)}` : ''} ${r.span}`)
    .join(', ');
}

interface FormState {
  name: string;
  email: string;
  states: string;
  dailyCap: string;
  quota: string;
  weight: string;
  timezone: string;
  active: boolean;
  hoursOn: boolean;
  hours: Record<Weekday, { on: boolean; from: string; to: string }>;
}

function initialForm(r: Recipient | null): FormState {
  const hours = r?.workingHours ?? null;
  return {
    name: r?.name ?? '',
    email: r?.email ?? '',
    states: r?.states.join(', ') ?? '',
    dailyCap: r?.dailyCap?.toString() ?? '',
    quota: r?.quota?.toString() ?? '',
    weight: String(r?.weight ?? 1),
    timezone: r?.timezone ?? 'America/New_York',
    active: r?.active ?? true,
    hoursOn: !!hours && Object.keys(hours).length > 0,
    hours: Object.fromEntries(
      WEEKDAYS.map((d) => {
        const span = hours?.[d];
        const weekday = d !== 'sat' && d !== 'sun';
        return [
          d,
          { on: span ? true : !hours && weekday, from: span?.[0] ?? '09:00', to: span?.[1] ?? '17:00' },
        ];
      }),
    ) as FormState['hours'],
  };
}

function toInput(f: FormState): RecipientInput {
  const num = (s: string) => (s.trim() === '' ? null : Number(s));
  const workingHours: WorkingHours | null = f.hoursOn
    ? (Object.fromEntries(
        WEEKDAYS.filter((d) => f.hours[d].on).map((d) => [d, [f.hours[d].from, f.hours[d].to]]),
      ) as WorkingHours)
    : null;
  return {
    name: f.name.trim(),
    email: f.email.trim() === '' ? null : f.email.trim(),
    states: f.states
      .split(/[,\s]+/)
      .map((s) => s.trim())
      .filter(Boolean),
    dailyCap: num(f.dailyCap),
    quota: num(f.quota),
    weight: Number(f.weight || 1),
    timezone: f.timezone,
    workingHours,
    active: f.active,
  };
}

const TIMEZONES: string[] = (() => {
  try {
    return (Intl as unknown as { supportedValuesOf(k: string): string[] })
      .supportedValuesOf('timeZone')
      .filter((z) => z.startsWith('America/') || z.startsWith('Pacific/') || z === 'UTC');
  } catch {
    return [
      'America/New_York',
      'America/Chicago',
      'America/Denver',
      'America/Phoenix',
      'America/Los_Angeles',
      'America/Anchorage',
      'Pacific/Honolulu',
      'UTC',
    ];
  }
})();

function RecipientForm(props: {
  recipient: Recipient | null;
  onClose: () => void;
  onSaved: () => Promise<void>;
}) {
  const { api } = useApp();
  const [form, setForm] = useState(() => initialForm(props.recipient));
  const [error, setError] = useState<ApiError | Error | null>(null);
  const [saving, setSaving] = useState(false);
  const set = <K extends keyof FormState>(key: K, value: FormState[K]) =>
    setForm((f) => ({ ...f, [key]: value }));
  const setDay = (d: Weekday, patch: Partial<FormState['hours'][Weekday]>) =>
    setForm((f) => ({ ...f, hours: { ...f.hours, [d]: { ...f.hours[d], ...patch } } }));
  const issue = (field: string) => (error instanceof ApiError ? error.issueFor(field) : undefined);

  const submit = async (e: Event) => {
    e.preventDefault();
    setSaving(true);
    setError(null);
    try {
      const body = toInput(form);
      if (props.recipient) await api.patch(`/api/recipients/${props.recipient.id}`, body);
      else await api.post('/api/recipients', body);
      await props.onSaved();
    } catch (err) {
      setError(err as Error);
    } finally {
      setSaving(false);
    }
  };

  const formId = 'recipient-form';
  return h(
    Dialog,
    {
      title: props.recipient ? `Edit ${props.recipient.name}` : 'Add recipient',
      onClose: props.onClose,
      footer: [
        h('button', { key: 'c', type: 'button', class: 'button ghost', onClick: props.onClose }, 'Cancel'),
        h(
          'button',
          { key: 's', type: 'submit', form: formId, class: 'button primary', disabled: saving },
          saving ? 'Saving…' : props.recipient ? 'Save changes' : 'Add recipient',
        ),
      ],
    },
    h(
      'form',
      { id: formId, class: 'form', onSubmit: submit, noValidate: true },
      error && !(error instanceof ApiError && error.issues.length) ? h(ErrorNote, { error }) : null,
      error instanceof ApiError && error.issues.length
        ? h(ErrorNote, null, 'Please fix the fields marked below.')
        : null,
      h(
        Field,
        { id: 'r-name', label: 'Name', error: issue('name') },
        h('input', {
          class: 'input',
          value: form.name,
          required: true,
          onInput: (e: Event) => set('name', (e.target as HTMLInputElement).value),
        }),
      ),
      h(
        Field,
        { id: 'r-email', label: 'Email', hint: 'Optional', error: issue('email') },
        h('input', {
          class: 'input',
          type: 'email',
          value: form.email,
          onInput: (e: Event) => set('email', (e.target as HTMLInputElement).value),
        }),
      ),
      h(
        Field,
        {
          id: 'r-states',
          label: 'States covered',
          hint: 'Codes or names, comma-separated. Empty = all states.',
          error: issue('states'),
        },
        h('input', {
          class: 'input',
          value: form.states,
          placeholder: 'CA, NY, Texas',
          onInput: (e: Event) => set('states', (e.target as HTMLInputElement).value),
        }),
      ),
      h(
        'div',
        { class: 'form-row' },
        h(
          Field,
          { id: 'r-cap', label: 'Daily cap', hint: 'Empty = no cap', error: issue('dailyCap') },
          h('input', {
            class: 'input',
            type: 'number',
            min: 0,
            inputMode: 'numeric',
            value: form.dailyCap,
            onInput: (e: Event) => set('dailyCap', (e.target as HTMLInputElement).value),
          }),
        ),
        h(
          Field,
          { id: 'r-quota', label: 'Quota', hint: 'Until the next reset', error: issue('quota') },
          h('input', {
            class: 'input',
            type: 'number',
            min: 0,
            inputMode: 'numeric',
            value: form.quota,
            onInput: (e: Event) => set('quota', (e.target as HTMLInputElement).value),
          }),
        ),
        h(
          Field,
          { id: 'r-weight', label: 'Weight', hint: '2 = twice the share', error: issue('weight') },
          h('input', {
            class: 'input',
            type: 'number',
            min: 1,
            max: 1000,
            inputMode: 'numeric',
            value: form.weight,
            onInput: (e: Event) => set('weight', (e.target as HTMLInputElement).value),
          }),
        ),
      ),
      h(
        Field,
        {
          id: 'r-tz',
          label: 'Timezone',
          hint: 'Daily caps and working hours follow this clock.',
          error: issue('timezone'),
        },
        h(
          'select',
          {
            class: 'select',
            value: form.timezone,
            onChange: (e: Event) => set('timezone', (e.target as HTMLSelectElement).value),
          },
          (TIMEZONES.includes(form.timezone) ? TIMEZONES : [form.timezone, ...TIMEZONES]).map((z) =>
            h('option', { key: z, value: z }, z.replace(/_/g, ' ')),
          ),
        ),
      ),
      h(
        'fieldset',
        { class: 'fieldset' },
        h('legend', null, 'Working hours'),
        h(
          'label',
          { class: 'check' },
          h('input', {
            type: 'checkbox',
            checked: form.hoursOn,
            onChange: (e: Event) => set('hoursOn', (e.target as HTMLInputElement).checked),
          }),
          ' Only during set hours (otherwise any time)',
        ),
        form.hoursOn
          ? h(
              'div',
              { class: 'hours' },
              WEEKDAYS.map((d) =>
                h(
                  'div',
                  { key: d, class: 'hours-row' },
                  h(
                    'label',
                    { class: 'check hours-day' },
                    h('input', {
                      type: 'checkbox',
                      checked: form.hours[d].on,
                      onChange: (e: Event) => setDay(d, { on: (e.target as HTMLInputElement).checked }),
                    }),
                    ` ${DAY_NAMES[d]}`,
                  ),
                  h('input', {
                    type: 'time',
                    class: 'input time',
                    value: form.hours[d].from,
                    disabled: !form.hours[d].on,
                    'aria-label': `${DAY_NAMES[d]} from`,
                    onInput: (e: Event) => setDay(d, { from: (e.target as HTMLInputElement).value }),
                  }),
                  h('span', { 'aria-hidden': 'true' }, '–'),
                  h('input', {
                    type: 'time',
                    class: 'input time',
                    value: form.hours[d].to,
                    disabled: !form.hours[d].on,
                    'aria-label': `${DAY_NAMES[d]} until`,
                    onInput: (e: Event) => setDay(d, { to: (e.target as HTMLInputElement).value }),
                  }),
                ),
              ),
              issue('workingHours') ? h('p', { class: 'field-error' }, issue('workingHours')) : null,
            )
          : null,
      ),
      h(
        'label',
        { class: 'check' },
        h('input', {
          type: 'checkbox',
          checked: form.active,
          onChange: (e: Event) => set('active', (e.target as HTMLInputElement).checked),
        }),
        ' Active (receives leads)',
      ),
    ),
  );
}
