// Issue 14 in the portal: an invitation accepted from the header, sessions, two-factor
// sign-in enrolled and then asked for at sign-in, the audit log for admins.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { newPage, signIn, shot, ready, assertNoProblems } from '../lib/harness.mjs';

function base32(s) {
  const abc = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0; let v = 0; const out = [];
  for (const c of s.replace(/=+$/, '')) {
    v = (v << 5) | abc.indexOf(c); bits += 5;
    if (bits >= 8) { out.push((v >>> (bits - 8)) & 255); bits -= 8; }
  }
  return Buffer.from(out);
}

function totp(secret, at = Date.now() / 1000) {
  const msg = Buffer.alloc(8);
  msg.writeBigUInt64BE(BigInt(Math.floor(at / 30)));
  const mac = createHmac('sha1', base32(secret)).update(msg).digest();
  const off = mac[mac.length - 1] & 15;
  return String((mac.readUInt32BE(off) & 0x7fffffff) % 1000000).padStart(6, '0');
}

export default function (env) {
  describe('security: invitations, sessions, two-factor sign-in, audit log', () => {
    it('an invitation shows in the header and is accepted on the Security page', async () => {
      env.server.addUser('sam', 'sam-password-1');
      env.server.ctl(['member', 'add', 'demo', 'sam', 'member']);
      await env.bench.post('/team/members', { username: 'sam', role: 'viewer' });
      const page = await newPage(env.browser, env.server);
      await signIn(page, 'sam', 'sam-password-1');
      const link = page.locator('#invitations-link');
      await link.filter({ hasText: 'Invitations (1)' }).waitFor();
      await link.click();
      await page.getByRole('heading', { name: 'Security', exact: true }).waitFor();
      await ready(page);
      const inv = page.locator('#invitation-list li');
      assert.equal(await inv.count(), 1);
      assert.match(await inv.first().textContent(), /bench-1.*viewer/);
      await shot(page, 'security-invitation');
      await inv.first().getByRole('button', { name: 'Accept' }).click();
      await page.locator('#no-invitations').waitFor();
      await ready(page);
      await page.locator('#team-switch option[value="bench-1"]').waitFor({ state: 'attached' });
      // sessions: this one is listed and marked
      const rows = page.locator('#sessions-table tbody tr');
      assert.ok(await rows.count() >= 1);
      assert.ok(await page.locator('#sessions-table').getByRole('button', { name: 'This session' }).isDisabled());
      assertNoProblems(page);
      await page.context().close();
    });

    it('two-factor sign-in: enrol with the secret, recovery codes, then the code at sign-in', async () => {
      const page = await newPage(env.browser, env.server);
      await signIn(page, 'sam', 'sam-password-1', 'demo');
      await page.goto('/demo/security');
      await ready(page);
      await page.locator('#tfa-start').click();
      const secret = (await page.locator('#tfa-secret').textContent()).trim();
      assert.match(secret, /^[A-Z2-7]{32}$/);
      const uri = await page.locator('#tfa-uri').getAttribute('href');
      assert.match(uri, /^otpauth:\/\/totp\/SSLOrders:sam\?secret=/);
      // the QR code: an image the page's Content-Security-Policy lets load, which a real
      // decoder (zbarimg, zbar-tools) reads back as the otpauth:// URI of this secret
      const qr = page.locator('#tfa-qr');
      await qr.waitFor();
      assert.match(await qr.getAttribute('src'), /^data:image\/svg\+xml/);
      assert.ok(await qr.evaluate((img) => img.complete && img.naturalWidth > 0), 'the QR image did not load');
      const dir = mkdtempSync(join(tmpdir(), 'so-qr-'));
      try {
        await qr.screenshot({ path: join(dir, 'qr.png') });
        const z = spawnSync('zbarimg', ['--raw', '-q', join(dir, 'qr.png')], { encoding: 'utf8' });
        assert.equal(z.status, 0, `zbarimg: ${z.stderr}`);
        assert.equal(z.stdout.trim(), uri);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
      await page.getByLabel('The 6-digit code your app shows').fill(totp(secret));
      await page.getByRole('button', { name: 'Confirm' }).click();
      await page.locator('#recovery-codes li').first().waitFor();
      assert.equal(await page.locator('#recovery-codes li').count(), 10);
      await shot(page, 'security-2fa-on');
      await page.getByRole('button', { name: 'Sign out', exact: true }).click();
      await page.getByRole('heading', { name: 'Sign in to your account' }).waitFor();
      // sign in again: the code is asked for
      await page.getByLabel('User name').fill('sam');
      await page.getByLabel('Password').fill('sam-password-1');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByLabel('Authentication code').waitFor();
      await shot(page, 'signin-2fa-code');
      // the next time step: the confirming code is not accepted twice
      const next = totp(secret, Date.now() / 1000 + 30);
      await page.getByLabel('Authentication code').fill(next);
      await page.getByRole('button', { name: 'Sign in' }).click();
      const chooser = page.getByRole('heading', { name: 'Choose a team' });
      await chooser.waitFor();
      await page.locator('button[data-team="demo"]').click();
      await page.getByRole('heading', { name: 'Orders', exact: true }).waitFor();
      await ready(page);
      assertNoProblems(page);
      await page.context().close();
    });

    it('the audit log lists changes for admins, with a CSV export', async () => {
      const page = await newPage(env.browser, env.server);
      await signIn(page, 'demo', env.password, 'bench-1');
      await page.locator('#main-nav').getByRole('link', { name: 'Audit' }).click();
      await page.getByRole('heading', { name: 'Audit log' }).waitFor();
      await ready(page);
      const rows = page.locator('#audit-table tbody tr');
      await rows.first().waitFor();
      const text = await page.locator('#audit-table').textContent();
      assert.match(text, /POST \/team\/members/);
      assert.match(await page.locator('#audit-csv').getAttribute('href'), /\/v1beta\/audit\?.*format=csv/);
      await page.getByLabel('User').fill('nobody-at-all');
      await page.getByRole('button', { name: 'Filter' }).click();
      await page.locator('#audit-total').filter({ hasText: '0 entries' }).waitFor();
      await shot(page, 'audit-log');
      assertNoProblems(page);
      await page.context().close();
    });
  });
}
