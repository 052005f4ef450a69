/**
 * Campaigns: the routing rules (k recipients per lead, static recipients, the pool, state routing,
 * SLA) and a simulator that runs sample leads through the allocator without storing anything.
 */
import { Fragment, h } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { US_STATE_CODES } from '../states.js';
import { STATE_ROUTINGS } from '../../../functions/domain/types.js';
import { ApiError } from '../api.js';
import { ErrorNote, PageHeader } from '../components/bits.js';
import { Field } from '../components/field.js';
import { FEATURE_ROUTES } from '../features.js';
import { useApp, useLive, useResource, useThrottled } from '../context.js';
import { reasonLabel } from '../format.js';
import { href, navigate, type Route } from '../router.js';
import type { Campaign, CampaignInput, Recipient, SimulationOverrides, SimulationResult } from '../types.js';

const ROUTING_HELP: Record<(typeof STATE_ROUTINGS)[number], string> = {
  prefer: 'Recipients covering the lead’s state first, then others as overflow',
  require: 'Only recipients covering the lead’s state',
  ignore: 'Any pool member, states not considered',
};

interface FormState {
  key: string;
  name: string;
  recipientsPerLead: string;
  staticIds: string[];
  poolAll: boolean;
  poolIds: string[];
  stateRouting: (typeof STATE_ROUTINGS)[number];
  staticOptional: boolean;
  mode: 'push' | 'stock';
  slaMinutes: string;
  maxReassignments: string;
}

function formFrom(c: Campaign | null): FormState {
  return {
    key: c?.key ?? '',
    name: c?.name ?? '',
    recipientsPerLead: String(c?.recipientsPerLead ?? 1),
    staticIds: c?.staticRecipientIds ?? [],
    poolAll: c ? c.poolRecipientIds === null : true,
    poolIds: c?.poolRecipientIds ?? [],
    stateRouting: c?.stateRouting ?? 'prefer',
    staticOptional: c?.staticOptional ?? false,
    mode: c?.mode ?? 'push',
    slaMinutes: c?.slaMinutes?.toString() ?? '',
    maxReassignments: String(c?.maxReassignments ?? 3),
  };
}

function toBody(f: FormState): Omit<CampaignInput, 'key'> {
  return {
    name: f.name.trim() || f.key,
    recipientsPerLead: Number(f.recipientsPerLead || 1),
    staticRecipientIds: f.staticIds,
    poolRecipientIds: f.poolAll ? null : f.poolIds,
    stateRouting: f.stateRouting,
    staticOptional: f.staticOptional,
    mode: f.mode,
    slaMinutes: f.slaMinutes.trim() === '' ? null : Number(f.slaMinutes),
    maxReassignments: Number(f.maxReassignments || 0),
  };
}

export function CampaignsPage({ route }: { route: Route }) {
  const { api } = useApp();
  const campaigns = useResource(
    () => api.get<{ items: Campaign[] }>('/api/campaigns').then((r) => r.items),
    'campaigns',
  );
  const recipients = useResource(
    () => api.get<{ items: Recipient[] }>('/api/recipients').then((r) => r.items),
    'recipients',
  );
  const refresh = useThrottled(() => {
    void campaigns.reload();
    void recipients.reload();
  }, 1000);
  useLive({
    event: (e) => (e.type.startsWith('campaign.') || e.type.startsWith('recipient.')) && refresh(),
    resync: refresh,
  });

  const list = campaigns.data ?? [];
  const selectedKey = route.id ?? list[0]?.key ?? null;
  const selected = selectedKey === 'new' ? null : (list.find((c) => c.key === selectedKey) ?? null);

  return h(
    'section',
    { class: 'page' },
    h(PageHeader, {
      title: 'Campaigns',
      description:
        'How leads of each campaign are routed. Leads name their campaign in the webhook’s "campaign" field.',
      actions: h('a', { class: 'button primary', href: href('campaigns', 'new') }, 'New campaign'),
    }),
    h(ErrorNote, { error: campaigns.error ?? recipients.error }),
    h(
      'div',
      { class: 'split' },
      h(
        'nav',
        { class: 'card side-list', 'aria-label': 'Campaigns' },
        h(
          'ul',
          null,
          list.map((c) =>
            h(
              'li',
              { key: c.key },
              h(
                'a',
                {
                  href: href('campaigns', c.key),
                  class: 'side-link',
                  'aria-current': c.key === selectedKey ? 'page' : undefined,
                },
                h('span', { class: 'side-title' }, c.name),
                h(
                  'span',
                  { class: 'side-meta' },
                  `${c.key} · ${c.mode === 'stock' ? 'stock' : `k=${c.recipientsPerLead}`}`,
                ),
              ),
            ),
          ),
          !campaigns.loading && list.length === 0
            ? h('li', { class: 'muted small pad' }, 'No campaigns yet.')
            : null,
        ),
      ),
      selectedKey && (selected || selectedKey === 'new') && recipients.data
        ? h(
            'div',
            { class: 'stack campaign-work' },
            h(CampaignEditor, {
              key: selectedKey,
              campaign: selected,
              recipients: recipients.data,
              onSaved: async (key) => {
                await campaigns.reload();
                navigate(href('campaigns', key), { replace: true });
              },
            }),
          )
        : h(
            'div',
            { class: 'card muted pad' },
            campaigns.loading
              ? 'Loading…'
              : selectedKey
                ? 'Campaign not found.'
                : 'Create a campaign to start routing leads.',
          ),
    ),
  );
}

