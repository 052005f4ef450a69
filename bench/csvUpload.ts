/**
 * `npx tsx bench/csvUpload.ts [--rows 100000] [--queued-only]`: one CSV upload of N rows end to end on
 * the local runtime (in this process; embedded PostgreSQL and the DynamoDB stand-in in their own
 * processes, as is fauxqs): `POST /api/leads/import`, then the import runner until the upload is
 * complete (the API answers 202 after its 15 s budget for a large file), then, unless `--queued-only`,
 * until every lead is allocated. Prints the times, this process's peak RSS (sampled every 100 ms, and
 * the kernel's maximum) and the DynamoDB stand-in's.
 *
 * `npx tsx bench/csvUpload.ts --costs [--rows 5000]`: the per-row cost of each step instead (see `costs`).
 *
 * Every row makes the same two duplicate claims as a webhook lead (externalId, phone), 50 rows per
 * TransactWriteItems, then one SQS message (10 per SendMessageBatch) and two claim marks (25 per
 * BatchWriteItem); see docs/imports.md for what each costs per row.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
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

if (args.includes('--costs')) {
  await costs(rowsArg >= 0 ? ROWS : 5_000);
  process.exit(0);
}

const dataDir = mkdtempSync(path.join(os.tmpdir(), 'leadrouter-bench-csv-'));
const rt = await startRuntime({ dataDir, ephemeral: true, demo: false });
const auth = { authorization: `Bearer ${rt.adminToken}` };
const mb = (bytes: number) => Math.round(bytes / 1024 / 1024);

/** RSS in bytes of this process's child whose command line names `dynamoProcess` (the DynamoDB stand-in). */
function dynamoChildRss(): number {
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      if (Number(/^PPid:\s+(\d+)/m.exec(status)?.[1]) !== process.pid) continue;
      if (!readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('dynamoProcess')) continue;
      return Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? 0) * 1024;
    } catch {
      // gone meanwhile
    }
  }
  return 0;
}
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
  let peakDynamo = dynamoChildRss();
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 100);
  const dynamoSampler = setInterval(() => (peakDynamo = Math.max(peakDynamo, dynamoChildRss())), 500);
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
  clearInterval(dynamoSampler);
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
      dynamoChildPeakRssMiB: mb(peakDynamo),
      loadAverage: os.loadavg().map((l) => +l.toFixed(1)),
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

/**
 * `--costs`: the per-row cost of each step of an upload, measured side by side in one run on the local
 * stand-ins (no PostgreSQL, no allocator): wall time and CPU time of this process and of the DynamoDB
 * stand-in's process, per row. Run with the stand-in in a child process (the default) and in process.
 */
