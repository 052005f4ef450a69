/**
 * Imports from Google Sheets and CSV (SPEC §2: "Google Sheet / CSV ◄── import Lambda ──► same queue"):
 * scheduled or on-demand runs of a configured import (CSV uploads: `csvUpload.ts`, on the same intake).
 *
 * A run of an import, step by step:
 *  1. Take the import's run lease (one run per import at a time; EventBridge delivers at least once and
 *     an operator may press "run" during a scheduled run). A run that finds the lease taken is recorded
 *     as `skipped` and does nothing.
 *  2. Queue the rows an earlier run claimed but never confirmed (it crashed or ran out of time).
 *  3. Read the sheet, a window of rows at a time. Each row is normalised exactly as a webhook body
 *     would be; a bad row is reported with its row number and reason and the rest go on. A good row's
 *     identity is its id column, else a fingerprint of its normalised contact (phone, email, names) —
 *     never its position, so sorting the sheet or inserting and deleting rows changes no identity.
 *  4. Claim the window's identities in PostgreSQL (`INSERT ... ON CONFLICT DO NOTHING RETURNING`): the
 *     unique key hands each identity to exactly one run, ever. Commit.
 *  5. Queue the claimed rows through the same duplicate check and queue as webhook leads
 *     (`ingestLeadBatch`, the batched form of `ingestLead`), with the identity as the lead's externalId.
 *  6. Record each row's outcome (queued / duplicate) and forget its data. Commit.
 *  7. At the end: the run's counts and bad rows, one batched notification ("15 new leads from …"),
 *     `import.completed` and `notification.created` events; release the lease.
 *
 * Timeline of the crash this guards against:
 *   run A claims row R (commit) → sends R to the queue → crashes before step 6.
 *   R stays `claimed` with its data. Run B (after A's lease ran out) takes R in step 2 and queues it
 *   again with the same externalId: DynamoDB's per-source externalId claim already names A's lead, so
 *   no second lead is made; R is recorded as queued with A's lead id. Had A crashed before sending,
 *   the claim is `pending` with A's message, which B re-sends (same deduplication id).
 *   So a row is never lost between claim and queue, and never queued as two leads.
 */
import { createHash } from 'node:crypto';
import { Cron } from 'croner';
import { CsvError } from 'csv-parse';
import pMap from 'p-map';
import { v7 as uuidv7 } from 'uuid';
import { claimKeysTogether, markClaimsQueued, TRANSACT_ITEMS } from '../adapters/dynamo/claimsBatch.js';
import {
  claimLeadKey,
  externalIdKey,
  markClaimQueued,
  phoneKey,
  releaseClaim,
  type ClaimRecord,
  type SourceSecretRecord,
} from '../adapters/dynamo/keys.js';
import { getCampaign } from '../adapters/pg/campaigns.js';
import { withTransaction, type Db } from '../adapters/pg/db.js';
import { insertEvents, type NewEvent, type StoredEvent } from '../adapters/pg/events.js';
import {
  acquireImportLease,
  claimImportRows,
  closeInterruptedRuns,
  finishImportRun,
  getImport,
  insertImport,
  insertImportRun,
  latestImportRuns,
  getImportRun,
  listDueImports,
  listImports,
  listWaitingUploads,
  orgsWithDueImports,
  orgsWithWaitingUploads,
  releaseImportLease,
  settleImportRows,
  takeOrphanedRows,
  updateImport,
  type BadRow,
  type ClaimedRow,
  type ImportCredentials,
  type ImportKind,
  type ImportPatch,
  type ImportRow,
  type ImportRunRow,
} from '../adapters/pg/imports.js';
import { insertSource } from '../adapters/pg/orgs.js';
import { resendSerialized, type LeadMessage, type QueueMessage } from '../adapters/sqs/leadQueue.js';
import { sendLeadMessageBatch, SQS_BATCH_SIZE, type BatchEntry } from '../adapters/sqs/leadQueueBatch.js';
import { csvUrlProblem, readCsvUrlRows } from '../adapters/sheets/csvUrl.js';
import { privateKeyProblem } from '../adapters/sheets/googleAuth.js';
import { SourceFetchError, type SheetRow } from '../adapters/sheets/rows.js';
import { DEFAULT_RANGE, readSheetRows } from '../adapters/sheets/sheetsApi.js';
import { clock } from '../clock.js';
import { config } from '../config.js';
import { NotFoundError, ValidationError, type FieldIssue } from '../domain/errors.js';
import { normalizeLeadInput } from '../domain/normalize.js';
import type { NormalizedLead } from '../domain/types.js';
import { logger } from '../powertools.js';
import { continueUpload } from './csvUpload.js';
import { runScheduledJob, type JobDefinition } from './jobs.js';
import { notifyInTransaction } from './notifications.js';
import { publishEvents } from './publishEvents.js';
import { asciiJson } from '../shared/text.js';

