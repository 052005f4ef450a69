/**
 * Imports (Google Sheet / CSV URL) and CSV uploads. See docs/imports.md for connecting a sheet.
 */
import busboy from 'busboy';
import { z } from 'zod';
import { listImportRuns, listUploadRuns, type ImportRunRow } from '../../adapters/pg/imports.js';
import { ValidationError } from '../../domain/errors.js';
import { header, rawBody, type HttpEvent } from '../../http/middleware.js';
import { getUpload, uploadLeadsCsv, uploadSummary } from '../../usecases/csvUpload.js';
import {
  createImport,
  getImportView,
  listImportViews,
  patchImport,
  runImport,
  runView,
} from '../../usecases/imports.js';
import { decodeCursor, encodeCursor } from '../cursor.js';
import { route } from '../router.js';
import { ErrorBody } from '../schemas.js';
import { jobRoutes } from './jobs.js';
import { isTimeIdCursor, notificationRoutes } from './notifications.js';

/** An on-demand run answers within the HTTP API's 30 s limit; what it does not reach, the next run does. */
const MANUAL_RUN_BUDGET_MS = 15_000;
/**
 * An upload works within the HTTP API's 30 s limit (the function's own timeout is 29 s): 15 s on rows,
 * leaving room for storing the file first and for a slow last window; the import runner does the rest.
 * `UPLOAD_BUDGET_MS` overrides it (tests set 0: the first window, then 202).
 */
const uploadBudgetMs = () => {
  const configured = Number(process.env.UPLOAD_BUDGET_MS);
  return process.env.UPLOAD_BUDGET_MS && Number.isFinite(configured) && configured >= 0 ? configured : 15_000;
};

const CampaignKey = z
  .string()
  .min(1)
  .max(100)
  .regex(/^[A-Za-z0-9_.-]+$/, 'Letters, digits, "_", "." and "-" only');

const ColumnMap = z
  .record(z.string().min(1).max(200), z.string().min(1).max(100))
  .refine((m) => Object.keys(m).length <= 100, 'At most 100 columns')
  .openapi({ example: { 'Mobile #': 'phone', 'Lead ID': 'externalId' } });

const Schedule = z.string().trim().min(1).max(100).openapi({
  description: '`rate(10 minutes)` or a five-field cron expression (UTC)',
  example: 'rate(10 minutes)',
});

const ServiceAccount = z
  .object({
    client_email: z.email(),
    private_key: z.string().min(100).max(10_000),
  })
  .loose()
  .openapi('ServiceAccountKey', {
    description: 'The JSON key file of a Google service account, as downloaded',
  });

const ImportCreate = z
  .object({
    name: z.string().trim().min(1).max(200),
    kind: z.enum(['google_sheet', 'csv_url']),
    spreadsheetId: z
      .string()
      .trim()
      .regex(/^[A-Za-z0-9_-]{10,200}$/, 'The id between /d/ and /edit in the sheet’s URL')
      .optional(),
    range: z.string().trim().min(1).max(200).optional().openapi({ example: 'Leads!A:Z' }),
    url: z.string().trim().max(2000).optional(),
    campaign: CampaignKey,
    columnMap: ColumnMap.optional(),
    schedule: Schedule.nullable().optional(),
    apiKey: z.string().trim().min(10).max(200).optional(),
    serviceAccount: ServiceAccount.optional(),
  })
  .strict()
  .openapi('ImportCreate');

const ImportPatch = z
  .object({
    name: z.string().trim().min(1).max(200),
    campaign: CampaignKey,
    columnMap: ColumnMap,
    schedule: Schedule.nullable(),
    active: z.boolean(),
  })
  .partial()
  .strict()
  .openapi('ImportPatch');

const BadRowSchema = z.object({ row: z.number(), field: z.string(), message: z.string() }).openapi('BadRow');

const ImportRun = z
  .object({
    id: z.uuid(),
    importId: z.uuid().nullable(),
    trigger: z.enum(['schedule', 'manual', 'upload']),
    status: z.enum(['running', 'succeeded', 'failed', 'skipped']),
    complete: z.boolean(),
    rowsSeen: z.number(),
    imported: z.number(),
    duplicates: z.number(),
    unchanged: z.number(),
    badRows: z.number(),
    bad: z.array(BadRowSchema),
    error: z.string().nullable(),
    startedAt: z.string(),
    finishedAt: z.string().nullable(),
  })
  .openapi('ImportRun');

