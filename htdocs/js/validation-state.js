// Validation state of an order: GET /ssl/orders/{id}/validation, read as the server
// writes it (types.js: Validation).
import { api } from './api.js';

/** @param {import('./types.js').Validation} d */
function normalize(d) {
  const names = d.names.map((x) => ({
    name: x.host_name,
    method: x.method,
    state: x.state,
    lastCheck: x.last_check_at,
    lastError: x.last_error,
    validatedAt: x.validated_at,
    caa: x.caa || null, // the CAA check before issuance (Baseline Requirements); absent when off
    // multi-perspective corroboration: which remote perspectives agreed; null when off
    mpic: x.mpic || null,
    // what to publish, in the shape of the order's additional_data
    publish: x.instructions && (x.instructions.url || x.instructions.record_name) ? {
      domain: x.host_name,
      file_location: x.instructions.url,
      file_contents: x.instructions.file_body,
      dns_record: x.instructions.record_name,
      dns_value: x.instructions.record_value,
      dns_txt_record: x.instructions.txt_record_name,
      // dns-persist and dns-account: the one TXT record of the name's method
      dns_persist_record: x.instructions.record_name,
      dns_persist_value: x.instructions.record_value,
      dns_account_record: x.instructions.record_name,
      dns_account_value: x.instructions.record_value,
    } : null,
  }));
  const org = d.organization;
  return {
    available: true,
    names,
    organization: org && org.required ? { state: org.status, reason: org.reason } : null,
    reissuePending: Boolean(d.reissue_pending),
    nextCheck: d.next_check_at,
  };
}

/** GET /ssl/orders/{id}/validation, per name: method, state, last check, what to publish. */
export async function loadValidation(order) {
  return normalize(await api('GET', `/ssl/orders/${order.id}/validation`));
}

export function isValidated(state) {
  return ['validated', 'valid', 'ok', 'done', 'approved', 'accepted'].includes(String(state).toLowerCase());
}

export function stateWords(state) {
  const s = String(state).toLowerCase();
  if (isValidated(s)) return 'validated';
  if (s === 'failed' || s === 'invalid' || s === 'rejected') return 'not validated (see the reason)';
  if (s === 'not_required') return 'not needed';
  return 'waiting for validation';
}
