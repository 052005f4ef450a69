/** The results document (`bench/results.json`) and its summary table (docs/benchmarks.md). */
import type { AllocatorRun } from './allocator.js';
import type { BaselineRun } from './baseline.js';
import type { CeilingRun } from './ceiling.js';
import type { ImportResult } from './importCsv.js';
import type { MachineDescription } from './machine.js';
import type { PipelineStep } from './pipeline.js';
import type { ShapeResult } from './scale.js';

export interface Target {
  name: string;
  target: string;
  measured: string;
  met: boolean | null;
}

export interface Results {
  generatedAt: string;
  command: string;
  mode: 'full' | 'quick';
  durationSeconds: number;
  machine: MachineDescription;
  postgres: { version: string; settings: Record<string, string>; external: boolean };
  ceilingTps: number;
  ceiling: Record<string, CeilingRun>;
  allocator: {
    perLead: Record<string, AllocatorRun>;
    batched: { tps: number } & Record<string, AllocatorRun | number>;
    invariantsOk: boolean;
  };
  baseline: { tps: number } & Record<string, BaselineRun | number>;
  ratios: Record<string, number | null>;
  pipeline: {
    p50Ms: number | null;
    p99Ms: number | null;
    maxSustainedPerSec: number | null;
    sustainedRule: string;
    perLead: PipelineStep[];
    batched: PipelineStep[];
    batchedMaxSustainedPerSec: number | null;
    /** CPU profile of the per-lead runtime process over its life (boot, idle, the per-lead pipeline). */
    runtimeCpu: { busyPercent: number; shares: { where: string; percent: number }[] };
  };
  scale: {
    leads: number;
    insertSeconds: number;
    leadsListP99Ms: number | null;
    leadDetailP99Ms: number | null;
    shapes: ShapeResult[];
    allocator: {
      empty: { perLeadTps: number; batchedTps: number };
      atScale: { perLeadTps: number; batchedTps: number };
      perLeadChange: number | null;
      batchedChange: number | null;
      invariantsOk: boolean;
    };
  };
  import: ImportResult & { rowsPerSec: number | null };
  targets: Target[];
}

const fmt = (v: number | null | undefined, unit = '') =>
  v === null || v === undefined ? '—' : `${v}${unit}`;

export function summaryTable(r: Results): string {
  const lines = [
    '| measurement | workers | leads/s | p50 ms | p99 ms | invariants |',
    '|---|---:|---:|---:|---:|---|',
  ];
  for (const [key, run] of Object.entries(r.ceiling))
    lines.push(
      `| ceiling (1-row UPDATE tx) | ${key.slice(1)} | ${run.tps} | ${fmt(run.latency.p50Ms)} | ${fmt(run.latency.p99Ms)} | |`,
    );
  for (const [key, run] of Object.entries(r.allocator.perLead))
    lines.push(
      `| allocator, per-lead tx | ${key.slice(1)} | ${run.tps} | ${fmt(run.latency.p50Ms)} | ${fmt(run.latency.p99Ms)} | ${run.invariants.ok ? 'ok' : 'FAILED'} |`,
    );
  for (const [key, run] of Object.entries(r.allocator.batched))
    if (typeof run !== 'number')
      lines.push(
        `| allocator, batched (10/tx), per batch | ${key.slice(1)} | ${run.tps} | ${fmt(run.latency.p50Ms)} | ${fmt(run.latency.p99Ms)} | ${run.invariants.ok ? 'ok' : 'FAILED'} |`,
      );
  for (const [key, run] of Object.entries(r.baseline))
    if (typeof run !== 'number')
      lines.push(
        `| baseline (seeds: pointer + all candidates FOR UPDATE) | ${key.slice(1)} | ${run.tps} | ${fmt(run.latency.p50Ms)} | ${fmt(run.latency.p99Ms)} | ${run.capsHeld && run.eachLeadOnce ? 'ok' : 'FAILED'} |`,
      );
  lines.push(
    '',
    '| pipeline (webhook → WebSocket) | offered/s | achieved/s | delivered | p50 ms | p99 ms | sustained |',
    '|---|---:|---:|---:|---:|---:|---|',
  );
  for (const [mode, steps] of [
    ['per-lead', r.pipeline.perLead],
    ['batched', r.pipeline.batched],
  ] as const)
    for (const s of steps)
      lines.push(
        `| ${mode} | ${s.offeredPerSec} | ${s.achievedPerSec} | ${s.delivered}/${s.sent} | ${fmt(s.latency.p50Ms)} | ${fmt(s.latency.p99Ms)} | ${s.sustained ? 'yes' : 'no'} |`,
      );
  lines.push(
    '',
    `| scale: ${r.scale.leads.toLocaleString('en-US')} leads, over HTTP | requests | p50 ms | p99 ms | SQL ms | SQL ms, trace read |`,
    '|---|---:|---:|---:|---:|---:|',
  );
  for (const s of r.scale.shapes)
    lines.push(
      `| \`${s.name}\` | ${s.latency.count} | ${fmt(s.latency.p50Ms)} | ${fmt(s.latency.p99Ms)} | ${fmt(s.sqlMs)} | ${fmt(s.sqlMsWithTrace)} |`,
    );
  const a = r.scale.allocator;
  lines.push(
    '',
    '| allocator vs table size (8 workers) | empty | at scale | change |',
    '|---|---:|---:|---:|',
    `| per-lead leads/s | ${a.empty.perLeadTps} | ${a.atScale.perLeadTps} | ${fmt(a.perLeadChange === null ? null : Math.round(a.perLeadChange * 100), ' %')} |`,
    `| batched leads/s | ${a.empty.batchedTps} | ${a.atScale.batchedTps} | ${fmt(a.batchedChange === null ? null : Math.round(a.batchedChange * 100), ' %')} |`,
    '',
    '| target | wanted | measured | met |',
    '|---|---|---|---|',
    ...r.targets.map(
      (t) => `| ${t.name} | ${t.target} | ${t.measured} | ${t.met === null ? 'n/a' : t.met ? 'yes' : 'no'} |`,
    ),
  );
  return lines.join('\n');
}
