// ACME (/<team>/acme): External Account Binding credentials for certbot, lego and
// mod_md, bound to one of the team's orders or to a product; the key is shown once,
// with copy buttons and the clients' configuration filled in; the list; disabling.
import { h, fill } from '../dom.js';
import { api } from '../api.js';
import { errorBox, field, busy, pageHeader, copyButton, confirmDialog, announce, loading, notice } from '../ui.js';
import { when } from '../format.js';
import { canEdit } from '../session.js';

function snippets(e, domain) {
  const dir = e.directory_url;
  return [
    ['certbot', `certbot certonly --server ${dir} \\\n  --eab-kid ${e.kid} --eab-hmac-key ${e.hmac_key} \\\n  --standalone -d ${domain}`],
    ['lego', `lego --server ${dir} --eab --kid ${e.kid} --hmac ${e.hmac_key} \\\n  --email you@${domain.replace(/^\*\./, '')} --domains ${domain} --http run`],
    ['mod_md (Apache)', `MDCertificateAuthority ${dir}\nMDExternalAccountBinding ${e.kid} ${e.hmac_key}\nMDomain ${domain}`],
  ];
}

function created(e) {
  const domain = (e.names || '').split(' ').filter(Boolean)[0] || 'www.example.com';
  const row = (label, value) => h('div', { class: 'field' }, h('strong', {}, label), ' ',
    h('code', { class: 'secret' }, value), ' ', copyButton(value));
  return h('section', { class: 'acme-created', 'aria-labelledby': 'acme-created-h' },
    h('h2', { id: 'acme-created-h' }, 'New EAB credentials'),
    notice('warning', 'The HMAC key is shown only now: copy it before you leave this page.'),
    row('Directory URL', e.directory_url), row('Key ID (kid)', e.kid), row('HMAC key', e.hmac_key),
    ...snippets(e, domain).map(([name, text]) => h('div', { class: 'snippet' },
      h('h3', {}, name), h('pre', {}, h('code', {}, text)), copyButton(text, `Copy the ${name} configuration`))));
}

function list(ctx, items, refresh) {
  if (!items.length) return h('p', { class: 'empty' }, 'No EAB credentials yet.');
  const tbody = h('tbody');
  for (const e of items) {
    const off = h('button', { type: 'button', class: 'btn small danger', disabled: e.disabled || !canEdit() }, 'Disable');
    off.addEventListener('click', async () => {
      if (!await confirmDialog('Disable these credentials?', `ACME accounts registered with ${e.kid} stop working.`, 'Disable')) return;
      await busy(off, async () => {
        await api('DELETE', `/acme/eab/${encodeURIComponent(e.kid)}`);
        announce(`${e.kid} disabled`);
        await refresh();
      });
    });
    tbody.append(h('tr', { 'data-kid': e.kid },
      h('td', {}, h('code', {}, e.kid), e.description ? h('div', { class: 'muted' }, e.description) : null),
      h('td', {}, e.order_id ? h('a', { href: ctx.path(`/orders/${e.order_id}`) }, `Order #${e.order_id}`) : `Product #${e.product_id} (${e.period} year${e.period > 1 ? 's' : ''})`),
      h('td', {}, e.names || 'any name the product takes'),
      h('td', {}, when(e.created_at)),
      h('td', {}, e.disabled ? 'disabled' : 'active'),
      h('td', {}, off)));
  }
  return h('div', { class: 'table-wrap' }, h('table', { class: 'acme-eab' },
    h('thead', {}, h('tr', {}, ['Key ID', 'Bound to', 'Names', 'Created', 'State', ''].map((t) => h('th', { scope: 'col' }, t)))), tbody));
}

function accounts(items) {
  if (!items.length) return h('p', { class: 'empty' }, 'No ACME client has registered yet.');
  return h('div', { class: 'table-wrap' }, h('table', { class: 'acme-accounts' },
    h('thead', {}, h('tr', {}, ['Account', 'Key thumbprint', 'Contact', 'Created', 'Last used', 'State'].map((t) => h('th', { scope: 'col' }, t)))),
    h('tbody', {}, items.map((a) => h('tr', {},
      h('td', {}, `#${a.id}`, h('div', { class: 'muted' }, a.kid)), h('td', {}, h('code', {}, a.thumbprint)),
      h('td', {}, (a.contact || []).join(', ')), h('td', {}, when(a.created_at)), h('td', {}, when(a.last_used_at)),
      h('td', {}, a.status))))));
}

export async function render(ctx) {
  const { view } = ctx;
  ctx.setTitle('ACME');
  view.append(pageHeader('ACME', 'Let certbot, lego or Apache mod_md renew certificates of your orders automatically. ',
    'Bind credentials to an order (its names, reissued at no charge) or to a product (a new order is bought for names no order covers).'));
  const out = h('div', { class: 'acme-out' });
  const listEl = h('div', {}, loading());
  const accEl = h('div', {}, loading());
  const refresh = async () => {
    const [eabs, accs] = await Promise.all([api('GET', '/acme/eab'), api('GET', '/acme/accounts')]);
    if (!ctx.alive()) return;
    fill(listEl, list(ctx, eabs.results, refresh));
    fill(accEl, accounts(accs.results));
  };
  if (canEdit()) {
    const kind = h('select', { id: 'acme-kind' }, h('option', { value: 'order' }, 'An order'), h('option', { value: 'product' }, 'A product'));
    const id = h('input', { id: 'acme-id', type: 'number', min: '1', inputmode: 'numeric' });
    const period = h('input', { id: 'acme-period', type: 'number', min: '1', max: '5', value: '1' });
    const desc = h('input', { id: 'acme-desc', type: 'text', maxlength: '255' });
    const err = errorBox();
    const go = h('button', { type: 'submit', class: 'btn primary' }, 'Create credentials');
    const form = h('form', { class: 'acme-form', novalidate: true },
      field('Bind to', kind), field('Order or product number', id, { required: true }),
      field('Years of the orders a product creates', period), field('Description', desc), err, go);
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      err.clear();
      const n = Number(id.value);
      if (!Number.isInteger(n) || n < 1) { err.show('Give the number of the order or product.'); return; }
      const body = { description: desc.value };
      if (kind.value === 'order') body.order_id = n;
      else { body.product_id = n; body.period = Number(period.value) || 1; }
      await busy(go, async () => {
        try {
          const e = await api('POST', '/acme/eab', { body });
          fill(out, created(e));
          announce('EAB credentials created');
          await refresh();
        } catch (e) {
          err.show(e);
        }
      });
    });
    view.append(h('section', { 'aria-labelledby': 'acme-new' }, h('h2', { id: 'acme-new' }, 'New credentials'), form), out);
  }
  view.append(h('section', { 'aria-labelledby': 'acme-list' }, h('h2', { id: 'acme-list' }, 'EAB credentials'), listEl),
    h('section', { 'aria-labelledby': 'acme-acc' }, h('h2', { id: 'acme-acc' }, 'ACME accounts'), accEl));
  await refresh();
}
