// The Orders page: the default folder's orders, search, filters, page size,
// pagination, CSV export, Quick Links, the details pop-over, actions per status.
import { h, uid, icon, fill } from '../dom.js';
import { api, apiUrl, errorText } from '../api.js';
import { notice, errorBox, field, select, dialog, announce, busy, pageHeader, loading } from '../ui.js';
import { STATUSES, day, statusLabel } from '../format.js';
import { loadProducts, actionsFor, statusBadge, detailPairs, orderTitle } from '../orders-common.js';
import { loadFolders, loadTags, folderOptions, folderPath, orderFolderId, moveOrders } from '../org.js';
import { facts } from '../ui.js';

export const PAGE_SIZES = [5, 10, 20, 50, 100];
const FILTER_KEYS = ['organization_unit', 'status', 'tag', 'product_id', 'order_date_from', 'order_date_to',
  'expiration_date_from', 'expiration_date_to', 'folder'];
const SORTABLE = { subject: 'common_name', status: 'status', order_date: 'order_date', expiration_date: 'expiration_date' };

function readState(q) {
  const per = Number(q.get('per_page'));
  return {
    search: q.get('search') || '',
    organization_unit: q.get('organization_unit') || '',
    status: q.getAll('status'),
    tag: q.getAll('tag'),
    product_id: q.get('product_id') || '',
    order_date_from: q.get('order_date_from') || '',
    order_date_to: q.get('order_date_to') || '',
    expiration_date_from: q.get('expiration_date_from') || '',
    expiration_date_to: q.get('expiration_date_to') || '',
    folder: q.get('folder') || '',
    sort: q.get('sort') || '',
    page: Math.max(1, Number(q.get('page')) || 1),
    per_page: PAGE_SIZES.includes(per) ? per : 10,
  };
}

function toQuery(st) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(st)) {
    if (Array.isArray(v)) v.forEach((x) => q.append(k, x));
    else if (v !== '' && v !== null && v !== undefined && !(k === 'page' && v === 1) && !(k === 'per_page' && v === 10)) q.set(k, String(v));
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}

/** The API query for a page state (folder: the default folder unless chosen). */
function apiQuery(st, folderId) {
  const q = {
    search: st.search,
    organization_unit: st.organization_unit,
    status: st.status,
    tag: st.tag.length ? st.tag : undefined,
    product_id: st.product_id,
    order_date_from: st.order_date_from,
    order_date_to: st.order_date_to,
    expiration_date_from: st.expiration_date_from,
    expiration_date_to: st.expiration_date_to,
    folder_id: folderId || undefined,
  };
  if (st.sort) {
    const [k, dir] = st.sort.split(':');
    if (SORTABLE[k]) q[`order_by.${SORTABLE[k]}`] = dir === 'asc' ? 'asc' : 'desc';
  }
  return q;
}

