/**
 * The allocator, driven directly (no queue, no HTTP): `allocateMessage` (one transaction per lead) and
 * `allocateBatch` (one transaction per SQS batch of 10) from N concurrent workers on a fresh realistic
 * set, then the invariants checked with SQL over everything the run wrote.
 */
import pg from 'pg';
import { groupIdFor, type LeadMessage } from '../functions/adapters/sqs/leadQueue.js';
import { allocateBatch } from '../functions/usecases/allocateBatch.js';
import { allocateMessage } from '../functions/usecases/allocateLead.js';
import { createRealisticSet, leadMessages, type RealisticSet } from './dataset.js';
import { perSecond, runWorkers, summarize, type LatencySummary } from './stats.js';

/** Lambda's largest batch for a FIFO event source. */
export const SQS_BATCH = 10;

export interface Invariants {
  ok: boolean;
  leadsStored: number;
  leadsSent: number;
  /** Every stored lead holds exactly k open assignments (assigned) or none (unassigned). */
  eachLeadOnce: boolean;
  /** Exactly one lead.assigned or lead.unassigned event per lead. */
  oneOutcomeEventPerLead: boolean;
  /** No recipient's day counter above its dailyCap. */
  capsHeld: boolean;
  /** Recipients whose cap was reached in the run (shows the caps were exercised). */
  recipientsAtCap: number;
  countersEqualRows: boolean;
  /** k = 1 campaign (one rotation): max − min of counts among recipients never capped; the rule says ≤ 1. */
  fairnessSpreadK1: number;
  /** k = 3 `prefer` campaign: worst per-state max − min of rotation picks among uncapped recipients. */
  fairnessSpreadK3ByState: number;
  assigned: number;
  unassigned: number;
}

export interface AllocatorRun {
  mode: 'perLead' | 'batched';
  workers: number;
  leads: number;
  tps: number;
  /** Per call: one lead (per-lead) or one batch of 10 (batched). */
  latency: LatencySummary;
  /** Batches that fell back to per-lead transactions. */
  fallbacks?: number;
  /**
   * Statements sent to PostgreSQL per lead during the run, BEGIN and COMMIT included, and the
   * after-commit work (publishing marks, order fills): every `query` of every pooled client.
   */
  roundTripsPerLead: number;
  /** Milliseconds per lead spent waiting for each kind of statement (by its first words), largest first. */
  statementMsPerLead: Record<string, number>;
  invariants: Invariants;
}

export async function measureAllocator(
  client: pg.Client,
  opts: { mode: 'perLead' | 'batched'; workers: number; leads: number },
): Promise<AllocatorRun> {
  const set = await createRealisticSet({ expectedLeads: opts.leads, caps: true });
  const messages = leadMessages(set, opts.leads);
  let fallbacks = 0;
  let failed = 0;
  let run: { elapsedMs: number; latenciesMs: number[] };
  // Count round trips: every statement any client of this process sends while the run lasts.
  const query = pg.Client.prototype.query;
  let statements = 0;
  const profile = new Map<string, { count: number; ms: number }>();
  pg.Client.prototype.query = function (this: pg.Client, ...a: unknown[]) {
    statements++;
    const result = (query as (...x: unknown[]) => unknown).apply(this, a);
    if (result instanceof Promise) {
      // Time from sending to the answer (queueing behind a lock included), by the statement's first words.
      const text = typeof a[0] === 'string' ? a[0] : ((a[0] as { text?: string })?.text ?? '?');
      const key = text.replace(/\s+/g, ' ').trim().slice(0, 60);
      const t0 = performance.now();
      void result.then(
        () => {
          const p = profile.get(key) ?? { count: 0, ms: 0 };
          p.count++;
          p.ms += performance.now() - t0;
          profile.set(key, p);
        },
        () => undefined,
      );
    }
    return result;
  } as typeof query;
  try {
    if (opts.mode === 'perLead') {
      run = await runWorkers(messages, opts.workers, async (m) => {
        await allocateMessage(m);
      });
    } else {
      const batches: LeadMessage[][] = [];
      for (let i = 0; i < messages.length; i += SQS_BATCH) batches.push(messages.slice(i, i + SQS_BATCH));
      run = await runWorkers(batches, opts.workers, async (batch) => {
        const outcome = await allocateBatch(
          batch.map((m) => ({ id: m.leadId, group: groupIdFor(m.orgId, m.lead.phone), message: m })),
        );
        if (outcome.path !== 'batched') fallbacks++;
        failed += outcome.failedIds.length;
      });
    }
  } finally {
    pg.Client.prototype.query = query;
  }
  if (failed > 0) throw new Error(`${failed} messages failed in a batched run`);
  return {
    mode: opts.mode,
    workers: opts.workers,
    leads: opts.leads,
    tps: perSecond(opts.leads, run.elapsedMs),
    latency: summarize(run.latenciesMs),
    ...(opts.mode === 'batched' ? { fallbacks } : {}),
    roundTripsPerLead: Math.round((statements / opts.leads) * 100) / 100,
    statementMsPerLead: Object.fromEntries(
      [...profile]
        .sort((x, y) => y[1].ms - x[1].ms)
        .map(([k, v]) => [k, Math.round((v.ms / opts.leads) * 1000) / 1000]),
    ),
    invariants: await checkInvariants(client, set, messages.length),
  };
}

