/**
 * The seeds' design, measured in the same run as the ratio to beat: per lead, one transaction that
 * locks the campaign's pointer row `FOR UPDATE`, then every candidate provider row `FOR UPDATE` (as
 * written there: `WHERE id = ANY($1)`, no ORDER BY), walks the providers round-robin from the pointer
 * (state-matched with capacity first, then any with capacity, for `prefer`), bumps the chosen
 * providers' counters, writes the allocation rows, moves the pointer and the lead's status.
 *
 * It runs against its own tables (`bench_baseline_*`) in the bench database, on the same realistic set
 * (50 providers over 10 states, the same caps, a k = 3 `prefer` and a k = 1 `ignore` campaign), through
 * the product's pool and `withTransaction` at the same concurrency.
 */
import type pg from 'pg';
import { v7 as uuidv7 } from 'uuid';
import { withTransaction } from '../functions/adapters/pg/db.js';
import { RECIPIENTS, STATES } from './dataset.js';
import { perSecond, runWorkers, summarize, type LatencySummary } from './stats.js';

interface Provider {
  id: string;
  state: string;
  daily_cap: number | null;
  assigned_today: number;
}

interface BaselineCampaign {
  key: string;
  k: number;
  prefer: boolean;
  providerIds: string[];
}

export interface BaselineRun {
  workers: number;
  leads: number;
  tps: number;
  latency: LatencySummary;
  capsHeld: boolean;
  eachLeadOnce: boolean;
}

export async function prepareBaseline(client: pg.Client): Promise<void> {
  await client.query(`
    CREATE TABLE IF NOT EXISTS bench_baseline_providers (
      id uuid PRIMARY KEY, run uuid NOT NULL, state text NOT NULL, daily_cap integer,
      assigned_today integer NOT NULL DEFAULT 0, active boolean NOT NULL DEFAULT true);
    CREATE TABLE IF NOT EXISTS bench_baseline_pointers (campaign text PRIMARY KEY, pointer integer NOT NULL DEFAULT 0);
    CREATE TABLE IF NOT EXISTS bench_baseline_leads (
      id uuid PRIMARY KEY, run uuid NOT NULL, campaign text NOT NULL, state text, phone text,
      status text NOT NULL, received_at timestamptz NOT NULL);
    CREATE TABLE IF NOT EXISTS bench_baseline_allocations (
      id bigserial PRIMARY KEY, lead_id uuid NOT NULL REFERENCES bench_baseline_leads(id),
      provider_id uuid NOT NULL REFERENCES bench_baseline_providers(id), assigned_at timestamptz NOT NULL);
    CREATE INDEX IF NOT EXISTS bench_baseline_allocations_lead_idx ON bench_baseline_allocations (lead_id);`);
}

/** The same 50 providers and caps as the allocator's realistic set, and the two campaigns. */
async function createBaselineSet(client: pg.Client, run: string, leads: number): Promise<BaselineCampaign[]> {
  const share = Math.max(1, Math.round((leads * 2) / RECIPIENTS));
  const providers = Array.from({ length: RECIPIENTS }, (_, i) => ({
    id: uuidv7(),
    state: STATES[i % STATES.length]!,
    cap: i % 5 === 0 ? Math.max(2, Math.floor(share / 3)) : i % 5 === 1 ? share * 2 : null,
  }));
  await client.query(
    `INSERT INTO bench_baseline_providers (id, run, state, daily_cap)
     SELECT x.id, $1, x.state, x.cap FROM unnest($2::uuid[], $3::text[], $4::int[]) AS x(id, state, cap)`,
    [run, providers.map((p) => p.id), providers.map((p) => p.state), providers.map((p) => p.cap)],
  );
  const campaigns = [
    { key: `k3-${run}`, k: 3, prefer: true, providerIds: providers.map((p) => p.id) },
    { key: `k1-${run}`, k: 1, prefer: false, providerIds: providers.map((p) => p.id) },
  ];
  await client.query(`INSERT INTO bench_baseline_pointers (campaign) SELECT unnest($1::text[])`, [
    campaigns.map((c) => c.key),
  ]);
  return campaigns;
}

