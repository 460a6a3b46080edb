// Shop: the catalogue (type, validation level, features, price per period). Items
// go to the cart; "Buy now" orders one at once from the balance. A bought order
// waits in the default folder ("unused") until its details are submitted.
import { h, uid } from '../dom.js';
import { api, idempotencyKey } from '../api.js';
import { notice, errorBox, busy, pageHeader, confirmDialog, flash, field, announce } from '../ui.js';
import { money, productType, VALIDATION_LEVEL, years } from '../format.js';
import { loadProducts } from '../orders-common.js';
import { periods, localPrice, saving, isMulti, included, quote } from '../pricing.js';
import { loadCart, addToCart } from '../cart.js';
import { state } from '../session.js';

export async function render(ctx) {
  const { view, path } = ctx;
  ctx.setTitle('Shop');
  const [products, cart] = await Promise.all([loadProducts(), loadCart().catch(() => ({ available: false }))]);
  if (!ctx.alive()) return;
  const canBuy = state.session.team.role !== 'viewer';
  view.append(pageHeader('Shop', 'Choose a certificate, its validity and the number of names. ',
    cart.available ? 'Items go to your cart; you pay at checkout from the team\'s balance.'
      : 'Buying charges the team\'s balance; the order then waits in your default folder until you submit its details.'));
  if (!canBuy) view.append(notice('info', 'Your role in this team (viewer) does not allow buying.'));
  const grid = h('div', { class: 'products' });
  for (const p of products.filter((x) => x.prices && x.prices.length)) grid.append(productCard(ctx, p, cart.available, canBuy));
  view.append(grid);
}

function productCard(ctx, p, cartAvailable, canBuy) {
  const titleId = uid('prod');
  const err = errorBox();
  const plans = periods(p);
  const planName = uid('plan');
  const planInputs = plans.map((n, i) => {
    const price = localPrice(p, n);
    const input = h('input', { type: 'radio', name: planName, value: n, id: `${planName}-${n}`, checked: i === 0 });
    const save = saving(p, n);
    return h('label', { class: 'plan', for: input.id }, input,
      h('span', {}, `${years(n)}: `, h('strong', {}, money(price.amount, price.currency)),
        save > 0 ? h('span', { class: 'save' }, ` (save ${save}%)`) : null));
  });
  const fsPlans = h('fieldset', { class: 'plans' }, h('legend', {}, 'Billing plan'), planInputs);
  let domains = null;
  let wild = null;
  const extra = [];
  if (isMulti(p)) {
    domains = h('input', { type: 'number', min: included(p), max: p.max_domains, value: included(p), id: uid('dom'), inputmode: 'numeric' });
    extra.push(field('Names (domains)', domains, { hint: `${included(p)} included, up to ${p.max_domains}` }));
    if (p.is_wildcard_multidomain_supported) {
      wild = h('input', { type: 'number', min: 0, max: p.max_domains, value: 0, id: uid('wild'), inputmode: 'numeric' });
      extra.push(field('Wildcard names', wild));
    }
  }
  const qty = cartAvailable ? h('input', { type: 'number', min: 1, max: 100, value: 1, id: uid('qty'), inputmode: 'numeric' }) : null;
  const amount = h('output', { class: 'amount', 'aria-live': 'polite' });
  const selected = () => {
    const r = fsPlans.querySelector('input:checked');
    return {
      period: Number(r.value),
      domains: domains ? Math.max(included(p), Number(domains.value) || included(p)) : undefined,
      wildcards: wild ? Math.max(0, Number(wild.value) || 0) : undefined,
      quantity: qty ? Math.max(1, Number(qty.value) || 1) : 1,
    };
  };
  const update = async () => {
    const s = selected();
    const q = await quote(p, s.period, s.domains, s.wildcards).catch(() => localPrice(p, s.period, s.domains, s.wildcards));
    if (q) amount.textContent = money(q.amount * s.quantity, q.currency);
  };
  const form = h('form', { 'aria-labelledby': titleId }, fsPlans, extra,
    qty ? field('Quantity', qty) : null,
    h('p', {}, 'Order Amount: ', amount), err,
    h('div', { class: 'actions' },
      cartAvailable ? h('button', { type: 'submit', class: 'btn primary', 'data-action': 'cart', disabled: !canBuy }, 'Add to cart') : null,
      h('button', { type: cartAvailable ? 'button' : 'submit', class: cartAvailable ? 'btn' : 'btn primary', 'data-action': 'buy', disabled: !canBuy }, 'Buy now')));
  form.addEventListener('input', () => { err.clear(); update(); });
  update();
  const buyNow = async (button) => {
    const s = selected();
    const price = localPrice(p, s.period, s.domains, s.wildcards);
    const ok = await confirmDialog(`Buy ${p.name}?`,
      [`${p.name}, ${years(s.period)}${s.domains ? `, ${s.domains} names` : ''}${s.wildcards ? ` and ${s.wildcards} wildcard names` : ''}.`,
        `${money(price.amount, price.currency)} will be charged to your team's balance now.`], 'Buy and charge my balance');
    if (!ok) return;
    await busy(button, async () => {
      try {
        const body = { product_id: p.id, period: s.period };
        if (s.domains !== undefined) body.domain_amount = s.domains;
        if (s.wildcards !== undefined) body.wildcard_domain_amount = s.wildcards;
        const d = await api('POST', '/ssl/orders', { body, headers: { 'Idempotency-Key': idempotencyKey() } });
        flash(`Order #${d.id} is paid. Submit its details (CSR, names, contacts) to get the certificate.`);
        ctx.navigate(ctx.path(`/orders/${d.id}/complete`));
      } catch (e) { err.show(e); }
    });
  };
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const button = e.submitter || form.querySelector('[type=submit]');
    if (button.dataset.action === 'buy') { buyNow(button); return; }
    const s = selected();
    busy(button, async () => {
      try {
        await addToCart({ product_id: p.id, period: s.period, quantity: s.quantity,
          ...(s.domains !== undefined ? { domain_amount: s.domains } : {}),
          ...(s.wildcards !== undefined ? { wildcard_domain_amount: s.wildcards } : {}) });
        await ctx.refreshHeader();
        announce(`${p.name} added to the cart`);
        err.replaceWith(err);
        form.append(notice('success', `${p.name} is in your cart. `, h('a', { href: ctx.path('/cart') }, 'Go to the cart')));
      } catch (e2) { err.show(e2); }
    });
  });
  const buyBtn = form.querySelector('[data-action=buy]');
  if (cartAvailable) buyBtn.addEventListener('click', () => buyNow(buyBtn));
  return h('article', { class: 'card product', 'aria-labelledby': titleId, 'data-product': p.id },
    h('h2', { id: titleId }, p.name),
    h('p', { class: 'type' }, `${productType(p)} · ${VALIDATION_LEVEL[p.validation_method] || p.validation_method}`),
    p.description ? h('p', {}, p.description) : null,
    p.features && p.features.length ? h('ul', { class: 'features', 'aria-label': 'Features' }, p.features.map((f) => h('li', {}, f))) : null,
    form);
}
