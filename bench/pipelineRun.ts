/**
 * The pipeline step of `npm run bench` on its own (the full run takes 25 minutes, most of it other
 * steps): `npx tsx bench/pipelineRun.ts [--quick] [--modes per-lead,batched] [--out file]`, or fixed
 * rates without the search for the highest sustained one: `--rates 50,200 [--seconds 30]`.
 *
 * Same database setup, runtime child process, realistic set and load plan as `bench/run.ts` step 4;
 * `ALLOCATOR_CONCURRENCY` in the environment reaches the runtime (its default is 2). For each mode the
 * runtime is started fresh, measured, and stopped; the runtime's CPU profile and peak RSS are recorded
 * with the steps. Writes JSON (default: a file in the temp directory) and prints a table.
 */
import './env.js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { resetClients } from '../functions/clients.js';
import { resetConfig } from '../functions/config.js';
import { summarizeCpuProfiles } from './cpuProfile.js';
import { benchClient, openBenchDatabase } from './database.js';
import { createRealisticSet } from './dataset.js';
import { describeMachine } from './machine.js';
import {
  Dashboard,
  maxSustained,
  offeredLoad,
  runPipeline,
  type PipelinePlan,
  type PipelineStep,
} from './pipeline.js';
import { startRuntimeChild, type RuntimeChild } from './runtimeChild.js';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    modes: { type: 'string', default: 'per-lead,batched' },
    rates: { type: 'string' },
    seconds: { type: 'string', default: '20' },
    out: { type: 'string' },
  },
});
const MODES = ['per-lead', 'batched'] as const;
type Mode = (typeof MODES)[number];
const modes = values.modes.split(',') as Mode[];
if (modes.some((m) => !MODES.includes(m))) throw new Error(`--modes takes a subset of ${MODES.join(',')}`);
const rates = values.rates?.split(',').map(Number);
const fixedSeconds = Number(values.seconds);
if (rates?.some((r) => !(r > 0)) || !(fixedSeconds > 0))
  throw new Error('--rates takes leads per second, comma-separated; --seconds a positive number');
const out = path.resolve(values.out ?? path.join(os.tmpdir(), 'leadrouter-bench-pipeline.json'));
// The plan of bench/run.ts (full and --quick).
const plan: PipelinePlan = values.quick
  ? { seconds: { 50: 2, 200: 1 }, ramp: [], rampDown: [], rampSeconds: 2 }
  : {
      seconds: { 50: 20, 200: 20 },
      ramp: [300, 400, 500, 600, 800, 1000],
      rampDown: [40, 25, 10, 5],
      rampSeconds: 15,
    };

async function fixedRates(
  rt: RuntimeChild,
  set: Awaited<ReturnType<typeof createRealisticSet>>,
  list: number[],
  mode: string,
): Promise<PipelineStep[]> {
  const dashboard = await Dashboard.connect(rt);
  const steps: PipelineStep[] = [];
  try {
    for (const rate of list) {
      const step = await offeredLoad(rt, dashboard, set, rate, fixedSeconds);
      steps.push(step);
      log(
        `  ${mode} ${rate}/s: p50 ${step.latency.p50Ms} ms, p99 ${step.latency.p99Ms} ms, ${step.delivered}/${step.sent}`,
      );
    }
  } finally {
    dashboard.close();
  }
  return steps;
}

const started = Date.now();
const log = (m: string) =>
  process.stderr.write(`[pipeline ${((Date.now() - started) / 1000).toFixed(0).padStart(4)}s] ${m}\n`);
const machine = describeMachine();
log(`${machine.nproc} × ${machine.cpuModel}, node ${machine.node}, load ${os.loadavg()[0]!.toFixed(2)}`);
const database = await openBenchDatabase(log);
const client = await benchClient(database.url);
let runtime: RuntimeChild | undefined;
const cleanUp = async () => {
  await client.end().catch(() => undefined);
  await resetClients();
  await runtime?.stop().catch(() => undefined);
  await database.close();
};
for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.once(signal, () => void cleanUp().finally(() => process.exit(130)));

try {
  process.env.DATABASE_URL = database.url;
  resetConfig();
  await resetClients();
  const results: Record<string, unknown> = {};
  let set: Awaited<ReturnType<typeof createRealisticSet>> | undefined;
  for (const mode of modes) {
    const profileDir = mkdtempSync(path.join(os.tmpdir(), 'leadrouter-bench-cpu-'));
    runtime = await startRuntimeChild({
      databaseUrl: database.url,
      allocatorMode: mode,
      cpuProfileDir: profileDir,
      log,
    });
    set ??= await createRealisticSet({ orgId: runtime.orgId, expectedLeads: 0, caps: false });
    runtime.resetPeakRss();
    const rssBefore = runtime.rssMiB();
    const cpuBefore = runtime.cpuMs();
    const steps: PipelineStep[] = rates
      ? await fixedRates(runtime, set, rates, mode)
      : await runPipeline(runtime, set, plan, mode, log);
    const peakRssMiB = runtime.peakRssMiB();
    // The runtime's CPU per lead offered: a figure the machine's load stretches less than latency does.
    const leads = steps.reduce((n, step) => n + step.sent, 0);
    const cpuMsPerLead = Math.round(((runtime.cpuMs() - cpuBefore) / Math.max(leads, 1)) * 100) / 100;
    log(`  ${mode}: runtime CPU ${cpuMsPerLead} ms per lead over ${leads} leads`);
    await runtime.stop();
    runtime = undefined;
    results[mode] = {
      steps,
      maxSustainedPerSec: maxSustained(steps),
      rssMiB: { before: rssBefore, peak: peakRssMiB },
      runtimeCpuMsPerLead: cpuMsPerLead,
      runtimeCpu: summarizeCpuProfiles(profileDir),
    };
    rmSync(profileDir, { recursive: true, force: true });
  }
  const report = {
    generatedAt: new Date().toISOString(),
    command: `npx tsx bench/pipelineRun.ts${values.quick ? ' --quick' : ''} --modes ${modes.join(',')}${rates ? ` --rates ${rates.join(',')} --seconds ${fixedSeconds}` : ''}`,
    allocatorConcurrency: process.env.ALLOCATOR_CONCURRENCY ?? '2 (default)',
    durationSeconds: Math.round((Date.now() - started) / 1000),
    machine: { ...machine, loadAverageAtEnd: os.loadavg().map((v) => Math.round(v * 100) / 100) },
    postgres: { version: database.serverVersion, settings: database.settings },
    ...results,
  };
  writeFileSync(out, JSON.stringify(report, null, 2) + '\n');
  log(`wrote ${out}`);
  const rows = modes.flatMap((mode) =>
    (results[mode] as { steps: PipelineStep[] }).steps.map(
      (s) =>
        `| ${mode} | ${s.offeredPerSec} | ${s.achievedPerSec} | ${s.delivered}/${s.sent} | ${s.latency.p50Ms} | ${s.latency.p99Ms} | ${s.sustained ? 'yes' : 'no'} |`,
    ),
  );
  process.stdout.write(
    [
      '| pipeline (webhook → WebSocket) | offered/s | achieved/s | delivered | p50 ms | p99 ms | sustained |',
      '|---|---:|---:|---:|---:|---:|---|',
      ...rows,
    ].join('\n') + '\n',
  );
} finally {
  await cleanUp();
}
