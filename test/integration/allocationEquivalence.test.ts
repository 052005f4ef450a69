/**
 * The per-lead allocator (`allocateMessage`, one transaction per message) and the batched one
 * (`allocateBatch`, one transaction per SQS batch, decisions taken in memory) must be the same
 * function of the message sequence: the same message sequence, run through each on the same fresh
 * dataset (same ids, same clock), must leave identical assignments, reasons, traces, lead statuses,
 * events, day counters, quotas and rotation state. The dataset exercises k = 1 and k = 3, static
 * recipients (required and optional), caps reached mid-batch, quotas with an epoch, state routing
 * prefer/require/ignore, a pool-less campaign (every active recipient), working hours, a timezone whose
 * local day differs, weights, seeded rotation rows, returning contacts (from history and from earlier in
 * the same batch), duplicates, unknown and stock campaigns, and redelivered messages (within a batch and
 * across batches). An example-based sequence first, then random sequences and batch cuts (fast-check).
 */
import fc from 'fast-check';
import pg from 'pg';
import { v7 as uuidv7 } from 'uuid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { groupIdFor, type QueueMessage } from '../../functions/adapters/sqs/leadQueue.js';
import { ManualClock, setClock, systemClock } from '../../functions/clock.js';
import { allocateBatch } from '../../functions/usecases/allocateBatch.js';
import { allocateMessage } from '../../functions/usecases/allocateLead.js';
import { startTestStack, type TestStack } from '../support/stack.js';

const NOW = '2026-03-10T19:00:00Z'; // a Tuesday, mid-afternoon in every US timezone
let stack: TestStack;
let db: pg.Client;

beforeAll(async () => {
  setClock(new ManualClock(NOW));
  stack = await startTestStack('alloc_equivalence');
  db = new pg.Client({ connectionString: stack.databaseUrl });
  await db.connect();
});
afterAll(async () => {
  setClock(systemClock);
  await db?.end();
  await stack?.close();
});

interface Dataset {
  orgId: string;
  historyLeadId: string;
  r: Record<string, string>;
  c: Record<string, string>;
}

function newDataset(): Dataset {
  const names = ['S1', 'P1', 'P2', 'P3', 'P4', 'P5', 'P6', 'G1', 'I1', 'T1'];
  return {
    orgId: uuidv7(),
    historyLeadId: uuidv7(),
    r: Object.fromEntries(names.map((n) => [n, uuidv7()])),
    c: Object.fromEntries(['k1', 'k3s', 'req', 'all', 'opt', 'stk'].map((k) => [k, uuidv7()])),
  };
}

