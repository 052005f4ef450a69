/**
 * `npm run bench` (full) and `npm run bench -- --quick` (CI-sized, under three minutes): every
 * measurement of issue 8 in one run on one machine, because on a noisy 2-core machine only ratios taken
 * side by side mean anything. Writes `bench/results.json` (`--quick`: a file in the temp directory;
 * `--out <file>` for another path) and prints the summary table that docs/benchmarks.md shows.
 *
 * Timeline:
 *  1. PostgreSQL: the server in DATABASE_URL, else an embedded one with durable settings; a fresh
 *     database for the run (dropped at the end).
 *  2. The local runtime in a child process on that database (it applies the migrations).
 *  3. In this process, through the product's pool: ceiling, allocator per-lead and batched, baseline.
 *  4. Pipeline against the runtime (per-lead allocator), then against a runtime restarted with
 *     ALLOCATOR_MODE=batched, which then also serves the next steps.
 *  5. Scale: allocator on the near-empty tables, bulk insert, lead list/detail over HTTP, allocator again.
 *  6. CSV import, if the endpoint is there.
 */
import './env.js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { resetClients } from '../functions/clients.js';
import { resetConfig } from '../functions/config.js';
import { measureAllocator, type AllocatorRun } from './allocator.js';
import { measureBaseline, prepareBaseline, type BaselineRun } from './baseline.js';
import { measureCeiling, prepareCeiling, type CeilingRun } from './ceiling.js';
import { benchClient, openBenchDatabase } from './database.js';
import { createRealisticSet } from './dataset.js';
import { MAX_WORKERS } from './env.js';
import { measureImport } from './importCsv.js';
import { summarizeCpuProfiles } from './cpuProfile.js';
import { describeMachine } from './machine.js';
import { maxSustained, runPipeline, SUSTAINED_P99_MS } from './pipeline.js';
import { summaryTable, type Results, type Target } from './report.js';
import { startRuntimeChild, type RuntimeChild } from './runtimeChild.js';
import { bulkInsertLeads, measureHttp } from './scale.js';
import { ratio } from './stats.js';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const outArg = args.indexOf('--out');
// `--only ceiling,allocator,baseline` (any subset of those three): run just those in-process steps and
// write their numbers (no pipeline, scale or import; no summary table).
const onlyArg = args.indexOf('--only');
const IN_PROCESS_STEPS = ['ceiling', 'allocator', 'baseline'] as const;
const only = onlyArg >= 0 ? new Set(args[onlyArg + 1]!.split(',')) : null;
if (only && [...only].some((s) => !(IN_PROCESS_STEPS as readonly string[]).includes(s)))
  throw new Error(`--only takes a comma-separated subset of ${IN_PROCESS_STEPS.join(', ')}`);
const runs = (step: (typeof IN_PROCESS_STEPS)[number]) => !only || only.has(step);
const HERE = path.dirname(fileURLToPath(import.meta.url));
// A quick run is a check, not the record: it writes outside the repository unless told otherwise.
const out =
  outArg >= 0
    ? path.resolve(args[outArg + 1]!)
    : quick
      ? path.join(os.tmpdir(), 'leadrouter-bench-results.quick.json')
      : path.join(HERE, 'results.json');

const SIZES = quick
  ? {
      ceilingTx: 500,
      allocatorLeads: 100,
      baselineLeads: 200,
      pipelineSeconds: { 50: 2, 200: 1 } as Record<number, number>,
      ramp: [],
      rampDown: [],
      rampSeconds: 2,
      scaleLeads: 20_000,
      httpRequests: 30,
      scaleAllocatorLeads: 100,
      importRows: 0,
      importProbeRows: 200,
    }
  : {
      ceilingTx: 4000,
      allocatorLeads: 2000,
      baselineLeads: 2000,
      pipelineSeconds: { 50: 20, 200: 20 } as Record<number, number>,
      ramp: [300, 400, 500, 600, 800, 1000],
      rampDown: [40, 25, 10, 5],
      rampSeconds: 15,
      scaleLeads: 1_000_000,
      httpRequests: 300,
      scaleAllocatorLeads: 2000,
      importRows: 100_000,
      importProbeRows: 500,
    };
// `--leads <n>`: leads per allocator and baseline run instead of the mode's default.
const leadsArg = args.indexOf('--leads');
if (leadsArg >= 0) SIZES.allocatorLeads = SIZES.baselineLeads = Number(args[leadsArg + 1]);
const WORKERS = [1, 8, MAX_WORKERS];

const started = Date.now();
const log = (m: string) =>
  process.stderr.write(`[bench ${((Date.now() - started) / 1000).toFixed(0).padStart(4)}s] ${m}\n`);

