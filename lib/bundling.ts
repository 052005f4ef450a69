/**
 * How a registry entry becomes a Lambda bundle. `LeadrouterFunction` (through NodejsFunction, which runs
 * the local esbuild — never Docker) and `bin/bundle-sizes.ts` (through the esbuild API) both read these
 * options, so the sizes the script prints are the sizes that get deployed.
 *
 * Why everything is bundled, the AWS SDK v3 included (no `@aws-sdk/*` externals):
 * - the deployed code is exactly the locked versions the tests ran against locally, not whatever SDK
 *   release the `nodejs22.x` runtime ships that month;
 * - ESM output lets esbuild tree-shake the modular v3 clients, and one minified file loads faster at
 *   cold start than the runtime's unbundled SDK spread over thousands of files;
 * - `bin/bundle-sizes.ts` keeps the cost visible per function.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Repository root (this file lives in `lib/`). */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Absolute path of a registry entry (registry paths are relative to the repository root). */
export function entryPath(entry: string): string {
  return path.join(REPO_ROOT, entry);
}

/** Node.js 22 on Lambda; bundles carry no native code, so they are architecture-independent. */
export const ESBUILD_TARGET = 'node22';

/**
 * esbuild turns `require()` calls of bundled CommonJS packages (pg, libphonenumber-js…) into a shim that
 * needs a real `require` at runtime; an ES module has none, so the banner creates one.
 */
export const ESM_REQUIRE_BANNER =
  "import { createRequire as __lrCreateRequire } from 'node:module';const require = __lrCreateRequire(import.meta.url);";

/** Prefer packages' ES module builds: they tree-shake, their CommonJS builds mostly do not. */
export const MAIN_FIELDS = ['module', 'main'];

/** Nothing is left to the runtime (see above). */
export const EXTERNAL_MODULES: string[] = [];

/**
 * Source maps map stack traces back to `functions/…` lines (with `--enable-source-maps`); embedding the
 * sources themselves would only double the upload, so they are left out.
 */
export const SOURCES_CONTENT = false;
