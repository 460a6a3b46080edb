// Folders Management (/<team>/folders) and the Folders Explorer
// (/<team>/folders/explorer): the tree with counts, create/rename/move/delete
// folders, set the default folder, find orders and move them between folders,
// Auto Arrange behind a warning, and the Other menu's link back to Orders.
import { h, fill, icon, uid, add } from '../dom.js';
import { api } from '../api.js';
import { notice, errorBox, field, busy, pageHeader, unavailable, dialog, confirmDialog, announce, flash, select, loading } from '../ui.js';
import { day } from '../format.js';
import { statusBadge, orderTitle } from '../orders-common.js';
import { loadFolders, folderOptions, folderPath, createFolder, updateFolder, deleteFolder, moveOrders, autoArrange } from '../org.js';
import { canEdit, state } from '../session.js';

const isAdmin = () => ['owner', 'admin'].includes(state.session.team.role);

/** The folder tree (role=tree): arrow keys move, Enter/Space select. */
function treeView(tree, selectedId, onSelect, label) {
  const root = h('div', { class: 'tree', role: 'tree', 'aria-label': label });
  const items = [];
  const build = (list, level) => h('ul', { role: level === 1 ? 'none' : 'group' }, list.map((f) => {
    const selected = String(f.id) === String(selectedId);
    const item = h('li', { role: 'treeitem', 'aria-selected': String(selected), 'aria-level': level, tabindex: selected ? '0' : '-1',
      'data-folder': f.id, 'aria-expanded': f.children.length ? 'true' : null },
    h('span', { class: 'row' }, icon(selected ? 'folder-open' : 'folder'), h('span', { class: 'label' }, f.name),
      h('span', { class: 'count', title: `${f.count} orders here, ${f.total} with the subfolders` }, `(${f.count}${f.total !== f.count ? ` / ${f.total}` : ''})`),
      f.isDefault ? h('span', { class: 'default-mark' }, 'default') : null),
    f.children.length ? build(f.children, level + 1) : null);
    items.push(item);
    return item;
  }));
  root.append(build(tree.roots, 1));
  if (!items.some((i) => i.tabIndex === 0) && items[0]) items[0].tabIndex = 0;
  root.addEventListener('click', (e) => {
    const it = e.target.closest('[role=treeitem]');
    if (it) { e.stopPropagation(); onSelect(it.dataset.folder); }
  });
  root.addEventListener('keydown', (e) => {
    const cur = e.target.closest('[role=treeitem]');
    if (!cur) return;
    const i = items.indexOf(cur);
    let next = null;
    if (e.key === 'ArrowDown') next = items[i + 1];
    else if (e.key === 'ArrowUp') next = items[i - 1];
    else if (e.key === 'Home') next = items[0];
    else if (e.key === 'End') next = items[items.length - 1];
    else if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); onSelect(cur.dataset.folder); return; }
    if (next) {
      e.preventDefault();
      cur.tabIndex = -1;
      next.tabIndex = 0;
      next.focus();
    }
  });
  return root;
}

function folderOrders(ctx, orders, { selectable, onToggle } = {}) {
  if (!orders.length) return h('p', { class: 'empty' }, 'No orders here.');
  const tbody = h('tbody');
  for (const o of orders) {
    const cb = selectable ? h('input', { type: 'checkbox', id: `pick-${o.id}`, value: o.id, 'aria-label': `Select order ${o.id} ${o.common_name || ''}` }) : null;
    if (cb) cb.addEventListener('change', () => onToggle(o.id, cb.checked));
    tbody.append(h('tr', { 'data-order-id': o.id },
      selectable ? h('td', {}, cb) : null,
      h('td', {}, icon('file'), ' ', orderTitle(o), h('div', { class: 'muted' }, `Order #${o.id} · ${o.product_name}`)),
      h('td', {}, statusBadge(o.status)),
      h('td', {}, o.folder_name || ''),
      h('td', {}, day(o.expiration_date)),
      h('td', {}, h('a', { href: ctx.path(`/orders/${o.id}`) }, 'details'))));
  }
  return h('div', { class: 'table-wrap' }, h('table', { class: 'folder-orders' },
    h('thead', {}, h('tr', {}, selectable ? h('th', { scope: 'col' }, h('span', { class: 'sr-only' }, 'Select')) : null,
      ['Order', 'Status', 'Folder', 'Expires', ''].map((t) => h('th', { scope: 'col' }, t)))), tbody));
}

// ---- Folders Management ----

