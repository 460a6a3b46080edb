// The certificate information page with tags, renew -> cart -> checkout, and
// reprocess (change domain(s)/rekey) with a pasted CSR.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { newPage, signIn, shot, ready, assertNoProblems, csr } from '../lib/harness.mjs';

export default function (env) {
  describe('certificate page, tags, renew to checkout, reprocess', () => {
    let page;
    let has;
    let orders;
    before(async () => {
      has = {
        tags: await env.bench.has('GET', '/tags'),
        cart: await env.bench.has('GET', '/cart'),
        reissue: await env.bench.has('POST', '/ssl/orders/1/reissue', {}),
      };
      orders = (await env.bench.get('/ssl/orders?limit=100')).results;
      page = await newPage(env.browser, env.server);
      await signIn(page, 'demo', env.password, 'bench-1');
    });
    after(async () => {
      assertNoProblems(page);
      await page.context().close();
    });

    it('shows the certificate information page of an order', async () => {
      const act = orders.find((o) => o.status === 'ACT');
      await page.goto(`/bench-1/orders/${act.id}`);
      await ready(page);
      await page.getByRole('heading', { name: act.common_name, level: 1 }).waitFor();
      const details = await page.getByRole('region', { name: 'Order details' }).textContent();
      assert.ok(details.includes(act.product_name) && details.includes(act.expiration_date.slice(0, 10)));
      assert.ok(await page.getByRole('region', { name: 'History' }).isVisible());
      assert.ok(await page.locator('.toolbar a[data-kind="reprocess"]').isVisible());
      await shot(page, 'certificate-page');
    });

    it('adds and removes tags on an order, and the Orders page filters by them', async (t) => {
      if (!has.tags) return t.skip('GET /tags, POST/DELETE /ssl/orders/{id}/tags are not on this server yet (issue 6)');
      const [a, b] = orders.filter((o) => o.status === 'ACT');
      for (const o of [a, b]) {
        await page.goto(`/bench-1/orders/${o.id}`);
        await ready(page);
        const region = page.getByRole('region', { name: 'Tags' });
        await region.getByLabel(`Add a tag to order ${o.id}`).fill('production <eu>');
        await region.getByRole('button', { name: 'Add tag' }).click();
        await region.locator('li.chip[data-tag="production <eu>"]').waitFor();
      }
      await page.getByRole('region', { name: 'Tags' }).getByLabel(`Add a tag to order ${b.id}`).fill('temporary');
      await page.getByRole('region', { name: 'Tags' }).getByRole('button', { name: 'Add tag' }).click();
      await page.locator('li.chip[data-tag="temporary"]').waitFor();
      await shot(page, 'certificate-page-tags');
      assert.deepEqual((await env.bench.get(`/ssl/orders/${b.id}`)).tags.sort(), ['production <eu>', 'temporary']);
      await page.getByRole('button', { name: 'Remove the tag temporary' }).click();
      await page.locator('li.chip[data-tag="temporary"]').waitFor({ state: 'detached' });
      assert.deepEqual((await env.bench.get(`/ssl/orders/${b.id}`)).tags, ['production <eu>']);
      // the Orders page: the tags filter (multi-select) and the popular tags
      await page.goto('/bench-1/orders');
      await ready(page);
      await page.getByRole('button', { name: 'Filters', exact: true }).click();
      await page.locator('#f-tag option[value="production <eu>"]').click();
      await page.locator('#filters-panel').getByRole('button', { name: 'Search' }).click();
      await ready(page);
      const ids = await page.locator('#orders-table tr[data-order-id]').evaluateAll((rs) => rs.map((r) => Number(r.dataset.orderId)).sort((x, y) => x - y));
      assert.deepEqual(ids, [a.id, b.id].sort((x, y) => x - y));
      await shot(page, 'orders-filter-tag');
      await page.getByRole('complementary', { name: 'Quick Links' }).getByRole('link', { name: 'production <eu>' }).click();
      await ready(page);
      assert.equal(await page.locator('#orders-table tr[data-order-id]').count(), 2);
    });

    it('renews: billing plan, live Order Amount, Next to the cart, quantity, remove, Shop More, checkout charges the balance', async (t) => {
      if (!has.cart) return t.skip('/cart, /cart/checkout and /ssl/products/{id}/quote are not on this server yet (issue 6)');
      const exp = orders.find((o) => o.status === 'EXP');
      await page.goto('/bench-1/orders?status=EXP&per_page=100');
      await ready(page);
      await page.locator(`#orders-table tr[data-order-id="${exp.id}"] a[data-kind="renew"]`).click();
      await page.waitForURL(`**/bench-1/orders/${exp.id}/renew`);
      await ready(page);
      assert.equal(await page.locator('#renew-type').textContent(), exp.product_name);
      assert.ok(await page.getByRole('list', { name: 'Features' }).locator('li').count() > 0);
      const amount = page.locator('#order-amount');
      const prices = {};
      for (const n of [1, 2, 3]) {
        await page.getByLabel(new RegExp(`^${n} years?`)).check();
        const q = await env.bench.get(`/ssl/products/${exp.product_id}/quote?period=${n}&domains=${exp.domain_amount}&wildcard_domains=${exp.wildcard_domain_amount}`);
        prices[n] = q.price;
        await amount.filter({ hasText: `EUR ${q.price}` }).waitFor();
      }
      assert.notEqual(prices[1], prices[2]);
      await page.getByLabel(/^2 years/).check();
      await amount.filter({ hasText: `EUR ${prices[2]}` }).waitFor();
      await shot(page, 'renew-form');
      await page.getByRole('button', { name: 'Next' }).click();
      await page.waitForURL('**/bench-1/cart');
      await ready(page);
      const row = page.locator('#cart-table tbody tr').first();
      assert.match(await row.textContent(), new RegExp(`renewal of order #${exp.id}`));
      assert.equal(await page.locator('#cart-total').textContent(), `EUR ${prices[2]}`);
      assert.equal(await page.locator('#cart-overview').getAttribute('data-count'), '1');
      // Shop More: another certificate, two of them, then one removed
      await page.getByRole('link', { name: 'Shop More' }).click();
      await ready(page);
      const dv = page.locator('article.product[data-product="1"]');
      await dv.getByRole('button', { name: 'Add to cart' }).click();
      await dv.getByRole('link', { name: 'Go to the cart' }).click();
      await ready(page);
      const dvRow = page.locator('#cart-table tbody tr', { hasText: 'Essential DV' }).filter({ hasNotText: 'renewal' });
      await dvRow.getByLabel('Quantity of Essential DV').fill('3');
      await dvRow.getByLabel('Quantity of Essential DV').press('Tab');
      await page.locator('#cart-overview[data-count="4"]').waitFor();
      const cart = await env.bench.get('/cart');
      assert.equal(cart.quantity, 4);
      await page.locator('#cart-total').filter({ hasText: `EUR ${cart.amount}` }).waitFor();
      await page.locator('#cart-table tbody tr', { hasText: 'Essential DV' }).filter({ hasNotText: 'renewal' }).getByLabel('Quantity of Essential DV').fill('2');
      await page.locator('#cart-table tbody tr', { hasText: 'Essential DV' }).filter({ hasNotText: 'renewal' }).getByLabel('Quantity of Essential DV').press('Tab');
      await page.locator('#cart-overview[data-count="3"]').waitFor();
      // one more item from the Shop, then removed again
      await page.getByRole('link', { name: 'Shop More' }).click();
      await ready(page);
      await page.locator('article.product[data-product="4"]').getByRole('button', { name: 'Add to cart' }).click();
      await page.locator('#cart-overview[data-count="4"]').waitFor();
      await page.goto('/bench-1/cart');
      await ready(page);
      await page.locator('#cart-table tbody tr', { hasText: 'Business OV' }).filter({ hasNotText: 'renewal' })
        .getByRole('button', { name: 'Remove Business OV from the cart', exact: true }).click();
      await page.locator('#cart-overview[data-count="3"]').waitFor();
      assert.equal((await env.bench.get('/cart')).quantity, 3);
      await shot(page, 'cart');
      // checkout: the balance goes down by the total, the new orders are shown
      const before = Number((await env.bench.get('/me')).team.balance);
      const total = Number((await env.bench.get('/cart')).amount);
      await page.getByRole('button', { name: 'Checkout' }).click();
      await page.getByRole('dialog', { name: 'Checkout' }).getByRole('button', { name: 'Pay and create the orders' }).click();
      const done = page.locator('#checkout-done');
      await done.waitFor().catch(async (e) => { await shot(page, 'FAIL-checkout'); throw e; });
      const after = Number((await env.bench.get('/me')).team.balance);
      assert.equal(Math.round((before - after) * 100), Math.round(total * 100));
      assert.match(await done.textContent(), /Checkout complete: 3 new orders/);
      assert.match(await done.textContent(), new RegExp(`balance is now EUR ${after.toFixed(2)}`));
      await page.locator('#balance').filter({ hasText: `EUR ${after.toFixed(2)}` }).waitFor();
      assert.equal((await env.bench.get('/cart')).results.length, 0);
      await shot(page, 'checkout-done');
      // the new orders are on the Orders page, unused
      const firstNew = Number(await done.locator('a').first().textContent().then((x) => x.replace(/\D/g, '')));
      await page.goto('/bench-1/orders');
      await ready(page);
      assert.equal(await page.locator(`#orders-table tr[data-order-id="${firstNew}"] .status`).textContent(), 'unused');
    });

    it('reprocesses an issued order: a pasted CSR is read on blur and fills the Common Name', async (t) => {
      const act = orders.find((o) => o.status === 'ACT');
      await page.goto('/bench-1/orders');
      await ready(page);
      await page.goto(`/bench-1/orders?status=ACT&per_page=100`);
      await ready(page);
      await page.locator(`#orders-table tr[data-order-id="${act.id}"] a[data-kind="reprocess"]`).click();
      await page.waitForURL(`**/bench-1/orders/${act.id}/reprocess`);
      await ready(page);
      const head = await page.locator('.page-head').textContent();
      assert.ok(head.includes(act.common_name) && head.includes(act.product_name));
      assert.ok(await page.getByRole('region', { name: 'Instructions' }).isVisible());
      assert.ok(await page.getByLabel('use previous CSR').isVisible());
      assert.ok(await page.getByRole('link', { name: 'Create CSR' }).isVisible());
      const cnField = page.getByLabel('Common Name');
      assert.equal(await cnField.inputValue(), '');
      await page.getByLabel('CSR', { exact: true }).fill(csr('rekeyed.example.com', ['rekeyed.example.com', 'www.rekeyed.example.com']));
      await page.getByLabel('CSR', { exact: true }).blur();
      await page.waitForFunction(() => document.getElementById('csr-cn')?.value === 'rekeyed.example.com');
      assert.match(await page.locator('#csr-info').textContent(), /RSA 2048 bits/);
      await page.getByLabel('Server software').selectOption('apache');
      assert.equal(await page.getByLabel('Days before expiry').inputValue(), '60, 30, 7, 1');
      // Next without the agreement: said next to the box
      await page.getByRole('button', { name: 'Next' }).click();
      await page.locator('#subscriber-agreement-err').filter({ hasText: 'agree' }).waitFor();
      await shot(page, 'reprocess-form');
      if (!has.reissue) return t.skip('POST /ssl/orders/{id}/reissue is not on this server yet (issue 4): the form is checked up to Next');
      await page.getByLabel('I agree to the Subscriber Agreement').check();
      await page.getByRole('button', { name: 'Next' }).click();
      await page.waitForURL(`**/bench-1/orders/${act.id}/validation`);
      await ready(page);
      await shot(page, 'reprocess-validation');
    });

    it('"Create CSR" goes to the generator and the new CSR comes back to the form', async () => {
      const act = orders.find((o) => o.status === 'ACT');
      await page.goto(`/bench-1/orders/${act.id}/reprocess`);
      await ready(page);
      await page.getByRole('link', { name: 'Create CSR' }).click();
      await page.waitForURL(/\/bench-1\/managed_csrs\/new\?return=/);
      await ready(page);
      await page.getByLabel('Common Name').fill('fresh.example.com');
      await page.getByLabel('Key type').selectOption('ec-p256');
      await page.getByRole('button', { name: 'Generate CSR' }).click();
      await page.getByRole('heading', { name: 'Your CSR is ready' }).waitFor();
      await page.getByRole('button', { name: 'Use this CSR for the order' }).click();
      await page.waitForURL(`**/bench-1/orders/${act.id}/reprocess`);
      await page.waitForFunction(() => document.getElementById('csr-cn')?.value === 'fresh.example.com');
      assert.match(await page.getByLabel('CSR', { exact: true }).inputValue(), /BEGIN CERTIFICATE REQUEST/);
      await shot(page, 'reprocess-csr-from-generator');
      if (!has.tags) return; // the CSR Manager came with the tags (issue 6)
      // the generator saved it to the CSR Manager: the drop-down offers it by friendly name
      await page.reload();
      await ready(page);
      assert.equal(await page.getByLabel('Common Name').inputValue(), '');
      await page.getByLabel('use managed CSR').selectOption({ label: 'fresh.example.com (fresh.example.com)' });
      await page.waitForFunction(() => document.getElementById('csr-cn')?.value === 'fresh.example.com');
      assert.match(await page.getByLabel('CSR', { exact: true }).inputValue(), /BEGIN CERTIFICATE REQUEST/);
      // "use previous CSR" fills the form from the order's own CSR when it has one
      assert.ok(await page.getByLabel('use previous CSR').isVisible());
    });
  });
}