export async function render(ctx) {
  const { view, path } = ctx;
  ctx.setTitle('Orders');
  const st = readState(ctx.query);
  const go = (changes, opts) => ctx.navigate(`${path('/orders')}${toQuery({ ...st, ...changes })}`, opts);

  const [products, folders, tags] = await Promise.all([
    loadProducts().catch(() => []),
    loadFolders().catch(() => ({ available: false, byId: new Map(), roots: [], list: [] })),
    loadTags().catch(() => ({ available: false, list: [] })),
  ]);
  if (!ctx.alive()) return;

  // which folder: the one chosen in the filters, "all", or the team's default folder
  let folderId = null;
  let folderNote = null;
  if (folders.available) {
    if (st.folder === 'all') folderId = null;
    else if (st.folder && folders.byId.has(st.folder)) folderId = st.folder;
    else folderId = folders.defaultId;
    folderNote = folderId
      ? ['Showing the folder ', h('strong', { id: 'current-folder' }, folderPath(folders, folderId)),
        folderId === folders.defaultId ? ' (the default folder)' : '', '. ']
      : ['Showing ', h('strong', { id: 'current-folder' }, 'all folders'), '. '];
  }

  // ---- header, search, filters ----
  const head = pageHeader('Orders', ...(folderNote || []),
    folders.available ? h('a', { href: path('/folders') }, 'Folders Management') : null);

  const searchInput = h('input', { type: 'search', id: 'order-search', name: 'search', value: st.search,
    placeholder: 'Domain, order number or any text', autocomplete: 'off' });
  const filtersId = 'filters-panel';
  const filtersBtn = h('button', { type: 'button', class: 'btn', 'aria-expanded': 'false', 'aria-controls': filtersId }, 'Filters');
  const searchForm = h('form', { role: 'search', class: 'search-bar', 'aria-label': 'Search orders' },
    h('label', { for: 'order-search', class: 'sr-only' }, 'Search orders'),
    searchInput, h('button', { type: 'submit', class: 'btn primary' }, 'Search'), filtersBtn);
  searchForm.addEventListener('submit', (e) => {
    e.preventDefault();
    go({ search: searchInput.value.trim(), page: 1 });
  });

  // one input per filter, each in the format it needs
  const fOu = h('input', { type: 'text', id: 'f-ou', value: st.organization_unit });
  const fStatus = select(STATUSES.map(([c, l]) => [c, `${l} (${c})`]), { id: 'f-status', multiple: true, size: 6, value: st.status });
  const fTag = select(tags.list.map((t) => [t.name, `${t.name}${t.count ? ` (${t.count})` : ''}`]), { id: 'f-tag', multiple: true, size: 5, value: st.tag });
  if (!tags.available) fTag.disabled = true;
  const fProduct = select([['', 'Any product'], ...products.map((p) => [p.id, p.name])], { id: 'f-product', value: st.product_id });
  const dateRange = (idFrom, idTo, vFrom, vTo, label) => {
    const a = h('input', { type: 'date', id: idFrom, value: vFrom, 'aria-label': `${label} from` });
    const b = h('input', { type: 'date', id: idTo, value: vTo, 'aria-label': `${label} to` });
    return { a, b, el: h('div', { class: 'field', role: 'group', 'aria-labelledby': `${idFrom}-lbl` },
      h('span', { class: 'label', id: `${idFrom}-lbl` }, label),
      h('div', { class: 'range' }, a, h('span', { 'aria-hidden': 'true' }, '–'), b)) };
  };
  const fOrder = dateRange('f-order-from', 'f-order-to', st.order_date_from, st.order_date_to, 'Order date');
  const fExpiry = dateRange('f-exp-from', 'f-exp-to', st.expiration_date_from, st.expiration_date_to, 'Expiration date');
  const fFolder = select([['', 'The default folder'], ['all', 'All folders'], ...folderOptions(folders)], { id: 'f-folder', value: st.folder });
  if (!folders.available) fFolder.disabled = true;
  const filtersErr = errorBox();
  const panel = h('form', { id: filtersId, class: 'filters', hidden: true, 'aria-label': 'Filters' },
    h('h2', { class: 'sr-only' }, 'Filters'),
    h('div', { class: 'grid' },
      field('Organization unit', fOu, { hint: 'Text found in the organization unit' }),
      field('Status', fStatus, { hint: 'Ctrl+Click (Cmd+Click on a Mac) selects several' }),
      field('Tags', fTag, { hint: tags.available ? 'Ctrl+Click selects several' : 'Tags are not available on this server yet' }),
      field('Product', fProduct),
      fOrder.el,
      fExpiry.el,
      field('Folder', fFolder, { hint: folders.available ? '' : 'Folders are not available on this server yet' })),
    filtersErr,
    h('div', { class: 'actions' },
      h('button', { type: 'submit', class: 'btn primary' }, 'Search'),
      h('button', { type: 'button', class: 'btn', 'data-action': 'cancel' }, 'Cancel'),
      h('button', { type: 'button', class: 'btn', 'data-action': 'reset' }, 'Clear all filters')));
  const openPanel = (open) => {
    panel.hidden = !open;
    filtersBtn.setAttribute('aria-expanded', String(open));
    if (open) fOu.focus();
  };
  filtersBtn.addEventListener('click', () => openPanel(panel.hidden));
  panel.addEventListener('keydown', (e) => { if (e.key === 'Escape') { openPanel(false); filtersBtn.focus(); } });
  panel.querySelector('[data-action=cancel]').addEventListener('click', () => {
    panel.reset();
    openPanel(false);
    filtersBtn.focus();
  });
  panel.querySelector('[data-action=reset]').addEventListener('click', () => {
    go({ ...Object.fromEntries(FILTER_KEYS.map((k) => [k, Array.isArray(st[k]) ? [] : ''])), page: 1 });
  });
  panel.addEventListener('submit', (e) => {
    e.preventDefault();
    const sel = (s) => [...s.selectedOptions].map((o) => o.value);
    const ranges = [[fOrder.a, fOrder.b], [fExpiry.a, fExpiry.b]];
    for (const [a, b] of ranges) {
      if (a.value && b.value && a.value > b.value) {
        filtersErr.show(`The "${a.getAttribute('aria-label').replace(/ from$/, '')}" range ends before it starts.`);
        a.focus();
        return;
      }
    }
    go({
      search: searchInput.value.trim(),
      organization_unit: fOu.value.trim(),
      status: sel(fStatus),
      tag: sel(fTag),
      product_id: fProduct.value,
      order_date_from: fOrder.a.value,
      order_date_to: fOrder.b.value,
      expiration_date_from: fExpiry.a.value,
      expiration_date_to: fExpiry.b.value,
      folder: fFolder.value,
      page: 1,
    });
  });

  // the filters in force, each removable
  const chips = [];
  const chip = (label, changes) => chips.push(h('span', { class: 'chip' }, label,
    h('button', { type: 'button', 'aria-label': `Remove the filter ${label}`, onClick: () => go({ ...changes, page: 1 }) }, '×')));
  if (st.search) chip(`Search: ${st.search}`, { search: '' });
  if (st.organization_unit) chip(`Organization unit: ${st.organization_unit}`, { organization_unit: '' });
  st.status.forEach((s) => chip(`Status: ${statusLabel(s)}`, { status: st.status.filter((x) => x !== s) }));
  st.tag.forEach((t) => chip(`Tag: ${t}`, { tag: st.tag.filter((x) => x !== t) }));
  if (st.product_id) {
    const p = products.find((x) => String(x.id) === st.product_id);
    chip(`Product: ${p ? p.name : st.product_id}`, { product_id: '' });
  }
  if (st.order_date_from || st.order_date_to) chip(`Ordered ${st.order_date_from || '…'} – ${st.order_date_to || '…'}`, { order_date_from: '', order_date_to: '' });
  if (st.expiration_date_from || st.expiration_date_to) chip(`Expires ${st.expiration_date_from || '…'} – ${st.expiration_date_to || '…'}`, { expiration_date_from: '', expiration_date_to: '' });
  if (st.folder && folders.available) chip(`Folder: ${st.folder === 'all' ? 'all folders' : folderPath(folders, st.folder)}`, { folder: '' });
  const activeFilters = chips.length ? h('div', { class: 'active-filters', 'aria-label': 'Filters in use' }, 'Filters in use: ', chips) : null;

  // ---- the list ----
  const listArea = h('div', { class: 'list-area' }, loading('Loading orders'));
  const quick = quickLinks(ctx, products, tags);
  view.append(head, h('div', { class: 'with-aside' },
    h('div', { class: 'primary' }, searchForm, panel, activeFilters, listArea), quick));

  const query = apiQuery(st, folderId);
  let data;
  try {
    data = await api('GET', '/ssl/orders', { query: { ...query, limit: st.per_page, offset: (st.page - 1) * st.per_page } });
  } catch (e) {
    fill(listArea, notice('error', `The orders could not be loaded. ${errorText(e)}`));
    return;
  }
  if (!ctx.alive()) return;
  const total = Number(data.total ?? data.results.length);
  const pages = Math.max(1, Math.ceil(total / st.per_page));
  if (st.page > pages && total > 0) {
    go({ page: pages }, { replace: true });
    return;
  }
  const rows = data.results || [];
  const from = total ? (st.page - 1) * st.per_page + 1 : 0;
  const to = (st.page - 1) * st.per_page + rows.length;
  const summary = h('p', { class: 'summary', id: 'orders-summary', role: 'status' },
    total ? `Showing ${from}–${to} of ${total} order${total === 1 ? '' : 's'}` : 'No orders match.');

  const table = ordersTable(ctx, rows, st, folders, go, () => ctx.navigate(window.location.pathname + window.location.search, { replace: true }));

  // bottom: page size (left), pagination, CSV export
  const sizeSel = select(PAGE_SIZES.map((n) => [n, String(n)]), { id: 'page-size', value: st.per_page });
  sizeSel.addEventListener('change', () => go({ per_page: Number(sizeSel.value), page: 1 }));
  const csvHref = apiUrl('/ssl/orders', { ...query, format: 'csv' });
  const foot = h('div', { class: 'list-foot' },
    h('div', { class: 'page-size' }, h('label', { for: 'page-size' }, 'Orders per page'), sizeSel),
    pagination(st, pages, (p) => `${path('/orders')}${toQuery({ ...st, page: p })}`),
    h('a', { class: 'btn small', id: 'csv-export', href: csvHref, download: 'orders.csv' }, 'Export to CSV'));

  let empty = null;
  if (!rows.length) {
    empty = h('p', { class: 'empty', id: 'orders-empty' }, hasFilters(st)
      ? 'No order matches the search and filters. Change or clear them to see more.'
      : h('span', {}, 'There are no orders in this folder yet. ', h('a', { href: path('/shop') }, 'Buy a certificate in the Shop'), '.'));
    if (folderId && !hasFilters(st)) {
      // the team's orders are elsewhere (other folders): say so rather than "buy one"
      const all = await api('GET', '/ssl/orders', { query: { limit: 1 } }).catch(() => null);
      if (!ctx.alive()) return;
      const n = all ? Number(all.total) : 0;
      if (n > 0) {
        empty = h('p', { class: 'empty', id: 'orders-empty' }, `This folder is empty. Your ${n} order${n === 1 ? ' is' : 's are'} in other folders: `,
          h('a', { href: `${path('/orders')}?folder=all` }, 'show all folders'), ' or open ',
          h('a', { href: path('/folders') }, 'Folders Management'), '.');
      }
    }
  }
  fill(listArea, summary, rows.length ? table : empty, foot);
}

