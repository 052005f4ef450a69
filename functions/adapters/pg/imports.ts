/**
 * Imports (Google Sheet / CSV URL), their runs and the row keys they have taken. See
 * migrations/1700000000200_imports_jobs.sql for why rows are keyed by identity and how a run claims them.
 */
import type { NormalizedLead } from '../../domain/types.js';
import { isSealed, open, seal, SealedValueError } from '../../shared/sealed.js';
import { read, type Db } from './db.js';

export type ImportKind = 'google_sheet' | 'csv_url';

export interface ImportCredentials {
  apiKey?: string;
  serviceAccount?: { client_email: string; private_key: string; token_uri?: string };
}

export interface ImportRow {
  id: string;
  orgId: string;
  sourceId: string;
  name: string;
  kind: ImportKind;
  spreadsheetId: string | null;
  range: string | null;
  url: string | null;
  campaign: string;
  columnMap: Record<string, string>;
  schedule: string | null;
  active: boolean;
  nextRunAt: Date | null;
  lastRunAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
  /**
   * Never leaves the server (see `importView`); sealed at rest (`shared/sealed.ts`) and opened on read.
   * Null with `credentialsProblem` set when the stored value does not open (another CREDENTIALS_KEY).
   */
  credentials: ImportCredentials | null;
  credentialsProblem?: string;
}

/** What the row stores: sealed, bound to the org and the import. */
const sealContext = (orgId: string, id: string) => `org:${orgId}/import:${id}`;

function sealCredentials(orgId: string, id: string, credentials: ImportCredentials | null): string | null {
  return credentials === null ? null : JSON.stringify(seal(credentials, sealContext(orgId, id)));
}

/** Opens the row's credentials; a value stored before sealing existed is read as it is. */
function opened(row: ImportRow | undefined): ImportRow | undefined {
  if (!row || !isSealed(row.credentials)) return row;
  try {
    return { ...row, credentials: open<ImportCredentials>(row.credentials, sealContext(row.orgId, row.id)) };
  } catch (error) {
    if (!(error instanceof SealedValueError)) throw error;
    return { ...row, credentials: null, credentialsProblem: `The stored credentials ${error.message}` };
  }
}

const IMPORT_COLUMNS = `id, org_id AS "orgId", source_id AS "sourceId", name, kind, spreadsheet_id AS "spreadsheetId",
  sheet_range AS "range", url, campaign, column_map AS "columnMap", schedule, active, next_run_at AS "nextRunAt",
  last_run_at AS "lastRunAt", created_at AS "createdAt", updated_at AS "updatedAt", credentials`;

export async function insertImport(db: Db, input: Omit<ImportRow, 'lastRunAt' | 'updatedAt'>): Promise<void> {
  await db.query(
    `INSERT INTO imports (id, org_id, source_id, name, kind, spreadsheet_id, sheet_range, url, campaign, column_map,
       schedule, credentials, active, next_run_at, created_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $15)`,
    [
      input.id,
      input.orgId,
      input.sourceId,
      input.name,
      input.kind,
      input.spreadsheetId,
      input.range,
      input.url,
      input.campaign,
      JSON.stringify(input.columnMap),
      input.schedule,
      sealCredentials(input.orgId, input.id, input.credentials),
      input.active,
      input.nextRunAt,
      input.createdAt,
    ],
  );
}

export interface ImportPatch {
  name?: string;
  campaign?: string;
  columnMap?: Record<string, string>;
  schedule?: string | null;
  active?: boolean;
  nextRunAt?: Date | null;
}

export async function updateImport(
  db: Db,
  orgId: string,
  id: string,
  patch: ImportPatch,
  now: Date,
): Promise<void> {
  const columns: Record<keyof ImportPatch, string> = {
    name: 'name',
    campaign: 'campaign',
    columnMap: 'column_map',
    schedule: 'schedule',
    active: 'active',
    nextRunAt: 'next_run_at',
  };
  const sets: string[] = [];
  const values: unknown[] = [orgId, id, now];
  for (const key of Object.keys(columns) as (keyof ImportPatch)[]) {
    if (!(key in patch)) continue;
    const value = patch[key];
    values.push(key === 'columnMap' ? JSON.stringify(value) : value);
    sets.push(`${columns[key]} = $${values.length}`);
  }
  await db.query(
    `UPDATE imports SET ${[...sets, 'updated_at = $3'].join(', ')} WHERE org_id = $1 AND id = $2`,
    values,
  );
}