function CampaignEditor(props: {
  campaign: Campaign | null;
  recipients: Recipient[];
  onSaved: (key: string) => Promise<void>;
}) {
  const { api, features } = useApp();
  const [form, setForm] = useState(() => formFrom(props.campaign));
  // What the form was last loaded from: a change saved elsewhere replaces an untouched form only.
  const [baseline, setBaseline] = useState(() => formFrom(props.campaign));
  const [saving, setSaving] = useState(false);
  const [error, setError] = useState<Error | null>(null);
  const [saved, setSaved] = useState(false);
  const isNew = !props.campaign;
  const dirty = JSON.stringify(form) !== JSON.stringify(baseline);
  useEffect(() => {
    const fresh = formFrom(props.campaign);
    if (JSON.stringify(fresh) === JSON.stringify(baseline)) return;
    if (!dirty) setForm(fresh);
    setBaseline(fresh);
  }, [props.campaign?.updatedAt]);
  const set = <K extends keyof FormState>(key: K, value: FormState[K]) => {
    setSaved(false);
    setForm((f) => ({ ...f, [key]: value }));
  };
  const toggleIn = (key: 'staticIds' | 'poolIds', id: string, on: boolean) =>
    set(key, on ? [...form[key].filter((x) => x !== id), id] : form[key].filter((x) => x !== id));
  const issue = (field: string) => (error instanceof ApiError ? error.issueFor(field) : undefined);

  const submit = async (e: Event) => {
    e.preventDefault();
    setSaving(true);
    setError(null);
    try {
      const body = toBody(form);
      const key = form.key.trim();
      if (isNew) await api.post('/api/campaigns', { key, ...body });
      else await api.patch(`/api/campaigns/${encodeURIComponent(props.campaign!.key)}`, body);
      setSaved(true);
      await props.onSaved(isNew ? key : props.campaign!.key);
    } catch (err) {
      setError(err as Error);
    } finally {
      setSaving(false);
    }
  };

  const body = toBody(form);
  const overrides: SimulationOverrides = {
    recipientsPerLead: body.recipientsPerLead,
    staticRecipientIds: body.staticRecipientIds,
    poolRecipientIds: body.poolRecipientIds,
    stateRouting: body.stateRouting,
    staticOptional: body.staticOptional,
  };
  const editor = h(
    'form',
    { class: 'card form', onSubmit: submit, noValidate: true, 'aria-labelledby': 'campaign-title' },
    h(
      'h2',
      { id: 'campaign-title', class: 'card-title' },
      isNew ? 'New campaign' : `Rules: ${props.campaign!.name}`,
    ),
    h(
      ErrorNote,
      { error: error instanceof ApiError && error.issues.length ? null : error },
      error instanceof ApiError && error.issues.length ? 'Please fix the fields marked below.' : undefined,
    ),
    h(
      'div',
      { class: 'form-row' },
      isNew
        ? h(
            Field,
            {
              id: 'c-key',
              label: 'Key',
              hint: 'Sent by the webhook as "campaign". Letters, digits, _ . -',
              error: issue('key'),
            },
            h('input', {
              class: 'input',
              value: form.key,
              required: true,
              onInput: (e: Event) => set('key', (e.target as HTMLInputElement).value),
            }),
          )
        : null,
      h(
        Field,
        { id: 'c-name', label: 'Name', error: issue('name') },
        h('input', {
          class: 'input',
          value: form.name,
          onInput: (e: Event) => set('name', (e.target as HTMLInputElement).value),
        }),
      ),
    ),
    h(
      'div',
      { class: 'form-row' },
      h(
        Field,
        {
          id: 'c-k',
          label: 'Recipients per lead',
          hint: 'All or nothing: fewer eligible = unassigned',
          error: issue('recipientsPerLead'),
        },
        h('input', {
          class: 'input',
          type: 'number',
          min: 1,
          max: 50,
          value: form.recipientsPerLead,
          onInput: (e: Event) => set('recipientsPerLead', (e.target as HTMLInputElement).value),
        }),
      ),
      h(
        Field,
        {
          id: 'c-sla',
          label: 'SLA (minutes)',
          hint: 'Reassign if not contacted in time. Empty = never.',
          error: issue('slaMinutes'),
        },
        h('input', {
          class: 'input',
          type: 'number',
          min: 1,
          value: form.slaMinutes,
          onInput: (e: Event) => set('slaMinutes', (e.target as HTMLInputElement).value),
        }),
      ),
      h(
        Field,
        {
          id: 'c-maxr',
          label: 'Max reassignments',
          hint: 'Then the lead is stale',
          error: issue('maxReassignments'),
        },
        h('input', {
          class: 'input',
          type: 'number',
          min: 0,
          max: 100,
          value: form.maxReassignments,
          onInput: (e: Event) => set('maxReassignments', (e.target as HTMLInputElement).value),
        }),
      ),
    ),
    h(
      'div',
      { class: 'form-row' },
      h(
        'fieldset',
        { class: 'fieldset' },
        h('legend', null, 'State routing'),
        STATE_ROUTINGS.map((r) =>
          h(
            'label',
            { key: r, class: 'radio' },
            h('input', {
              type: 'radio',
              name: 'stateRouting',
              value: r,
              checked: form.stateRouting === r,
              onChange: () => set('stateRouting', r),
            }),
            h(
              'span',
              null,
              h('strong', null, r[0]!.toUpperCase() + r.slice(1)),
              h('span', { class: 'muted small block' }, ROUTING_HELP[r]),
            ),
          ),
        ),
      ),
      h(
        'fieldset',
        { class: 'fieldset' },
        h('legend', null, 'Mode'),
        h(
          'label',
          { class: 'radio' },
          h('input', {
            type: 'radio',
            name: 'mode',
            value: 'push',
            checked: form.mode === 'push',
            onChange: () => set('mode', 'push'),
          }),
          h(
            'span',
            null,
            h('strong', null, 'Push'),
            h('span', { class: 'muted small block' }, 'Assign each lead as it arrives'),
          ),
        ),
        h(
          'label',
          { class: 'radio' },
          h('input', {
            type: 'radio',
            name: 'mode',
            value: 'stock',
            checked: form.mode === 'stock',
            onChange: () => set('mode', 'stock'),
          }),
          h(
            'span',
            null,
            h('strong', null, 'Stock'),
            h('span', { class: 'muted small block' }, 'Keep leads for buyers’ orders'),
          ),
        ),
        h(
          'label',
          { class: 'check' },
          h('input', {
            type: 'checkbox',
            checked: form.staticOptional,
            onChange: (e: Event) => set('staticOptional', (e.target as HTMLInputElement).checked),
          }),
          ' Static recipients optional (skip them when not eligible)',
        ),
      ),
    ),
    h(
      'fieldset',
      { class: 'fieldset' },
      h('legend', null, 'Recipients'),
      h(
        'div',
        { class: 'radio-inline' },
        h(
          'label',
          { class: 'radio' },
          h('input', {
            type: 'radio',
            name: 'pool',
            checked: form.poolAll,
            onChange: () => set('poolAll', true),
          }),
          ' Pool: every active recipient',
        ),
        h(
          'label',
          { class: 'radio' },
          h('input', {
            type: 'radio',
            name: 'pool',
            checked: !form.poolAll,
            onChange: () => set('poolAll', false),
          }),
          ' Pool: only those ticked',
        ),
      ),
      issue('staticRecipientIds') || issue('poolRecipientIds')
        ? h('p', { class: 'field-error' }, issue('staticRecipientIds') ?? issue('poolRecipientIds'))
        : null,
      props.recipients.length === 0
        ? h('p', { class: 'muted' }, 'No recipients yet.')
        : h(
            'div',
            { class: 'table-scroll short' },
            h(
              'table',
              { class: 'table compact' },
              h(
                'thead',
                null,
                h(
                  'tr',
                  null,
                  h('th', { scope: 'col' }, 'Recipient'),
                  h('th', { scope: 'col' }, 'States'),
                  h('th', { scope: 'col', class: 'center' }, 'Static'),
                  h('th', { scope: 'col', class: 'center' }, 'In pool'),
                ),
              ),
              h(
                'tbody',
                null,
                props.recipients.map((r) =>
                  h(
                    'tr',
                    { key: r.id },
                    h('td', null, r.name, r.active ? null : h('span', { class: 'muted small' }, ' (paused)')),
                    h('td', null, r.states.length ? r.states.join(', ') : 'All'),
                    h(
                      'td',
                      { class: 'center' },
                      h('input', {
                        type: 'checkbox',
                        'aria-label': `Static: ${r.name}`,
                        checked: form.staticIds.includes(r.id),
                        onChange: (e: Event) =>
                          toggleIn('staticIds', r.id, (e.target as HTMLInputElement).checked),
                      }),
                    ),
                    h(
                      'td',
                      { class: 'center' },
                      h('input', {
                        type: 'checkbox',
                        'aria-label': `In pool: ${r.name}`,
                        checked: form.poolAll ? r.active : form.poolIds.includes(r.id),
                        disabled: form.poolAll,
                        onChange: (e: Event) =>
                          toggleIn('poolIds', r.id, (e.target as HTMLInputElement).checked),
                      }),
                    ),
                  ),
                ),
              ),
            ),
          ),
    ),
    h(
      'div',
      { class: 'button-row end' },
      saved && !dirty ? h('span', { class: 'saved', role: 'status' }, 'Saved') : null,
      !isNew
        ? h(
            'button',
            {
              type: 'button',
              class: 'button ghost',
              disabled: !dirty || saving,
              onClick: () => setForm(baseline),
            },
            'Discard changes',
          )
        : null,
      h(
        'button',
        { type: 'submit', class: 'button primary', disabled: saving || (!isNew && !dirty) },
        saving ? 'Saving…' : isNew ? 'Create campaign' : 'Save rules',
      ),
    ),
  );
  return h(
    Fragment,
    null,
    editor,
    props.campaign && features.has(FEATURE_ROUTES.simulate)
      ? h(Simulator, { campaign: props.campaign, overrides, edited: dirty })
      : null,
  );
}

