// CSR Manager at /<team>/managed_csrs: list, view, edit the friendly name, delete,
// Add CSR (the generator) or paste one.
import { h } from '../dom.js';
import { api } from '../api.js';
import { field, errorBox, busy, pageHeader, notice, unavailable, confirmDialog, dialog, facts, copyButton, announce, flash } from '../ui.js';
import { day, when, statusLabel } from '../format.js';
import { loadManagedCsrs, getManagedCsr, saveManagedCsr, renameManagedCsr, deleteManagedCsr } from '../org.js';
import { canEdit } from '../session.js';

function keyOf(c) {
  return c.key_type === 'ec' ? `EC ${c.curve}` : `RSA ${c.key_bits}`;
}

async function rename(c, after) {
  const input = h('input', { type: 'text', id: 'rename-csr', value: c.friendly_name || '', maxlength: 255 });
  const f = field('Friendly name', input);
  const ok = await dialog(`Friendly name of ${c.common_name}`, (close) => {
    const form = h('form', {}, f, h('div', { class: 'actions' },
      h('button', { type: 'submit', class: 'btn primary' }, 'Save'),
      h('button', { type: 'button', class: 'btn', onClick: () => close(false) }, 'Cancel')));
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      busy(form.querySelector('[type=submit]'), async () => {
        try { await renameManagedCsr(c.id, input.value.trim()); close(true); } catch (e2) { f.setError(e2); }
      });
    });
    return form;
  });
  if (ok) { announce('Friendly name saved'); after(); }
}

async function remove(c, after) {
  const ok = await confirmDialog('Delete this CSR?', [`${c.friendly_name || c.common_name} is removed from the CSR Manager.`,
    'Orders that used it keep their own copy of the CSR.'], 'Delete', { danger: true });
  if (!ok) return;
  await deleteManagedCsr(c.id);
  announce('CSR deleted');
  after();
}

export async function render(ctx) {
  const { view, path, session } = ctx;
  ctx.setTitle('CSR Manager');
  view.append(pageHeader('CSR Manager', `The CSRs of the team ${session.team.name}. To manage another team's CSRs, switch team in the header first.`));
  const managed = await loadManagedCsrs();
  if (!ctx.alive()) return;
  if (!managed.available) { view.append(unavailable('The CSR Manager')); return; }
  const editable = canEdit();
  // paste a CSR
  const pasteId = 'paste-csr-form';
  const pasteBtn = h('button', { type: 'button', class: 'btn', 'aria-expanded': 'false', 'aria-controls': pasteId }, 'Paste a CSR');
  const ta = h('textarea', { id: 'paste-csr', class: 'csr mono' });
  const fTa = field('CSR', ta);
  const fn = h('input', { type: 'text', id: 'paste-friendly', maxlength: 255 });
  const pasteErr = errorBox();
  const pasteForm = h('form', { id: pasteId, class: 'card', hidden: true, 'aria-label': 'Paste a CSR' }, fTa, field('Friendly name', fn), pasteErr,
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'btn primary' }, 'Save to CSR Manager')));
  pasteBtn.addEventListener('click', () => {
    pasteForm.hidden = !pasteForm.hidden;
    pasteBtn.setAttribute('aria-expanded', String(!pasteForm.hidden));
    if (!pasteForm.hidden) ta.focus();
  });
  pasteForm.addEventListener('submit', (e) => {
    e.preventDefault();
    fTa.clearError();
    busy(pasteForm.querySelector('[type=submit]'), async () => {
      try {
        await saveManagedCsr(ta.value.trim(), fn.value.trim());
        flash('The CSR was saved.');
        ctx.navigate(path('/managed_csrs'), { replace: true });
      } catch (e2) { fTa.setError(e2); }
    });
  });
  view.append(h('div', { class: 'toolbar' },
    editable ? h('a', { class: 'btn primary', href: path('/managed_csrs/new'), id: 'add-csr' }, 'Add CSR') : null,
    editable ? pasteBtn : null), pasteForm);
  const reload = () => ctx.navigate(path('/managed_csrs'), { replace: true });
  if (!managed.list.length) {
    view.append(h('p', { class: 'empty' }, 'No CSRs yet. "Add CSR" creates one in your browser.'));
    return;
  }
  const tbody = h('tbody');
  for (const c of managed.list) {
    tbody.append(h('tr', { 'data-csr': c.id },
      h('td', {}, h('a', { href: path(`/managed_csrs/${c.id}`) }, c.friendly_name || '(no friendly name)')),
      h('td', {}, c.common_name),
      h('td', {}, keyOf(c)),
      h('td', { class: 'mono' }, c.md5),
      h('td', {}, h('time', { datetime: day(c.created_at) }, day(c.created_at))),
      h('td', {}, String(c.orders_count ?? '')),
      h('td', {}, h('div', { class: 'action-links' },
        h('a', { href: path(`/managed_csrs/${c.id}`) }, 'view'),
        editable ? h('button', { type: 'button', class: 'linklike', onClick: () => rename(c, reload), 'aria-label': `Edit the friendly name of ${c.common_name}` }, 'edit') : null,
        editable ? h('button', { type: 'button', class: 'linklike', onClick: () => remove(c, reload), 'aria-label': `Delete the CSR of ${c.common_name}` }, 'delete') : null))));
  }
  view.append(h('div', { class: 'table-wrap' }, h('table', { id: 'csr-table' },
    h('caption', { class: 'sr-only' }, 'Managed CSRs'),
    h('thead', {}, h('tr', {}, ['Friendly name', 'Common name', 'Key', 'CSR MD5', 'Created', 'Orders', 'Actions'].map((t) => h('th', { scope: 'col' }, t)))),
    tbody)));
}

