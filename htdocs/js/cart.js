// The cart (issue 6: /cart, /cart/checkout). Until the server has it, the header
// shows an empty cart and the Shop offers "Buy now" (POST /ssl/orders) instead.
import { api, ApiError, idempotencyKey } from './api.js';

function num(v) {
  const n = Number(v);
  return Number.isFinite(n) ? n : 0;
}

/** A cart answer, in one shape whatever the server's field names. */
export function normalizeCart(d) {
  const items = (d && (d.results || d.items)) || [];
  const lines = items.map((i) => {
    const quantity = num(i.quantity || 1);
    const unit = i.unit_price ?? i.price_each ?? i.price;
    const line = i.amount ?? i.line_total ?? i.total ?? (unit !== undefined ? num(unit) * quantity : undefined);
    return { ...i, quantity, unit: unit !== undefined ? num(unit) : undefined, line: line !== undefined ? num(line) : undefined };
  });
  const count = d && d.quantity !== undefined ? num(d.quantity) : lines.reduce((n, i) => n + i.quantity, 0);
  let total = d && (d.total_price ?? d.amount ?? d.total_amount ?? d.sum);
  if (total && typeof total === 'object') total = total.price ?? total.amount;
  if (total === undefined || total === null) total = lines.reduce((s, i) => s + num(i.line), 0);
  const currency = (d && d.currency) || (lines[0] && lines[0].currency) || '';
  return { available: true, items: lines, count, total: num(total), currency };
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
