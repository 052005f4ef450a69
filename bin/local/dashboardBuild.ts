/**
 * `npm start` serves the dashboard from `web/dist`, which is a build output and not in git. On a fresh
 * clone (or after the sources changed) it is built here, once, before the runtime starts, so
 * `npm install && npm start` always serves the current dashboard at `/`.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';

/** The files the build reads: everything under `src/` and `public/`, the page and the Vite config. */
function sourceFiles(webDir: string): string[] {
  const files = [path.join(webDir, 'index.html'), path.join(webDir, 'vite.config.ts')];
  for (const dir of ['src', 'public']) {
    const full = path.join(webDir, dir);
    if (!existsSync(full)) continue;
    for (const entry of readdirSync(full, { recursive: true, withFileTypes: true })) {
      if (entry.isFile()) files.push(path.join(entry.parentPath, entry.name));
    }
  }
  return files.filter((f) => existsSync(f));
}

/** Why `web/dist` must be (re)built, or undefined when it is newer than every source file. */
export function dashboardBuildReason(webDir: string): string | undefined {
  const built = path.join(webDir, 'dist', 'index.html');
  if (!existsSync(built)) return 'not built yet';
  const builtAt = statSync(built).mtimeMs;
  const newer = sourceFiles(webDir).find((f) => statSync(f).mtimeMs > builtAt);
  return newer ? `${path.relative(webDir, newer)} changed` : undefined;
}

/** Builds the dashboard with Vite when `dashboardBuildReason` says so. */
export async function ensureDashboardBuilt(webDir: string, log: (m: string) => void): Promise<void> {
  const reason = dashboardBuildReason(webDir);
  if (!reason) return;
  log(`building the dashboard (${reason})…`);
  const started = Date.now();
  const { build } = await import('vite');
  await build({ configFile: path.join(webDir, 'vite.config.ts'), logLevel: 'warn' });
  log(`dashboard built in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}
