/**
 * `npm run bundle-sizes`: bundles every registry entry in memory with the deploy's esbuild options
 * (`lib/bundling.ts`) and prints, per function, the minified bundle, its gzip size (≈ what the deploy
 * zip costs) and the three largest packages inside it. Writes nothing.
 *
 * Exits 1 when an entry is missing or fails to bundle, or a bundle contains the AWS SDK v2 (`aws-sdk`),
 * which is not tree-shakeable and has no place next to the v3 clients.
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import * as esbuild from 'esbuild';
import { handlers, type HandlerDefinition } from '../functions/registry.js';
import {
  entryPath,
  ESBUILD_TARGET,
  ESM_REQUIRE_BANNER,
  EXTERNAL_MODULES,
  MAIN_FIELDS,
  SOURCES_CONTENT,
} from '../lib/bundling.js';

export interface BundleSize {
  name: string;
  entry: string;
  bytes: number;
  gzipBytes: number;
  sourceMapBytes: number;
  /** Bytes of the output by package (`pg`, `@aws-sdk/client-dynamodb`, or `(ours)`), largest first. */
  packages: [string, number][];
}

/** `node_modules/@scope/name/…` → `@scope/name`; anything outside node_modules is ours. */
function packageOf(input: string): string {
  const parts = input.split('node_modules/');
  if (parts.length < 2) return '(ours)';
  const rest = parts[parts.length - 1]!.split('/');
  return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
}

export async function measureBundle(name: string, definition: HandlerDefinition): Promise<BundleSize> {
  const result = await esbuild.build({
    entryPoints: [entryPath(definition.entry)],
    bundle: true,
    platform: 'node',
    target: ESBUILD_TARGET,
    format: 'esm',
    mainFields: MAIN_FIELDS,
    banner: { js: ESM_REQUIRE_BANNER },
    external: EXTERNAL_MODULES,
    minify: true,
    sourcemap: 'external',
    sourcesContent: SOURCES_CONTENT,
    outfile: path.join('/nonexistent', name, 'index.mjs'),
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  const code = result.outputFiles.find((f) => f.path.endsWith('.mjs'))!;
  const map = result.outputFiles.find((f) => f.path.endsWith('.map'));
  const byPackage = new Map<string, number>();
  for (const output of Object.values(result.metafile.outputs)) {
    for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
      const pkg = packageOf(input);
      byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + bytesInOutput);
    }
  }
  return {
    name,
    entry: definition.entry,
    bytes: code.contents.byteLength,
    gzipBytes: gzipSync(code.contents).byteLength,
    sourceMapBytes: map?.contents.byteLength ?? 0,
    packages: [...byPackage.entries()].sort((a, b) => b[1] - a[1]),
  };
}

export async function measureBundles(): Promise<BundleSize[]> {
  const entries = Object.entries(handlers) as [string, HandlerDefinition][];
  return Promise.all(entries.map(([name, definition]) => measureBundle(name, definition)));
}

const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;

function printTable(sizes: BundleSize[]): void {
  const rows = sizes.map((s) => [
    s.name,
    kib(s.bytes),
    kib(s.gzipBytes),
    kib(s.sourceMapBytes),
    s.packages
      .slice(0, 3)
      .map(([pkg, bytes]) => `${pkg} ${kib(bytes)}`)
      .join(', '),
  ]);
  const header = ['function', 'bundle (min)', 'gzip', 'source map', 'largest packages'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : i === cells.length - 1 ? c : c.padStart(widths[i]!)))
      .join('  ');
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const row of rows) console.log(line(row));
  const total = sizes.reduce((sum, s) => sum + s.gzipBytes, 0);
  console.log(
    `\n${sizes.length} functions, ${kib(total)} gzipped in total (esbuild ${esbuild.version}, target ${ESBUILD_TARGET}, ESM, minified)`,
  );
}

async function main(): Promise<number> {
  let sizes: BundleSize[];
  try {
    sizes = await measureBundles();
  } catch (error) {
    console.error(error instanceof Error ? error.message : error);
    return 1;
  }
  printTable(sizes);
  const withSdkV2 = sizes.filter((s) => s.packages.some(([pkg]) => pkg === 'aws-sdk'));
  for (const s of withSdkV2) console.error(`${s.name}: bundles the AWS SDK v2 (aws-sdk); use the v3 clients`);
  return withSdkV2.length > 0 ? 1 : 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await main();
}
