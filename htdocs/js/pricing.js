// Prices from the catalogue (GET /ssl/products with_price): the team's currency is
// the "reseller" price. The live amount comes from GET /ssl/products/{id}/quote when
// the server has it (issue 6) and is computed from the same catalogue otherwise
// (the API's own rule: base price of the period + names beyond the included ones +
// wildcard names).
import { api, ApiError } from './api.js';

export function priceRow(product, period) {
  return (product.prices || []).find((p) => Number(p.period) === Number(period)) || null;
}

function reseller(x) {
  return x && x.reseller ? x.reseller : (x && x.product) || { currency: '', price: 0 };
}

export function periods(product) {
  return (product.prices || []).map((p) => Number(p.period)).sort((a, b) => a - b);
}

export function included(product) {
  return Math.max(1, Number(product.included_domains_count || product.number_of_domains || 1));
}

export function isMulti(product) {
  return Boolean(product.is_multidomain);
}

/** {amount, currency} for a period and name counts (domains = plain names in total). */
export function localPrice(product, period, domains = 0, wildcards = 0) {
  const row = priceRow(product, period);
  if (!row) return null;
  const base = reseller(row.price);
  let cents = Math.round(Number(base.price) * 100);
  if (isMulti(product)) {
    const extra = Math.max(0, Number(domains) - included(product));
    cents += extra * Math.round(Number(reseller(row.extra_domain_price).price || 0) * 100);
    cents += Number(wildcards) * Math.round(Number(reseller(row.extra_wildcard_domain_price).price || 0) * 100);
  }
  return { amount: cents / 100, currency: base.currency };
}

/** The 1-year price times the years against this plan: the saving in percent. */
export function saving(product, period) {
  const one = localPrice(product, 1);
  const p = localPrice(product, period);
  if (!one || !p || period <= 1) return 0;
  const full = one.amount * period;
  return full > 0 ? Math.round((1 - p.amount / full) * 100) : 0;
}

let quoteMissing = false;

/** The live amount: the server's quote when it has one, else the catalogue rule. */
export async function quote(product, period, domains, wildcards) {
  if (!quoteMissing) {
    try {
      const d = await api('GET', `/ssl/products/${product.id}/quote`, {
        query: { period, domains: isMulti(product) ? domains : undefined, wildcard_domains: isMulti(product) ? wildcards : undefined },
      });
      const amount = d.amount ?? d.price ?? d.total ?? (d.reseller && d.reseller.price);
      const currency = d.currency ?? (d.reseller && d.reseller.currency);
      if (amount !== undefined) return { amount: Number(amount), currency, source: 'quote' };
    } catch (e) {
      if (e instanceof ApiError && e.missing) quoteMissing = true;
      else throw e;
    }
  }
  const l = localPrice(product, period, domains, wildcards);
  return l ? { ...l, source: 'catalogue' } : null;
}
