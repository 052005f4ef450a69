/**
 * Property-based test of the database path: random recipients (caps, quotas, weights, hours, states),
 * random campaigns (k, statics, routing) and random leads, allocated with real parallel transactions
 * against PostgreSQL. After each run the invariants of SPEC §4 must hold exactly.
 */
import fc from 'fast-check';
import pg from 'pg';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock, setClock, systemClock } from '../../functions/clock.js';
import { allocateMessage } from '../../functions/usecases/allocateLead.js';
import { createCampaign } from '../../functions/usecases/campaigns.js';
import { createOrg } from '../../functions/usecases/orgs.js';
import { createRecipient } from '../../functions/usecases/recipients.js';
import { startTestStack, type TestStack } from '../support/stack.js';

let stack: TestStack;
let db: pg.Client;

beforeAll(async () => {
  stack = await startTestStack('property');
  db = new pg.Client({ connectionString: stack.databaseUrl });
  await db.connect();
});
afterAll(async () => {
  setClock(systemClock);
  await db?.end();
  await stack?.close();
});

const STATES = ['CA', 'NY', 'TX'];
const recipientArb = fc.record({
  states: fc.subarray(STATES),
  dailyCap: fc.option(fc.integer({ min: 0, max: 6 }), { nil: null }),
  quota: fc.option(fc.integer({ min: 0, max: 8 }), { nil: null }),
  weight: fc.integer({ min: 1, max: 4 }),
  timezone: fc.constantFrom('America/New_York', 'America/Los_Angeles', 'Asia/Kolkata'),
  offHours: fc.boolean(),
  active: fc.boolean(),
});
const scenarioArb = fc.record({
  recipients: fc.array(recipientArb, { minLength: 1, maxLength: 6 }),
  k: fc.integer({ min: 1, max: 3 }),
  staticCount: fc.integer({ min: 0, max: 2 }),
  stateRouting: fc.constantFrom('prefer', 'require', 'ignore'),
  staticOptional: fc.boolean(),
  leads: fc.array(fc.constantFrom(...STATES, null), { minLength: 5, maxLength: 40 }),
});

async function runPool<T>(items: T[], concurrency: number, work: (item: T) => Promise<unknown>) {
  const queue = [...items];
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let item = queue.shift(); item !== undefined; item = queue.shift()) await work(item);
    }),
  );
}

describe('allocation invariants on the database path (property-based)', () => {
  it('never exceeds a cap or quota, keeps counters equal to rows, assigns exactly k incl. every static', async () => {
    // A Wednesday 14:00 UTC: inside 09–17 in New York, outside it in Kolkata (19:30).
    setClock(new ManualClock('2026-02-04T14:00:00Z'));
    await fc.assert(
      fc.asyncProperty(scenarioArb, async (s) => {
        const org = await createOrg({ name: `prop-${randomUUID()}` });
        const recipients = [];
        for (const [i, r] of s.recipients.entries()) {
          recipients.push(
            await createRecipient(org.orgId, {
              name: `R${i}`,
              email: null,
              states: r.states,
              dailyCap: r.dailyCap,
              quota: r.quota,
              weight: r.weight,
              timezone: r.timezone,
              workingHours: r.offHours ? { sat: ['09:00', '17:00'] } : null,
              active: r.active,
            }),
          );
        }
        const statics = recipients.slice(0, Math.min(s.staticCount, s.k, recipients.length)).map((r) => r.id);
        await createCampaign(org.orgId, 'p', {
          name: 'p',
          recipientsPerLead: s.k,
          staticRecipientIds: statics,
          poolRecipientIds: recipients.map((r) => r.id).filter((id) => !statics.includes(id)),
          stateRouting: s.stateRouting as 'prefer',
          staticOptional: s.staticOptional,
          mode: 'push',
          slaMinutes: null,
          maxReassignments: 3,
        });
        const leadIds = s.leads.map(() => randomUUID());
        const messages = s.leads.map((state, i) => ({
          type: 'lead' as const,
          orgId: org.orgId,
          sourceId: null,
          leadId: leadIds[i]!,
          receivedAt: new Date('2026-02-04T14:00:00Z').toISOString(),
          lead: {
            phone: `+1415234${String(i).padStart(4, '0')}`,
            email: null,
            firstName: null,
            lastName: null,
            state,
            zip: null,
            campaign: 'p',
            externalId: null,
            attributes: {},
          },
        }));
        // Real parallel transactions, and every message delivered twice (redelivery).
        await runPool([...messages, ...messages], 8, (m) => allocateMessage(m));

        const caps = await db.query(
          `SELECT r.id, r.daily_cap, r.quota, r.quota_remaining,
             (SELECT count(*) FROM assignments a WHERE a.recipient_id = r.id AND a.counted)::int AS used,
             COALESCE((SELECT sum(assigned) FROM recipient_day_counts d WHERE d.recipient_id = r.id), 0)::int AS counter
           FROM recipients r WHERE r.org_id = $1`,
          [org.orgId],
        );
        for (const r of caps.rows) {
          if (r.daily_cap !== null) expect(r.used).toBeLessThanOrEqual(r.daily_cap);
          if (r.quota !== null) {
            expect(r.used).toBeLessThanOrEqual(r.quota);
            expect(r.quota_remaining).toBe(r.quota - r.used);
          }
          expect(r.counter).toBe(r.used);
        }
        const leads = await db.query(
          `SELECT l.id, l.status, array_remove(array_agg(a.recipient_id), NULL) AS holders
           FROM leads l LEFT JOIN assignments a ON a.lead_id = l.id WHERE l.org_id = $1 GROUP BY l.id, l.status`,
          [org.orgId],
        );
        expect(leads.rowCount).toBe(messages.length);
        for (const l of leads.rows) {
          if (l.status === 'assigned') {
            expect(new Set(l.holders).size).toBe(s.k);
            expect(l.holders).toHaveLength(s.k);
            if (!s.staticOptional) for (const id of statics) expect(l.holders).toContain(id);
          } else {
            expect(l.status).toBe('unassigned');
            expect(l.holders).toHaveLength(0);
          }
        }
      }),
      { numRuns: 15 },
    );
  }, 180_000);
});
