// The validation page of an order: progress until the certificate is issued, per
// name the method, its state and exactly what to publish; check now; change a
// method; the approver address.
import { h, fill } from '../dom.js';
import { api } from '../api.js';
import { notice, errorBox, field, busy, pageHeader, select, announce, facts } from '../ui.js';
import { when, statusLabel } from '../format.js';
import { loadOrder, statusBadge, isOrgValidated } from '../orders-common.js';
import { instructions, additionalFor, methodsFor, methodLabel } from '../dcv.js';
import { loadValidation, isValidated, stateWords } from '../validation-state.js';

const POLL_MS = 5000;

export async function render(ctx) {
  const { view, params, path } = ctx;
  let order = await loadOrder(params.id);
  if (!ctx.alive()) return;
  ctx.setTitle(`Validation of order #${order.id}`);
  const body = h('div', { id: 'validation-body' });
  view.append(pageHeader(`Validation of ${order.common_name || `order #${order.id}`}`, `Order #${order.id}, ${order.product_name}. `,
    h('a', { href: path(`/orders/${order.id}`) }, 'Order details')), body);

  let timer = null;
  let first = true;
  const draw = async () => {
    order = await loadOrder(params.id);
    const v = await loadValidation(order);
    if (!ctx.alive()) return;
    // "sent for validation, publish ..." is the message of the step before: gone once
    // the page was checked again (Check now, the poll) so it never sits above "issued"
    if (!first && view.parentElement) view.parentElement.querySelectorAll(':scope > .notice').forEach((n) => n.remove());
    first = false;
    fill(body, ...content(ctx, order, v, draw));
    if (order.status === 'REQ' || v.reissuePending) {
      clearTimeout(timer);
      timer = setTimeout(() => { if (ctx.alive()) draw().catch(() => {}); }, POLL_MS);
    }
  };
  await draw();
}