function hasFilters(st) {
  return Boolean(st.search || FILTER_KEYS.some((k) => (Array.isArray(st[k]) ? st[k].length : st[k])));
}

function pagination(st, pages, href) {
  const nav = h('nav', { class: 'pagination', 'aria-label': 'Pages' });
  const ul = h('ul');
  const item = (label, p, opts = {}) => {
    if (opts.disabled) return h('li', {}, h('span', { class: 'disabled', 'aria-disabled': 'true' }, label));
    return h('li', {}, h('a', { href: href(p), 'aria-label': opts.aria, 'aria-current': opts.current ? 'page' : null }, label));
  };
  ul.append(item('‹ Previous', st.page - 1, { disabled: st.page <= 1, aria: 'Previous page' }));
  const shown = new Set([1, pages, st.page - 1, st.page, st.page + 1, st.page - 2, st.page + 2].filter((p) => p >= 1 && p <= pages));
  let last = 0;
  for (const p of [...shown].sort((a, b) => a - b)) {
    if (p - last > 1) ul.append(h('li', {}, h('span', { 'aria-hidden': 'true' }, '…')));
    ul.append(item(String(p), p, { current: p === st.page, aria: `Page ${p}` }));
    last = p;
  }
  ul.append(item('Next ›', st.page + 1, { disabled: st.page >= pages, aria: 'Next page' }));
  nav.append(ul);
  return nav;
}

