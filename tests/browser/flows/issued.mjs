// An issued certificate: bundle downloads from the certificate information page,
// validation documents (upload, a refused upload, delete, publish on the seal),
// the site seal settings, the snippet and the seal report.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { newPage, signIn, shot, ready, assertNoProblems } from '../lib/harness.mjs';
import { issueOrder } from '../lib/seed.mjs';

// a small, valid PDF
const PDF = Buffer.from('%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n'
  + '3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n');
const PNG = Buffer.from('89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d49444154789c6360000000000500010d0a2db40000000049454e44ae426082', 'hex');

function certsIn(file) {
  const text = readFileSync(file, 'utf8');
  return (text.match(/-----BEGIN CERTIFICATE-----/g) || []).length;
}

export default function (env) {
  describe('issued certificate: downloads, documents, site seal', () => {
    let page;
    let order;
    let has;
    before(async () => {
      has = {
        download: await env.api.has('GET', '/ssl/download-formats'),
        documents: await env.api.has('GET', '/ssl/orders/1/documents'),
        seal: await env.api.has('GET', '/ssl/orders/1/seal'),
        validate: await env.api.has('POST', '/ssl/orders/1/validate', {}),
      };
      if (has.validate) order = await issueOrder(env.server, env.api, 'issued.example.net');
      page = await newPage(env.browser, env.server);
      await signIn(page, 'demo', env.password, 'demo');
    });
    after(async () => {
      assertNoProblems(page);
      await page.context().close();
    });

    it('downloads certificate bundles from the download table', async (t) => {
      if (!has.validate) return t.skip('issuance (POST /ssl/orders/{id}/validate) is not on this server yet (issue 4)');
      if (!has.download) return t.skip('GET /ssl/download-formats and /ssl/orders/{id}/download are not on this server yet (issue 5)');
      await page.goto(`/demo/orders/${order.id}`);
      await ready(page);
      const rows = await page.locator('#download-table tbody th').allTextContents();
      assert.deepEqual(rows.slice(-2), ['Other platforms', 'CA bundle (intermediate certs)']);
      const get = async (format) => {
        const [dl] = await Promise.all([page.waitForEvent('download'),
          page.locator(`#download-table tr[data-format="${format}"] a`).click()]);
        return { name: dl.suggestedFilename(), file: await dl.path() };
      };
      const nginx = await get('nginx');
      assert.equal(nginx.name, 'issued_example_net.chained.crt');
      assert.equal(certsIn(nginx.file), 2, 'the server certificate then the intermediate');
      const subj = spawnSync('openssl', ['x509', '-in', nginx.file, '-noout', '-subject'], { encoding: 'utf8' }).stdout;
      assert.match(subj, /CN\s*=\s*issued\.example\.net/);
      const ca = await get('ca-bundle');
      assert.equal(ca.name, 'issued_example_net.ca-bundle');
      const caText = readFileSync(ca.file, 'utf8');
      assert.ok(!caText.includes(order.certificate.trim().split('\n')[1]), 'the CA bundle does not hold the server certificate');
      assert.equal(certsIn(ca.file), 2, 'the intermediate and the root');
      const other = await get('other');
      assert.equal(other.name, 'issued_example_net.zip');
      const list = spawnSync('unzip', ['-Z1', other.file], { encoding: 'utf8' }).stdout.trim().split('\n');
      assert.equal(list.length, 3, `1 root, 1 intermediate, 1 server certificate: ${list}`);
      assert.ok(list.includes('issued_example_net.crt'));
      await shot(page, 'certificate-downloads');
    });

    it('uploads validation documents, explains a refused one, deletes one, publishes an accepted one', async (t) => {
      if (!has.validate) return t.skip('issuance is not on this server yet (issue 4)');
      if (!has.documents) return t.skip('/ssl/orders/{id}/documents is not on this server yet (issue 5)');
      await page.goto('/demo/orders?folder=all&per_page=100');
      await ready(page);
      await page.locator(`#orders-table tr[data-order-id="${order.id}"] a[data-kind="documents"]`).click();
      await page.waitForURL(`**/demo/orders/${order.id}/documents`);
      await ready(page);
      assert.match(await page.getByRole('region', { name: 'Domain validation' }).textContent(), /issued\.example\.net.*validated/);
      // a PDF
      await page.getByLabel('Document', { exact: true }).setInputFiles({ name: 'registration.pdf', mimeType: 'application/pdf', buffer: PDF });
      await page.getByRole('button', { name: 'Upload' }).click();
      const row = page.locator('#documents-table tr', { hasText: 'registration.pdf' });
      await row.waitFor();
      assert.equal(await row.locator('td').first().textContent(), 'pdf');
      assert.equal(await row.locator('code.sha').getAttribute('title'), createHash('sha256').update(PDF).digest('hex'));
      assert.match(await row.locator('.doc-status').textContent(), /pending/);
      // a PNG that claims to be a PDF: refused, said next to the file input
      await page.getByLabel('Document', { exact: true }).setInputFiles({ name: 'fake.pdf', mimeType: 'application/pdf', buffer: PNG });
      await page.getByRole('button', { name: 'Upload' }).click();
      await page.locator('#document-file-err').filter({ hasText: /labelled|PDF|PNG/i }).waitFor();
      await shot(page, 'documents-refused');
      // a text file, then deleted while pending
      await page.getByLabel('Document', { exact: true }).setInputFiles({ name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('our registration number is 123\n') });
      await page.getByRole('button', { name: 'Upload' }).click();
      await page.locator('#documents-table tr', { hasText: 'notes.txt' }).waitFor();
      await page.getByRole('button', { name: 'Delete notes.txt' }).click();
      await page.getByRole('dialog', { name: 'Delete notes.txt?' }).getByRole('button', { name: 'Delete' }).click();
      await page.locator('#documents-table tr', { hasText: 'notes.txt' }).waitFor({ state: 'detached' });
      // staff accept the PDF; then it can be published on the seal
      const docs = (await env.api.get(`/ssl/orders/${order.id}/documents`)).results;
      assert.equal(docs.length, 1);
      assert.ok(await row.locator('input[type=checkbox]').isDisabled(), 'a pending document cannot be published');
      await env.staff.post(`/staff/documents/${docs[0].id}`, { decision: 'accept', reason: 'matches the registry' });
      await page.reload();
      await ready(page);
      const accepted = page.locator('#documents-table tr', { hasText: 'registration.pdf' });
      assert.match(await accepted.locator('.doc-status').textContent(), /accepted/);
      await accepted.getByLabel('on the site seal').check();
      await page.waitForFunction(async (id) => (await (await fetch(`/v1beta/ssl/orders/${id}/documents`)).json()).data.results[0].published, order.id);
      await shot(page, 'documents');
    });

    it('changes the site seal settings, copies the snippet and previews the seal report', async (t) => {
      if (!has.validate) return t.skip('issuance is not on this server yet (issue 4)');
      if (!has.seal) return t.skip('GET/PUT /ssl/orders/{id}/seal is not on this server yet (issue 5)');
      await page.goto(`/demo/orders/${order.id}`);
      await ready(page);
      await page.locator('.toolbar a[data-kind="seal"]').click();
      await page.waitForURL(`**/demo/orders/${order.id}/seal`);
      await ready(page);
      const s = await env.api.get(`/ssl/orders/${order.id}/seal`);
      assert.equal(await page.getByLabel('Show the site seal').isChecked(), s.enabled);
      assert.equal(await page.locator('#seal-snippet').inputValue(), s.snippet);
      assert.ok(s.snippet.includes(s.seal_id));
      // the badge preview loads (same origin, allowed by the portal's CSP)
      await page.waitForFunction(() => document.getElementById('seal-image')?.naturalWidth > 0);
      // off: visitors see a disabled seal
      await page.getByLabel('Show the site seal').setChecked(false);
      await page.getByRole('button', { name: 'Save settings' }).click();
      await page.locator('#seal-saved').waitFor();
      assert.equal((await env.api.get(`/ssl/orders/${order.id}/seal`)).enabled, false);
      assert.match(await page.getByRole('region', { name: 'State' }).textContent(), /Sealdisabled/);
      await page.getByLabel('Show the site seal').setChecked(true);
      await page.getByLabel(/Site Seal Artifacts/).check();
      await page.getByRole('button', { name: 'Save settings' }).click();
      await page.locator('#seal-saved').waitFor();
      const after = await env.api.get(`/ssl/orders/${order.id}/seal`);
      assert.equal(after.enabled, true);
      assert.equal(after.artifacts_enabled, true);
      await shot(page, 'seal-settings');
      // "preview site seal report" opens the public report in a new tab
      const [report] = await Promise.all([page.context().waitForEvent('page'), page.getByRole('link', { name: 'preview site seal report' }).click()]);
      await report.waitForLoadState();
      const text = await report.locator('body').textContent();
      assert.ok(text.includes('issued.example.net'));
      assert.match(text, /Status: Valid/, 'opened without a referrer, the report vouches for the certificate');
      if (has.documents) assert.ok(text.includes('registration.pdf'), 'the published document is in the report');
      await shot(report, 'seal-report');
      await report.close();
    });
  });
}
