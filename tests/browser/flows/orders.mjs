// The Orders page: list, search, every filter, page size, pagination, CSV, pop-over.
// Team bench-1 holds synthetic orders in every status (sslordersctl seed orders);
// what the page shows is compared with what the API answers for the same query.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { newPage, signIn, shot, ready, assertNoProblems } from '../lib/harness.mjs';

export default function (env) {
  describe('orders page', () => {
    let page;
    const total = async (q) => (await env.bench.get(`/ssl/orders?limit=1&${q}`)).total;
    const summary = () => page.locator('#orders-summary').textContent();
    const rows = () => page.locator('#orders-table tbody tr[data-order-id]');
    const applyFilters = async () => {
      await page.locator('#filters-panel').getByRole('button', { name: 'Search' }).click();
      await ready(page);
    };
    const openFilters = async () => {
      await page.getByRole('button', { name: 'Filters', exact: true }).click();
      await page.locator('#filters-panel').waitFor();
    };

    before(async () => {
      page = await newPage(env.browser, env.server);
      await signIn(page, 'demo', env.password, 'bench-1');
    });
    after(async () => {
      assertNoProblems(page);
      await page.context().close();
    });

    it('shows the orders with their columns, the page size bottom left and the Quick Links', async () => {
      const all = await total('');
      assert.equal(await summary(), `Showing 1–10 of ${all} orders`);
      assert.equal(await rows().count(), 10);
      const heads = await page.locator('#orders-table thead th').allTextContents();
      assert.deepEqual(heads.map((t) => t.replace(/[▲▼]/g, '').trim().toLowerCase()),
        ['subject', 'folder', 'status', 'order date', 'expiration date', 'action']);
      // the subject is the common name and the order id
      const first = rows().first();
      assert.match(await first.locator('.order-ref').textContent(), /^Order #\d+ · /);
      const ql = page.getByRole('complementary', { name: 'Quick Links' });
      assert.ok(await ql.getByRole('link', { name: 'CSR Manager' }).isVisible());
      assert.ok(await ql.getByRole('link', { name: 'Folders Management' }).isVisible());
      assert.equal(await ql.getByRole('link', { name: 'CSR Manager' }).getAttribute('href'), '/bench-1/managed_csrs');
      // the page size drop-down is left of the pagination
      const size = await page.getByLabel('Orders per page').boundingBox();
      const pag = await page.getByRole('navigation', { name: 'Pages' }).boundingBox();
      assert.ok(size.x < pag.x);
      await shot(page, 'orders-default');
    });

    it('searches by domain and by order number', async () => {
      const { results } = await env.bench.get('/ssl/orders?limit=1&order_by.order_date=asc');
      const cn = results[0].common_name;
      await page.getByRole('searchbox', { name: 'Search orders' }).fill(cn);
      await page.getByRole('button', { name: 'Search', exact: true }).first().click();
      await ready(page);
      assert.equal(await rows().count(), await total(`search=${encodeURIComponent(cn)}`));
      assert.equal(await rows().first().locator('.order-name').textContent(), cn);
      assert.match(page.url(), /search=/);
      await shot(page, 'orders-search-domain');
      await page.getByRole('searchbox', { name: 'Search orders' }).fill(String(results[0].id));
      await page.getByRole('button', { name: 'Search', exact: true }).first().click();
      await ready(page);
      assert.equal(await page.locator(`#orders-table tr[data-order-id="${results[0].id}"]`).count(), 1);
      // nothing found: said in words
      await page.getByRole('searchbox', { name: 'Search orders' }).fill('no-such-domain.invalid');
      await page.getByRole('button', { name: 'Search', exact: true }).first().click();
      await ready(page);
      assert.equal(await summary(), 'No orders match.');
      await page.getByRole('button', { name: /Remove the filter Search/ }).click();
      await ready(page);
    });

    it('opens the Filters panel, Cancel closes it, Escape too', async () => {
      const btn = page.getByRole('button', { name: 'Filters', exact: true });
      assert.equal(await btn.getAttribute('aria-expanded'), 'false');
      await btn.click();
      assert.equal(await btn.getAttribute('aria-expanded'), 'true');
      // one input per filter, each of its own kind
      assert.equal(await page.getByLabel('Organization unit').getAttribute('type'), 'text');
      assert.equal(await page.locator('#f-status').evaluate((s) => s.multiple), true);
      assert.equal(await page.locator('#f-tag').evaluate((s) => s.multiple), true);
      assert.equal(await page.getByLabel('Order date from').getAttribute('type'), 'date');
      assert.equal(await page.getByLabel('Expiration date to').getAttribute('type'), 'date');
      assert.ok(await page.getByLabel('Product').isVisible());
      assert.ok(await page.getByLabel('Folder', { exact: true }).isVisible());
      await shot(page, 'orders-filters-panel');
      await page.getByLabel('Organization unit').fill('typed but cancelled');
      await page.getByRole('button', { name: 'Cancel' }).click();
      assert.equal(await page.locator('#filters-panel').isHidden(), true);
      assert.equal(await btn.getAttribute('aria-expanded'), 'false');
      // keyboard: Enter opens, Escape closes and gives the focus back
      await btn.focus();
      await page.keyboard.press('Enter');
      assert.equal(await page.locator('#filters-panel').isVisible(), true);
      assert.equal(await page.getByLabel('Organization unit').inputValue(), '');
      await page.keyboard.press('Escape');
      assert.equal(await page.locator('#filters-panel').isHidden(), true);
      assert.equal(await page.evaluate(() => document.activeElement.textContent), 'Filters');
    });

    it('filters by organization unit (text)', async () => {
      await openFilters();
      await page.getByLabel('Organization unit').fill('Web Operations');
      await applyFilters();
      const n = await total('organization_unit=Web%20Operations');
      assert.ok(n > 0 && n < await total(''));
      assert.match(await summary(), new RegExp(`of ${n} orders?$|^Showing 1–${n} of ${n}`));
      await shot(page, 'orders-filter-ou');
      await page.getByRole('button', { name: /Remove the filter Organization unit/ }).click();
      await ready(page);
    });

    it('filters by several statuses with Ctrl+Click', async () => {
      await openFilters();
      await page.locator('#f-status option[value="ACT"]').click();
      await page.locator('#f-status option[value="EXP"]').click({ modifiers: ['Control'] });
      assert.deepEqual(await page.locator('#f-status').evaluate((s) => [...s.selectedOptions].map((o) => o.value)), ['ACT', 'EXP']);
      await page.getByLabel('Orders per page', { exact: false }); // still there
      await applyFilters();
      const n = await total('status=ACT&status=EXP');
      assert.match(await summary(), new RegExp(` of ${n} orders$`));
      const badges = await page.locator('#orders-table .status').allTextContents();
      assert.ok(badges.length > 0);
      assert.ok(badges.every((b) => b === 'issued' || b === 'expired'), badges.join());
      assert.ok(badges.includes('issued'));
      await shot(page, 'orders-filter-status');
      await page.getByRole('button', { name: 'Clear all filters' }).click({ force: true }).catch(() => {});
      await page.goto('/bench-1/orders');
      await ready(page);
    });

    it('filters by product', async () => {
      await openFilters();
      await page.getByLabel('Product').selectOption({ label: 'Business OV' });
      await applyFilters();
      const refs = await page.locator('#orders-table .order-ref').allTextContents();
      assert.ok(refs.length > 0 && refs.every((r) => r.endsWith('· Business OV')), refs.join());
      assert.match(await summary(), new RegExp(` of ${await total('product_id=4')} orders?$`));
      await shot(page, 'orders-filter-product');
      await page.goto('/bench-1/orders');
      await ready(page);
    });

    it('filters by order date and expiration date ranges', async () => {
      const day = (n) => new Date(Date.now() + n * 86400000).toISOString().slice(0, 10);
      await openFilters();
      await page.getByLabel('Order date from').fill(day(-120));
      await page.getByLabel('Order date to').fill(day(0));
      await applyFilters();
      let n = await total(`order_date_from=${day(-120)}&order_date_to=${day(0)}`);
      assert.ok(n > 0);
      assert.match(await summary(), new RegExp(` of ${n} orders?$`));
      const dates = await page.locator('#orders-table td[data-label="Order Date"]').allTextContents();
      assert.ok(dates.every((d) => d >= day(-120) && d <= day(0)), dates.join());
      await page.goto('/bench-1/orders');
      await ready(page);
      await openFilters();
      await page.getByLabel('Expiration date from').fill(day(0));
      await page.getByLabel('Expiration date to').fill(day(200));
      await applyFilters();
      n = await total(`expiration_date_from=${day(0)}&expiration_date_to=${day(200)}`);
      assert.ok(n > 0);
      assert.match(await summary(), new RegExp(` of ${n} orders?$`));
      const exp = await page.locator('#orders-table td[data-label="Expiration Date"]').allTextContents();
      assert.ok(exp.every((d) => d >= day(0) && d <= day(200)), exp.join());
      await shot(page, 'orders-filter-dates');
      // a range that ends before it starts is explained next to the filters
      await openFilters();
      await page.getByLabel('Order date from').fill(day(0));
      await page.getByLabel('Order date to').fill(day(-10));
      await page.locator('#filters-panel').getByRole('button', { name: 'Search' }).click();
      await page.locator('#filters-panel [role=alert]').filter({ hasText: 'ends before it starts' }).waitFor();
      await page.goto('/bench-1/orders');
      await ready(page);
    });

    it('changes the page size and pages through the list', async () => {
      const all = await total('');
      await page.getByLabel('Orders per page').selectOption('5');
      await ready(page);
      assert.equal(await rows().count(), 5);
      assert.equal(await summary(), `Showing 1–5 of ${all} orders`);
      const firstPage = await page.locator('#orders-table .order-ref').allTextContents();
      await page.getByRole('link', { name: 'Next page' }).click();
      await ready(page);
      assert.equal(await summary(), `Showing 6–10 of ${all} orders`);
      const second = await page.locator('#orders-table .order-ref').allTextContents();
      assert.ok(second.every((r) => !firstPage.includes(r)));
      assert.equal(await page.getByRole('link', { name: 'Page 2' }).getAttribute('aria-current'), 'page');
      const last = Math.ceil(all / 5);
      await page.getByRole('link', { name: `Page ${last}` }).click();
      await ready(page);
      assert.equal(await summary(), `Showing ${(last - 1) * 5 + 1}–${all} of ${all} orders`);
      await shot(page, 'orders-page-size-5-last-page');
      await page.getByLabel('Orders per page').selectOption('20');
      await ready(page);
      assert.equal(await rows().count(), 20);
      assert.equal(await summary(), `Showing 1–20 of ${all} orders`);
      await page.goBack();
      await ready(page);
      assert.equal(await rows().count(), 5);
      await page.goto('/bench-1/orders');
      await ready(page);
    });

    it('exports the listed orders to CSV', async () => {
      await page.goto('/bench-1/orders?status=ACT');
      await ready(page);
      const n = await total('status=ACT');
      const [dl] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Export to CSV' }).click()]);
      const file = await dl.path();
      const lines = readFileSync(file, 'utf8').trim().split(/\r?\n/);
      assert.equal(lines.length, n + 1, 'a header line and one line per listed order');
      assert.ok(lines.slice(1).every((l) => l.includes('ACT')));
      await shot(page, 'orders-csv');
      await page.goto('/bench-1/orders');
      await ready(page);
    });

    it('opens the details pop-over by the name or "open" and closes it by the name or "close"', async () => {
      const { results } = await env.bench.get('/ssl/orders?limit=10');
      const act = results.find((o) => o.status === 'ACT');
      const row = page.locator(`#orders-table tr[data-order-id="${act.id}"]`);
      const name = row.locator('.order-name');
      const pop = page.getByRole('region', { name: `Details of order ${act.id}` });
      await name.click();
      await pop.waitFor();
      assert.equal(await name.getAttribute('aria-expanded'), 'true');
      const text = await pop.textContent();
      for (const label of ['Certificate type', 'Validity period', 'Order date', 'Expires', 'Contacts', 'Serial number']) {
        assert.ok(text.includes(label), `pop-over shows ${label}`);
      }
      assert.ok(text.includes(act.product_name));
      assert.ok(text.includes(act.expiration_date.slice(0, 10)));
      assert.equal(await page.evaluate(() => document.activeElement.getAttribute('aria-label')), `Details of order ${act.id}`);
      await shot(page, 'orders-popover');
      await name.click();
      assert.equal(await pop.isHidden(), true);
      // the "open" link under the name, then "close"
      await row.getByRole('button', { name: 'open' }).click();
      await pop.waitFor();
      await row.getByRole('button', { name: 'close' }).click();
      assert.equal(await pop.isHidden(), true);
      assert.ok(await row.getByRole('button', { name: 'open' }).isVisible());
      // Escape closes it too and the focus goes back to the name
      await name.click();
      await pop.waitFor();
      await page.keyboard.press('Escape');
      assert.equal(await pop.isHidden(), true);
      assert.equal(await page.evaluate(() => document.activeElement.dataset.order), String(act.id));
    });

    it('offers the actions the status allows', async () => {
      const { results } = await env.bench.get('/ssl/orders?limit=100');
      await page.getByLabel('Orders per page').selectOption('100');
      await ready(page);
      const kinds = async (id) => page.locator(`#orders-table tr[data-order-id="${id}"] td[data-label="Action"] a`).evaluateAll((as) => as.map((a) => a.dataset.kind));
      const by = (s) => results.find((o) => o.status === s);
      assert.deepEqual(await kinds(by('ACT').id), (await kinds(by('ACT').id)).filter((k) => ['download', 'reprocess', 'renew', 'documents', 'seal'].includes(k)));
      assert.ok((await kinds(by('ACT').id)).includes('reprocess'));
      assert.ok((await kinds(by('ACT').id)).includes('seal'));
      assert.deepEqual(await kinds(by('EXP').id), ['renew']);
      assert.deepEqual(await kinds(by('PAI').id), ['complete']);
      assert.ok((await kinds(by('REQ').id)).includes('documents'));
      assert.deepEqual(await kinds(by('FAI').id), ['details']);
      await shot(page, 'orders-actions-100-per-page');
      await page.goto('/bench-1/orders');
      await ready(page);
    });

    it('is readable on a phone', async () => {
      const phone = await newPage(env.browser, env.server, { viewport: { width: 390, height: 844 }, context: { isMobile: true, hasTouch: true } });
      await signIn(phone, 'demo', env.password, 'bench-1');
      const width = await phone.evaluate(() => document.documentElement.scrollWidth);
      assert.ok(width <= 390, `no horizontal scrolling (${width}px)`);
      await phone.getByRole('button', { name: 'Menu' }).click();
      await phone.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Shop' }).waitFor();
      await shot(phone, 'orders-phone');
      assertNoProblems(phone);
      await phone.context().close();
    });
  });
}