/** Round-robin from the pointer: for `prefer`, state-matched providers with capacity first, then any. */
function choose(campaign: BaselineCampaign, providers: Provider[], pointer: number, state: string) {
  const byId = new Map(providers.map((p) => [p.id, p]));
  const n = campaign.providerIds.length;
  const order = Array.from({ length: n }, (_, i) => byId.get(campaign.providerIds[(pointer + i) % n]!)!);
  const hasCapacity = (p: Provider) => p.daily_cap === null || p.assigned_today < p.daily_cap;
  const tiers = campaign.prefer
    ? [
        order.filter((p) => p.state === state && hasCapacity(p)),
        order.filter((p) => p.state !== state && hasCapacity(p)),
      ]
    : [order.filter(hasCapacity)];
  const picks = tiers.flat().slice(0, campaign.k);
  if (picks.length < campaign.k) return { picks: [], pointer };
  const last = campaign.providerIds.indexOf(picks.at(-1)!.id);
  return { picks, pointer: (last + 1) % n };
}

async function allocateBaselineLead(
  run: string,
  campaign: BaselineCampaign,
  lead: { id: string; state: string; phone: string },
): Promise<void> {
  await withTransaction(async (db) => {
    const now = new Date();
    await db.query(
      `INSERT INTO bench_baseline_leads (id, run, campaign, state, phone, status, received_at)
       VALUES ($1, $2, $3, $4, $5, 'new', $6)`,
      [lead.id, run, campaign.key, lead.state, lead.phone, now],
    );
    const pointer = await db.query<{ pointer: number }>(
      `SELECT pointer FROM bench_baseline_pointers WHERE campaign = $1 FOR UPDATE`,
      [campaign.key],
    );
    const providers = await db.query<Provider>(
      `SELECT id, state, daily_cap, assigned_today FROM bench_baseline_providers
       WHERE id = ANY($1::uuid[]) AND active FOR UPDATE`,
      [campaign.providerIds],
    );
    const decision = choose(campaign, providers.rows, pointer.rows[0]!.pointer, lead.state);
    if (decision.picks.length > 0) {
      const ids = decision.picks.map((p) => p.id);
      await db.query(
        `UPDATE bench_baseline_providers SET assigned_today = assigned_today + 1 WHERE id = ANY($1::uuid[])`,
        [ids],
      );
      await db.query(
        `INSERT INTO bench_baseline_allocations (lead_id, provider_id, assigned_at)
         SELECT $1, unnest($2::uuid[]), $3`,
        [lead.id, ids, now],
      );
      await db.query(`UPDATE bench_baseline_pointers SET pointer = $2 WHERE campaign = $1`, [
        campaign.key,
        decision.pointer,
      ]);
    }
    await db.query(`UPDATE bench_baseline_leads SET status = $2 WHERE id = $1`, [
      lead.id,
      decision.picks.length > 0 ? 'assigned' : 'unassigned',
    ]);
  });
}

export async function measureBaseline(
  client: pg.Client,
  workers: number,
  leads: number,
): Promise<BaselineRun> {
  const run = uuidv7();
  const campaigns = await createBaselineSet(client, run, leads);
  let phone = 0;
  const items = Array.from({ length: leads }, (_, i) => ({
    campaign: campaigns[i % 2]!,
    lead: {
      id: uuidv7(),
      state: STATES[Math.floor(Math.random() * STATES.length)]!,
      phone: `+1646200${String(phone++).padStart(4, '0')}`,
    },
  }));
  const { elapsedMs, latenciesMs } = await runWorkers(items, workers, (x) =>
    allocateBaselineLead(run, x.campaign, x.lead),
  );
  const caps = await client.query<{ over: number }>(
    `SELECT count(*)::int AS over FROM bench_baseline_providers p
     WHERE p.run = $1 AND (p.assigned_today > p.daily_cap OR p.assigned_today <>
       (SELECT count(*) FROM bench_baseline_allocations a WHERE a.provider_id = p.id))`,
    [run],
  );
  const once = await client.query<{ bad: number }>(
    `SELECT count(*)::int AS bad FROM bench_baseline_leads l
     WHERE l.run = $1 AND (SELECT count(*) FROM bench_baseline_allocations a WHERE a.lead_id = l.id)
       NOT IN (0, CASE WHEN l.campaign LIKE 'k3-%' THEN 3 ELSE 1 END)`,
    [run],
  );
  return {
    workers,
    leads,
    tps: perSecond(leads, elapsedMs),
    latency: summarize(latenciesMs),
    capsHeld: caps.rows[0]!.over === 0,
    eachLeadOnce: once.rows[0]!.bad === 0,
  };
}