/** Rows per claim/queue/settle step: one round of each per window keeps memory flat whatever the sheet's size. */
export const WINDOW_ROWS = 500;
/** Leads claimed one by one in flight at once (each makes two conditional puts). */
const CLAIM_CONCURRENCY = 32;
/** Claim transactions (50 leads each) in flight at once. */
const TRANSACT_CONCURRENCY = 4;
/** SendMessageBatch requests in flight at once. */
const SEND_CONCURRENCY = 8;
/** Bad rows kept in a run's report; the total is always counted. */
export const MAX_BAD_REPORTED = 1000;
/** A run's lease outlives its time budget by this much: the last window may still be settling. */
const LEASE_MARGIN_SECONDS = 120;

/* ------------------------------------------------------------------------------------------------ */
/* Schedules                                                                                          */

const RATE = /^rate\(\s*(\d+)\s+(minute|minutes|hour|hours|day|days)\s*\)$/;
const UNIT_MS = { minute: 60_000, hour: 3_600_000, day: 86_400_000 } as const;

/** Why an import schedule is not usable, or null: `rate(n minutes|hours|days)` or a five-field cron (UTC). */
export function scheduleProblem(expression: string): string | null {
  const rate = RATE.exec(expression.trim());
  if (rate) return Number(rate[1]) >= 1 ? null : 'a rate must be at least 1';
  const fields = expression.trim().split(/\s+/);
  if (fields.length !== 5)
    return 'must be "rate(10 minutes)" or a cron expression with five fields (minute hour day month weekday, UTC)';
  try {
    new Cron(expression.trim(), { timezone: 'UTC', paused: true });
    return null;
  } catch (error) {
    return `is not a valid cron expression (${(error as Error).message})`;
  }
}

/** The next time an import with this schedule is due after `after`. */
export function nextRunAfter(expression: string, after: Date): Date {
  const rate = RATE.exec(expression.trim());
  if (rate) {
    const unit = (rate[2] ?? 'minute').replace(/s$/, '') as keyof typeof UNIT_MS;
    return new Date(after.getTime() + Number(rate[1]) * UNIT_MS[unit]);
  }
  const next = new Cron(expression.trim(), { timezone: 'UTC', paused: true }).nextRun(after);
  if (!next) throw new Error(`Schedule "${expression}" has no future run`);
  return next;
}

/* ------------------------------------------------------------------------------------------------ */
/* Rows → leads                                                                                       */

/** `First Name`, `first_name` and `firstName` are one column name (as in `normalizeLeadInput`). */
const columnKey = (name: string) => name.toLowerCase().replace(/[^a-z0-9]/g, '');
const CAMPAIGN_COLUMNS = new Set(['campaign', 'campaignkey']);

export interface RowMapping {
  headers: string[];
  /** The import's column map plus our own renames (see `rowMapping`). */
  fieldMap: Record<string, string>;
  campaign: string;
  /** True when the column map sends a column to `campaign`: rows then choose their campaign. */
  rowsChooseCampaign: boolean;
}

/**
 * How rows of a sheet with these headers become lead bodies. The import's campaign routes every row:
 * a sheet's own "Campaign" column (often an ad campaign's name) is kept in attributes as
 * `sheetCampaign` unless the column map explicitly maps a column to `campaign`.
 */
export function rowMapping(
  headers: string[],
  columnMap: Record<string, string>,
  campaign: string,
): RowMapping {
  const fieldMap: Record<string, string> = { ...columnMap };
  const mapped = new Set(Object.keys(columnMap).map(columnKey));
  for (const header of headers) {
    if (header && CAMPAIGN_COLUMNS.has(columnKey(header)) && !mapped.has(columnKey(header)))
      fieldMap[header] = 'sheetCampaign';
  }
  const rowsChooseCampaign = Object.values(columnMap).some((target) =>
    CAMPAIGN_COLUMNS.has(columnKey(target)),
  );
  return { headers, fieldMap, campaign, rowsChooseCampaign };
}

/** A problem with the header row itself (no phone column), or null. */
export function headerProblem(mapping: RowMapping): FieldIssue | null {
  const probe = Object.fromEntries(mapping.headers.filter(Boolean).map((h) => [h, '(415) 555-2671']));
  const result = normalizeLeadInput(probe, { fieldMap: mapping.fieldMap });
  const noPhone = !result.ok && result.issues.some((i) => i.field === 'phone' && i.message === 'is required');
  return noPhone
    ? {
        field: 'phone',
        message: `No phone column among the headers (${mapping.headers.filter(Boolean).join(', ')}); name one "phone" or map it in columnMap`,
      }
    : null;
}

export type MappedRow =
  | { kind: 'empty' }
  | { kind: 'bad'; issues: FieldIssue[] }
  | { kind: 'lead'; key: string; lead: NormalizedLead };

/**
 * One row as a lead: normalised like a webhook body, its identity computed, the identity set as the
 * lead's externalId (so DynamoDB's per-source externalId claim makes re-queueing it idempotent).
 */
