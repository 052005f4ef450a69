import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { adminUrl, createEmptyDatabase } from '../../support/pg.js';

async function scalar<T>(url: string, sql: string): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return Object.values((await client.query(sql)).rows[0] as Record<string, T>)[0] as T;
  } finally {
    await client.end();
  }
}

describe('test/support/pg (shared test server from globalSetup)', () => {
  it('creates a distinct empty database per call and drops it even with clients still connected', async () => {
    const [a, b] = await Promise.all([
      createEmptyDatabase('Local Support'),
      createEmptyDatabase('Local Support'),
    ]);
    expect(a.url).not.toBe(b.url);
    const name = await scalar<string>(a.url, 'select current_database()');
    expect(name).toMatch(/^local_support_[0-9a-f]{12}$/);
    expect(
      await scalar<string>(
        a.url,
        "select count(*)::text from information_schema.tables where table_schema = 'public'",
      ),
    ).toBe('0');

    const lingering = new pg.Client({ connectionString: a.url });
    await lingering.connect();
    lingering.on('error', () => undefined); // terminated by DROP ... WITH (FORCE)
    await a.drop();
    await b.drop();
    expect(
      await scalar<string>(adminUrl(), `select count(*)::text from pg_database where datname = '${name}'`),
    ).toBe('0');
    await lingering.end().catch(() => undefined);
  });
});
