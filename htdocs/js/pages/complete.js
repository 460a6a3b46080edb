// Completing a bought order (status PAI): the CSR (paste, managed CSR or the
// generator), server software, the names and a validation method per name with
// exactly what to publish, the contacts (created inline), expiration reminders,
// the subscriber agreement; then it is sent for validation (start_provision).
import { h } from '../dom.js';
import { api } from '../api.js';
import { notice, errorBox, field, busy, pageHeader, flash, checkbox, select } from '../ui.js';
import { years } from '../format.js';
import { loadOrder, productById, softwareSelect, isOrgValidated } from '../orders-common.js';
import { csrSection } from '../csr-input.js';
import { METHODS, methodsFor, instructions, additionalFor } from '../dcv.js';
import { contactsSection } from '../contacts.js';
import { remindersSection, agreement } from '../reminders.js';
import { isMulti } from '../pricing.js';

export async function render(ctx) {
  const { view, params, path } = ctx;
  let order = await loadOrder(params.id);
  const product = await productById(order.product_id);
  if (!ctx.alive()) return;
  ctx.setTitle(`Complete order #${order.id}`);
  view.append(pageHeader(`Complete order #${order.id}`, `${order.product_name}, ${years(order.period)}. `,
    'Submit the certificate details; the order is then sent for validation.'));
  if (order.status !== 'PAI') {
    view.append(notice('info', `This order has already been submitted (status: ${order.status}). `,
      h('a', { href: path(`/orders/${order.id}/validation`) }, 'See its validation')));
    return;
  }
  if (order.renewal_of) view.append(renewalLeft(ctx, order, product));
  const steps = h('ol', { class: 'steps', 'aria-label': 'Steps' },
    h('li', { class: 'current', id: 'step-1' }, '1. CSR and server software'),
    h('li', { id: 'step-2' }, '2. Names and validation'),
    h('li', { id: 'step-3' }, '3. Contacts'),
    h('li', { id: 'step-4' }, '4. Reminders and agreement'));
  view.append(steps);

  // ---- part 1: the CSR ----
  const multi = product && isMulti(product);
  const hostsTa = multi ? h('textarea', { id: 'host-names', rows: 4, class: 'mono' }) : null;
  const fHosts = multi ? field('Additional names (one per line)', hostsTa, {
    hint: `The Common Name is always included. ${product.included_domains_count || 1} names are included; this order pays for ${order.domain_amount} names${order.wildcard_domain_amount ? ` and ${order.wildcard_domain_amount} wildcard names` : ''}.`,
  }) : null;
  const csr = await csrSection(ctx, {
    withSaveToManager: true,
    createHref: `${path('/managed_csrs/new')}?return=${encodeURIComponent(window.location.pathname)}`,
    initial: order.csr || '',
    onDecoded: (d) => {
      if (hostsTa && d && !hostsTa.dataset.touched) {
        const cn = d.subject ? d.subject.common_name : '';
        hostsTa.value = (d.names || []).filter((n) => n !== cn).join('\n');
      }
    },
  });
  if (hostsTa) hostsTa.addEventListener('input', () => { hostsTa.dataset.touched = '1'; });
  const sw = softwareSelect(order.software, 'software');
  const fSw = field('Server software', sw, { hint: 'Where you will install the certificate; it picks the default download format. For information only.' });
  const err1 = errorBox();
  const save1 = h('button', { type: 'submit', class: 'btn primary' }, order.csr ? 'Save changes and continue' : 'Save and continue');
  const form1 = h('form', { id: 'csr-form', novalidate: true, 'aria-labelledby': 'csr-legend' },
    h('fieldset', {}, h('legend', { id: 'csr-legend' }, 'Certificate signing request'), csr.el, fHosts, fSw),
    err1, h('div', { class: 'actions' }, save1));
  view.append(form1);

  // ---- part 2: names, methods, contacts, reminders, agreement ----
  const part2 = h('div', { id: 'part-2' });
  view.append(part2);

  form1.addEventListener('submit', (e) => {
    e.preventDefault();
    err1.clear();
    busy(save1, async () => {
      const d = await csr.decode();
      if (!csr.csr()) { csr.setError('Paste a CSR, choose a managed CSR, or create one.'); csr.focus(); return; }
      if (!d) { csr.focus(); return; }
      if (!sw.value) { fSw.setError('Choose the server software.'); sw.focus(); return; }
      fSw.clearError();
      const body = { csr: csr.csr(), software_id: sw.value };
      if (hostsTa) {
        const cn = d.subject.common_name;
        body.host_names = [cn, ...hostsTa.value.split(/[\s,]+/).map((x) => x.trim().toLowerCase()).filter((x) => x && x !== cn)];
      }
      try {
        await csr.saveIfAsked();
        await api('PUT', `/ssl/orders/${order.id}`, { body });
        order = await loadOrder(order.id);
        save1.textContent = 'Save changes and continue';
        await renderPart2(ctx, order, product, part2, steps);
      } catch (e2) {
        if ([1001, 1002].includes(e2.code)) { csr.setError(e2); csr.focus(); }
        else if ([1003, 1004].includes(e2.code) && fHosts) { fHosts.setError(e2); hostsTa.focus(); }
        else err1.show(e2);
      }
    });
  });

  if (order.csr) await renderPart2(ctx, order, product, part2, steps, false);
}

