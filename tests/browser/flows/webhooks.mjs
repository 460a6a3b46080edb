// Webhooks (team demo, owner): the page in the team menu, adding an endpoint (the secret
// shown once), a ping that a local receiver verifies with standardwebhooks, the delivery
// log and the Redeliver button (the same webhook-id again).
import http from 'node:http';
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Webhook } from 'standardwebhooks';
import { newPage, signIn, shot, ready, assertNoProblems } from '../lib/harness.mjs';

export default function (env) {
  describe('webhooks', () => {
    let page;
    let receiver;
    const hits = [];
    before(async () => {
      receiver = http.createServer((req, res) => {
        let body = '';
        req.on('data', (d) => { body += d; });
        req.on('end', () => {
          hits.push({ headers: req.headers, body });
          res.writeHead(200, { 'Content-Type': 'text/plain' });
          res.end('thanks');
        });
      });
      await new Promise((resolve) => receiver.listen(0, '127.0.0.1', resolve));
      page = await newPage(env.browser, env.server);
      await signIn(page, 'demo', env.password, 'demo');
    });
    after(async () => {
      assertNoProblems(page);
      await page.context().close();
      receiver.close();
    });

    it('adds an endpoint, pings it and redelivers from the log', async () => {
      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Webhooks' }).click();
      await page.waitForURL('**/demo/webhooks');
      await ready(page);
      const url = `http://127.0.0.1:${receiver.address().port}/panel`;
      await page.getByLabel('Endpoint URL').fill(url);
      await page.getByLabel('Description').fill('billing panel');
      await page.getByRole('button', { name: 'Add endpoint' }).click();
      const secret = (await page.locator('#webhook-secret').textContent()).trim();
      assert.match(secret, /^whsec_[A-Za-z0-9+/]{43}=$/);
      await page.getByRole('button', { name: 'Done' }).click();
      const row = page.locator('#webhook-table tr', { hasText: url });
      await row.waitFor();
      await shot(page, 'webhooks');
      await row.getByRole('button', { name: 'send a ping' }).click();
      await page.locator('.notice-success').filter({ hasText: 'Ping done: HTTP 200' }).waitFor();
      assert.equal(hits.length, 1);
      const ping = new Webhook(secret).verify(hits[0].body, hits[0].headers);
      assert.equal(ping.type, 'ping');
      // the delivery log and Redeliver
      await page.locator('#webhook-table tr', { hasText: url }).getByRole('link', { name: 'deliveries' }).click();
      await ready(page);
      const delivery = page.locator('#delivery-table tbody tr').first();
      assert.match(await delivery.textContent(), /ping/);
      await delivery.getByRole('button', { name: /^Redeliver ping/ }).click();
      await page.locator('.notice-success').filter({ hasText: 'Redelivered: done, HTTP 200' }).waitFor();
      assert.equal(hits.length, 2);
      assert.equal(hits[1].headers['webhook-id'], hits[0].headers['webhook-id']);
      new Webhook(secret).verify(hits[1].body, hits[1].headers);
      await shot(page, 'webhook-deliveries');
    });
  });
}
