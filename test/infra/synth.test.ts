/**
 * `npx cdk synth` as an engineer runs it — the CLI, cdk.json, tsx, local esbuild bundling, cdk-nag as
 * a synth-time validation — with no AWS credentials and no network. The network is removed with
 * `unshare -n` (a fresh network namespace with only a downed loopback); where unprivileged namespaces
 * are not allowed, every proxy variable points at a closed local port instead, and the test says so.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handlers } from '../../functions/registry.js';
import { ESM_REQUIRE_BANNER, REPO_ROOT } from '../../lib/bundling.js';
import { HANDLER_TAG } from '../../lib/leadrouter-function.js';
import { MIGRATIONS_DIR } from '../../lib/migrations.js';

interface SynthRun {
  stage: string;
  outdir: string;
  code: number | null;
  output: string;
  seconds: number;
}

const canUnshare = spawnSync('unshare', ['-n', 'true']).status === 0;

/** The environment minus anything that could carry AWS credentials or reach a network. */
function offlineEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!/^(AWS_|CDK_DEFAULT_)/.test(key)) env[key] = value;
  }
  env.AWS_CONFIG_FILE = '/nonexistent/aws-config';
  env.AWS_SHARED_CREDENTIALS_FILE = '/nonexistent/aws-credentials';
  env.AWS_EC2_METADATA_DISABLED = 'true';
  if (!canUnshare) {
    for (const key of ['HTTPS_PROXY', 'HTTP_PROXY', 'https_proxy', 'http_proxy'])
      env[key] = 'http://127.0.0.1:9';
    env.NO_PROXY = '';
    env.no_proxy = '';
  }
  return env;
}

function synth(stage: string): Promise<SynthRun> {
  const outdir = mkdtempSync(path.join(os.tmpdir(), `leadrouter-synth-${stage}-`));
  const cdk = path.join(REPO_ROOT, 'node_modules', '.bin', 'cdk');
  const args = ['synth', '--no-notices', '--quiet', '--output', outdir, '-c', `stage=${stage}`];
  const [command, commandArgs] = canUnshare ? ['unshare', ['-n', cdk, ...args]] : [cdk, args];
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(command, commandArgs, { cwd: REPO_ROOT, env: offlineEnv() });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) =>
      resolve({ stage, outdir, code, output, seconds: (Date.now() - started) / 1000 }),
    );
  });
}

const runs: Record<string, SynthRun> = {};

// Each synth bundles every function: about 20 s on an idle two-core machine, several times that when the
// rest of the test suite competes for the CPU.
beforeAll(async () => {
  if (!canUnshare)
    console.warn('unshare -n is not permitted here: synthesizing with proxies pointed at a closed port');
  for (const run of await Promise.all(['dev', 'prod'].map(synth))) runs[run.stage] = run;
}, 600_000);

afterAll(() => {
  for (const run of Object.values(runs)) rmSync(run.outdir, { recursive: true, force: true });
});

describe.each(['dev', 'prod'])('npx cdk synth -c stage=%s, offline, without credentials', (stage) => {
  const template = () =>
    JSON.parse(readFileSync(path.join(runs[stage]!.outdir, `Leadrouter-${stage}.template.json`), 'utf8')) as {
      Resources: Record<string, { Type: string; Properties: any; Metadata?: Record<string, string> }>;
    };

  it('succeeds, with cdk-nag passing as a synth-time validation', () => {
    const run = runs[stage]!;
    console.info(
      `cdk synth -c stage=${stage}: ${run.seconds.toFixed(1)} s (${canUnshare ? 'unshare -n' : 'proxy to a closed port'})`,
    );
    expect(run.code, run.output).toBe(0);
    expect(run.output).not.toMatch(/AwsSolutions-[A-Z]+\d+/);
    expect(run.output.toLowerCase()).not.toContain('docker');
    expect(existsSync(path.join(run.outdir, `Leadrouter-${stage}.template.json`))).toBe(true);
  });

  it('bundles every registry entry as an ES module with the require banner and a source map', () => {
    const run = runs[stage]!;
    const functions = Object.values(template().Resources).filter(
      (r) =>
        r.Type === 'AWS::Lambda::Function' &&
        r.Properties.Tags?.some((t: { Key: string }) => t.Key === HANDLER_TAG),
    );
    expect(functions).toHaveLength(Object.keys(handlers).length);
    for (const fn of functions) {
      const name = fn.Properties.Tags.find((t: { Key: string }) => t.Key === HANDLER_TAG).Value as string;
      const assetDir = path.join(run.outdir, fn.Metadata!['aws:asset:path']!);
      const files = readdirSync(assetDir);
      expect(files, name).toEqual(expect.arrayContaining(['index.mjs', 'index.mjs.map']));
      expect(
        readFileSync(path.join(assetDir, 'index.mjs'), 'utf8').startsWith(ESM_REQUIRE_BANNER),
        name,
      ).toBe(true);
    }
  });

  it('ships the SQL migrations next to the migration bundle', () => {
    const run = runs[stage]!;
    const migrate = Object.values(template().Resources).find(
      (r) =>
        r.Type === 'AWS::Lambda::Function' &&
        r.Properties.Tags?.some(
          (t: { Key: string; Value: string }) => t.Key === HANDLER_TAG && t.Value === 'migrate',
        ),
    )!;
    const bundled = readdirSync(
      path.join(run.outdir, migrate.Metadata!['aws:asset:path']!, 'migrations'),
    ).sort();
    expect(bundled).toEqual(readdirSync(MIGRATIONS_DIR).sort());
  });
});