export function mapRow(mapping: RowMapping, cells: string[]): MappedRow {
  if (cells.every((c) => c.trim() === '')) return { kind: 'empty' };
  const body: Record<string, unknown> = {};
  mapping.headers.forEach((header, i) => {
    const cell = cells[i];
    if (header && cell !== undefined && cell !== '') body[header] = cell;
  });
  const result = normalizeLeadInput(body, { fieldMap: mapping.fieldMap });
  if (!result.ok) return { kind: 'bad', issues: result.issues };
  const lead = result.lead;
  const key = lead.externalId ?? contactFingerprint(lead);
  return {
    kind: 'lead',
    key,
    lead: {
      ...lead,
      campaign: mapping.rowsChooseCampaign ? (lead.campaign ?? mapping.campaign) : mapping.campaign,
      externalId: key,
    },
  };
}

/** Identity of a row without an id column: the normalised contact, so formatting changes don't matter. */
export function contactFingerprint(lead: NormalizedLead): string {
  const contact = [lead.phone, lead.email ?? '', lead.firstName ?? '', lead.lastName ?? '']
    .join('\u0000')
    .toLowerCase();
  return `fp:${createHash('sha256').update(contact).digest('hex').slice(0, 40)}`;
}

/* ------------------------------------------------------------------------------------------------ */
/* Batched intake: ingestLead for many leads                                                          */

export type IntakeOutcome =
  | { status: 'queued'; leadId: string }
  | { status: 'duplicate'; leadId: string; matchedOn: 'phone' | 'externalId' }
  | { status: 'failed'; message: string };

interface Pending {
  index: number;
  message: LeadMessage;
  /** The message as stored in its claims (re-sent from there if this worker dies before sending it). */
  serialized: string;
  extKey: string;
  pKey: string;
}

/**
 * The batched form of `ingestLead` (same claims, same keys, same messages; see its docblock for the
 * protocol): per lead, claim its externalId for the source (forever) and its phone for the org (the
 * duplicate window) with DynamoDB conditional writes; winners go to the queue ten per SendMessageBatch,
 * then their claims are marked queued (25 per BatchWriteItem); losers are duplicates of the lead the
 * claim names, and a `duplicate` message records the `lead.duplicate` event, as for a webhook.
 *
 * The claims of 50 leads go in one `TransactWriteItems` of 100 conditional puts (claimsBatch.ts):
 * a request per 50 leads instead of two per lead. If a claim is in the way the transaction writes
 * nothing and says which; each lead is then decided exactly as the one-by-one protocol decides it
 * (externalId first, then phone), and the leads whose claims were free go again. A lead sharing a key
 * with an earlier lead of the same batch, or one a racing write made undecidable, takes the one-by-one
 * path after the transactions.
 *
 * `externalIdIsThisRow`: for an import, an existing claim on a row's identity can only be this very row
 * queued by an earlier, interrupted run — it is that lead, not a duplicate, and gets no duplicate
 * event. For an upload it means the same row was uploaded before: a duplicate.
 *
 * A lead SQS would not take (after one retry) gives its claims back and is reported `failed`, so that
 * sending it again later is not called a duplicate.
 */
