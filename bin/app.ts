/**
 * The CDK app (`npx cdk synth|deploy -c stage=dev|prod`). Everything is in `lib/`; this file only runs it.
 */
import { createApp } from '../lib/app.js';

createApp();
