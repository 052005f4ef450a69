/**
 * Applies the SQL migrations in `migrations/` with node-pg-migrate. Used by `npm run migrate`,
 * `npm start`, the tests and the deploy-time migration function. node-pg-migrate takes an advisory
 * lock, so concurrent runs (two deploys, parallel test workers) apply each migration once.
 */
import { runner } from 'node-pg-migrate';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const MIGRATIONS_DIR =
  process.env.MIGRATIONS_DIR ??
  path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../migrations');

export async function migrateUp(
  databaseUrl: string,
  log: (msg: string) => void = () => undefined,
): Promise<string[]> {
  const applied = await runner({
    databaseUrl,
    dir: MIGRATIONS_DIR,
    direction: 'up',
    migrationsTable: 'pgmigrations',
    count: Infinity,
    checkOrder: true,
    log,
    logger: { info: log, warn: log, error: log, debug: () => undefined },
  });
  return applied.map((m) => m.name);
}
