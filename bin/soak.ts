/**
 * Soak test: `npm run soak -- --minutes 10 [--rate 50] [--allocator-mode per-lead|batched]`.
 *
 * Boots the whole local runtime (embedded PostgreSQL with crash-safe settings, DynamoDB and SQS
 * stand-ins, the allocator poller, the WebSocket gateway, the scheduler) in a throw-away directory,
 * sends `--rate` leads per second to the webhook for `--minutes`, then waits for the queue to drain.
 * Every 10 s it samples the process's RSS and heap, the open PostgreSQL connections
 * (`pg_stat_activity`) and the open sockets of this process (`/proc/self/fd`).
 *
 * Requests are not allowed to pile up: with more than `rate × 10` answers pending, a tick's requests are
 * counted as shed instead (the product could not keep the rate). Ctrl-C stops the runtime cleanly.
 *
 * Passes (exit 0) when the rate was sustained (≤ 1 % shed), nothing was lost (every 202 is a stored, allocated lead; no 5xx; DLQ empty)
 * and the resources stayed flat: after a warm-up of the first fifth of the samples, the median of the
 * last third is within 25 % (and 64 MiB) of the median of the warm-up's end for RSS, and PostgreSQL
 * connections and sockets grow by at most 2 and 10. Prints a summary either way.
 */
import { chmodSync, mkdtempSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { startPostgres } from './local/postgres.js';
import { startRuntime } from './runtime.js';

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '10' },
    rate: { type: 'string', default: '50' },
    'sample-seconds': { type: 'string', default: '10' },
    // `batched` commits a whole SQS batch per transaction (see functions/allocator/handler.ts).
    'allocator-mode': { type: 'string', default: process.env.ALLOCATOR_MODE ?? 'per-lead' },
  },
});
process.env.ALLOCATOR_MODE = values['allocator-mode'];
const minutes = Number(values.minutes);
const rate = Number(values.rate);
const sampleMs = Number(values['sample-seconds']) * 1000;
if (!(minutes > 0) || !(rate > 0) || !(sampleMs > 0)) {
  console.error('usage: npm run soak -- --minutes <n> [--rate <leads per second>] [--sample-seconds <s>]');
  process.exit(2);
}

interface Sample {
  t: number;
  rssMiB: number;
  heapMiB: number;
  pgConnections: number;
  sockets: number;
  sent: number;
  stored: number;
}

const mib = (bytes: number) => Math.round((bytes / 1048576) * 10) / 10;
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? 0 : s[Math.floor(s.length / 2)]!;
};

/** Sockets this process holds open (Linux; elsewhere the active TCP handles). */
function openSockets(): number {
  try {
    return readdirSync('/proc/self/fd').filter((fd) => {
      try {
        return readlinkSync(`/proc/self/fd/${fd}`).startsWith('socket:');
      } catch {
        return false;
      }
    }).length;
  } catch {
    return process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap').length;
  }
}

const dataDir = mkdtempSync(path.join(os.tmpdir(), 'leadrouter-soak-'));
chmodSync(dataDir, 0o755); // the server may run as the `postgres` user
const log = (m: string) => console.log(`[soak] ${m}`);
log(`starting the runtime in ${dataDir}`);
process.env.POWERTOOLS_LOG_LEVEL ??= 'ERROR';
// Our own PostgreSQL (crash-safe settings), so that its cluster can be removed at the end.
const postgres = await startPostgres({ dataDir: path.join(dataDir, 'postgres') });
const runtime = await startRuntime({
  dataDir,
  databaseUrl: postgres.url,
  demo: false,
  relayIntervalMs: 2000,
});
const db = new pg.Client({ connectionString: runtime.databaseUrl });
db.on('error', () => undefined); // the sampler must not crash the run when the server stops
await db.connect();

async function shutdown(): Promise<void> {
  await db.end().catch(() => undefined);
  await runtime.stop();
  await postgres.stop();
  rmSync(postgres.clusterDir, { recursive: true, force: true });
  rmSync(dataDir, { recursive: true, force: true });
}
const headers = { authorization: `Bearer ${runtime.adminToken}`, 'content-type': 'application/json' };
// The load generator shares the event loop with the whole stack, so its requests arrive in bursts when
// the loop stalls; lift the source's rate limit (tested in rateLimit.test.ts) so those bursts measure
// the pipeline, not the limiter.
await fetch(`${runtime.url}/api/sources/${runtime.sourceId}`, {
  method: 'PATCH',
  headers,
  body: JSON.stringify({ rateLimit: { perSecond: 10_000, burst: 20_000 } }),
});
for (const name of ['Soak A', 'Soak B', 'Soak C', 'Soak D', 'Soak E'])
  await fetch(`${runtime.url}/api/recipients`, { method: 'POST', headers, body: JSON.stringify({ name }) });

const accepted: string[] = [];
const statuses = new Map<number, number>();
let sent = 0;
let phone = 0;
const nextPhone = () => `+1415${String(2_000_000 + phone++).padStart(7, '0')}`;

async function postLead(): Promise<void> {
  sent++;
  try {
    const res = await fetch(`${runtime.url}/webhooks/leads`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-webhook-secret': runtime.webhookSecret },
      body: JSON.stringify({ phone: nextPhone(), first_name: 'Soak', state: 'CA', utm_source: 'soak' }),
    });
    statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
    const body = (await res.json()) as { leadId?: string };
    if (res.status === 202 && body.leadId) accepted.push(body.leadId);
  } catch {
    statuses.set(0, (statuses.get(0) ?? 0) + 1);
  }
}

