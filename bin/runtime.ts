/**
 * The local runtime: the same Lambda handlers as on AWS (taken from `functions/registry.ts`), wired to
 * real local stand-ins — embedded PostgreSQL, dynalite (DynamoDB), fauxqs (SQS FIFO), a WebSocket
 * gateway with an `@connections` endpoint, an SQS→Lambda poller and an EventBridge-style scheduler —
 * behind one HTTP port that serves the API, the dashboard and `/ws`.
 *
 * `npm start` (bin/start.ts) and the end-to-end tests both use `startRuntime`.
 *
 * Start order matters: stores first, then migrations, then the environment the handlers read at their
 * first use, then the org bootstrap, and only then traffic (HTTP, poller, scheduler). Stop is the
 * reverse: stop taking traffic, let in-flight allocations finish, then stop the stores.
 */
// First: it must run before any module that loads the X-Ray SDK (see the file).
import './local/xrayManualMode.js';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { migrateUp } from '../functions/adapters/pg/migrate.js';
import { resetClients } from '../functions/clients.js';
import { resetConfig } from '../functions/config.js';
import { handlers, type HandlerName } from '../functions/registry.js';
import { newSecret } from '../functions/shared/secrets.js';
import { createOrg } from '../functions/usecases/orgs.js';
import { relayOutbox } from '../functions/usecases/publishEvents.js';
import { seedDemo } from './demo.js';
import { ensureTables, startDynamo } from './local/dynamo.js';
import { createHttpGateway } from './local/httpGateway.js';
import { closeHttpServer } from './local/httpServer.js';
import { findFreePort, isPortFree } from './local/ports.js';
import { startPostgres } from './local/postgres.js';
import { ensureLeadQueues, startSqs } from './local/sqs.js';
import { startSqsPoller } from './local/sqsPoller.js';
import { startScheduler } from './local/scheduler.js';
import { createWsGateway } from './local/wsGateway.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** The default org and source of a local install; fixed so restarts find them again. */
export const LOCAL_ORG_ID = '00000000-0000-4000-8000-000000000001';
export const LOCAL_SOURCE_ID = '00000000-0000-4000-8000-000000000002';

export interface RuntimeOptions {
  port?: number;
  dataDir: string;
  databaseUrl?: string;
  dynamoEndpoint?: string;
  sqsEndpoint?: string;
  adminToken?: string;
  webhookSecret?: string;
  rootToken?: string;
  demo?: boolean;
  /** Throw-away PostgreSQL settings (tests). */
  ephemeral?: boolean;
  /** How often the local outbox relay runs (AWS: every minute). */
  relayIntervalMs?: number;
  /** Visibility timeout of the lead queue; tests shorten it to see redelivery quickly. */
  visibilityTimeoutSeconds?: number;
  /**
   * Concurrent allocator invocations at most (the SQS event source's `maxConcurrency` on AWS). Default:
   * `ALLOCATOR_CONCURRENCY`, else 2 (see `allocatorConcurrency`).
   */
  allocatorConcurrency?: number;
  log?: (message: string) => void;
}

export interface Runtime {
  url: string;
  wsUrl: string;
  orgId: string;
  sourceId: string;
  adminToken: string;
  webhookSecret: string;
  databaseUrl: string;
  queueUrl: string;
  dlqUrl: string;
  /** Resolves when the lead queue is empty and no allocation is in flight. */
  idle(): Promise<void>;
  runJob(name: string): Promise<unknown>;
  /** Stops the WebSocket gateway alone and starts a new one on the same port (tests of reconnects). */
  restartWsGateway(): Promise<void>;
  stop(): Promise<void>;
}

/** A Lambda handler as our modules export it: (event, context) → result. */
type Handler = (event: any, context: any) => any;

async function loadHandler(name: HandlerName): Promise<Handler> {
  const mod = (await import(pathToFileURL(path.join(ROOT, handlers[name].entry)).href)) as {
    handler: Handler;
  };
  return mod.handler;
}

