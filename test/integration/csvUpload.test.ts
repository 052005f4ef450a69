/**
 * `POST /api/leads/import`: a CSV streamed through the same normalisation, duplicate check and queue as
 * webhook leads, with per-row results; multipart uploads; a large file end to end (queue and allocator
 * included) with its time and the process's peak RSS measured.
 */
import { stringify } from 'csv-stringify/sync';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { continueUpload } from '../../functions/usecases/csvUpload.js';
import { client, startTestStack, uniquePhone, type TestStack } from '../support/stack.js';

let stack: TestStack;
let api: ReturnType<typeof client>;
let db: pg.Client;

beforeAll(async () => {
  stack = await startTestStack('csvupload');
  api = client(stack);
  db = new pg.Client({ connectionString: stack.databaseUrl });
  await db.connect();
  const team = await Promise.all(['U1', 'U2', 'U3'].map((name) => api.createRecipient({ name })));
  await api.createCampaign({
    key: 'upload',
    poolRecipientIds: team.map((r) => r.id),
    stateRouting: 'ignore',
  });
});
afterAll(async () => {
  await db?.end();
  await stack?.close();
});

async function upload(csv: string | Buffer, query = '?campaign=upload', contentType = 'text/csv') {
  const res = await fetch(`${stack.url}/api/leads/import${query}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${stack.adminToken}`, 'content-type': contentType },
    body: typeof csv === 'string' ? csv : new Blob([new Uint8Array(csv)]),
  });
  return { status: res.status, body: (await res.json()) as any, location: res.headers.get('location') };
}

/** An upload whose API call has no time budget: it handles the first window and answers 202. */
async function uploadWithoutBudget(csv: string) {
  process.env.UPLOAD_BUDGET_MS = '0';
  try {
    return await upload(csv);
  } finally {
    delete process.env.UPLOAD_BUDGET_MS;
  }
}

async function leadsWithPhones(
  phones: string[],
): Promise<{ phone: string; status: string; campaign: string }[]> {
  const out = await db.query(
    `SELECT phone, status, campaign FROM leads WHERE phone = ANY($1) ORDER BY phone`,
    [phones],
  );
  return out.rows;
}

/** Waits until the queue is drained, however long the allocator needs (`idle` alone gives up at 30 s). */
async function drained(): Promise<void> {
  for (;;) {
    try {
      await stack.idle();
      return;
    } catch {
      // still busy: wait again
    }
  }
}