export async function render(ctx) {
  const { view, path } = ctx;
  ctx.setTitle('Folders Management');
  const tree = await loadFolders({ fresh: true });
  if (!ctx.alive()) return;
  view.append(pageHeader('Folders Management', 'Orders are kept in folders like files in directories; each order is in exactly one folder. ',
    'The Orders page shows the default folder.'));
  if (!tree.available) { view.append(unavailable('Folders')); return; }
  let selected = ctx.query.get('folder') || String(tree.defaultId || (tree.list[0] && tree.list[0].id));
  const picked = new Set();
  const right = h('div', { class: 'folder-pane', 'aria-live': 'polite' });
  const treeHolder = h('div');
  const moveErr = errorBox();
  const target = select(folderOptions(tree), { id: 'move-target' });
  const moveBtn = h('button', { type: 'button', class: 'btn primary', id: 'move-selected', disabled: true }, 'Move selected orders');
  const count = h('span', { class: 'muted', id: 'picked-count' }, 'No order selected.');
  const findInput = h('input', { type: 'search', id: 'find-orders', placeholder: 'Domain or order number' });
  const findBtn = h('button', { type: 'submit', class: 'btn' }, 'Find orders');
  const findForm = h('form', { class: 'inline-fields', role: 'search', 'aria-label': 'Search all folders' },
    field('Find orders in every folder', findInput), findBtn);

  const onToggle = (id, on) => {
    if (on) picked.add(id); else picked.delete(id);
    count.textContent = picked.size ? `${picked.size} order${picked.size === 1 ? '' : 's'} selected.` : 'No order selected.';
    moveBtn.disabled = !picked.size || !canEdit();
  };
  const showOrders = async (title, query) => {
    fill(right, loading('Loading the orders'));
    picked.clear();
    onToggle(0, false);
    const d = await api('GET', '/ssl/orders', { query: { ...query, limit: 100 } });
    fill(right, h('h2', { id: 'pane-title' }, title), h('p', { class: 'summary' }, `${d.total} order${d.total === 1 ? '' : 's'}${d.total > 100 ? ' (the first 100 shown)' : ''}`),
      folderOrders(ctx, d.results || [], { selectable: canEdit(), onToggle }));
  };
  const select_ = async (id) => {
    selected = String(id);
    fill(treeHolder, treeView(tree, selected, select_, 'Folders'));
    const f = tree.byId.get(selected);
    await showOrders(`Folder ${folderPath(tree, selected)}`, { folder_id: selected });
    const it = treeHolder.querySelector(`[data-folder="${selected}"]`);
    if (it && document.activeElement && document.activeElement.closest('.tree')) it.focus();
    void f;
  };
  findForm.addEventListener('submit', (e) => {
    e.preventDefault();
    const q = findInput.value.trim();
    if (!q) { findInput.focus(); return; }
    showOrders(`Orders matching "${q}"`, { search: q });
  });
  moveBtn.addEventListener('click', () => busy(moveBtn, async () => {
    moveErr.clear();
    try {
      const n = picked.size;
      await moveOrders(target.value, [...picked]);
      announce(`${n} order${n === 1 ? '' : 's'} moved to ${folderPath(tree, target.value)}`);
      flash(`${n} order${n === 1 ? '' : 's'} moved to ${folderPath(tree, target.value)}.`);
      ctx.navigate(`${path('/folders')}?folder=${encodeURIComponent(target.value)}`, { replace: true });
    } catch (e) { moveErr.show(e); }
  }));
  view.append(h('div', { class: 'toolbar' },
    h('a', { class: 'btn primary', href: path('/folders/explorer'), id: 'explorer-link' }, 'EXPLORER'),
    h('a', { class: 'btn', href: path('/orders') }, 'Orders')),
  h('div', { class: 'folder-layout' },
    h('div', {}, treeHolder,
      h('div', { class: 'card folder-actions', 'aria-label': 'Find and move orders', role: 'group' },
        findForm,
        canEdit() ? [field('Move to', target), h('div', { class: 'actions' }, moveBtn), count, moveErr] : null)),
    right));
  await select_(selected);
}

// ---- Folders Explorer ----

