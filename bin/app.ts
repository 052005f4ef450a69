/**
 * The CDK app (`npx cdk synth|deploy -c stage=dev|prod`). Everything is in `lib/`; this file only runs it,
 * after building the dashboard into `web/dist` when it is missing or older than its sources, so a deploy
 * from a fresh clone ships the real dashboard.
 */
import { fileURLToPath } from 'node:url';
import { createApp } from '../lib/app.js';
import { ensureDashboardBuilt } from './local/dashboardBuild.js';

await ensureDashboardBuilt(fileURLToPath(new URL('../web', import.meta.url)), (m) =>
  console.error(`[leadrouter] ${m}`),
);
createApp();
