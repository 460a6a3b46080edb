// Shared pieces of the pages: labelled fields with their error next to them,
// error boxes, dialogs, busy buttons, announcements for screen readers.
import { h, uid } from './dom.js';
import { errorText } from './api.js';

/**
 * A labelled field. The error shows right under the input and is tied to it with
 * aria-describedby / aria-invalid.
 */
export function field(labelText, input, opts = {}) {
  if (!input.id) input.id = uid('f');
  const errEl = h('p', { class: 'field-error', id: `${input.id}-err`, role: 'alert', hidden: true });
  const hintEl = opts.hint ? h('p', { class: 'hint', id: `${input.id}-hint` }, opts.hint) : null;
  input.setAttribute('aria-describedby', [hintEl && hintEl.id, errEl.id].filter(Boolean).join(' '));
  if (opts.required) input.required = true;
  const label = h('label', { for: input.id }, labelText,
    opts.required ? h('span', { class: 'req', 'aria-hidden': 'true' }, ' *') : null);
  const wrap = h('div', { class: ['field', opts.class] }, label, input, hintEl, errEl);
  wrap.input = input;
  wrap.setError = (err) => {
    const msg = typeof err === 'string' ? err : errorText(err);
    errEl.textContent = msg;
    errEl.hidden = !msg;
    if (msg) input.setAttribute('aria-invalid', 'true');
    else input.removeAttribute('aria-invalid');
  };
  wrap.clearError = () => wrap.setError('');
  return wrap;
}

/** A checkbox with its label after it. */
export function checkbox(labelText, opts = {}) {
  const input = h('input', { type: 'checkbox', id: opts.id || uid('c'), name: opts.name, checked: opts.checked, value: opts.value });
  if (opts.onChange) input.addEventListener('change', opts.onChange);
  const wrap = h('div', { class: ['check', opts.class] }, input, h('label', { for: input.id }, labelText));
  wrap.input = input;
  return wrap;
}

export function select(options, opts = {}) {
  const s = h('select', { id: opts.id, name: opts.name, multiple: opts.multiple, size: opts.size, class: opts.class });
  for (const o of options) {
    const [value, label] = Array.isArray(o) ? o : [o.value, o.label];
    const selected = Array.isArray(opts.value) ? opts.value.map(String).includes(String(value))
      : opts.value !== undefined && String(opts.value) === String(value);
    s.append(h('option', { value, selected }, label));
  }
  return s;
}

/** A box for an error that belongs to a whole form or section. */
export function errorBox(extraClass) {
  const el = h('div', { class: ['error-box', extraClass], role: 'alert', hidden: true });
  el.show = (err) => {
    const msg = typeof err === 'string' ? err : errorText(err);
    el.textContent = msg;
    el.hidden = !msg;
  };
  el.clear = () => el.show('');
  return el;
}

export function notice(kind, ...content) {
  return h('div', { class: `notice notice-${kind}`, role: kind === 'error' ? 'alert' : 'status' }, ...content);
}

/** A page-level "this needs an endpoint the server does not have yet" note. */
export function unavailable(what) {
  return notice('info', `${what} is not available on this server yet (the server does not offer this part of the API). `,
    'Everything else in the portal works as usual.');
}

export function announce(msg) {
  const live = document.getElementById('live');
  if (!live) return;
  live.textContent = '';
  setTimeout(() => { live.textContent = msg; }, 50);
}

// A message shown at the top of the next page (after a navigation).
let pendingFlash = null;
export function flash(msg, kind = 'success') { pendingFlash = { msg, kind }; }
export function takeFlash() {
  const f = pendingFlash;
  pendingFlash = null;
  return f ? notice(f.kind, f.msg) : null;
}

/** Runs fn with the button disabled and marked busy. */
export async function busy(button, fn) {
  const old = button.disabled;
  button.disabled = true;
  button.setAttribute('aria-busy', 'true');
  try {
    return await fn();
  } finally {
    button.disabled = old;
    button.removeAttribute('aria-busy');
  }
}

/**
 * A modal dialog (native <dialog>: focus stays inside, Escape closes). Resolves with
 * the value passed to close(), or null when dismissed.
 */
export function dialog(title, build, opts = {}) {
  return new Promise((resolve) => {
    const opener = document.activeElement;
    const titleId = uid('dlg');
    const d = h('dialog', { class: ['dialog', opts.class], 'aria-labelledby': titleId });
    let result = null;
    const close = (value) => { result = value; d.close(); };
    d.append(h('h2', { id: titleId }, title));
    d.append(build(close));
    d.addEventListener('close', () => {
      d.remove();
      if (opener && opener.isConnected && typeof opener.focus === 'function') opener.focus();
      resolve(result);
    });
    document.body.append(d);
    d.showModal();
    const first = d.querySelector('[autofocus], input, select, textarea, button');
    if (first) first.focus();
  });
}

/** Ask before something that cannot be undone. */
export function confirmDialog(title, message, confirmLabel = 'OK', opts = {}) {
  return dialog(title, (close) => h('div', {},
    [message].flat().map((m) => (m instanceof Node ? m : h('p', {}, m))),
    h('div', { class: 'actions' },
      h('button', { type: 'button', class: opts.danger ? 'btn danger' : 'btn primary', onClick: () => close(true) }, confirmLabel),
      h('button', { type: 'button', class: 'btn', autofocus: true, onClick: () => close(false) }, 'Cancel'))),
  { class: opts.danger ? 'dialog-danger' : '' }).then((v) => v === true);
}

export function loading(what = 'Loading') {
  return h('p', { class: 'loading', role: 'status' }, `${what}…`);
}

/** Definition list from [label, value] pairs (empty values are skipped). */
export function facts(pairs, cls) {
  const dl = h('dl', { class: ['facts', cls] });
  for (const [k, v] of pairs) {
    if (v === undefined || v === null || v === '' || (Array.isArray(v) && !v.length)) continue;
    dl.append(h('dt', {}, k), h('dd', {}, v));
  }
  return dl;
}

export function pageHeader(title, ...sub) {
  return h('div', { class: 'page-head' },
    h('h1', { tabindex: '-1' }, title),
    sub.length ? h('p', { class: 'page-sub' }, ...sub) : null);
}

/** Copy text to the clipboard, with a visible confirmation on the button. */
export function copyButton(getText, label = 'Copy') {
  const b = h('button', { type: 'button', class: 'btn small' }, label);
  b.addEventListener('click', async () => {
    const t = typeof getText === 'function' ? getText() : getText;
    try {
      await navigator.clipboard.writeText(t);
      b.textContent = 'Copied';
    } catch (e) {
      b.textContent = 'Select and copy by hand';
    }
    announce('Copied to the clipboard');
    setTimeout(() => { b.textContent = label; }, 2000);
  });
  return b;
}

/** Trigger a file download of in-memory data (used for the private key). */
export function downloadLink(label, filename, data, type, cls) {
  const url = URL.createObjectURL(new Blob([data], { type }));
  return h('a', { href: url, download: filename, class: cls || 'btn' }, label);
}
