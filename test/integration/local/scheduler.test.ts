import type { ScheduledEvent } from 'aws-lambda';
import { Cron } from 'croner';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { startScheduler, toCronerSchedule, type Scheduler } from '../../../bin/local/scheduler.js';

/** The next runs croner computes for a translated expression, from a fixed instant (pure). */
function nextRuns(expression: string, from: string, count = 3): string[] {
  const schedule = toCronerSchedule(expression);
  return new Cron(schedule.pattern, { timezone: 'UTC', paused: true })
    .nextRuns(count, new Date(from))
    .filter((date) => schedule.matchesYear(date.getUTCFullYear()))
    .map((date) => date.toISOString());
}

describe('toCronerSchedule', () => {
  it('translates rates to clock-aligned patterns, with an interval when the rate does not divide', () => {
    expect(toCronerSchedule('rate(1 minute)').pattern).toBe('0 * * * * *');
    expect(toCronerSchedule('rate(10 minutes)').pattern).toBe('0 */10 * * * *');
    expect(toCronerSchedule('rate(2 hours)').pattern).toBe('0 0 */2 * * *');
    expect(toCronerSchedule('rate(1 day)').pattern).toBe('0 0 0 * * *');
    expect(toCronerSchedule('rate(7 minutes)')).toMatchObject({ pattern: '0 * * * * *', interval: 420 });
    expect(nextRuns('rate(10 minutes)', '2026-03-10T12:03:30Z')).toEqual([
      '2026-03-10T12:10:00.000Z',
      '2026-03-10T12:20:00.000Z',
      '2026-03-10T12:30:00.000Z',
    ]);
  });

  it('rejects rates EventBridge rejects', () => {
    expect(() => toCronerSchedule('rate(1 minutes)')).toThrow();
    expect(() => toCronerSchedule('rate(5 minute)')).toThrow();
    expect(() => toCronerSchedule('rate(0 minutes)')).toThrow();
    expect(() => toCronerSchedule('every 5 minutes')).toThrow();
  });

  it('translates six-field EventBridge cron: seconds added, ? as *, weekdays 1-7 from Sunday', () => {
    expect(toCronerSchedule('cron(0/5 * * * ? *)').pattern).toBe('0 0/5 * * * *');
    expect(toCronerSchedule('cron(0 9 ? * 2-6 *)').pattern).toBe('0 0 9 * * 1-5');
    expect(toCronerSchedule('cron(0 9 ? * MON-FRI *)').pattern).toBe('0 0 9 * * MON-FRI');
    expect(toCronerSchedule('cron(0 9 ? * 6#3 *)').pattern).toBe('0 0 9 * * 5#3');
    expect(toCronerSchedule('cron(0 9 ? * 6L *)').pattern).toBe('0 0 9 * * 5#L');
    expect(toCronerSchedule('cron(15 10 L * ? *)').pattern).toBe('0 15 10 L * *');

    expect(nextRuns('cron(0/5 * * * ? *)', '2026-03-10T12:03:30Z')).toEqual([
      '2026-03-10T12:05:00.000Z',
      '2026-03-10T12:10:00.000Z',
      '2026-03-10T12:15:00.000Z',
    ]);
    // 2026-03-13 is a Friday: Monday–Friday (2-6) at 09:00 UTC skips the weekend.
    expect(nextRuns('cron(0 9 ? * 2-6 *)', '2026-03-13T10:00:00Z', 2)).toEqual([
      '2026-03-16T09:00:00.000Z',
      '2026-03-17T09:00:00.000Z',
    ]);
    // Sunday is 1 in EventBridge.
    expect(nextRuns('cron(30 6 ? * 1 *)', '2026-03-10T00:00:00Z', 1)).toEqual(['2026-03-15T06:30:00.000Z']);
    expect(nextRuns('cron(0 9 ? * 6L *)', '2026-03-01T00:00:00Z', 1)).toEqual(['2026-03-27T09:00:00.000Z']);
  });

  it('checks the year field and rejects what cannot be run', () => {
    const schedule = toCronerSchedule('cron(0 0 1 1 ? 2027-2029)');
    expect([2026, 2027, 2029, 2030].map((year) => schedule.matchesYear(year))).toEqual([
      false,
      true,
      true,
      false,
    ]);
    expect(() => toCronerSchedule('cron(0 9 * * MON *)')).toThrow(/'\?'/);
    expect(() => toCronerSchedule('cron(0 9 15W * ? *)')).toThrow(/W/);
    expect(() => toCronerSchedule('cron(0 9 * * ?)')).toThrow(/6 fields/);
  });
});

describe('startScheduler', () => {
  let scheduler: Scheduler | undefined;
  afterEach(async () => {
    vi.useRealTimers();
    await scheduler?.stop();
    scheduler = undefined;
  });

  it('runNow invokes the handler with an EventBridge scheduled event and returns its result', async () => {
    const events: ScheduledEvent[] = [];
    const fixed = new Date('2026-03-10T12:00:00.123Z');
    scheduler = startScheduler(
      [
        {
          name: 'outbox',
          schedule: 'rate(1 minute)',
          handler: (event) => (events.push(event), { relayed: 3 }),
        },
      ],
      { clock: { now: () => fixed }, region: 'eu-west-1' },
    );
    await expect(scheduler.runNow('outbox')).resolves.toEqual({ relayed: 3 });
    expect(events[0]).toEqual({
      version: '0',
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      'detail-type': 'Scheduled Event',
      source: 'aws.events',
      account: '000000000000',
      time: '2026-03-10T12:00:00Z',
      region: 'eu-west-1',
      resources: ['arn:aws:events:eu-west-1:000000000000:rule/leadrouter-outbox'],
      detail: {},
    });
    await expect(scheduler.runNow('missing')).rejects.toThrow(/No scheduled job named 'missing'/);
  });

  it('never overlaps a job with itself: runNow waits, a tick is skipped', async () => {
    vi.useFakeTimers({ now: new Date('2026-03-10T12:00:59.000Z') });
    let concurrent = 0;
    let maxConcurrent = 0;
    let runs = 0;
    let release: (() => void) | undefined;
    const skipped: string[] = [];
    scheduler = startScheduler(
      [
        {
          name: 'decay',
          schedule: 'rate(1 minute)',
          handler: async () => {
            runs++;
            maxConcurrent = Math.max(maxConcurrent, ++concurrent);
            await new Promise<void>((resolve) => (release = resolve));
            concurrent--;
          },
        },
      ],
      { onSkip: (job) => skipped.push(job) },
    );

    await vi.advanceTimersByTimeAsync(1_000); // 12:01:00 tick starts a run that blocks
    expect(runs).toBe(1);
    await vi.advanceTimersByTimeAsync(60_000); // 12:02:00 tick finds it running
    expect(skipped).toEqual(['decay']);
    const manual = scheduler.runNow('decay'); // waits for the blocked run
    await vi.advanceTimersByTimeAsync(0);
    expect(runs).toBe(1);
    release!();
    await vi.advanceTimersByTimeAsync(0);
    expect(runs).toBe(2);
    release!();
    await manual;
    expect(maxConcurrent).toBe(1);

    await vi.advanceTimersByTimeAsync(60_000); // 12:03:00 runs again
    expect(runs).toBe(3);
    release!();
  });
});
