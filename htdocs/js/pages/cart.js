// The cart: change the quantity, remove, Shop More, Checkout (charges the balance
// once: the Idempotency-Key is kept for retries) and the new orders.
import { h, fill } from '../dom.js';
import { idempotencyKey } from '../api.js';
import { notice, errorBox, busy, pageHeader, unavailable, confirmDialog, announce, field } from '../ui.js';
import { money, years } from '../format.js';
import { loadCart, setQuantity, removeItem, checkout } from '../cart.js';
import { loadMe, canEdit } from '../session.js';

export async function render(ctx) {
  const { view, path } = ctx;
  ctx.setTitle('Shopping cart');
  view.append(pageHeader('Shopping cart'));
  const body = h('div', { id: 'cart-body' });
  view.append(body);
  let key = idempotencyKey();
  const draw = async (done) => {
    const [cart, me] = await Promise.all([loadCart(), loadMe()]);
    if (!ctx.alive()) return;
    if (!cart.available) { fill(body, unavailable('The cart')); return; }
    const out = [];
    if (done) out.push(done);
    if (!cart.items.length) {
      out.push(h('p', { class: 'empty' }, 'Your cart is empty. '), h('div', { class: 'actions' }, h('a', { class: 'btn primary', href: path('/shop') }, 'Shop')));
      fill(body, out);
      return;
    }
    const err = errorBox();
    const tbody = h('tbody');
    for (const it of cart.items) {
      const qty = h('input', { type: 'number', min: 1, max: 100, value: it.quantity, id: `qty-${it.id}`, inputmode: 'numeric', disabled: Boolean(it.renewal_of) || !canEdit(), class: 'qty' });
      const rowErr = h('p', { class: 'field-error', role: 'alert', hidden: !it.problem }, it.problem || '');
      qty.addEventListener('change', async () => {
        const n = Number(qty.value);
        if (!Number.isInteger(n) || n < 1) { rowErr.hidden = false; rowErr.textContent = 'The quantity is a whole number of 1 or more.'; return; }
        try { await setQuantity(it.id, n); announce('Quantity changed'); await ctx.refreshHeader(); await draw(); } catch (e) { rowErr.hidden = false; rowErr.textContent = e.plain || e.message; }
      });
      const rm = h('button', { type: 'button', class: 'btn small', 'aria-label': `Remove ${it.product_name} from the cart`, disabled: !canEdit() }, 'Remove');
      rm.addEventListener('click', () => busy(rm, async () => {
        try { await removeItem(it.id); announce(`${it.product_name} removed`); await ctx.refreshHeader(); await draw(); } catch (e) { err.show(e); }
      }));
      tbody.append(h('tr', { 'data-item': it.id },
        h('th', { scope: 'row' }, it.product_name, h('div', { class: 'muted' }, years(it.period),
          it.domain_amount > 1 ? `, ${it.domain_amount} names` : '', it.wildcard_domain_amount ? `, ${it.wildcard_domain_amount} wildcard names` : '',
          it.renewal_of ? h('span', {}, ', renewal of ', h('a', { href: path(`/orders/${it.renewal_of}`) }, `order #${it.renewal_of}${it.renewal_common_name ? ` (${it.renewal_common_name})` : ''}`)) : ''), rowErr),
        h('td', {}, money(it.unit, it.currency)),
        h('td', {}, h('label', { for: qty.id, class: 'sr-only' }, `Quantity of ${it.product_name}`), qty),
        h('td', { class: 'line-amount' }, money(it.line, it.currency)),
        h('td', {}, rm)));
    }
    const bal = Number(me.team.balance);
    const after = bal - cart.total;
    const go = h('button', { type: 'button', class: 'btn primary', id: 'checkout', disabled: !canEdit() }, 'Checkout');
    go.addEventListener('click', async () => {
      err.clear();
      const ok = await confirmDialog('Checkout', [`${money(cart.total, cart.currency)} will be charged to your team's balance (now ${money(bal, me.team.currency)}).`,
        `${cart.count} order${cart.count === 1 ? '' : 's'} will be created.`], 'Pay and create the orders');
      if (!ok) return;
      await busy(go, async () => {
        try {
          const d = await checkout(key);
          key = idempotencyKey();
          await ctx.refreshHeader();
          const ids = d.orders || [];
          await draw(h('div', { class: 'notice notice-success', role: 'status', id: 'checkout-done' },
            h('p', {}, `Checkout complete: ${ids.length} new order${ids.length === 1 ? '' : 's'}, ${money(d.amount, d.currency)} charged. Your balance is now ${money(d.balance, d.currency)}.`),
            h('ul', {}, ids.map((id) => h('li', {}, h('a', { href: path(`/orders/${id}`) }, `Order #${id}`), ' — ',
              h('a', { href: path(`/orders/${id}/complete`) }, 'submit CSR'))))));
        } catch (e) {
          // the key is kept: a retry of the same checkout charges once
          err.show(e);
          go.focus();
        }
      });
    });
    out.push(h('div', { class: 'table-wrap' }, h('table', { id: 'cart-table' }, h('caption', { class: 'sr-only' }, 'Items in the cart'),
      h('thead', {}, h('tr', {}, ['Item', 'Price', 'Quantity', 'Amount', ''].map((t) => h('th', { scope: 'col' }, t)))), tbody,
      h('tfoot', {}, h('tr', {}, h('th', { scope: 'row', colspan: 3 }, 'Total'), h('td', { id: 'cart-total' }, money(cart.total, cart.currency)), h('td'))))),
    h('p', { id: 'cart-balance' }, `Your balance: ${money(bal, me.team.currency)}. `, after < 0
      ? h('strong', { class: 'field-error' }, `It does not cover the total: ${money(-after, me.team.currency)} missing.`)
      : `After checkout: ${money(after, me.team.currency)}.`),
    err, h('div', { class: 'actions' }, go, h('a', { class: 'btn', href: path('/shop'), id: 'shop-more' }, 'Shop More')));
    fill(body, out);
  };
  await draw();
  void field; void notice;
}
