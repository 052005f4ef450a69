/**
 * Child-process entry: the local runtime (`startRuntime`, what `npm start` runs) on the bench database,
 * in a process of its own so that the load generator's work does not sit on the server's event loop.
 * Prints one JSON line with its URLs and credentials when ready; SIGTERM stops it cleanly. Over the IPC
 * channel (when the parent opened one) it answers `{ id, op }` requests: `memory` (its own
 * `process.memoryUsage()` and event-loop delay since the last ask) and `idle` (queue drained).
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { startRuntime } from '../bin/runtime.js';

const env = process.env;
const runtime = await startRuntime({
  dataDir: env.BENCH_DATA_DIR!,
  databaseUrl: env.BENCH_DATABASE_URL!,
  demo: false,
  log: (m) => process.stderr.write(`[runtime] ${m}\n`),
});
// Listening before announcing: a SIGTERM that arrived first would kill the process outright.
process.on('SIGTERM', () => {
  void runtime.stop().finally(() => process.exit(0));
});
process.stdout.write(
  JSON.stringify({
    ready: {
      url: runtime.url,
      wsUrl: runtime.wsUrl,
      orgId: runtime.orgId,
      sourceId: runtime.sourceId,
      adminToken: runtime.adminToken,
      webhookSecret: runtime.webhookSecret,
      databaseUrl: runtime.databaseUrl,
    },
  }) + '\n',
);

const loopDelay = monitorEventLoopDelay({ resolution: 10 });
loopDelay.enable();
const ops: Record<string, () => Promise<unknown>> = {
  memory: async () => {
    const answer = {
      ...process.memoryUsage(),
      loopDelayP99Ms: Math.round(loopDelay.percentile(99) / 1e5) / 10,
    };
    loopDelay.reset();
    return answer;
  },
  idle: () => runtime.idle(),
};
process.on('message', (raw) => {
  const { id, op } = raw as { id: number; op: string };
  const work = ops[op] ?? (() => Promise.reject(new Error(`unknown op ${op}`)));
  work().then(
    (result) => process.send?.({ id, result }),
    (error: unknown) => process.send?.({ id, error: (error as Error).message }),
  );
});
