// The cart (issue 6: /cart, /cart/checkout). Until the server has it, the header
// shows an empty cart and the Shop offers "Buy now" (POST /ssl/orders) instead.
import { api, ApiError, idempotencyKey } from './api.js';

function num(v) {
  const n = Number(v);
  return Number.isFinite(n) ? n : 0;
}

/**
 * GET /cart (types.js Cart) for the pages: money as numbers. An item that cannot be
 * bought any more has "" as its prices (valid false).
 * @param {import('./types.js').Cart} d
 */
export function normalizeCart(d) {
  const lines = d.results.map((i) => ({ ...i, unit: i.unit_price === '' ? undefined : num(i.unit_price),
    line: i.amount === '' ? undefined : num(i.amount) }));
  return { available: true, items: lines, count: d.quantity, total: num(d.amount), currency: d.currency };
}

export async function loadCart() {
  try {
    return normalizeCart(await api('GET', '/cart'));
  } catch (e) {
    if (e instanceof ApiError && e.missing) return { available: false, items: [], count: 0, total: 0, currency: '' };
    throw e;
  }
}

export function addToCart(item) {
  return api('POST', '/cart', { body: item });
}

export function setQuantity(id, quantity) {
  return api('PUT', `/cart/${encodeURIComponent(id)}`, { body: { quantity } });
}

export function removeItem(id) {
  return api('DELETE', `/cart/${encodeURIComponent(id)}`);
}

/** Checkout once: the key makes a retry after a dropped connection charge once. */
export function checkout(key = idempotencyKey()) {
  return api('POST', '/cart/checkout', { body: {}, headers: { 'Idempotency-Key': key } });
}
