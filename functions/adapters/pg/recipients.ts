/**
 * Recipients (callers, providers, buyers) and their live counters. `assignedToday` is read for each
 * recipient's own local day; `quotaRemaining` is the stored allowance.
 */
import type { WorkingHours } from '../../domain/types.js';
import { read, type Db } from './db.js';

export interface RecipientRow {
  id: string;
  orgId: string;
  name: string;
  email: string | null;
  states: string[];
  dailyCap: number | null;
  quota: number | null;
  quotaRemaining: number | null;
  weight: number;
  timezone: string;
  workingHours: WorkingHours | null;
  active: boolean;
  assignedToday: number;
  createdAt: Date;
  updatedAt: Date;
}

const SELECT = `SELECT r.id, r.org_id AS "orgId", r.name, r.email, r.states, r.daily_cap AS "dailyCap", r.quota,
    r.quota_remaining AS "quotaRemaining", r.weight, r.timezone, r.working_hours AS "workingHours", r.active,
    COALESCE(d.assigned, 0) AS "assignedToday", r.created_at AS "createdAt", r.updated_at AS "updatedAt"
  FROM recipients r
  LEFT JOIN recipient_day_counts d ON d.recipient_id = r.id AND d.local_day = ($2::timestamptz AT TIME ZONE r.timezone)::date`;

export async function listRecipients(orgId: string, now: Date): Promise<RecipientRow[]> {
  return read<RecipientRow>(`${SELECT} WHERE r.org_id = $1 ORDER BY r.created_at, r.id`, [orgId, now]);
}

export async function getRecipient(
  orgId: string,
  id: string,
  now: Date,
  db?: Db,
): Promise<RecipientRow | undefined> {
  const sql = `${SELECT} WHERE r.org_id = $1 AND r.id = $3`;
  const rows = db
    ? (await db.query<RecipientRow>(sql, [orgId, now, id])).rows
    : await read<RecipientRow>(sql, [orgId, now, id]);
  return rows[0];
}

export interface RecipientFields {
  name: string;
  email: string | null;
  states: string[];
  dailyCap: number | null;
  quota: number | null;
  weight: number;
  timezone: string;
  workingHours: WorkingHours | null;
  active: boolean;
}

export async function insertRecipient(
  db: Db,
  orgId: string,
  id: string,
  f: RecipientFields,
  now: Date,
): Promise<void> {
  await db.query(
    `INSERT INTO recipients (id, org_id, name, email, states, daily_cap, quota, quota_remaining, weight, timezone,
       working_hours, active, created_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $8, $9, $10, $11, $12, $12)`,
    [
      id,
      orgId,
      f.name,
      f.email,
      f.states,
      f.dailyCap,
      f.quota,
      f.weight,
      f.timezone,
      f.workingHours ? JSON.stringify(f.workingHours) : null,
      f.active,
      now,
    ],
  );
}

/** Locks one recipient row for an update (the same lock allocation takes, so counters stay exact). */
export async function lockRecipient(
  db: Db,
  orgId: string,
  id: string,
): Promise<{ quota: number | null; quotaRemaining: number | null; quotaEpoch: number } | undefined> {
  const out = await db.query(
    `SELECT quota, quota_remaining AS "quotaRemaining", quota_epoch AS "quotaEpoch" FROM recipients WHERE org_id = $1 AND id = $2 FOR UPDATE`,
    [orgId, id],
  );
  return out.rows[0];
}

/** Assignments counted against the recipient's quota in its current epoch. */
export async function countQuotaUsed(db: Db, id: string, epoch: number): Promise<number> {
  const out = await db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM assignments WHERE recipient_id = $1 AND counted AND quota_epoch = $2`,
    [id, epoch],
  );
  return out.rows[0]?.n ?? 0;
}

export async function updateRecipient(
  db: Db,
  orgId: string,
  id: string,
  f: Partial<RecipientFields> & { quotaRemaining?: number | null },
  now: Date,
): Promise<void> {
  const columns: Record<string, string> = {
    name: 'name',
    email: 'email',
    states: 'states',
    dailyCap: 'daily_cap',
    quota: 'quota',
    quotaRemaining: 'quota_remaining',
    weight: 'weight',
    timezone: 'timezone',
    workingHours: 'working_hours',
    active: 'active',
  };
  const sets: string[] = [];
  const values: unknown[] = [orgId, id, now];
  for (const [key, column] of Object.entries(columns)) {
    if (!(key in f)) continue;
    let v = (f as Record<string, unknown>)[key];
    if (key === 'workingHours') v = v ? JSON.stringify(v) : null;
    values.push(v);
    sets.push(`${column} = $${values.length}`);
  }
  await db.query(
    `UPDATE recipients SET ${[...sets, 'updated_at = $3'].join(', ')} WHERE org_id = $1 AND id = $2`,
    values,
  );
}

/** Which of these ids are recipients of the org (to validate campaign membership). */
export async function existingRecipientIds(orgId: string, ids: string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const rows = await read<{ id: string }>(
    `SELECT id FROM recipients WHERE org_id = $1 AND id = ANY($2::uuid[])`,
    [orgId, ids],
  );
  return new Set(rows.map((r) => r.id));
}

/**
 * Quota reset: every recipient with a quota gets its full allowance back and a new epoch, so that
 * assignments of the old epoch no longer count (and returning one of them credits nothing).
 * Locks recipients in ascending id order, like allocation.
 */
export async function resetQuotas(db: Db, orgId: string): Promise<number> {
  await db.query(`SELECT 1 FROM recipients WHERE org_id = $1 AND quota IS NOT NULL ORDER BY id FOR UPDATE`, [
    orgId,
  ]);
  const out = await db.query(
    `UPDATE recipients SET quota_remaining = quota, quota_epoch = quota_epoch + 1, updated_at = now()
     WHERE org_id = $1 AND quota IS NOT NULL`,
    [orgId],
  );
  return out.rowCount ?? 0;
}
