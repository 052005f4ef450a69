/**
 * The whole pipeline, end to end, as a user sees it: webhook POST → ingest (DynamoDB claims) → SQS FIFO
 * → allocator → PostgreSQL commit → WebSocket push, against the local runtime in its own process, with
 * one dashboard WebSocket connected. Open-loop load: leads are sent on a fixed schedule whatever the
 * responses do, and each latency is measured from the lead's *scheduled* send time to the arrival of its
 * `lead.assigned` (or `lead.unassigned`) message, so a stalled client cannot hide queueing
 * (coordinated omission).
 */
import WebSocket from 'ws';
import { STATES, nextPhone, type RealisticSet } from './dataset.js';
import type { RuntimeInfo } from './runtimeChild.js';
import { summarize, type LatencySummary } from './stats.js';

export interface PipelineStep {
  offeredPerSec: number;
  seconds: number;
  sent: number;
  /** Send rate actually achieved by the client. */
  achievedPerSec: number;
  httpErrors: number;
  /** Answers other than 202 by status (0: the request itself failed), to tell overload from rejection. */
  errorStatuses: Record<string, number>;
  delivered: number;
  latency: LatencySummary;
  sustained: boolean;
}

/** A rate is sustained when its p99 stays under this, every lead arrives, and the client kept the rate. */
export const SUSTAINED_P99_MS = 500;
/**
 * After the last send, how long to wait for the backlog to drain. Latencies of late arrivals count (a
 * backlog is what "runs away" means); a step never leaves a backlog behind for the next one.
 */
const DRAIN_MS = 240_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class Dashboard {
  private waiting = new Map<string, number>();
  private arrived = new Map<string, number>();
  private constructor(private socket: WebSocket) {
    socket.on('message', (raw) => {
      const at = performance.now();
      const message = JSON.parse(String(raw)) as { type: string; data?: { lead?: { firstName?: string } } };
      if (message.type !== 'lead.assigned' && message.type !== 'lead.unassigned') return;
      const key = message.data?.lead?.firstName;
      if (key && this.waiting.has(key)) this.arrived.set(key, at);
    });
  }

  static async connect(rt: RuntimeInfo): Promise<Dashboard> {
    const socket = new WebSocket(`${rt.wsUrl}?token=${encodeURIComponent(rt.adminToken)}`);
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
    return new Dashboard(socket);
  }

  expect(key: string, scheduledAt: number): void {
    this.waiting.set(key, scheduledAt);
  }

  /** Latencies of the keys that arrived, and how many did. */
  collect(keys: string[]): { latencies: number[]; delivered: number } {
    const latencies: number[] = [];
    for (const key of keys) {
      const at = this.arrived.get(key);
      if (at !== undefined) latencies.push(at - this.waiting.get(key)!);
      this.waiting.delete(key);
      this.arrived.delete(key);
    }
    return { latencies, delivered: latencies.length };
  }

  /** Keys not arrived yet, leaving out `refused` ones (their webhook call did not answer 202). */
  pending(keys: string[], refused: ReadonlySet<string> = new Set()): number {
    return keys.filter((k) => !this.arrived.has(k) && !refused.has(k)).length;
  }

  close(): void {
    this.socket.close();
  }
}

let stepCounter = 0;
const sourcesLifted = new Set<string>();

/**
 * The source's rate limit (default 100 requests/s, burst 200) would answer 429 to most of a 200/s step,
 * and those leads never arrive: lift it once per runtime, so the steps measure the pipeline, not the
 * limiter (which `rateLimit.test.ts` covers).
 */
