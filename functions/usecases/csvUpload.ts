/**
 * CSV uploads (`POST /api/leads/import`): every row through the same normalisation, duplicate check
 * and queue as a webhook lead (`ingestLeadBatch`), with per-row results.
 *
 * API Gateway stops waiting after 30 s, and a 100,000-row file takes longer than that to claim and
 * queue, so an upload is a resumable job:
 *  1. The API checks the header (a phone column), stores the file with a run record (one transaction)
 *     — from here nothing is lost, and no answer is a 5xx — and works on it for up to 15 s.
 *  2. The file is parsed as a stream (csv-parse over slices of the stored bytes, so the parser never
 *     holds more than a window of records) and handled a window at a time: mark the window as
 *     attempted, queue its good rows, then commit how far the file is done together with the counts.
 *     Two windows are in flight at once; they commit in file order, each with its own counts.
 *  3. Out of time: the API answers 202 with the counts so far; the import runner (every minute)
 *     continues from the last committed window (as often as needed: only workers that commit
 *     nothing count towards giving up). Finished: 200 with the results, one notification
 *     ("12 new leads from CSV upload leads.csv"), and the stored file is dropped.
 *
 * A row is identified like a sheet row (its id column, else its normalised contact) and that identity
 * is its externalId under the org's upload source, so a row uploaded again is a duplicate. A window
 * that was in flight when a worker stopped is queued again on resume with its identities recognised
 * as this upload's own (`externalIdIsThisRow`): no second lead, and no duplicate event.
 */
import { Readable } from 'node:stream';
import { CsvError } from 'csv-parse';
import { v5 as uuidv5, v7 as uuidv7 } from 'uuid';
import type { SourceSecretRecord } from '../adapters/dynamo/keys.js';
import { withTransaction } from '../adapters/pg/db.js';
import { insertEvents, type NewEvent } from '../adapters/pg/events.js';
import {
  acquireUploadLease,
  completeUpload,
  finishImportRun,
  getImportRun,
  insertImportRun,
  insertUpload,
  markUploadAttempted,
  releaseUploadLease,
  saveUploadProgress,
  type BadRow,
  type ImportRunRow,
  type UploadRow,
} from '../adapters/pg/imports.js';
import { insertSource } from '../adapters/pg/orgs.js';
import { parseCsvRows } from '../adapters/sheets/csvUrl.js';
import { clock } from '../clock.js';
import { NotFoundError, ValidationError, type FieldIssue } from '../domain/errors.js';
import type { NormalizedLead } from '../domain/types.js';
import { logger } from '../powertools.js';
import {
  campaignIssues,
  headerProblem,
  ingestLeadBatch,
  mapRow,
  type IntakeOutcome,
  MAX_BAD_REPORTED,
  notifyImported,
  rowMapping,
  RunTally,
  runView,
  WINDOW_ROWS,
  type RowMapping,
} from './imports.js';
import { publishEvents } from './publishEvents.js';

/** Bytes handed to the parser at a time: it keeps backpressure instead of parsing a whole file at once. */
const CHUNK_BYTES = 64 * 1024;
/**
 * Records consumed between progress commits even when most of them are bad rows. A function, not a
 * constant: imports.ts and this module import each other, so `WINDOW_ROWS` is not yet initialised
 * while this module loads when imports.ts is loaded first (the import runner).
 */
const maxRecordsPerWindow = () => 4 * WINDOW_ROWS;
/** A worker's lease outlives its time budget by this much. */
const LEASE_MARGIN_SECONDS = 120;
/**
 * Workers in a row that took the upload and committed no window (they crashed or kept failing) after
 * which it is given up (recorded as failed). A committed window resets the count.
 */
const MAX_ATTEMPTS = 10;

/** Every org's CSV uploads share one source, so its externalId claims recognise a re-uploaded row. */
const UPLOAD_SOURCE_NAMESPACE = 'a4f0a0d2-5b1e-4a55-9c0e-2c7f1f7f3a11';
export const uploadSourceId = (orgId: string) => uuidv5(`csv-upload:${orgId}`, UPLOAD_SOURCE_NAMESPACE);

