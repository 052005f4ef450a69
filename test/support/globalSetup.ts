import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { startPostgres } from '../../bin/local/postgres.js';
import './pg.js';

/**
 * One PostgreSQL for the whole test run: starting a server per test file would cost a second each and
 * multiply memory; files isolate themselves with a database each (`createEmptyDatabase`). With
 * `DATABASE_URL` set (CI against a real server, or a developer's own) that server is used instead.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const external = process.env.DATABASE_URL;
  if (external) {
    // Any database of the server can create and drop the others.
    project.provide('pgAdminUrl', external);
    return async () => undefined;
  }
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'leadrouter-test-pg-'));
  // mkdtemp makes the directory 0700; the server may run as the `postgres` user (when we are root).
  chmodSync(dataDir, 0o755);
  const server = await startPostgres({ dataDir, ephemeral: true });
  project.provide('pgAdminUrl', server.adminUrl);
  return async () => {
    await server.stop();
    rmSync(server.clusterDir, { recursive: true, force: true });
    rmSync(dataDir, { recursive: true, force: true });
  };
}
