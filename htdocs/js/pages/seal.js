// Site seal settings of an order: enable, Site Seal Artifacts on/off, the snippet to
// copy, a preview of the badge and "preview site seal report".
import { h, fill } from '../dom.js';
import { api, ApiError } from '../api.js';
import { notice, errorBox, busy, pageHeader, unavailable, checkbox, copyButton, announce, facts } from '../ui.js';
import { loadOrder, statusBadge } from '../orders-common.js';
import { canEdit } from '../session.js';

export async function render(ctx) {
  const { view, params, path } = ctx;
  const o = await loadOrder(params.id);
  if (!ctx.alive()) return;
  ctx.setTitle(`Site seal of ${o.common_name || `order #${o.id}`}`);
  view.append(pageHeader(`Site seal: ${o.common_name || `order #${o.id}`}`, `Order #${o.id} · ${o.product_name} · `, statusBadge(o.status)));
  let s;
  try {
    s = await api('GET', `/ssl/orders/${o.id}/seal`);
  } catch (e) {
    if (e instanceof ApiError && e.missing) { view.append(unavailable('The site seal')); return; }
    throw e;
  }
  const body = h('div', { id: 'seal-body' });
  view.append(h('p', {}, 'The site seal is a snippet of HTML for your web site that shows visitors who you are and that this certificate is valid for the site. ',
    'With Site Seal Artifacts on, the seal report also lists the validation documents you published.'), body);
  const draw = (seal) => {
    const err = errorBox();
    const en = checkbox('Show the site seal', { id: 'seal-enabled', checked: seal.enabled });
    const art = checkbox('Site Seal Artifacts: show my published validation documents in the seal report', { id: 'seal-artifacts', checked: seal.artifacts_enabled });
    if (!canEdit()) { en.input.disabled = true; art.input.disabled = true; }
    const save = h('button', { type: 'submit', class: 'btn primary', disabled: !canEdit() }, 'Save settings');
    const form = h('form', { id: 'seal-form', 'aria-label': 'Seal settings' }, h('fieldset', {}, h('legend', {}, 'Settings'), en, art), err, h('div', { class: 'actions' }, save));
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      err.clear();
      busy(save, async () => {
        try {
          const n = await api('PUT', `/ssl/orders/${o.id}/seal`, { body: { enabled: en.input.checked, artifacts_enabled: art.input.checked } });
          announce('Seal settings saved');
          draw(n);
          body.querySelector('#seal-saved').hidden = false;
        } catch (e2) { err.show(e2); }
      });
    });
    const snippet = seal.snippet || '';
    const snipTa = h('textarea', { id: 'seal-snippet', class: 'mono', readOnly: true, rows: 4 }, snippet);
    fill(body, h('p', { id: 'seal-saved', class: 'notice notice-success', role: 'status', hidden: true }, 'Saved.'),
      form,
      h('section', { class: 'card', 'aria-labelledby': 'sec-seal-state' }, h('h2', { id: 'sec-seal-state' }, 'State'),
        facts([['Seal', seal.enabled ? 'enabled' : 'disabled'], ['What visitors see', seal.state], ['Validation level', seal.level],
          ['Published documents', String(seal.published_documents ?? 0)]]),
        seal.preview_url ? h('p', {}, h('img', { src: seal.preview_url, alt: `Site seal of ${o.common_name}: ${seal.state}`, id: 'seal-image', class: 'seal-preview' })) : null,
        seal.report_url ? h('p', {}, h('a', { href: seal.report_url, target: '_blank', rel: 'noopener noreferrer', referrerpolicy: 'no-referrer', id: 'seal-report-link', class: 'btn' }, 'preview site seal report')) : null),
      h('section', { class: 'card', 'aria-labelledby': 'sec-snippet' }, h('h2', { id: 'sec-snippet' }, 'The snippet for your site'),
        snippet ? [h('p', {}, 'Paste it into the pages of your site where the seal should appear:'),
          h('label', { for: 'seal-snippet', class: 'sr-only' }, 'Seal snippet'), snipTa, h('div', { class: 'actions' }, copyButton(snippet, 'Copy the snippet')),
          seal.csp_origin ? h('p', { class: 'hint' }, `If your site sends a Content-Security-Policy, allow ${seal.csp_origin} in script-src and img-src.`) : null]
          : notice('info', 'The server has no public address configured, so there is no snippet yet.')),
      h('p', {}, h('a', { href: path(`/orders/${o.id}/documents`) }, 'Validation documents (publish them on the seal)')));
  };
  draw(s);
}