export async function ingestLeadBatch(
  source: SourceSecretRecord,
  leads: NormalizedLead[],
  opts: { externalIdIsThisRow: boolean },
): Promise<IntakeOutcome[]> {
  const now = clock().now();
  const outcomes: IntakeOutcome[] = new Array(leads.length);
  const pending: Pending[] = [];
  const duplicates: BatchEntry[] = [];
  const windowSeconds = config().duplicateWindowSeconds;

  const prepared: Pending[] = leads.map((lead, index) => {
    const message: LeadMessage = {
      type: 'lead',
      orgId: source.orgId,
      sourceId: source.sourceId,
      leadId: uuidv7({ msecs: now.getTime() }),
      receivedAt: now.toISOString(),
      lead: { ...lead, campaign: lead.campaign ?? source.defaultCampaign },
    };
    return {
      index,
      message,
      serialized: asciiJson(message),
      extKey: externalIdKey(source.sourceId, lead.externalId ?? message.leadId),
      pKey: phoneKey(source.orgId, lead.phone),
    };
  });

  /** A claim lost to `existing`: the lead is a duplicate of it (or, for an import, that very row). */
  const lost = async (p: Pending, existing: ClaimRecord, matchedOn: 'externalId' | 'phone') => {
    await ensureQueued(existing, matchedOn === 'externalId' ? p.extKey : p.pKey, source.orgId);
    const lead = p.message.lead;
    if (matchedOn === 'externalId' && opts.externalIdIsThisRow) {
      outcomes[p.index] = { status: 'queued', leadId: existing.leadId };
      return;
    }
    outcomes[p.index] = { status: 'duplicate', leadId: existing.leadId, matchedOn };
    duplicates.push(duplicateEntry(source, existing.leadId, matchedOn, lead.phone, now));
  };

  /** The webhook's protocol for one lead: externalId claim, then phone claim (giving the first back if the second is lost). */
  const claimOne = async (p: Pending) => {
    const ext = await claimLeadKey({ pk: p.extKey, leadId: p.message.leadId, message: p.serialized, now });
    if (!ext.claimed) return lost(p, ext.existing, 'externalId');
    const phone = await claimLeadKey({
      pk: p.pKey,
      leadId: p.message.leadId,
      message: p.serialized,
      now,
      ttlSeconds: windowSeconds,
    });
    if (!phone.claimed) {
      await releaseClaim(p.extKey, p.message.leadId);
      return lost(p, phone.existing, 'phone');
    }
    pending.push(p);
  };

  /**
   * Both claims of up to 50 leads in one transaction: written, all of them are claimed. Cancelled, the
   * reasons decide each lead as the one-by-one protocol would at that instant — externalId taken:
   * duplicate on it; else phone taken: duplicate on it (the externalId claim the webhook would take
   * and give back is never written); both free: tried again in the next transaction.
   */
  const claimTogether = async (group: Pending[]) => {
    let rows = group;
    for (let attempt = 0; rows.length > 0 && attempt < 3; attempt++) {
      const out = await claimKeysTogether(
        rows.flatMap((p) => [
          { pk: p.extKey, leadId: p.message.leadId, message: p.serialized },
          { pk: p.pKey, leadId: p.message.leadId, message: p.serialized, ttlSeconds: windowSeconds },
        ]),
        now,
      );
      if (out.written) {
        pending.push(...rows);
        return;
      }
      const again: Pending[] = [];
      for (const [i, p] of rows.entries()) {
        const ext = out.reasons[2 * i]!;
        const phone = out.reasons[2 * i + 1]!;
        if (ext.kind === 'taken') await lost(p, ext.existing, 'externalId');
        else if (ext.kind === 'free' && phone.kind === 'taken') await lost(p, phone.existing, 'phone');
        else if (ext.kind === 'free' && phone.kind === 'free') again.push(p);
        else oneByOne.push(p);
      }
      rows = again;
    }
    oneByOne.push(...rows);
  };

  // Groups of leads whose keys are all distinct (a transaction may not name one item twice). A lead
  // sharing a key with an earlier lead of this batch is claimed one by one after the groups, so the
  // earlier lead's claim decides it, as it would for two webhooks in a row.
  const groups: Pending[][] = [];
  const oneByOne: Pending[] = [];
  const inBatch = new Set<string>();
  let group: Pending[] = [];
  for (const p of prepared) {
    if (inBatch.has(p.extKey) || inBatch.has(p.pKey) || p.extKey === p.pKey) {
      oneByOne.push(p);
      continue;
    }
    inBatch.add(p.extKey);
    inBatch.add(p.pKey);
    group.push(p);
    if (group.length * 2 >= TRANSACT_ITEMS) {
      groups.push(group);
      group = [];
    }
  }
  if (group.length > 0) groups.push(group);
  await pMap(groups, claimTogether, { concurrency: TRANSACT_CONCURRENCY });
  await pMap(oneByOne, claimOne, { concurrency: CLAIM_CONCURRENCY });

  const notSent = new Set(
    await sendAll(pending.map((p) => ({ message: p.message, groupPhone: p.message.lead.phone }))),
  );
  await pMap(
    pending.filter((_, i) => notSent.has(i)),
    async (p) => {
      await Promise.all([releaseClaim(p.pKey, p.message.leadId), releaseClaim(p.extKey, p.message.leadId)]);
      outcomes[p.index] = { status: 'failed', message: 'could not be queued; send it again' };
    },
    { concurrency: CLAIM_CONCURRENCY },
  );
  const sent = pending.filter((_, i) => !notSent.has(i));
  const createdAt = Math.floor(now.getTime() / 1000);
  const unmarked = await markClaimsQueued(
    sent.flatMap((p) => [
      { pk: p.pKey, leadId: p.message.leadId, createdAt, expiresAt: createdAt + windowSeconds },
      { pk: p.extKey, leadId: p.message.leadId, createdAt },
    ]),
  );
  if (unmarked > 0) logger.warn('Some claims stay pending (re-sent on their next duplicate)', { unmarked });
  for (const p of sent) outcomes[p.index] = { status: 'queued', leadId: p.message.leadId };

  // Duplicate messages only record `lead.duplicate` events; one SQS would not take is logged, not retried
  // forever (the lead it names is safe either way).
  const lostDuplicates = await sendAll(duplicates);
  if (lostDuplicates.length > 0)
    logger.warn('Some duplicate notices could not be queued', {
      orgId: source.orgId,
      count: lostDuplicates.length,
    });
  return outcomes;
}

function duplicateEntry(
  source: SourceSecretRecord,
  leadId: string,
  matchedOn: 'phone' | 'externalId',
  phone: string,
  now: Date,
): BatchEntry {
  const message: QueueMessage = {
    type: 'duplicate',
    orgId: source.orgId,
    sourceId: source.sourceId,
    leadId,
    receivedAt: now.toISOString(),
    matchedOn,
    attemptId: uuidv7(),
  };
  return { message, groupPhone: phone };
}

/**
 * The claimant of `existing` may have died before queueing (state `pending` with its message): re-send
 * that message (same deduplication id, so harmless if it was sent) and mark the claim queued, as
 * `ingestLead` does, so the lead a claim names is always on the queue.
 */
