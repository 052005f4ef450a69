#!/usr/bin/env node
// The `leadrouter` command (package.json "bin"): loads bin/cli.ts through tsx, so the CLI is written in
// TypeScript like the rest of the product and needs no build step.
import { register } from 'tsx/esm/api';

register();
await import(new URL('./cli.ts', import.meta.url).href);