export interface UploadSummary {
  runId: string;
  status: ImportRunRow['status'];
  /** True once every row was handled (or the file broke off as invalid CSV, reported in `bad`). */
  complete: boolean;
  rows: number;
  imported: number;
  duplicates: number;
  badRows: number;
  bad: BadRow[];
  badTruncated: boolean;
  error: string | null;
  startedAt: Date;
  finishedAt: Date | null;
}

export function uploadSummary(run: ImportRunRow): UploadSummary {
  return {
    runId: run.id,
    status: run.status,
    complete: run.status !== 'running',
    rows: run.rowsSeen,
    imported: run.imported,
    duplicates: run.duplicates,
    badRows: run.badRows,
    bad: run.bad,
    badTruncated: run.bad.length >= MAX_BAD_REPORTED,
    error: run.error,
    startedAt: run.startedAt,
    finishedAt: run.finishedAt,
  };
}

/** The bytes as a stream of slices (views, not copies). */
function sliced(bytes: Buffer): Readable {
  return Readable.from(
    (function* () {
      for (let i = 0; i < bytes.length; i += CHUNK_BYTES) yield bytes.subarray(i, i + CHUNK_BYTES);
    })(),
  );
}

/** The header row's mapping, or a 400: no header, or no phone column. */
async function headerOf(content: Buffer, columnMap: Record<string, string>, campaign: string) {
  try {
    for await (const row of parseCsvRows(sliced(content))) {
      if (row.cells.every((c) => c.trim() === '')) continue;
      const mapping = rowMapping(row.cells, columnMap, campaign);
      const problem = headerProblem(mapping);
      if (problem) throw new ValidationError([problem], 'The CSV has no phone column');
      return mapping;
    }
  } catch (error) {
    if (error instanceof CsvError)
      throw new ValidationError(
        [{ field: 'body', message: `Not valid CSV: ${error.message}` }],
        'Not valid CSV',
      );
    throw error;
  }
  throw new ValidationError([{ field: 'body', message: 'The CSV is empty (no header row)' }]);
}

/**
 * Step 1: check and store the upload, then work on it for up to `budgetMs`. Returns the summary so
 * far; `complete: false` means the import runner is finishing it.
 */
export async function uploadLeadsCsv(
  orgId: string,
  input: { content: Buffer; campaign: string; columnMap?: Record<string, string>; fileName?: string },
  budgetMs: number,
): Promise<UploadSummary> {
  const issues = await campaignIssues(orgId, input.campaign);
  if (issues.length > 0) throw new ValidationError(issues);
  await headerOf(input.content, input.columnMap ?? {}, input.campaign);
  const now = clock().now();
  const runId = uuidv7();
  await withTransaction(async (db) => {
    await insertSource(db, {
      id: uploadSourceId(orgId),
      orgId,
      name: 'CSV upload',
      kind: 'csv',
      secretHash: null,
      fieldMap: {},
      defaultCampaign: null,
      now,
    });
    await insertImportRun(db, {
      id: runId,
      orgId,
      importId: null,
      trigger: 'upload',
      status: 'running',
      startedAt: now,
    });
    await insertUpload(db, {
      runId,
      orgId,
      campaign: input.campaign,
      columnMap: input.columnMap ?? {},
      fileName: input.fileName ?? null,
      content: input.content,
      at: now,
    });
  });
  // From here the file is stored: whatever happens, the answer is the run (202 until it is complete),
  // never a 5xx — the import runner finishes what this request does not.
  try {
    return uploadSummary(await continueUpload(orgId, runId, budgetMs));
  } catch (error) {
    logger.error('CSV upload stored; working on it failed, the import runner continues it', {
      orgId,
      runId,
      error: error as Error,
    });
    return {
      runId,
      status: 'running',
      complete: false,
      rows: 0,
      imported: 0,
      duplicates: 0,
      badRows: 0,
      bad: [],
      badTruncated: false,
      error: null,
      startedAt: now,
      finishedAt: null,
    };
  }
}

