/** Helpers shared by the fault tests: queue depths, waiting for a condition, allocator worker processes. */
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export function sqsClientFor(endpoint: string): SQSClient {
  return new SQSClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
  });
}

/** Visible, in flight and delayed messages of a queue. */
export async function queueCounts(
  sqs: SQSClient,
  queueUrl: string,
): Promise<{ visible: number; inFlight: number; total: number }> {
  const { Attributes = {} } = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: [
        'ApproximateNumberOfMessages',
        'ApproximateNumberOfMessagesNotVisible',
        'ApproximateNumberOfMessagesDelayed',
      ],
    }),
  );
  const visible = Number(Attributes.ApproximateNumberOfMessages ?? 0);
  const inFlight = Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0);
  return {
    visible,
    inFlight,
    total: visible + inFlight + Number(Attributes.ApproximateNumberOfMessagesDelayed ?? 0),
  };
}

/** Polls `condition` every `everyMs` until it holds; throws naming `what` after `timeoutMs`. */
export async function waitFor(
  condition: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 60_000,
  everyMs = 100,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

const WORKER = fileURLToPath(new URL('../../bin/local/allocatorWorker.ts', import.meta.url));

/**
 * Starts `bin/local/allocatorWorker.ts` as a child process — one allocator "Lambda environment" — and
 * resolves once it polls. `env` adds to this process's environment (endpoints, queue, options).
 */
export function startAllocatorWorker(env: Record<string, string>): Promise<ChildProcess> {
  let log = '';
  const child = spawn(process.execPath, ['--import', 'tsx', WORKER], {
    env: { ...process.env, POWERTOOLS_LOG_LEVEL: 'ERROR', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stderr!.on('data', (d) => (log = (log + d.toString()).slice(-4000)));
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`allocator worker exited early (${code}): ${log}`)));
    child.stdout!.on('data', (d) => {
      if (d.toString().includes('ready')) resolve(child);
    });
  });
}

/** Ends a worker (SIGKILL: no chance to finish or delete anything) and waits for it to be gone. */
export function killWorker(child: ChildProcess, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.removeAllListeners('exit');
    child.once('exit', () => resolve());
    child.kill(signal);
  });
}
