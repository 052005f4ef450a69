import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  QueueNameExists,
  SetQueueAttributesCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { buildApp } from 'fauxqs';
import { localSqsClient } from './localSqsClient.js';
import { processInfo, waitForExit } from './processInfo.js';
import { forkStandIn } from './standInProcess.js';
import {
  restoreSnapshot,
  snapshotQueue,
  writeSnapshot,
  type InspectedQueue,
  type QueueSnapshot,
} from './sqsSnapshot.js';

/** Names as deployed by the CDK app (`LeadQueue`); FIFO keeps one org's leads in order per group. */
export const LEAD_QUEUE_NAME = 'leadrouter-leads.fifo';
export const LEAD_DLQ_NAME = 'leadrouter-leads-dlq.fifo';
/** The allocator's Lambda timeout; a message must stay invisible while its batch is processed. */
export const LEAD_QUEUE_VISIBILITY_TIMEOUT_SECONDS = 30;
/** After this many failed receives a lead goes to the DLQ, where `/api/dlq` can replay it. */
export const LEAD_QUEUE_MAX_RECEIVE_COUNT = 5;

export interface StartSqsOptions {
  /** Where the graceful-stop snapshot (`queue-snapshot.json`) lives; no snapshot without it. */
  dataDir?: string;
  /** Default: any free port. */
  port?: number;
  /**
   * Serve from this process instead of a child process (default: a child, see `sqsProcess.ts`). In
   * process, fauxqs' work (parsing, MD5 checks, the messages it holds) is the runtime's: a backlog of
   * 100,000 queued leads was ~105 MiB of the runtime's heap.
   */
  inProcess?: boolean;
}

export interface RunningSqs {
  /** `http://127.0.0.1:<port>`, for `SQS_ENDPOINT`. */
  endpoint: string;
  /** The child process serving it (undefined when in process). */
  pid?: number;
  /**
   * Snapshots every queue's messages into `<dataDir>/queue-snapshot.json` (when a dataDir was given),
   * then closes the server. Stop the pollers first (see `sqsSnapshot.ts` for what is and is not kept).
   */
  stop(): Promise<void>;
}

export interface LeadQueues {
  queueUrl: string;
  queueArn: string;
  dlqUrl: string;
  dlqArn: string;
}

const snapshotFile = (dataDir: string) => path.join(path.resolve(dataDir), 'queue-snapshot.json');

const HERE = path.dirname(fileURLToPath(import.meta.url));
/**
 * Stopping waits this long for the child to write its snapshot before killing it (100,000 queued
 * messages take a few seconds).
 */
const CHILD_STOP_MS = 60_000;

/**
 * Starts fauxqs (SQS-compatible, in memory) on 127.0.0.1 and re-sends the messages of the snapshot
 * left by the previous graceful stop; in a child process unless `inProcess`. The child also writes the
 * snapshot when this process dies without stopping it (it sees the IPC channel close), so a hard kill
 * of the runtime loses no queued lead either, only a hard kill of the child itself does.
 */
export async function startSqs(opts: StartSqsOptions = {}): Promise<RunningSqs> {
  if (opts.inProcess) return startSqsInProcess(opts);
  const dataDir = opts.dataDir ? path.resolve(opts.dataDir) : undefined;
  const pidFile = dataDir ? path.join(dataDir, 'sqs-stand-in.pid') : undefined;
  if (dataDir && pidFile) {
    mkdirSync(dataDir, { recursive: true });
    await waitForPreviousStandIn(pidFile);
  }
  const child = await forkStandIn({
    entry: path.join(HERE, 'sqsProcess.ts'),
    optionsVariable: 'LEADROUTER_SQS_OPTIONS',
    options: { dataDir, port: opts.port },
    label: 'SQS',
    stopTimeoutMs: CHILD_STOP_MS,
  });
  if (!pidFile || child.pid === undefined) return child;
  writeFileSync(pidFile, String(child.pid));
  return {
    ...child,
    stop: async () => {
      await child.stop();
      rmSync(pidFile, { force: true });
    },
  };
}

/**
 * After a hard kill of the runtime its SQS stand-in is still writing the queue snapshot (it exits once
 * it has): a runtime started at once on the same DATA_DIR waits for it, or it would start without those
 * messages and overwrite their snapshot at its own stop.
 */
