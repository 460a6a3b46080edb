// What several order pages share: the catalogue, the actions an order's status
// allows, the status badge, the details shown in the pop-over and on the
// certificate information page.
import { h } from './dom.js';
import { api } from './api.js';
import { cached } from './session.js';
import { statusLabel, day, years, VALIDATION_LEVEL, SOFTWARE, daysUntil, money } from './format.js';
import { parseCertificate } from './lib/x509.js';

export function loadProducts() {
  return cached('products', async () => {
    const d = await api('GET', '/ssl/products', {
      query: { with_price: 'true', with_supported_software: 'true', with_description: 'true', limit: 0 },
    });
    return d.results || [];
  });
}

export async function productById(id) {
  const list = await loadProducts();
  return list.find((p) => String(p.id) === String(id)) || null;
}

export function loadOrder(id) {
  return api('GET', `/ssl/orders/${encodeURIComponent(id)}`);
}

export function statusBadge(status) {
  return h('span', { class: `status status-${status}`, title: status }, statusLabel(status));
}

/**
 * The name of an order in lists: its Common Name, or what it is without one. "unused"
 * is only said of a paid order waiting for its details (the status label of PAI).
 */
export function orderTitle(o) {
  if (o.common_name) return o.common_name;
  if (o.status === 'PAI') return 'unused (no details yet)';
  if (o.status === 'FAI' || o.status === 'REJ') return 'cancelled before its details were sent';
  return `order #${o.id} (no details)`;
}

export function isOrgValidated(o) {
  return o.validation_method === 'organization' || o.validation_method === 'extended';
}

/** May the order be renewed now (ACT within 30 days of expiry, or EXP)? */
export function renewable(o) {
  if (o.status === 'EXP') return true;
  if (o.status !== 'ACT') return false;
  const d = daysUntil(o.expiration_date);
  return d !== null && d <= 30;
}

/** The link from a renewed order to its renewal (bought once: no second "renew"). */
function renewedLink(o, path) {
  return { label: `renewed: order #${o.renewed_by.id}`, href: path(`/orders/${o.renewed_by.id}`), kind: 'renewal' };
}

/** The links the order's status allows: [{label, href, kind}] */
export function actionsFor(o, path) {
  const base = path(`/orders/${o.id}`);
  const out = [];
  switch (o.status) {
    case 'PAI':
      // a renewal carries its CSR already: what is left is sending it for validation
      out.push({ label: o.csr ? 'send for validation' : 'submit CSR', href: `${base}/complete`, kind: 'complete' });
      out.push({ label: 'details', href: base, kind: 'details' });
      break;
    case 'REQ':
      out.push({ label: 'validation', href: `${base}/validation`, kind: 'validation' });
      out.push({ label: isOrgValidated(o) ? 'UPLOAD DOCUMENTS' : 'documents', href: `${base}/documents`, kind: 'documents' });
      out.push({ label: 'details', href: base, kind: 'details' });
      break;
    case 'ACT':
      out.push({ label: 'download', href: base, kind: 'download' });
      out.push({ label: 'change domain(s)/rekey', href: `${base}/reprocess`, kind: 'reprocess' });
      if (o.renewed_by) out.push(renewedLink(o, path));
      else if (renewable(o)) out.push({ label: 'renew', href: `${base}/renew`, kind: 'renew' });
      out.push({ label: 'documents', href: `${base}/documents`, kind: 'documents' });
      out.push({ label: 'seal', href: `${base}/seal`, kind: 'seal' });
      break;
    case 'EXP':
      out.push(o.renewed_by ? renewedLink(o, path) : { label: 'renew', href: `${base}/renew`, kind: 'renew' });
      out.push({ label: 'details', href: base, kind: 'details' });
      break;
    default:
      out.push({ label: 'details', href: base, kind: 'details' });
  }
  return out;
}

export function softwareLabel(id) {
  const s = SOFTWARE.find(([k]) => k === id);
  return s ? s.slice(1)[0] : id;
}

/** The contacts of an order as [role, handle] */
export function contacts(o) {
  return [['Organization', o.organization_handle], ['Administrative', o.administrative_handle],
    ['Technical', o.technical_handle], ['Billing', o.billing_handle]].filter(([, v]) => v);
}

/** /<team>/orders/<id> of the team in the address bar */
function orderHref(id) {
  return `/${window.location.pathname.split('/')[1]}/orders/${id}`;
}

/** The contacts, or why there are none: a DV certificate names no contact. */
function contactsWords(o) {
  const list = contacts(o);
  if (list.length) return h('ul', { class: 'plain' }, list.map(([r, v]) => h('li', {}, `${r}: ${v}`)));
  if (!isOrgValidated(o)) return 'none (not needed for domain validation)';
  return o.status === 'PAI' ? 'none yet' : 'none';
}

export function serialOf(o) {
  if (o.serial_number) return o.serial_number;
  const c = o.certificate ? parseCertificate(o.certificate) : null;
  return c ? c.serial : '';
}

/** [label, value] pairs of the pop-over: type, validity, dates, contacts, serial. */
export function detailPairs(o) {
  const pairs = [
    ['Certificate type', o.product_name],
    ['Validation level', VALIDATION_LEVEL[o.validation_method] || o.validation_method],
    ['Validity period', o.period ? years(o.period) : ''],
    ['Status', statusLabel(o.status)],
    ['Order date', day(o.order_date)],
    ['Issued on', day(o.active_date)],
    ['Expires', day(o.expiration_date)],
    ['Subscription ends', o.order_ends_at && o.order_ends_at !== o.expiration_date ? day(o.order_ends_at) : ''],
    ['Names', (o.host_names || []).join(', ')],
    ['Server software', o.software ? softwareLabel(o.software) : ''],
    ['Contacts', contactsWords(o)],
    ['Renewal of', o.renewal_of ? h('a', { href: orderHref(o.renewal_of), class: 'renewal-of' }, `order #${o.renewal_of}`) : ''],
    ['Renewed by', o.renewed_by ? h('a', { href: orderHref(o.renewed_by.id), class: 'renewed-by' }, `order #${o.renewed_by.id} (${statusLabel(o.renewed_by.status)})`) : ''],
    ['Serial number', serialOf(o) || (o.certificate || o.status === 'ACT' || o.status === 'EXP' ? 'not recorded' : 'not issued yet')],
    ['Price', o.price ? money(o.price, o.currency) : ''],
  ];
  return pairs;
}

export function softwareSelect(value, id) {
  const s = h('select', { id, name: 'software_id' }, h('option', { value: '' }, '— choose —'));
  for (const [k, label] of SOFTWARE) s.append(h('option', { value: k, selected: k === value }, label));
  return s;
}
