// The JSON API at /v1beta (same origin): the session cookie travels by itself
// (HttpOnly, SameSite=Strict); every call that changes something carries the
// session's CSRF token as X-CSRF-Token. Answers use the Openprovider envelope
// {code, desc, data}; errors become ApiError with the message in plain words.

export const API_BASE = '/v1beta';

let csrfToken = '';
let unauthorizedHandler = null;

export function setCsrfToken(t) { csrfToken = t || ''; }
export function onUnauthorized(fn) { unauthorizedHandler = fn; }

// Plain words for the API's stable error codes; `desc` (which names the field or
// the reason) is shown with them.
const PLAIN = {
  0: 'The server cannot be reached. Check the connection and try again.',
  101: 'The request could not be read.',
  102: 'A value is missing or not valid.',
  103: 'Not found: it may have been deleted, or it belongs to another team.',
  104: 'This feature is not available on this server yet.',
  105: 'This action is not possible here.',
  106: 'What was sent is too large.',
  107: 'The server does not accept this kind of content.',
  108: 'Your role in this team does not allow this.',
  109: 'It already exists or is in use.',
  110: 'Your session is no longer valid. Please sign in again.',
  196: 'Wrong user name or password, or your session has ended.',
  197: 'Too many failed sign-ins. Wait a few minutes and try again.',
  198: 'The service is busy; nothing was changed. Try again in a moment.',
  199: 'Something went wrong on the server. Try again later.',
  1001: 'The CSR cannot be read: it is incomplete, damaged, or its signature does not verify.',
  1002: 'The CSR\'s key is too weak or of an unsupported type (use RSA 2048 bits or more, or EC P-256/P-384).',
  1003: 'A name is not a valid host name (IP addresses and public suffixes are not allowed).',
  1004: 'The names do not fit this certificate type.',
  1005: 'This cannot be changed in the order\'s current status; nothing was changed.',
  1006: 'This is not possible in the order\'s current status.',
  1007: 'This product is not available.',
  1008: 'This product is not sold for that period.',
  1009: 'That address is not an approver address of the domain.',
  1010: 'No such contact in this team.',
  1011: 'That validation method cannot be used for this name.',
  1012: 'The order is not complete yet.',
  1013: 'Your balance does not cover the price; nothing was charged.',
  1014: 'This request was already made with different details.',
  1015: 'This contact is used by an order and cannot be deleted.',
  1016: 'The contact details are not valid.',
  1017: 'The order was changed elsewhere meanwhile; try again.',
  1018: 'This product has no price in your team\'s currency.',
  1019: 'This link only allows reading the order and changing its validation methods.',
  1140: 'This order was renewed already; its renewal is an order of its own.',
};

export class ApiError extends Error {
  constructor(status, code, desc, data) {
    super(desc || PLAIN[code] || `Request failed (${status})`);
    this.status = status;
    this.code = code;
    this.desc = desc || '';
    this.data = data;
  }

  /** The endpoint does not exist on this server (a feature not deployed yet). */
  get missing() { return this.code === 104 || (this.status === 404 && this.code === 0); }

  /** The message for people: the plain sentence, then the server's own words. */
  get plain() {
    const base = PLAIN[this.code];
    const parts = [];
    if (base) parts.push(base);
    if (this.desc && this.desc !== base && ![104, 196].includes(this.code)) parts.push(this.desc);
    if (typeof this.data === 'string' && this.data && this.data !== this.desc
        && ![104, 196, 110].includes(this.code) && this.data.length < 300) parts.push(this.data);
    if (!parts.length) parts.push(this.message);
    return parts.map((s) => (/[.!?]$/.test(s) ? s : `${s}.`)).join(' ');
  }
}

/** The message for any error, in plain words. */
export function errorText(err) {
  if (err instanceof ApiError) return err.plain;
  return (err && err.message) || String(err);
}

function buildUrl(path, query) {
  const url = new URL(API_BASE + path, window.location.origin);
  if (query) {
    for (const [k, v] of Object.entries(query)) {
      if (v === undefined || v === null || v === '') continue;
      if (Array.isArray(v)) v.forEach((x) => url.searchParams.append(k, String(x)));
      else url.searchParams.set(k, String(v));
    }
  }
  return url;
}

/** A URL below the API, for links (downloads, CSV export). */
export function apiUrl(path, query) {
  const u = buildUrl(path, query);
  return u.pathname + u.search;
}

// A page being left (a full navigation, a reload, the tab closing) aborts the requests in
// flight: that is not a connection problem to report.
let leaving = false;
window.addEventListener('pagehide', () => { leaving = true; });
window.addEventListener('beforeunload', () => { leaving = true; });
window.addEventListener('pageshow', () => { leaving = false; });

/**
 * api('GET', '/ssl/orders', {query: {...}}) -> data
 * options: body (JSON), form (FormData), query, headers, allow401, raw (return the Response)
 */
export async function api(method, path, opts = {}) {
  const headers = { Accept: 'application/json', ...(opts.headers || {}) };
  let body;
  if (opts.form) {
    body = opts.form; // the browser sets multipart/form-data with its boundary
  } else if (opts.body !== undefined) {
    body = JSON.stringify(opts.body);
    headers['Content-Type'] = 'application/json';
  }
  if (method !== 'GET' && method !== 'HEAD' && csrfToken) headers['X-CSRF-Token'] = csrfToken;
  const send = () => fetch(buildUrl(path, opts.query), {
    method, headers, body, credentials: 'same-origin', cache: 'no-store', redirect: 'error',
  });
  let res;
  try {
    res = await send();
  } catch (e) {
    if (leaving) return new Promise(() => {}); // the page is going away: nothing more happens
    // a read that lost its connection (a keep-alive connection the server closed, a
    // restarted server) is asked once more before the connection counts as lost; a
    // change is never sent twice
    if (method === 'GET' || method === 'HEAD') {
      await new Promise((r) => setTimeout(r, 300));
      try { res = await send(); } catch (e2) { res = null; }
    }
    if (leaving) return new Promise(() => {});
    if (!res) throw new ApiError(0, 0, '', '');
  }
  if (opts.raw && res.ok) return res;
  let json = null;
  try {
    json = await res.json();
  } catch (e) {
    json = null;
    if (leaving) return new Promise(() => {}); // the body was cut off by the page going away
  }
  if (!res.ok || !json || (json.code !== undefined && json.code !== 0)) {
    const err = new ApiError(res.status, json && json.code !== undefined ? json.code : 0,
      json ? json.desc : '', json ? json.data : '');
    if ((res.status === 401 || err.code === 110) && !opts.allow401 && unauthorizedHandler) {
      unauthorizedHandler(err);
    }
    throw err;
  }
  if (json.warnings && opts.onWarnings) opts.onWarnings(json.warnings);
  return json.data;
}

/** A random Idempotency-Key for calls that charge the balance. */
export function idempotencyKey() {
  const b = new Uint8Array(16);
  crypto.getRandomValues(b);
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

// Which optional endpoints this server has (features that land with later issues).
// A 104 "no such endpoint" answer marks a feature missing; pages then explain it.
const caps = new Map();
export async function hasFeature(name, probe) {
  if (caps.has(name)) return caps.get(name);
  const p = (async () => {
    try { await probe(); return true; } catch (e) {
      if (e instanceof ApiError && e.missing) return false;
      return true; // it exists, the probe failed for another reason
    }
  })();
  caps.set(name, p);
  return p;
}
export function forgetFeatures() { caps.clear(); }