async function waitForPreviousStandIn(pidFile: string): Promise<void> {
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8').trim());
  const info = Number.isInteger(pid) && pid > 0 ? processInfo(pid) : undefined;
  if (info?.args.includes('sqsProcess') && !(await waitForExit(pid, CHILD_STOP_MS)))
    throw new Error(
      `The previous SQS stand-in (pid ${pid}) is still running on this DATA_DIR; stop it first`,
    );
  rmSync(pidFile, { force: true });
}

/** `startFauxqs` would listen on 0.0.0.0, so we build its app and listen ourselves. */
export async function startSqsInProcess(opts: StartSqsOptions = {}): Promise<RunningSqs> {
  const app = buildApp({ logger: false });
  await app.listen({ port: opts.port ?? 0, host: '127.0.0.1' });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const endpoint = `http://127.0.0.1:${port}`;

  if (opts.dataDir) {
    mkdirSync(path.resolve(opts.dataDir), { recursive: true });
    try {
      await restoreSnapshot(endpoint, snapshotFile(opts.dataDir));
    } catch (error) {
      await app.close();
      throw error;
    }
  }

  let stopped = false;
  return {
    endpoint,
    async stop() {
      if (stopped) return;
      stopped = true;
      if (opts.dataDir) writeSnapshot(snapshotFile(opts.dataDir), await takeSnapshot(app));
      await app.close();
    },
  };
}

/** Reads every queue through fauxqs' own inspection routes, in process (no socket needed). */
async function takeSnapshot(app: ReturnType<typeof buildApp>): Promise<QueueSnapshot> {
  const list = (await app.inject({ method: 'GET', url: '/_fauxqs/queues' })).json<{ name: string }[]>();
  const queues = [];
  for (const { name } of list) {
    const inspected = (
      await app.inject({ method: 'GET', url: `/_fauxqs/queues/${encodeURIComponent(name)}` })
    ).json<InspectedQueue>();
    queues.push(snapshotQueue(inspected));
  }
  return { version: 1, takenAt: new Date().toISOString(), queues };
}

/**
 * Creates the lead queue and its dead-letter queue as the CDK app does: FIFO, explicit deduplication
 * ids (the ingest sets the lead id), 30 s visibility, redrive after 5 receives. Idempotent; a queue
 * that exists with other settings (e.g. restored from an older snapshot) is updated.
 */
export async function ensureLeadQueues(endpoint: string): Promise<LeadQueues> {
  const client = localSqsClient(endpoint);
  try {
    const dlq = await createOrUpdateQueue(client, LEAD_DLQ_NAME, {
      FifoQueue: 'true',
      ContentBasedDeduplication: 'false',
    });
    const queue = await createOrUpdateQueue(client, LEAD_QUEUE_NAME, {
      FifoQueue: 'true',
      ContentBasedDeduplication: 'false',
      VisibilityTimeout: String(LEAD_QUEUE_VISIBILITY_TIMEOUT_SECONDS),
      RedrivePolicy: JSON.stringify({
        deadLetterTargetArn: dlq.arn,
        maxReceiveCount: LEAD_QUEUE_MAX_RECEIVE_COUNT,
      }),
    });
    return { queueUrl: queue.url, queueArn: queue.arn, dlqUrl: dlq.url, dlqArn: dlq.arn };
  } finally {
    client.destroy();
  }
}

/** fauxqs names this error `AWS.SimpleQueueService.QueueNameExists`, which the SDK does not map to its class. */
function isQueueNameExists(error: unknown): boolean {
  return (
    error instanceof QueueNameExists || (error instanceof Error && error.name.endsWith('QueueNameExists'))
  );
}

async function createOrUpdateQueue(
  client: SQSClient,
  name: string,
  attributes: Record<string, string>,
): Promise<{ url: string; arn: string }> {
  let url: string | undefined;
  try {
    url = (await client.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }))).QueueUrl;
  } catch (error) {
    if (!isQueueNameExists(error)) throw error;
    url = (await client.send(new GetQueueUrlCommand({ QueueName: name }))).QueueUrl;
    const { FifoQueue: _immutable, ...changeable } = attributes;
    await client.send(new SetQueueAttributesCommand({ QueueUrl: url, Attributes: changeable }));
  }
  if (!url) throw new Error(`CreateQueue returned no URL for ${name}`);
  const { Attributes } = await client.send(
    new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }),
  );
  const arn = Attributes?.QueueArn;
  if (!arn) throw new Error(`no QueueArn for ${name}`);
  return { url, arn };
}