export async function getImport(orgId: string, id: string, db?: Db): Promise<ImportRow | undefined> {
  const sql = `SELECT ${IMPORT_COLUMNS} FROM imports WHERE org_id = $1 AND id = $2`;
  if (db) return opened((await db.query<ImportRow>(sql, [orgId, id])).rows[0]);
  return opened((await read<ImportRow>(sql, [orgId, id]))[0]);
}

export async function listImports(orgId: string): Promise<ImportRow[]> {
  const rows = await read<ImportRow>(
    `SELECT ${IMPORT_COLUMNS} FROM imports WHERE org_id = $1 ORDER BY created_at, id`,
    [orgId],
  );
  return rows.map((row) => opened(row)!);
}

/** The org's imports whose schedule says they should have run by `now`, most overdue first. */
export async function listDueImports(orgId: string, now: Date, limit: number): Promise<string[]> {
  const rows = await read<{ id: string }>(
    `SELECT id FROM imports
     WHERE org_id = $1 AND active AND next_run_at IS NOT NULL AND next_run_at <= $2
     ORDER BY next_run_at, id LIMIT $3`,
    [orgId, now, limit],
  );
  return rows.map((r) => r.id);
}

/** Orgs with at least one import due at `now`. */
export async function orgsWithDueImports(now: Date): Promise<string[]> {
  const rows = await read<{ orgId: string }>(
    `SELECT DISTINCT org_id AS "orgId" FROM imports WHERE active AND next_run_at IS NOT NULL AND next_run_at <= $1`,
    [now],
  );
  return rows.map((r) => r.orgId);
}

/**
 * Takes the import's run lease unless another run holds a live one. The UPDATE locks the import row
 * for the moment it runs, so of two runs starting together exactly one sees the lease free. Lease time
 * is database time (`clock_timestamp()`): it bounds a crashed run, whatever the product clock says.
 */
export async function acquireImportLease(
  db: Db,
  input: { orgId: string; importId: string; runId: string; leaseSeconds: number },
): Promise<ImportRow | undefined> {
  const out = await db.query<ImportRow>(
    `UPDATE imports SET lease_run_id = $3, lease_expires_at = clock_timestamp() + make_interval(secs => $4)
     WHERE org_id = $1 AND id = $2 AND (lease_expires_at IS NULL OR lease_expires_at < clock_timestamp())
     RETURNING ${IMPORT_COLUMNS}`,
    [input.orgId, input.importId, input.runId, input.leaseSeconds],
  );
  return opened(out.rows[0]);
}

/**
 * Runs of the import still marked running when a new run holds its lease were interrupted (a crash, a
 * timeout): nobody else can be running it. Their rows are picked up as orphans by the new run.
 */
export async function closeInterruptedRuns(
  db: Db,
  input: { importId: string; runId: string; at: Date },
): Promise<void> {
  await db.query(
    `UPDATE import_runs SET status = 'failed', finished_at = $3,
       error = 'Interrupted before it finished; a later run queued the rows it had taken'
     WHERE import_id = $1 AND status = 'running' AND id <> $2`,
    [input.importId, input.runId, input.at],
  );
}

export async function releaseImportLease(
  db: Db,
  input: { importId: string; runId: string; lastRunAt: Date; nextRunAt?: Date | null },
): Promise<void> {
  await db.query(
    `UPDATE imports SET lease_run_id = NULL, lease_expires_at = NULL, last_run_at = $3,
       next_run_at = CASE WHEN $4::boolean THEN $5::timestamptz ELSE next_run_at END
     WHERE id = $1 AND lease_run_id = $2`,
    [input.importId, input.runId, input.lastRunAt, input.nextRunAt !== undefined, input.nextRunAt ?? null],
  );
}

/* ------------------------------------------------------------------------------------------------ */
/* Runs                                                                                              */

export interface BadRow {
  row: number;
  field: string;
  message: string;
}

