/**
 * Per-source rate limits on the lead webhook against the real DynamoDB stand-in: a burst over the limit
 * gets 429 with Retry-After, exactly the limit gets through (counted atomically across concurrent
 * requests), nothing of a rejected request is stored or claimed, and each source has its own limit.
 * The clock is frozen so the window cannot roll over mid-burst.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock, setClock, systemClock } from '../../functions/clock.js';
import { client, startTestStack, uniquePhone, type TestStack } from '../support/stack.js';

let stack: TestStack;
let api: ReturnType<typeof client>;
let db: pg.Client;
let clock: ManualClock;

beforeAll(async () => {
  stack = await startTestStack('ratelimit');
  api = client(stack);
  db = new pg.Client({ connectionString: stack.databaseUrl });
  await db.connect();
  // 0.25 s into an even second: the middle of no particular window, and frozen there.
  clock = new ManualClock('2026-04-01T12:00:00.250Z');
  setClock(clock);
});
afterAll(async () => {
  setClock(systemClock);
  await db?.end();
  await stack?.close();
});

const postWith = (secret: string, lead: Record<string, unknown>) =>
  api.call('POST', '/webhooks/leads', lead, { 'x-webhook-secret': secret });

async function storedPhones(phones: string[]): Promise<number> {
  const out = await db.query(`SELECT count(*)::int AS n FROM leads WHERE phone = ANY($1)`, [phones]);
  return out.rows[0].n;
}

describe('rate limits per source', () => {
  it('a burst over a configured limit: exactly the limit is accepted, the rest 429 with Retry-After, none stored', async () => {
    const source = (await api.post('/api/sources', { name: 'Tight', rateLimit: { perSecond: 5, burst: 10 } }))
      .body;
    // Window = floor(10 / 5) = 2 s holding 10 requests.
    const phones = Array.from({ length: 40 }, () => uniquePhone());
    const answers = await Promise.all(phones.map((phone) => postWith(source.secret, { phone })));
    const accepted = answers.filter((a) => a.status === 202);
    const limited = answers.filter((a) => a.status === 429);
    expect(accepted).toHaveLength(10);
    expect(limited).toHaveLength(30);
    for (const a of limited) {
      expect(a.body.error).toBe('rate_limited');
      const retryAfter = Number(a.headers.get('retry-after'));
      expect(Number.isInteger(retryAfter)).toBe(true);
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(2);
    }
    await stack.idle();
    const rejectedPhones = phones.filter((_, i) => answers[i]!.status === 429);
    expect(await storedPhones(rejectedPhones)).toBe(0);
    expect(await storedPhones(phones)).toBe(10);

    // Nothing was claimed for a rejected phone either: once the window has passed it is a new lead.
    clock.advance(4000);
    const again = await postWith(source.secret, { phone: rejectedPhones[0] });
    expect(again.status).toBe(202);
    expect(again.body.duplicate).toBe(false);
  });

  it('the default is 100 requests/s with a burst of 200', async () => {
    clock.advance(10_000);
    const source = (await api.post('/api/sources', { name: 'Default limit' })).body;
    const answers = await Promise.all(
      Array.from({ length: 230 }, () => postWith(source.secret, { phone: uniquePhone() })),
    );
    expect(answers.filter((a) => a.status === 202)).toHaveLength(200);
    expect(answers.filter((a) => a.status === 429)).toHaveLength(30);
    await stack.idle();
  });

  it('limits are per source: one source over its limit does not slow another', async () => {
    clock.advance(10_000);
    const a = (await api.post('/api/sources', { name: 'A', rateLimit: { perSecond: 2, burst: 2 } })).body;
    const b = (await api.post('/api/sources', { name: 'B', rateLimit: { perSecond: 2, burst: 2 } })).body;
    const fromA = await Promise.all(
      Array.from({ length: 6 }, () => postWith(a.secret, { phone: uniquePhone() })),
    );
    const fromB = await Promise.all(
      Array.from({ length: 2 }, () => postWith(b.secret, { phone: uniquePhone() })),
    );
    expect(fromA.filter((r) => r.status === 202)).toHaveLength(2);
    expect(fromB.every((r) => r.status === 202)).toBe(true);
    await stack.idle();
  });

  it('the previous window still weighs: no double burst across a window boundary', async () => {
    clock.set('2026-04-01T13:00:01.900Z'); // 95 % into the window [00, 02)
    const source = (
      await api.post('/api/sources', { name: 'Sliding', rateLimit: { perSecond: 10, burst: 20 } })
    ).body;
    const first = await Promise.all(
      Array.from({ length: 20 }, () => postWith(source.secret, { phone: uniquePhone() })),
    );
    expect(first.every((r) => r.status === 202)).toBe(true);
    clock.advance(200); // 5 % into the next window: the previous 20 count for 95 % → 19
    const second = await Promise.all(
      Array.from({ length: 20 }, () => postWith(source.secret, { phone: uniquePhone() })),
    );
    expect(second.filter((r) => r.status === 202)).toHaveLength(20 - 19);
    clock.advance(1000); // 55 % in: previous counts for 45 % → 9; 1 already taken
    const third = await Promise.all(
      Array.from({ length: 20 }, () => postWith(source.secret, { phone: uniquePhone() })),
    );
    expect(third.filter((r) => r.status === 202)).toHaveLength(20 - 9 - 1);
    await stack.idle();
  });

  it('PATCHing a rate limit applies to the next request', async () => {
    clock.advance(60_000);
    const source = (await api.post('/api/sources', { name: 'Raised' })).body;
    await api.patch(`/api/sources/${source.id}`, { rateLimit: { perSecond: 1, burst: 1 } });
    const answers = await Promise.all(
      Array.from({ length: 3 }, () => postWith(source.secret, { phone: uniquePhone() })),
    );
    expect(answers.filter((r) => r.status === 202)).toHaveLength(1);
    await stack.idle();
  });
});
