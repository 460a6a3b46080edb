// Formatting of API values for people.

export const STATUSES = [
  ['PAI', 'unused', 'Paid; waiting for the certificate details (CSR, names, contacts)'],
  ['REQ', 'pending validation', 'Sent for validation'],
  ['ACT', 'issued', 'The certificate is issued and valid'],
  ['EXP', 'expired', 'The certificate has expired'],
  ['REJ', 'cancelling', 'Cancellation in progress'],
  ['FAI', 'cancelled', 'Cancelled or failed'],
];
const STATUS_LABEL = Object.fromEntries(STATUSES.map(([c, l]) => [c, l]));
export function statusLabel(code) { return STATUS_LABEL[code] || code || ''; }

export const SOFTWARE = [
  ['linux', 'Linux'], ['windows', 'Microsoft Windows'], ['apache', 'Apache'], ['nginx', 'Nginx'],
  ['iis', 'Microsoft IIS'], ['tomcat', 'Java/Tomcat'], ['nodejs', 'V8+Node.js'],
  ['cpanel', 'WHM/cPanel'], ['amazon', 'Amazon'], ['other', 'Other'],
];

export const VALIDATION_LEVEL = {
  domain: 'Domain validation (DV)',
  organization: 'Organization validation (OV)',
  extended: 'Extended validation (EV)',
};

/** "2026-11-24 02:40:49" (UTC) -> "2026-11-24" */
export function day(s) {
  if (!s) return '';
  return String(s).slice(0, 10);
}

/** "2026-11-24 02:40:49" (UTC) -> "2026-11-24 02:40 UTC" */
export function when(s) {
  if (!s) return '';
  return `${String(s).slice(0, 16)} UTC`;
}

export function parseUtc(s) {
  if (!s) return null;
  const d = new Date(`${String(s).replace(' ', 'T')}Z`);
  return Number.isNaN(d.getTime()) ? null : d;
}

export function daysUntil(s) {
  const d = parseUtc(s);
  if (!d) return null;
  return Math.floor((d.getTime() - Date.now()) / 86400000);
}

/** money("28.99" | 28.99, "EUR") -> "EUR 28.99" */
export function money(amount, currency) {
  if (amount === undefined || amount === null || amount === '') return '';
  const n = typeof amount === 'number' ? amount : Number(amount);
  const s = Number.isFinite(n) ? n.toFixed(2) : String(amount);
  return currency ? `${currency} ${s}` : s;
}

export function years(n) {
  const k = Number(n);
  return `${k} year${k === 1 ? '' : 's'}`;
}

export function bytes(n) {
  const k = Number(n);
  if (!Number.isFinite(k)) return '';
  if (k < 1024) return `${k} B`;
  if (k < 1048576) return `${(k / 1024).toFixed(1)} KiB`;
  return `${(k / 1048576).toFixed(1)} MiB`;
}

/** Product type in words from the catalogue fields. */
export function productType(p) {
  if (!p) return '';
  if (p.is_multidomain || p.max_domains > 1) {
    return `Multi-domain (${p.included_domains_count || p.number_of_domains || 1} names included, up to ${p.max_domains})`;
  }
  if (p.is_wildcard_supported) return 'Wildcard (*.domain and the domain itself)';
  return 'Single name (with its www twin)';
}

export function isoDate(d) {
  return d.toISOString().slice(0, 10);
}
