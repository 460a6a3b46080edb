// Reprocess (change domain(s)/rekey): a new certificate for an issued order with a
// new CSR (or the previous one), new names on multi-domain products, server
// software, reminders, the agreement; Next sends it for validation
// (POST /ssl/orders/{id}/reissue).
import { h } from '../dom.js';
import { api } from '../api.js';
import { notice, errorBox, field, busy, pageHeader, flash } from '../ui.js';
import { loadOrder, productById, softwareSelect, statusBadge, contacts } from '../orders-common.js';
import { csrSection } from '../csr-input.js';
import { remindersSection, agreement } from '../reminders.js';
import { isMulti } from '../pricing.js';
import { productType } from '../format.js';

export async function render(ctx) {
  const { view, params, path } = ctx;
  const o = await loadOrder(params.id);
  const p = await productById(o.product_id);
  if (!ctx.alive()) return;
  ctx.setTitle(`Change domain(s)/rekey ${o.common_name}`);
  view.append(pageHeader('Change domain(s) / rekey', h('strong', {}, o.common_name), ` · ${o.product_name} · order #${o.id} · `, statusBadge(o.status)));
  if (o.status !== 'ACT') {
    view.append(notice('info', 'Only an issued certificate can be reprocessed.'));
    return;
  }
  view.append(h('section', { class: 'card instructions', 'aria-label': 'Instructions' },
    h('h2', {}, 'How it works'),
    h('ol', {},
      h('li', {}, 'Choose the CSR: tick "use previous CSR" to keep the key, pick a CSR from the CSR Manager, paste a new one, or create one with "Create CSR".'),
      h('li', {}, 'When you leave the CSR field it is read and the Common Name fills in. Change the names if the product allows.'),
      h('li', {}, 'Choose the server software and the reminders, agree to the Subscriber Agreement and click Next.'),
      h('li', {}, 'Names already validated are reused; new names are validated on the next page. The current certificate stays valid until the new one is issued.'))));
  const multi = p && isMulti(p);
  const hostsTa = multi ? h('textarea', { id: 'host-names', rows: 4, class: 'mono' }, (o.host_names || []).filter((n) => n !== o.common_name).join('\n')) : null;
  const fHosts = multi ? field('Additional names (one per line)', hostsTa, { hint: `${productType(p)}. This order pays for ${o.domain_amount} names.` }) : null;
  const csr = await csrSection(ctx, {
    previousCsr: o.csr || '',
    withSaveToManager: true,
    createHref: `${path('/managed_csrs/new')}?return=${encodeURIComponent(window.location.pathname)}`,
    onDecoded: (d) => {
      if (hostsTa && d && !hostsTa.dataset.touched) {
        const cn = d.subject ? d.subject.common_name : '';
        hostsTa.value = (d.names || []).filter((n) => n !== cn).join('\n');
      }
    },
  });
  if (hostsTa) hostsTa.addEventListener('input', () => { hostsTa.dataset.touched = '1'; });
  const sw = softwareSelect(o.software, 'software');
  const fSw = field('Server software', sw, { hint: 'For information only: the certificate works with any software.' });
  const reminders = await remindersSection(o.id);
  reminders.watchRecipients(() => contacts(o).length > 0);
  const agree = agreement();
  const err = errorBox();
  const next = h('button', { type: 'submit', class: 'btn primary' }, 'Next');
  const form = h('form', { id: 'reprocess-form', novalidate: true },
    h('fieldset', {}, h('legend', {}, 'Certificate signing request'), csr.el, fHosts),
    h('fieldset', {}, h('legend', {}, 'Server'), fSw),
    reminders.el, agree.el, err,
    h('div', { class: 'actions' }, next, h('a', { class: 'btn', href: path('/orders') }, 'Cancel')));
  view.append(form);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    err.clear();
    busy(next, async () => {
      const usePrev = csr.usePrevious();
      if (!usePrev) {
        if (!csr.csr()) { csr.setError('Choose or paste a CSR, tick "use previous CSR", or create one.'); csr.focus(); return; }
        const d = await csr.decode();
        if (!d) { csr.focus(); return; }
      }
      if (!reminders.validate()) return;
      if (!agree.ok()) { agree.focus(); return; }
      const body = {};
      if (usePrev) body.use_previous_csr = true;
      else body.csr = csr.csr();
      if (sw.value) body.software_id = sw.value;
      if (hostsTa) {
        const cn = usePrev ? o.common_name : csr.decoded().subject.common_name;
        body.host_names = [cn, ...hostsTa.value.split(/[\s,]+/).map((x) => x.trim().toLowerCase()).filter((x) => x && x !== cn)];
      }
      try {
        await csr.saveIfAsked();
        await reminders.save(o.id);
        await api('POST', `/ssl/orders/${o.id}/reissue`, { body });
        flash('The new certificate was requested. Validate any new names below; the current certificate stays valid until the new one is issued.');
        ctx.navigate(path(`/orders/${o.id}/validation`));
      } catch (e2) {
        if ([1001, 1002].includes(e2.code)) { csr.setError(e2); csr.focus(); }
        else if ([1003, 1004].includes(e2.code) && fHosts) { fHosts.setError(e2); hostsTa.focus(); }
        else err.show(e2);
      }
    });
  });
}
