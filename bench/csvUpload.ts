/**
 * `npx tsx bench/csvUpload.ts [--rows 100000]`: one CSV upload of N rows end to end on the local
 * runtime (in this process, embedded PostgreSQL, dynalite, fauxqs): `POST /api/leads/import`, then the
 * import runner until the upload is complete (the API answers 202 after 20 s for a large file), then
 * until every lead is allocated. Prints the times and the process's peak RSS (sampled every 100 ms, and
 * the kernel's maximum).
 *
 * Locally the DynamoDB stand-in bounds the rate: every row makes two conditional puts (the same
 * duplicate claims as a webhook lead), which dynalite serves at a few hundred per second on a 2-core
 * machine. On AWS the same work is latency-bound and runs 32 rows at a time.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { startRuntime } from '../bin/runtime.js';

const args = process.argv.slice(2);
const rowsArg = args.indexOf('--rows');
const ROWS = rowsArg >= 0 ? Number(args[rowsArg + 1]) : 100_000;
/** `--queued-only`: stop once every row is queued (the upload job finished), without waiting for allocation. */
const QUEUED_ONLY = args.includes('--queued-only');
process.env.POWERTOOLS_LOG_LEVEL ??= 'ERROR';
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

const dataDir = mkdtempSync(path.join(os.tmpdir(), 'leadrouter-bench-csv-'));
const rt = await startRuntime({ dataDir, ephemeral: true, demo: false });
const auth = { authorization: `Bearer ${rt.adminToken}` };
const mb = (bytes: number) => Math.round(bytes / 1024 / 1024);
try {
  for (const name of ['B1', 'B2', 'B3', 'B4']) {
    await fetch(`${rt.url}/api/recipients`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ name }),
    });
  }
  const lines = ['first_name,last_name,phone,email,state,zip'];
  for (let i = 0; i < ROWS; i++) {
    const n = 2_000_000 + i;
    lines.push(
      `First${i},Last${i},(628) ${String(n).slice(0, 3)}-${String(n).slice(3)},p${n}@example.com,CA,94110`,
    );
  }
  const csv = Buffer.from(lines.join('\n'));
  lines.length = 0;

  // With `node --expose-gc` (NODE_OPTIONS=--expose-gc), also the live heap after a full collection every
  // 5 s: RSS includes garbage V8 has not collected yet and the in-process stand-ins' own data.
  const gc = (globalThis as { gc?: () => void }).gc;
  const liveHeap = () => {
    gc?.();
    return process.memoryUsage().heapUsed;
  };
  const heapBefore = liveHeap();
  const rssBefore = process.memoryUsage().rss;
  let peak = rssBefore;
  let peakLive = heapBefore;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 100);
  const gcSampler = gc ? setInterval(() => (peakLive = Math.max(peakLive, liveHeap())), 5_000) : undefined;
  const started = performance.now();
  const res = await fetch(`${rt.url}/api/leads/import?campaign=default`, {
    method: 'POST',
    headers: { ...auth, 'content-type': 'text/csv' },
    body: new Blob([new Uint8Array(csv)]),
  });
  let summary = (await res.json()) as { runId: string; complete: boolean; imported: number; badRows: number };
  const answered = performance.now();
  console.error(`answered ${res.status} after ${((answered - started) / 1000).toFixed(1)} s`);
  if (res.status !== 200 && res.status !== 202)
    throw new Error(`upload answered ${res.status}: ${JSON.stringify(summary)}`);
  while (!summary.complete) {
    await rt.runJob('imports');
    summary = (await (
      await fetch(`${rt.url}/api/leads/import/${summary.runId}`, { headers: auth })
    ).json()) as typeof summary;
  }
  const queued = performance.now();
  const peakLiveWhileQueueing = peakLive;
  const db = new pg.Client({ connectionString: rt.databaseUrl });
  await db.connect();
  for (; !QUEUED_ONLY;) {
    const { rows } = await db.query(`SELECT count(*)::int AS n FROM leads WHERE status <> 'queued'`);
    if (rows[0].n >= summary.imported) break;
    await new Promise((r) => setTimeout(r, 1000));
  }
  await db.end();
  const allocated = performance.now();
  clearInterval(sampler);
  clearInterval(gcSampler);
  const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  console.log(
    JSON.stringify({
      rows: ROWS,
      fileMiB: +(csv.length / 1024 / 1024).toFixed(1),
      httpStatus: res.status,
      httpAnswer: s(answered - started),
      allQueued: s(queued - started),
      allAllocated: s(allocated - started),
      rowsPerSecQueued: Math.round(ROWS / ((queued - started) / 1000)),
      imported: summary.imported,
      badRows: summary.badRows,
      rssBeforeMiB: mb(rssBefore),
      peakRssMiB: mb(peak),
      maxRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
      ...(gc
        ? {
            liveHeapBeforeMiB: mb(heapBefore),
            peakLiveHeapWhileQueueingMiB: mb(peakLiveWhileQueueing),
            peakLiveHeapMiB: mb(peakLive),
            liveHeapAfterMiB: mb(liveHeap()),
          }
        : {}),
    }),
  );
} finally {
  await rt.stop();
  rmSync(dataDir, { recursive: true, force: true });
}
