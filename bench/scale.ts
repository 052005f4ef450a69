/**
 * Scale: a million leads in the org the admin API serves (inserted with `generate_series`, with an
 * assignment per handled lead, an outcome event each, and day counters that match the rows), then the
 * lead list with each filter, deep cursor pages and the lead detail, over HTTP, one request at a time.
 * Shapes whose p99 misses the target get an EXPLAIN ANALYZE of the same statement, run as the API runs
 * it (role `leadrouter_app`, the org in `app.org_id`).
 */
import type pg from 'pg';
import { STATES, type RealisticSet } from './dataset.js';
import type { RuntimeInfo } from './runtimeChild.js';
import { summarize, type LatencySummary } from './stats.js';

const STATUSES = [
  'assigned',
  'assigned',
  'assigned',
  'assigned',
  'contacted',
  'qualified',
  'won',
  'lost',
  'unassigned',
  'stale',
];

export async function bulkInsertLeads(
  client: pg.Client,
  rt: RuntimeInfo,
  set: RealisticSet,
  count: number,
  log: (m: string) => void,
): Promise<{ seconds: number }> {
  const started = performance.now();
  // Every handled lead carries its decision trace (an entry per candidate: kilobytes for 50 recipients);
  // the bulk rows get a real one, taken from a lead the runtime allocated, so rows are as wide as real ones.
  const sample = await client.query<{ trace: unknown }>(
    `SELECT trace FROM leads WHERE org_id = $1 AND trace IS NOT NULL ORDER BY received_at DESC LIMIT 1`,
    [rt.orgId],
  );
  const trace = JSON.stringify(sample.rows[0]?.trace ?? []);
  // Received over the past weeks, newest a day ago: the product's own leads stay the newest.
  const newest = new Date(Date.now() - 24 * 3600 * 1000);
  const chunk = 100_000;
  for (let from = 1; from <= count; from += chunk) {
    const to = Math.min(count, from + chunk - 1);
    await client.query(
      `WITH ins AS (
         INSERT INTO leads (id, org_id, source_id, phone, email, first_name, last_name, state, zip, campaign,
           attributes, status, reason, trace, received_at, status_changed_at, updated_at)
         SELECT gen_random_uuid(), $1, $2, '+1202' || lpad(g::text, 7, '0'), 'lead' || g || '@example.com',
           'First' || g, 'Bulk', ($3::text[])[1 + g % 10], lpad((g % 99999)::text, 5, '0'), ($4::text[])[1 + g % 2],
           '{}'::jsonb, ($5::text[])[1 + (g / 7) % 10],
           CASE WHEN ($5::text[])[1 + (g / 7) % 10] = 'unassigned' THEN 'no_eligible_recipient' END, $12::jsonb,
           $6::timestamptz - make_interval(secs => g * 2), $6::timestamptz - make_interval(secs => g * 2),
           $6::timestamptz - make_interval(secs => g * 2)
         FROM generate_series($7::int, $8::int) g
         RETURNING id, status, received_at, campaign
       ), picked AS (
         SELECT ins.*, 1 + abs(hashtext(ins.id::text)) % $11::int AS r FROM ins WHERE status <> 'unassigned'
       ), a AS (
         INSERT INTO assignments (org_id, lead_id, recipient_id, reason, assigned_at, lead_received_at, local_day, quota_epoch, counted)
         SELECT $1, p.id, ($9::uuid[])[p.r], 'round_robin', p.received_at, p.received_at,
                (p.received_at AT TIME ZONE ($10::text[])[p.r])::date, 0, true
         FROM picked p
         RETURNING 1
       )
       INSERT INTO events (org_id, type, lead_id, at, data, published_at)
       SELECT $1, CASE WHEN status = 'unassigned' THEN 'lead.unassigned' ELSE 'lead.assigned' END, id, received_at,
              jsonb_build_object('lead', jsonb_build_object('id', id, 'status', status, 'campaign', campaign)), received_at
       FROM ins`,
      [
        rt.orgId,
        rt.sourceId,
        [...STATES],
        [set.campaigns.k3, set.campaigns.k1],
        STATUSES,
        newest,
        from,
        to,
        set.recipients.map((r) => r.id),
        set.recipients.map((r) => r.timezone),
        set.recipients.length,
        trace,
      ],
    );
    log(`  ${to.toLocaleString('en-US')} leads`);
  }
  // Counters equal rows for the inserted history too.
  await client.query(
    `INSERT INTO recipient_day_counts (recipient_id, local_day, assigned)
     SELECT a.recipient_id, a.local_day, count(*) FROM assignments a
     WHERE a.org_id = $1 AND a.assigned_at <= $2 AND a.counted GROUP BY 1, 2
     ON CONFLICT (recipient_id, local_day) DO UPDATE SET assigned = recipient_day_counts.assigned + excluded.assigned`,
    [rt.orgId, newest],
  );
  await client.query('ANALYZE leads, assignments, events, recipient_day_counts');
  return { seconds: Math.round((performance.now() - started) / 100) / 10 };
}