function content(ctx, order, v, redraw) {
  const { path } = ctx;
  const out = [];
  const validated = v.names.filter((n) => isValidated(n.state)).length;
  const pending = order.status === 'REQ' || v.reissuePending;
  const issued = order.status === 'ACT' && !v.reissuePending;
  const stepState = (i) => {
    const at = issued ? 5 : pending ? 3 : order.status === 'PAI' ? 2 : 5;
    return i < at ? 'done' : i === at ? 'current' : '';
  };
  out.push(h('ol', { class: 'steps', 'aria-label': 'Progress' },
    h('li', { class: stepState(1) }, 'Paid'),
    h('li', { class: stepState(2) }, 'Details submitted'),
    h('li', { class: stepState(3), 'aria-current': pending ? 'step' : null }, `Validation: ${validated} of ${v.names.length} names`),
    h('li', { class: stepState(4) }, 'Issued')));
  out.push(h('p', { id: 'validation-status', role: 'status' }, 'Status: ', statusBadge(order.status), ' ',
    v.reissuePending ? 'A new certificate (reissue) waits for validation; the current one stays valid meanwhile. ' : '',
    issued ? 'The certificate is issued. ' : pending ? 'Validation in progress; this page updates by itself. ' : '',
    issued ? h('a', { href: path(`/orders/${order.id}`) }, 'Download it') : null));
  out.push(h('label', { for: 'validation-progress', class: 'sr-only' }, 'Names validated'),
    h('progress', { id: 'validation-progress', class: 'progress', max: v.names.length || 1, value: issued ? v.names.length : validated }));
  if (order.status === 'PAI') {
    out.push(notice('info', 'The details of this order are not submitted yet. ', h('a', { href: path(`/orders/${order.id}/complete`) }, 'Submit them')));
    return out;
  }
  if (!['REQ', 'ACT'].includes(order.status)) {
    out.push(notice('info', `This order is ${statusLabel(order.status)}; there is nothing to validate.`));
    return out;
  }
  const err = errorBox();
  const actions = h('div', { class: 'actions' });
  if (pending) {
    const check = h('button', { type: 'button', class: 'btn primary', id: 'check-now' }, 'Check now');
    check.addEventListener('click', () => busy(check, async () => {
      err.clear();
      try {
        await api('POST', `/ssl/orders/${order.id}/validate`, { body: {} });
        announce('Checked');
        await redraw();
      } catch (e) { err.show(e); }
    }));
    actions.append(check);
  }
  out.push(actions, err);

  const table = h('div', { class: 'names', id: 'validation-names' });
  for (const n of v.names) {
    const ad = additionalFor(order, n.name);
    const ok = isValidated(n.state);
    const card = h('section', { class: 'card', 'data-host': n.name, 'aria-label': n.name },
      h('h2', {}, n.name),
      facts([['Method', methodLabel(n.method)], ['State', stateWords(n.state)],
        ['Last check', when(n.lastCheck)], ['Reason', n.lastError]]));
    if (n.caa) {
      const caa = h('div', { class: 'caa', 'data-caa': n.caa.status },
        h('h3', {}, 'CAA check'),
        facts([['CAA', n.caa.status], ['DNSSEC', n.caa.dnssec], ['Record', n.caa.record || 'none'],
          ['Detail', n.caa.detail]]));
      card.append(caa);
    }
    if (n.mpic) {
      const words = { corroborated: 'corroborated', refused: 'not corroborated (not issued)',
        reported: 'not corroborated (report mode: issued)' };
      const mp = h('div', { class: 'mpic', 'data-mpic': n.mpic.status },
        h('h3', {}, 'Multi-perspective check'),
        facts([['Result', words[n.mpic.status] || n.mpic.status], ['Detail', n.mpic.detail]]),
        h('ul', { class: 'perspectives' }, ...n.mpic.perspectives.map((p) =>
          h('li', { 'data-perspective': p.name, 'data-agreed': String(p.agreed) },
            `${p.name}: ${p.agreed ? 'agreed' : 'disagreed'}${p.detail ? ` (${p.detail})` : ''}`))));
      card.append(mp);
    }
    if (n.method === 'email' && !ok && pending) {
      card.append(notice('info', 'E-mail validation is deprecated by the Baseline Requirements since 2026-03-15 and is refused from 2028-03-15: prefer a DNS record or an HTTP file.'));
    }
    if (!ok && pending) {
      card.append(h('h3', {}, 'What to publish'), instructions(n.publish || ad, n.method, order.email_approver));
      // change the method while the order waits for validation
      const sel = select(methodsFor(n.name), { id: `change-${n.name}`, value: n.method });
      const ferr = field(`Change the method for ${n.name}`, sel);
      const btn = h('button', { type: 'button', class: 'btn small' }, 'Change method');
      btn.addEventListener('click', () => busy(btn, async () => {
        ferr.clearError();
        const methods = (order.domain_validation_methods || []).filter((m) => m.host_name !== n.name);
        methods.push({ host_name: n.name, method: sel.value });
        try {
          await api('PUT', `/ssl/orders/${order.id}`, { body: { domain_validation_methods: methods } });
          announce(`Method for ${n.name} changed`);
          await redraw();
        } catch (e) { ferr.setError(e); }
      }));
      card.append(h('div', { class: 'inline-fields' }, ferr, btn));
    }
    table.append(card);
  }
  out.push(table);

  if (isOrgValidated(order)) {
    out.push(h('section', { class: 'card', 'aria-label': 'Organization validation' }, h('h2', {}, 'Organization validation'),
      v.organization ? facts([['State', stateWords(v.organization.state)], ['Reason', v.organization.reason]])
        : h('p', {}, issued ? 'Validated.' : 'Our staff check the organization details and your documents.'),
      h('p', {}, h('a', { href: path(`/orders/${order.id}/documents`) }, 'UPLOAD DOCUMENTS'))));
  }
  if (pending && v.names.some((n) => n.method === 'email')) {
    out.push(approverBlock(order, redraw));
  }
  return out;
}

function approverBlock(order, redraw) {
  const err = errorBox();
  const sel = h('select', { id: 'approver-change' }, h('option', { value: order.email_approver }, order.email_approver || '— choose —'));
  api('GET', '/ssl/approver-emails', { query: { domain: order.common_name, product_id: order.product_id } })
    .then((d) => (d.results || []).filter((a) => a !== order.email_approver).forEach((a) => sel.append(h('option', { value: a }, a))))
    .catch(() => {});
  const change = h('button', { type: 'button', class: 'btn small' }, 'Use this address');
  const resend = h('button', { type: 'button', class: 'btn small' }, 'Send the approval e-mail again');
  change.addEventListener('click', () => busy(change, async () => {
    err.clear();
    try {
      await api('PUT', `/ssl/orders/${order.id}/approver-email`, { body: { approver_email: sel.value } });
      announce('Approver address changed');
      await redraw();
    } catch (e) { err.show(e); }
  }));
  resend.addEventListener('click', () => busy(resend, async () => {
    err.clear();
    try {
      await api('POST', `/ssl/orders/${order.id}/approver-email/resend`, { body: {} });
      announce('The approval e-mail is sent again');
    } catch (e) { err.show(e); }
  }));
  return h('section', { class: 'card', 'aria-label': 'Approver address' }, h('h2', {}, 'Approver address'),
    field('Approver address', sel), h('div', { class: 'actions' }, change, resend), err);
}