async function renderPart2(ctx, order, product, part2, steps, focus = true) {
  const { path } = ctx;
  steps.querySelectorAll('li').forEach((li, i) => li.classList.toggle('done', i === 0));
  steps.querySelector('#step-1').classList.remove('current');
  steps.querySelector('#step-2').classList.add('current');
  const names = order.host_names || [];
  const current = Object.fromEntries((order.domain_validation_methods || []).map((m) => [m.host_name, m.method]));

  // approver addresses for e-mail validation
  let approvers = [];
  try {
    const d = await api('GET', '/ssl/approver-emails', { query: { domain: order.common_name, product_id: order.product_id } });
    approvers = d.results || [];
  } catch (e) { approvers = []; }
  const approverSel = select([['', '— choose —'], ...approvers.map((a) => [a, a])], { id: 'approver-email', value: order.email_approver });
  const fApprover = field('Approver address (for e-mail validation)', approverSel, { hint: 'One address of the domain receives the approval link for every name validated by e-mail.' });

  const methodFields = [];
  const rows = names.map((n) => {
    const ad = additionalFor(order, n);
    const sel = select(methodsFor(n).map(([m, l]) => [m, l]), { id: `method-${n}`, value: current[n] || 'dns' });
    sel.dataset.host = n;
    const how = h('div', { class: 'how', 'aria-live': 'polite' });
    const upd = () => how.replaceChildren(instructions(ad, sel.value, approverSel.value));
    sel.addEventListener('change', () => { upd(); syncApprover(); });
    approverSel.addEventListener('change', upd);
    upd();
    const f = field(`Validation method for ${n}`, sel);
    methodFields.push(f);
    return h('div', { class: 'card name-row', 'data-host': n }, h('h3', {}, n), f, how);
  });
  const syncApprover = () => {
    fApprover.hidden = !methodFields.some((f) => f.input.value === 'email');
  };
  syncApprover();
  const namesErr = errorBox();

  const roles = [
    { key: 'organization_handle', label: 'Organization contact', required: isOrgValidated(order), hint: isOrgValidated(order) ? 'The organization named in the certificate' : 'Optional for domain validation' },
    { key: 'technical_handle', label: 'Technical contact' },
  ];
  const contacts = await contactsSection(roles, order);
  const contactsErr = errorBox();
  const reminders = await remindersSection(order.id);
  const autorenew = checkbox('Renew automatically before it expires (charged to the balance)', { id: 'autorenew', checked: order.autorenew === 'on' });
  const agree = agreement();
  const err = errorBox();
  const submit = h('button', { type: 'submit', class: 'btn primary' }, 'Send for validation');
  const form = h('form', { id: 'details-form', novalidate: true },
    h('fieldset', { id: 'names-section' }, h('legend', {}, 'Names and validation'),
      h('p', {}, 'Choose for each name how you prove that you control it, and publish exactly what is shown.'),
      rows, fApprover, namesErr),
    h('fieldset', { id: 'contacts-section' }, h('legend', {}, 'Contacts'), contacts.el, contactsErr),
    reminders.el, autorenew, agree.el, err,
    h('div', { class: 'actions' }, submit, h('a', { class: 'btn', href: path('/orders') }, 'Later')));
  part2.replaceChildren(form);
  const warn = reminders.watchRecipients(() => Object.values(contacts.values()).some(Boolean));
  form.addEventListener('change', warn);
  if (focus) form.querySelector('legend').scrollIntoView({ block: 'start' });
  if (focus && methodFields[0]) methodFields[0].input.focus();
  form.addEventListener('focusin', (e) => {
    const section = e.target.closest('fieldset');
    const idx = section && section.id === 'contacts-section' ? 3 : section && (section.classList.contains('reminders') || section.classList.contains('agreement')) ? 4 : 2;
    steps.querySelectorAll('li').forEach((li, i) => { li.classList.toggle('current', i === idx - 1); li.classList.toggle('done', i < idx - 1); });
  });

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    [err, namesErr, contactsErr].forEach((x) => x.clear());
    contacts.clearErrors();
    fApprover.clearError();
    const v = contacts.values();
    if (isOrgValidated(order) && !v.organization_handle) {
      contacts.setError('organization_handle', 'Choose the organization contact, or create one with "New contact".');
      contacts.focus('organization_handle');
      return;
    }
    const methods = methodFields.map((f) => ({ host_name: f.input.dataset.host, method: f.input.value }));
    if (methods.some((m) => m.method === 'email') && !approverSel.value) {
      fApprover.setError('Choose the approver address that receives the approval link.');
      approverSel.focus();
      return;
    }
    if (!reminders.validate()) return;
    if (!agree.ok()) { agree.focus(); return; }
    busy(submit, async () => {
      const body = { domain_validation_methods: methods, autorenew: autorenew.input.checked ? 'on' : 'off', start_provision: true };
      if (approverSel.value && methods.some((m) => m.method === 'email')) body.approver_email = approverSel.value;
      for (const [k, val] of Object.entries(v)) if (val) body[k] = val;
      try {
        await reminders.save(order.id).catch((e2) => { throw Object.assign(e2, { section: 'reminders' }); });
        await api('PUT', `/ssl/orders/${order.id}`, { body });
        flash(`Order #${order.id} was sent for validation. Publish what is shown for each name; the certificate is issued once every name is validated.`);
        ctx.navigate(path(`/orders/${order.id}/validation`));
      } catch (e2) {
        if (e2.section === 'reminders') reminders.setError(e2);
        else if (e2.code === 1009) { fApprover.setError(e2); approverSel.focus(); }
        else if (e2.code === 1011) namesErr.show(e2);
        else if (e2.code === 1010 || (e2.code === 1012 && /handle|contact/i.test(e2.desc))) contactsErr.show(e2);
        else if (e2.code === 1012 && /approver/i.test(e2.desc)) fApprover.setError(e2);
        else if (e2.code === 1012 && /method/i.test(e2.desc)) namesErr.show(e2);
        else err.show(e2);
      }
    });
  });
}

/** A renewal waits here only when something is missing: say what is left to do. */
function renewalLeft(ctx, order, product) {
  const methods = new Map((order.domain_validation_methods || []).map((m) => [m.host_name, m.method]));
  const left = [];
  if (!order.csr) left.push('a CSR');
  const noMethod = (order.host_names || []).filter((n) => !methods.get(n));
  if (noMethod.length) left.push(`a validation method for ${noMethod.join(', ')}`);
  if (isOrgValidated(order) && !order.organization_handle) left.push('the organization contact');
  if (!left.length) left.push('sending it for validation');
  return notice('info', h('span', { id: 'renewal-left' },
    `This is the renewal of order #${order.renewal_of}: its CSR, names and contacts were copied${product ? ` (${product.name})` : ''}. `,
    `What is left to do: ${left.join('; ')}. Then click "Send for validation" below. `,
    h('a', { href: ctx.path(`/orders/${order.renewal_of}`) }, `Order #${order.renewal_of}`)));
}

export { METHODS };
