// Issue 17: the portal as a customer finds it. Every page on a phone (390 px: no
// sideways scroll, wide tables scroll in their own box, a screenshot each) and
// checked by axe-core; a renewal bought once; Auto Arrange keeps the orders in
// sight; one meaning of "unused"; no stale messages; reminders to nobody; a paid
// renewal goes on by itself or says what is left; contacts of DV orders; no 401 on
// a signed-out visit; the seal report's icon.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { newPage, signIn, shot, ready, assertNoProblems, csr, ROOT } from '../lib/harness.mjs';
import { issueOrder } from '../lib/seed.mjs';

const AXE = path.join(ROOT, 'tests/browser/node_modules/axe-core/axe.min.js');
const PHONE = { width: 390, height: 844 };

/** axe-core on the page as it is: the serious and critical violations, in words. */
export async function axeProblems(page) {
  if (!(await page.evaluate(() => Boolean(window.axe)))) await page.addScriptTag({ path: AXE });
  const r = await page.evaluate(async () => {
    const res = await window.axe.run(document, { resultTypes: ['violations'] });
    return res.violations.filter((v) => ['serious', 'critical'].includes(v.impact))
      .map((v) => `${v.impact} ${v.id}: ${v.help} — ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(' | ')}`);
  });
  return r;
}

/** Is the page wider than the screen? The offenders, when it is. */
async function sidewaysScroll(page) {
  return page.evaluate(() => {
    const se = document.scrollingElement;
    if (se.scrollWidth <= window.innerWidth) return null;
    const wide = [...document.querySelectorAll('body *')].filter((el) => {
      const r = el.getBoundingClientRect();
      return r.right > window.innerWidth + 1 && !el.closest('.table-wrap') && getComputedStyle(el).position !== 'absolute';
    }).slice(0, 5).map((el) => `${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ''}.${[...el.classList].join('.')} (${Math.round(el.getBoundingClientRect().right)} px)`);
    return `scrollWidth ${se.scrollWidth} > ${window.innerWidth}: ${wide.join(', ')}`;
  });
}