function quickLinks(ctx, products, tags) {
  const { path } = ctx;
  const popular = tags.available ? [...tags.list].sort((a, b) => b.count - a.count).slice(0, 6) : [];
  return h('aside', { class: 'quick-links', 'aria-labelledby': 'ql-title' },
    h('h2', { id: 'ql-title' }, 'Quick Links'),
    h('ul', {},
      h('li', {}, h('a', { href: path('/managed_csrs') }, 'CSR Manager')),
      h('li', {}, h('a', { href: path('/folders') }, 'Folders Management')),
      h('li', {}, h('a', { href: path('/shop') }, 'Buy a certificate (Shop)')),
      h('li', {}, h('a', { href: path('/cart') }, 'Shopping cart')),
      h('li', {}, h('a', { href: `${path('/orders')}?status=ACT&sort=expiration_date:asc` }, 'Expiring first'))),
    products.length ? [h('h2', {}, 'By product'), h('ul', {}, products.map((p) => h('li', {},
      h('a', { href: `${path('/orders')}?product_id=${p.id}&folder=all` }, p.name))))] : null,
    popular.length ? [h('h2', {}, 'Popular tags'), h('ul', { class: 'tags' }, popular.map((t) => h('li', {},
      h('a', { class: 'chip', href: `${path('/orders')}?tag=${encodeURIComponent(t.name)}&folder=all` }, t.name))))] : null);
}

