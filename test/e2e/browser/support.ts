/**
 * Shared setup of the browser tests: Debian's Chromium through playwright-core (which never downloads
 * a browser), a fresh dashboard build when `web/` changed since the last one, screenshots, and axe.
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const WEB = path.join(ROOT, 'web');
const DIST_INDEX = path.join(WEB, 'dist', 'index.html');
export const SCREENSHOT_DIR = path.join(ROOT, 'test-results', 'screenshots');
const DOCS_SCREENSHOT_DIR = path.join(ROOT, 'docs', 'screenshots');

const CHROMIUM_CANDIDATES = [
  process.env.CHROMIUM_PATH,
  '/usr/bin/chromium',
  '/usr/bin/chromium-browser',
].filter(Boolean) as string[];
export const chromiumPath = CHROMIUM_CANDIDATES.find((p) => existsSync(p));

/** Outside CI a missing Chromium skips the browser tests; in CI it fails them (`.ci/run` installs it). */
export const browserTestsSkipped = !chromiumPath && process.env.CI !== 'true';
if (browserTestsSkipped) {
  console.warn(
    '[browser tests] skipped: Chromium not found. Install it with `apt-get install -y chromium` (or set CHROMIUM_PATH).',
  );
}

export async function launchBrowser(): Promise<Browser> {
  if (!chromiumPath)
    throw new Error(
      `Chromium not found at ${CHROMIUM_CANDIDATES.join(', ')}; CI must install it (apt-get install -y chromium)`,
    );
  return chromium.launch({
    executablePath: chromiumPath,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'dist' || entry.name === 'node_modules') continue;
    const full = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(full) : statSync(full).mtimeMs);
  }
  return newest;
}

function buildIsStale(): boolean {
  if (!existsSync(DIST_INDEX)) return true;
  const sources = Math.max(
    newestMtime(WEB),
    ...['functions/domain/types.ts', 'functions/domain/leadStatus.ts'].map(
      (f) => statSync(path.join(ROOT, f)).mtimeMs,
    ),
  );
  return sources > statSync(DIST_INDEX).mtimeMs;
}

/**
 * Builds `web/dist` when it is missing or older than its sources (`npm test` on a clean clone). Test
 * files run in parallel workers, so the build holds a lock directory; whoever waits finds it fresh.
 */
export async function ensureWebBuild(): Promise<void> {
  if (!buildIsStale()) return;
  mkdirSync(path.join(ROOT, 'test-results'), { recursive: true });
  const lock = path.join(ROOT, 'test-results', '.web-build-lock');
  const deadline = Date.now() + 120_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      // A lock older than two minutes belongs to a build that died.
      if (existsSync(lock) && Date.now() - statSync(lock).mtimeMs > 120_000)
        rmSync(lock, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error('Timed out waiting for another dashboard build');
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  try {
    if (!buildIsStale()) return;
    const { build } = await import('vite');
    await build({ configFile: path.join(WEB, 'vite.config.ts'), logLevel: 'warn' });
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/**
 * Saves `test-results/screenshots/<name>.png`; with `UPDATE_DOCS_SCREENSHOTS=1`, pages marked `docs`
 * are copied to `docs/screenshots/` as well (committed images change only when someone asks).
 */
export async function screenshot(
  page: Page,
  name: string,
  opts: { docs?: boolean; fullPage?: boolean } = {},
): Promise<string> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const file = path.join(SCREENSHOT_DIR, `${name}.png`);
  // Wait for flashes and the drawer's slide to finish: screenshots should show the resting state.
  await page.waitForTimeout(300);
  await page.evaluate(() =>
    Promise.all(document.getAnimations().map((a) => a.finished.catch(() => undefined))),
  );
  await page.screenshot({ path: file, fullPage: opts.fullPage ?? false });
  if (opts.docs && process.env.UPDATE_DOCS_SCREENSHOTS === '1') {
    mkdirSync(DOCS_SCREENSHOT_DIR, { recursive: true });
    copyFileSync(file, path.join(DOCS_SCREENSHOT_DIR, `${name}.png`));
  }
  return file;
}

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[]; failureSummary?: string }[];
}

const require = createRequire(import.meta.url);

/** Runs axe-core on the page as it is now; returns the serious and critical violations. */
export async function seriousA11yViolations(page: Page): Promise<AxeViolation[]> {
  if (!(await page.evaluate(() => 'axe' in window)))
    await page.addScriptTag({ path: require.resolve('axe-core/axe.min.js') });
  await page.evaluate(() =>
    Promise.all(document.getAnimations().map((a) => a.finished.catch(() => undefined))),
  );
  const violations = await page.evaluate(async () => {
    const axe = (
      window as unknown as {
        axe: { run(ctx: Document, opts: unknown): Promise<{ violations: AxeViolation[] }> };
      }
    ).axe;
    const result = await axe.run(document, { resultTypes: ['violations'] });
    return result.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.slice(0, 5).map((n) => ({ target: n.target, failureSummary: n.failureSummary })),
    }));
  });
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}