/**
 * `ALLOCATOR_CONCURRENCY`: how many allocator invocations may run at once, 1–64 (default 2). Lambda's
 * FIFO event source scales with the message groups that have messages waiting (nearly one per lead
 * here) up to its `maxConcurrency`; the local poller does the same up to this number, from 2.
 *
 * Why 2 by default locally: allocations of one campaign pool serialise on the same recipient locks, and
 * locally every invocation shares one event loop with ingest and the stand-ins, so more invocations only
 * lengthen each lock hold (their pushes and queue calls run between the holder's round trips). Measured
 * with the pipeline bench, batched, 50 leads/s for 30 s, same load average (11): 2 invocations p50 0.48 s,
 * 8 invocations p50 12 s (docs/benchmarks.md). Raise it for workloads over disjoint pools (many orgs or
 * campaigns), where invocations do not wait for each other. Above the local pool's 20 connections more
 * invocations only queue for one, hence the bound. Read at start, so a typo fails there.
 */
export function allocatorConcurrency(env: NodeJS.ProcessEnv): number {
  const raw = env.ALLOCATOR_CONCURRENCY;
  if (raw === undefined || raw === '') return 2;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 64)
    throw new Error(`ALLOCATOR_CONCURRENCY must be an integer from 1 to 64, got "${raw}"`);
  return n;
}

/** Tokens of the local default org: from the environment, else generated once and kept in DATA_DIR. */
function localCredentials(
  dataDir: string,
  opts: RuntimeOptions,
): { adminToken: string; webhookSecret: string; credentialsKey: string } {
  const file = path.join(dataDir, 'credentials.json');
  const saved = existsSync(file)
    ? (JSON.parse(readFileSync(file, 'utf8')) as {
        adminToken: string;
        webhookSecret: string;
        credentialsKey?: string;
      })
    : undefined;
  const creds = {
    adminToken: opts.adminToken ?? saved?.adminToken ?? newSecret('lr_admin'),
    webhookSecret: opts.webhookSecret ?? saved?.webhookSecret ?? newSecret('lr_whsec'),
    // Seals import credentials at rest (functions/shared/sealed.ts); on AWS a Secrets Manager secret.
    credentialsKey:
      process.env.CREDENTIALS_KEY ?? saved?.credentialsKey ?? randomBytes(32).toString('base64url'),
  };
  writeFileSync(file, JSON.stringify(creds, null, 2), { mode: 0o600 });
  return creds;
}

