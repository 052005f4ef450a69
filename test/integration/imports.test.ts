/**
 * Scheduled imports against a local Sheets-compatible API and CSV server, through the whole pipeline
 * (import → DynamoDB claims → SQS FIFO → allocator → PostgreSQL): reorder-safe identity, exactly-once
 * under concurrent runs and crashes, bad rows reported, batched notifications, schedules.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock, setClock, systemClock } from '../../functions/clock.js';
import { startSheetsServer, type SheetsServer } from '../support/sheetsServer.js';
import { client, startTestStack, uniquePhone, type TestStack } from '../support/stack.js';

let stack: TestStack;
let api: ReturnType<typeof client>;
let sheets: SheetsServer;
let db: pg.Client;

beforeAll(async () => {
  sheets = await startSheetsServer();
  process.env.SHEETS_API_BASE_URL = sheets.url;
  process.env.GOOGLE_TOKEN_URL = sheets.tokenUrl;
  stack = await startTestStack('imports');
  api = client(stack);
  db = new pg.Client({ connectionString: stack.databaseUrl });
  await db.connect();
  const team = await Promise.all(['Ana', 'Ben'].map((name) => api.createRecipient({ name })));
  await api.createCampaign({ key: 'sheet', poolRecipientIds: team.map((r) => r.id), stateRouting: 'ignore' });
});
afterAll(async () => {
  setClock(systemClock);
  await db?.end();
  await stack?.close();
  await sheets?.close();
});

const HEADER = ['First Name', 'Last Name', 'Phone Number', 'Email', 'State'];

function person(first: string, last: string): string[] {
  return [
    first,
    last,
    uniquePhone()
      .replace('+1', '(')
      .replace(/^(\(\d{3})/, '$1) '),
    `${first.toLowerCase()}@example.com`,
    'CA',
  ];
}

async function createSheetImport(name: string, rows: string[][], extra: Record<string, unknown> = {}) {
  const id = `sheet${Math.random().toString(36).slice(2)}0000000000`;
  sheets.setSheet(id, rows);
  const res = await api.post('/api/imports', {
    name,
    kind: 'google_sheet',
    spreadsheetId: id,
    campaign: 'sheet',
    apiKey: sheets.apiKey,
    ...extra,
  });
  expect(res.status, res.text).toBe(201);
  return { id: res.body.id as string, sourceId: res.body.sourceId as string, spreadsheetId: id };
}

async function runNow(importId: string) {
  const res = await api.post(`/api/imports/${importId}/run`);
  expect(res.status, res.text).toBe(200);
  return res.body;
}

/** Phones of the leads an import's source produced, as stored (E.164). */
async function importedPhones(sourceId: string): Promise<string[]> {
  const out = await db.query(`SELECT phone FROM leads WHERE source_id = $1 ORDER BY phone`, [sourceId]);
  return out.rows.map((r) => r.phone as string);
}

const e164 = (row: string[]) => `+1${(row[2] ?? '').replace(/\D/g, '')}`;