export async function renderOne(ctx) {
  const { view, path, params } = ctx;
  const managed = await loadManagedCsrs();
  if (!managed.available) { ctx.setTitle('CSR Manager'); view.append(pageHeader('CSR Manager'), unavailable('The CSR Manager')); return; }
  const c = await getManagedCsr(params.id);
  if (!ctx.alive()) return;
  ctx.setTitle(`CSR ${c.friendly_name || c.common_name}`);
  const subj = c.subject || {};
  view.append(pageHeader(c.friendly_name || c.common_name, h('a', { href: path('/managed_csrs') }, 'CSR Manager')),
    h('section', { class: 'card' }, facts([
      ['Friendly name', c.friendly_name || '(none)'],
      ['Common name', c.common_name],
      ['Names', (c.names || []).join(', ')],
      ['Organization', subj.organization], ['Organization unit', subj.unit], ['City', subj.locality],
      ['State', subj.state], ['Country', subj.country], ['E-mail', subj.email],
      ['Key', keyOf(c)], ['Signature', c.signature_algorithm],
      ['Public key SHA-1', h('code', {}, c.public_key_sha1)], ['CSR MD5', h('code', {}, c.md5)], ['CSR SHA-256', h('code', {}, c.sha256)],
      ['Created', when(c.created_at)],
    ])),
    h('h2', {}, 'Orders using it'),
    c.orders && c.orders.length ? h('ul', {}, c.orders.map((o) => h('li', {}, h('a', { href: path(`/orders/${o.id}`) }, `Order #${o.id} ${o.common_name}`), ` — ${statusLabel(o.status)}, ${day(o.order_date)}`)))
      : h('p', { class: 'empty' }, 'No order uses it yet.'),
    h('div', { class: 'field' }, h('label', { for: 'csr-pem' }, 'CSR'), h('textarea', { id: 'csr-pem', class: 'csr mono', readOnly: true }, c.csr)),
    h('div', { class: 'actions' }, copyButton(c.csr, 'Copy the CSR'),
      canEdit() ? h('button', { type: 'button', class: 'btn', onClick: () => rename(c, () => ctx.navigate(window.location.pathname, { replace: true })) }, 'Edit friendly name') : null,
      canEdit() ? h('button', { type: 'button', class: 'btn danger', onClick: () => remove(c, () => { flash('The CSR was deleted.'); ctx.navigate(path('/managed_csrs')); }) }, 'Delete') : null));
}

export { notice, api };