export interface ImportRunRow {
  id: string;
  orgId: string;
  importId: string | null;
  trigger: 'schedule' | 'manual' | 'upload';
  status: 'running' | 'succeeded' | 'failed' | 'skipped';
  complete: boolean;
  rowsSeen: number;
  imported: number;
  duplicates: number;
  unchanged: number;
  badRows: number;
  bad: BadRow[];
  error: string | null;
  startedAt: Date;
  finishedAt: Date | null;
}

const RUN_COLUMNS = `id, org_id AS "orgId", import_id AS "importId", trigger, status, complete, rows_seen AS "rowsSeen",
  imported, duplicates, unchanged, bad_rows AS "badRows", bad, error, started_at AS "startedAt",
  finished_at AS "finishedAt"`;

export async function insertImportRun(
  db: Db,
  input: {
    id: string;
    orgId: string;
    importId: string | null;
    trigger: ImportRunRow['trigger'];
    status: ImportRunRow['status'];
    startedAt: Date;
    finishedAt?: Date | null;
    error?: string | null;
  },
): Promise<ImportRunRow> {
  const out = await db.query<ImportRunRow>(
    `INSERT INTO import_runs (id, org_id, import_id, trigger, status, started_at, finished_at, error)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING ${RUN_COLUMNS}`,
    [
      input.id,
      input.orgId,
      input.importId,
      input.trigger,
      input.status,
      input.startedAt,
      input.finishedAt ?? null,
      input.error ?? null,
    ],
  );
  return out.rows[0]!;
}

export async function finishImportRun(
  db: Db,
  input: {
    id: string;
    status: 'succeeded' | 'failed';
    complete: boolean;
    rowsSeen: number;
    imported: number;
    duplicates: number;
    unchanged: number;
    badRows: number;
    bad: BadRow[];
    error: string | null;
    finishedAt: Date;
  },
): Promise<ImportRunRow> {
  const out = await db.query<ImportRunRow>(
    `UPDATE import_runs SET status = $2, complete = $3, rows_seen = $4, imported = $5, duplicates = $6,
       unchanged = $7, bad_rows = $8, bad = $9, error = $10, finished_at = $11
     WHERE id = $1 RETURNING ${RUN_COLUMNS}`,
    [
      input.id,
      input.status,
      input.complete,
      input.rowsSeen,
      input.imported,
      input.duplicates,
      input.unchanged,
      input.badRows,
      JSON.stringify(input.bad),
      input.error,
      input.finishedAt,
    ],
  );
  return out.rows[0]!;
}

export async function listImportRuns(
  orgId: string,
  importId: string,
  limit: number,
  before?: { startedAt: string; id: string },
): Promise<ImportRunRow[]> {
  return read<ImportRunRow>(
    `SELECT ${RUN_COLUMNS} FROM import_runs
     WHERE org_id = $1 AND import_id = $2
       AND ($4::timestamptz IS NULL OR (started_at, id) < ($4::timestamptz, $5::uuid))
     ORDER BY started_at DESC, id DESC LIMIT $3`,
    [orgId, importId, limit, before?.startedAt ?? null, before?.id ?? null],
  );
}

/** CSV uploads (runs of no import), newest first. */
export async function listUploadRuns(
  orgId: string,
  limit: number,
  before?: { startedAt: string; id: string },
): Promise<ImportRunRow[]> {
  return read<ImportRunRow>(
    `SELECT ${RUN_COLUMNS} FROM import_runs
     WHERE org_id = $1 AND import_id IS NULL AND trigger = 'upload'
       AND ($3::timestamptz IS NULL OR (started_at, id) < ($3::timestamptz, $4::uuid))
     ORDER BY started_at DESC, id DESC LIMIT $2`,
    [orgId, limit, before?.startedAt ?? null, before?.id ?? null],
  );
}

export async function latestImportRuns(orgId: string, importIds: string[]): Promise<ImportRunRow[]> {
  return read<ImportRunRow>(
    `SELECT DISTINCT ON (import_id) ${RUN_COLUMNS} FROM import_runs
     WHERE org_id = $1 AND import_id = ANY($2::uuid[]) AND status <> 'skipped'
     ORDER BY import_id, started_at DESC, id DESC`,
    [orgId, importIds],
  );
}

/* ------------------------------------------------------------------------------------------------ */
/* Row keys                                                                                          */