describe('Google Sheet imports', () => {
  it('imports every row, then after a re-sort with two rows inserted in the middle exactly those two, then nothing', async () => {
    // Prepare: five people, no id column (identity is the normalised contact)
    const people = ['Ada', 'Bo', 'Cy', 'Di', 'Ed'].map((first) => person(first, 'Lee'));
    const imp = await createSheetImport('Facebook sheet', [HEADER, ...people]);

    // Act 1
    const first = await runNow(imp.id);
    await stack.idle();
    // Assess 1
    expect(first).toMatchObject({
      status: 'succeeded',
      complete: true,
      rowsSeen: 5,
      imported: 5,
      duplicates: 0,
      badRows: 0,
    });
    expect(await importedPhones(imp.sourceId)).toEqual(people.map(e164).sort());

    // Act 2: sorted by first name descending, one row deleted, two new rows in the middle
    const added = [person('Flo', 'Ng'), person('Gus', 'Ng')];
    const resorted = [...people].reverse().filter((r) => r[0] !== 'Cy');
    resorted.splice(2, 0, ...added);
    sheets.setSheet(imp.spreadsheetId, [HEADER, ...resorted]);
    const second = await runNow(imp.id);
    await stack.idle();
    // Assess 2
    expect(second).toMatchObject({
      status: 'succeeded',
      rowsSeen: 6,
      imported: 2,
      unchanged: 4,
      duplicates: 0,
    });
    expect(await importedPhones(imp.sourceId)).toEqual([...people, ...added].map(e164).sort());

    // Act 3
    const third = await runNow(imp.id);
    await stack.idle();
    // Assess 3
    expect(third).toMatchObject({ status: 'succeeded', imported: 0, unchanged: 6 });
    expect(await importedPhones(imp.sourceId)).toHaveLength(7);
    const runs = (await api.get(`/api/imports/${imp.id}/runs`)).body.items;
    expect(runs.map((r: { imported: number }) => r.imported)).toEqual([0, 2, 5]);
    // Imported leads are allocated like webhook leads.
    const leads = await db.query(`SELECT status FROM leads WHERE source_id = $1`, [imp.sourceId]);
    expect(leads.rows.every((r) => r.status === 'assigned')).toBe(true);
  });

  it('two concurrent runs import each row once', async () => {
    // Prepare
    const rows = Array.from({ length: 40 }, (_, i) => person(`P${i}`, 'Par'));
    const imp = await createSheetImport('Concurrent', [HEADER, ...rows]);

    // Act: two runs at once (EventBridge's at-least-once delivery, or an operator during a scheduled run)
    const runs = await Promise.all([runNow(imp.id), runNow(imp.id), runNow(imp.id)]);
    await stack.idle();

    // Assess
    expect(runs.reduce((sum, r) => sum + r.imported, 0)).toBe(40);
    expect(runs.filter((r) => r.status === 'skipped').length).toBeGreaterThanOrEqual(1);
    expect(await importedPhones(imp.sourceId)).toEqual(rows.map(e164).sort());
    const keys = await db.query(
      `SELECT count(*)::int AS n, count(DISTINCT lead_id)::int AS leads FROM import_rows WHERE import_id = $1`,
      [imp.id],
    );
    expect(keys.rows[0]).toEqual({ n: 40, leads: 40 });
  });

  it('reports a row with a bad phone by row number and reason, and imports the rest', async () => {
    // Prepare: sheet rows 2..6; row 4 has a bad phone, row 6 a bad email
    const good = [person('Ok', 'One'), person('Ok', 'Two'), person('Ok', 'Three')];
    const badPhone = ['Bad', 'Phone', '555-12', 'bad@example.com', 'CA'];
    const badEmail = [...person('Bad', 'Email')];
    badEmail[3] = 'not-an-email';
    const imp = await createSheetImport('With bad rows', [
      HEADER,
      good[0]!,
      good[1]!,
      badPhone,
      good[2]!,
      badEmail,
    ]);

    // Act
    const run = await runNow(imp.id);
    await stack.idle();

    // Assess
    expect(run).toMatchObject({ imported: 3, badRows: 2 });
    expect(run.bad).toEqual([
      { row: 4, field: 'phone', message: 'is not a valid phone number' },
      { row: 6, field: 'email', message: 'is not a valid email address' },
    ]);
    expect(await importedPhones(imp.sourceId)).toEqual(good.map(e164).sort());
    const listed = (await api.get(`/api/imports/${imp.id}/runs`)).body.items[0];
    expect(listed.bad).toEqual(run.bad);
  });

  it('reads a sheet shared with a service account (RS256 JWT → token), and never returns credentials', async () => {
    // Prepare
    const account = sheets.serviceAccount();
    const rows = [person('Sa', 'One'), person('Sa', 'Two')];
    const imp = await createSheetImport('Service account', [HEADER, ...rows], {
      apiKey: undefined,
      serviceAccount: account,
    });
    const tokensBefore = sheets.requests.token;

    // Act
    const run = await runNow(imp.id);
    await stack.idle();
    const shown = await api.get(`/api/imports/${imp.id}`);
    const listed = await api.get('/api/imports');

    // Assess
    expect(run).toMatchObject({ status: 'succeeded', imported: 2 });
    expect(sheets.requests.token).toBe(tokensBefore + 1);
    expect(shown.body).toMatchObject({ auth: 'service_account', serviceAccountEmail: account.client_email });
    for (const text of [shown.text, listed.text]) {
      expect(text).not.toContain('PRIVATE KEY');
      expect(text).not.toContain(sheets.apiKey);
    }
  });

  it('keeps credentials sealed at rest: the row holds ciphertext bound to its import, and a changed key is reported', async () => {
    // Prepare: one import with a service account, one with an API key
    const account = sheets.serviceAccount();
    const withAccount = await createSheetImport('Sealed account', [HEADER, person('Se', 'One')], {
      apiKey: undefined,
      serviceAccount: account,
    });
    const withKey = await createSheetImport('Sealed key', [HEADER, person('Se', 'Two')]);
    const stored = async (id: string) =>
      (await db.query(`SELECT credentials FROM imports WHERE id = $1`, [id])).rows[0].credentials;

    // Assess: the database holds neither the private key, nor the client email, nor the API key
    for (const id of [withAccount.id, withKey.id]) {
      const raw = JSON.stringify(await stored(id));
      expect(raw).toMatch(/"sealed":"A256GCM\.v1"/);
      expect(raw).not.toContain('PRIVATE KEY');
      expect(raw).not.toContain(account.client_email);
      expect(raw).not.toContain(sheets.apiKey);
    }
    expect(await runNow(withKey.id)).toMatchObject({ status: 'succeeded', imported: 1 });

    // Act: one import's sealed value copied into the other's row does not open there
    await db.query(`UPDATE imports SET credentials = $2 WHERE id = $1`, [
      withKey.id,
      JSON.stringify(await stored(withAccount.id)),
    ]);
    const swapped = await api.get(`/api/imports/${withKey.id}`);
    const swappedRun = await runNow(withKey.id);

    // Assess: reported, the run fails with the reason, nothing else breaks
    expect(swapped.body).toMatchObject({ auth: 'none' });
    expect(swapped.body.credentialsProblem).toMatch(/does not open here/);
    expect(swappedRun.status).toBe('failed');
    expect(swappedRun.error).toMatch(/does not open here/);
    expect((await api.get('/api/imports')).status).toBe(200);

    // Act: another CREDENTIALS_KEY
    const key = process.env.CREDENTIALS_KEY;
    process.env.CREDENTIALS_KEY = 'another-key-another-key-another-key-0123456789';
    try {
      const shown = await api.get(`/api/imports/${withAccount.id}`);
      expect(shown.body.credentialsProblem).toMatch(/another CREDENTIALS_KEY/);
    } finally {
      process.env.CREDENTIALS_KEY = key;
    }
    expect((await api.get(`/api/imports/${withAccount.id}`)).body).toMatchObject({
      auth: 'service_account',
      serviceAccountEmail: account.client_email,
      credentialsProblem: null,
    });
  });

  it('records a failed run with a reason when the sheet is not readable, and recovers on the next run', async () => {
    // Prepare
    const imp = await createSheetImport('Not shared', [HEADER, person('Nu', 'One')]);
    sheets.failNext(403);

    // Act
    const failed = await runNow(imp.id);
    const retried = await runNow(imp.id);
    await stack.idle();

    // Assess
    expect(failed.status).toBe('failed');
    expect(failed.error).toMatch(/403.*not shared/);
    expect(retried).toMatchObject({ status: 'succeeded', imported: 1 });
  });

  it('queues a row a crashed run claimed but never confirmed — once', async () => {
    // Prepare: one row imported normally; then the state a crash leaves behind — that row and a new row
    // claimed (with their data) but not confirmed
    const [kept, lost] = [person('Cr', 'Kept'), person('Cr', 'Lost')];
    const imp = await createSheetImport('Crash', [HEADER, kept]);
    await runNow(imp.id);
    await stack.idle();
    const before = await db.query(`SELECT row_key, lead_id FROM import_rows WHERE import_id = $1`, [imp.id]);
    const keptKey = before.rows[0].row_key as string;
    const keptLead = before.rows[0].lead_id as string;
    const stored = (await api.lead(keptLead)) as Record<string, unknown>;
    const leadData = (row: string[], key: string) => ({
      phone: e164(row),
      email: row[3],
      firstName: row[0],
      lastName: row[1],
      state: 'CA',
      zip: null,
      campaign: 'sheet',
      externalId: key,
      attributes: {},
    });
    await db.query(
      `UPDATE import_rows SET status = 'claimed', data = $2, settled_at = NULL WHERE import_id = $1`,
      [imp.id, JSON.stringify(leadData(kept, keptKey))],
    );
    await db.query(
      `INSERT INTO import_rows (import_id, row_key, status, run_id, row_number, data, claimed_at)
       VALUES ($1, 'lost-row', 'claimed', gen_random_uuid(), 3, $2, now())`,
      [imp.id, JSON.stringify(leadData(lost, 'lost-row'))],
    );

    // Act
    const run = await runNow(imp.id);
    await stack.idle();

    // Assess: the lost row is a lead now; the kept row is still its one lead
    expect(run.imported).toBe(2);
    expect(await importedPhones(imp.sourceId)).toEqual([kept, lost].map(e164).sort());
    const after = await db.query(
      `SELECT row_key, status, lead_id, data FROM import_rows WHERE import_id = $1 ORDER BY row_key`,
      [imp.id],
    );
    expect(after.rows.every((r) => r.status === 'queued' && r.data === null)).toBe(true);
    expect(after.rows.find((r) => r.row_key === keptKey)?.lead_id).toBe(keptLead);
    expect(stored.id).toBe(keptLead);
  });

  it('sends one notification per run ("N new leads from <import>"), none for a run that imported nothing', async () => {
    // Prepare
    const before = (await api.get('/api/notifications?limit=200')).body.items.length;
    const imp = await createSheetImport('Notify me', [
      HEADER,
      ...['A', 'B', 'C'].map((f) => person(f, 'Nt')),
    ]);

    // Act
    await runNow(imp.id);
    await runNow(imp.id);
    await stack.idle();

    // Assess
    const list = (await api.get('/api/notifications?limit=200')).body;
    expect(list.items.length).toBe(before + 1);
    expect(list.items[0]).toMatchObject({
      type: 'leads.imported',
      title: '3 new leads from Notify me',
      readAt: null,
    });
    const events = (await api.get('/api/events?after=0&limit=1000')).body.items;
    expect(
      events.filter((e: { type: string }) => e.type === 'notification.created').at(-1).data.notification.id,
    ).toBe(list.items[0].id);
    const read = await api.post('/api/notifications/read', { ids: [list.items[0].id] });
    expect(read.body).toEqual({ marked: 1 });
  });

  it('answers 400 naming every field of an invalid import', async () => {
    const res = await api.post('/api/imports', {
      name: 'Broken',
      kind: 'google_sheet',
      campaign: 'no-such-campaign',
      schedule: 'every day',
    });
    expect(res.status).toBe(400);
    expect(res.body.issues.map((i: { field: string }) => i.field).sort()).toEqual(
      ['apiKey', 'campaign', 'schedule', 'spreadsheetId'].sort(),
    );
  });
});

