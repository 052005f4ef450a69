/**
 * Sources (intake channels) as the admin API manages them: their settings, rate limit and the hashes
 * of their current and rotated-out webhook secret. Every query is scoped by org.
 */
import { read, type Db } from './db.js';

export interface SourceRecord {
  id: string;
  orgId: string;
  name: string;
  kind: 'webhook' | 'sheet' | 'csv';
  fieldMap: Record<string, string>;
  defaultCampaign: string | null;
  rateLimitPerSecond: number | null;
  rateLimitBurst: number | null;
  previousExpiresAt: Date | null;
  createdAt: Date;
}

/** A source with its secret hashes: only for the use cases that rotate or mirror them. */
export interface SourceWithSecrets extends SourceRecord {
  secretHash: string | null;
  previousSecretHash: string | null;
}

const COLUMNS = `id, org_id AS "orgId", name, kind, field_map AS "fieldMap", default_campaign AS "defaultCampaign",
  rate_limit_per_second AS "rateLimitPerSecond", rate_limit_burst AS "rateLimitBurst",
  previous_expires_at AS "previousExpiresAt", created_at AS "createdAt"`;
const SECRET_COLUMNS = `secret_hash AS "secretHash", previous_secret_hash AS "previousSecretHash"`;

export async function listOrgSources(orgId: string): Promise<SourceRecord[]> {
  return read<SourceRecord>(`SELECT ${COLUMNS} FROM sources WHERE org_id = $1 ORDER BY created_at, id`, [
    orgId,
  ]);
}

export async function findOrgSource(orgId: string, id: string): Promise<SourceRecord | undefined> {
  return (
    await read<SourceRecord>(`SELECT ${COLUMNS} FROM sources WHERE org_id = $1 AND id = $2`, [orgId, id])
  )[0];
}

/** Locks the source row: rotations and edits of one source (and their DynamoDB mirror) run one at a time. */
export async function lockSource(db: Db, orgId: string, id: string): Promise<SourceWithSecrets | undefined> {
  const out = await db.query<SourceWithSecrets>(
    `SELECT ${COLUMNS}, ${SECRET_COLUMNS} FROM sources WHERE org_id = $1 AND id = $2 FOR UPDATE`,
    [orgId, id],
  );
  return out.rows[0];
}

export async function insertWebhookSource(
  db: Db,
  input: {
    id: string;
    orgId: string;
    name: string;
    secretHash: string;
    fieldMap: Record<string, string>;
    defaultCampaign: string | null;
    rateLimit: { perSecond: number; burst: number } | null;
    now: Date;
  },
): Promise<SourceRecord> {
  const out = await db.query<SourceRecord>(
    `INSERT INTO sources (id, org_id, name, kind, secret_hash, field_map, default_campaign,
       rate_limit_per_second, rate_limit_burst, created_at)
     VALUES ($1, $2, $3, 'webhook', $4, $5, $6, $7, $8, $9)
     RETURNING ${COLUMNS}`,
    [
      input.id,
      input.orgId,
      input.name,
      input.secretHash,
      JSON.stringify(input.fieldMap),
      input.defaultCampaign,
      input.rateLimit?.perSecond ?? null,
      input.rateLimit?.burst ?? null,
      input.now,
    ],
  );
  return out.rows[0]!;
}

export interface SourcePatchFields {
  name?: string;
  fieldMap?: Record<string, string>;
  defaultCampaign?: string | null;
  rateLimit?: { perSecond: number; burst: number } | null;
}

export async function updateSource(
  db: Db,
  orgId: string,
  id: string,
  patch: SourcePatchFields,
): Promise<SourceWithSecrets> {
  const sets: string[] = [];
  const values: unknown[] = [orgId, id];
  const set = (column: string, value: unknown) => sets.push(`${column} = $${values.push(value)}`);
  if (patch.name !== undefined) set('name', patch.name);
  if (patch.fieldMap !== undefined) set('field_map', JSON.stringify(patch.fieldMap));
  if (patch.defaultCampaign !== undefined) set('default_campaign', patch.defaultCampaign);
  if (patch.rateLimit !== undefined) {
    set('rate_limit_per_second', patch.rateLimit?.perSecond ?? null);
    set('rate_limit_burst', patch.rateLimit?.burst ?? null);
  }
  const out = await db.query<SourceWithSecrets>(
    `UPDATE sources SET ${sets.length > 0 ? sets.join(', ') : 'name = name'} WHERE org_id = $1 AND id = $2
     RETURNING ${COLUMNS}, ${SECRET_COLUMNS}`,
    values,
  );
  return out.rows[0]!;
}

/** Replaces the secret hashes after a rotation (the old one kept as previous until `previousExpiresAt`). */
export async function setSourceSecrets(
  db: Db,
  orgId: string,
  id: string,
  secrets: { secretHash: string; previousSecretHash: string | null; previousExpiresAt: Date | null },
): Promise<void> {
  await db.query(
    `UPDATE sources SET secret_hash = $3, previous_secret_hash = $4, previous_expires_at = $5
     WHERE org_id = $1 AND id = $2`,
    [orgId, id, secrets.secretHash, secrets.previousSecretHash, secrets.previousExpiresAt],
  );
}