export default function (env) {
  describe('the portal as a customer finds it (issue 17)', () => {
    let page;
    let phone;
    let act;
    let req;
    let renewal;
    before(async () => {
      act = await issueOrder(env.server, env.api, 'phone-layout.example.net');
      // sent for validation with HTTP: the page shows a long file address to publish
      const long = 'a-rather-long-subdomain-name-for-phones.phone-layout.example.net';
      req = (await env.api.post('/ssl/orders', { product_id: 1, period: 1, csr: csr(long), software_id: 'nginx' })).id;
      await env.api.put(`/ssl/orders/${req}`, { domain_validation_methods: [{ host_name: long, method: 'http' }], start_provision: true });
      page = await newPage(env.browser, env.server);
      await signIn(page, 'demo', env.password, 'demo');
      phone = await newPage(env.browser, env.server, { viewport: PHONE, context: { bypassCSP: true, isMobile: true, hasTouch: true } });
      await signIn(phone, 'demo', env.password, 'demo');
    });
    after(async () => {
      for (const p of [page, phone]) {
        if (!p) continue;
        assertNoProblems(p);
        await p.context().close();
      }
    });

    it('every page on a 390 px phone: no sideways scroll, wide tables scroll in their box, no serious axe violation', async () => {
      const csrs = await env.api.get('/ssl/managed-csrs?limit=1');
      const csrId = csrs.results.length ? csrs.results[0].id
        : (await env.api.post('/ssl/managed-csrs', { csr: csr('managed.phone-layout.example.net') })).id;
      const pages = [
        ['orders', '/demo/orders'], ['order', `/demo/orders/${act.id}`], ['complete', `/demo/orders/${env.made.withCsr}/complete`],
        ['complete-empty', `/demo/orders/${env.made.unused}/complete`], ['validation', `/demo/orders/${req}/validation`],
        ['renew', `/demo/orders/${act.id}/renew`], ['reprocess', `/demo/orders/${act.id}/reprocess`],
        ['documents', `/demo/orders/${act.id}/documents`], ['seal', `/demo/orders/${act.id}/seal`], ['shop', '/demo/shop'],
        ['cart', '/demo/cart'], ['csrs', '/demo/managed_csrs'], ['csrgen', '/demo/managed_csrs/new'],
        ['csr', `/demo/managed_csrs/${csrId}`], ['folders', '/demo/folders'], ['explorer', '/demo/folders/explorer'],
        ['not-found', '/demo/no-such-page'],
      ];
      const bad = [];
      for (const [name, url] of pages) {
        await phone.goto(url);
        await ready(phone);
        const wide = await sidewaysScroll(phone);
        if (wide) bad.push(`${name} (${url}): ${wide}`);
        await shot(phone, `phone-${name}`);
        for (const v of await axeProblems(phone)) bad.push(`${name} (${url}) axe ${v}`);
      }
      // the open menu and a table that is wider than the phone scrolls in its own box
      await phone.goto('/demo/orders');
      await ready(phone);
      await phone.getByRole('button', { name: 'Menu' }).click();
      await shot(phone, 'phone-menu');
      for (const v of await axeProblems(phone)) bad.push(`menu axe ${v}`);
      await phone.goto(`/demo/orders/${act.id}`);
      await ready(phone);
      const boxes = await phone.evaluate(() => [...document.querySelectorAll('table')].map((t) => {
        const box = t.closest('.table-wrap');
        return { inBox: Boolean(box), wider: t.scrollWidth > window.innerWidth, scrolls: box ? getComputedStyle(box).overflowX : '' };
      }));
      for (const b of boxes.filter((x) => x.wider)) {
        if (!b.inBox || !['auto', 'scroll'].includes(b.scrolls)) bad.push(`a table wider than the phone is not in a scrolling box: ${JSON.stringify(b)}`);
      }
      assert.deepEqual(bad, []);
    });

    it('signed out: the sign-in page asks no session (no 401), logs nothing, passes axe on a phone and a desktop', async () => {
      for (const viewport of [PHONE, { width: 1280, height: 900 }]) {
        const p = await newPage(env.browser, env.server, { viewport, context: { bypassCSP: true } });
        const consoleLines = [];
        const statuses = [];
        p.on('console', (m) => consoleLines.push(`${m.type()}: ${m.text()}`));
        p.on('response', (r) => { if (r.status() >= 400) statuses.push(`${r.status()} ${r.url()}`); });
        await p.goto('/demo/orders');
        await p.waitForURL('**/signin?next=*');
        await ready(p);
        assert.deepEqual(statuses, []);
        assert.deepEqual(consoleLines.filter((l) => l.startsWith('error')), []);
        assert.equal(await sidewaysScroll(p), null);
        assert.deepEqual(await axeProblems(p), []);
        await shot(p, `signin-${viewport.width}`);
        await p.context().close();
      }
    });

    it('every signed-in page on a desktop passes axe (no serious or critical violation)', async () => {
      const desk = await newPage(env.browser, env.server, { context: { bypassCSP: true } });
      await signIn(desk, 'demo', env.password, 'demo');
      const bad = [];
      for (const url of ['/demo/orders', `/demo/orders/${act.id}`, `/demo/orders/${env.made.withCsr}/complete`,
        `/demo/orders/${req}/validation`, `/demo/orders/${act.id}/renew`, `/demo/orders/${act.id}/reprocess`,
        `/demo/orders/${act.id}/documents`, `/demo/orders/${act.id}/seal`, '/demo/shop', '/demo/cart',
        '/demo/managed_csrs', '/demo/managed_csrs/new', '/demo/folders', '/demo/folders/explorer']) {
        await desk.goto(url);
        await ready(desk);
        for (const v of await axeProblems(desk)) bad.push(`${url}: ${v}`);
      }
      // the details pop-over open
      await desk.goto('/demo/orders?folder=all&per_page=100');
      await ready(desk);
      await desk.locator(`#orders-table tr[data-order-id="${act.id}"] .order-name`).click();
      for (const v of await axeProblems(desk)) bad.push(`pop-over: ${v}`);
      assertNoProblems(desk);
      await desk.context().close();
      assert.deepEqual(bad, []);
    });

    it('a renewal is bought once: the old order links to it, no second "renew"; the renewal went to validation by itself', async () => {
      await env.api.post('/cart', { renewal_of: act.id });
      const done = await env.api.post('/cart/checkout');
      renewal = done.orders[0];
      const r = await env.api.get(`/ssl/orders/${renewal}`);
      assert.equal(r.status, 'REQ', 'the same CSR, names and methods: sent for validation at checkout');
      assert.equal(r.renewal_of, act.id);
      await page.goto('/demo/orders?folder=all&per_page=100');
      await ready(page);
      const row = page.locator(`#orders-table tr[data-order-id="${act.id}"]`);
      assert.equal(await row.locator('a[data-kind="renew"]').count(), 0);
      const link = row.locator('a[data-kind="renewal"]');
      assert.equal(await link.textContent(), `renewed: order #${renewal}`);
      assert.equal(await page.locator(`#orders-table tr[data-order-id="${renewal}"] .status`).textContent(), 'pending validation');
      await row.locator('.order-name').click();
      const pop = page.getByRole('region', { name: `Details of order ${act.id}` });
      assert.match(await pop.textContent(), new RegExp(`Renewed byorder #${renewal} \\(pending validation\\)`));
      // DV: no contact is needed, and the pop-over says so
      assert.match(await pop.textContent(), /Contactsnone \(not needed for domain validation\)/);
      await shot(page, 'renewed-order-popover');
      await link.click();
      await page.waitForURL(`**/demo/orders/${renewal}`);
      await ready(page);
      assert.match(await page.locator('#main').textContent(), new RegExp(`Renewal oforder #${act.id}`));
      // the renew page of the old order says it is renewed and links to the renewal
      await page.goto(`/demo/orders/${act.id}/renew`);
      await ready(page);
      assert.match(await page.locator('#renewed-note').textContent(), new RegExp(`renewal is order #${renewal}`));
      assert.equal(await page.locator('#renew-form').count(), 0);
      await shot(page, 'renew-already-renewed');
      // and the API refuses a second one with a clear code
      await assert.rejects(env.api.post('/cart', { renewal_of: act.id }), (e) => e.code === 1140 && e.status === 409);
    });

    it('a paid renewal that lacks something says what is left to do', async () => {
      const exp = (await env.bench.get('/ssl/orders?status=EXP&limit=100')).results.find((o) => !o.renewed_by);
      await env.bench.post('/cart', { renewal_of: exp.id });
      const id = (await env.bench.post('/cart/checkout')).orders[0];
      const o = await env.bench.get(`/ssl/orders/${id}`);
      if (o.status !== 'PAI') return; // the seed's order was complete: covered above
      await page.goto(`/bench-1/orders/${id}/complete`);
      await ready(page);
      const left = await page.locator('#renewal-left').textContent();
      assert.match(left, new RegExp(`renewal of order #${exp.id}`));
      assert.match(left, /What is left to do: /);
      await shot(page, 'renewal-left-to-do');
    });

    it('"unused" is only a paid order waiting for its details; a cancelled one without details says so', async () => {
      const a = (await env.api.post('/ssl/orders', { product_id: 1, period: 1 })).id;
      const b = (await env.api.post('/ssl/orders', { product_id: 1, period: 1 })).id;
      await env.api.post(`/ssl/orders/${b}/cancel`, {});
      await page.goto('/demo/orders?folder=all&per_page=100');
      await ready(page);
      const title = (id) => page.locator(`#orders-table tr[data-order-id="${id}"] .order-name`).textContent();
      assert.equal(await title(a), 'unused (no details yet)');
      assert.equal(await page.locator(`#orders-table tr[data-order-id="${a}"] .status`).textContent(), 'unused');
      assert.equal(await title(b), 'cancelled before its details were sent');
      assert.equal(await page.locator(`#orders-table tr[data-order-id="${b}"] .status`).textContent(), 'cancelled');
    });

    it('completing: reminders to nobody are warned about; after "Check now" issues, the "sent for validation" message is gone', async () => {
      const name = 'stale.phone-layout.example.net';
      const id = (await env.api.post('/ssl/orders', { product_id: 1, period: 1, csr: csr(name), software_id: 'nginx' })).id;
      await page.goto(`/demo/orders/${id}/complete`);
      await ready(page);
      await page.locator('#details-form').waitFor();
      const warn = page.locator('#reminders-nobody');
      assert.ok(await warn.isVisible(), 'reminders on, no contact, no extra address');
      await page.getByLabel('Also send to').fill('ops@example.com');
      assert.ok(await warn.isHidden());
      await page.getByLabel('Also send to').fill('');
      assert.ok(await warn.isVisible());
      await page.getByLabel('Send expiration reminders').uncheck();
      assert.ok(await warn.isHidden());
      await page.getByLabel('Send expiration reminders').check();
      await page.getByLabel('Also send to').fill('ops@example.com');
      await page.getByLabel(`Validation method for ${name}`).selectOption('http');
      await page.getByLabel('I agree to the Subscriber Agreement').check();
      await page.getByRole('button', { name: 'Send for validation' }).click();
      await page.waitForURL(`**/demo/orders/${id}/validation`);
      await ready(page);
      const sent = page.locator('#main > .notice', { hasText: 'sent for validation' });
      assert.equal(await sent.count(), 1);
      // the Last check column: never checked yet, then the time of "Check now"
      const card = page.locator(`section[data-host="${name}"]`);
      const o = await env.api.get(`/ssl/orders/${id}`);
      for (const ad of o.additional_data) env.server.publish(ad.file_location, `${ad.file_contents}\n`);
      await page.getByRole('button', { name: 'Check now' }).click();
      await page.locator('#validation-status', { hasText: 'The certificate is issued' }).waitFor();
      assert.equal(await sent.count(), 0, 'no stale "sent for validation" above "issued"');
      const v = await env.api.get(`/ssl/orders/${id}/validation`);
      assert.ok(v.names[0].last_check_at, 'the server wrote last_check_at');
      const facts = await card.locator('dl').textContent();
      assert.match(facts, new RegExp(`Last check${v.names[0].last_check_at.slice(0, 16)} UTC`));
      await shot(page, 'validation-issued-no-stale-message');
    });

    it('dns-account (BR 3.2.2.4.21): the validation page shows the TXT record at the team account label and its value', async () => {
      const name = 'labelled.phone-layout.example.net';
      const id = (await env.api.post('/ssl/orders', { product_id: 1, period: 1, csr: csr(name), software_id: 'nginx',
        domain_validation_methods: [{ host_name: name, method: 'dns-account' }], start_provision: true })).id;
      const v = await env.api.get(`/ssl/orders/${id}/validation`);
      const ins = v.names[0].instructions;
      assert.match(ins.record_name, new RegExp(`^_[a-z2-7]{16}\\._acme-challenge\\.${name.replaceAll('.', '\\.')}$`));
      await page.goto(`/demo/orders/${id}/validation`);
      await ready(page);
      const pub = page.locator(`section[data-host="${name}"] .publish[data-method="dns-account"]`);
      await pub.waitFor();
      const values = await pub.locator('code.publish-value').allTextContents();
      assert.deepEqual(values, [ins.record_name, ins.record_value]);
      assert.equal(await page.locator(`#change-${name.replaceAll('.', '\\.')} option[value="dns-account"]`).count(), 1);
    });

    it('Auto Arrange brings the orders back in sight: an empty default folder says where they are, then "default" is the default again', async () => {
      const inbox = (await env.bench2.post('/folders', { name: 'Inbox17' })).id;
      await env.bench2.put(`/folders/${inbox}`, { is_default: true });
      await page.goto('/bench-2/orders');
      await ready(page);
      assert.match(await page.locator('#orders-empty').textContent(), /This folder is empty\. Your \d+ orders are in other folders/);
      await shot(page, 'orders-empty-default-folder');
      await page.goto('/bench-2/folders/explorer');
      await ready(page);
      await page.getByRole('button', { name: 'Other ▾' }).click();
      await page.getByRole('menuitem', { name: 'Auto Arrange' }).click();
      await page.getByRole('dialog', { name: 'Auto Arrange' }).getByRole('button', { name: 'Auto Arrange' }).click();
      await page.locator('#main > .notice', { hasText: '"default" is the default folder again' }).waitFor();
      await ready(page);
      await page.goto('/bench-2/orders');
      await ready(page);
      assert.equal(await page.locator('#current-folder').textContent(), 'default');
      assert.ok(await page.locator('#orders-table tr[data-order-id]').count() > 0);
      assert.equal(await page.locator('#orders-empty').count(), 0);
    });

    it('the seal report has its icon (no /favicon.ico 404)', async () => {
      const s = await env.api.get(`/ssl/orders/${act.id}/seal`);
      const p = await newPage(env.browser, env.server);
      const missing = [];
      p.on('response', (r) => { if (r.status() >= 400) missing.push(`${r.status()} ${r.url()}`); });
      await p.goto(`${s.report_url}?host=${act.common_name}`);
      await p.locator('h1').waitFor();
      await p.waitForTimeout(300);
      assert.equal(await p.locator('link[rel="icon"]').count(), 1);
      assert.deepEqual(missing, []);
      assert.deepEqual(p.problems, []);
      await shot(p, 'seal-report');
      await p.context().close();
    });
  });
}
