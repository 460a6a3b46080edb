// Renew: the certificate type and its features, a billing plan per duration, an
// Order Amount that follows the plan; Next puts the renewal in the cart.
import { h, uid } from '../dom.js';
import { notice, errorBox, busy, pageHeader, unavailable } from '../ui.js';
import { money, years, productType, VALIDATION_LEVEL, day, statusLabel } from '../format.js';
import { loadOrder, productById, statusBadge } from '../orders-common.js';
import { periods, localPrice, saving, quote } from '../pricing.js';
import { loadCart, addToCart } from '../cart.js';

export async function render(ctx) {
  const { view, params, path } = ctx;
  const o = await loadOrder(params.id);
  const [p, cart] = await Promise.all([productById(o.product_id), loadCart().catch(() => ({ available: false }))]);
  if (!ctx.alive()) return;
  ctx.setTitle(`Renew ${o.common_name || `order #${o.id}`}`);
  view.append(pageHeader(`Renew ${o.common_name || `order #${o.id}`}`, `Order #${o.id} · `, statusBadge(o.status),
    o.expiration_date ? ` · expires ${day(o.expiration_date)}` : ''));
  if (o.renewed_by) {
    // bought once: the renewal is an order of its own
    const r = o.renewed_by;
    view.append(notice('info', h('span', { id: 'renewed-note' }, `This order is renewed already: its renewal is order #${r.id} (${statusLabel(r.status)}). `,
      h('a', { href: path(`/orders/${r.id}`) }, `Go to order #${r.id}`),
      r.status === 'PAI' ? ['. It still needs its details: ', h('a', { href: path(`/orders/${r.id}/complete`) }, 'complete it')] : '', '.')));
    return;
  }
  if (!['ACT', 'EXP'].includes(o.status)) {
    view.append(notice('info', 'Only issued or expired certificates are renewed.'));
    return;
  }
  if (!p) { view.append(notice('error', 'This product is no longer sold.')); return; }
  if (!cart.available) view.append(unavailable('The cart'));
  const plansName = uid('plan');
  const plans = periods(p).map((n, i) => {
    const pr = localPrice(p, n, o.domain_amount, o.wildcard_domain_amount);
    const input = h('input', { type: 'radio', name: plansName, id: `${plansName}-${n}`, value: n, checked: n === o.period || (i === 0 && !periods(p).includes(o.period)) });
    const save = saving(p, n);
    return h('label', { class: 'plan', for: input.id }, input, h('span', {}, h('strong', {}, years(n)), ` — ${money(pr.amount, pr.currency)}`,
      n > 1 ? h('span', { class: 'muted' }, ` (${money(pr.amount / n, pr.currency)} per year)`) : null,
      save > 0 ? h('span', { class: 'save' }, ` save ${save}%`) : null));
  });
  const amount = h('output', { class: 'amount', id: 'order-amount', 'aria-live': 'polite' });
  const err = errorBox();
  const next = h('button', { type: 'submit', class: 'btn primary', disabled: !cart.available }, 'Next');
  const form = h('form', { id: 'renew-form' },
    h('section', { class: 'card product-box', 'aria-labelledby': 'renew-type' },
      h('h2', { id: 'renew-type', class: 'highlight' }, p.name),
      h('p', { class: 'type' }, `${productType(p)} · ${VALIDATION_LEVEL[p.validation_method] || ''}`),
      p.features ? h('ul', { class: 'features', 'aria-label': 'Features' }, p.features.map((f) => h('li', {}, f))) : null,
      o.host_names && o.host_names.length ? h('p', {}, `Names: ${o.host_names.join(', ')}`) : null),
    h('fieldset', { class: 'plans' }, h('legend', {}, 'Billing plan'), plans),
    h('p', {}, 'Order Amount: ', amount),
    err, h('div', { class: 'actions' }, next, h('a', { class: 'btn', href: path(`/orders/${o.id}`) }, 'Cancel')));
  view.append(form);
  const period = () => Number(form.querySelector(`input[name="${plansName}"]:checked`).value);
  const update = async () => {
    const n = period();
    try {
      const q = await quote(p, n, o.domain_amount, o.wildcard_domain_amount);
      if (period() === n && q) amount.textContent = money(q.amount, q.currency);
    } catch (e) { err.show(e); }
  };
  form.addEventListener('change', update);
  await update();
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    err.clear();
    busy(next, async () => {
      try {
        await addToCart({ renewal_of: o.id, period: period() });
        await ctx.refreshHeader();
        ctx.navigate(path('/cart'));
      } catch (e2) { err.show(e2); }
    });
  });
}
