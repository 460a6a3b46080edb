import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { newPage, signIn, shot, ready, assertNoProblems } from '../lib/harness.mjs';

export default function (env) {
  describe('sign in, teams, sign out', () => {
    it('a viewer sees the orders but cannot buy or change', async () => {
      const page = await newPage(env.browser, env.server);
      await signIn(page, 'vera', 'vera-password-1', 'demo');
      assert.ok(await page.locator('#orders-table tr[data-order-id]').count() > 0);
      await page.goto('/demo/shop');
      await ready(page);
      await page.getByText('Your role in this team (viewer) does not allow buying.').waitFor();
      assert.ok(await page.locator('article.product[data-product="1"]').getByRole('button', { name: 'Buy now' }).isDisabled());
      await shot(page, 'viewer-shop');
      assertNoProblems(page);
      await page.context().close();
    });

    it('rejects a wrong password in plain words next to the form', async () => {
      const page = await newPage(env.browser, env.server);
      await page.goto('/demo/orders');
      await page.getByRole('heading', { name: 'Sign in to your account' }).waitFor();
      assert.match(page.url(), /\/signin\?next=%2Fdemo%2Forders$/);
      await page.getByLabel('User name').fill('demo');
      await page.getByLabel('Password').fill('wrong-password');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('alert').filter({ hasText: 'Wrong user name or password' }).waitFor();
      await shot(page, 'signin-wrong-password');
      assertNoProblems(page);
      await page.context().close();
    });

    it('signs in, asks for the team, shows the header, switches team and signs out', async () => {
      const page = await newPage(env.browser, env.server);
      await page.goto('/signin');
      await page.getByLabel('User name').fill('demo');
      await page.getByLabel('Password').fill(env.password);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('heading', { name: 'Choose a team' }).waitFor();
      await shot(page, 'signin-choose-team');
      await page.locator('button[data-team="demo"]').click();
      await page.getByRole('heading', { name: 'Orders', exact: true }).waitFor();
      await ready(page);
      assert.equal(new URL(page.url()).pathname, '/demo/orders');
      // the header: cart overview, balance, team, user, sign out
      const header = page.locator('#site-header');
      await header.locator('#balance').filter({ hasText: 'EUR' }).waitFor();
      assert.ok(await header.locator('#cart-overview').isVisible());
      assert.ok(await header.getByRole('button', { name: 'Sign out' }).isVisible());
      // the session cookie is HttpOnly and SameSite=Strict; the page never sees it
      const cookies = await page.context().cookies();
      const c = cookies.find((x) => x.name === 'so_session');
      assert.ok(c && c.httpOnly && c.sameSite === 'Strict');
      // the page sees only the hint that it is signed in (no secret in it)
      assert.equal(await page.evaluate(() => document.cookie), 'so_signed_in=1');
      // switch team from the header
      await header.getByLabel('Team').selectOption('bench-1');
      await page.waitForURL('**/bench-1/orders');
      await ready(page);
      await shot(page, 'header-switched-team');
      const s = await page.evaluate(() => fetch('/v1beta/auth/session').then((r) => r.json()));
      assert.equal(s.data.team.slug, 'bench-1');
      // sign out: the session is gone
      await header.getByRole('button', { name: 'Sign out' }).click();
      await page.getByRole('heading', { name: 'Sign in to your account' }).waitFor();
      const after = await page.evaluate(() => fetch('/v1beta/auth/session').then((r) => r.status));
      assert.equal(after, 401);
      assertNoProblems(page);
      await page.context().close();
    });

    it('serves the portal with a strict Content-Security-Policy and history routing', async () => {
      const r = await fetch(`${env.server.base}/demo/managed_csrs`);
      assert.equal(r.status, 200);
      assert.match(await r.text(), /<script type="module" src="\/js\/app.js">/);
      const csp = r.headers.get('content-security-policy');
      assert.match(csp, /default-src 'self'/);
      assert.match(csp, /script-src 'self'(;|$)/);
      assert.match(csp, /style-src 'self'(;|$)/);
      assert.match(csp, /frame-ancestors 'none'/);
      assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
      assert.equal(r.headers.get('x-content-type-options'), 'nosniff');
      assert.ok(r.headers.get('referrer-policy'));
      const missing = await fetch(`${env.server.base}/js/no-such-file.js`);
      assert.equal(missing.status, 404);
      // in the browser: a deep link works, and the page never violates the policy
      const page = await newPage(env.browser, env.server);
      await page.addInitScript(() => {
        window.cspViolations = [];
        document.addEventListener('securitypolicyviolation', (e) => window.cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`));
      });
      await page.goto('/demo/managed_csrs');
      await page.getByRole('heading', { name: 'Sign in to your account' }).waitFor();
      assert.match(page.url(), /\/signin\?next=%2Fdemo%2Fmanaged_csrs$/);
      await page.getByLabel('User name').fill('demo');
      await page.getByLabel('Password').fill(env.password);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.locator('button[data-team="demo"]').click();
      await page.getByRole('heading', { name: 'CSR Manager' }).waitFor();
      assert.equal(new URL(page.url()).pathname, '/demo/managed_csrs');
      await ready(page);
      assert.deepEqual(await page.evaluate(() => window.cspViolations), []);
      await shot(page, 'deep-link-after-sign-in');
      assertNoProblems(page);
      await page.context().close();
    });
  });
}