async function liftRateLimit(rt: RuntimeInfo): Promise<void> {
  if (sourcesLifted.has(rt.url)) return;
  const res = await fetch(`${rt.url}/api/sources/${rt.sourceId}`, {
    method: 'PATCH',
    headers: { authorization: `Bearer ${rt.adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ rateLimit: { perSecond: 10_000, burst: 20_000 } }),
  });
  if (!res.ok) throw new Error(`lifting the source's rate limit: ${res.status} ${await res.text()}`);
  sourcesLifted.add(rt.url);
}

export async function offeredLoad(
  rt: RuntimeInfo,
  dashboard: Dashboard,
  set: RealisticSet,
  offeredPerSec: number,
  seconds: number,
): Promise<PipelineStep> {
  await liftRateLimit(rt);
  const step = ++stepCounter;
  const count = Math.round(offeredPerSec * seconds);
  const keys: string[] = [];
  const requests: Promise<void>[] = [];
  let httpErrors = 0;
  const errorStatuses: Record<string, number> = {};
  // A lead refused at the webhook never arrives: the drain must not wait its full length for it.
  const refused = new Set<string>();
  const fail = (key: string, status: number) => {
    refused.add(key);
    httpErrors++;
    errorStatuses[status] = (errorStatuses[status] ?? 0) + 1;
  };
  const start = performance.now() + 20;
  for (let i = 0; i < count; i++) {
    const at = start + (i * 1000) / offeredPerSec;
    const wait = at - performance.now();
    if (wait > 1) await sleep(wait);
    const key = `S${step}L${i}`;
    keys.push(key);
    dashboard.expect(key, at);
    requests.push(
      fetch(`${rt.url}/webhooks/leads`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-webhook-secret': rt.webhookSecret },
        body: JSON.stringify({
          firstName: key,
          lastName: 'Bench',
          phone: nextPhone(),
          state: STATES[i % STATES.length],
          campaign: i % 2 === 0 ? set.campaigns.k3 : set.campaigns.k1,
        }),
      })
        .then(async (res) => {
          await res.arrayBuffer();
          if (res.status !== 202) fail(key, res.status);
        })
        .catch(() => fail(key, 0)),
    );
  }
  const sendSeconds = (performance.now() - start) / 1000;
  await Promise.all(requests);
  const drainUntil = performance.now() + DRAIN_MS;
  while (dashboard.pending(keys, refused) > 0 && performance.now() < drainUntil) await sleep(50);
  const { latencies, delivered } = dashboard.collect(keys);
  const latency = summarize(latencies);
  return {
    offeredPerSec,
    seconds,
    sent: count,
    achievedPerSec: Math.round((count / Math.max(sendSeconds, 0.001)) * 10) / 10,
    httpErrors,
    errorStatuses,
    delivered,
    latency,
    sustained:
      delivered === count &&
      httpErrors === 0 &&
      (latency.p99Ms ?? Infinity) < SUSTAINED_P99_MS &&
      count / sendSeconds >= offeredPerSec * 0.95,
  };
}

export interface PipelinePlan {
  /** Seconds of load at each of the headline rates (50 and 200 leads/s). */
  seconds: Record<number, number>;
  /** Rates tried after 200/s held, upwards, and after 50/s failed, downwards. */
  ramp: number[];
  rampDown: number[];
  rampSeconds: number;
}

/**
 * 50 and 200 leads/s, then the highest sustained rate: up from 200 while it holds, else down from 50
 * until one holds (or from 200 when 50 held and 200 did not: nothing to try between them).
 */
export async function runPipeline(
  rt: RuntimeInfo,
  set: RealisticSet,
  plan: PipelinePlan,
  label: string,
  log: (m: string) => void,
): Promise<PipelineStep[]> {
  const dashboard = await Dashboard.connect(rt);
  const steps: PipelineStep[] = [];
  try {
    for (const rate of [50, 200]) {
      steps.push(await offeredLoad(rt, dashboard, set, rate, plan.seconds[rate]!));
      log(
        `  ${label} ${rate}/s: p50 ${steps.at(-1)!.latency.p50Ms} ms, p99 ${steps.at(-1)!.latency.p99Ms} ms`,
      );
    }
    const up = steps.at(-1)!.sustained;
    const ramp = up ? plan.ramp : steps[0]!.sustained ? [] : plan.rampDown;
    for (const rate of ramp) {
      const step = await offeredLoad(rt, dashboard, set, rate, plan.rampSeconds);
      steps.push(step);
      log(
        `  ${label} ${rate}/s: p50 ${step.latency.p50Ms} ms, p99 ${step.latency.p99Ms} ms, ${step.delivered}/${step.sent}`,
      );
      if (step.sustained !== up) break;
    }
  } finally {
    dashboard.close();
  }
  return steps;
}

export const maxSustained = (steps: PipelineStep[]): number | null =>
  steps.filter((s) => s.sustained).reduce<number | null>((m, s) => Math.max(m ?? 0, s.offeredPerSec), null);