export interface HttpShape {
  name: string;
  path: string;
  /** The lead list statement this shape runs (for EXPLAIN), without the limit. */
  where?: { sql: string; values: unknown[] };
}

export interface ShapeResult {
  name: string;
  path: string;
  latency: LatencySummary;
  /** Server-side time of the list statement as served, output included (EXPLAIN ANALYZE SERIALIZE, warm). */
  sqlMs?: number;
  /** The same statement reading every column, the decision trace included (the list's shape before the fix). */
  sqlMsWithTrace?: number;
  /** The whole plan, kept for shapes that missed the target. */
  plan?: string;
}

async function timedGet(rt: RuntimeInfo, p: string): Promise<{ ms: number; body: any }> {
  const t = performance.now();
  const res = await fetch(rt.url + p, { headers: { authorization: `Bearer ${rt.adminToken}` } });
  const body = await res.json();
  const ms = performance.now() - t;
  if (res.status !== 200) throw new Error(`GET ${p}: ${res.status} ${JSON.stringify(body)}`);
  return { ms, body };
}

export async function measureHttp(
  client: pg.Client,
  rt: RuntimeInfo,
  set: RealisticSet,
  requests: number,
  targetMs: number,
): Promise<ShapeResult[]> {
  const someRecipient = set.recipients[7]!.id;
  const shapes: HttpShape[] = [
    { name: 'newest', path: '/api/leads?limit=50', where: { sql: '', values: [] } },
    {
      name: 'status=assigned',
      path: '/api/leads?status=assigned&limit=50',
      where: { sql: 'l.status = $2', values: ['assigned'] },
    },
    {
      name: 'status=won',
      path: '/api/leads?status=won&limit=50',
      where: { sql: 'l.status = $2', values: ['won'] },
    },
    {
      name: 'state=CA',
      path: '/api/leads?state=CA&limit=50',
      where: { sql: 'l.state = $2', values: ['CA'] },
    },
    {
      name: 'campaign',
      path: `/api/leads?campaign=${set.campaigns.k1}&limit=50`,
      where: { sql: 'l.campaign = $2', values: [set.campaigns.k1] },
    },
    {
      name: 'status=unassigned&state=TX',
      path: '/api/leads?status=unassigned&state=TX&limit=50',
      where: { sql: 'l.status = $2 AND l.state = $3', values: ['unassigned', 'TX'] },
    },
    {
      name: 'recipientId',
      path: `/api/leads?recipientId=${someRecipient}&limit=50`,
      where: {
        sql: 'EXISTS (SELECT 1 FROM assignments a WHERE a.lead_id = l.id AND a.recipient_id = $2 AND a.ended_at IS NULL)',
        values: [someRecipient],
      },
    },
  ];
  const results: ShapeResult[] = [];
  // The floor: the same gateway and process, no database, no auth.
  const floor: number[] = [];
  for (let i = 0; i < requests; i++) {
    const t = performance.now();
    await (await fetch(`${rt.url}/health`)).arrayBuffer();
    floor.push(performance.now() - t);
  }
  results.push({ name: 'health (no database)', path: '/health', latency: summarize(floor) });
  for (const shape of shapes) {
    for (let i = 0; i < 5; i++) await timedGet(rt, shape.path); // warm-up
    const samples: number[] = [];
    for (let i = 0; i < requests; i++) samples.push((await timedGet(rt, shape.path)).ms);
    results.push({ name: shape.name, path: shape.path, latency: summarize(samples) });
  }

  // Cursor pages: walk 20 pages deep (1,000 leads) through the whole list and a filtered one.
  for (const base of ['/api/leads?limit=50', '/api/leads?status=assigned&limit=50']) {
    const samples: number[] = [];
    while (samples.length < requests) {
      let cursor: string | null = null;
      for (let page = 0; page < 20 && samples.length < requests; page++) {
        const { ms, body } = await timedGet(rt, cursor ? `${base}&cursor=${cursor}` : base);
        samples.push(ms);
        cursor = body.nextCursor;
        if (!cursor) break;
      }
    }
    results.push({
      name: `cursor pages (${base.includes('status') ? 'status=assigned' : 'all'})`,
      path: base,
      latency: summarize(samples),
    });
  }

  // Lead detail of leads spread over the whole table.
  const ids = await client.query<{ id: string }>(
    `SELECT id FROM leads TABLESAMPLE SYSTEM (1) WHERE org_id = $1 LIMIT $2`,
    [rt.orgId, requests],
  );
  const detail: number[] = [];
  for (const { id } of ids.rows) detail.push((await timedGet(rt, `/api/leads/${id}`)).ms);
  results.push({ name: 'lead detail', path: '/api/leads/{id}', latency: summarize(detail) });

  for (const r of results) {
    const shape = shapes.find((s) => s.name === r.name);
    if (!shape?.where) continue;
    const plan = await explainList(client, rt.orgId, shape.where, LIST_COLUMNS);
    r.sqlMs = executionMs(plan);
    r.sqlMsWithTrace = executionMs(await explainList(client, rt.orgId, shape.where, 'l.*'));
    if ((r.latency.p99Ms ?? 0) >= targetMs) r.plan = plan;
  }
  return results;
}