async function ensureQueued(existing: ClaimRecord, pk: string, orgId: string): Promise<void> {
  if (existing.state !== 'pending' || !existing.message) return;
  await resendSerialized(existing.message);
  await markClaimQueued(pk, existing.leadId);
  const message = JSON.parse(existing.message) as LeadMessage;
  await markClaimQueued(phoneKey(orgId, message.lead.phone), existing.leadId);
}

/** Sends entries ten per request; retries the ones SQS refused once. Returns the indexes never sent. */
async function sendAll(entries: BatchEntry[]): Promise<number[]> {
  const attempt = async (indexes: number[]): Promise<number[]> => {
    const batches: number[][] = [];
    for (let i = 0; i < indexes.length; i += SQS_BATCH_SIZE)
      batches.push(indexes.slice(i, i + SQS_BATCH_SIZE));
    const failed = await pMap(
      batches,
      async (batch) => {
        try {
          const refused = await sendLeadMessageBatch(batch.map((i) => entries[i]!));
          return refused.map((r) => batch[r]!);
        } catch (error) {
          logger.warn('SendMessageBatch failed', { error: error as Error });
          return batch;
        }
      },
      { concurrency: SEND_CONCURRENCY },
    );
    return failed.flat();
  };
  const first = await attempt(entries.map((_, i) => i));
  return first.length === 0 ? [] : attempt(first);
}

/* ------------------------------------------------------------------------------------------------ */
/* Import configuration                                                                               */

export interface ImportInput {
  name: string;
  kind: ImportKind;
  spreadsheetId?: string;
  range?: string;
  url?: string;
  campaign: string;
  columnMap?: Record<string, string>;
  schedule?: string | null;
  apiKey?: string;
  serviceAccount?: { client_email: string; private_key: string };
}

/** What the API shows of an import: everything but its credentials (it says which kind it has). */
export function importView(row: ImportRow, lastRun?: ImportRunRow) {
  const { credentials, credentialsProblem, orgId: _org, ...rest } = row;
  return {
    ...rest,
    auth: credentials?.serviceAccount ? 'service_account' : credentials?.apiKey ? 'api_key' : 'none',
    serviceAccountEmail: credentials?.serviceAccount?.client_email ?? null,
    credentialsProblem: credentialsProblem ?? null,
    lastRun: lastRun ? runView(lastRun) : null,
  };
}

export function runView(run: ImportRunRow) {
  const { orgId: _org, ...rest } = run;
  return rest;
}

export async function campaignIssues(
  orgId: string,
  campaign: string | undefined,
  field = 'campaign',
): Promise<FieldIssue[]> {
  if (campaign === undefined) return [];
  return (await getCampaign(orgId, campaign))
    ? []
    : [{ field, message: `No campaign "${campaign}" in this organization (create it first)` }];
}

function configIssues(input: Partial<ImportInput>): FieldIssue[] {
  const issues: FieldIssue[] = [];
  if (input.kind === 'google_sheet') {
    if (!input.spreadsheetId)
      issues.push({ field: 'spreadsheetId', message: 'is required for a google_sheet import' });
    if (!input.apiKey && !input.serviceAccount)
      issues.push({ field: 'apiKey', message: 'give an apiKey or a serviceAccount to read the sheet with' });
    if (input.apiKey && input.serviceAccount)
      issues.push({ field: 'serviceAccount', message: 'give an apiKey or a serviceAccount, not both' });
    if (input.url) issues.push({ field: 'url', message: 'is for csv_url imports' });
  }
  if (input.kind === 'csv_url') {
    if (!input.url) issues.push({ field: 'url', message: 'is required for a csv_url import' });
    if (input.spreadsheetId) issues.push({ field: 'spreadsheetId', message: 'is for google_sheet imports' });
  }
  if (input.url) {
    const problem = csvUrlProblem(input.url);
    if (problem) issues.push({ field: 'url', message: problem });
  }
  if (input.serviceAccount) {
    const problem = privateKeyProblem(input.serviceAccount.private_key);
    if (problem) issues.push({ field: 'serviceAccount.private_key', message: problem });
  }
  if (input.schedule) {
    const problem = scheduleProblem(input.schedule);
    if (problem) issues.push({ field: 'schedule', message: problem });
  }
  return issues;
}