export async function getUpload(orgId: string, runId: string): Promise<UploadSummary> {
  const run = await getImportRun(orgId, runId);
  if (!run || run.importId !== null || run.trigger !== 'upload') throw new NotFoundError('Upload not found');
  return uploadSummary(run);
}

/**
 * Steps 2–3: works on the upload until it is done or `budgetMs` has passed. Returns the run as recorded;
 * when another worker holds the upload, returns it untouched.
 */
export async function continueUpload(orgId: string, runId: string, budgetMs: number): Promise<ImportRunRow> {
  const started = performance.now();
  const workerId = uuidv7();
  const upload = await withTransaction((db) =>
    acquireUploadLease(db, {
      orgId,
      runId,
      workerId,
      leaseSeconds: Math.ceil(budgetMs / 1000) + LEASE_MARGIN_SECONDS,
    }),
  );
  const run = await getImportRun(orgId, runId);
  if (!run) throw new NotFoundError('Upload not found');
  if (!upload) return run;

  const tally = RunTally.from(run);
  try {
    if (upload.attempts > MAX_ATTEMPTS) {
      return await finish(
        upload,
        tally,
        'failed',
        `Gave up after ${MAX_ATTEMPTS} attempts without progress (see logs, run ${runId})`,
      );
    }
    // Stop before a window that would not fit in the budget (the API must answer within 30 s).
    const fits = (nextMs: number) => performance.now() - started + nextMs <= budgetMs;
    const outcome = await work(upload, tally, fits);
    if (outcome === 'out_of_time') {
      await withTransaction((db) => releaseUploadLease(db, runId, workerId));
      return (await getImportRun(orgId, runId))!;
    }
    return await finish(upload, tally, 'succeeded', null);
  } catch (error) {
    logger.error('CSV upload failed; the import runner retries it', { orgId, runId, error: error as Error });
    await withTransaction((db) => releaseUploadLease(db, runId, workerId)).catch(() => undefined);
    return (await getImportRun(orgId, runId))!;
  }
}

