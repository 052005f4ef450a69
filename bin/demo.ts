/**
 * Demo data for `npm start` (LEADROUTER_DEMO=1): a sales team over a few states, a `demo` campaign
 * that sends each lead to two recipients, and a handful of leads posted through the real webhook —
 * only on the first boot of a data directory, so restarts don't duplicate anything.
 */
import { listRecipients } from '../functions/adapters/pg/recipients.js';
import { clock } from '../functions/clock.js';
import { createCampaign } from '../functions/usecases/campaigns.js';
import { createRecipient } from '../functions/usecases/recipients.js';

const TEAM = [
  {
    name: 'Alice Carter',
    email: 'alice@example.com',
    states: ['CA', 'NV', 'AZ'],
    dailyCap: 25,
    quota: null,
    weight: 2,
    timezone: 'America/Los_Angeles',
  },
  {
    name: 'Ben Ortiz',
    email: 'ben@example.com',
    states: ['TX', 'OK', 'LA'],
    dailyCap: 20,
    quota: 200,
    weight: 1,
    timezone: 'America/Chicago',
  },
  {
    name: 'Chloe Nguyen',
    email: 'chloe@example.com',
    states: ['NY', 'NJ', 'CT'],
    dailyCap: 20,
    quota: null,
    weight: 1,
    timezone: 'America/New_York',
  },
  {
    name: 'Dev Patel',
    email: 'dev@example.com',
    states: ['FL', 'GA'],
    dailyCap: 15,
    quota: 100,
    weight: 1,
    timezone: 'America/New_York',
  },
  {
    name: 'Erin Walsh',
    email: 'erin@example.com',
    states: [],
    dailyCap: 30,
    quota: null,
    weight: 1,
    timezone: 'America/Denver',
  },
];

const LEADS = [
  { first_name: 'Maria', last_name: 'Lopez', phone: '(415) 555-0134', state: 'California', zip: '94103' },
  { first_name: 'James', last_name: 'Smith', phone: '+1 212 555 0187', state: 'NY', zip: '10001' },
  { full_name: 'Priya Shah', phone_number: '713-555-0142', state: 'tx', zip: '77002', source: 'facebook' },
  { firstName: 'Tom', lastName: 'Reed', phone: '3055550199', state: 'FL', campaign: 'demo' },
  {
    first_name: 'Lena',
    last_name: 'Kim',
    phone: '602-555-0111',
    state: 'AZ',
    campaign: 'demo',
    utm_source: 'google',
  },
  { first_name: 'Omar', last_name: 'Haddad', phone: '973-555-0160', state: 'New Jersey' },
  { first_name: 'Sara', last_name: 'Berg', phone: '405-555-0123', state: 'OK', campaign: 'demo' },
  { first_name: 'Noah', last_name: 'Price', phone: '702-555-0175', state: 'NV' },
];

export async function seedDemo(
  orgId: string,
  webhookUrl: string,
  webhookSecret: string,
  log: (m: string) => void,
): Promise<void> {
  if ((await listRecipients(orgId, clock().now())).length > 0) return;
  const ids: string[] = [];
  for (const r of TEAM)
    ids.push((await createRecipient(orgId, { ...r, workingHours: null, active: true })).id);
  await createCampaign(orgId, 'demo', {
    name: 'Demo: two recipients per lead',
    recipientsPerLead: 2,
    staticRecipientIds: [],
    poolRecipientIds: ids,
    stateRouting: 'prefer',
    staticOptional: false,
    mode: 'push',
    slaMinutes: 60,
    maxReassignments: 2,
  });
  for (const lead of LEADS) {
    await fetch(webhookUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-webhook-secret': webhookSecret },
      body: JSON.stringify(lead),
    });
  }
  log(`Seeded demo data: ${TEAM.length} recipients, campaign "demo", ${LEADS.length} leads`);
}