describe('POST /api/leads/import', () => {
  it('imports good rows, reports bad ones by row number and field, and allocates the imported leads', async () => {
    // Prepare
    const phones = [uniquePhone(), uniquePhone(), uniquePhone()];
    const csv = stringify([
      ['Full Name', 'Phone', 'Email', 'State', 'zip'],
      ['Ann Ash', phones[0], 'ann@example.com', 'California', '2134'],
      ['No Phone', '', 'np@example.com', 'CA', ''],
      ['Bob Birch', phones[1], 'bob@example', 'TX', ''],
      ['Cy Cole', phones[2], '', 'ny', '10001'],
    ]);

    // Act
    const res = await upload(csv);
    await stack.idle();

    // Assess
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ complete: true, rows: 4, imported: 2, duplicates: 0, badRows: 2 });
    expect(res.body.bad).toEqual([
      { row: 3, field: 'phone', message: 'is required' },
      { row: 4, field: 'email', message: 'is not a valid email address' },
    ]);
    const leads = await leadsWithPhones(phones);
    expect(leads.map((l) => l.phone).sort()).toEqual([phones[0], phones[2]].sort());
    expect(leads.every((l) => l.status === 'assigned' && l.campaign === 'upload')).toBe(true);

    // The upload stays listed, newest first, with its counts and bad rows (GET /api/leads/import is
    // not taken for a lead id).
    const listed = await api.get('/api/leads/import?limit=1');
    expect(listed.status).toBe(200);
    expect(listed.body.items).toEqual([
      expect.objectContaining({ runId: res.body.runId, imported: 2, badRows: 2, bad: res.body.bad }),
    ]);
    expect(listed.body.items[0].startedAt).toEqual(expect.any(String));
  });

  it('calls a re-uploaded file’s rows duplicates, and a phone seen in the last 24 h a duplicate', async () => {
    const phone = uniquePhone();
    const webhook = await api.postLead({ phone, campaign: 'upload' });
    const csv = stringify([
      ['phone', 'first_name'],
      [phone, 'Dup'],
      [uniquePhone(), 'New'],
    ]);

    const first = await upload(csv);
    const again = await upload(csv);
    await stack.idle();

    expect(first.body).toMatchObject({ imported: 1, duplicates: 1 });
    expect(again.body).toMatchObject({ imported: 0, duplicates: 2 });
    const dupEvents = (await api.lead(webhook.body.leadId)).events.filter(
      (e: { type: string }) => e.type === 'lead.duplicate',
    );
    expect(dupEvents.length).toBeGreaterThanOrEqual(1);
  });

  it('accepts multipart/form-data with one file and a campaign field', async () => {
    const phone = uniquePhone();
    const form = new FormData();
    form.append('campaign', 'upload');
    form.append(
      'file',
      new Blob([
        stringify([
          ['Phone Number', 'Name'],
          [phone, 'Multi Part'],
        ]),
      ]),
      'leads.csv',
    );
    const res = await fetch(`${stack.url}/api/leads/import`, {
      method: 'POST',
      headers: { authorization: `Bearer ${stack.adminToken}` },
      body: form,
    });
    const body = (await res.json()) as { imported: number };
    await stack.idle();
    expect(res.status).toBe(200);
    expect(body.imported).toBe(1);
    expect(await leadsWithPhones([phone])).toMatchObject([{ campaign: 'upload', status: 'assigned' }]);
    const notes = (await api.get('/api/notifications')).body.items;
    expect(notes[0].title).toBe('1 new lead from CSV upload leads.csv');
  });

  it('resumes an upload a worker left mid-window: the rows it had queued are not queued again', async () => {
    // Prepare: three rows uploaded and queued; then the state a worker leaves when it stops after
    // queueing a window but before committing it — an unfinished upload of the same file, nothing
    // committed, the window marked attempted
    const phones = [uniquePhone(), uniquePhone(), uniquePhone()];
    const csv = stringify([['phone', 'name'], ...phones.map((p, i) => [p, `Resume ${i}`])]);
    const first = await upload(csv);
    expect(first.body).toMatchObject({ complete: true, imported: 3 });
    await stack.idle();
    const runId = '0199a9a0-0000-7000-8000-00000000abcd';
    await db.query(
      `INSERT INTO import_runs (id, org_id, import_id, trigger, status, started_at) VALUES ($1, $2, NULL, 'upload', 'running', now())`,
      [runId, stack.orgId],
    );
    await db.query(
      `INSERT INTO import_uploads (run_id, org_id, campaign, content, next_row, attempted_to, created_at)
       VALUES ($1, $2, 'upload', $3, 1, 4, now())`,
      [runId, stack.orgId, Buffer.from(csv)],
    );

    // Act: the import runner picks the upload up
    await stack.runJob('imports');
    await stack.idle();

    // Assess: counted as this upload's rows, no second lead, no duplicate event
    const resumed = (await api.get(`/api/leads/import/${runId}`)).body;
    expect(resumed).toMatchObject({
      status: 'succeeded',
      complete: true,
      rows: 3,
      imported: 3,
      duplicates: 0,
    });
    const leads = await leadsWithPhones(phones);
    expect(leads).toHaveLength(3);
    const events = await db.query(
      `SELECT count(*)::int AS n FROM events e JOIN leads l ON l.id = e.lead_id WHERE l.phone = ANY($1) AND e.type = 'lead.duplicate'`,
      [phones],
    );
    expect(events.rows[0].n).toBe(0);
    const stored = await db.query(`SELECT done, content FROM import_uploads WHERE run_id = $1`, [runId]);
    expect(stored.rows[0]).toEqual({ done: true, content: null });
  });

  it('answers 400 for a file without a phone column, an unknown campaign, or no file', async () => {
    const noPhone = await upload(
      stringify([
        ['name', 'email'],
        ['A', 'a@example.com'],
      ]),
    );
    expect(noPhone.status).toBe(400);
    expect(noPhone.body.issues[0].field).toBe('phone');
    const unknown = await upload(stringify([['phone'], [uniquePhone()]]), '?campaign=nope');
    expect(unknown.status).toBe(400);
    expect(unknown.body.issues[0].field).toBe('campaign');
    const empty = await upload('');
    expect(empty.status).toBe(400);
    expect(empty.body.issues[0].field).toBe('body');
  });

  it('answers 202 with a Location when its time budget runs out, and the import runner finishes the upload', async () => {
    // Prepare: a file of two windows (500 rows each) and no time budget for the API: it handles the
    // first window, then must hand the rest to the import runner
    const phones = Array.from({ length: 700 }, () => uniquePhone());
    const csv = stringify([['phone', 'first_name'], ...phones.map((p, i) => [p, `Budget ${i}`])]);

    // Act
    const answer = await uploadWithoutBudget(csv);

    // Assess: 202, the rows so far, where to poll; polling shows the same until the runner works on it
    expect(answer.status).toBe(202);
    expect(answer.location).toBe(`/api/leads/import/${answer.body.runId}`);
    expect(answer.body).toMatchObject({ status: 'running', complete: false, imported: 500, rows: 500 });
    const polled = await api.get(answer.location!);
    expect(polled.status).toBe(200);
    expect(polled.body).toMatchObject({ complete: false, imported: 500 });

    // Act: the import runner's next tick
    await stack.runJob('imports');

    // Assess: complete, every row once
    const done = await api.get(answer.location!);
    expect(done.body).toMatchObject({
      status: 'succeeded',
      complete: true,
      rows: 700,
      imported: 700,
      duplicates: 0,
      badRows: 0,
    });
    await drained();
    const leads = await leadsWithPhones(phones);
    expect(leads).toHaveLength(700);
  }, 300_000);

  it('finishes an upload that takes more continuations than the give-up limit, as long as each makes progress', async () => {
    // Prepare: 12 windows of 500 rows, the API handling only the first (no time budget)
    const phones = Array.from({ length: 6_000 }, () => uniquePhone());
    const csv = stringify([['phone'], ...phones.map((p) => [p])]);
    const answer = await uploadWithoutBudget(csv);
    expect(answer.status).toBe(202);

    // Act: workers with no time budget either, one window each — 11 more, past the limit of 10
    // attempts without progress
    let continuations = 0;
    let run = await continueUpload(stack.orgId, answer.body.runId, 0);
    for (continuations = 1; run.status === 'running' && continuations < 20; continuations++)
      run = await continueUpload(stack.orgId, answer.body.runId, 0);

    // Assess
    expect(continuations).toBeGreaterThan(10);
    expect(run).toMatchObject({ status: 'succeeded', rowsSeen: 6_000, imported: 6_000, error: null });
  }, 300_000);

  const ROWS = Number(process.env.CSV_UPLOAD_ROWS ?? 5_000);
  it(
    `imports ${ROWS.toLocaleString('en-US')} rows end to end (queue and allocator) with bounded memory`,
    async () => {
      // Prepare: a CSV of ROWS rows, ~70 bytes each
      const lines = ['first_name,last_name,phone,email,state,zip'];
      const base = 2_000_000 + Math.floor(Math.random() * 1_000_000);
      for (let i = 0; i < ROWS; i++) {
        const n = base + i;
        lines.push(
          `First${i},Last${i},(628) ${String(n).slice(0, 3)}-${String(n).slice(3)},p${n}@example.com,CA,94110`,
        );
      }
      const csv = Buffer.from(lines.join('\n'));
      lines.length = 0;
      const rssBefore = process.memoryUsage().rss;
      let peakRss = rssBefore;
      const sampler = setInterval(() => {
        peakRss = Math.max(peakRss, process.memoryUsage().rss);
      }, 100);

      // Act: upload; what the API does not finish within its time limit the import runner does
      const started = performance.now();
      const res = await upload(csv);
      const answered = performance.now();
      expect([200, 202]).toContain(res.status);
      let summary = res.body;
      while (!summary.complete) {
        expect(res.location).toBe(`/api/leads/import/${res.body.runId}`);
        await stack.runJob('imports');
        summary = (await api.get(`/api/leads/import/${res.body.runId}`)).body;
      }
      const queued = performance.now();
      await drained();
      const allocated = performance.now();
      clearInterval(sampler);

      // Assess
      expect(summary).toMatchObject({ status: 'succeeded', rows: ROWS, imported: ROWS, badRows: 0 });
      const stored = await db.query(
        `SELECT status, count(*)::int AS n FROM leads WHERE email LIKE 'p%@example.com' AND campaign = 'upload' GROUP BY 1`,
      );
      expect(stored.rows).toEqual([{ status: 'assigned', n: ROWS }]);
      const mb = (bytes: number) => Math.round(bytes / 1024 / 1024);
      console.log(
        `[csv upload] ${ROWS} rows, ${(csv.length / 1024 / 1024).toFixed(1)} MB: HTTP ${res.status} after ` +
          `${Math.round(answered - started)} ms, all queued ${Math.round(queued - started)} ms, ` +
          `all allocated ${Math.round(allocated - started)} ms; RSS before ${mb(rssBefore)} MB, peak ${mb(peakRss)} MB ` +
          `(process max RSS ${Math.round(process.resourceUsage().maxRSS / 1024)} MB)`,
      );
      // The parser holds a window of rows, not the file's records: growth stays far below what
      // materialising every row as objects would take (several hundred MB for 100k rows).
      expect(peakRss - rssBefore).toBeLessThan(300 * 1024 * 1024);
    },
    Math.max(600_000, ROWS * 40),
  );
});