export async function checkInvariants(
  client: pg.Client,
  set: RealisticSet,
  leadsSent: number,
): Promise<Invariants> {
  const org = set.orgId;
  const k = new Map([
    [set.campaigns.k3, 3],
    [set.campaigns.k1, 1],
  ]);
  const leads = await client.query<{
    id: string;
    status: string;
    campaign: string;
    open: number;
    outcomes: number;
  }>(
    `SELECT l.id, l.status, l.campaign,
       (SELECT count(*) FROM assignments a WHERE a.lead_id = l.id AND a.ended_at IS NULL)::int AS open,
       (SELECT count(*) FROM events e WHERE e.lead_id = l.id AND e.type IN ('lead.assigned', 'lead.unassigned'))::int AS outcomes
     FROM leads l WHERE l.org_id = $1`,
    [org],
  );
  const eachLeadOnce = leads.rows.every((l) =>
    l.status === 'assigned' ? l.open === k.get(l.campaign) : l.status === 'unassigned' && l.open === 0,
  );
  const oneOutcomeEventPerLead = leads.rows.every((l) => l.outcomes === 1);

  const caps = await client.query<{ over: number; at_cap: number }>(
    `SELECT count(*) FILTER (WHERE d.assigned > r.daily_cap)::int AS over,
            count(*) FILTER (WHERE d.assigned = r.daily_cap)::int AS at_cap
     FROM recipients r JOIN recipient_day_counts d ON d.recipient_id = r.id
     WHERE r.org_id = $1 AND r.daily_cap IS NOT NULL`,
    [org],
  );
  const counters = await client.query<{ mismatches: number }>(
    `WITH rows AS (
       SELECT a.recipient_id, a.local_day, count(*)::int AS n FROM assignments a
       WHERE a.org_id = $1 AND a.counted AND a.recipient_id IS NOT NULL GROUP BY 1, 2
     ), counters AS (
       SELECT d.recipient_id, d.local_day, d.assigned AS n FROM recipient_day_counts d
       JOIN recipients r ON r.id = d.recipient_id WHERE r.org_id = $1
     )
     SELECT count(*)::int AS mismatches FROM rows FULL JOIN counters USING (recipient_id, local_day)
     WHERE COALESCE(rows.n, 0) <> COALESCE(counters.n, 0)`,
    [org],
  );
  // Never capped: below its cap at the end (or no cap), so eligible for every decision of the run.
  const uncapped = await client.query<{ id: string; state: string; k1: number; k3_picks: number }>(
    `SELECT r.id, r.states[1] AS state,
       (SELECT count(*) FROM assignments a JOIN leads l ON l.id = a.lead_id
        WHERE a.recipient_id = r.id AND l.campaign = $2)::int AS k1,
       COALESCE((SELECT rs.picks FROM rotation_state rs JOIN campaigns c ON c.id = rs.campaign_id
                 WHERE rs.recipient_id = r.id AND c.org_id = $1 AND c.key = $3), 0)::int AS k3_picks
     FROM recipients r
     WHERE r.org_id = $1 AND (r.daily_cap IS NULL OR
       COALESCE((SELECT sum(d.assigned) FROM recipient_day_counts d WHERE d.recipient_id = r.id), 0) < r.daily_cap)`,
    [org, set.campaigns.k1, set.campaigns.k3],
  );
  const spread = (values: number[]) => (values.length === 0 ? 0 : Math.max(...values) - Math.min(...values));
  const fairnessSpreadK1 = spread(uncapped.rows.map((r) => r.k1));
  const byState = new Map<string, number[]>();
  for (const r of uncapped.rows) byState.set(r.state, [...(byState.get(r.state) ?? []), r.k3_picks]);
  const fairnessSpreadK3ByState = Math.max(0, ...[...byState.values()].map(spread));

  const invariants = {
    leadsStored: leads.rows.length,
    leadsSent,
    eachLeadOnce,
    oneOutcomeEventPerLead,
    capsHeld: caps.rows[0]!.over === 0,
    recipientsAtCap: caps.rows[0]!.at_cap,
    countersEqualRows: counters.rows[0]!.mismatches === 0,
    fairnessSpreadK1,
    fairnessSpreadK3ByState,
    assigned: leads.rows.filter((l) => l.status === 'assigned').length,
    unassigned: leads.rows.filter((l) => l.status === 'unassigned').length,
  };
  return {
    ok:
      invariants.leadsStored === leadsSent &&
      eachLeadOnce &&
      oneOutcomeEventPerLead &&
      invariants.capsHeld &&
      invariants.countersEqualRows &&
      fairnessSpreadK1 <= 1,
    ...invariants,
  };
}