export async function createImport(orgId: string, input: ImportInput) {
  const issues = [...configIssues(input), ...(await campaignIssues(orgId, input.campaign))];
  if (issues.length > 0) throw new ValidationError(issues);
  const now = clock().now();
  const id = uuidv7();
  const sourceId = uuidv7();
  const credentials: ImportCredentials | null = input.serviceAccount
    ? {
        serviceAccount: {
          client_email: input.serviceAccount.client_email,
          private_key: input.serviceAccount.private_key,
        },
      }
    : input.apiKey
      ? { apiKey: input.apiKey }
      : null;
  await withTransaction(async (db) => {
    await insertSource(db, {
      id: sourceId,
      orgId,
      name: `Import: ${input.name}`,
      kind: input.kind === 'google_sheet' ? 'sheet' : 'csv',
      secretHash: null,
      fieldMap: input.columnMap ?? {},
      defaultCampaign: input.campaign,
      now,
    });
    await insertImport(db, {
      id,
      orgId,
      sourceId,
      name: input.name,
      kind: input.kind,
      spreadsheetId: input.spreadsheetId ?? null,
      range: input.kind === 'google_sheet' ? (input.range ?? DEFAULT_RANGE) : null,
      url: input.url ?? null,
      campaign: input.campaign,
      columnMap: input.columnMap ?? {},
      schedule: input.schedule ?? null,
      credentials,
      active: true,
      // A scheduled import is due at once: its first run need not wait a whole interval.
      nextRunAt: input.schedule ? now : null,
      createdAt: now,
    });
  });
  return importView((await getImport(orgId, id))!);
}

export async function patchImport(orgId: string, id: string, patch: Omit<ImportPatch, 'nextRunAt'>) {
  const current = await getImport(orgId, id);
  if (!current) throw new NotFoundError('Import not found');
  const issues = [
    ...configIssues({ schedule: patch.schedule }),
    ...(await campaignIssues(orgId, patch.campaign)),
  ];
  if (issues.length > 0) throw new ValidationError(issues);
  const now = clock().now();
  const changes: ImportPatch = { ...patch };
  const schedule = 'schedule' in patch ? patch.schedule : current.schedule;
  const active = patch.active ?? current.active;
  if ('schedule' in patch || 'active' in patch)
    changes.nextRunAt = schedule && active ? ('schedule' in patch ? now : (current.nextRunAt ?? now)) : null;
  await withTransaction((db) => updateImport(db, orgId, id, changes, now));
  return getImportView(orgId, id);
}

export async function listImportViews(orgId: string) {
  const rows = await listImports(orgId);
  const runs = new Map(
    (
      await latestImportRuns(
        orgId,
        rows.map((r) => r.id),
      )
    ).map((r) => [r.importId, r]),
  );
  return rows.map((row) => importView(row, runs.get(row.id)));
}

export async function getImportView(orgId: string, id: string) {
  const row = await getImport(orgId, id);
  if (!row) throw new NotFoundError('Import not found');
  const [last] = await latestImportRuns(orgId, [id]);
  return importView(row, last);
}

/* ------------------------------------------------------------------------------------------------ */
/* Runs                                                                                               */

/** What one pass over rows counted. */
export class RunTally {
  /** Resumes counting from a run's recorded counts (an upload continued by another worker). */
  static from(run: Pick<ImportRunRow, 'rowsSeen' | 'imported' | 'duplicates' | 'badRows' | 'bad'>): RunTally {
    return Object.assign(new RunTally(), {
      rowsSeen: run.rowsSeen,
      imported: run.imported,
      duplicates: run.duplicates,
      badRows: run.badRows,
      bad: [...run.bad],
    });
  }

  rowsSeen = 0;
  imported = 0;
  duplicates = 0;
  unchanged = 0;
  badRows = 0;
  bad: BadRow[] = [];

  reportBad(row: number, issues: FieldIssue[]): void {
    this.badRows += 1;
    for (const issue of issues) {
      if (this.bad.length >= MAX_BAD_REPORTED) return;
      this.bad.push({ row, field: issue.field, message: issue.message });
    }
  }

  count(outcome: IntakeOutcome, row: number): void {
    if (outcome.status === 'queued') this.imported += 1;
    else if (outcome.status === 'duplicate') this.duplicates += 1;
    else this.reportBad(row, [{ field: 'row', message: outcome.message }]);
  }
}

function sourceOf(row: ImportRow): SourceSecretRecord {
  return { orgId: row.orgId, sourceId: row.sourceId, fieldMap: {}, defaultCampaign: row.campaign };
}

function rowsOf(row: ImportRow, signal: AbortSignal): AsyncGenerator<SheetRow> {
  if (row.kind === 'csv_url') return readCsvUrlRows({ url: row.url!, signal });
  // The run fails with a reason the owner can act on (enter the credentials again).
  if (row.credentialsProblem) throw new SourceFetchError(row.credentialsProblem);
  const creds = row.credentials ?? {};
  return readSheetRows({
    spreadsheetId: row.spreadsheetId!,
    range: row.range ?? DEFAULT_RANGE,
    auth: creds.serviceAccount ? { serviceAccount: creds.serviceAccount } : { apiKey: creds.apiKey ?? '' },
    signal,
  });
}

/** Queues claimed rows and records their outcomes. */
async function queueClaimed(imp: ImportRow, claimed: ClaimedRow[], tally: RunTally): Promise<void> {
  if (claimed.length === 0) return;
  const outcomes = await ingestLeadBatch(
    sourceOf(imp),
    claimed.map((c) => c.lead),
    { externalIdIsThisRow: true },
  );
  const settled: { rowKey: string; status: 'queued' | 'duplicate'; leadId: string }[] = [];
  outcomes.forEach((outcome, i) => {
    const row = claimed[i]!;
    tally.count(outcome, row.rowNumber);
    if (outcome.status !== 'failed')
      settled.push({ rowKey: row.rowKey, status: outcome.status, leadId: outcome.leadId });
  });
  // A failed row stays `claimed`: the next run queues it from its stored data.
  await withTransaction((db) => settleImportRows(db, { importId: imp.id, at: clock().now(), rows: settled }));
}