async function costs(rows: number): Promise<void> {
  const { Readable } = await import('node:stream');
  const pMap = (await import('p-map')).default;
  const { v7: uuidv7 } = await import('uuid');
  const { ensureTables, startDynamo } = await import('../bin/local/dynamo.js');
  const { ensureLeadQueues, startSqs } = await import('../bin/local/sqs.js');
  const { resetClients } = await import('../functions/clients.js');
  const { resetConfig } = await import('../functions/config.js');
  const { claimLeadKey, externalIdKey, phoneKey } = await import('../functions/adapters/dynamo/keys.js');
  const { claimKeysTogether, markClaimsQueued } = await import('../functions/adapters/dynamo/claimsBatch.js');
  const { sendLeadMessageBatch } = await import('../functions/adapters/sqs/leadQueueBatch.js');
  const { parseCsvRows } = await import('../functions/adapters/sheets/csvUrl.js');
  await import('../functions/usecases/csvUpload.js');
  const { ingestLeadBatch, mapRow, rowMapping } = await import('../functions/usecases/imports.js');

  const header = 'first_name,last_name,phone,email,state,zip';
  const csvOf = (offset: number) => {
    const lines = [header];
    for (let i = 0; i < rows; i++) {
      const n = offset + i;
      lines.push(
        `First${i},Last${i},(628) ${String(n).slice(0, 3)}-${String(n).slice(3)},p${n}@example.com,CA,94110`,
      );
    }
    return Buffer.from(lines.join('\n'));
  };
  const orgId = '00000000-0000-4000-8000-0000000000c5';
  const source = { orgId, sourceId: uuidv7(), fieldMap: {}, defaultCampaign: 'default' };
  const cpuMs = (u: NodeJS.CpuUsage) => (u.user + u.system) / 1000;
  const childCpuMs = (pid?: number) => {
    if (!pid) return 0;
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime + stime, 100 ticks/s
  };

  for (const inProcess of [false, true]) {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'leadrouter-bench-costs-'));
    const dynamo = await startDynamo({ dataDir, inProcess });
    await ensureTables(dynamo.endpoint);
    const sqs = await startSqs({ inProcess: true }); // as in docs/imports.md's table: the queue's cost counts in this process;
    const queues = await ensureLeadQueues(sqs.endpoint);
    Object.assign(process.env, {
      DYNAMODB_ENDPOINT: dynamo.endpoint,
      SQS_ENDPOINT: sqs.endpoint,
      LEAD_QUEUE_URL: queues.queueUrl,
    });
    resetConfig();
    await resetClients();
    const steps: Record<string, Record<string, number>> = {};
    const measure = async (name: string, work: () => Promise<unknown>) => {
      const wall = performance.now();
      const cpu = process.cpuUsage();
      const child = childCpuMs(dynamo.pid);
      await work();
      steps[name] = {
        wallMsPerRow: +((performance.now() - wall) / rows).toFixed(3),
        cpuMsPerRow: +(cpuMs(process.cpuUsage(cpu)) / rows).toFixed(3),
        standInCpuMsPerRow: +((childCpuMs(dynamo.pid) - child) / rows).toFixed(3),
      };
    };

    // Leads as an upload makes them: parsed, mapped and normalised.
    const leads: ReturnType<typeof mapRow>[] = [];
    await measure('parse + normalise (csv-parse, mapRow)', async () => {
      let mapping: ReturnType<typeof rowMapping> | undefined;
      for await (const row of parseCsvRows(Readable.from([csvOf(2_000_000)]))) {
        if (!mapping) mapping = rowMapping(row.cells, {}, 'default');
        else leads.push(mapRow(mapping, row.cells));
      }
    });
    const good = leads.flatMap((l) => (l.kind === 'lead' ? [l.lead] : []));
    const now = new Date();
    const message = (i: number) => JSON.stringify({ type: 'lead', leadId: `lead-${i}`, lead: good[i] });
    await measure('claims, one conditional PutItem per key (2 per row, 32 in flight)', () =>
      pMap(
        good,
        async (lead, i) => {
          await claimLeadKey({
            pk: externalIdKey(source.sourceId, `a${lead.externalId!}`),
            leadId: `a${i}`,
            message: message(i),
            now,
          });
          await claimLeadKey({
            pk: phoneKey(`a${orgId}`, lead.phone),
            leadId: `a${i}`,
            message: message(i),
            now,
            ttlSeconds: 86_400,
          });
        },
        { concurrency: 32 },
      ),
    );
    const groups: (typeof good)[] = [];
    for (let i = 0; i < good.length; i += 50) groups.push(good.slice(i, i + 50));
    await measure('claims, TransactWriteItems (50 rows = 100 keys per request, 4 in flight)', () =>
      pMap(
        groups,
        (group, g) =>
          claimKeysTogether(
            group.flatMap((lead, j) => [
              {
                pk: externalIdKey(source.sourceId, `b${lead.externalId!}`),
                leadId: `b${g}-${j}`,
                message: message(j),
              },
              {
                pk: phoneKey(`b${orgId}`, lead.phone),
                leadId: `b${g}-${j}`,
                message: message(j),
                ttlSeconds: 86_400,
              },
            ]),
            now,
          ),
        { concurrency: 4 },
      ),
    );
    await measure('mark claims queued, BatchWriteItem (2 per row, 25 per request)', () =>
      markClaimsQueued(
        good.flatMap((lead, i) => [
          { pk: externalIdKey(source.sourceId, `b${lead.externalId!}`), leadId: `b${i}`, createdAt: 1 },
          { pk: phoneKey(`b${orgId}`, lead.phone), leadId: `b${i}`, createdAt: 1, expiresAt: 2 },
        ]),
      ),
    );
    const batches: (typeof good)[] = [];
    for (let i = 0; i < good.length; i += 10) batches.push(good.slice(i, i + 10));
    await measure('queue, SendMessageBatch (10 per request, 8 in flight)', () =>
      pMap(
        batches,
        (batch) =>
          sendLeadMessageBatch(
            batch.map((lead) => {
              const leadId = uuidv7();
              return {
                message: {
                  type: 'lead' as const,
                  orgId,
                  sourceId: source.sourceId,
                  leadId,
                  receivedAt: now.toISOString(),
                  lead,
                },
                groupPhone: lead.phone,
              };
            }),
          ),
        { concurrency: 8 },
      ),
    );
    // The whole intake of fresh leads, 500 at a time as an upload does it (claims, queue, marks).
    const fresh = [];
    for await (const row of parseCsvRows(Readable.from([csvOf(3_000_000)])))
      if (row.rowNumber > 1) fresh.push(row.cells);
    const mapping = rowMapping(header.split(','), {}, 'default');
    const freshLeads = fresh.flatMap((cells) => {
      const m = mapRow(mapping, cells);
      return m.kind === 'lead' ? [m.lead] : [];
    });
    await measure('ingestLeadBatch, 500-row windows (all of the above but parsing)', async () => {
      for (let i = 0; i < freshLeads.length; i += 500)
        await ingestLeadBatch(source, freshLeads.slice(i, i + 500), { externalIdIsThisRow: false });
    });
    console.log(
      JSON.stringify({ standIn: inProcess ? 'in process' : 'child process', rows, steps }, null, 1),
    );
    await dynamo.stop();
    await sqs.stop();
    await resetClients();
    rmSync(dataDir, { recursive: true, force: true });
  }
  console.log(JSON.stringify({ loadAverage: os.loadavg().map((l) => +l.toFixed(1)) }));
}
