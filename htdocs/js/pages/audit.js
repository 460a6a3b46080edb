// The team's audit log (admins): every change, who made it, from where, with its result;
// filter by user and result, page through, export CSV.
import { h, fill } from '../dom.js';
import { api, apiUrl } from '../api.js';
import { field, select } from '../ui.js';
import { fmtTime } from './security-format.js';

const PAGE = 50;

export async function render(ctx) {
  const { view } = ctx;
  ctx.setTitle('Audit log');
  const actor = h('input', { type: 'text', id: 'audit-actor', autocapitalize: 'none', spellcheck: 'false' });
  const result = select([['', 'All'], ['success', 'Succeeded'], ['failure', 'Refused or failed']], { id: 'audit-result' });
  const body = h('div', { id: 'audit-body' });
  const csv = h('a', { class: 'btn', id: 'audit-csv', download: 'audit.csv', 'data-native': '' }, 'Export CSV');
  const form = h('form', { class: 'filters', id: 'audit-filters' }, field('User', actor),
    h('div', { class: 'field' }, h('label', { for: 'audit-result' }, 'Result'), result),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'btn' }, 'Filter'), csv));
  view.append(h('h1', { tabindex: '-1' }, 'Audit log'),
    h('p', {}, 'Every change made in this team: through the portal, API tokens and the administrators\' command line.'),
    form, body);
  let offset = 0;
  const query = () => {
    const q = {};
    if (actor.value.trim()) q.actor = actor.value.trim();
    if (result.value) q.result = result.value;
    return q;
  };
  const load = async () => {
    const q = query();
    csv.href = apiUrl('/audit', { ...q, format: 'csv' });
    const d = await api('GET', '/audit', { query: { ...q, limit: PAGE, offset } });
    const rows = d.results.map((r) => h('tr', { 'data-audit': String(r.id) },
      h('td', {}, fmtTime(r.at)), h('td', {}, r.actor || '-'), h('td', {}, r.actor_kind), h('td', {}, r.ip || '-'),
      h('td', { class: 'mono' }, `${r.method} ${r.path}`), h('td', {}, r.code ? `${r.status} (code ${r.code})` : String(r.status))));
    const prev = h('button', { type: 'button', class: 'btn small', disabled: offset === 0 }, 'Newer');
    const next = h('button', { type: 'button', class: 'btn small', disabled: offset + PAGE >= d.total }, 'Older');
    prev.addEventListener('click', () => { offset = Math.max(0, offset - PAGE); load(); });
    next.addEventListener('click', () => { offset += PAGE; load(); });
    fill(body, h('p', { id: 'audit-total' }, `${d.total} entr${d.total === 1 ? 'y' : 'ies'}`),
      h('table', { class: 'table', id: 'audit-table' }, h('caption', { class: 'sr-only' }, 'Audit log'),
        h('thead', {}, h('tr', {}, ['When', 'User', 'Through', 'Address', 'Change', 'Result'].map((t) => h('th', { scope: 'col' }, t)))),
        h('tbody', {}, rows)),
      h('div', { class: 'actions' }, prev, next));
  };
  form.addEventListener('submit', (e) => { e.preventDefault(); offset = 0; load(); });
  await load();
}
