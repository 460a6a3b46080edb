// Validation documents of an order: per-name domain validation state with what to
// publish, the organization validation state, upload and list documents, delete a
// pending one, publish an accepted one as a site seal artifact.
import { h, fill } from '../dom.js';
import { api, apiUrl, ApiError } from '../api.js';
import { notice, errorBox, field, busy, pageHeader, unavailable, confirmDialog, announce, facts } from '../ui.js';
import { bytes, when, statusLabel } from '../format.js';
import { loadOrder, statusBadge, isOrgValidated } from '../orders-common.js';
import { instructions, additionalFor, methodLabel } from '../dcv.js';
import { loadValidation, isValidated, stateWords } from '../validation-state.js';
import { canEdit } from '../session.js';

const ACCEPT = '.pdf,.png,.jpg,.jpeg,.gif,.tif,.tiff,.txt,.zip,.doc,.docx,.odt';

export async function render(ctx) {
  const { view, params, path } = ctx;
  const o = await loadOrder(params.id);
  if (!ctx.alive()) return;
  ctx.setTitle(`Documents of ${o.common_name || `order #${o.id}`}`);
  view.append(pageHeader(`Validation documents: ${o.common_name || `order #${o.id}`}`, `Order #${o.id} · ${o.product_name} · `, statusBadge(o.status)));

  // domain validation, per name
  const v = await loadValidation(o).catch(() => null);
  const dcv = h('section', { class: 'card', 'aria-labelledby': 'sec-dcv' }, h('h2', { id: 'sec-dcv' }, 'Domain validation'));
  if (v && v.names.length) {
    const pending = o.status === 'REQ' || v.reissuePending;
    for (const n of v.names) {
      const ok = isValidated(n.state);
      const block = h('div', { class: 'name-state', 'data-host': n.name }, h('h3', {}, n.name),
        facts([['Method', methodLabel(n.method)], ['State', stateWords(n.state)], ['Reason', n.lastError]]));
      if (!ok && pending) block.append(h('details', {}, h('summary', {}, 'What to publish'), instructions(n.publish || additionalFor(o, n.name), n.method, o.email_approver)));
      dcv.append(block);
    }
    if (pending) dcv.append(h('p', {}, h('a', { href: path(`/orders/${o.id}/validation`) }, 'Validation page (check now, change a method)')));
  } else {
    dcv.append(h('p', { class: 'muted' }, o.status === 'PAI' ? 'The order details are not submitted yet.' : 'No names to validate.'));
  }
  view.append(dcv);

  // organization validation
  view.append(h('section', { class: 'card', 'aria-labelledby': 'sec-org' }, h('h2', { id: 'sec-org' }, 'Organization validation'),
    !isOrgValidated(o) ? h('p', {}, 'Not needed: this is a domain validated certificate. Documents can still be published on the site seal.')
      : facts([['State', v && v.organization ? stateWords(v.organization.state) : statusLabel(o.status)], ['Reason', v && v.organization ? v.organization.reason : '']]),
    isOrgValidated(o) ? h('p', { class: 'hint' }, 'Upload documents that show the organization exists and is registered at the address given (for example a chamber of commerce extract). Our staff check them.') : null));

  // documents
  const sec = h('section', { class: 'card', 'aria-labelledby': 'sec-docs', id: 'documents' }, h('h2', { id: 'sec-docs' }, 'Documents'));
  view.append(sec);
  let list;
  try {
    list = await api('GET', `/ssl/orders/${o.id}/documents`);
  } catch (e) {
    if (e instanceof ApiError && e.missing) { sec.append(unavailable('Validation documents')); return; }
    throw e;
  }
  const tableHolder = h('div', { 'aria-live': 'polite' });
  const draw = async () => {
    const d = await api('GET', `/ssl/orders/${o.id}/documents`);
    const docs = d.results || [];
    if (!docs.length) { fill(tableHolder, h('p', { class: 'empty' }, 'No documents yet.')); return; }
    const err = errorBox();
    const tbody = h('tbody');
    for (const doc of docs) {
      const pub = h('input', { type: 'checkbox', id: `publish-${doc.id}`, checked: doc.published, disabled: doc.status !== 'accepted' || !canEdit() });
      pub.addEventListener('change', async () => {
        err.clear();
        try {
          await api('PUT', `/ssl/orders/${o.id}/documents/${doc.id}`, { body: { published: pub.checked } });
          announce(pub.checked ? `${doc.name} is shown on the site seal` : `${doc.name} is no longer shown on the site seal`);
        } catch (e) { pub.checked = !pub.checked; err.show(e); }
      });
      const del = doc.status === 'pending' && canEdit() ? h('button', { type: 'button', class: 'btn small', 'aria-label': `Delete ${doc.name}` }, 'Delete') : null;
      if (del) {
        del.addEventListener('click', async () => {
          const ok = await confirmDialog(`Delete ${doc.name}?`, 'The document is removed before our staff look at it.', 'Delete', { danger: true });
          if (!ok) return;
          await busy(del, async () => {
            try { await api('DELETE', `/ssl/orders/${o.id}/documents/${doc.id}`); announce(`${doc.name} deleted`); await draw(); } catch (e) { err.show(e); }
          });
        });
      }
      tbody.append(h('tr', { 'data-doc': doc.id },
        h('th', { scope: 'row' }, h('a', { href: apiUrl(`/ssl/orders/${o.id}/documents/${doc.id}`), download: doc.name }, doc.name)),
        h('td', {}, doc.type), h('td', {}, bytes(doc.size)),
        h('td', {}, h('code', { class: 'sha', title: doc.sha256 }, `${doc.sha256.slice(0, 16)}…`)),
        h('td', {}, when(doc.created_at)),
        h('td', { class: 'doc-status' }, doc.status, doc.reason ? h('div', { class: 'muted' }, doc.reason) : null),
        h('td', {}, h('div', { class: 'check' }, pub, h('label', { for: pub.id }, 'on the site seal'))),
        h('td', {}, del)));
    }
    fill(tableHolder, h('div', { class: 'table-wrap' }, h('table', { id: 'documents-table' }, h('caption', { class: 'sr-only' }, 'Uploaded documents'),
      h('thead', {}, h('tr', {}, ['Name', 'Type', 'Size', 'SHA-256', 'Uploaded', 'Status', 'Published', ''].map((t) => h('th', { scope: 'col' }, t)))), tbody)), err,
    h('p', { class: 'hint' }, 'Only documents our staff accepted can be published on the site seal (as Site Seal Artifacts, when the seal shows them).'));
  };

  if (canEdit()) {
    const file = h('input', { type: 'file', id: 'document-file', name: 'file', accept: ACCEPT });
    const fFile = field('Document', file, { hint: 'PDF, PNG, JPG, GIF, TIFF, text, ZIP, DOC, DOCX or ODT; the type is taken from the content. At most 10 MiB unless your provider set another limit.' });
    const up = h('button', { type: 'submit', class: 'btn primary' }, 'Upload');
    const form = h('form', { id: 'upload-form', 'aria-label': 'Upload a document' }, fFile, h('div', { class: 'actions' }, up));
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      fFile.clearError();
      if (!file.files.length) { fFile.setError('Choose a file first.'); file.focus(); return; }
      const fd = new FormData();
      fd.append('file', file.files[0], file.files[0].name);
      busy(up, async () => {
        try {
          const doc = await api('POST', `/ssl/orders/${o.id}/documents`, { form: fd });
          file.value = '';
          announce(`${doc.name} uploaded`);
          await draw();
        } catch (e2) { fFile.setError(e2); file.focus(); }
      });
    });
    sec.append(h('h3', {}, 'UPLOAD DOCUMENTS'), form);
  }
  sec.append(h('h3', {}, 'Uploaded'), tableHolder);
  void list;
  await draw();
}
