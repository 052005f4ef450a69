/**
 * The dashboard in a real browser against the whole local runtime: webhooks posted over HTTP show up
 * live, forms write through the API, the campaign simulator answers, a dropped WebSocket catches up,
 * and every page passes axe without serious violations. Screenshots land in test-results/screenshots.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, startTestStack, uniquePhone, type TestStack } from '../../support/stack.js';
import {
  browserTestsSkipped,
  ensureWebBuild,
  launchBrowser,
  screenshot,
  seriousA11yViolations,
} from './support.js';

const VIEWPORT = { width: 1280, height: 800 };

describe.skipIf(browserTestsSkipped)('dashboard in a browser', () => {
  let stack: TestStack;
  let api: ReturnType<typeof client>;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  /** While true, the page's WebSocket connection attempts are refused (a network outage). */
  let wsBlocked = false;

  beforeAll(async () => {
    // Prepare: a fresh build (the runtime serves web/dist only if it exists when it starts), the stack, a browser.
    await ensureWebBuild();
    [stack, browser] = await Promise.all([startTestStack('browser'), launchBrowser()]);
    api = client(stack);
    context = await browser.newContext({ viewport: VIEWPORT, deviceScaleFactor: 1 });
    page = await context.newPage();
    page.on('pageerror', (error) => console.error('[page error]', error));
    await page.routeWebSocket(/\/ws/, (ws) => {
      if (wsBlocked) ws.close({ code: 1006 });
      else ws.connectToServer();
    });
  });

  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await stack?.close();
  });

  /** Whether this server has a route (features land in parallel; their pages appear with them). */

  async function openLive(hash = '#/leads') {
    await page.goto(`${stack.url}/${hash}`);
    await page.locator('.conn[data-state="live"]').waitFor({ timeout: 30_000 });
  }

  it('signs in with the admin token, refusing a wrong one', async () => {
    await page.goto(stack.url);
    await page.getByLabel('Admin token').fill('not-the-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('not accepted');
    await screenshot(page, 'signin');
    expect(await seriousA11yViolations(page)).toEqual([]);

    await page.getByLabel('Admin token').fill(stack.adminToken);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('.conn[data-state="live"]').waitFor({ timeout: 30_000 });
    expect(await page.evaluate(() => localStorage.getItem('leadrouter.adminToken'))).toBe(stack.adminToken);
  });

  it('a webhook posted over HTTP makes its row appear without reload within 2 s', async () => {
    await api.createRecipient({ name: 'Ada Caller', email: 'ada@example.com', states: ['CA'] });
    await openLive();
    const navigations: string[] = [];
    page.on('framenavigated', (f) => f === page.mainFrame() && navigations.push(f.url()));
    // Every layout shift outside the leads table (filters, pager, header) is recorded.
    await page.evaluate(() => {
      const w = window as unknown as { shiftsOutsideTable: string[] };
      w.shiftsOutsideTable = [];
      new PerformanceObserver((list) => {
        for (const entry of list.getEntries() as unknown as { sources?: { node?: Node }[] }[]) {
          for (const source of entry.sources ?? []) {
            const el = source.node instanceof Element ? source.node : source.node?.parentElement;
            if (el && !el.closest('.leads-scroll')) w.shiftsOutsideTable.push(el.outerHTML.slice(0, 120));
          }
        }
      }).observe({ type: 'layout-shift', buffered: false });
    });

    // Act: lead fields carrying markup must show as text, never as HTML.
    const started = Date.now();
    const posted = await api.postLead({
      first_name: 'Grace <img src=x onerror=alert(1)>',
      last_name: "O'Brien; DROP TABLE leads;--",
      phone: uniquePhone(),
      state: 'CA',
    });
    expect(posted.status).toBe(202);
    const row = page.locator(`tr[data-lead-id="${posted.body.leadId}"]`);
    await row.waitFor({ timeout: 2000 });
    const elapsed = Date.now() - started;

    // Assess
    expect(elapsed).toBeLessThan(2000);
    expect(navigations).toEqual([]);
    expect(await row.getAttribute('data-flash')).toBe('new');
    await expect.poll(() => row.locator('.col-holder').textContent(), { timeout: 5000 }).toBe('Ada Caller');
    expect(await row.locator('.col-name').textContent()).toBe(
      "Grace <img src=x onerror=alert(1)> O'Brien; DROP TABLE leads;--",
    );
    expect(await page.locator('img[src="x"]').count()).toBe(0);
    expect(
      await page.evaluate(() => (window as unknown as { shiftsOutsideTable: string[] }).shiftsOutsideTable),
    ).toEqual([]);
    console.info(`[browser] webhook → row visible in ${elapsed} ms`);
  });

  /** Posts CA leads (Ada Caller takes them) until the list holds at least `n`. */
  async function ensureLeads(n: number) {
    const have = ((await api.get(`/api/leads?limit=${n}`)).body.items as unknown[]).length;
    for (let i = have; i < n; i++)
      await api.postLead({ first_name: `Filler${i}`, last_name: 'Lead', phone: uniquePhone(), state: 'CA' });
    await stack.idle();
  }

  it('a reader scrolled down the list keeps looking at the same rows when a lead arrives', async () => {
    // Prepare: more rows than the table shows, scrolled to the tenth row.
    await ensureLeads(60);
    await openLive();
    await page.locator('tr.lead-row').nth(49).waitFor();
    await page.locator('.leads-scroll').evaluate((el) => (el.scrollTop = 440));
    /** The first row in view (below the sticky header), where it is, and every scroll position seen. */
    const firstInView = () =>
      page.evaluate(() => {
        const el = document.querySelector<HTMLElement>('.leads-scroll')!;
        const box = el.getBoundingClientRect();
        const head = el.querySelector('thead')!.getBoundingClientRect().height;
        const rows = Array.from(el.querySelectorAll<HTMLElement>('tbody tr'));
        const row = rows.find((tr) => tr.getBoundingClientRect().bottom > box.top + head)!;
        const r = row.getBoundingClientRect();
        return { id: row.dataset.leadId, top: r.top - box.top, height: r.height, scrollTop: el.scrollTop };
      });
    await page.evaluate(() => new Promise(requestAnimationFrame));
    const before = await firstInView();
    expect(before.scrollTop).toBe(440);
    await page.evaluate(() => {
      const w = window as unknown as { scrollTops: number[] };
      w.scrollTops = [];
      const el = document.querySelector<HTMLElement>('.leads-scroll')!;
      el.addEventListener('scroll', () => w.scrollTops.push(el.scrollTop));
    });

    // Act: a lead arrives (received, then assigned, then the list's own refresh a second later).
    const posted = await api.postLead({
      first_name: 'Anchor',
      last_name: 'Arrival',
      phone: uniquePhone(),
      state: 'CA',
    });
    await page.locator(`tr[data-lead-id="${posted.body.leadId}"]`).waitFor({ state: 'attached' });
    await stack.idle();
    await page.waitForTimeout(1800);

    // Assess: the same row at the same place; the table scrolled by one row, once.
    const after = await firstInView();
    expect(after.id).toBe(before.id);
    expect(Math.abs(after.top - before.top)).toBeLessThan(1);
    expect(after.scrollTop - before.scrollTop).toBe(before.height);
    const seen = await page.evaluate(() => (window as unknown as { scrollTops: number[] }).scrollTops);
    expect([...new Set(seen)]).toEqual([before.scrollTop + before.height]);
  });

  it('an older page shows who holds each lead without a request per lead, and counts new leads once', async () => {
    await ensureLeads(60);
    const lookups: string[] = [];
    const onRequest = (r: { url(): string }) => {
      if (new URL(r.url()).pathname.startsWith('/api/assignments')) lookups.push(r.url());
    };
    page.on('request', onRequest);
    try {
      await openLive();
      await page.locator('tr.lead-row').first().waitFor();
      await page.getByRole('button', { name: 'Older →' }).click();
      await expect.poll(() => page.locator('.pager-info').textContent()).toBe('Page 2');
      await page.waitForLoadState('networkidle');

      // The list's items say who holds each lead ("assignees").
      const held = page.locator('tr.lead-row').filter({ has: page.locator('.badge.status-assigned') });
      expect(await held.count()).toBeGreaterThan(0);
      expect(new Set(await held.locator('.col-holder').allTextContents())).toEqual(new Set(['Ada Caller']));
      expect(lookups).toEqual([]);

      // Two leads arrive, each received and then assigned: two new leads, not four.
      for (const first of ['Banner', 'Count'])
        await api.postLead({ first_name: first, last_name: 'Once', phone: uniquePhone(), state: 'CA' });
      await stack.idle();
      const banner = page.locator('.banner-slot');
      await expect.poll(() => banner.textContent()).toBe('2 new leads since this page loaded. Show newest');
      await page.waitForTimeout(1000);
      expect(await banner.textContent()).toBe('2 new leads since this page loaded. Show newest');
      await banner.getByRole('button', { name: 'Show newest' }).click();
      await expect.poll(() => page.locator('.pager-info').textContent()).toBe('Page 1');
      expect(await banner.textContent()).toBe('');
    } finally {
      page.off('request', onRequest);
    }
  });

  it('opens a lead in a drawer with assignments, trace and history, and changes its status', async () => {
    const posted = await api.postLead({
      first_name: 'Linus',
      last_name: 'Drawer',
      phone: uniquePhone(),
      state: 'CA',
      utm_source: 'spring-promo',
    });
    await stack.idle();
    await openLive();
    await page.locator(`tr[data-lead-id="${posted.body.leadId}"] a`).click();
    const drawer = page.getByRole('dialog', { name: 'Linus Drawer' });
    await drawer.waitFor();
    await drawer.getByRole('heading', { name: 'Assignments' }).waitFor();
    expect(await drawer.locator('table').first().textContent()).toContain('Ada Caller');
    await drawer.getByRole('heading', { name: 'Decision trace' }).waitFor();
    await drawer.getByText('received').first().waitFor();

    // Let the row's own arrival flash end, so the status change flashes on its own.
    await page.waitForFunction(
      (id) => document.querySelector(`tr[data-lead-id="${id}"]`)?.getAnimations().length === 0,
      posted.body.leadId as string,
    );
    await drawer.getByRole('button', { name: 'Mark contacted' }).click();
    await drawer.getByRole('button', { name: 'Mark qualified' }).waitFor();
    expect((await api.lead(posted.body.leadId)).status).toBe('contacted');
    // The list row follows over the WebSocket.
    await expect
      .poll(() => page.locator(`tr[data-lead-id="${posted.body.leadId}"] .badge`).textContent())
      .toBe('Contacted');
    expect(await page.locator(`tr[data-lead-id="${posted.body.leadId}"]`).getAttribute('data-flash')).toBe(
      'changed',
    );
    await screenshot(page, 'lead-drawer', { docs: true });
    expect(await seriousA11yViolations(page)).toEqual([]);

    await page.keyboard.press('Escape');
    await drawer.waitFor({ state: 'detached' });
    expect(page.url()).not.toContain(posted.body.leadId);
  });

  it('creating a recipient through the UI shows it in the API', async () => {
    await page.goto(`${stack.url}/#/recipients`);
    await page.getByRole('link', { name: 'Add recipient' }).click();
    const dialog = page.getByRole('dialog', { name: 'Add recipient' });
    // The API's problems show next to their fields, in words rather than the validator's.
    await dialog.getByLabel('Email').fill('not-an-email');
    await dialog.getByLabel('Weight').fill('0');
    await dialog.getByRole('button', { name: 'Add recipient' }).click();
    await dialog.locator('#r-name-error').waitFor();
    expect(await dialog.locator('#r-name-error').textContent()).toBe('Required');
    expect(await dialog.locator('#r-email-error').textContent()).toBe('Not a valid email address');
    expect(await dialog.locator('#r-weight-error').textContent()).toBe('Must be at least 1');
    expect(await dialog.getByLabel('Name').getAttribute('aria-invalid')).toBe('true');
    await dialog.getByLabel('Name').fill('Nina Newcomer');
    await dialog.getByLabel('Email').fill('nina@example.com');
    await dialog.getByLabel('States covered').fill('ny, Texas');
    await dialog.getByLabel('Daily cap').fill('25');
    await dialog.getByLabel('Weight').fill('2');
    await dialog.getByLabel('Only during set hours').check();
    await dialog.getByLabel('Saturday', { exact: true }).check();
    await dialog.getByLabel('Saturday from').fill('10:00');
    await dialog.getByLabel('Saturday until').fill('14:00');
    await screenshot(page, 'recipient-form', { docs: true });
    expect(await seriousA11yViolations(page)).toEqual([]);
    await dialog.getByRole('button', { name: 'Add recipient' }).click();
    await dialog.waitFor({ state: 'detached' });

    const listed = (await api.get('/api/recipients')).body.items as Record<string, unknown>[];
    const nina = listed.find((r) => r.name === 'Nina Newcomer');
    expect(nina).toMatchObject({
      email: 'nina@example.com',
      states: ['NY', 'TX'],
      dailyCap: 25,
      weight: 2,
      active: true,
      workingHours: { mon: ['09:00', '17:00'], fri: ['09:00', '17:00'], sat: ['10:00', '14:00'] },
    });
    expect((nina!.workingHours as Record<string, unknown>).sun).toBeUndefined();
    await page.locator(`[data-recipient-id="${nina!.id as string}"]`).waitFor();

    // A link to a recipient that does not exist says so, with a way back.
    await page.goto(`${stack.url}/#/recipients/00000000-0000-4000-8000-000000000000`);
    const missing = page.getByRole('alert').filter({ hasText: 'Recipient not found.' });
    await missing.waitFor();
    await missing.getByRole('link', { name: 'Back to all recipients' }).click();
    await expect.poll(() => page.url()).toMatch(/#\/recipients$/);
    expect(await page.getByText('Recipient not found.').count()).toBe(0);

    // Pause from the card.
    await page.getByRole('button', { name: 'Pause Nina Newcomer' }).click();
    await expect
      .poll(async () => (await api.get(`/api/recipients/${nina!.id as string}`)).body.active)
      .toBe(false);
    await page.getByRole('button', { name: 'Resume Nina Newcomer' }).click();
    await expect
      .poll(async () => (await api.get(`/api/recipients/${nina!.id as string}`)).body.active)
      .toBe(true);
  });

  it('editing a campaign and simulating shows the expected assignees', async () => {
    const bob = await api.createRecipient({ name: 'Bob NewYork', states: ['NY'] });
    const carol = await api.createRecipient({ name: 'Carol Static', states: ['TX'] });
    await api.createCampaign({ key: 'solar', name: 'Solar panels', stateRouting: 'require' });
    // Only Bob covers NY among recipients not paused... and Nina covers NY too: keep her out of the pool.
    await page.goto(`${stack.url}/#/campaigns/solar`);
    const editor = page.locator('form[aria-labelledby="campaign-title"]');
    await editor.getByLabel('Recipients per lead').fill('2');
    await editor.getByLabel('Pool: only those ticked').check();
    await editor.getByLabel('In pool: Bob NewYork').check();
    await editor.getByLabel('Static: Carol Static').check();
    await editor.getByRole('button', { name: 'Save rules' }).click();
    await editor.getByText('Saved').waitFor();

    const saved = (await api.get('/api/campaigns/solar')).body;
    expect(saved).toMatchObject({
      recipientsPerLead: 2,
      staticRecipientIds: [carol.id],
      poolRecipientIds: [bob.id],
      stateRouting: 'require',
    });

    await page.getByLabel('Lead 1 state').selectOption('NY');
    await page.getByRole('button', { name: 'Add lead' }).click();
    await page.getByLabel('Lead 2 state').selectOption('CA');
    await page.getByRole('button', { name: 'Simulate' }).click();
    const results = page.locator('.sim-result');
    await results.first().waitFor({ timeout: 10_000 });
    const first = results.nth(0);
    expect(await first.getAttribute('data-outcome')).toBe('assigned');
    expect((await first.locator('.sim-name').allTextContents()).sort()).toEqual([
      'Bob NewYork',
      'Carol Static',
    ]);
    // CA: Carol alone is not enough for k = 2, and Bob does not cover CA under "require".
    expect(await results.nth(1).getAttribute('data-outcome')).toBe('unassigned');
    await page.evaluate(() => window.scrollTo(0, 0));
    await screenshot(page, 'campaigns', { docs: true });
    expect(await seriousA11yViolations(page)).toEqual([]);
  });

  it('reassigns a lead from its drawer, and the row follows', async () => {
    const posted = await api.postLead({
      first_name: 'Rita',
      last_name: 'Reassigned',
      phone: uniquePhone(),
      state: 'CA',
    });
    await stack.idle();
    const leadId = posted.body.leadId as string;
    await openLive(`#/leads/${leadId}`);
    const drawer = page.getByRole('dialog', { name: 'Rita Reassigned' });
    await drawer.getByLabel('Reassign to').selectOption({ label: 'Bob NewYork' });
    await drawer.getByRole('button', { name: 'Reassign' }).click();
    await drawer.getByText('Reassigned to Bob NewYork.').waitFor();

    const detail = await api.lead(leadId);
    const current = (
      detail.assignments as { recipientName: string; endedAt: string | null; reason: string }[]
    ).filter((a) => !a.endedAt);
    expect(current).toMatchObject([{ recipientName: 'Bob NewYork', reason: 'manual' }]);
    await page.keyboard.press('Escape');
    await expect
      .poll(() => page.locator(`tr[data-lead-id="${leadId}"] .col-holder`).textContent())
      .toBe('Bob NewYork');
  });

  it('an order created in the UI fills from stock, is fulfilled, exported as CSV, and a deleted one returns its leads', async () => {
    // Prepare: three CA leads waiting in stock.
    await api.createCampaign({ key: 'buyers', name: 'Buyer stock', mode: 'stock' });
    const stock: string[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await api.postLead({
        first_name: `Stock${i}`,
        last_name: 'Lead',
        phone: uniquePhone(),
        state: 'CA',
        campaign: 'buyers',
      });
      stock.push(r.body.leadId);
      await stack.idle(); // one at a time: "oldest first" is then well defined
    }

    // Act: create an order for two CA leads.
    await page.goto(`${stack.url}/#/orders`);
    await page.getByRole('link', { name: 'New order' }).click();
    const form = page.getByRole('dialog', { name: 'New order' });
    await form.getByLabel('Quantity').fill('0');
    await form.getByRole('button', { name: 'Create and fill' }).click();
    await form.locator('#o-name-error').waitFor();
    expect(await form.locator('.field-error').allTextContents()).toEqual([
      'Required',
      'Not a valid email address',
      'Choose at least one state',
      'Must be at least 1',
    ]);
    await form.getByLabel('Customer name').fill('Jane Buyer');
    await form.getByLabel('Customer email').fill('jane@example.com');
    await form.getByLabel('States').fill('California');
    await form.getByLabel('Quantity').fill('2');
    await form.getByRole('button', { name: 'Create and fill' }).click();
    const drawer = page.getByRole('dialog', { name: /^Order #\d+$/ });
    await drawer.getByRole('heading', { name: 'Leads (2)' }).waitFor();
    expect(await drawer.locator('tbody tr').count()).toBe(2);
    await screenshot(page, 'order-drawer');
    expect(await seriousA11yViolations(page)).toEqual([]);

    // Assess: the two oldest stock leads were sold to it.
    const sold = await Promise.all(stock.map((id) => api.lead(id)));
    expect(sold.map((l) => l.status)).toEqual(['sold', 'sold', 'unassigned']);

    await drawer.getByRole('button', { name: 'Mark fulfilled' }).click();
    await drawer.getByText('Marked fulfilled.').waitFor();
    await page.keyboard.press('Escape');
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Export fulfilled (CSV)' }).click(),
    ]);
    const csv = await new Promise<string>((resolve, reject) => {
      void download.createReadStream().then((s) => {
        let text = '';
        s.on('data', (c: Buffer) => (text += c.toString()));
        s.on('end', () => resolve(text));
        s.on('error', reject);
      });
    });
    expect(csv).toContain('jane@example.com');
    expect(csv.split('\n').filter((l) => l.includes('jane@example.com'))).toHaveLength(2);

    // A second order takes the last lead; deleting it returns the lead to stock.
    const second = await api.post('/api/orders', {
      customerName: 'Sam Second',
      customerEmail: 'sam@example.com',
      requestedStates: ['CA'],
    });
    expect((await api.lead(stock[2]!)).status).toBe('sold');
    await page.goto(`${stack.url}/#/orders/${second.body.id as string}`);
    const secondDrawer = page.getByRole('dialog', { name: `Order #${second.body.number as number}` });
    await secondDrawer.getByRole('button', { name: 'Delete order' }).click();
    await secondDrawer.getByRole('button', { name: 'Yes, delete' }).click();
    await secondDrawer.getByText('Deleted. 1 lead went back to stock.').waitFor();
    expect((await api.lead(stock[2]!)).status).toBe('unassigned');
    // The drawer follows: deleted, read-only, nothing failed (its live refresh reads the deleted order).
    const badge = secondDrawer.locator('.dialog-subtitle .badge');
    await expect.poll(() => badge.textContent()).toBe('Deleted');
    await secondDrawer.getByRole('heading', { name: 'Leads given back to stock (1)' }).waitFor();
    await page.waitForTimeout(700); // the order.deleted event's refresh, throttled 500 ms
    expect(await badge.textContent()).toBe('Deleted');
    expect(await secondDrawer.getByRole('button', { name: /Mark fulfilled|Delete order/ }).count()).toBe(0);
    expect(await secondDrawer.getByRole('alert').count()).toBe(0);
    await page.keyboard.press('Escape');

    // The Deleted tab opens it the same way.
    await page.getByRole('button', { name: 'Deleted', exact: true }).click();
    await page.getByRole('link', { name: `#${second.body.number as number}`, exact: true }).click();
    const reopened = page.getByRole('dialog', { name: `Order #${second.body.number as number}` });
    await reopened.getByRole('heading', { name: 'Leads given back to stock (1)' }).waitFor();
    expect(await reopened.locator('.dialog-subtitle .badge').textContent()).toBe('Deleted');
    expect(await reopened.getByText('Order not found').count()).toBe(0);
    expect(await reopened.getByRole('button', { name: /Mark fulfilled|Delete order/ }).count()).toBe(0);
    expect(await reopened.locator('tbody tr').first().textContent()).toContain('Stock2 Lead');
    await page.keyboard.press('Escape');
    await page.getByRole('button', { name: 'All', exact: true }).click();
    await screenshot(page, 'orders', { docs: true });
    expect(await seriousA11yViolations(page)).toEqual([]);
  });

  it('a CSV uploaded on the Imports page imports good rows and lists the bad ones, also after a reload', async () => {
    await page.goto(`${stack.url}/#/imports`);
    const csv = [
      'phone,first_name,last_name,state,email',
      `${uniquePhone()},Uma,Upload,CA,`,
      `${uniquePhone()},Vic,Upload,NY,`,
      'not-a-phone,Bad,Row,CA,',
      'not-a-phone,Many,Problems,CA,not-an-email',
    ].join('\n');
    await page
      .getByLabel('CSV file')
      .setInputFiles({ name: 'leads.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
    await page.getByRole('button', { name: 'Upload' }).click();
    // The outcome, success or error, so that a failure says what the page said.
    const outcome = page
      .locator('section[aria-labelledby="upload-title"]')
      .locator('[role="status"], [role="alert"]');
    await outcome.first().waitFor({ timeout: 20_000 });
    expect(await outcome.first().textContent()).toBe('2 imported, 0 duplicates, 2 bad of 4 rows.');
    // Rows, not problems: row 5 has two (phone and email), listed under it.
    const card = page.locator('section[aria-labelledby="upload-title"]');
    await card.getByText('Bad rows (2)').first().click();
    const badRows = card.locator('.bad-rows').first().locator('tbody tr');
    expect(await badRows.count()).toBe(2);
    expect(await badRows.nth(0).textContent()).toMatch(/^4phone: /);
    expect(await badRows.nth(1).locator('td').first().textContent()).toBe('5');
    expect(await badRows.nth(1).locator('li').allTextContents()).toEqual([
      expect.stringMatching(/^phone: /),
      expect.stringMatching(/^email: /),
    ]);
    await screenshot(page, 'imports', { docs: true });
    expect(await seriousA11yViolations(page)).toEqual([]);

    // After a reload the upload is listed with its counts and its bad rows.
    await page.reload();
    const recent = page.locator('section[aria-labelledby="uploads-title"] li.run').first();
    await recent.waitFor();
    expect(await recent.locator('.run-counts').textContent()).toBe(
      '2 imported · 0 duplicates · 2 bad of 4 rows',
    );
    await recent.getByText('Bad rows (2)').click();
    expect(await recent.locator('.bad-rows tbody tr').count()).toBe(2);
    expect(await seriousA11yViolations(page)).toEqual([]);
  });

  it('a CSV upload answered 202 shows its progress until the import runner finishes it', async () => {
    // Prepare: no time budget for the API (it handles the first 500-row window, then answers 202)
    await page.goto(`${stack.url}/#/imports`);
    const csv = [
      'phone,first_name',
      ...Array.from({ length: 700 }, (_, i) => `${uniquePhone()},Poll${i}`),
    ].join('\n');
    const card = page.locator('section[aria-labelledby="upload-title"]');
    process.env.UPLOAD_BUDGET_MS = '0';
    try {
      await page
        .getByLabel('CSV file')
        .setInputFiles({ name: 'large.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
      await page.getByRole('button', { name: 'Upload' }).click();

      // Assess: the progress of the 202, while the page polls
      await card.getByText(/^Importing on the server: 500 rows so far/).waitFor({ timeout: 60_000 });
    } finally {
      delete process.env.UPLOAD_BUDGET_MS;
    }

    // Act: the import runner's tick
    await stack.runJob('imports');

    // Assess: the page's next poll shows the result
    await card.getByText('700 imported, 0 duplicates, 0 bad of 700 rows.').waitFor({ timeout: 30_000 });
    expect(await card.getByText(/^Importing on the server/).count()).toBe(0);
  });

  it('the System page runs a job now and lists its run', async () => {
    await page.goto(`${stack.url}/#/system`);
    await page.getByRole('button', { name: 'Run backlog retry now' }).click();
    // Other jobs (the import runner) may have runs listed already: wait for the backlog run's row,
    // then check it is the newest.
    const rows = page.locator('section[aria-labelledby="s-jobs"] tbody tr');
    await rows.filter({ hasText: 'backlog' }).first().waitFor();
    expect(await rows.first().textContent()).toContain('backlog');
  });

  it('a dropped WebSocket reconnects and the missed lead appears', async () => {
    await openLive();
    // Record every state the indicator shows.
    await page.evaluate(() => {
      const w = window as unknown as { connStates: string[] };
      w.connStates = [];
      const el = document.querySelector('.conn')!;
      new MutationObserver(() => w.connStates.push(el.getAttribute('data-state') ?? '')).observe(el, {
        attributes: true,
        attributeFilter: ['data-state'],
      });
    });

    // Act: the gateway drops every connection, and reconnects are refused until the lead is stored.
    wsBlocked = true;
    await stack.restartWsGateway();
    await page.locator('.conn:not([data-state="live"])').waitFor({ timeout: 5000 });
    const posted = await api.postLead({
      first_name: 'Missed',
      last_name: 'While Offline',
      phone: uniquePhone(),
      state: 'CA',
    });
    await stack.idle();
    await page.waitForTimeout(700); // the event is published (to nobody) by now
    expect(await page.locator(`tr[data-lead-id="${posted.body.leadId}"]`).count()).toBe(0);
    wsBlocked = false;

    // Assess: back to live, and the lead is there without a reload. The page backs off exponentially
    // (0.5 s doubling, ±20 %) while reconnects are refused; on a loaded machine the refusals last long
    // enough for the next attempt to be ~16 s away.
    await page.locator('.conn[data-state="live"]').waitFor({ timeout: 40_000 });
    await page.locator(`tr[data-lead-id="${posted.body.leadId}"]`).waitFor({ timeout: 5000 });
    const states = await page.evaluate(() => (window as unknown as { connStates: string[] }).connStates);
    expect(states).toContain('reconnecting');
    expect(states.at(-1)).toBe('live');
  }, 90_000);

  it('every page renders with live data and passes axe without serious violations', async () => {
    // Prepare: a realistic day.
    const names = [
      ['Maria', 'Lopez', 'CA'],
      ['James', 'Smith', 'NY'],
      ['Priya', 'Patel', 'TX'],
      ['Chen', 'Wei', 'CA'],
      ['Olivia', 'Brown', 'FL'],
      ['Noah', 'Johnson', 'NY'],
      ['Emma', 'Davis', 'WA'],
      ['Liam', 'Miller', 'TX'],
    ] as const;
    const ids: string[] = [];
    for (const [first, last, state] of names) {
      const r = await api.postLead({
        first_name: first,
        last_name: last,
        phone: uniquePhone(),
        state,
        campaign: state === 'NY' ? 'solar' : undefined,
        email: `${first.toLowerCase()}@example.com`,
      });
      ids.push(r.body.leadId);
    }
    await stack.idle();
    await api.patch(`/api/leads/${ids[0]}/status`, { status: 'contacted' });
    await api.patch(`/api/leads/${ids[0]}/status`, { status: 'won' });
    await api.patch(`/api/leads/${ids[3]}/status`, { status: 'contacted' });
    // Caps and quotas, so that the Recipients page shows its bars at every level.
    const people = (await api.get('/api/recipients')).body.items as { id: string; name: string }[];
    const limits: Record<string, Record<string, number>> = {
      'Ada Caller': { dailyCap: 20, quota: 100 },
      'Bob NewYork': { dailyCap: 6 },
      'Carol Static': { dailyCap: 5, quota: 12 },
    };
    for (const r of people) if (limits[r.name]) await api.patch(`/api/recipients/${r.id}`, limits[r.name]);

    const pages: [string, string, boolean][] = [
      ['#/leads', 'leads', true],
      ['#/recipients', 'recipients', true],
      ['#/campaigns/solar', 'campaigns-editor', false],
      ['#/orders', 'orders-list', false],
      ['#/imports', 'imports-list', false],
      ['#/analytics', 'analytics', true],
      ['#/system', 'system', true],
    ];
    const report: Record<string, number> = {};
    for (const [hash, name, docs] of pages) {
      await page.goto(`${stack.url}/${hash}`);
      await page.locator('.conn[data-state="live"]').waitFor({ timeout: 30_000 });
      await page.locator('main h1').waitFor();
      await page.waitForLoadState('networkidle');
      // Every menu entry fits next to the header's controls (nothing scrolled out of the menu).
      expect(await page.locator('.nav').evaluate((nav) => nav.scrollWidth - nav.clientWidth)).toBe(0);
      await screenshot(page, name, { docs });
      const violations = await seriousA11yViolations(page);
      report[name] = violations.length;
      expect(violations, `${name}: ${JSON.stringify(violations, null, 2)}`).toEqual([]);
    }
    console.info('[browser] serious/critical axe violations per page:', report);
  }, 150_000);

  it('Analytics asks the server once per period and shows every lead of it, following live leads', async () => {
    const calls: URL[] = [];
    const onRequest = (r: { url(): string }) => {
      const url = new URL(r.url());
      if (url.pathname.startsWith('/api/')) calls.push(url);
    };
    page.on('request', onRequest);
    try {
      const analyticsCalls = () => calls.filter((u) => u.pathname === '/api/analytics');
      await openLive('#/analytics');
      await page.locator('#a-contact').waitFor();
      await page.waitForLoadState('networkidle');
      // One answer from the server: no paging through leads, assignments or lead details.
      expect(analyticsCalls()).toHaveLength(1);
      expect(calls.filter((u) => /^\/api\/(leads|assignments)/.test(u.pathname))).toEqual([]);
      expect(analyticsCalls()[0]!.searchParams.get('bucket')).toBe('hour');
      expect(analyticsCalls()[0]!.searchParams.get('tz')).toBe('America/New_York');
      expect(await page.getByText(/records; the charts show the newest/).count()).toBe(0);

      // Every lead of the test is from today: the week counts them all, in seven day buckets.
      await page.getByRole('button', { name: 'Last 7 days' }).click();
      await page.getByRole('heading', { name: 'Leads received per day' }).waitFor();
      expect(analyticsCalls()).toHaveLength(2);
      expect(analyticsCalls()[1]!.searchParams.get('bucket')).toBe('day');
      const total = (await api.get('/api/stats')).body.leads.total as number;
      const received = page.locator('.stat', { hasText: 'Leads received' }).locator('.stat-value');
      expect(await received.textContent()).toBe(total.toLocaleString('en-US'));
      const perDay = page.locator('section[aria-labelledby="a-received"] .chart-data tbody tr');
      expect(await perDay.count()).toBe(7);

      // Three leads arrive: the totals follow, refreshed once or twice rather than per event.
      for (let i = 0; i < 3; i++)
        await api.postLead({ first_name: `Chart${i}`, last_name: 'Live', phone: uniquePhone(), state: 'CA' });
      await expect
        .poll(() => received.textContent(), { timeout: 15_000 })
        .toBe((total + 3).toLocaleString('en-US'));
      expect(analyticsCalls().length - 2).toBeLessThanOrEqual(2);
    } finally {
      page.off('request', onRequest);
    }
  });

  it('times show in New York time by default, or in this device’s zone when chosen, and the choice is kept', async () => {
    const lead = (
      (await api.get('/api/leads?limit=1')).body.items as { id: string; receivedAt: string }[]
    )[0]!;
    const tokyo = await browser.newContext({ viewport: VIEWPORT, timezoneId: 'Asia/Tokyo', locale: 'en-US' });
    await tokyo.addInitScript(
      (token: string) => localStorage.setItem('leadrouter.adminToken', token),
      stack.adminToken,
    );
    const tab = await tokyo.newPage();
    /** The hour (0–23) of the lead's receipt on a zone's clock. */
    const hourIn = (timeZone: string) =>
      Number(
        new Intl.DateTimeFormat('en-US', { timeZone, hour: 'numeric', hourCycle: 'h23' }).format(
          new Date(lead.receivedAt),
        ),
      ) % 12;
    /** The hour shown (12-hour clock, as en-US shows it) and the zone it names. */
    const shown = async () => {
      const text = (await tab.locator('dt:text-is("Received") + dd').textContent()) ?? '';
      const m = /(\d{1,2}):\d{2}:\d{2}\s?[AP]M\s(\S+)$/.exec(text);
      return { hour: Number(m?.[1]) % 12, zone: m?.[2], text };
    };
    try {
      await tab.goto(`${stack.url}/#/leads/${lead.id}`);
      await tab.locator('dt:text-is("Received")').waitFor();
      const select = tab.getByLabel('Times in');
      expect(await select.inputValue()).toBe('new_york');
      const ny = await shown();
      expect(ny.zone, ny.text).toMatch(/^E[SD]T$/);
      expect(ny.hour).toBe(hourIn('America/New_York'));

      await select.selectOption({ label: 'This device' });
      await expect.poll(async () => (await shown()).zone).toBe('GMT+9');
      expect((await shown()).hour).toBe(hourIn('Asia/Tokyo'));

      // Kept: a reload shows device time again.
      await tab.reload();
      await tab.locator('dt:text-is("Received")').waitFor();
      expect(await tab.getByLabel('Times in').inputValue()).toBe('device');
      expect((await shown()).zone).toBe('GMT+9');
      expect(await seriousA11yViolations(tab)).toEqual([]);
    } finally {
      await tokyo.close();
    }
  });

  /** A phone (390 × 844) signed in with the admin token, and how to open a page on it. */
  async function openPhone() {
    const phone = await browser.newContext({
      viewport: { width: 390, height: 844 },
      deviceScaleFactor: 1,
      isMobile: true,
      hasTouch: true,
    });
    await phone.addInitScript(
      (token: string) => localStorage.setItem('leadrouter.adminToken', token),
      stack.adminToken,
    );
    const mobile = await phone.newPage();
    mobile.on('pageerror', (error) => console.error('[phone page error]', error));
    const open = async (hash: string) => {
      await mobile.goto(`${stack.url}/${hash}`);
      // The indicator's state, not its visibility (the phone layout may tuck it away); a first attempt
      // that times out on a loaded machine is retried with backoff, hence the generous wait.
      await mobile.locator('.conn[data-state="live"]').waitFor({ state: 'attached', timeout: 60_000 });
      await mobile.locator('main h1').waitFor();
      await mobile.waitForLoadState('networkidle');
    };
    /** How far the page is wider than the screen (0 or less: no sideways scrolling). */
    const overflow = () => mobile.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    return { phone, mobile, open, overflow };
  }

  it('on a phone every page fits the screen and passes axe, empty tables included', async () => {
    const { phone, mobile, open, overflow } = await openPhone();
    try {
      const pages: [string, string][] = [
        ['#/leads', 'leads'],
        ['#/recipients', 'recipients'],
        ['#/campaigns/solar', 'campaigns-editor'],
        ['#/orders', 'orders-list'],
        ['#/orders?status=filled', 'orders-empty'], // no filled order: an empty table
        ['#/imports', 'imports-empty'], // no scheduled import yet: an empty table
        ['#/analytics', 'analytics'],
        ['#/system', 'system'],
      ];
      const report: Record<string, { overflow: number; axe: number }> = {};
      for (const [hash, name] of pages) {
        await open(hash);
        if (name === 'leads') {
          await mobile.locator('tr.lead-row').first().waitFor();
          await screenshot(mobile, 'leads-phone', { docs: true });
        } else await screenshot(mobile, `${name}-phone`);
        const violations = await seriousA11yViolations(mobile);
        report[name] = { overflow: await overflow(), axe: violations.length };
        expect(violations, `${name}: ${JSON.stringify(violations, null, 2)}`).toEqual([]);
      }
      console.info('[browser] phone: overflow (px) and serious axe violations per page:', report);
      expect(Object.entries(report).filter(([, r]) => r.overflow > 0)).toEqual([]);
    } finally {
      await phone.close();
    }
  }, 150_000);

  it('on a phone chart labels neither overlap nor get cut', async () => {
    const { phone, mobile, open } = await openPhone();
    try {
      await open('#/analytics');
      await mobile.locator('#a-contact').waitFor();
      const problems = await mobile.evaluate(() => {
        const overlapping: string[] = [];
        for (const svg of Array.from(document.querySelectorAll('svg.chart-svg'))) {
          const labels = Array.from(svg.querySelectorAll('text.chart-axis[text-anchor="middle"]')).map(
            (t) => ({
              text: t.textContent ?? '',
              box: t.getBoundingClientRect(),
            }),
          );
          for (let i = 0; i < labels.length; i++)
            for (let j = i + 1; j < labels.length; j++) {
              const [a, b] = [labels[i]!.box, labels[j]!.box];
              if (a.right > b.left + 0.5 && b.right > a.left + 0.5 && a.bottom > b.top && b.bottom > a.top)
                overlapping.push(`${labels[i]!.text} / ${labels[j]!.text}`);
            }
        }
        const cut = Array.from(document.querySelectorAll<HTMLElement>('.funnel-label, .barlist-label'))
          .filter((el) => el.scrollWidth > el.clientWidth + 1)
          .map((el) => el.textContent);
        const contact = Array.from(
          document.querySelectorAll('#a-contact ~ figure text.chart-axis[text-anchor="middle"]'),
        ).map((t) => Array.from(t.querySelectorAll('tspan'), (line) => line.textContent).join(' '));
        return { overlapping, cut, contact };
      });
      await screenshot(mobile, 'analytics-phone', { fullPage: true });
      expect(problems.overlapping).toEqual([]);
      expect(problems.cut).toEqual([]);
      // Every bucket of "Time to first contact" keeps its label (broken over two lines where needed).
      expect(problems.contact).toEqual(['< 5 min', '5–15 min', '15–60 min', '1–4 h', '4–24 h', '> 1 day']);
    } finally {
      await phone.close();
    }
  });

  it('on a phone the forms fit their dialogs, with a margin round them', async () => {
    const { phone, mobile, open } = await openPhone();
    /** The open dialog's margins, and any control reaching past its content box. */
    const fit = () =>
      mobile.evaluate(() => {
        const dialog = document.querySelector('dialog[open]')!;
        const content = dialog.querySelector<HTMLElement>('.dialog-content')!;
        const box = dialog.getBoundingClientRect();
        const inner = content.getBoundingClientRect();
        const outside = Array.from(dialog.querySelectorAll<HTMLElement>('input, select, button, label, p'))
          .filter((el) => {
            const r = el.getBoundingClientRect();
            return r.width > 1 && (r.left < inner.left - 0.5 || r.right > inner.right + 0.5);
          })
          .map((el) => el.getAttribute('aria-label') ?? el.outerHTML.slice(0, 80));
        return {
          left: box.left,
          right: window.innerWidth - box.right,
          top: box.top,
          bottom: window.innerHeight - box.bottom,
          sideways: content.scrollWidth - content.clientWidth,
          outside,
        };
      });
    try {
      for (const [hash, title] of [
        ['#/recipients/new', 'Add recipient'],
        ['#/orders/new', 'New order'],
        ['#/imports/new', 'New import'],
      ] as const) {
        await open(hash);
        const dialog = mobile.getByRole('dialog', { name: title });
        await dialog.waitFor();
        if (title === 'Add recipient') {
          await dialog.getByLabel('Only during set hours').check();
          const until = dialog.getByLabel('Wednesday until');
          // Room for "09:00 AM" and the picker's icon.
          expect((await until.boundingBox())!.width).toBeGreaterThanOrEqual(100);
        }
        await screenshot(mobile, `dialog-${title.toLowerCase().replace(/ /g, '-')}-phone`);
        const f = await fit();
        expect(f.outside, title).toEqual([]);
        expect(f.sideways, title).toBe(0);
        expect(f.left, title).toBeGreaterThanOrEqual(8);
        expect(Math.abs(f.left - f.right), title).toBeLessThanOrEqual(1);
        expect(f.top, title).toBeGreaterThanOrEqual(8);
        expect(f.bottom, title).toBeGreaterThanOrEqual(8);
        expect(await seriousA11yViolations(mobile), title).toEqual([]);
      }
    } finally {
      await phone.close();
    }
  });

  it('the Imports page with a scheduled import passes axe, on a desktop and on a phone', async () => {
    // Prepare: a published CSV served by this test, read once a day, run once now.
    const csvServer = createServer((_req, res) => {
      res
        .writeHead(200, { 'content-type': 'text/csv' })
        .end(`phone,first_name,last_name,state\n${uniquePhone()},Sheet,Row,CA\n`);
    });
    await new Promise<void>((resolve) => csvServer.listen(0, '127.0.0.1', resolve));
    const { port } = csvServer.address() as AddressInfo;
    const { phone, mobile, open } = await openPhone();
    try {
      const created = await api.post('/api/imports', {
        name: 'Partner sheet',
        kind: 'csv_url',
        url: `http://127.0.0.1:${port}/leads.csv`,
        campaign: 'default',
        schedule: 'rate(1 day)',
      });
      expect(created.status, created.text).toBe(201);
      const run = await api.post(`/api/imports/${created.body.id as string}/run`);
      expect(run.body).toMatchObject({ status: 'succeeded', imported: 1 });

      // Assess: each button's name starts with what it shows, then says which import.
      await openLive('#/imports');
      await page.getByRole('button', { name: 'Run now: Partner sheet', exact: true }).waitFor();
      await page.getByRole('button', { name: 'Pause: Partner sheet', exact: true }).waitFor();
      await page.waitForLoadState('networkidle');
      await screenshot(page, 'imports-scheduled');
      const desktop = await seriousA11yViolations(page);
      expect(desktop, JSON.stringify(desktop, null, 2)).toEqual([]);

      await open('#/imports');
      await mobile.getByRole('button', { name: 'Run now: Partner sheet', exact: true }).waitFor();
      await screenshot(mobile, 'imports-scheduled-phone');
      const onPhone = await seriousA11yViolations(mobile);
      expect(onPhone, JSON.stringify(onPhone, null, 2)).toEqual([]);
    } finally {
      await phone.close();
      await new Promise((resolve) => csvServer.close(resolve));
    }
  });
});

if (browserTestsSkipped) {
  // Only outside CI (support.ts fails the run under CI=true): say why nothing ran.
  describe('dashboard in a browser (Chromium missing)', () => {
    it.skip('needs Chromium: apt-get install -y chromium', () => undefined);
  });
}