export async function renderExplorer(ctx) {
  const { view, path } = ctx;
  ctx.setTitle('Folders Explorer');
  const tree = await loadFolders({ fresh: true });
  if (!ctx.alive()) return;
  view.append(pageHeader('Folders Explorer', 'Create, rename, move and delete folders, choose the default folder. ',
    h('a', { href: path('/folders') }, 'Folders Management')));
  if (!tree.available) { view.append(unavailable('Folders')); return; }
  const admin = isAdmin();
  let selected = ctx.query.get('folder') || String(tree.defaultId || (tree.list[0] && tree.list[0].id));
  const reload = (id, msg) => {
    if (msg) flash(msg);
    return ctx.navigate(`${path('/folders/explorer')}${id ? `?folder=${encodeURIComponent(id)}` : ''}`, { replace: true });
  };
  const err = errorBox();
  const current = () => tree.byId.get(String(selected));

  const nameDialog = (title, initial, label = 'Folder name') => {
    const input = h('input', { type: 'text', id: uid('fname'), value: initial || '', maxlength: 64, autocomplete: 'off' });
    const f = field(label, input, { hint: 'Letters, digits, spaces and underscores' });
    return { f, input, open: (submit) => dialog(title, (close) => {
      const form = h('form', {}, f, h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'btn primary' }, 'Save'),
        h('button', { type: 'button', class: 'btn', onClick: () => close(null) }, 'Cancel')));
      form.addEventListener('submit', (e) => {
        e.preventDefault();
        busy(form.querySelector('[type=submit]'), async () => {
          try { close(await submit(input.value.trim())); } catch (e2) { f.setError(e2); input.focus(); }
        });
      });
      return form;
    }) };
  };
  const btn = (label, onClick, opts = {}) => {
    const b = h('button', { type: 'button', class: opts.cls || 'btn', disabled: !admin || opts.disabled, id: opts.id }, label);
    b.addEventListener('click', () => { err.clear(); onClick(b); });
    return b;
  };
  const newFolder = (sub) => async () => {
    const parent = sub ? selected : null;
    const d = nameDialog(sub ? `New subfolder of ${current().name}` : 'New folder');
    const r = await d.open((name) => createFolder(name, parent));
    if (r) reload(r.id, `The folder was created.`);
  };
  const rename = async () => {
    const f = current();
    const d = nameDialog(`Rename ${f.name}`, f.name, 'New name');
    const r = await d.open((name) => updateFolder(f.id, { name }));
    if (r) reload(f.id, 'The folder was renamed.');
  };
  const move = async () => {
    const f = current();
    // not into itself or its own subtree
    const banned = new Set();
    const walk = (x) => { banned.add(String(x.id)); x.children.forEach(walk); };
    walk(f);
    const opts = [['', '(top level)'], ...folderOptions(tree).filter(([id]) => !banned.has(String(id)))];
    const sel = select(opts, { id: 'move-folder-to', value: f.parent_id || '' });
    const fSel = field('Move into', sel);
    const r = await dialog(`Move ${f.name}`, (close) => {
      const form = h('form', {}, fSel, h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'btn primary' }, 'Move'),
        h('button', { type: 'button', class: 'btn', onClick: () => close(null) }, 'Cancel')));
      form.addEventListener('submit', (e) => {
        e.preventDefault();
        busy(form.querySelector('[type=submit]'), async () => {
          try { close(await updateFolder(f.id, { parent_id: sel.value ? Number(sel.value) : null })); } catch (e2) { fSel.setError(e2); }
        });
      });
      return form;
    });
    if (r) reload(f.id, 'The folder was moved.');
  };
  const del = async (b) => {
    const f = current();
    const subs = f.children.length;
    const ok = await confirmDialog(`Delete ${f.name}?`, [
      `The folder${subs ? ` and its subfolders` : ''} ${subs ? 'are' : 'is'} deleted. Its ${f.total} order${f.total === 1 ? '' : 's'} go${f.total === 1 ? 'es' : ''} to the default folder.`,
      f.isDefault ? 'It is the default folder: a new "default" folder takes its place.' : ''].filter(Boolean), 'Delete', { danger: true });
    if (!ok) return;
    await busy(b, async () => {
      try { const d = await deleteFolder(f.id); reload(d.default_folder_id, `The folder was deleted; ${d.moved_orders} order${d.moved_orders === 1 ? '' : 's'} moved to the default folder.`); } catch (e) { err.show(e); }
    });
  };
  const setDefault = (b) => busy(b, async () => {
    try { await updateFolder(selected, { is_default: true }); reload(selected, `${current().name} is now the default folder: the Orders page shows it.`); } catch (e) { err.show(e); }
  });
  const arrange = async () => {
    const ok = await confirmDialog('Auto Arrange', [
      h('p', { class: 'warning-key', id: 'auto-arrange-warning' }, h('strong', {}, 'WARNING: '),
        'Auto Arrange will organize certificates into folders according to default settings. ',
        'Current certificate and folder organization (including any custom configuration) will be overwritten.'),
      'Expired orders go to "expired", revoked and cancelled ones to "revoked", paid orders not issued yet to "default", all others to "active". Missing original folders are created again, and "default" becomes the default folder again (the Orders page shows it).'],
    'Auto Arrange', { danger: true });
    if (!ok) return;
    try {
      const d = await autoArrange();
      reload(d.default_folder_id || selected, `Auto Arrange put ${d.arranged} order${d.arranged === 1 ? '' : 's'} in place${d.created_folders.length ? ` and created ${d.created_folders.join(', ')}` : ''}. `
        + '"default" is the default folder again: paid and pending orders are there, issued ones in "active", expired ones in "expired", cancelled ones in "revoked".');
    } catch (e) { err.show(e); }
  };

  // the Other menu (a menu button)
  const menuId = 'other-menu';
  const otherBtn = h('button', { type: 'button', class: 'btn', 'aria-haspopup': 'true', 'aria-expanded': 'false', 'aria-controls': menuId, id: 'other-button' }, 'Other ▾');
  const menu = h('ul', { id: menuId, role: 'menu', hidden: true, 'aria-labelledby': 'other-button' },
    h('li', { role: 'none' }, h('button', { type: 'button', role: 'menuitem', disabled: !admin, onClick: () => { closeMenu(); arrange(); } }, 'Auto Arrange')),
    h('li', { role: 'none' }, h('a', { role: 'menuitem', href: path('/orders') }, 'Orders')));
  const items = () => [...menu.querySelectorAll('[role=menuitem]')];
  const closeMenu = (focus) => { menu.hidden = true; otherBtn.setAttribute('aria-expanded', 'false'); if (focus) otherBtn.focus(); };
  otherBtn.addEventListener('click', () => {
    const open = menu.hidden;
    menu.hidden = !open;
    otherBtn.setAttribute('aria-expanded', String(open));
    if (open) items()[0].focus();
  });
  menu.addEventListener('keydown', (e) => {
    const list = items();
    const i = list.indexOf(document.activeElement);
    if (e.key === 'Escape') { e.preventDefault(); closeMenu(true); } else if (e.key === 'ArrowDown') { e.preventDefault(); list[(i + 1) % list.length].focus(); } else if (e.key === 'ArrowUp') { e.preventDefault(); list[(i - 1 + list.length) % list.length].focus(); }
  });
  const outside = (e) => {
    if (!menu.isConnected) { document.removeEventListener('click', outside); return; }
    if (!e.target.closest('.menu')) closeMenu();
  };
  document.addEventListener('click', outside);

  const toolbar = h('div', { class: 'toolbar', role: 'toolbar', 'aria-label': 'Folder actions' },
    btn('New folder', newFolder(false), { id: 'new-folder' }), btn('New subfolder', newFolder(true), { id: 'new-subfolder' }),
    btn('Rename', rename, { id: 'rename-folder' }), btn('Move', move, { id: 'move-folder' }),
    btn('Delete', del, { id: 'delete-folder', cls: 'btn danger' }), btn('Set as default', setDefault, { id: 'set-default' }),
    h('div', { class: 'menu' }, otherBtn, menu));
  const right = h('div', { class: 'folder-pane', 'aria-live': 'polite' });
  const treeHolder = h('div');
  const select_ = async (id) => {
    selected = String(id);
    fill(treeHolder, treeView(tree, selected, select_, 'Folders'));
    const f = current();
    toolbar.querySelector('#set-default').disabled = !admin || f.isDefault;
    fill(right, loading('Loading the folder'));
    const d = await api('GET', '/ssl/orders', { query: { folder_id: selected, limit: 100 } });
    fill(right, h('h2', { id: 'pane-title' }, `${folderPath(tree, selected)}${f.isDefault ? ' (default folder)' : ''}`),
      h('p', { class: 'summary' }, `${f.count} order${f.count === 1 ? '' : 's'} in this folder, ${f.total} with its subfolders.`),
      folderOrders(ctx, d.results || []));
    const it = treeHolder.querySelector(`[data-folder="${selected}"]`);
    if (it && document.activeElement && document.activeElement.closest('.tree')) it.focus();
  };
  add(view, [admin ? null : notice('info', 'Only owners and admins of the team change folders.'), toolbar, err,
    h('div', { class: 'folder-layout' }, treeHolder, right)]);
  await select_(selected);
}
