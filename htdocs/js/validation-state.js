// Validation state of an order: GET /ssl/orders/{id}/validation (issue 4) when the
// server has it; otherwise what the order itself says (methods, overall status).
import { api, ApiError } from './api.js';

function normalize(d) {
  const list = d.results || d.names || d.hosts || d.domains || [];
  const names = list.map((x) => ({
    name: x.host_name || x.name || x.domain,
    method: x.method || '',
    state: x.state || x.status || 'pending',
    lastCheck: x.last_check || x.checked_at || x.last_checked_at || '',
    lastError: x.last_error || x.error || '',
    validatedAt: x.validated_at || '',
    caa: x.caa || null, // the CAA check before issuance (Baseline Requirements)
    // what to publish, in the shape of the order's additional_data
    publish: x.instructions && (x.instructions.url || x.instructions.record_name) ? {
      domain: x.host_name || x.name,
      file_location: x.instructions.url,
      file_contents: x.instructions.file_body,
      dns_record: x.instructions.record_name,
      dns_value: x.instructions.record_value,
      dns_txt_record: x.instructions.txt_record_name,
    } : null,
  }));
  const org = d.organization || d.organization_validation || null;
  return {
    available: true,
    names,
    organization: org && org.required !== false ? { state: org.state || org.status || 'pending', reason: org.reason || org.last_error || '' } : null,
    reissuePending: Boolean(d.reissue_pending),
    nextCheck: d.next_check_at || '',
  };
}

export async function loadValidation(order) {
  try {
    return normalize(await api('GET', `/ssl/orders/${order.id}/validation`));
  } catch (e) {
    if (!(e instanceof ApiError && e.missing)) throw e;
  }
  const methods = Object.fromEntries((order.domain_validation_methods || []).map((m) => [m.host_name, m.method]));
  const done = order.status === 'ACT' || order.status === 'EXP';
  return {
    available: false,
    names: (order.host_names || []).map((n) => ({ name: n, method: methods[n] || '', state: done ? 'validated' : 'pending', lastCheck: '', lastError: '' })),
    organization: null,
  };
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