describe('CSV URL imports', () => {
  it('takes identity from the id column: an edited row is not imported again, a new id is', async () => {
    // Prepare
    const header = ['id', 'full_name', 'phone', 'state', 'Campaign'];
    const rows = [
      ['L-1', 'Ann Ash', uniquePhone(), 'ca', 'Summer Promo 2025'],
      ['L-2', 'Bob Birch', uniquePhone(), 'New York', 'Summer Promo 2025'],
    ];
    sheets.setSheet('published', [header, ...rows]);
    const created = await api.post('/api/imports', {
      name: 'Published CSV',
      kind: 'csv_url',
      url: sheets.csvUrl('published'),
      campaign: 'sheet',
    });
    expect(created.status, created.text).toBe(201);
    const imp = created.body;

    // Act
    const first = await runNow(imp.id);
    sheets.setSheet('published', [
      header,
      ['L-2', 'Bob Birch-Jones', rows[1]![2]!, 'NY', 'x'],
      rows[0]!,
      ['L-3', 'Cy Cole', uniquePhone(), 'TX', ''],
    ]);
    const second = await runNow(imp.id);
    await stack.idle();

    // Assess
    expect(first).toMatchObject({ imported: 2, badRows: 0 });
    expect(second).toMatchObject({ imported: 1, unchanged: 2 });
    const leads = await db.query(
      `SELECT external_id, first_name, state, campaign, attributes FROM leads WHERE source_id = $1 ORDER BY external_id`,
      [imp.sourceId],
    );
    expect(leads.rows.map((r) => r.external_id)).toEqual(['L-1', 'L-2', 'L-3']);
    // The sheet's own "Campaign" column does not re-route rows; it is kept.
    expect(leads.rows[0]).toMatchObject({
      state: 'CA',
      campaign: 'sheet',
      attributes: { sheetCampaign: 'Summer Promo 2025' },
    });
  });
});

