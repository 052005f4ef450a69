/**
 * Inline SVG charts. Each is an image with a text summary for screen readers, and its numbers are in a
 * table under "Show data" for anyone who wants them exactly.
 */
import { h } from 'preact';
import { useLayoutEffect, useRef, useState } from 'preact/hooks';
import { formatNumber } from '../format.js';
import { Table } from './table.js';

/** The element's width in CSS pixels, so SVG text is drawn at its real size instead of being stretched. */
function useWidth<T extends HTMLElement>(fallback: number) {
  const ref = useRef<T>(null);
  const [width, setWidth] = useState(fallback);
  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return;
    const measure = () => setWidth(Math.max(200, Math.floor(el.getBoundingClientRect().width)));
    measure();
    const observer = new ResizeObserver(measure);
    observer.observe(el);
    return () => observer.disconnect();
  }, []);
  return [ref, width] as const;
}

export interface Datum {
  label: string;
  value: number;
}

function DataTable({
  data,
  labelHeader,
  valueHeader,
}: {
  data: Datum[];
  labelHeader: string;
  valueHeader: string;
}) {
  return h(
    'details',
    { class: 'chart-data' },
    h('summary', null, 'Show data'),
    h(Table<Datum>, {
      columns: [labelHeader, { label: valueHeader, numeric: true }],
      rows: data,
      rowKey: (_d, i) => i, // labels repeat (14:00 yesterday and today)
      cells: (d) => [d.label, formatNumber(d.value)],
    }),
  );
}

/** The smallest "round" number (1, 2, 2.5 or 5 times a power of ten) at or above `max`. */
function niceMax(max: number): number {
  if (max <= 5) return 5;
  const magnitude = 10 ** Math.floor(Math.log10(max));
  return [1, 2, 2.5, 5, 10].map((m) => m * magnitude).find((top) => top >= max) ?? magnitude * 10;
}

/** About how wide `text` is in the axis font (11 px): the chart decides its labels' layout before drawing. */
function approxTextWidth(text: string): number {
  return text.length * 6.2;
}

/**
 * An axis label in at most two lines that fit `room` pixels: as is when it fits, else broken at the
 * space nearest its middle ("15–60 min" → "15–60", "min"), else as is (the caller then labels fewer
 * bars).
 */
export function axisLabelLines(label: string, room: number): string[] {
  if (approxTextWidth(label) <= room) return [label];
  const spaces = [...label.matchAll(/ /g)].map((m) => m.index);
  if (spaces.length === 0) return [label];
  const middle = label.length / 2;
  const at = spaces.reduce((best, i) => (Math.abs(i - middle) < Math.abs(best - middle) ? i : best));
  return [label.slice(0, at), label.slice(at + 1)];
}