const samples: Sample[] = [];
const started = Date.now();
async function sample(): Promise<void> {
  const conn = await db.query(
    `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database()`,
  );
  const stored = await db.query(`SELECT count(*)::int AS n FROM leads`);
  const m = process.memoryUsage();
  const s: Sample = {
    t: Math.round((Date.now() - started) / 1000),
    rssMiB: mib(m.rss),
    heapMiB: mib(m.heapUsed),
    pgConnections: conn.rows[0].n,
    sockets: openSockets(),
    sent,
    stored: stored.rows[0].n,
  };
  samples.push(s);
  log(
    `t=${s.t}s sent=${s.sent} stored=${s.stored} rss=${s.rssMiB}MiB heap=${s.heapMiB}MiB pg=${s.pgConnections} sockets=${s.sockets}`,
  );
}

// Ctrl-C: stop the runtime (and its PostgreSQL) instead of leaving them behind.
process.once('SIGINT', () => {
  log('interrupted; stopping the runtime');
  void shutdown().finally(() => process.exit(130));
});

// Load: `rate` leads per second in ten slices. Requests that cannot be sent because a backlog of
// answers is pending (the product is slower than the rate) are counted as shed, not piled up.
const MAX_IN_FLIGHT = Math.max(100, rate * 10);
const endAt = started + minutes * 60_000;
const inFlight = new Set<Promise<void>>();
let shed = 0;
let nextSample = started;
for (let tick = 0; Date.now() < endAt; tick++) {
  const due = started + tick * 100;
  const wait = due - Date.now();
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  const n = Math.floor(((tick + 1) * rate) / 10) - Math.floor((tick * rate) / 10);
  for (let i = 0; i < n; i++) {
    if (inFlight.size >= MAX_IN_FLIGHT) {
      shed++;
      continue;
    }
    const p = postLead().finally(() => inFlight.delete(p));
    inFlight.add(p);
  }
  if (Date.now() >= nextSample) {
    nextSample += sampleMs;
    await sample();
  }
}
await Promise.all(inFlight);
log(`load done; ${sent} requests sent, ${shed} shed; waiting for the queue to drain`);
// `idle()` gives up after 30 s; a backlog may take longer.
for (let attempt = 0; ; attempt++) {
  try {
    await runtime.idle();
    break;
  } catch (error) {
    if (attempt >= 20) throw error;
  }
}
await sample();

// Zero lost: every 202 is a stored lead that went through allocation.
const stored = await db.query(
  `SELECT count(*)::int AS n FROM leads WHERE id = ANY($1::uuid[]) AND status <> 'queued'`,
  [accepted],
);
const dlq = await fetch(`${runtime.url}/api/stats`, { headers }).then(
  (r) => r.json() as Promise<{ queue: { dlq: number | null } }>,
);
const lost = accepted.length - stored.rows[0].n;
const errors5xx = [...statuses].filter(([s]) => s >= 500 || s === 0).reduce((a, [, n]) => a + n, 0);

const warm = samples.slice(Math.max(1, Math.floor(samples.length / 5)));
const head = warm.slice(0, Math.max(1, Math.floor(warm.length / 3)));
const tail = warm.slice(-Math.max(1, Math.floor(warm.length / 3)));
const growth = (k: keyof Sample) => median(tail.map((s) => s[k])) - median(head.map((s) => s[k]));
const rssBase = median(head.map((s) => s.rssMiB));
const checks = {
  [`sustained ${rate} leads/s (≤ 1 % shed)`]: shed <= (sent + shed) * 0.01,
  'zero leads lost': lost === 0,
  'no 5xx or failed requests': errors5xx === 0,
  'DLQ empty': (dlq.queue.dlq ?? 0) === 0,
  'RSS flat (≤ 25 % and ≤ 64 MiB growth)': growth('rssMiB') <= Math.min(64, rssBase * 0.25),
  'PostgreSQL connections flat (≤ +2)': growth('pgConnections') <= 2,
  'sockets flat (≤ +10)': growth('sockets') <= 10,
};

const summary = {
  minutes,
  rate,
  allocatorMode: process.env.ALLOCATOR_MODE,
  requests: sent,
  shed,
  statuses: Object.fromEntries(statuses),
  accepted: accepted.length,
  stored: stored.rows[0].n,
  lost,
  dlq: dlq.queue.dlq,
  rssMiB: {
    start: rssBase,
    end: median(tail.map((s) => s.rssMiB)),
    max: Math.max(...samples.map((s) => s.rssMiB)),
  },
  heapMiB: { start: median(head.map((s) => s.heapMiB)), end: median(tail.map((s) => s.heapMiB)) },
  pgConnections: {
    start: median(head.map((s) => s.pgConnections)),
    end: median(tail.map((s) => s.pgConnections)),
    max: Math.max(...samples.map((s) => s.pgConnections)),
  },
  sockets: {
    start: median(head.map((s) => s.sockets)),
    end: median(tail.map((s) => s.sockets)),
    max: Math.max(...samples.map((s) => s.sockets)),
  },
  checks,
};
console.log('\n[soak] summary\n' + JSON.stringify(summary, null, 2));
const passed = Object.values(checks).every(Boolean);
console.log(
  `\n[soak] ${passed ? 'PASSED' : 'FAILED'}: ${Object.values(checks).filter(Boolean).length} passed, ${Object.values(checks).filter((c) => !c).length} failed`,
);

await shutdown();
process.exit(passed ? 0 : 1);
