/** Small presentational pieces shared by the pages. */
import { h, type ComponentChildren } from 'preact';
import type { ApiError } from '../api.js';
import { STATUS_LABELS } from '../format.js';
import type { LeadStatus } from '../types.js';

export function StatusBadge({ status }: { status: LeadStatus }) {
  return h('span', { class: `badge status-${status}` }, STATUS_LABELS[status] ?? status);
}

/**
 * A bar for "used of allowed"; without a limit it shows `unlimited` instead. A cap filling up is a
 * warning (amber, then red); an order filling up is good news (`fillIsGood`).
 */
export function Usage(props: {
  label: string;
  used: number;
  limit: number | null;
  unlimited: string;
  fillIsGood?: boolean;
}) {
  const { used, limit } = props;
  if (limit === null) {
    return h(
      'div',
      { class: 'usage' },
      h('div', { class: 'usage-text' }, h('span', null, props.label), h('span', null, props.unlimited)),
    );
  }
  const pct = limit === 0 ? 100 : Math.min(100, Math.round((used / limit) * 100));
  const level = props.fillIsGood
    ? pct >= 100
      ? 'done'
      : 'ok'
    : pct >= 100
      ? 'full'
      : pct >= 80
        ? 'high'
        : 'ok';
  return h(
    'div',
    { class: 'usage' },
    h('div', { class: 'usage-text' }, h('span', null, props.label), h('span', null, `${used} / ${limit}`)),
    h(
      'div',
      {
        class: `bar bar-${level}`,
        role: 'progressbar',
        'aria-label': `${props.label}: ${used} of ${limit}`,
        'aria-valuemin': 0,
        'aria-valuemax': limit,
        'aria-valuenow': Math.min(used, limit),
      },
      h('div', { class: 'bar-fill', style: `width:${pct}%` }),
    ),
  );
}

export function ErrorNote({
  error,
  children,
}: {
  error?: Error | ApiError | null;
  children?: ComponentChildren;
}) {
  if (!error && !children) return null;
  return h('div', { class: 'note note-error', role: 'alert' }, children ?? error?.message);
}

export function Stat(props: {
  label: string;
  value: ComponentChildren;
  hint?: string;
  tone?: 'warn' | 'ok';
}) {
  return h(
    'div',
    { class: `stat ${props.tone ? `stat-${props.tone}` : ''}` },
    h('div', { class: 'stat-label' }, props.label),
    h('div', { class: 'stat-value' }, props.value),
    props.hint ? h('div', { class: 'stat-hint' }, props.hint) : null,
  );
}

export function PageHeader(props: { title: string; description?: string; actions?: ComponentChildren }) {
  return h(
    'div',
    { class: 'page-header' },
    h(
      'div',
      null,
      h('h1', null, props.title),
      props.description ? h('p', { class: 'muted' }, props.description) : null,
    ),
    props.actions ? h('div', { class: 'page-actions' }, props.actions) : null,
  );
}