interface SampleLead {
  state: string;
  phone: string;
}

/**
 * Runs sample leads through the rules as they stand in the editor, saved or not (the API applies them
 * as overrides inside a transaction it rolls back), against today's real counts.
 */
function Simulator({
  campaign,
  overrides,
  edited,
}: {
  campaign: Campaign;
  overrides: SimulationOverrides;
  edited: boolean;
}) {
  const { api } = useApp();
  const [leads, setLeads] = useState<SampleLead[]>([{ state: 'CA', phone: '' }]);
  const [results, setResults] = useState<SimulationResult[] | null>(null);
  const [error, setError] = useState<Error | null>(null);
  const [running, setRunning] = useState(false);
  const rulesKey = JSON.stringify(overrides);
  // Results describe the rules they were run with; other rules, other results.
  useEffect(() => setResults(null), [rulesKey, campaign.updatedAt]);

  const run = async () => {
    setRunning(true);
    setError(null);
    try {
      const body = {
        leads: leads.map((l) => ({ state: l.state, ...(l.phone.trim() ? { phone: l.phone.trim() } : {}) })),
        overrides,
      };
      const out = await api.post<{ results: SimulationResult[] }>(
        `/api/campaigns/${encodeURIComponent(campaign.key)}/simulate`,
        body,
      );
      setResults(out.results);
    } catch (e) {
      setError(e as Error);
    } finally {
      setRunning(false);
    }
  };
  const update = (i: number, patch: Partial<SampleLead>) =>
    setLeads((ls) => ls.map((l, j) => (j === i ? { ...l, ...patch } : l)));

  return h(
    'section',
    { class: 'card sim', 'aria-labelledby': 'sim-title' },
    h('h2', { id: 'sim-title', class: 'card-title' }, 'Simulate'),
    h(
      'p',
      { class: 'muted small' },
      edited ? 'Uses the rules as edited, before you save them, ' : 'Uses the saved rules ',
      'and today’s real counts. Nothing is stored or assigned.',
    ),
    h(
      'ol',
      { class: 'sim-leads' },
      leads.map((l, i) =>
        h(
          'li',
          { key: i, class: 'sim-lead' },
          h('span', { class: 'sim-index', 'aria-hidden': 'true' }, `${i + 1}`),
          h(
            'select',
            {
              class: 'select',
              'aria-label': `Lead ${i + 1} state`,
              value: l.state,
              onChange: (e: Event) => update(i, { state: (e.target as HTMLSelectElement).value }),
            },
            US_STATE_CODES.map((s) => h('option', { key: s, value: s }, s)),
          ),
          h('input', {
            class: 'input',
            type: 'tel',
            placeholder: 'Phone',
            'aria-label': `Lead ${i + 1} phone`,
            value: l.phone,
            onInput: (e: Event) => update(i, { phone: (e.target as HTMLInputElement).value }),
          }),
          h(
            'button',
            {
              type: 'button',
              class: 'icon-button',
              'aria-label': `Remove lead ${i + 1}`,
              disabled: leads.length === 1,
              onClick: () => setLeads((ls) => ls.filter((_, j) => j !== i)),
            },
            '×',
          ),
        ),
      ),
    ),
    h(
      'div',
      { class: 'button-row' },
      h(
        'button',
        {
          type: 'button',
          class: 'button ghost',
          disabled: leads.length >= 20,
          onClick: () => setLeads((ls) => [...ls, { state: ls.at(-1)?.state ?? 'CA', phone: '' }]),
        },
        'Add lead',
      ),
      h(
        'button',
        { type: 'button', class: 'button primary', disabled: running, onClick: () => void run() },
        running ? 'Simulating…' : 'Simulate',
      ),
    ),
    h(ErrorNote, { error }),
    results
      ? h(
          'ol',
          { class: 'sim-results', 'aria-label': 'Simulation results', 'aria-live': 'polite' },
          results.map((r, i) =>
            h(
              'li',
              { key: i, class: 'sim-result', 'data-outcome': r.outcome },
              h(
                'div',
                { class: 'sim-result-head' },
                h('strong', null, `Lead ${r.index + 1} · ${r.state ?? 'no state'}`),
                h(
                  'span',
                  { class: `badge ${r.outcome === 'assigned' ? 'status-assigned' : 'status-unassigned'}` },
                  r.outcome === 'assigned' ? 'Assigned' : 'Unassigned',
                ),
              ),
              r.assignments.length
                ? h(
                    'ul',
                    { class: 'sim-assignees' },
                    r.assignments.map((a) =>
                      h(
                        'li',
                        { key: a.recipientId, class: 'sim-assignee' },
                        h('span', { class: 'sim-name' }, a.name),
                        h('span', { class: 'muted small' }, ` ${reasonLabel(a.reason)}`),
                      ),
                    ),
                  )
                : h('p', { class: 'muted small' }, reasonLabel(r.reason ?? 'no_eligible_recipient')),
              r.trace?.length
                ? h(
                    'details',
                    null,
                    h('summary', null, 'Why'),
                    h(
                      'ul',
                      { class: 'trace-list' },
                      r.trace.map((t, j) =>
                        h(
                          'li',
                          { key: j },
                          h('span', null, t.name),
                          ' — ',
                          t.selected ? 'picked' : reasonLabel(t.reason),
                          h('span', { class: 'muted small' }, ` (${reasonLabel(t.tier)})`),
                        ),
                      ),
                    ),
                  )
                : null,
            ),
          ),
        )
      : null,
  );
}
