// The ACME page: EAB credentials bound to an order (the key shown once, with the
// certbot, lego and mod_md snippets), the list without the key, disabling.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { newPage, signIn, shot, ready, assertNoProblems } from '../lib/harness.mjs';

export default function (env) {
  describe('ACME credentials', () => {
    let page;
    let has;
    before(async () => {
      has = await env.api.has('GET', '/acme/eab');
      page = await newPage(env.browser, env.server);
      await signIn(page, 'demo', env.password, 'demo');
    });
    after(async () => {
      assertNoProblems(page);
      await page.context().close();
    });

    it('creates credentials for an order, shows the key once, lists and disables them', async (t) => {
      if (!has) return t.skip('/acme/eab is not on this server (issue 11)');
      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'ACME' }).click();
      await page.waitForURL('**/demo/acme');
      await ready(page);
      await page.getByLabel('Bind to').selectOption('order');
      await page.getByLabel('Order or product number').fill(String(env.made.withCsr));
      await page.getByLabel('Description').fill('web server');
      await page.getByRole('button', { name: 'Create credentials' }).click();
      const box = page.locator('.acme-created');
      await box.waitFor();
      const [eab] = (await env.api.get('/acme/eab')).results.filter((e) => e.description === 'web server');
      assert.ok(eab && !('hmac_key' in eab));
      const text = await box.textContent();
      assert.ok(text.includes(eab.kid) && text.includes(eab.directory_url));
      assert.match(await box.locator('.snippet pre').first().textContent(), new RegExp(`--eab-kid ${eab.kid} --eab-hmac-key [A-Za-z0-9_-]{43}`));
      assert.match(text, /MDExternalAccountBinding/);
      await shot(page, 'acme-created');
      const row = page.locator(`tr[data-kid="${eab.kid}"]`);
      await row.getByRole('button', { name: 'Disable' }).click();
      await page.getByRole('dialog').getByRole('button', { name: 'Disable' }).click();
      await row.locator('td', { hasText: 'disabled' }).first().waitFor();
      assert.equal((await env.api.get('/acme/eab')).results.find((e) => e.kid === eab.kid).disabled, true);
    });
  });
}
