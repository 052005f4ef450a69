/**
 * Child-process entry: the local runtime (`startRuntime`, what `npm start` runs) on the bench database,
 * in a process of its own so that the load generator's work does not sit on the server's event loop.
 * Prints one JSON line with its URLs and credentials when ready; SIGTERM stops it cleanly.
 */
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
