/**
 * GET /api/leads filters over the whole pipeline, in particular `recipientId`: the leads a recipient
 * holds now (open assignments), newest received first, combinable with the other filters, with a
 * keyset cursor that walks every page exactly once.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, startTestStack, uniquePhone, type TestStack } from '../support/stack.js';

let stack: TestStack;
let api: ReturnType<typeof client>;
let db: pg.Client;

beforeAll(async () => {
  stack = await startTestStack('lead-list');
  api = client(stack);
  db = new pg.Client({ connectionString: stack.databaseUrl });
  await db.connect();
});
afterAll(async () => {
  await db?.end();
  await stack?.close();
});

async function walk(query: string, limit: number): Promise<{ ids: string[]; pages: number }> {
  const ids: string[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const res = await api.get(
      `/api/leads?${query}&limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
    );
    expect(res.status).toBe(200);
    ids.push(...res.body.items.map((l: { id: string }) => l.id));
    cursor = res.body.nextCursor;
    pages += 1;
  } while (cursor && pages < 50);
  return { ids, pages };
}

describe('lead list: recipientId filter', () => {
  it("lists exactly the recipient's open leads, newest first, across cursor pages; a reassigned lead leaves the list", async () => {
    // Prepare: two recipients in one k = 1 rotation, 14 leads → 7 each.
    const a = await api.createRecipient({ name: 'List A' });
    const b = await api.createRecipient({ name: 'List B' });
    await api.createCampaign({ key: 'list-rcpt', poolRecipientIds: [a.id, b.id], stateRouting: 'ignore' });
    const posted = [];
    for (let i = 0; i < 14; i++) {
      posted.push(
        await api.postLead({ phone: uniquePhone(), campaign: 'list-rcpt', state: i % 2 ? 'CA' : 'NY' }),
      );
    }
    await stack.idle();
    const leads = await Promise.all(posted.map((p) => api.lead(p.body.leadId)));
    const holder = (l: any) => l.assignments.find((x: any) => !x.endedAt)?.recipientId as string;
    const newestFirst = (ids: string[]) =>
      leads
        .filter((l) => ids.includes(l.id))
        .sort((x, y) =>
          x.receivedAt === y.receivedAt ? (x.id < y.id ? 1 : -1) : x.receivedAt < y.receivedAt ? 1 : -1,
        )
        .map((l) => l.id);
    const ofA = leads.filter((l) => holder(l) === a.id).map((l) => l.id);
    expect(ofA.length).toBe(7);

    // Act + Assess: pages of 3 walk A's 7 leads once each, in the list's order.
    const walked = await walk(`recipientId=${a.id}`, 3);
    expect(walked.ids).toEqual(newestFirst(ofA));
    expect(walked.pages).toBe(3);

    // Combined with another filter.
    const ofACalifornia = leads.filter((l) => holder(l) === a.id && l.state === 'CA').map((l) => l.id);
    expect((await walk(`recipientId=${a.id}&state=CA`, 100)).ids).toEqual(newestFirst(ofACalifornia));

    // A lead reassigned from A to B leaves A's list and joins B's.
    const moved = ofA[0]!;
    const res = await api.post(`/api/leads/${moved}/reassign`, { recipientIds: [b.id] });
    expect(res.status).toBe(200);
    expect((await walk(`recipientId=${a.id}`, 100)).ids).toEqual(newestFirst(ofA.slice(1)));
    expect((await walk(`recipientId=${b.id}`, 100)).ids).toContain(moved);

    // Each item names who holds it now, from one query per page.
    const items = (await api.get(`/api/leads?campaign=list-rcpt&limit=100`)).body.items as {
      id: string;
      assignees: { recipientId: string; name: string }[];
    }[];
    expect(items).toHaveLength(14);
    for (const item of items) {
      const expected =
        item.id === moved
          ? b
          : leads.find((l) => l.id === item.id)!.assignments[0].recipientId === a.id
            ? a
            : b;
      expect(item.assignees).toEqual([{ recipientId: expected.id, name: expected.name }]);
    }
  });

  it('every assignment carries its lead’s received_at, whichever path inserted it', async () => {
    const out = await db.query(
      `SELECT count(*)::int AS n FROM assignments a JOIN leads l ON l.id = a.lead_id
       WHERE a.lead_received_at IS DISTINCT FROM l.received_at`,
    );
    const total = await db.query(`SELECT count(*)::int AS n FROM assignments`);
    expect(total.rows[0].n).toBeGreaterThan(0);
    expect(out.rows[0].n).toBe(0);
  });
});
