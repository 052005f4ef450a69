/**
 * The allocator (the `allocator` handler of `functions/registry.ts`) as a process of its own, polling
 * the lead queue like Lambda's SQS event source mapping. The fault tests run it as a child process and
 * SIGKILL it mid-batch; it is also a way to run more allocator consumers against one local stack.
 *
 *   DATABASE_URL=… SQS_ENDPOINT=… LEAD_QUEUE_URL=… LEAD_QUEUE_ARN=… tsx bin/local/allocatorWorker.ts
 *
 * Optional: `ALLOCATOR_VISIBILITY_TIMEOUT` (seconds; a killed worker's messages reappear after it),
 * `ALLOCATOR_POLLERS` (concurrent invocations, default 2), `ALLOCATOR_BATCH_SIZE` (1–10, default 10),
 * `WS_MANAGEMENT_ENDPOINT` (push events to dashboards; otherwise the outbox relay does).
 * Prints `ready` once polling; SIGTERM/SIGINT finish the invocations in flight and exit 0.
 */
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { resetClients } from '../../functions/clients.js';
import { handlers } from '../../functions/registry.js';
import { startSqsPoller, type SqsLambdaHandler } from './sqsPoller.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`Missing required environment variable ${name}`);
  return value;
}

const optionalNumber = (name: string): number | undefined =>
  process.env[name] ? Number(process.env[name]) : undefined;

// What the local runtime sets for the handlers it hosts.
process.env.LOCAL_RUNTIME ??= '1';
process.env.AWS_REGION ??= 'us-east-1';
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
required('DATABASE_URL');
const endpoint = required('SQS_ENDPOINT');
const queueUrl = required('LEAD_QUEUE_URL');
const queueArn = required('LEAD_QUEUE_ARN');

const { handler } = (await import(pathToFileURL(path.join(ROOT, handlers.allocator.entry)).href)) as {
  handler: SqsLambdaHandler;
};
const poller = startSqsPoller({
  endpoint,
  queueUrl,
  queueArn,
  handler,
  visibilityTimeout: optionalNumber('ALLOCATOR_VISIBILITY_TIMEOUT'),
  pollers: optionalNumber('ALLOCATOR_POLLERS'),
  batchSize: optionalNumber('ALLOCATOR_BATCH_SIZE'),
  waitTimeSeconds: 1,
  onError: (error) => console.error('[allocator worker]', error),
});
console.log('ready');

let stopping = false;
async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  await poller.stop();
  await resetClients();
  process.exit(0);
}
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());
