/** Organizations, their admin tokens and their sources (webhook secrets), stored as hashes. */
import { read, type Db } from './db.js';

export async function insertOrg(db: Db, id: string, name: string, now: Date): Promise<void> {
  await db.query(`INSERT INTO orgs (id, name, created_at) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING`, [
    id,
    name,
    now,
  ]);
}

export async function insertAdminToken(
  db: Db,
  input: { id: string; orgId: string; tokenHash: string; label: string; now: Date },
): Promise<void> {
  await db.query(
    `INSERT INTO admin_tokens (id, org_id, token_hash, label, created_at) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (token_hash) DO NOTHING`,
    [input.id, input.orgId, input.tokenHash, input.label, input.now],
  );
}

export async function findOrgByTokenHash(tokenHash: string): Promise<{ orgId: string } | undefined> {
  const rows = await read<{ orgId: string }>(
    `SELECT org_id AS "orgId" FROM admin_tokens WHERE token_hash = $1 AND revoked_at IS NULL`,
    [tokenHash],
  );
  return rows[0];
}

export interface SourceRow {
  id: string;
  orgId: string;
  name: string;
  kind: string;
  fieldMap: Record<string, string>;
  defaultCampaign: string | null;
  previousExpiresAt: Date | null;
  createdAt: Date;
}

const SOURCE_COLUMNS = `id, org_id AS "orgId", name, kind, field_map AS "fieldMap", default_campaign AS "defaultCampaign",
  previous_expires_at AS "previousExpiresAt", created_at AS "createdAt"`;

export async function insertSource(
  db: Db,
  input: {
    id: string;
    orgId: string;
    name: string;
    kind: string;
    secretHash: string | null;
    fieldMap: Record<string, string>;
    defaultCampaign: string | null;
    now: Date;
  },
): Promise<void> {
  await db.query(
    `INSERT INTO sources (id, org_id, name, kind, secret_hash, field_map, default_campaign, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
     ON CONFLICT (id) DO UPDATE SET secret_hash = excluded.secret_hash`,
    [
      input.id,
      input.orgId,
      input.name,
      input.kind,
      input.secretHash,
      JSON.stringify(input.fieldMap),
      input.defaultCampaign,
      input.now,
    ],
  );
}

export async function listSources(orgId: string): Promise<SourceRow[]> {
  return read<SourceRow>(`SELECT ${SOURCE_COLUMNS} FROM sources WHERE org_id = $1 ORDER BY created_at`, [
    orgId,
  ]);
}

export async function getSource(
  orgId: string,
  id: string,
): Promise<(SourceRow & { secretHash: string | null; previousSecretHash: string | null }) | undefined> {
  return (
    await read<SourceRow & { secretHash: string | null; previousSecretHash: string | null }>(
      `SELECT ${SOURCE_COLUMNS}, secret_hash AS "secretHash", previous_secret_hash AS "previousSecretHash" FROM sources WHERE org_id = $1 AND id = $2`,
      [orgId, id],
    )
  )[0];
}