export interface ClaimedRow {
  rowKey: string;
  rowNumber: number;
  /** The normalised lead (campaign and externalId set), enough to queue the row without the sheet. */
  lead: NormalizedLead;
}

/**
 * Claims the keys no run has taken yet and returns those this call took. The unique primary key
 * decides: of two concurrent runs presenting the same key, one inserts it and the other gets nothing.
 */
export async function claimImportRows(
  db: Db,
  input: { importId: string; runId: string; at: Date; rows: ClaimedRow[] },
): Promise<Set<string>> {
  if (input.rows.length === 0) return new Set();
  const out = await db.query<{ rowKey: string }>(
    `INSERT INTO import_rows (import_id, row_key, status, run_id, row_number, data, claimed_at)
     SELECT $1, x.row_key, 'claimed', $2, x.row_number, x.data, $3
     FROM unnest($4::text[], $5::int[], $6::jsonb[]) AS x(row_key, row_number, data)
     ON CONFLICT (import_id, row_key) DO NOTHING
     RETURNING row_key AS "rowKey"`,
    [
      input.importId,
      input.runId,
      input.at,
      input.rows.map((r) => r.rowKey),
      input.rows.map((r) => r.rowNumber),
      input.rows.map((r) => JSON.stringify(r.lead)),
    ],
  );
  return new Set(out.rows.map((r) => r.rowKey));
}

/**
 * Rows claimed by an earlier run that never confirmed them (it crashed or ran out of time between claim
 * and queue). Only called by the run holding the import's lease, so no live run still owns them.
 */
export async function takeOrphanedRows(
  db: Db,
  input: { importId: string; runId: string; limit: number },
): Promise<ClaimedRow[]> {
  const out = await db.query<{ rowKey: string; rowNumber: number | null; lead: NormalizedLead }>(
    `UPDATE import_rows r SET run_id = $2
     FROM (SELECT row_key FROM import_rows WHERE import_id = $1 AND status = 'claimed' AND run_id <> $2
           ORDER BY claimed_at, row_key LIMIT $3 FOR UPDATE) o
     WHERE r.import_id = $1 AND r.row_key = o.row_key
     RETURNING r.row_key AS "rowKey", r.row_number AS "rowNumber", r.data AS lead`,
    [input.importId, input.runId, input.limit],
  );
  return out.rows.map((r) => ({ rowKey: r.rowKey, rowNumber: r.rowNumber ?? 0, lead: r.lead }));
}

/** Records what became of claimed rows: queued (as a new lead) or a duplicate (of an earlier lead). */
export async function settleImportRows(
  db: Db,
  input: {
    importId: string;
    at: Date;
    rows: { rowKey: string; status: 'queued' | 'duplicate'; leadId: string }[];
  },
): Promise<void> {
  if (input.rows.length === 0) return;
  await db.query(
    `UPDATE import_rows r SET status = x.status, lead_id = x.lead_id, settled_at = $2, data = NULL
     FROM unnest($3::text[], $4::text[], $5::uuid[]) AS x(row_key, status, lead_id)
     WHERE r.import_id = $1 AND r.row_key = x.row_key AND r.status = 'claimed'`,
    [
      input.importId,
      input.at,
      input.rows.map((r) => r.rowKey),
      input.rows.map((r) => r.status),
      input.rows.map((r) => r.leadId),
    ],
  );
}

/* ------------------------------------------------------------------------------------------------ */
/* CSV uploads                                                                                       */

export interface UploadRow {
  runId: string;
  orgId: string;
  campaign: string;
  columnMap: Record<string, string>;
  fileName: string | null;
  content: Buffer;
  nextRow: number;
  attemptedTo: number;
  attempts: number;
}

export async function insertUpload(
  db: Db,
  input: {
    runId: string;
    orgId: string;
    campaign: string;
    columnMap: Record<string, string>;
    fileName: string | null;
    content: Buffer;
    at: Date;
  },
): Promise<void> {
  await db.query(
    `INSERT INTO import_uploads (run_id, org_id, campaign, column_map, file_name, content, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7)`,
    [
      input.runId,
      input.orgId,
      input.campaign,
      JSON.stringify(input.columnMap),
      input.fileName,
      input.content,
      input.at,
    ],
  );
}