function ordersTable(ctx, rows, st, folders, go, reload) {
  const { path } = ctx;
  const [sortKey, sortDir] = (st.sort || 'order_date:desc').split(':');
  const th = (key, label) => {
    if (!SORTABLE[key]) return h('th', { scope: 'col' }, label);
    const active = sortKey === key;
    const next = active && sortDir !== 'asc' ? 'asc' : 'desc';
    return h('th', { scope: 'col', 'aria-sort': active ? (sortDir === 'asc' ? 'ascending' : 'descending') : null },
      h('button', { type: 'button', class: 'linklike', onClick: () => go({ sort: `${key}:${next}`, page: 1 }),
        'aria-label': `${label}: sort ${next === 'asc' ? 'ascending' : 'descending'}` },
      label, active ? (sortDir === 'asc' ? ' ▲' : ' ▼') : ''));
  };
  const table = h('table', { class: 'orders', id: 'orders-table' },
    h('caption', { class: 'sr-only' }, 'Certificate orders'),
    h('thead', {}, h('tr', {}, th('subject', 'Subject'), th('folder', 'Folder'), th('status', 'Status'),
      th('order_date', 'Order Date'), th('expiration_date', 'Expiration Date'), th('actions', 'Action'))));
  const tbody = h('tbody');
  table.append(tbody);
  for (const o of rows) {
    const popId = uid(`order-${o.id}-details`);
    const name = h('button', { type: 'button', class: 'linklike strong order-name', 'aria-expanded': 'false', 'aria-controls': popId, 'data-order': o.id },
      orderTitle(o));
    const openLink = h('button', { type: 'button', class: 'linklike order-open', 'aria-controls': popId, 'aria-expanded': 'false' }, 'open');
    const actions = actionsFor(o, path);
    const primary = actions[0];
    const detailsLink = actions.find((a) => a.kind === 'download' || a.kind === 'details');
    const fid = orderFolderId(o);
    const folderCell = h('td', { class: 'folder-cell', 'data-label': 'Folder' });
    if (folders.available) {
      const moveBtn = h('button', { type: 'button', class: 'icon-btn move-order', 'aria-label': `Move order ${o.id} to another folder`, title: 'Move to another folder' }, icon('folder'));
      moveBtn.addEventListener('click', () => moveDialog(o, folders, reload));
      folderCell.append(moveBtn, ' ', fid !== null && fid !== undefined ? folderPath(folders, fid) : '');
    } else folderCell.append(h('span', { class: 'muted' }, '—'));
    const tr = h('tr', { 'data-order-id': o.id },
      h('td', { class: 'subject', 'data-label': 'Subject' }, name,
        h('div', { class: 'order-ref' }, `Order #${o.id} · ${o.product_name || ''}`),
        h('div', { class: 'row-links' }, openLink, detailsLink ? h('a', { href: detailsLink.href }, detailsLink.label) : null)),
      folderCell,
      h('td', { 'data-label': 'Status' }, statusBadge(o.status)),
      h('td', { 'data-label': 'Order Date' }, h('time', { datetime: day(o.order_date) }, day(o.order_date))),
      h('td', { 'data-label': 'Expiration Date' }, o.expiration_date ? h('time', { datetime: day(o.expiration_date) }, day(o.expiration_date)) : h('span', { class: 'muted' }, '—')),
      h('td', { 'data-label': 'Action' }, h('div', { class: 'action-links' },
        actions.filter((a) => a !== detailsLink || a === primary).map((a) => h('a', { href: a.href, 'data-kind': a.kind }, a.label)))));
    const popRow = h('tr', { class: 'popover-row', hidden: true },
      h('td', { colspan: 6 }, h('section', { class: 'popover', id: popId, 'aria-label': `Details of order ${o.id}`, tabindex: '-1' })));
    const pop = popRow.querySelector('section');
    const toggle = (focusFrom) => {
      const open = popRow.hidden;
      popRow.hidden = !open;
      name.setAttribute('aria-expanded', String(open));
      openLink.setAttribute('aria-expanded', String(open));
      openLink.textContent = open ? 'close' : 'open';
      if (open) {
        fill(pop, h('h3', {}, `${o.common_name || 'Order'} — order #${o.id}`),
          facts(detailPairs(o)),
          h('p', { class: 'actions' }, actions.map((a) => h('a', { class: 'btn small', href: a.href }, a.label)),
            h('button', { type: 'button', class: 'btn small', onClick: () => { toggle(); name.focus(); } }, 'close')));
        pop.focus();
        announce(`Details of order ${o.id} opened`);
      } else if (focusFrom) focusFrom.focus();
    };
    name.addEventListener('click', () => toggle(name));
    openLink.addEventListener('click', () => toggle(openLink));
    pop.addEventListener('keydown', (e) => { if (e.key === 'Escape') { toggle(); name.focus(); } });
    tbody.append(tr, popRow);
  }
  return h('div', { class: 'table-wrap' }, table);
}

async function moveDialog(order, folders, reload) {
  const err = errorBox();
  const sel = select(folderOptions(folders), { id: 'move-target', value: orderFolderId(order) });
  const result = await dialog(`Move order #${order.id}`, (close) => {
    const form = h('form', {}, h('p', {}, `Move ${order.common_name || 'this order'} to:`), field('Folder', sel), err,
      h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'btn primary' }, 'Move'),
        h('button', { type: 'button', class: 'btn', onClick: () => close(null) }, 'Cancel')));
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      const b = form.querySelector('[type=submit]');
      busy(b, async () => {
        try {
          await moveOrders(sel.value, [order.id]);
          close(sel.value);
        } catch (e2) { err.show(e2); }
      });
    });
    return form;
  });
  if (result) {
    announce(`Order ${order.id} moved to ${folderPath(folders, result)}`);
    reload();
  }
}
