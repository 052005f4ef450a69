/**
 * `npm start`: boots the whole product locally (see bin/runtime.ts) and prints where everything is.
 * Ctrl-C (SIGINT) or SIGTERM stops every part in order; committed data stays in DATA_DIR.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureDashboardBuilt } from './local/dashboardBuild.js';
import { startRuntime } from './runtime.js';

const env = process.env;
const started = Date.now();
const log = (m: string) => console.log(`[leadrouter] ${m}`);

// A fresh clone has no `web/dist`: build the dashboard first so `/` serves it.
await ensureDashboardBuilt(fileURLToPath(new URL('../web', import.meta.url)), log).catch((error: Error) => {
  console.error(`[leadrouter] could not build the dashboard: ${error.message}`);
  process.exit(1);
});

const runtime = await startRuntime({
  port: Number(env.PORT ?? 3000),
  dataDir: path.resolve(env.DATA_DIR ?? '.leadrouter'),
  databaseUrl: env.DATABASE_URL,
  dynamoEndpoint: env.DYNAMODB_ENDPOINT,
  sqsEndpoint: env.SQS_ENDPOINT,
  adminToken: env.ADMIN_TOKEN,
  webhookSecret: env.WEBHOOK_SECRET,
  rootToken: env.ROOT_TOKEN,
  demo: (env.LEADROUTER_DEMO ?? '1') !== '0',
  log,
}).catch((error: Error) => {
  console.error(`[leadrouter] failed to start: ${error.message}`);
  process.exit(1);
});

const url = runtime.url.replace('127.0.0.1', 'localhost');
console.log(`
leadrouter is running (started in ${((Date.now() - started) / 1000).toFixed(1)} s)

  Dashboard      ${url}/            (sign in with the admin token)
  Lead webhook   POST ${url}/webhooks/leads   header X-Webhook-Secret
  Admin API      ${url}/api/...     header Authorization: Bearer <admin token>
  OpenAPI        ${url}/api/openapi.json
  WebSocket      ${runtime.wsUrl.replace('127.0.0.1', 'localhost')}?token=<admin token>

  Admin token    ${runtime.adminToken}
  Webhook secret ${runtime.webhookSecret}

Try it:
  curl -X POST ${url}/webhooks/leads -H 'X-Webhook-Secret: ${runtime.webhookSecret}' \\
       -H 'Content-Type: application/json' -d '{"first_name":"Ada","last_name":"Lovelace","phone":"415-555-0100","state":"CA"}'

Press Ctrl-C to stop.
`);

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    log('stopping…');
    runtime
      .stop()
      .then(() => {
        log('stopped; data kept in ' + path.resolve(env.DATA_DIR ?? '.leadrouter'));
        process.exit(0);
      })
      .catch((error: Error) => {
        console.error(error);
        process.exit(1);
      });
  });
}