const machine = describeMachine();
log(`${quick ? 'quick' : 'full'} run on ${machine.nproc} × ${machine.cpuModel}, node ${machine.node}`);
const externalDatabase = Boolean(process.env.DATABASE_URL);
const database = await openBenchDatabase(log);
let runtime: RuntimeChild | undefined;
// The first runtime (per-lead allocator) is CPU-profiled: its busy time is almost all the pipeline.
const profileDir = mkdtempSync(path.join(os.tmpdir(), 'leadrouter-bench-cpu-'));
const client = await (async () => {
  runtime = await startRuntimeChild({ databaseUrl: database.url, cpuProfileDir: profileDir, log });
  return benchClient(database.url);
})();

const cleanUp = async () => {
  await client.end().catch(() => undefined);
  await resetClients();
  await runtime?.stop().catch(() => undefined);
  await database.close();
};
// Ctrl-C mid-run still stops the runtime and PostgreSQL and drops the bench database.
for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.once(signal, () => {
    log(`${signal}: stopping`);
    void cleanUp().finally(() => process.exit(130));
  });

try {
  // In-process phases use the product's own pool and transactions against the bench database.
  process.env.DATABASE_URL = database.url;
  resetConfig();
  await resetClients();

  const ceiling: Record<string, CeilingRun> = {};
  if (runs('ceiling')) log('ceiling');
  if (runs('ceiling')) await prepareCeiling(client, MAX_WORKERS);
  for (const w of runs('ceiling') ? WORKERS : []) {
    ceiling[`c${w}`] = await measureCeiling(w, SIZES.ceilingTx);
    log(`  ${w} workers: ${ceiling[`c${w}`]!.tps} tx/s`);
  }

  const perLead: Record<string, AllocatorRun> = {};
  const batched: Record<string, AllocatorRun> = {};
  if (runs('allocator')) log('allocator');
  for (const w of runs('allocator') ? WORKERS : []) {
    perLead[`c${w}`] = await measureAllocator(client, {
      mode: 'perLead',
      workers: w,
      leads: SIZES.allocatorLeads,
    });
    log(
      `  per-lead, ${w} workers: ${perLead[`c${w}`]!.tps} leads/s, ${perLead[`c${w}`]!.roundTripsPerLead} round trips/lead, invariants ${perLead[`c${w}`]!.invariants.ok}`,
    );
  }
  for (const w of runs('allocator') ? WORKERS : []) {
    batched[`c${w}`] = await measureAllocator(client, {
      mode: 'batched',
      workers: w,
      leads: SIZES.allocatorLeads,
    });
    log(
      `  batched, ${w} workers: ${batched[`c${w}`]!.tps} leads/s, ${batched[`c${w}`]!.roundTripsPerLead} round trips/lead, invariants ${batched[`c${w}`]!.invariants.ok}`,
    );
  }

  const baseline: Record<string, BaselineRun> = {};
  if (runs('baseline')) {
    log('baseline');
    await prepareBaseline(client);
  }
  for (const w of runs('baseline') ? WORKERS : []) {
    baseline[`c${w}`] = await measureBaseline(client, w, SIZES.baselineLeads);
    log(`  ${w} workers: ${baseline[`c${w}`]!.tps} leads/s`);
  }

  if (only) {
    const partial = {
      generatedAt: new Date().toISOString(),
      command: `npx tsx bench/run.ts${quick ? ' --quick' : ''} --only ${[...only].join(',')}`,
      durationSeconds: Math.round((Date.now() - started) / 1000),
      machine: { ...machine, loadAverageAtEnd: os.loadavg().map((v) => Math.round(v * 100) / 100) },
      ceiling,
      allocator: { perLead, batched },
      baseline,
    };
    writeFileSync(out, JSON.stringify(partial, null, 2) + '\n');
    log(`wrote ${path.relative(process.cwd(), out)} after ${partial.durationSeconds} s`);
    const rows = [
      ...Object.entries(ceiling).map(([c, r]) => [
        'ceiling',
        c,
        r.tps,
        r.latency.p50Ms,
        r.latency.p99Ms,
        '',
        '',
      ]),
      ...Object.entries(perLead).map(([c, r]) => [
        'per-lead',
        c,
        r.tps,
        r.latency.p50Ms,
        r.latency.p99Ms,
        r.roundTripsPerLead,
        r.invariants.ok,
      ]),
      ...Object.entries(batched).map(([c, r]) => [
        'batched',
        c,
        r.tps,
        r.latency.p50Ms,
        r.latency.p99Ms,
        r.roundTripsPerLead,
        r.invariants.ok,
      ]),
      ...Object.entries(baseline).map(([c, r]) => [
        'baseline',
        c,
        r.tps,
        r.latency.p50Ms,
        r.latency.p99Ms,
        '',
        '',
      ]),
    ];
    process.stdout.write(
      [
        '| step | workers | per s | p50 ms | p99 ms | round trips/lead | invariants |',
        '|---|---|---:|---:|---:|---:|---|',
      ]
        .concat(rows.map((r) => `| ${r.join(' | ')} |`))
        .join('\n') + '\n',
    );
    await cleanUp();
    process.exit(0);
  }

  log('pipeline');
  const pipelineSet = await createRealisticSet({ orgId: runtime!.orgId, expectedLeads: 0, caps: false });
  const plan = {
    seconds: SIZES.pipelineSeconds,
    ramp: SIZES.ramp,
    rampDown: SIZES.rampDown,
    rampSeconds: SIZES.rampSeconds,
  };
  const pipelinePerLead = await runPipeline(runtime!, pipelineSet, plan, 'per-lead', log);
  await runtime!.stop();
  const runtimeCpu = summarizeCpuProfiles(profileDir);
  rmSync(profileDir, { recursive: true, force: true });
  runtime = await startRuntimeChild({ databaseUrl: database.url, allocatorMode: 'batched', log });
  const pipelineBatched = await runPipeline(runtime, pipelineSet, plan, 'batched', log);

  log('scale');
  const allocatorAt = async () => {
    const p = await measureAllocator(client, {
      mode: 'perLead',
      workers: 8,
      leads: SIZES.scaleAllocatorLeads,
    });
    const b = await measureAllocator(client, {
      mode: 'batched',
      workers: 8,
      leads: SIZES.scaleAllocatorLeads,
    });
    return { p, b };
  };
  const empty = await allocatorAt();
  log(`  allocator before: per-lead ${empty.p.tps}/s, batched ${empty.b.tps}/s`);
  const inserted = await bulkInsertLeads(client, runtime, pipelineSet, SIZES.scaleLeads, log);
  log(`  inserted ${SIZES.scaleLeads} leads in ${inserted.seconds} s`);
  const shapes = await measureHttp(client, runtime, pipelineSet, SIZES.httpRequests, 50);
  for (const s of shapes) log(`  ${s.name}: p50 ${s.latency.p50Ms} ms, p99 ${s.latency.p99Ms} ms`);
  const atScale = await allocatorAt();
  log(`  allocator after: per-lead ${atScale.p.tps}/s, batched ${atScale.b.tps}/s`);

  log('import');
  const imported = await measureImport(runtime, {
    rows: SIZES.importRows,
    probeRows: SIZES.importProbeRows,
    campaign: pipelineSet.campaigns.k1,
  });
  log(
    `  ${imported.available ? `probe ${imported.probe?.rowsPerSec} rows/s; ${imported.rows} rows: ${imported.rowsPerSec ?? '—'} rows/s, peak RSS ${imported.peakRssMiB} MiB${imported.note ? ` (${imported.note})` : ''}` : imported.note}`,
  );

  const lists = shapes.filter((s) => s.path.startsWith('/api/leads?'));
  const leadsListP99Ms = Math.max(...lists.map((s) => s.latency.p99Ms ?? 0));
  const leadDetailP99Ms = shapes.find((s) => s.name === 'lead detail')!.latency.p99Ms;
  const at200 = pipelinePerLead.find((s) => s.offeredPerSec === 200)!;
  const change = (before: number, after: number) => Math.round(((after - before) / before) * 1000) / 1000;
  const allInvariants = [...Object.values(perLead), ...Object.values(batched)].every((r) => r.invariants.ok);
  const scaleInvariants = [empty.p, empty.b, atScale.p, atScale.b].every((r) => r.invariants.ok);
  const ratios = {
    perLeadC8VsCeilingC8: ratio(perLead.c8!.tps, ceiling.c8!.tps),
    batchedC8VsCeilingC8: ratio(batched.c8!.tps, ceiling.c8!.tps),
    batchedC8VsBaselineC8: ratio(batched.c8!.tps, baseline.c8!.tps),
    perLeadC8VsBaselineC8: ratio(perLead.c8!.tps, baseline.c8!.tps),
    bestBatchedVsCeilingC8: ratio(Math.max(...Object.values(batched).map((r) => r.tps)), ceiling.c8!.tps),
  };
  const targets: Target[] = [
    {
      name: 'per-lead allocator, 8 workers, vs ceiling',
      target: '≥ 0.70×',
      measured: `${ratios.perLeadC8VsCeilingC8}×`,
      met: (ratios.perLeadC8VsCeilingC8 ?? 0) >= 0.7,
    },
    {
      name: 'batched vs ceiling (8 workers)',
      target: '≥ 5×',
      measured: `${ratios.batchedC8VsCeilingC8}×`,
      met: (ratios.batchedC8VsCeilingC8 ?? 0) >= 5,
    },
    {
      name: 'batched vs baseline (8 workers)',
      target: '≥ 3×',
      measured: `${ratios.batchedC8VsBaselineC8}×`,
      met: (ratios.batchedC8VsBaselineC8 ?? 0) >= 3,
    },
    {
      name: 'pipeline p99 at 200 leads/s',
      target: `< ${SUSTAINED_P99_MS} ms`,
      measured: `${at200.latency.p99Ms} ms`,
      met: (at200.latency.p99Ms ?? Infinity) < SUSTAINED_P99_MS && at200.delivered === at200.sent,
    },
    {
      name: `lead list p99 at ${SIZES.scaleLeads.toLocaleString('en-US')} leads`,
      target: '< 50 ms',
      measured: `${leadsListP99Ms} ms`,
      met: leadsListP99Ms < 50,
    },
    {
      name: 'allocator at scale vs empty (per-lead, batched)',
      target: 'within 20 %',
      measured: `${Math.round(change(empty.p.tps, atScale.p.tps) * 100)} %, ${Math.round(change(empty.b.tps, atScale.b.tps) * 100)} %`,
      met: change(empty.p.tps, atScale.p.tps) >= -0.2 && change(empty.b.tps, atScale.b.tps) >= -0.2,
    },
    {
      name: `CSV import, ${SIZES.importRows.toLocaleString('en-US')} rows (probe: ${SIZES.importProbeRows})`,
      target: '100,000 rows < 60 s (≥ 1,667 rows/s), peak RSS < 300 MB',
      measured: !imported.available
        ? 'endpoint not available'
        : `probe ${imported.probe?.rowsPerSec} rows/s` +
          (imported.rows > 0
            ? `; ${imported.rows} rows: ${imported.response && (imported.response as { status: number }).status} after ${imported.seconds} s, peak RSS ${imported.peakRssMiB} MiB`
            : ''),
      met: !imported.available
        ? null
        : imported.rows > 0
          ? imported.rowsPerSec !== null &&
            (imported.seconds ?? Infinity) < 60 &&
            (imported.peakRssMiB ?? Infinity) < 286
          : (imported.probe?.rowsPerSec ?? 0) >= 1667,
    },
    {
      name: 'invariants after every allocator run',
      target: 'all hold',
      measured: String(allInvariants && scaleInvariants),
      met: allInvariants && scaleInvariants,
    },
  ];

  const results: Results = {
    generatedAt: new Date().toISOString(),
    command: `npm run bench${quick ? ' -- --quick' : ''}`,
    mode: quick ? 'quick' : 'full',
    durationSeconds: Math.round((Date.now() - started) / 1000),
    machine: { ...machine, loadAverageAtEnd: os.loadavg().map((v) => Math.round(v * 100) / 100) },
    postgres: {
      version: database.serverVersion,
      settings: database.settings,
      external: externalDatabase,
    },
    ceilingTps: ceiling.c8!.tps,
    ceiling,
    allocator: {
      perLead,
      batched: { tps: batched.c8!.tps, ...batched },
      invariantsOk: allInvariants,
    },
    baseline: { tps: baseline.c8!.tps, ...baseline },
    ratios,
    pipeline: {
      p50Ms: at200.latency.p50Ms,
      p99Ms: at200.latency.p99Ms,
      maxSustainedPerSec: maxSustained(pipelinePerLead),
      sustainedRule: `every lead delivered, no HTTP error, ≥ 95 % of the offered rate sent, p99 < ${SUSTAINED_P99_MS} ms`,
      perLead: pipelinePerLead,
      batched: pipelineBatched,
      batchedMaxSustainedPerSec: maxSustained(pipelineBatched),
      runtimeCpu,
    },
    scale: {
      leads: SIZES.scaleLeads,
      insertSeconds: inserted.seconds,
      leadsListP99Ms,
      leadDetailP99Ms,
      shapes,
      allocator: {
        empty: { perLeadTps: empty.p.tps, batchedTps: empty.b.tps },
        atScale: { perLeadTps: atScale.p.tps, batchedTps: atScale.b.tps },
        perLeadChange: change(empty.p.tps, atScale.p.tps),
        batchedChange: change(empty.b.tps, atScale.b.tps),
        invariantsOk: scaleInvariants,
      },
    },
    import: imported,
    targets,
  };
  writeFileSync(out, JSON.stringify(results, null, 2) + '\n');
  log(`wrote ${path.relative(process.cwd(), out)} after ${results.durationSeconds} s`);
  process.stdout.write(summaryTable(results) + '\n');
} finally {
  await cleanUp();
}
