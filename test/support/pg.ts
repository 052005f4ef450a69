import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Connection string of a maintenance database (`postgres`) on the test run's PostgreSQL server. */
    pgAdminUrl: string;
  }
}

/** The test run's PostgreSQL (see globalSetup.ts): the embedded one, or the server in `DATABASE_URL`. */
export function adminUrl(): string {
  return inject('pgAdminUrl');
}

export interface EmptyDatabase {
  url: string;
  /** Drops the database, disconnecting whoever is still connected. */
  drop(): Promise<void>;
}

/**
 * A new, empty database on the shared server. Test files run in parallel workers against one server,
 * so each gets its own database instead of sharing one and truncating between tests.
 */
export async function createEmptyDatabase(prefix: string): Promise<EmptyDatabase> {
  const name = `${prefix
    .toLowerCase()
    .replace(/[^a-z0-9_]/g, '_')
    .slice(0, 40)}_${randomBytes(6).toString('hex')}`;
  await withAdminClient((client) => client.query(`create database ${client.escapeIdentifier(name)}`));
  const url = new URL(adminUrl());
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      await withAdminClient((client) =>
        client.query(`drop database if exists ${client.escapeIdentifier(name)} with (force)`),
      );
    },
  };
}

async function withAdminClient<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: adminUrl() });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}
