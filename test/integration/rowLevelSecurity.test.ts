/**
 * Row-level security, the second wall between organizations: inside an org scope (every admin API
 * request), even a query that forgot its org filter sees and writes only that org's rows.
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { read, withOrgScope, withTransaction } from '../../functions/adapters/pg/db.js';
import { createOrg } from '../../functions/usecases/orgs.js';
import { createRecipient } from '../../functions/usecases/recipients.js';
import { startTestStack, type TestStack } from '../support/stack.js';

let stack: TestStack;
let db: pg.Client;

beforeAll(async () => {
  stack = await startTestStack('rls');
  db = new pg.Client({ connectionString: stack.databaseUrl });
  await db.connect();
});
afterAll(async () => {
  await db?.end();
  await stack?.close();
});

const recipientFields = {
  email: null,
  states: [],
  dailyCap: null,
  quota: null,
  weight: 1,
  timezone: 'America/New_York',
  workingHours: null,
  active: true,
};

describe('row-level security', () => {
  it('is enabled, with a policy, on every table that holds org data', async () => {
    const tables = await db.query(`
      SELECT c.relname, c.relrowsecurity, EXISTS (SELECT 1 FROM pg_policies p WHERE p.tablename = c.relname) AS has_policy
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = 'public' AND c.relkind = 'r'
        AND (EXISTS (SELECT 1 FROM information_schema.columns col WHERE col.table_name = c.relname AND col.column_name = 'org_id')
             OR c.relname IN ('orgs', 'recipient_day_counts', 'rotation_state'))`);
    expect(tables.rowCount).toBeGreaterThan(8);
    for (const t of tables.rows)
      expect({ table: t.relname, rls: t.relrowsecurity, policy: t.has_policy }).toEqual({
        table: t.relname,
        rls: true,
        policy: true,
      });
  });

  it('limits an unfiltered query to the scoped org, and refuses writes into another org', async () => {
    const a = await createOrg({ name: `A-${randomUUID()}` });
    const b = await createOrg({ name: `B-${randomUUID()}` });
    await createRecipient(a.orgId, { ...recipientFields, name: 'A one' });
    await createRecipient(b.orgId, { ...recipientFields, name: 'B one' });
    await createRecipient(b.orgId, { ...recipientFields, name: 'B two' });

    // Unscoped (system work) sees everything.
    const all = await read<{ n: number }>(
      `SELECT count(*)::int AS n FROM recipients WHERE org_id IN ($1, $2)`,
      [a.orgId, b.orgId],
    );
    expect(all[0]!.n).toBe(3);

    await withOrgScope(a.orgId, async () => {
      const names = await read<{ name: string }>(`SELECT name FROM recipients ORDER BY name`);
      expect(names.map((r) => r.name)).toEqual(['A one']);
      const orgs = await read<{ id: string }>(`SELECT id FROM orgs`);
      expect(orgs.map((o) => o.id)).toEqual([a.orgId]);
      const updated = await read(`UPDATE recipients SET weight = 9 WHERE org_id = $1 RETURNING id`, [
        b.orgId,
      ]);
      expect(updated).toHaveLength(0);
      await expect(
        withTransaction((tx) =>
          tx.query(`INSERT INTO recipients (id, org_id, name) VALUES ($1, $2, 'sneaky')`, [
            randomUUID(),
            b.orgId,
          ]),
        ),
      ).rejects.toMatchObject({ code: '42501' });
    });
    const weights = await db.query(`SELECT weight FROM recipients WHERE org_id = $1`, [b.orgId]);
    expect(weights.rows.every((r) => r.weight === 1)).toBe(true);
  });
});
