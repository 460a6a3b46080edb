// Webhooks at /<team>/webhooks (admins and owners): the team's endpoints, adding one
// (the secret is shown once), ping, rotate, enable/disable, delete, and each endpoint's
// delivery log at /<team>/webhooks/:id with a Redeliver button per delivery.
import { h } from '../dom.js';
import { api, errorText } from '../api.js';
import { field, errorBox, busy, pageHeader, notice, confirmDialog, dialog, copyButton, announce, flash } from '../ui.js';
import { when } from '../format.js';

const TYPES = ['order.created', 'order.paid', 'order.validation_requested', 'order.name_validated',
  'order.validation_failed', 'order.issued', 'order.reissued', 'order.renewed', 'order.revoked',
  'order.cancelled', 'order.refunded', 'order.expiring', 'order.expired', 'order.autorenew_failed',
  'document.accepted', 'document.rejected', 'team.balance_low'];

function isAdmin(session) {
  return session && session.team && ['admin', 'owner'].includes(session.team.role);
}

function showSecret(title, secret) {
  return dialog(title, (close) => h('div', {},
    h('p', {}, 'Store this signing secret now: it is not shown again.'),
    h('p', { class: 'mono', id: 'webhook-secret' }, secret),
    h('div', { class: 'actions' }, copyButton(secret),
      h('button', { type: 'button', class: 'btn primary', onClick: () => close(true) }, 'Done'))));
}

function addForm(ctx, reload) {
  const url = h('input', { type: 'url', id: 'webhook-url', required: true, placeholder: 'https://panel.example.com/hooks/ssl', maxlength: 2000 });
  const desc = h('input', { type: 'text', id: 'webhook-description', maxlength: 500 });
  const all = h('input', { type: 'checkbox', id: 'webhook-all', checked: true });
  const boxes = TYPES.map((t) => h('input', { type: 'checkbox', value: t, id: `ev-${t.replace('.', '-')}` }));
  const list = h('fieldset', { class: 'event-types', disabled: true },
    h('legend', {}, 'Events'),
    boxes.map((b) => h('label', { for: b.id }, b, ` ${b.value}`)));
  all.addEventListener('change', () => { list.disabled = all.checked; });
  const fUrl = field('Endpoint URL', url);
  const err = errorBox();
  const form = h('form', { class: 'card', id: 'webhook-add', 'aria-label': 'Add a webhook endpoint' },
    fUrl, field('Description', desc),
    h('label', { for: 'webhook-all' }, all, ' Every event'), list, err,
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'btn primary' }, 'Add endpoint')));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    fUrl.clearError();
    const events = all.checked ? ['*'] : boxes.filter((b) => b.checked).map((b) => b.value);
    busy(form.querySelector('[type=submit]'), async () => {
      try {
        const made = await api('POST', '/webhooks', { body: { url: url.value.trim(), events, description: desc.value.trim() } });
        await showSecret('Webhook endpoint added', made.secret);
        reload();
      } catch (e2) { fUrl.setError(e2); }
    });
  });
  return form;
}