/** The columns `listLeads` reads (functions/adapters/pg/leads.ts): all but the trace. */
const LIST_COLUMNS = `l.id, l.org_id, l.source_id, l.phone, l.email, l.first_name, l.last_name, l.state, l.zip,
  l.campaign, l.external_id, l.attributes, l.status, l.reason, NULL::jsonb AS trace, l.reassignment_count,
  l.received_at, l.status_changed_at, l.updated_at`;

/** Execution Time, which with SERIALIZE includes producing the output. */
const executionMs = (plan: string) => Number(/Execution Time: ([\d.]+) ms/.exec(plan)?.[1] ?? NaN);

/**
 * EXPLAIN ANALYZE of the lead list statement as the API runs it (RLS role and org set), with the time to
 * produce the output (SERIALIZE, PostgreSQL 17+: detoasting and encoding the columns the API receives).
 */
export async function explainList(
  client: pg.Client,
  orgId: string,
  where: { sql: string; values: unknown[] },
  columns: string,
): Promise<string> {
  const version = await client.query<{ v: string }>(`SELECT current_setting('server_version_num') AS v`);
  const serialize = Number(version.rows[0]!.v) >= 170000 ? ', SERIALIZE' : '';
  await client.query('BEGIN');
  try {
    await client.query(`SELECT set_config('app.org_id', $1, true)`, [orgId]);
    await client.query('SET LOCAL ROLE leadrouter_app');
    const out = await client.query<{ 'QUERY PLAN': string }>(
      `EXPLAIN (ANALYZE, BUFFERS${serialize}) SELECT ${columns} FROM leads l
       WHERE l.org_id = $1 ${where.sql ? `AND ${where.sql}` : ''}
       ORDER BY l.received_at DESC, l.id DESC LIMIT 51`,
      [orgId, ...where.values],
    );
    return out.rows.map((r) => r['QUERY PLAN']).join('\n');
  } finally {
    await client.query('ROLLBACK');
  }
}