/** Vertical bars over time (or any ordered categories); `tickEvery` labels every n-th bar. */
export function ColumnChart(props: {
  title: string;
  data: Datum[];
  tickEvery?: number;
  labelHeader?: string;
  valueHeader?: string;
}) {
  const { data } = props;
  const [ref, width] = useWidth<HTMLElement>(640);
  const pad = { top: 12, right: 8, bottom: 28, left: 36 };
  const max = niceMax(Math.max(0, ...data.map((d) => d.value)));
  const innerW = width - pad.left - pad.right;
  const slot = data.length ? innerW / data.length : innerW;
  const barW = Math.max(1, slot * 0.7);
  // Room for a label every ~56 px; labels wider than their room break into two lines, and where even
  // that does not fit (a phone), fewer bars are labelled rather than labels overlapping.
  let tickEvery =
    props.tickEvery ?? Math.max(1, Math.ceil(data.length / Math.max(2, Math.floor(innerW / 56))));
  const linesAt = (every: number) =>
    data.map((d, i) => (i % every === 0 ? axisLabelLines(d.label, slot * every - 6) : []));
  let labelLines = linesAt(tickEvery);
  while (
    tickEvery < data.length &&
    labelLines.some((lines) => lines.some((l) => approxTextWidth(l) > slot * tickEvery - 6))
  )
    labelLines = linesAt(++tickEvery);
  const twoLines = labelLines.some((lines) => lines.length > 1);
  if (twoLines) pad.bottom += 13;
  const height = 220 + (twoLines ? 13 : 0);
  const innerH = height - pad.top - pad.bottom;
  const total = data.reduce((a, d) => a + d.value, 0);
  const peak = data.reduce<Datum | undefined>(
    (best, d) => (!best || d.value > best.value ? d : best),
    undefined,
  );
  const summary = `${props.title}: ${formatNumber(total)} in total${peak && peak.value > 0 ? `, peak ${formatNumber(peak.value)} at ${peak.label}` : ''}.`;
  const ticks = [0, 0.5, 1].map((f) => Math.round(max * f));
  return h(
    'figure',
    { class: 'chart', ref },
    h(
      'svg',
      {
        viewBox: `0 0 ${width} ${height}`,
        width,
        height,
        role: 'img',
        'aria-label': summary,
        class: 'chart-svg',
      },
      ticks.map((t) => {
        const y = pad.top + innerH - (t / max) * innerH;
        return h(
          'g',
          { key: `t${t}` },
          h('line', { x1: pad.left, x2: width - pad.right, y1: y, y2: y, class: 'chart-grid' }),
          h('text', { x: pad.left - 6, y: y + 4, class: 'chart-axis', 'text-anchor': 'end' }, String(t)),
        );
      }),
      data.map((d, i) => {
        const barH = (d.value / max) * innerH;
        const x = pad.left + i * slot + (slot - barW) / 2;
        return h(
          'g',
          { key: i },
          h(
            'rect',
            {
              x,
              y: pad.top + innerH - barH,
              width: barW,
              height: Math.max(0, barH),
              class: 'chart-bar',
              rx: 1.5,
            },
            h('title', null, `${d.label}: ${d.value}`),
          ),
          labelLines[i]!.length
            ? h(
                'text',
                {
                  x: x + barW / 2,
                  y: height - 8 - (labelLines[i]!.length - 1) * 13,
                  class: 'chart-axis',
                  'text-anchor': 'middle',
                },
                labelLines[i]!.map((line, j) =>
                  h('tspan', { key: j, x: x + barW / 2, dy: j === 0 ? 0 : 13 }, line),
                ),
              )
            : null,
        );
      }),
    ),
    h(DataTable, {
      data,
      labelHeader: props.labelHeader ?? 'Time',
      valueHeader: props.valueHeader ?? 'Count',
    }),
  );
}

/** Horizontal bars for categories (recipients, states, statuses), largest first as given. */
export function BarList(props: {
  title: string;
  data: Datum[];
  labelHeader?: string;
  valueHeader?: string;
  empty?: string;
}) {
  const max = Math.max(1, ...props.data.map((d) => d.value));
  if (props.data.length === 0) return h('p', { class: 'muted' }, props.empty ?? 'Nothing yet.');
  return h(
    'figure',
    { class: 'chart' },
    h(
      'ul',
      { class: 'barlist', 'aria-label': props.title },
      props.data.map((d) =>
        h(
          'li',
          { key: d.label, class: 'barlist-row' },
          h('span', { class: 'barlist-label', title: d.label }, d.label),
          h(
            'span',
            { class: 'barlist-track', 'aria-hidden': 'true' },
            h('span', { class: 'barlist-fill', style: `width:${(d.value / max) * 100}%` }),
          ),
          h('span', { class: 'barlist-value' }, formatNumber(d.value)),
        ),
      ),
    ),
  );
}

/** Stages of a funnel, each bar as wide as its share of the first stage. */
export function Funnel(props: { stages: Datum[] }) {
  const first = props.stages[0]?.value ?? 0;
  return h(
    'ol',
    { class: 'funnel', 'aria-label': 'Lead funnel' },
    props.stages.map((s) => {
      const pct = first > 0 ? (s.value / first) * 100 : 0;
      return h(
        'li',
        { key: s.label, class: 'funnel-row' },
        h('span', { class: 'funnel-label' }, s.label),
        h(
          'span',
          { class: 'funnel-track', 'aria-hidden': 'true' },
          h('span', { class: 'funnel-fill', style: `width:${Math.max(pct, s.value > 0 ? 1 : 0)}%` }),
        ),
        h(
          'span',
          { class: 'funnel-value' },
          `${formatNumber(s.value)}${first > 0 ? ` · ${pct.toFixed(pct < 10 ? 1 : 0)}%` : ''}`,
        ),
      );
    }),
  );
}