/** Parses the stored file from where the last worker committed. Returns whether it got to the end. */
async function work(
  upload: UploadRow,
  tally: RunTally,
  fits: (nextMs: number) => boolean,
): Promise<'done' | 'out_of_time'> {
  const source: SourceSecretRecord = {
    orgId: upload.orgId,
    sourceId: uploadSourceId(upload.orgId),
    fieldMap: {},
    defaultCampaign: upload.campaign,
  };
  let mapping: RowMapping | undefined;
  /** The window being read: its good rows, and what its rows count (applied when it commits). */
  let window: Window = { leads: [], rowsSeen: 0, bad: [] };
  let consumed = 0;
  let lastRow = upload.nextRow;
  /** How far rows have been handed to a window (committed or in flight). */
  let handedTo = upload.nextRow;
  /** One window's time from hand-over to commit, the last one measured. */
  let windowMs = 0;
  /** The window in flight: queueing, then its commit (after the one before it). */
  let inFlight: Promise<void> = Promise.resolve();

  // Two windows overlap: while one is claimed and queued (DynamoDB, SQS), the next is read and
  // started, so the stand-ins' processes and this one work at once. Commits stay in file order and
  // each commits only its own counts, so `next_row` and the counts always describe a prefix of the file.
  const handOver = async () => {
    if (lastRow <= handedTo && window.leads.length === 0) return;
    const started = performance.now();
    const current = window;
    window = { leads: [], rowsSeen: 0, bad: [] };
    consumed = 0;
    const end = lastRow;
    handedTo = end;
    const before = inFlight;
    let queued: Promise<IntakeOutcome[]> = Promise.resolve([]);
    if (current.leads.length > 0) {
      await withTransaction((db) => markUploadAttempted(db, upload.runId, end));
      // Rows a stopped worker may already have queued are this upload's own, not duplicates.
      queued = ingestLeadBatch(
        source,
        current.leads.map((r) => r.lead),
        { externalIdIsThisRow: current.leads[0]!.rowNumber <= upload.attemptedTo },
      );
    }
    inFlight = (async () => {
      const outcomes = await queued;
      await before;
      tally.rowsSeen += current.rowsSeen;
      for (const bad of current.bad) tally.reportBad(bad.row, bad.issues);
      outcomes.forEach((outcome, i) => tally.count(outcome, current.leads[i]!.rowNumber));
      await withTransaction((db) => saveUploadProgress(db, { runId: upload.runId, row: end, counts: tally }));
      upload.nextRow = end;
      windowMs = performance.now() - started;
    })();
    // Awaited below or by the next hand-over; this only keeps a failure from being "unhandled" meanwhile.
    inFlight.catch(() => undefined);
    await before;
  };

  const rows = parseCsvRows(sliced(upload.content));
  try {
    for await (const row of rows) {
      if (!mapping) {
        if (row.cells.every((c) => c.trim() === '')) continue;
        mapping = rowMapping(row.cells, upload.columnMap, upload.campaign);
        continue;
      }
      if (row.rowNumber <= upload.nextRow) continue;
      lastRow = row.rowNumber;
      consumed += 1;
      const mapped = mapRow(mapping, row.cells);
      if (mapped.kind !== 'empty') {
        window.rowsSeen += 1;
        if (mapped.kind === 'bad') window.bad.push({ row: row.rowNumber, issues: mapped.issues });
        else window.leads.push({ rowNumber: row.rowNumber, lead: mapped.lead });
      }
      if (window.leads.length >= WINDOW_ROWS || consumed >= maxRecordsPerWindow()) {
        await handOver();
        // Going on means finishing the window in flight and one more.
        if (!fits(2 * windowMs)) {
          await inFlight;
          return 'out_of_time';
        }
      }
    }
    await handOver();
    await inFlight;
    return 'done';
  } catch (error) {
    if (!(error instanceof CsvError)) {
      await inFlight.catch(() => undefined);
      throw error;
    }
    // Broken CSV part-way: what came before is queued and stays so; report where it broke and stop.
    await handOver();
    await inFlight;
    tally.reportBad(lastRow + 1, [
      { field: 'body', message: `Not valid CSV from here on: ${error.message}` },
    ]);
    return 'done';
  }
}

interface Window {
  leads: { rowNumber: number; lead: NormalizedLead }[];
  rowsSeen: number;
  bad: { row: number; issues: FieldIssue[] }[];
}

/** The upload's end: counts, one notification, events; the stored file is dropped. */
async function finish(
  upload: UploadRow,
  tally: RunTally,
  status: 'succeeded' | 'failed',
  error: string | null,
): Promise<ImportRunRow> {
  const now = clock().now();
  const { run, events } = await withTransaction(async (db) => {
    const run = await finishImportRun(db, {
      id: upload.runId,
      status,
      complete: status === 'succeeded',
      rowsSeen: tally.rowsSeen,
      imported: tally.imported,
      duplicates: tally.duplicates,
      unchanged: 0,
      badRows: tally.badRows,
      bad: tally.bad,
      error,
      finishedAt: now,
    });
    await completeUpload(db, upload.runId);
    const name = upload.fileName ? `CSV upload ${upload.fileName}` : 'CSV upload';
    const newEvents: NewEvent[] = [
      { orgId: upload.orgId, type: 'import.completed', data: { importId: null, name, run: runView(run) } },
    ];
    newEvents.push(
      ...(await notifyImported(db, {
        orgId: upload.orgId,
        importId: null,
        name,
        runId: upload.runId,
        tally,
        now,
      })),
    );
    return { run, events: await insertEvents(db, newEvents, now) };
  });
  await publishEvents(events);
  return run;
}