export async function render(ctx) {
  const { view, path, session } = ctx;
  ctx.setTitle('Webhooks');
  view.append(pageHeader('Webhooks', `Signed notifications of the team ${session.team.name}'s order events (Standard Webhooks).`));
  if (!isAdmin(session)) { view.append(notice('info', 'Only admins and owners manage webhooks.')); return; }
  const reload = () => ctx.navigate(path('/webhooks'), { replace: true });
  let hooks;
  try { hooks = await api('GET', '/webhooks'); } catch (e) { view.append(notice('error', errorText(e))); return; }
  if (!ctx.alive()) return;
  view.append(addForm(ctx, reload));
  if (!hooks.results.length) { view.append(h('p', { class: 'empty' }, 'No webhook endpoints yet.')); return; }
  const tbody = h('tbody');
  for (const w of hooks.results) {
    const act = (label, fn, attrs = {}) => h('button', { type: 'button', class: 'linklike', ...attrs, onClick: (e) => busy(e.target, fn) }, label);
    tbody.append(h('tr', { 'data-webhook': w.id },
      h('td', { class: 'mono' }, h('a', { href: path(`/webhooks/${w.id}`) }, w.url)),
      h('td', {}, w.events.join(', ')),
      h('td', {}, w.enabled ? (w.failing_since ? `failing since ${when(w.failing_since)}` : 'enabled') : `disabled ${w.disabled_reason}`),
      h('td', {}, h('div', { class: 'action-links' },
        h('a', { href: path(`/webhooks/${w.id}`) }, 'deliveries'),
        act('send a ping', async () => {
          try { const d = await api('POST', `/webhooks/${w.id}/test`); announce(`Ping: ${d.status} (${d.last_status || 'no answer'})`); flash(`Ping ${d.status}: HTTP ${d.last_status || 'no answer'}`); reload(); } catch (e) { view.prepend(notice('error', errorText(e))); }
        }),
        act('rotate secret', async () => {
          const r = await api('POST', `/webhooks/${w.id}/rotate`);
          await showSecret('New signing secret (the old one signs too for 24 hours)', r.secret);
        }),
        act(w.enabled ? 'disable' : 'enable', async () => { await api('PUT', `/webhooks/${w.id}`, { body: { enabled: !w.enabled } }); reload(); }),
        act('delete', async () => {
          if (await confirmDialog('Delete this endpoint?', [`${w.url} gets no more events.`], 'Delete', { danger: true })) {
            await api('DELETE', `/webhooks/${w.id}`);
            reload();
          }
        })))));
  }
  view.append(h('div', { class: 'table-wrap' }, h('table', { id: 'webhook-table' },
    h('caption', { class: 'sr-only' }, 'Webhook endpoints'),
    h('thead', {}, h('tr', {}, ['URL', 'Events', 'State', 'Actions'].map((t) => h('th', { scope: 'col' }, t)))),
    tbody)));
}

export async function renderDeliveries(ctx) {
  const { view, path, params, session } = ctx;
  ctx.setTitle('Webhook deliveries');
  if (!isAdmin(session)) { view.append(notice('info', 'Only admins and owners manage webhooks.')); return; }
  let w;
  let list;
  try {
    w = await api('GET', `/webhooks/${params.id}`);
    list = await api('GET', `/webhooks/${params.id}/deliveries`, { query: { limit: 100 } });
  } catch (e) { view.append(notice('error', errorText(e))); return; }
  if (!ctx.alive()) return;
  view.append(pageHeader('Webhook deliveries', w.url), h('p', {}, h('a', { href: path('/webhooks') }, 'All endpoints')));
  if (!list.results.length) { view.append(h('p', { class: 'empty' }, 'No deliveries yet.')); return; }
  const tbody = h('tbody');
  for (const d of list.results) {
    const last = d.attempts.length ? d.attempts[d.attempts.length - 1] : null;
    const redeliver = h('button', { type: 'button', class: 'btn small', 'aria-label': `Redeliver ${d.type} ${d.event_id}` }, 'Redeliver');
    redeliver.addEventListener('click', () => busy(redeliver, async () => {
      try {
        const r = await api('POST', `/webhooks/${w.id}/deliveries/${d.id}/redeliver`);
        flash(`Redelivered: ${r.status}, HTTP ${r.last_status || 'no answer'}`);
        ctx.navigate(path(`/webhooks/${w.id}`), { replace: true });
      } catch (e) { view.prepend(notice('error', errorText(e))); }
    }));
    tbody.append(h('tr', { 'data-delivery': d.id },
      h('td', {}, when(d.created_at)),
      h('td', {}, d.type, d.order_id ? h('span', {}, ' · ', h('a', { href: path(`/orders/${d.order_id}`) }, `order ${d.order_id}`)) : null),
      h('td', {}, d.status, d.next_retry ? ` (next ${when(d.next_retry)})` : ''),
      h('td', {}, h('details', {}, h('summary', {}, `${d.attempts.length} attempt${d.attempts.length === 1 ? '' : 's'}${last ? `, last HTTP ${last.http_status || '-'}` : ''}`),
        h('ul', {}, d.attempts.map((a) => h('li', {},
          `${when(a.at)}: HTTP ${a.http_status || '-'} in ${a.latency_ms} ms`, a.error ? ` — ${a.error}` : '',
          a.response ? h('pre', { class: 'mono' }, a.response) : null))))),
      h('td', { class: 'mono' }, d.event_id),
      h('td', {}, redeliver)));
  }
  view.append(h('div', { class: 'table-wrap' }, h('table', { id: 'delivery-table' },
    h('caption', { class: 'sr-only' }, 'Deliveries'),
    h('thead', {}, h('tr', {}, ['Created', 'Event', 'Status', 'Attempts', 'webhook-id', ''].map((t) => h('th', { scope: 'col' }, t)))),
    tbody)));
}
