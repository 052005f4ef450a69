/**
 * The lead webhook over HTTP against the real stores: auth, validation, size limit, duplicates inside
 * and outside the 24 h window (injected clock), Idempotency-Key, and concurrent duplicates.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock, setClock, systemClock } from '../../functions/clock.js';
import { client, startTestStack, uniquePhone, type TestStack } from '../support/stack.js';

let stack: TestStack;
let api: ReturnType<typeof client>;

beforeAll(async () => {
  stack = await startTestStack('ingest');
  api = client(stack);
});
afterAll(async () => {
  setClock(systemClock);
  await stack?.close();
});

describe('POST /webhooks/leads', () => {
  it('answers 401 without or with a wrong secret, and stores nothing', async () => {
    const phone = uniquePhone();
    const none = await api.call('POST', '/webhooks/leads', { phone });
    const wrong = await api.postLead({ phone }, { 'x-webhook-secret': 'nope' });
    expect(none.status).toBe(401);
    expect(wrong.status).toBe(401);
    expect(wrong.body.error).toBe('unauthorized');
    // The phone was not claimed: posting it with the right secret is not a duplicate.
    const ok = await api.postLead({ phone });
    expect(ok.status).toBe(202);
  });

  it('answers 400 listing every problem by field', async () => {
    const res = await api.postLead({ phone: '12', email: 'not-an-email', state: 'Atlantis', zip: 'abc' });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('validation_failed');
    const fields = res.body.issues.map((i: { field: string }) => i.field).sort();
    expect(fields).toEqual(['email', 'phone', 'state', 'zip']);
  });

  it('answers 400 for a body that is not a JSON object', async () => {
    expect((await api.postLead('[1,2]' as never)).status).toBe(400);
    const broken = await api.call('POST', '/webhooks/leads', '{"phone":', {
      'x-webhook-secret': stack.webhookSecret,
    });
    expect(broken.status).toBe(400);
    expect(broken.body.issues[0].field).toBe('body');
  });

  it('answers 413 over 64 KiB', async () => {
    const res = await api.postLead({ phone: uniquePhone(), notes: 'x'.repeat(65 * 1024) });
    expect(res.status).toBe(413);
    expect(res.body.error).toBe('payload_too_large');
  });

  it('accepts form-encoded bodies with Zapier/Make field names, every value a string', async () => {
    const phone = uniquePhone();
    const res = await fetch(`${stack.url}/webhooks/leads`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'x-webhook-secret': stack.webhookSecret,
      },
      body: new URLSearchParams({
        full_name: 'Ada King Lovelace',
        phone_number: phone.slice(2),
        state: 'california',
        zip_code: '94103',
        utm_source: 'fb',
      }),
    });
    expect(res.status).toBe(202);
    const { leadId } = (await res.json()) as { leadId: string };
    await stack.idle();
    const lead = await api.lead(leadId);
    expect(lead).toMatchObject({
      firstName: 'Ada King',
      lastName: 'Lovelace',
      phone,
      state: 'CA',
      zip: '94103',
      attributes: { utm_source: 'fb' },
    });
  });

  it('treats a phone seen within 24 h as a duplicate, and not after (injected clock)', async () => {
    const clock = new ManualClock('2026-03-01T12:00:00Z');
    setClock(clock);
    try {
      const phone = uniquePhone();
      const first = await api.postLead({ phone, first_name: 'A' });
      expect(first.status).toBe(202);
      expect(first.body).toMatchObject({ status: 'queued', duplicate: false });

      clock.advance(23 * 3600 * 1000 + 59 * 60 * 1000);
      const again = await api.postLead({ phone: phone.replace('+1', ''), first_name: 'B' });
      expect(again.status).toBe(200);
      expect(again.body).toMatchObject({ duplicate: true, leadId: first.body.leadId });

      clock.advance(2 * 60 * 1000); // now 24 h 1 min after the first
      const later = await api.postLead({ phone, first_name: 'C' });
      expect(later.status).toBe(202);
      expect(later.body.leadId).not.toBe(first.body.leadId);

      await stack.idle();
      const detail = await api.lead(first.body.leadId);
      expect(detail.events.map((e: { type: string }) => e.type)).toContain('lead.duplicate');
    } finally {
      setClock(systemClock);
    }
  });

  it('treats the same externalId from the same source as a duplicate at any age', async () => {
    const clock = new ManualClock('2026-04-01T00:00:00Z');
    setClock(clock);
    try {
      const first = await api.postLead({ phone: uniquePhone(), external_id: 'row-77' });
      clock.advance(40 * 24 * 3600 * 1000);
      const again = await api.postLead({ phone: uniquePhone(), externalId: 'row-77' });
      expect(again.status).toBe(200);
      expect(again.body).toMatchObject({ duplicate: true, leadId: first.body.leadId });
    } finally {
      setClock(systemClock);
    }
  });

  it('replays the first response for a retried Idempotency-Key, running once', async () => {
    const phone = uniquePhone();
    const headers = { 'idempotency-key': `retry-${phone}` };
    const first = await api.postLead({ phone }, headers);
    const retry = await api.postLead({ phone }, headers);
    expect(first.status).toBe(202);
    expect(retry.status).toBe(202);
    expect(retry.body).toEqual(first.body);
    await stack.idle();
    const detail = await api.lead(first.body.leadId);
    // Ran once: no duplicate event was recorded for the retry.
    expect(detail.events.filter((e: { type: string }) => e.type === 'lead.duplicate')).toHaveLength(0);
  });

  it('10 parallel copies with one Idempotency-Key: every copy gets the first response, and it runs once', async () => {
    const phone = uniquePhone();
    const headers = { 'idempotency-key': `parallel-${phone}` };

    const results = await Promise.all(Array.from({ length: 10 }, () => api.postLead({ phone }, headers)));

    expect(results.map((r) => r.status)).toEqual(Array(10).fill(202));
    expect(new Set(results.map((r) => r.body.leadId)).size).toBe(1);
    await stack.idle();
    const detail = await api.lead(results[0]!.body.leadId);
    expect(detail.events.filter((e: { type: string }) => e.type === 'lead.duplicate')).toHaveLength(0);
  });

  it('10 parallel posts of one new phone: exactly one 202 and nine duplicates naming the same lead', async () => {
    const phone = uniquePhone();
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => api.postLead({ phone, first_name: `P${i}` })),
    );
    const accepted = results.filter((r) => r.status === 202);
    const duplicates = results.filter((r) => r.status === 200);
    expect(accepted).toHaveLength(1);
    expect(duplicates).toHaveLength(9);
    for (const d of duplicates)
      expect(d.body).toMatchObject({ duplicate: true, leadId: accepted[0]!.body.leadId });
    await stack.idle();
    const list = await api.get(`/api/leads?limit=500`);
    expect(list.body.items.filter((l: { phone: string }) => l.phone === phone)).toHaveLength(1);
  });
});