describe('scheduled imports', () => {
  it('runs an import when its own schedule makes it due, and records the job run', async () => {
    // Prepare
    const clock = new ManualClock('2030-03-01T12:00:00Z');
    setClock(clock);
    try {
      const imp = await createSheetImport('Every 10 minutes', [HEADER, person('Sc', 'One')], {
        schedule: 'rate(10 minutes)',
      });

      // Act + Assess: due at once
      await stack.runJob('imports');
      let runs = (await api.get(`/api/imports/${imp.id}/runs`)).body.items;
      expect(runs).toHaveLength(1);
      expect(runs[0]).toMatchObject({ trigger: 'schedule', imported: 1 });
      expect((await api.get(`/api/imports/${imp.id}`)).body.nextRunAt).toBe('2030-03-01T12:10:00.000Z');

      // Not due again before its next run
      clock.advance(5 * 60_000);
      await stack.runJob('imports');
      expect((await api.get(`/api/imports/${imp.id}/runs`)).body.items).toHaveLength(1);

      // Due after ten minutes
      sheets.setSheet(imp.spreadsheetId, [HEADER, person('Sc', 'One'), person('Sc', 'Two')]);
      clock.advance(5 * 60_000);
      await stack.runJob('imports');
      runs = (await api.get(`/api/imports/${imp.id}/runs`)).body.items;
      expect(runs).toHaveLength(2);

      const jobRuns = (await api.get('/api/jobs/runs?job=imports')).body.items;
      expect(jobRuns[0]).toMatchObject({
        job: 'imports',
        trigger: 'schedule',
        status: 'succeeded',
      });
      expect(jobRuns[0].result).toMatchObject({ ran: 1 });

      // Paused: never due
      await api.patch(`/api/imports/${imp.id}`, { active: false });
      clock.advance(60 * 60_000);
      await stack.runJob('imports');
      expect((await api.get(`/api/imports/${imp.id}/runs`)).body.items).toHaveLength(2);
    } finally {
      setClock(systemClock);
      await stack.idle();
    }
  });
});