export async function startRuntime(opts: RuntimeOptions): Promise<Runtime> {
  const log = opts.log ?? (() => undefined);
  // Local runs on Node 20 are supported (Lambda runs nodejs22.x); set before the stand-ins start, so
  // that their processes, which inherit the environment, do not print the SDK's warning either.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  const dataDir = path.resolve(opts.dataDir);
  mkdirSync(dataDir, { recursive: true });
  const stops: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    for (const stop of stops.reverse())
      await stop().catch((e) => log(`stop failed: ${(e as Error).message}`));
  };

  try {
    // 1. Stores.
    let databaseUrl = opts.databaseUrl;
    if (!databaseUrl) {
      const pgServer = await startPostgres({
        dataDir: path.join(dataDir, 'postgres'),
        ephemeral: opts.ephemeral,
      });
      stops.push(() => pgServer.stop());
      databaseUrl = pgServer.url;
    }
    await migrateUp(databaseUrl);

    let dynamoEndpoint = opts.dynamoEndpoint;
    if (!dynamoEndpoint) {
      const dynamo = await startDynamo({ dataDir });
      stops.push(() => dynamo.stop());
      dynamoEndpoint = dynamo.endpoint;
    }
    await ensureTables(dynamoEndpoint);

    let sqsEndpoint = opts.sqsEndpoint;
    let sqsServer: Awaited<ReturnType<typeof startSqs>> | undefined;
    if (!sqsEndpoint) {
      sqsServer = await startSqs({ dataDir });
      sqsEndpoint = sqsServer.endpoint;
    }
    const queues = await ensureLeadQueues(sqsEndpoint);

    // 2. One port for API, dashboard and WebSocket.
    const port = opts.port ?? (await findFreePort());
    if (opts.port && !(await isPortFree(opts.port)))
      throw new Error(`Port ${opts.port} is in use; set PORT to another one`);
    const url = `http://127.0.0.1:${port}`;

    // 3. The environment the handlers read (as Lambda's configuration would set it).
    Object.assign(process.env, {
      LOCAL_RUNTIME: '1',
      AWS_REGION: process.env.AWS_REGION ?? 'us-east-1',
      DATABASE_URL: databaseUrl,
      DYNAMODB_ENDPOINT: dynamoEndpoint,
      SQS_ENDPOINT: sqsEndpoint,
      LEAD_QUEUE_URL: queues.queueUrl,
      LEAD_DLQ_URL: queues.dlqUrl,
      POWERTOOLS_METRICS_DISABLED: 'true',
      POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL ?? 'WARN',
      ...(opts.rootToken ? { ROOT_TOKEN: opts.rootToken } : {}),
    });
    const server = http.createServer();
    const ws = await createWsGateway({
      server,
      path: '/ws',
      handlers: {
        connect: await loadHandler('wsConnect'),
        disconnect: await loadHandler('wsDisconnect'),
        default: await loadHandler('wsDefault'),
      },
    });
    let wsGateway = ws;
    process.env.WS_MANAGEMENT_ENDPOINT = ws.managementEndpoint;
    resetConfig();
    await resetClients();
    stops.push(async () => {
      await resetClients();
      resetConfig();
    });

    // 4. The default org, its source and campaign; demo data.
    const { credentialsKey, ...creds } = localCredentials(dataDir, opts);
    process.env.CREDENTIALS_KEY = credentialsKey;
    await createOrg({ name: 'Default', orgId: LOCAL_ORG_ID, sourceId: LOCAL_SOURCE_ID, ...creds });

    // 5. Traffic: HTTP routes from the registry, the queue poller, the scheduler.
    const routes: { method: string; path: string; handler: Handler }[] = [];
    for (const name of Object.keys(handlers) as HandlerName[]) {
      const def = handlers[name];
      if (def.trigger.kind !== 'http') continue;
      const handler = await loadHandler(name);
      for (const r of def.trigger.routes) {
        const [method, routePath] = r.split(' ') as [string, string];
        routes.push({ method, path: routePath, handler });
      }
    }
    const webDist = path.join(ROOT, 'web', 'dist');
    server.on('request', createHttpGateway({ routes, staticDir: existsSync(webDist) ? webDist : undefined }));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    stops.push(() => closeHttpServer(server));
    stops.push(() => wsGateway.close());

    const maxPollers = opts.allocatorConcurrency ?? allocatorConcurrency(process.env);
    const poller = startSqsPoller({
      endpoint: sqsEndpoint,
      queueUrl: queues.queueUrl,
      queueArn: queues.queueArn,
      handler: await loadHandler('allocator'),
      visibilityTimeout: opts.visibilityTimeoutSeconds,
      pollers: Math.min(2, maxPollers),
      maxPollers,
    });
    stops.push(() => poller.stop());
    if (sqsServer) {
      // After the poller: the queue snapshot is taken once nothing is being received any more.
      const s = sqsServer;
      stops.splice(stops.length - 1, 0, () => s.stop());
    }

    const jobs = [];
    for (const name of Object.keys(handlers) as HandlerName[]) {
      const def = handlers[name];
      if (def.trigger.kind === 'schedule')
        jobs.push({
          name: def.trigger.job,
          schedule: def.trigger.schedule,
          handler: await loadHandler(name),
        });
    }
    const scheduler = startScheduler(jobs);
    stops.push(async () => scheduler.stop());
    const relayEvery = opts.relayIntervalMs ?? 2000;
    const relay = setInterval(() => void relayOutbox().catch(() => undefined), relayEvery);
    stops.push(async () => clearInterval(relay));

    if (opts.demo) await seedDemo(LOCAL_ORG_ID, `${url}/webhooks/leads`, creds.webhookSecret, log);

    return {
      url,
      wsUrl: `ws://127.0.0.1:${port}/ws`,
      orgId: LOCAL_ORG_ID,
      sourceId: LOCAL_SOURCE_ID,
      adminToken: creds.adminToken,
      webhookSecret: creds.webhookSecret,
      databaseUrl,
      queueUrl: queues.queueUrl,
      dlqUrl: queues.dlqUrl,
      idle: () => poller.idle(),
      runJob: (name) => scheduler.runNow(name),
      restartWsGateway: async () => {
        const managementPort = Number(new URL(wsGateway.managementEndpoint).port);
        await wsGateway.close();
        wsGateway = await createWsGateway({
          server,
          path: '/ws',
          managementPort,
          handlers: {
            connect: await loadHandler('wsConnect'),
            disconnect: await loadHandler('wsDisconnect'),
            default: await loadHandler('wsDefault'),
          },
        });
      },
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}
