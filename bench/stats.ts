/** Latency summaries. Nearest-rank percentiles over the recorded samples (no interpolation, no histogram
 * buckets): with a few thousand samples per run that is exact and needs no library. */
export interface LatencySummary {
  count: number;
  p50Ms: number | null;
  p99Ms: number | null;
  maxMs: number | null;
}

export function percentile(sorted: number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1]!;
}

const round = (v: number | null) => (v === null ? null : Math.round(v * 100) / 100);

export function summarize(samplesMs: number[]): LatencySummary {
  const sorted = [...samplesMs].sort((a, b) => a - b);
  return {
    count: sorted.length,
    p50Ms: round(percentile(sorted, 50)),
    p99Ms: round(percentile(sorted, 99)),
    maxMs: round(sorted.at(-1) ?? null),
  };
}

export const ratio = (a: number | null | undefined, b: number | null | undefined): number | null =>
  a && b ? Math.round((a / b) * 100) / 100 : null;

/**
 * Runs `work` over `items` with `concurrency` workers pulling from one shared list (closed loop: a
 * worker starts its next item when the previous one finished), timing each call.
 */
export async function runWorkers<T>(
  items: T[],
  concurrency: number,
  work: (item: T, worker: number) => Promise<void>,
): Promise<{ elapsedMs: number; latenciesMs: number[] }> {
  let next = 0;
  const latenciesMs: number[] = [];
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async (_, worker) => {
      for (;;) {
        const i = next++;
        if (i >= items.length) return;
        const t = performance.now();
        await work(items[i]!, worker);
        latenciesMs.push(performance.now() - t);
      }
    }),
  );
  return { elapsedMs: performance.now() - started, latenciesMs };
}

export const perSecond = (count: number, elapsedMs: number) =>
  Math.round((count / elapsedMs) * 1000 * 10) / 10;