export interface RunOptions {
  trigger: 'schedule' | 'manual';
  /** Wall-clock milliseconds this run may spend; the rest of the sheet waits for the next run. */
  budgetMs: number;
}

/**
 * Runs one import now (see the module docblock for the steps). Returns the run as recorded: `skipped`
 * when another run holds the import, `failed` with a reason the owner can act on when the sheet could
 * not be read, else `succeeded` (with `complete: false` when it stopped at its time budget).
 */
export async function runImport(orgId: string, importId: string, opts: RunOptions): Promise<ImportRunRow> {
  const started = performance.now();
  const runId = uuidv7();
  const now = clock().now();
  const begun = await withTransaction(async (db) => {
    const imp = await acquireImportLease(db, {
      orgId,
      importId,
      runId,
      leaseSeconds: Math.ceil(opts.budgetMs / 1000) + LEASE_MARGIN_SECONDS,
    });
    if (!imp) {
      if (!(await getImport(orgId, importId, db))) throw new NotFoundError('Import not found');
      const run = await insertImportRun(db, {
        id: runId,
        orgId,
        importId,
        trigger: opts.trigger,
        status: 'skipped',
        startedAt: now,
        finishedAt: now,
        error: 'Another run of this import is in progress',
      });
      return { imp: undefined, run, events: [] as StoredEvent[] };
    }
    await closeInterruptedRuns(db, { importId, runId, at: now });
    // A scheduled run books the next one first, so a crash cannot make the import due again at once.
    if (opts.trigger === 'schedule' && imp.schedule)
      await updateImport(db, orgId, importId, { nextRunAt: nextRunAfter(imp.schedule, now) }, now);
    const run = await insertImportRun(db, {
      id: runId,
      orgId,
      importId,
      trigger: opts.trigger,
      status: 'running',
      startedAt: now,
    });
    const events = await insertEvents(
      db,
      [{ orgId, type: 'import.started', data: { importId, runId, name: imp.name, trigger: opts.trigger } }],
      now,
    );
    return { imp, run, events };
  });
  await publishEvents(begun.events);
  if (!begun.imp) return begun.run;
  const imp = begun.imp;

  const tally = new RunTally();
  let complete = false;
  let error: string | null = null;
  // Stop before a window that would not fit in the budget (an on-demand run must answer within 30 s).
  const fits = (nextMs: number) => performance.now() - started + nextMs <= opts.budgetMs;
  try {
    complete = await importRows(imp, runId, tally, fits);
  } catch (e) {
    if (e instanceof ValidationError) error = e.issues.map((i) => `${i.field}: ${i.message}`).join('; ');
    else if (e instanceof SourceFetchError) error = e.message;
    else if (e instanceof CsvError) error = `The CSV is not valid: ${e.message}`;
    else {
      logger.error('Import run failed', { orgId, importId, runId, error: e as Error });
      error = 'Internal error while importing; the next run retries';
    }
  }
  return finishRun(imp, runId, tally, complete, error);
}

/** Steps 2–6 of a run. Returns true when every row was looked at. */
async function importRows(
  imp: ImportRow,
  runId: string,
  tally: RunTally,
  fits: (nextMs: number) => boolean,
): Promise<boolean> {
  // 2. Rows an interrupted run claimed but never confirmed.
  for (;;) {
    const orphans = await withTransaction((db) =>
      takeOrphanedRows(db, { importId: imp.id, runId, limit: WINDOW_ROWS }),
    );
    await queueClaimed(imp, orphans, tally);
    if (orphans.length < WINDOW_ROWS) break;
    if (!fits(0)) return false;
  }

  // 3–6. The sheet, a window at a time.
  const abort = new AbortController();
  let mapping: RowMapping | undefined;
  /** Identities met in this run: true = claimed by it (a repeat is a duplicate), false = taken before. */
  const seen = new Map<string, boolean>();
  let window: { rowNumber: number; key: string; lead: NormalizedLead }[] = [];

  let lastFlushMs = 0;
  const flush = async () => {
    const flushStarted = performance.now();
    const fresh = new Map<string, ClaimedRow>();
    const repeats: string[] = [];
    for (const r of window) {
      if (seen.has(r.key) || fresh.has(r.key)) repeats.push(r.key);
      else fresh.set(r.key, { rowKey: r.key, rowNumber: r.rowNumber, lead: r.lead });
    }
    window = [];
    const claimedKeys = await withTransaction((db) =>
      claimImportRows(db, { importId: imp.id, runId, at: clock().now(), rows: [...fresh.values()] }),
    );
    for (const key of fresh.keys()) {
      seen.set(key, claimedKeys.has(key));
      if (!claimedKeys.has(key)) tally.unchanged += 1;
    }
    for (const key of repeats) {
      if (seen.get(key)) tally.duplicates += 1;
      else tally.unchanged += 1;
    }
    await queueClaimed(
      imp,
      [...fresh.values()].filter((r) => claimedKeys.has(r.rowKey)),
      tally,
    );
    lastFlushMs = performance.now() - flushStarted;
  };

  try {
    for await (const row of rowsOf(imp, abort.signal)) {
      if (!mapping) {
        if (row.cells.every((c) => c.trim() === '')) continue;
        mapping = rowMapping(row.cells, imp.columnMap, imp.campaign);
        const problem = headerProblem(mapping);
        if (problem) throw new ValidationError([problem]);
        continue;
      }
      const mapped = mapRow(mapping, row.cells);
      if (mapped.kind === 'empty') continue;
      tally.rowsSeen += 1;
      if (mapped.kind === 'bad') tally.reportBad(row.rowNumber, mapped.issues);
      else window.push({ rowNumber: row.rowNumber, key: mapped.key, lead: mapped.lead });
      if (window.length >= WINDOW_ROWS) {
        await flush();
        if (!fits(1.5 * lastFlushMs)) {
          abort.abort();
          return false;
        }
      }
    }
    await flush();
    return true;
  } finally {
    abort.abort();
  }
}

