/**
 * Child-process entry of the local SQS stand-in (see `startSqs` in sqs.ts): fauxqs on 127.0.0.1, in
 * its own process so that its CPU and the messages it holds are not the runtime's. Options come in
 * `LEADROUTER_SQS_OPTIONS` (JSON: `dataDir`, `port`); on stop, and when the parent is gone, it writes
 * the queue snapshot into `dataDir` (see `standInProcess.ts`).
 */
import { serveStandIn } from './standInProcess.js';
import { startSqsInProcess } from './sqs.js';

const options = JSON.parse(process.env.LEADROUTER_SQS_OPTIONS ?? '{}') as { dataDir?: string; port?: number };

serveStandIn('sqs', async () => {
  const sqs = await startSqsInProcess(options);
  return { port: Number(new URL(sqs.endpoint).port), stop: () => sqs.stop() };
});