const Import = z
  .object({
    id: z.uuid(),
    sourceId: z.uuid(),
    name: z.string(),
    kind: z.enum(['google_sheet', 'csv_url']),
    spreadsheetId: z.string().nullable(),
    range: z.string().nullable(),
    url: z.string().nullable(),
    campaign: z.string(),
    columnMap: z.record(z.string(), z.string()),
    schedule: z.string().nullable(),
    active: z.boolean(),
    auth: z.enum(['api_key', 'service_account', 'none']),
    serviceAccountEmail: z.string().nullable(),
    credentialsProblem: z
      .string()
      .nullable()
      .openapi({ description: 'Set when the stored credentials cannot be opened (CREDENTIALS_KEY changed)' }),
    nextRunAt: z.string().nullable(),
    lastRunAt: z.string().nullable(),
    lastRun: ImportRun.nullable(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi('Import');

const UploadSummary = z
  .object({
    runId: z.uuid(),
    status: z.enum(['running', 'succeeded', 'failed']),
    complete: z.boolean(),
    rows: z.number(),
    imported: z.number(),
    duplicates: z.number(),
    badRows: z.number(),
    bad: z.array(BadRowSchema),
    badTruncated: z.boolean(),
    error: z.string().nullable(),
    startedAt: z.string(),
    finishedAt: z.string().nullable(),
  })
  .openapi('UploadSummary');

/** A page of runs (fetched `limit + 1`, newest first) and the cursor after its last one. */
function runsPage<T>(rows: ImportRunRow[], limit: number, view: (run: ImportRunRow) => T) {
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return {
    items: page.map(view),
    nextCursor:
      rows.length > limit && last ? encodeCursor({ t: last.startedAt.toISOString(), id: last.id }) : null,
  };
}

const RunsQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(20),
  cursor: z.string().max(200).optional(),
});

const UploadQuery = z.object({
  campaign: CampaignKey.default('default'),
  columnMap: z
    .string()
    .max(10_000)
    .optional()
    .openapi({ description: 'JSON object, column name → lead field', example: '{"Mobile #":"phone"}' }),
});

function parseColumnMap(raw: string | undefined): Record<string, string> | undefined {
  if (raw === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    throw new ValidationError([{ field: 'columnMap', message: 'must be a JSON object' }]);
  }
  const parsed = ColumnMap.safeParse(value);
  if (!parsed.success)
    throw new ValidationError(
      parsed.error.issues.map((i) => ({ field: ['columnMap', ...i.path].join('.'), message: i.message })),
    );
  return parsed.data;
}

/**
 * The CSV of an upload: the body itself (`text/csv`), or the one file of a `multipart/form-data` body,
 * whose text fields (`campaign`, `columnMap`) may stand in for the query parameters. API Gateway delivers
 * a body whole (at most 10 MB); the file is stored as it is and then parsed as a stream.
 */
async function uploadedCsv(
  event: HttpEvent,
): Promise<{ content: Buffer; fields: Record<string, string>; fileName?: string }> {
  const contentType = header(event, 'content-type') ?? '';
  const type = contentType.split(';')[0]!.trim().toLowerCase();
  const bytes = rawBody(event);
  if (bytes.length === 0) throw new ValidationError([{ field: 'body', message: 'The CSV is empty' }]);
  if (type === 'text/csv' || type === 'application/csv' || type === 'text/plain' || type === '')
    return { content: bytes, fields: {} };
  if (type !== 'multipart/form-data')
    throw new ValidationError([
      { field: 'body', message: `Send text/csv or multipart/form-data with one file (got ${type})` },
    ]);
  const invalid = (error: unknown) =>
    new ValidationError([{ field: 'body', message: (error as Error).message }]);
  return new Promise((resolve, reject) => {
    const fields: Record<string, string> = {};
    const chunks: Buffer[] = [];
    let fileName: string | undefined;
    let files = 0;
    let parser: busboy.Busboy;
    try {
      parser = busboy({ headers: { 'content-type': contentType }, limits: { files: 1, fields: 20 } });
    } catch (error) {
      reject(invalid(error));
      return;
    }
    parser.on('field', (name, value) => {
      fields[name] = value;
    });
    parser.on('file', (_name, stream, info) => {
      files += 1;
      fileName = info.filename;
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    });
    parser.on('error', (error) => reject(invalid(error)));
    parser.on('close', () => {
      if (files === 0)
        reject(
          new ValidationError([
            { field: 'file', message: 'A multipart upload needs one file part (the CSV)' },
          ]),
        );
      else resolve({ content: Buffer.concat(chunks), fields, fileName });
    });
    parser.end(bytes);
  });
}

const importRunRoutes = [
  route({
    method: 'POST',
    path: '/api/imports',
    summary: 'Create a scheduled import from a Google Sheet (Sheets API v4) or a published CSV URL',
    tag: 'Imports',
    auth: 'admin',
    body: ImportCreate,
    responses: {
      201: { description: 'Created (credentials are never returned)', schema: Import },
      400: { description: 'Invalid, every problem by field', schema: ErrorBody },
    },
    handle: async ({ orgId, body }) => ({ status: 201, body: await createImport(orgId, body) }),
  }),
  route({
    method: 'GET',
    path: '/api/imports',
    summary: 'List imports with their last run',
    tag: 'Imports',
    auth: 'admin',
    responses: { 200: { description: 'Imports', schema: z.object({ items: z.array(Import) }) } },
    handle: async ({ orgId }) => ({ status: 200, body: { items: await listImportViews(orgId) } }),
  }),
  route({
    method: 'GET',
    path: '/api/imports/{id}',
    summary: 'An import with its last run',
    tag: 'Imports',
    auth: 'admin',
    uuidParams: ['id'],
    responses: {
      200: { description: 'Import', schema: Import },
      404: { description: 'Not found', schema: ErrorBody },
    },
    handle: async ({ orgId, params }) => ({ status: 200, body: await getImportView(orgId, params.id!) }),
  }),
  route({
    method: 'PATCH',
    path: '/api/imports/{id}',
    summary: 'Rename, re-route, re-map, re-schedule or pause ({"active": false}) an import',
    tag: 'Imports',
    auth: 'admin',
    uuidParams: ['id'],
    body: ImportPatch,
    responses: {
      200: { description: 'Updated', schema: Import },
      404: { description: 'Not found', schema: ErrorBody },
    },
    handle: async ({ orgId, params, body }) => ({
      status: 200,
      body: await patchImport(orgId, params.id!, body),
    }),
  }),
  route({
    method: 'POST',
    path: '/api/imports/{id}/run',
    summary: 'Run an import now; answers with the run (skipped when another run of it is in progress)',
    tag: 'Imports',
    auth: 'admin',
    uuidParams: ['id'],
    responses: {
      200: { description: 'The run', schema: ImportRun },
      404: { description: 'Not found', schema: ErrorBody },
    },
    handle: async ({ orgId, params }) => ({
      status: 200,
      body: runView(
        await runImport(orgId, params.id!, { trigger: 'manual', budgetMs: MANUAL_RUN_BUDGET_MS }),
      ),
    }),
  }),
  route({
    method: 'GET',
    path: '/api/imports/{id}/runs',
    summary: 'Runs of an import, newest first: counts and bad rows (row number, field, reason)',
    tag: 'Imports',
    auth: 'admin',
    uuidParams: ['id'],
    query: RunsQuery,
    responses: {
      200: {
        description: 'Runs',
        schema: z.object({ items: z.array(ImportRun), nextCursor: z.string().nullable() }),
      },
      404: { description: 'Not found', schema: ErrorBody },
    },
    handle: async ({ orgId, params, query }) => {
      await getImportView(orgId, params.id!);
      const before = decodeCursor(query.cursor, isTimeIdCursor);
      const rows = await listImportRuns(
        orgId,
        params.id!,
        query.limit + 1,
        before && { startedAt: before.t, id: before.id },
      );
      return { status: 200, body: runsPage(rows, query.limit, runView) };
    },
  }),
  route({
    method: 'POST',
    path: '/api/leads/import',
    summary:
      'Upload a CSV of leads (text/csv, or multipart/form-data with one file; at most 10 MB); every row through the webhook’s checks and queue',
    tag: 'Imports',
    auth: 'admin',
    query: UploadQuery,
    responses: {
      200: {
        description: 'Done: per-row results (bad rows: first 1000, with the total)',
        schema: UploadSummary,
      },
      202: {
        description: 'Stored; results so far — the import runner finishes it (poll the Location)',
        schema: UploadSummary,
      },
      400: { description: 'Not CSV, no phone column, unknown campaign', schema: ErrorBody },
    },
    handle: async ({ orgId, query, event }) => {
      const { content, fields, fileName } = await uploadedCsv(event);
      const campaign = fields.campaign ? CampaignKey.safeParse(fields.campaign) : undefined;
      if (campaign && !campaign.success)
        throw new ValidationError([
          { field: 'campaign', message: campaign.error.issues[0]?.message ?? 'Invalid' },
        ]);
      const summary = await uploadLeadsCsv(
        orgId,
        {
          content,
          campaign: campaign?.data ?? query.campaign,
          columnMap: parseColumnMap(fields.columnMap ?? query.columnMap),
          fileName,
        },
        uploadBudgetMs(),
      );
      return {
        status: summary.complete ? 200 : 202,
        body: summary,
        headers: summary.complete ? undefined : { location: `/api/leads/import/${summary.runId}` },
      };
    },
  }),
  route({
    method: 'GET',
    path: '/api/leads/import',
    summary: 'Past CSV uploads, newest first, with their counts and bad rows',
    tag: 'Imports',
    auth: 'admin',
    query: RunsQuery,
    responses: {
      200: {
        description: 'Uploads',
        schema: z.object({ items: z.array(UploadSummary), nextCursor: z.string().nullable() }),
      },
    },
    handle: async ({ orgId, query }) => {
      const before = decodeCursor(query.cursor, isTimeIdCursor);
      const rows = await listUploadRuns(
        orgId,
        query.limit + 1,
        before && { startedAt: before.t, id: before.id },
      );
      return { status: 200, body: runsPage(rows, query.limit, uploadSummary) };
    },
  }),
  route({
    method: 'GET',
    path: '/api/leads/import/{runId}',
    summary: 'An upload’s results so far (complete: false while the import runner is still on it)',
    tag: 'Imports',
    auth: 'admin',
    uuidParams: ['runId'],
    responses: {
      200: { description: 'The upload', schema: UploadSummary },
      404: { description: 'Not found', schema: ErrorBody },
    },
    handle: async ({ orgId, params }) => ({ status: 200, body: await getUpload(orgId, params.runId!) }),
  }),
];

/** Imports, uploads, and the jobs and notifications that come with them (one registration in index.ts). */
export const importRoutes = [...importRunRoutes, ...jobRoutes, ...notificationRoutes];
