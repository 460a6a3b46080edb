// Contact handles (/customers): choose one per role, or create one inline.
import { h, uid, add } from './dom.js';
import { api } from './api.js';
import { field, errorBox, busy, announce } from './ui.js';

export async function loadContacts() {
  const d = await api('GET', '/customers', { query: { limit: 1000 } });
  return d.results || [];
}

export function contactLabel(c) {
  const n = c.name ? [c.name.first_name, c.name.last_name].filter(Boolean).join(' ') : '';
  return `${c.handle} — ${n}${c.company_name ? ` (${c.company_name})` : ''}${c.email ? `, ${c.email}` : ''}`;
}

/**
 * roles: [{key: 'organization_handle', label, required}]; returns {el, values(), setError(key, err)}
 */
export async function contactsSection(roles, current = {}) {
  let list = await loadContacts();
  const selects = {};
  const fields = {};
  const fill = (sel, value) => {
    sel.replaceChildren();
    add(sel, [h('option', { value: '' }, '— none —'),
      list.map((c) => h('option', { value: c.handle, selected: c.handle === value }, contactLabel(c)))]);
  };
  for (const r of roles) {
    const sel = h('select', { id: `contact-${r.key}`, name: r.key });
    fill(sel, current[r.key]);
    selects[r.key] = sel;
    fields[r.key] = field(r.label, sel, { required: r.required, hint: r.hint });
  }
  // the inline form for a new handle (a group inside the order form, not a nested form)
  const newId = uid('newcontact');
  const toggle = h('button', { type: 'button', class: 'btn', 'aria-expanded': 'false', 'aria-controls': newId }, 'New contact');
  const inp = (name, type = 'text', extra = {}) => h('input', { type, name, id: uid(`c-${name}`), ...extra });
  const f = {
    first_name: inp('first_name', 'text', { autocomplete: 'given-name' }),
    last_name: inp('last_name', 'text', { autocomplete: 'family-name' }),
    company_name: inp('company_name', 'text', { autocomplete: 'organization' }),
    email: inp('email', 'email', { autocomplete: 'email' }),
    street: inp('street', 'text', { autocomplete: 'address-line1' }),
    number: inp('number'),
    zipcode: inp('zipcode', 'text', { autocomplete: 'postal-code' }),
    city: inp('city', 'text', { autocomplete: 'address-level2' }),
    state: inp('state', 'text', { autocomplete: 'address-level1' }),
    country: inp('country', 'text', { maxlength: 2, autocomplete: 'country', placeholder: 'NL' }),
    country_code: inp('country_code', 'text', { placeholder: '+31', autocomplete: 'tel-country-code' }),
    area_code: inp('area_code'),
    subscriber_number: inp('subscriber_number', 'tel', { autocomplete: 'tel-national' }),
  };
  const ff = {
    first_name: field('First name', f.first_name, { required: true }),
    last_name: field('Last name', f.last_name, { required: true }),
    company_name: field('Company', f.company_name),
    email: field('E-mail', f.email, { required: true }),
    street: field('Street', f.street, { required: true }),
    number: field('Number', f.number),
    zipcode: field('Postal code', f.zipcode),
    city: field('City', f.city, { required: true }),
    state: field('State or province', f.state),
    country: field('Country (2 letters)', f.country, { required: true }),
    country_code: field('Phone country code', f.country_code, { required: true }),
    area_code: field('Area code', f.area_code),
    subscriber_number: field('Phone number', f.subscriber_number, { required: true }),
  };
  const roleSel = h('select', { id: uid('c-role') }, roles.map((r) => h('option', { value: r.key }, r.label)));
  const err = errorBox();
  const createBtn = h('button', { type: 'button', class: 'btn primary' }, 'Create contact');
  const panel = h('div', { id: newId, class: 'card new-contact', hidden: true, role: 'group', 'aria-label': 'New contact' },
    h('h3', {}, 'New contact'),
    h('div', { class: 'grid2' }, Object.values(ff)),
    field('Use it as', roleSel), err,
    h('div', { class: 'actions' }, createBtn,
      h('button', { type: 'button', class: 'btn', onClick: () => { panel.hidden = true; toggle.setAttribute('aria-expanded', 'false'); toggle.focus(); } }, 'Cancel')));
  toggle.addEventListener('click', () => {
    const open = panel.hidden;
    panel.hidden = !open;
    toggle.setAttribute('aria-expanded', String(open));
    if (open) f.first_name.focus();
  });
  createBtn.addEventListener('click', () => busy(createBtn, async () => {
    err.clear();
    Object.values(ff).forEach((x) => x.clearError());
    const missing = Object.entries(ff).filter(([k, x]) => x.input.required && !f[k].value.trim());
    if (missing.length) {
      missing.forEach(([, x]) => x.setError('This is needed.'));
      missing[0][1].input.focus();
      return;
    }
    const v = (k) => f[k].value.trim();
    const body = {
      name: { first_name: v('first_name'), last_name: v('last_name') },
      address: { street: v('street'), city: v('city'), country: v('country').toUpperCase(),
        ...(v('number') ? { number: v('number') } : {}), ...(v('zipcode') ? { zipcode: v('zipcode') } : {}), ...(v('state') ? { state: v('state') } : {}) },
      phone: { country_code: v('country_code'), subscriber_number: v('subscriber_number'), ...(v('area_code') ? { area_code: v('area_code') } : {}) },
      email: v('email'),
      ...(v('company_name') ? { company_name: v('company_name') } : {}),
    };
    try {
      const d = await api('POST', '/customers', { body });
      list = await loadContacts();
      for (const [k, sel] of Object.entries(selects)) fill(sel, k === roleSel.value ? d.handle : sel.value);
      panel.hidden = true;
      toggle.setAttribute('aria-expanded', 'false');
      Object.values(f).forEach((i) => { i.value = ''; });
      announce(`Contact ${d.handle} created`);
      selects[roleSel.value].focus();
    } catch (e) {
      // the server names the field: show the error next to it
      const key = Object.keys(ff).find((k) => e.desc && new RegExp(`\\b${k}\\b`).test(e.desc));
      if (key) { ff[key].setError(e); f[key].focus(); } else err.show(e);
    }
  }));
  const el = h('div', { class: 'contacts' }, h('div', { class: 'grid2' }, roles.map((r) => fields[r.key])), toggle, panel);
  return {
    el,
    values: () => Object.fromEntries(Object.entries(selects).map(([k, s]) => [k, s.value])),
    setError: (key, e) => (fields[key] ? fields[key].setError(e) : null),
    clearErrors: () => Object.values(fields).forEach((x) => x.clearError()),
    focus: (key) => selects[key] && selects[key].focus(),
  };
}
