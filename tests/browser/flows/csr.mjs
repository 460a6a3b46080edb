// The CSR generator (the key is made in the browser and never sent) and the CSR
// Manager at /<team>/managed_csrs.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { newPage, signIn, shot, ready, assertNoProblems, csr } from '../lib/harness.mjs';

function openssl(args, input) {
  const r = spawnSync('openssl', args, { input, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

/** Strings that appear in any encoding of the key's secret part. */
function secretMarkers(keyPem) {
  const dir = mkdtempSync(path.join(tmpdir(), 'so-key-'));
  writeFileSync(path.join(dir, 'k.pem'), keyPem);
  const text = openssl(['pkey', '-in', path.join(dir, 'k.pem'), '-noout', '-text']);
  rmSync(dir, { recursive: true, force: true });
  const m = text.match(/(?:priv|privateExponent):\s*\n((?:[ \t]+[0-9a-f:]+\n)+)/);
  assert.ok(m, 'openssl shows the secret part');
  let secret = Buffer.from(m[1].replace(/[\s:]/g, ''), 'hex');
  const b64 = keyPem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');
  const der = Buffer.from(b64, 'base64');
  let o = der.indexOf(secret);
  if (o < 0 && secret[0] === 0) { secret = secret.subarray(1); o = der.indexOf(secret); }
  assert.ok(o > 0 && secret.length >= 32, 'the secret is inside the PKCS#8 key');
  const from = Math.ceil((8 * o) / 6);
  const to = Math.floor((8 * (o + secret.length)) / 6);
  return [b64.slice(from, to), secret.toString('hex'), secret.toString('hex').toUpperCase(),
    secret.toString('base64'), secret.toString('base64url')];
}

export default function (env) {
  describe('CSR generator and CSR Manager', () => {
    let page;
    let hasManager;
    const bodies = [];
    before(async () => {
      hasManager = await env.api.has('GET', '/ssl/managed-csrs');
      page = await newPage(env.browser, env.server);
      // every request the page makes, with its body, from the first one on
      page.on('request', (r) => bodies.push({ url: r.url(), method: r.method(), body: r.postData() || '' }));
      await signIn(page, 'demo', env.password, 'demo');
    });
    after(async () => {
      assertNoProblems(page);
      await page.context().close();
    });

    it('creates the key and the CSR in the browser; no request ever carries the private key', async () => {
      await page.goto('/demo/managed_csrs/new');
      await ready(page);
      await page.getByLabel('Common Name').fill('gen.example.com');
      await page.getByLabel('Additional names').fill('www.gen.example.com\napi.gen.example.com');
      await page.getByLabel('Organization', { exact: true }).fill('Gen <Test> & Co');
      await page.getByLabel('Country').fill('NL');
      await page.getByLabel('Key type').selectOption('ec-p256');
      await page.getByLabel('Friendly name').fill('generated in the browser');
      const before = bodies.length;
      await page.getByRole('button', { name: 'Generate CSR' }).click();
      await page.getByRole('heading', { name: 'Your CSR is ready' }).waitFor();
      const warning = page.locator('#key-warning');
      assert.match(await warning.textContent(), /never|not sent to the server/);
      assert.match(await warning.textContent(), /keep it in a safe place/);
      await shot(page, 'csr-generator-result');
      const csrPem = await page.locator('#generated-csr').inputValue();
      assert.match(csrPem, /^-----BEGIN CERTIFICATE REQUEST-----/);
      const [dl] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Download the private key' }).click()]);
      assert.equal(dl.suggestedFilename(), 'gen_example_com.key');
      const keyPem = readFileSync(await dl.path(), 'utf8');
      assert.match(keyPem, /^-----BEGIN PRIVATE KEY-----/);
      // the key belongs to the CSR, and OpenSSL accepts the CSR's signature
      const dir = mkdtempSync(path.join(tmpdir(), 'so-gen-'));
      writeFileSync(path.join(dir, 'c.csr'), csrPem);
      writeFileSync(path.join(dir, 'k.pem'), keyPem);
      const text = openssl(['req', '-in', path.join(dir, 'c.csr'), '-noout', '-verify', '-text']);
      assert.match(text, /DNS:gen\.example\.com, DNS:www\.gen\.example\.com, DNS:api\.gen\.example\.com/);
      assert.match(text, /ecdsa-with-SHA256/);
      assert.equal(openssl(['req', '-in', path.join(dir, 'c.csr'), '-noout', '-pubkey']),
        openssl(['pkey', '-in', path.join(dir, 'k.pem'), '-pubout']));
      rmSync(dir, { recursive: true, force: true });
      // the server reads it like any CSR
      const d = await env.api.post('/ssl/csr/decode', { csr: csrPem });
      assert.equal(d.subject.common_name, 'gen.example.com');
      assert.equal(d.subject.organization, 'Gen <Test> & Co');
      assert.equal(d.key_ok, true);
      // no request body (nor URL) holds the key, in any form: the secret part of the
      // key (EC private scalar) as PEM/DER base64, hex, base64 or base64url (JWK)
      const markers = secretMarkers(keyPem);
      assert.ok(keyPem.replace(/\s+/g, '').includes(markers[0]), 'the check would see the key in a PEM body');
      assert.ok(bodies.length > before || !hasManager, 'the page talked to the server');
      for (const r of bodies) {
        const hay = decodeURIComponent(r.url) + r.body.replace(/\\n/g, '\n').replace(/\s+/g, '').replace(/\\\//g, '/');
        assert.ok(!/PRIVATE KEY/.test(r.body), `${r.method} ${r.url} carries a private key`);
        for (const m of markers) assert.ok(!hay.includes(m) && !r.body.includes(m), `${r.method} ${r.url} carries the private key`);
      }
      if (hasManager) {
        const saved = bodies.filter((r) => r.method === 'POST' && r.url.endsWith('/v1beta/ssl/managed-csrs'));
        assert.equal(saved.length, 1);
        assert.equal(JSON.parse(saved[0].body).csr.trim(), csrPem.trim());
        const list = await env.api.get('/ssl/managed-csrs');
        assert.ok(list.results.some((c) => c.friendly_name === 'generated in the browser' && c.common_name === 'gen.example.com'));
      }
    });

    it('explains a wrong entry next to its field', async () => {
      await page.goto('/demo/managed_csrs/new');
      await ready(page);
      await page.getByLabel('Common Name').fill('not a host name');
      await page.getByLabel('Country').fill('N1');
      await page.getByRole('button', { name: 'Generate CSR' }).click();
      await page.locator('#gen-cn-err').filter({ hasText: 'is not a host name' }).waitFor();
      assert.match(await page.locator('#gen-c-err').textContent(), /two-letter code/);
      assert.equal(await page.locator('#csr-result').textContent(), '');
      await shot(page, 'csr-generator-errors');
    });

    it('lists, shows, renames, adds and deletes managed CSRs', async (t) => {
      if (!hasManager) return t.skip('GET/POST/PUT/DELETE /ssl/managed-csrs is not on this server yet (issue 6)');
      await page.goto('/demo/orders');
      await ready(page);
      await page.getByRole('complementary', { name: 'Quick Links' }).getByRole('link', { name: 'CSR Manager' }).click();
      await page.waitForURL('**/demo/managed_csrs');
      await ready(page);
      const row = page.locator('#csr-table tr', { hasText: 'generated in the browser' });
      await row.waitFor();
      assert.match(await row.textContent(), /gen\.example\.com.*EC P-256/);
      await shot(page, 'csr-manager');
      // view
      await row.getByRole('link', { name: 'view' }).click();
      await ready(page);
      assert.match(await page.locator('.facts').textContent(), /Public key SHA-1.*CSR MD5/);
      // edit the friendly name
      await page.getByRole('button', { name: 'Edit friendly name' }).click();
      const dlg = page.getByRole('dialog');
      await dlg.getByLabel('Friendly name').fill('web front <1>');
      await dlg.getByRole('button', { name: 'Save' }).click();
      await page.getByRole('heading', { name: 'web front <1>' }).waitFor();
      const id = Number(page.url().split('/').pop());
      assert.equal((await env.api.get(`/ssl/managed-csrs/${id}`)).friendly_name, 'web front <1>');
      // paste one
      await page.goto('/demo/managed_csrs');
      await ready(page);
      await page.getByRole('button', { name: 'Paste a CSR' }).click();
      await page.locator('#paste-csr').fill(csr('pasted.example.com'));
      await page.locator('#paste-friendly').fill('pasted one');
      await page.getByRole('button', { name: 'Save to CSR Manager' }).click();
      await page.locator('#csr-table tr', { hasText: 'pasted one' }).waitFor();
      // delete it (after a confirmation)
      await page.locator('#csr-table tr', { hasText: 'pasted one' }).getByRole('button', { name: /Delete/ }).click();
      const confirm = page.getByRole('dialog', { name: 'Delete this CSR?' });
      await confirm.waitFor();
      await shot(page, 'csr-manager-delete-confirm');
      await confirm.getByRole('button', { name: 'Delete' }).click();
      await page.locator('#csr-table tr', { hasText: 'pasted one' }).waitFor({ state: 'detached' });
      const list = await env.api.get('/ssl/managed-csrs');
      assert.ok(!list.results.some((c) => c.friendly_name === 'pasted one'));
    });
  });
}
