import { mkdirSync, mkdtempSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { dashboardBuildReason } from '../../bin/local/dashboardBuild.js';

/** A web/ folder with one source file in a nested directory, every mtime set to `at` (seconds). */
function webDir(at: number): { dir: string; touch: (rel: string, at: number) => void } {
  const dir = mkdtempSync(path.join(tmpdir(), 'web-'));
  const touch = (rel: string, t: number) => {
    const file = path.join(dir, rel);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, rel);
    utimesSync(file, t, t);
  };
  for (const f of ['index.html', 'vite.config.ts', 'src/main.ts', 'src/pages/leads.ts', 'public/config.json'])
    touch(f, at);
  return { dir, touch };
}

describe('npm start builds the dashboard when web/dist is missing or older than its sources', () => {
  it('a fresh clone (no dist) is built', () => {
    expect(dashboardBuildReason(webDir(1_000).dir)).toBe('not built yet');
  });

  it('a build newer than every source is kept', () => {
    const { dir, touch } = webDir(1_000);
    touch('dist/index.html', 2_000);
    expect(dashboardBuildReason(dir)).toBeUndefined();
  });

  it('a source file changed after the build, however deep, triggers a rebuild', () => {
    const { dir, touch } = webDir(1_000);
    touch('dist/index.html', 2_000);
    touch('src/pages/leads.ts', 3_000);
    expect(dashboardBuildReason(dir)).toBe(path.join('src', 'pages', 'leads.ts') + ' changed');
    touch('dist/index.html', 4_000);
    touch('public/config.json', 5_000);
    expect(dashboardBuildReason(dir)).toBe(path.join('public', 'config.json') + ' changed');
  });
});