/**
 * The one notification of a run that imported leads ("15 new leads from Facebook sheet"); none for a
 * run that imported nothing. Returns the `notification.created` event to insert with it.
 */
export async function notifyImported(
  db: Db,
  input: { orgId: string; importId: string | null; name: string; runId: string; tally: RunTally; now: Date },
): Promise<NewEvent[]> {
  const { imported, duplicates, badRows } = input.tally;
  if (imported === 0) return [];
  return notifyInTransaction(db, {
    orgId: input.orgId,
    type: 'leads.imported',
    title: `${imported} new lead${imported === 1 ? '' : 's'} from ${input.name}`,
    subject: `import_run:${input.runId}`,
    data: { importId: input.importId, runId: input.runId, imported, duplicates, badRows },
    now: input.now,
  });
}

/** Step 7: counts, notification, events, lease released — one transaction. */
async function finishRun(
  imp: ImportRow,
  runId: string,
  tally: RunTally,
  complete: boolean,
  error: string | null,
): Promise<ImportRunRow> {
  const now = clock().now();
  const { run, events } = await withTransaction(async (db) => {
    const run = await finishImportRun(db, {
      id: runId,
      status: error ? 'failed' : 'succeeded',
      complete: complete && !error,
      rowsSeen: tally.rowsSeen,
      imported: tally.imported,
      duplicates: tally.duplicates,
      unchanged: tally.unchanged,
      badRows: tally.badRows,
      bad: tally.bad,
      error,
      finishedAt: now,
    });
    await releaseImportLease(db, { importId: imp.id, runId, lastRunAt: now });
    const newEvents: NewEvent[] = [
      {
        orgId: imp.orgId,
        type: 'import.completed',
        data: { importId: imp.id, name: imp.name, run: runView(run) },
      },
    ];
    newEvents.push(
      ...(await notifyImported(db, {
        orgId: imp.orgId,
        importId: imp.id,
        name: imp.name,
        runId,
        tally,
        now,
      })),
    );
    return { run, events: await insertEvents(db, newEvents, now) };
  });
  await publishEvents(events);
  return run;
}

/**
 * The scheduled job (every minute): in each org, every import whose own schedule makes it due runs,
 * most overdue first, within the invocation's time budget (one not reached stays due for the next tick).
 */
export const importsJob: JobDefinition = {
  orgsWithWork: async (now) => [
    ...new Set([...(await orgsWithDueImports(now)), ...(await orgsWithWaitingUploads())]),
  ],
  async runForOrg(orgId, budget) {
    const counts = { ran: 0, skipped: 0, failed: 0, imported: 0, uploadsContinued: 0 };
    for (const id of await listDueImports(orgId, clock().now(), 100)) {
      if (budget.remainingMs() < 5_000) break;
      const run = await runImport(orgId, id, { trigger: 'schedule', budgetMs: budget.remainingMs() });
      if (run.status === 'skipped') counts.skipped += 1;
      else {
        counts.ran += 1;
        counts.imported += run.imported;
        if (run.status === 'failed') counts.failed += 1;
      }
    }
    // CSV uploads the API could not finish within its time limit.
    for (const runId of await listWaitingUploads(orgId, 20)) {
      if (budget.remainingMs() < 5_000) break;
      const before = await getImportRun(orgId, runId);
      const run = await continueUpload(orgId, runId, budget.remainingMs());
      counts.uploadsContinued += 1;
      counts.imported += run.imported - (before?.imported ?? 0);
    }
    return counts;
  },
};

export function runScheduledImports(opts: { budgetMs: number }) {
  return runScheduledJob('imports', importsJob, { budgetMs: opts.budgetMs });
}
