/** A plain data table and a time cell: the shapes every page repeats. */
import { h, type ComponentChildren } from 'preact';
import { formatFull, formatTime } from '../format.js';

export interface Column {
  label: string;
  /** Right-aligned, tabular figures. */
  numeric?: boolean;
  center?: boolean;
}

export function Table<T>(props: {
  columns: (string | Column)[];
  rows: readonly T[];
  rowKey: (row: T, index: number) => string | number;
  cells: (row: T) => ComponentChildren[];
  class?: string;
  caption?: string;
}) {
  const columns = props.columns.map((c) => (typeof c === 'string' ? { label: c } : c));
  const align = (c: Column) => (c.numeric ? 'num' : c.center ? 'center' : undefined);
  return h(
    'table',
    { class: `table ${props.class ?? 'compact'}` },
    props.caption ? h('caption', { class: 'sr-only' }, props.caption) : null,
    h(
      'thead',
      null,
      h(
        'tr',
        null,
        columns.map((c) => h('th', { key: c.label, scope: 'col', class: align(c) }, c.label)),
      ),
    ),
    h(
      'tbody',
      null,
      props.rows.map((row, i) =>
        h(
          'tr',
          { key: props.rowKey(row, i) },
          props
            .cells(row)
            .map((cell, j) => h('td', { key: j, class: align(columns[j] ?? { label: '' }) }, cell)),
        ),
      ),
    ),
  );
}

/** A timestamp as a clock (or date), with the full date and time on hover. */
export function Time({ iso }: { iso: string | null | undefined }) {
  if (!iso) return h('span', null, '—');
  return h('time', { dateTime: iso, title: formatFull(iso) }, formatTime(iso));
}
