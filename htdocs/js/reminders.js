// Expiration reminders of an order (issue 4: GET/PUT /ssl/orders/{id}/reminders):
// days before and after expiry and extra recipients; defaults 60, 30, 7, 1 days
// before and 30 after.
import { h } from './dom.js';
import { api, ApiError } from './api.js';
import { field, checkbox } from './ui.js';

const DEFAULT = { enabled: true, days_before: [60, 30, 7, 1], days_after: [30], recipients: [] };

function nums(s) {
  return s.split(/[\s,;]+/).filter(Boolean).map(Number);
}

/** GET /ssl/orders/{id}/reminders (types.js Reminders) */
function normalize(d) {
  return { enabled: d.enabled, days_before: d.days_before, days_after: d.days_after, recipients: d.recipients };
}

export async function remindersSection(orderId) {
  let current = { ...DEFAULT };
  let available = true;
  if (orderId) {
    try {
      current = normalize(await api('GET', `/ssl/orders/${orderId}/reminders`));
    } catch (e) {
      if (e instanceof ApiError && e.missing) available = false;
    }
  }
  const on = checkbox('Send expiration reminders', { id: 'reminders-on', checked: current.enabled });
  const before = h('input', { type: 'text', id: 'reminders-before', value: current.days_before.join(', '), inputmode: 'numeric' });
  const after = h('input', { type: 'text', id: 'reminders-after', value: current.days_after.join(', '), inputmode: 'numeric' });
  const to = h('input', { type: 'text', id: 'reminders-to', value: current.recipients.join(', '), placeholder: 'ops@example.com, it@example.com' });
  const fb = field('Days before expiry', before, { hint: 'For example 60, 30, 7, 1' });
  const fa = field('Days after expiry', after);
  const ft = field('Also send to', to, { hint: 'Extra e-mail addresses, separated by commas; the order\'s contacts always get them' });
  const note = available ? null : h('p', { class: 'hint', id: 'reminders-note' },
    'This server does not store reminder settings yet; the defaults (60, 30, 7 and 1 days before and 30 days after expiry) apply.');
  const nobody = h('p', { class: 'notice notice-warning', id: 'reminders-nobody', role: 'status', hidden: true },
    'Reminders are on, but this order has no contact and no extra address: nobody would get them. ',
    'Choose a contact, or add an address in "Also send to".');
  const el = h('fieldset', { class: 'reminders' }, h('legend', {}, 'Expiration reminders'), on, h('div', { class: 'grid2' }, fb, fa), ft, nobody, note);
  let hasContact = () => true;
  const warn = () => { nobody.hidden = !(on.input.checked && !hasContact() && !to.value.trim()); };
  on.input.addEventListener('change', warn);
  to.addEventListener('input', warn);
  const check = () => {
    [fb, fa, ft].forEach((x) => x.clearError());
    const bad = (f, list) => list.some((n) => !Number.isInteger(n) || n < 1 || n > 365) && (f.setError('Whole numbers of days from 1 to 365, separated by commas.'), true);
    const emailsOk = to.value.split(/[\s,;]+/).filter(Boolean).every((e) => /^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(e));
    if (!emailsOk) ft.setError('One or more addresses are not e-mail addresses.');
    return !(bad(fb, nums(before.value)) | bad(fa, nums(after.value))) && emailsOk;
  };
  return {
    el,
    available,
    validate: check,
    value: () => ({ enabled: on.input.checked, days_before: nums(before.value), days_after: nums(after.value),
      recipients: to.value.split(/[\s,;]+/).filter(Boolean) }),
    /** Store them for the order; false when the server cannot store them yet. */
    async save(id) {
      if (!available) return false;
      try {
        await api('PUT', `/ssl/orders/${id}/reminders`, { body: this.value() });
        return true;
      } catch (e) {
        if (e instanceof ApiError && e.missing) { available = false; return false; }
        throw e;
      }
    },
    setError: (e) => ft.setError(e),
    /** Warn while reminders are on and nobody gets them (no contact, no extra address). */
    watchRecipients(fn) { hasContact = fn; warn(); return warn; },
  };
}

export function agreement() {
  const box = h('input', { type: 'checkbox', id: 'subscriber-agreement', required: true });
  const err = h('p', { class: 'field-error', id: 'subscriber-agreement-err', role: 'alert', hidden: true });
  box.setAttribute('aria-describedby', err.id);
  const el = h('fieldset', { class: 'agreement' }, h('legend', {}, 'Subscriber agreement'),
    h('details', {}, h('summary', {}, 'Read the subscriber agreement'),
      h('p', {}, 'You confirm that the information in this request is correct, that you control the names it lists, ',
        'that you keep the private key secret and ask for revocation as soon as it may be compromised, ',
        'and that you install the certificate only on servers reachable under the names it lists.')),
    h('div', { class: 'check' }, box, h('label', { for: box.id }, 'I agree to the Subscriber Agreement')), err);
  return {
    el,
    ok() {
      err.hidden = box.checked;
      err.textContent = box.checked ? '' : 'Please agree to the Subscriber Agreement to continue.';
      if (!box.checked) box.setAttribute('aria-invalid', 'true'); else box.removeAttribute('aria-invalid');
      return box.checked;
    },
    focus: () => box.focus(),
  };
}