/** Creates the dataset with fixed ids (so both runs see the same tie-break hashes). */
async function createDataset(d: Dataset): Promise<void> {
  const { r, c } = d;
  await db.query(`INSERT INTO orgs (id, name) VALUES ($1, 'equivalence')`, [d.orgId]);
  const recipients: [string, Record<string, unknown>][] = [
    ['S1', { quota: 4, quota_remaining: 4, quota_epoch: 2 }],
    ['P1', { states: ['CA'], daily_cap: 2 }],
    ['P2', { states: ['TX'], daily_cap: 3 }],
    ['P3', { states: ['CA'] }],
    ['P4', { states: ['NY'], quota: 5, quota_remaining: 3, quota_epoch: 1 }],
    // Off hours: Tuesday 15:00 in New York is outside 08:00–12:00.
    ['P5', { states: ['TX'], working_hours: { tue: ['08:00', '12:00'] } }],
    ['P6', { states: ['TX', 'FL'], weight: 2, daily_cap: 5 }],
    ['G1', { states: [] }],
    ['I1', { states: ['CA'], active: false }],
    // Tokyo: already Wednesday there, so its counter is kept for another local day.
    ['T1', { states: ['NY'], timezone: 'Asia/Tokyo', daily_cap: 4 }],
  ];
  for (const [name, f] of recipients)
    await db.query(
      `INSERT INTO recipients (id, org_id, name, states, daily_cap, quota, quota_remaining, quota_epoch, weight,
         timezone, working_hours, active)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
      [
        r[name],
        d.orgId,
        name,
        f.states ?? [],
        f.daily_cap ?? null,
        f.quota ?? null,
        f.quota_remaining ?? null,
        f.quota_epoch ?? 0,
        f.weight ?? 1,
        f.timezone ?? 'America/New_York',
        f.working_hours ? JSON.stringify(f.working_hours) : null,
        f.active ?? true,
      ],
    );
  const campaigns: [string, Record<string, unknown>][] = [
    ['k1', { k: 1, pool: ['P1', 'P2', 'P3', 'P4', 'P5', 'P6', 'G1', 'I1'], routing: 'ignore' }],
    ['k3s', { k: 3, statics: ['S1'], pool: ['P1', 'P2', 'P3', 'P4', 'G1', 'T1'], routing: 'prefer' }],
    ['req', { k: 1, pool: ['P1', 'P2', 'P3', 'P4', 'T1'], routing: 'require' }],
    ['all', { k: 2, pool: null, routing: 'prefer' }],
    ['opt', { k: 2, statics: ['I1', 'S1'], optional: true, pool: ['P3', 'P4', 'T1'], routing: 'ignore' }],
    ['stk', { k: 1, pool: [], routing: 'ignore', mode: 'stock' }],
  ];
  for (const [key, f] of campaigns)
    await db.query(
      `INSERT INTO campaigns (id, org_id, key, name, recipients_per_lead, static_recipient_ids, pool_recipient_ids,
         state_routing, static_optional, mode)
       VALUES ($1, $2, $3, $3, $4, $5, $6, $7, $8, $9)`,
      [
        c[key],
        d.orgId,
        key,
        f.k,
        ((f.statics as string[] | undefined) ?? []).map((n) => r[n]),
        f.pool === null ? null : (f.pool as string[]).map((n) => r[n]),
        f.routing,
        f.optional ?? false,
        f.mode ?? 'push',
      ],
    );
  // Rotation history in k1 for some members (the others are new to it and get seeded).
  for (const [name, picks] of [
    ['P1', 3],
    ['P2', 2],
    ['P3', 3],
  ] as const)
    await db.query(
      `INSERT INTO rotation_state (campaign_id, recipient_id, picks, last_picked_at) VALUES ($1, $2, $3, $4)`,
      [c.k1, r[name], picks, new Date(Date.parse(NOW) - 3_600_000 * picks)],
    );
  // A contact seen yesterday, assigned to P4: its phone comes back as a returning contact.
  const history = d.historyLeadId;
  await db.query(
    `INSERT INTO leads (id, org_id, phone, campaign, status, received_at, status_changed_at)
     VALUES ($1, $2, '+14155550100', 'k1', 'assigned', $3, $3)`,
    [history, d.orgId, new Date(Date.parse(NOW) - 86_400_000)],
  );
  await db.query(
    `INSERT INTO assignments (org_id, lead_id, recipient_id, reason, assigned_at, local_day, quota_epoch)
     VALUES ($1, $2, $3, 'round_robin', $4, '2026-03-09', 1)`,
    [d.orgId, history, r.P4, new Date(Date.parse(NOW) - 86_400_000)],
  );
  await db.query(
    `INSERT INTO recipient_day_counts (recipient_id, local_day, assigned) VALUES ($1, '2026-03-09', 1)`,
    [r.P4],
  );
}

/** Everything the allocator writes in the org, with the surrogate keys (bigserial ids) left out. */
async function snapshot(orgId: string) {
  const q = async (sql: string) => (await db.query(sql, [orgId])).rows;
  return {
    leads: await q(
      `SELECT id, status, reason, trace, reassignment_count, campaign FROM leads WHERE org_id = $1 ORDER BY id`,
    ),
    assignments: await q(
      `SELECT lead_id, recipient_id, reason, assigned_at, local_day::text, quota_epoch, counted, ended_at
       FROM assignments WHERE org_id = $1 ORDER BY id`,
    ),
    events: await q(`SELECT type, lead_id, at, data FROM events WHERE org_id = $1 ORDER BY id`),
    dayCounts: await q(
      `SELECT d.recipient_id, d.local_day::text, d.assigned FROM recipient_day_counts d
       JOIN recipients r ON r.id = d.recipient_id WHERE r.org_id = $1 ORDER BY 1, 2`,
    ),
    quotas: await q(`SELECT id, quota_remaining, quota_epoch FROM recipients WHERE org_id = $1 ORDER BY id`),
    rotation: await q(
      `SELECT rs.campaign_id, rs.recipient_id, rs.picks, rs.last_picked_at FROM rotation_state rs
       JOIN campaigns c ON c.id = rs.campaign_id WHERE c.org_id = $1 ORDER BY 1, 2`,
    ),
  };
}

type Mode = 'per-lead' | 'batched';

/** Runs the messages on a fresh copy of the dataset and returns what they left; then removes the org. */
async function run(d: Dataset, messages: QueueMessage[], batches: number[], mode: Mode) {
  await createDataset(d);
  try {
    if (mode === 'per-lead') {
      for (const m of messages) await allocateMessage(m);
    } else {
      let at = 0;
      for (const size of batches) {
        const batch = messages.slice(at, at + size);
        at += size;
        const outcome = await allocateBatch(
          batch.map((m, i) => ({
            id: `${at}-${i}`,
            group: groupIdFor(m.orgId, m.type === 'lead' ? (m.lead.phone ?? '') : m.leadId),
            message: m,
          })),
        );
        // The batch itself must have decided, not the per-lead fallback.
        expect(outcome).toMatchObject({ path: 'batched', failedIds: [] });
      }
      expect(at).toBe(messages.length);
    }
    return await snapshot(d.orgId);
  } finally {
    await db.query(`DELETE FROM orgs WHERE id = $1`, [d.orgId]);
  }
}

interface LeadSpec {
  kind: 'lead';
  campaign: string | null;
  state: string | null;
  phone: number;
}
type Spec = LeadSpec | { kind: 'duplicate'; of: number } | { kind: 'redeliver'; of: number };

/** Queue messages for the specs; `duplicate`/`redeliver` refer to the n-th lead spec before them (mod). */
function messagesFor(d: Dataset, specs: Spec[]): QueueMessage[] {
  const leads: QueueMessage[] = [];
  const out: QueueMessage[] = [];
  for (const s of specs) {
    if (s.kind === 'lead') {
      const m: QueueMessage = {
        type: 'lead',
        orgId: d.orgId,
        sourceId: null,
        leadId: uuidv7(),
        receivedAt: NOW,
        lead: {
          phone: `+1415555${String(100 + s.phone).padStart(4, '0')}`,
          email: null,
          firstName: 'Eq',
          lastName: `Lead ${leads.length}`,
          state: s.state,
          zip: null,
          campaign: s.campaign,
          externalId: null,
          attributes: { n: leads.length },
        },
      };
      leads.push(m);
      out.push(m);
    } else if (leads.length > 0) {
      const earlier = leads[s.of % leads.length]!;
      out.push(
        s.kind === 'redeliver'
          ? earlier
          : {
              type: 'duplicate',
              orgId: d.orgId,
              sourceId: null,
              leadId: earlier.leadId,
              receivedAt: NOW,
              matchedOn: 'phone',
              attemptId: uuidv7(),
            },
      );
    }
  }
  return out;
}

function cut(total: number, sizes: number[]): number[] {
  const batches: number[] = [];
  let left = total;
  for (let i = 0; left > 0; i++) {
    const size = Math.min(left, sizes[i % sizes.length]!);
    batches.push(size);
    left -= size;
  }
  return batches;
}

async function expectEquivalent(specs: Spec[], batchSizes: number[]) {
  const d = newDataset();
  const messages = messagesFor(d, specs);
  const batches = cut(messages.length, batchSizes);
  const perLead = await run(d, messages, batches, 'per-lead');
  const batched = await run(d, messages, batches, 'batched');
  expect(batched).toEqual(perLead);
  return perLead;
}

const lead = (campaign: string | null, state: string | null, phone: number): LeadSpec => ({
  kind: 'lead',
  campaign,
  state,
  phone,
});

describe('per-lead and batched allocation are the same function of the message sequence', () => {
  it('a scripted sequence over every rule leaves identical assignments, traces, events, counters and rotation', async () => {
    const specs: Spec[] = [
      lead('k1', 'CA', 0), // phone 0 = +14155550100: returning contact (P4) from yesterday
      lead('k3s', 'CA', 1),
      lead('k3s', 'FL', 2), // FL: only G1 covers it, so S1 + G1 + one overflow
      lead('req', 'TX', 3),
      lead('k1', 'TX', 4),
      { kind: 'redeliver', of: 1 }, // the same message again, inside the batch
      lead('k3s', 'CA', 5),
      lead('all', 'NY', 6),
      lead('opt', 'FL', 7),
      lead('k3s', 'CA', 1), // phone 1 again: returning contact from earlier in this batch
      { kind: 'duplicate', of: 3 },
      lead('stk', 'CA', 8),
      lead(null, 'CA', 9), // no campaign → "default", which does not exist
      lead('nope', 'CA', 10),
      lead('req', 'WA', 11), // nobody covers WA under `require`
      lead('k3s', 'TX', 12),
      lead('k3s', 'NY', 13),
      lead('k3s', null, 14),
      { kind: 'redeliver', of: 0 }, // redelivered in a later batch
      lead('k1', 'CA', 15),
      lead('all', 'TX', 16),
      lead('k3s', 'FL', 17), // S1's quota (4) runs out around here: k3s stops assigning
      lead('k3s', 'CA', 18),
      lead('opt', 'NY', 19),
      lead('k1', 'CA', 20),
      lead('k1', 'NY', 21),
      lead('req', 'CA', 22),
      lead('req', 'CA', 23),
      lead('req', 'CA', 24), // P1 (cap 2) is full by now; P3 takes CA
      lead('all', 'CA', 25),
      lead('all', 'FL', 26),
      lead('k1', 'TX', 27),
      lead('opt', 'TX', 28),
      lead('k1', 'TX', 29),
      lead('k1', 'TX', 4), // returning to whoever took phone 4
      lead('all', null, 30),
      lead('k3s', 'NY', 31),
    ];
    const result = await expectEquivalent(specs, [10, 10, 7, 10]);

    // The sequence really exercised what it names.
    const reasons = new Set(result.assignments.map((a) => a.reason));
    for (const r of [
      'static',
      'returning_contact',
      'round_robin',
      'state_match_round_robin',
      'cap_overflow_fallback',
    ])
      expect(reasons).toContain(r);
    const unassigned = new Set(result.leads.filter((l) => l.status === 'unassigned').map((l) => l.reason));
    expect(unassigned).toEqual(new Set(['stock', 'unknown_campaign', 'no_eligible_recipient']));
    const exclusions = new Set(
      result.leads.flatMap((l) => (l.trace ?? []).map((t: { reason: string }) => t.reason)),
    );
    for (const r of ['capped', 'quota', 'off_hours', 'inactive', 'state']) expect(exclusions).toContain(r);
    expect(result.events.filter((e) => e.type === 'lead.duplicate')).toHaveLength(1);
    expect(result.leads).toHaveLength(specs.filter((s) => s.kind === 'lead').length + 1); // + the history lead
  });

  it('random sequences and batch cuts (property): identical results', async () => {
    const spec: fc.Arbitrary<Spec> = fc.oneof(
      {
        weight: 8,
        arbitrary: fc.record({
          kind: fc.constant('lead' as const),
          campaign: fc.constantFrom('k1', 'k3s', 'req', 'all', 'opt', 'stk', 'nope', null),
          state: fc.constantFrom('CA', 'TX', 'NY', 'FL', 'WA', null),
          phone: fc.integer({ min: 0, max: 12 }),
        }),
      },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('duplicate' as const), of: fc.nat() }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('redeliver' as const), of: fc.nat() }) },
    );
    await fc.assert(
      fc.asyncProperty(
        fc.array(spec, { minLength: 1, maxLength: 30 }),
        fc.array(fc.integer({ min: 1, max: 10 }), { minLength: 1, maxLength: 5 }),
        async (specs, sizes) => {
          await expectEquivalent(specs, sizes);
        },
      ),
      { numRuns: 25 },
    );
  });
});
