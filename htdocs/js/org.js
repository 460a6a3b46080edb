// Account organization (issue 6): folders, tags, managed CSRs. Every call that
// depends on those endpoints goes through here, so the shapes live in one place.
import { api, ApiError } from './api.js';
import { cached, dropCache } from './session.js';

const missing = (e) => e instanceof ApiError && e.missing;

// ---- folders ----

/**
 * The folder tree (GET /folders: types.js Folder, with children) as
 * {available, list, byId, roots, defaultId}.
 */
export function normalizeFolders(d) {
  const top = d.results;
  const flat = [];
  const walk = (nodes, parent) => {
    for (const n of nodes) {
      flat.push({ ...n, parent_id: n.parent_id ?? parent ?? null });
      if (Array.isArray(n.children) && n.children.length && typeof n.children[0] === 'object') walk(n.children, n.id);
    }
  };
  walk(top, null);
  const byId = new Map();
  for (const f of flat) {
    byId.set(String(f.id), {
      id: f.id,
      name: f.name,
      parent_id: f.parent_id,
      role: f.role,
      isDefault: f.is_default,
      path: f.path,
      count: f.orders,
      total: f.orders_total,
      children: [],
    });
  }
  const roots = [];
  for (const f of byId.values()) {
    const parent = f.parent_id !== null && f.parent_id !== undefined ? byId.get(String(f.parent_id)) : null;
    if (parent) parent.children.push(f);
    else roots.push(f);
  }
  const sortRec = (list) => { list.sort((a, b) => String(a.name).localeCompare(String(b.name))); list.forEach((x) => sortRec(x.children)); };
  sortRec(roots);
  const def = [...byId.values()].find((f) => f.isDefault);
  return { available: true, byId, roots, list: [...byId.values()], defaultId: def ? def.id : (d && d.default_folder_id) };
}

export async function loadFolders({ fresh } = {}) {
  if (fresh) dropCache('folders');
  try {
    return await cached('folders', async () => normalizeFolders(await api('GET', '/folders')));
  } catch (e) {
    if (missing(e)) return { available: false, byId: new Map(), roots: [], list: [], defaultId: null };
    throw e;
  }
}

/** "parent / child" path of a folder for selects. */
export function folderPath(tree, id) {
  const parts = [];
  let f = tree.byId.get(String(id));
  let guard = 0;
  while (f && guard < 50) {
    parts.unshift(f.name);
    f = f.parent_id !== null && f.parent_id !== undefined ? tree.byId.get(String(f.parent_id)) : null;
    guard += 1;
  }
  return parts.join(' / ');
}

/** [[id, path]] in tree order. */
export function folderOptions(tree) {
  const out = [];
  const walk = (list, depth) => list.forEach((f) => {
    out.push([f.id, `${'\u2003'.repeat(depth)}${f.name}${f.isDefault ? ' (default)' : ''}`]);
    walk(f.children, depth + 1);
  });
  walk(tree.roots, 0);
  return out;
}

export function createFolder(name, parentId) {
  dropCache('folders');
  return api('POST', '/folders', { body: { name, ...(parentId ? { parent_id: Number(parentId) } : {}) } });
}

export function updateFolder(id, fields) {
  dropCache('folders');
  return api('PUT', `/folders/${encodeURIComponent(id)}`, { body: fields });
}

export function deleteFolder(id) {
  dropCache('folders');
  return api('DELETE', `/folders/${encodeURIComponent(id)}`);
}

export function moveOrders(folderId, orderIds) {
  dropCache('folders');
  return api('POST', `/folders/${encodeURIComponent(folderId)}/orders`, { body: { order_ids: orderIds.map(Number) } });
}

export function autoArrange() {
  dropCache('folders');
  return api('POST', '/folders/auto-arrange', { body: {} });
}

/** The folder id of an order object, whatever the field is called. */
export function orderFolderId(o) {
  if (o.folder_id !== undefined) return o.folder_id;
  if (o.folder && typeof o.folder === 'object') return o.folder.id;
  return null;
}

// ---- tags ----

export function normalizeTags(d) {
  // GET /tags: results [{id, name, orders, certificates, uses, created_at}]
  return d.results.map((t) => ({ ...t, count: t.uses }));
}

export async function loadTags({ fresh } = {}) {
  if (fresh) dropCache('tags');
  try {
    const list = await cached('tags', async () => normalizeTags(await api('GET', '/tags', { query: { limit: 1000 } })));
    return { available: true, list };
  } catch (e) {
    if (missing(e)) return { available: false, list: [] };
    throw e;
  }
}

/** The tag names of an order or certificate object. */
export function tagNames(o) {
  const t = o && o.tags;
  if (!Array.isArray(t)) return [];
  return t.map((x) => (typeof x === 'string' ? x : x.name));
}

/** The tags on an order ({id, name}), or on one of its certificates (by serial). */
export async function objectTags(orderId, serial) {
  const p = serial ? `/ssl/orders/${orderId}/certificates/${encodeURIComponent(serial)}/tags` : `/ssl/orders/${orderId}/tags`;
  const d = await api('GET', p);
  return d.results || [];
}

export function addTag(orderId, serial, name) {
  dropCache('tags');
  const p = serial ? `/ssl/orders/${orderId}/certificates/${encodeURIComponent(serial)}/tags` : `/ssl/orders/${orderId}/tags`;
  return api('POST', p, { body: { name } });
}

export function removeTag(orderId, serial, tagId) {
  dropCache('tags');
  const p = serial ? `/ssl/orders/${orderId}/certificates/${encodeURIComponent(serial)}/tags` : `/ssl/orders/${orderId}/tags`;
  return api('DELETE', `${p}/${encodeURIComponent(tagId)}`);
}

// ---- managed CSRs (CSR Manager) ----

export async function loadManagedCsrs() {
  try {
    const d = await api('GET', '/ssl/managed-csrs', { query: { limit: 1000 } });
    return { available: true, list: d.results || [] };
  } catch (e) {
    if (missing(e)) return { available: false, list: [] };
    throw e;
  }
}

export function getManagedCsr(id) {
  return api('GET', `/ssl/managed-csrs/${encodeURIComponent(id)}`);
}

export function saveManagedCsr(csr, friendlyName) {
  return api('POST', '/ssl/managed-csrs', { body: { csr, ...(friendlyName ? { friendly_name: friendlyName } : {}) } });
}

export function renameManagedCsr(id, friendlyName) {
  return api('PUT', `/ssl/managed-csrs/${encodeURIComponent(id)}`, { body: { friendly_name: friendlyName } });
}

export function deleteManagedCsr(id) {
  return api('DELETE', `/ssl/managed-csrs/${encodeURIComponent(id)}`);
}

export function csrLabel(c) {
  const cn = c.common_name || (c.subject && c.subject.common_name) || '';
  return c.friendly_name ? `${c.friendly_name} (${cn})` : cn || `CSR ${c.id}`;
}