/**
 * Takes an unfinished upload's lease (see `acquireImportLease` for why a lease) and returns it with its
 * file; undefined when it is done or another worker holds it.
 */
export async function acquireUploadLease(
  db: Db,
  input: { orgId: string; runId: string; workerId: string; leaseSeconds: number },
): Promise<UploadRow | undefined> {
  const out = await db.query<UploadRow>(
    `UPDATE import_uploads SET lease_run_id = $3, lease_expires_at = clock_timestamp() + make_interval(secs => $4),
       attempts = attempts + 1
     WHERE org_id = $1 AND run_id = $2 AND NOT done
       AND (lease_expires_at IS NULL OR lease_expires_at < clock_timestamp())
     RETURNING run_id AS "runId", org_id AS "orgId", campaign, column_map AS "columnMap", file_name AS "fileName",
       content, next_row AS "nextRow", attempted_to AS "attemptedTo", attempts`,
    [input.orgId, input.runId, input.workerId, input.leaseSeconds],
  );
  return out.rows[0];
}

/** Unfinished uploads of the org nobody is working on, oldest first. */
export async function listWaitingUploads(orgId: string, limit: number): Promise<string[]> {
  const rows = await read<{ runId: string }>(
    `SELECT run_id AS "runId" FROM import_uploads
     WHERE org_id = $1 AND NOT done AND (lease_expires_at IS NULL OR lease_expires_at < clock_timestamp())
     ORDER BY created_at LIMIT $2`,
    [orgId, limit],
  );
  return rows.map((r) => r.runId);
}

export async function orgsWithWaitingUploads(): Promise<string[]> {
  const rows = await read<{ orgId: string }>(
    `SELECT DISTINCT org_id AS "orgId" FROM import_uploads
     WHERE NOT done AND (lease_expires_at IS NULL OR lease_expires_at < clock_timestamp())`,
  );
  return rows.map((r) => r.orgId);
}

/** Records that records up to `row` are being handed to the queue (before they are). */
export async function markUploadAttempted(db: Db, runId: string, row: number): Promise<void> {
  await db.query(`UPDATE import_uploads SET attempted_to = GREATEST(attempted_to, $2) WHERE run_id = $1`, [
    runId,
    row,
  ]);
}

/**
 * Commits a window: records up to `row` are processed, with the run's counts as of then. Progress
 * resets `attempts`: it counts the workers in a row that took the upload without getting anywhere, so
 * a large file continued many times is not taken for one that keeps failing.
 */
export async function saveUploadProgress(
  db: Db,
  input: {
    runId: string;
    row: number;
    counts: Pick<ImportRunRow, 'rowsSeen' | 'imported' | 'duplicates' | 'badRows' | 'bad'>;
  },
): Promise<void> {
  await db.query(`UPDATE import_uploads SET next_row = $2, attempts = 0 WHERE run_id = $1`, [
    input.runId,
    input.row,
  ]);
  await db.query(
    `UPDATE import_runs SET rows_seen = $2, imported = $3, duplicates = $4, bad_rows = $5, bad = $6 WHERE id = $1`,
    [
      input.runId,
      input.counts.rowsSeen,
      input.counts.imported,
      input.counts.duplicates,
      input.counts.badRows,
      JSON.stringify(input.counts.bad),
    ],
  );
}

/** Gives the lease back (out of time, or failed: the next runner tick continues). */
export async function releaseUploadLease(db: Db, runId: string, workerId: string): Promise<void> {
  await db.query(
    `UPDATE import_uploads SET lease_run_id = NULL, lease_expires_at = NULL WHERE run_id = $1 AND lease_run_id = $2`,
    [runId, workerId],
  );
}

/** The upload is finished: its file is no longer needed. */
export async function completeUpload(db: Db, runId: string): Promise<void> {
  await db.query(
    `UPDATE import_uploads SET done = true, content = NULL, lease_run_id = NULL, lease_expires_at = NULL
     WHERE run_id = $1`,
    [runId],
  );
}

export async function getImportRun(orgId: string, runId: string): Promise<ImportRunRow | undefined> {
  return (
    await read<ImportRunRow>(`SELECT ${RUN_COLUMNS} FROM import_runs WHERE org_id = $1 AND id = $2`, [
      orgId,
      runId,
    ])
  )[0];
}
