import { randomUUID } from 'node:crypto';
import type { Context, ScheduledEvent } from 'aws-lambda';
import { Cron } from 'croner';
import { toCronerSchedule } from './eventBridgeSchedule.js';
import { lambdaContext } from './lambdaContext.js';

export { toCronerSchedule, type CronerSchedule } from './eventBridgeSchedule.js';

export type ScheduledHandler = (event: ScheduledEvent, context: Context) => unknown;

export interface ScheduledJob {
  /** The job's name, e.g. `outbox` (the `job` of a schedule trigger in `functions/registry.ts`). */
  name: string;
  /** EventBridge expression: `rate(1 minute)`, `rate(10 minutes)`, `cron(0/5 * * * ? *)`. */
  schedule: string;
  handler: ScheduledHandler;
  /** For `getRemainingTimeInMillis()`. Default 60 s. */
  timeoutMs?: number;
}

export interface SchedulerOptions {
  /** Stamps events (`time`); tests pass a fixed clock. Ticks themselves follow real time. */
  clock?: { now(): Date };
  region?: string;
  /** A scheduled run failed (runNow rejects instead). Default: console.error. */
  onError?: (job: string, error: unknown) => void;
  /** A tick came while the previous run of the job was still going, and was skipped. */
  onSkip?: (job: string) => void;
}

export interface Scheduler {
  /**
   * Runs a job now, as `aws events put-events` or a console "test" would, and returns its result.
   * If the job is running, waits for that run to end first: a job never overlaps itself.
   */
  runNow(name: string): Promise<unknown>;
  /** Stops all timers and waits for running jobs to finish. */
  stop(): Promise<void>;
}

/**
 * EventBridge rules for the local runtime. Each job runs on its schedule (UTC) with a
 * `ScheduledEvent` like EventBridge's. A job never runs twice at once in this process: a tick that
 * finds the previous run still going is skipped, as the jobs are written to be re-run on the next
 * tick anyway (on AWS two invocations can overlap; the jobs lock in the database for that).
 */
export function startScheduler(jobs: ScheduledJob[], opts: SchedulerOptions = {}): Scheduler {
  const clock = opts.clock ?? { now: () => new Date() };
  const region = opts.region ?? process.env.AWS_REGION ?? 'us-east-1';
  const onError =
    opts.onError ?? ((job: string, error: unknown) => console.error(`[scheduler] ${job} failed:`, error));
  const running = new Map<string, Promise<unknown>>();
  const byName = new Map(jobs.map((job) => [job.name, job]));

  function run(job: ScheduledJob): Promise<unknown> {
    const event = scheduledEvent(job.name, clock.now(), region);
    const result = Promise.resolve()
      .then(() => job.handler(event, lambdaContext(job.name, { timeoutMs: job.timeoutMs ?? 60_000, region })))
      .finally(() => {
        if (running.get(job.name) === result) running.delete(job.name);
      });
    running.set(job.name, result);
    return result;
  }

  const timers = jobs.map((job) => {
    const schedule = toCronerSchedule(job.schedule);
    return new Cron(schedule.pattern, { timezone: 'UTC', interval: schedule.interval }, () => {
      if (!schedule.matchesYear(clock.now().getUTCFullYear())) return;
      if (running.has(job.name)) {
        opts.onSkip?.(job.name);
        return;
      }
      run(job).catch((error: unknown) => onError(job.name, error));
    });
  });

  return {
    async runNow(name) {
      const job = byName.get(name);
      if (!job) throw new Error(`No scheduled job named '${name}' (known: ${[...byName.keys()].join(', ')})`);
      while (running.has(name)) await running.get(name)?.catch(() => undefined);
      return run(job);
    },
    async stop() {
      for (const timer of timers) timer.stop();
      await Promise.all([...running.values()].map((run) => run.catch(() => undefined)));
    },
  };
}

/** The event EventBridge delivers for a scheduled rule (`time` without milliseconds, like AWS). */
export function scheduledEvent(job: string, at: Date, region: string): ScheduledEvent {
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    account: '000000000000',
    time: at.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    region,
    resources: [`arn:aws:events:${region}:000000000000:rule/leadrouter-${job}`],
    detail: {},
  };
}
