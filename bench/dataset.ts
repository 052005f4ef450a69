/**
 * The realistic set every allocator run starts from, in an org of its own: 50 recipients over 10 states
 * (5 per state, four US timezones), a third of them with daily caps sized to be reached during the run,
 * and two campaigns over all of them — `k3` (3 recipients per lead, state-matched first, `prefer`) and
 * `k1` (1 per lead, one fair rotation, `ignore`). Leads alternate between the two, states uniformly.
 */
import { v7 as uuidv7 } from 'uuid';
import { withTransaction } from '../functions/adapters/pg/db.js';
import { insertOrg } from '../functions/adapters/pg/orgs.js';
import type { LeadMessage } from '../functions/adapters/sqs/leadQueue.js';
import { clock } from '../functions/clock.js';
import { createCampaign } from '../functions/usecases/campaigns.js';
import { createRecipient } from '../functions/usecases/recipients.js';

export const STATES = ['CA', 'TX', 'FL', 'NY', 'PA', 'IL', 'OH', 'GA', 'NC', 'MI'] as const;
const TIMEZONES = ['America/New_York', 'America/Chicago', 'America/Denver', 'America/Los_Angeles'];
export const RECIPIENTS = 50;

export interface RealisticSet {
  orgId: string;
  recipients: { id: string; state: string; dailyCap: number | null; timezone: string }[];
  campaigns: { k3: string; k1: string };
}

/**
 * Caps: every fifth recipient gets a small cap (a third of the expected share, so it is reached early),
 * every fifth + 1 a large one (twice the share, normally not reached); the rest have none.
 */
export async function createRealisticSet(opts: {
  orgId?: string;
  expectedLeads: number;
  caps: boolean;
}): Promise<RealisticSet> {
  const orgId = opts.orgId ?? uuidv7();
  if (!opts.orgId) await withTransaction((db) => insertOrg(db, orgId, `bench ${orgId}`, clock().now()));
  // Half the leads take 3 recipients, half take 1: 2 slots per lead on average.
  const share = Math.max(1, Math.round((opts.expectedLeads * 2) / RECIPIENTS));
  const recipients: RealisticSet['recipients'] = [];
  for (let i = 0; i < RECIPIENTS; i++) {
    const state = STATES[i % STATES.length]!;
    const dailyCap = !opts.caps
      ? null
      : i % 5 === 0
        ? Math.max(2, Math.floor(share / 3))
        : i % 5 === 1
          ? share * 2
          : null;
    const timezone = TIMEZONES[i % TIMEZONES.length]!;
    const r = await createRecipient(orgId, {
      name: `Bench ${state} ${i}`,
      email: null,
      states: [state],
      dailyCap,
      quota: null,
      weight: 1,
      timezone,
      workingHours: null,
      active: true,
    });
    recipients.push({ id: r.id, state, dailyCap, timezone });
  }
  const suffix = orgId.slice(-8);
  const campaigns = { k3: `bench-k3-${suffix}`, k1: `bench-k1-${suffix}` };
  const common = {
    staticRecipientIds: [],
    poolRecipientIds: recipients.map((r) => r.id),
    staticOptional: false,
    mode: 'push' as const,
    slaMinutes: null,
    maxReassignments: 3,
  };
  await createCampaign(orgId, campaigns.k3, {
    ...common,
    name: 'Bench k=3',
    recipientsPerLead: 3,
    stateRouting: 'prefer',
  });
  await createCampaign(orgId, campaigns.k1, {
    ...common,
    name: 'Bench k=1',
    recipientsPerLead: 1,
    stateRouting: 'ignore',
  });
  return { orgId, recipients, campaigns };
}

let phoneCounter = 0;
/** A valid, distinct US phone number (E.164) per call in this process: no lead is a duplicate. */
export function nextPhone(): string {
  phoneCounter += 1;
  const exchange = 200 + Math.floor(phoneCounter / 10_000);
  return `+1312${exchange}${String(phoneCounter % 10_000).padStart(4, '0')}`;
}

/** Queue messages as ingest would have sent them, alternating campaigns, states uniformly at random. */
export function leadMessages(set: RealisticSet, count: number): LeadMessage[] {
  return Array.from({ length: count }, (_, i) => ({
    type: 'lead',
    orgId: set.orgId,
    sourceId: null,
    leadId: uuidv7(),
    receivedAt: clock().now().toISOString(),
    lead: {
      phone: nextPhone(),
      email: null,
      firstName: `Bench${i}`,
      lastName: 'Lead',
      state: STATES[Math.floor(Math.random() * STATES.length)]!,
      zip: null,
      campaign: i % 2 === 0 ? set.campaigns.k3 : set.campaigns.k1,
      externalId: null,
      attributes: {},
    },
  }));
}
