// The CSR part of the order forms (new order, reprocess): "use previous CSR", a
// managed CSR by friendly name, a text area that is decoded when it loses the focus
// (the Common Name fills in), "Create CSR" to the generator, "Save to CSR Manager".
import { h, uid } from './dom.js';
import { api } from './api.js';
import { field, checkbox, notice } from './ui.js';
import { loadManagedCsrs, getManagedCsr, csrLabel, saveManagedCsr } from './org.js';

const PENDING = 'so.pendingCsr';

/** The generator hands a CSR back to the form that sent the user there. */
export function handBack(returnPath, csr) {
  sessionStorage.setItem(PENDING, JSON.stringify({ path: returnPath, csr }));
}

function takePending(pathname) {
  const raw = sessionStorage.getItem(PENDING);
  if (!raw) return null;
  try {
    const p = JSON.parse(raw);
    if (p.path === pathname) {
      sessionStorage.removeItem(PENDING);
      return p.csr;
    }
  } catch (e) { sessionStorage.removeItem(PENDING); }
  return null;
}

export function keyText(d) {
  if (!d) return '';
  const alg = d.key_type === 'ec' ? `EC ${d.curve || ''}`.trim() : `RSA ${d.public_key ? d.public_key.bits : ''} bits`;
  return `${alg}, signed with ${d.signature_algorithm || d.signature_hash_algorithm}`;
}

/**
 * opts: {previousCsr, withSaveToManager, createHref, onDecoded(decoded|null)}
 * returns {el, csr(), decoded(), validate(), managedId(), usePrevious(), saveIfAsked()}
 */
export async function csrSection(ctx, opts = {}) {
  const managed = await loadManagedCsrs().catch(() => ({ available: false, list: [] }));
  const ta = h('textarea', { class: 'csr mono', id: 'csr-text', name: 'csr', spellcheck: 'false', autocomplete: 'off',
    placeholder: '-----BEGIN CERTIFICATE REQUEST-----\n...\n-----END CERTIFICATE REQUEST-----' });
  const fCsr = field('CSR', ta, { hint: 'Paste the certificate signing request (PEM). When you leave the field it is read and the Common Name fills in.' });
  const cn = h('input', { type: 'text', id: 'csr-cn', name: 'common_name', readOnly: true, 'aria-readonly': 'true' });
  const fCn = field('Common Name', cn, { hint: 'Taken from the CSR' });
  const info = h('p', { class: 'hint', id: 'csr-info', 'aria-live': 'polite' });
  let decoded = null;
  let lastText = null;
  let fromPrevious = false;
  let fromManaged = '';

  // one decode per text: a second call while the first is on its way (blur, then a
  // click on Save) waits for the same answer
  let pendingDecode = Promise.resolve(null);
  const decode = () => {
    const text = ta.value.trim();
    if (text === lastText) return pendingDecode;
    lastText = text;
    decoded = null;
    fCsr.clearError();
    cn.value = '';
    info.textContent = '';
    pendingDecode = (async () => {
      let d = null;
      if (text) {
        try {
          d = await api('POST', '/ssl/csr/decode', { body: { csr: text } });
        } catch (e) {
          if (lastText === text) fCsr.setError(e);
        }
      }
      if (lastText !== text) return decoded; // the text changed meanwhile
      decoded = d;
      if (d) {
        cn.value = d.subject ? d.subject.common_name : '';
        const names = d.names || d.subject_alternative_name || [];
        info.textContent = `${keyText(d)}. Names: ${names.join(', ') || cn.value}.`;
        if (d.key_ok === false && d.key_problem) fCsr.setError(`The key is not accepted: ${d.key_problem}`);
      }
      if (opts.onDecoded) opts.onDecoded(d);
      return d;
    })();
    return pendingDecode;
  };
  ta.addEventListener('blur', decode);
  ta.addEventListener('input', () => { fromPrevious = false; if (prev) prev.input.checked = false; if (sel && !fromManagedChange) sel.value = ''; fromManaged = ''; });
  let fromManagedChange = false;

  let prev = null;
  if (opts.previousCsr !== undefined) {
    prev = checkbox('use previous CSR', { id: 'use-previous-csr' });
    if (!opts.previousCsr) {
      prev.input.disabled = true;
      prev.append(h('span', { class: 'hint' }, ' (the order has no CSR on record)'));
    }
    prev.input.addEventListener('change', async () => {
      if (prev.input.checked) {
        ta.value = opts.previousCsr;
        if (sel) sel.value = '';
        fromManaged = '';
        await decode();
        fromPrevious = true;
      } else {
        fromPrevious = false;
      }
    });
  }

  let sel = null;
  let fSel = null;
  if (managed.available) {
    sel = h('select', { id: 'managed-csr', name: 'managed_csr' }, h('option', { value: '' }, managed.list.length ? '— choose a managed CSR —' : '(the CSR Manager is empty)'),
      managed.list.map((c) => h('option', { value: c.id }, csrLabel(c))));
    fSel = field('use managed CSR', sel, { hint: 'CSRs saved in the CSR Manager, by friendly name' });
    sel.addEventListener('change', async () => {
      fSel.clearError();
      if (!sel.value) return;
      try {
        const c = await getManagedCsr(sel.value);
        fromManagedChange = true;
        ta.value = c.csr || '';
        fromManagedChange = false;
        if (prev) prev.input.checked = false;
        fromPrevious = false;
        await decode();
        fromManaged = sel.value;
      } catch (e) { fSel.setError(e); }
    });
  }

  const save = opts.withSaveToManager && managed.available ? checkbox('Save to CSR Manager', { id: 'save-to-manager' }) : null;
  const friendly = save ? h('input', { type: 'text', id: 'csr-friendly', maxlength: 255 }) : null;
  const fFriendly = save ? field('Friendly name (for the CSR Manager)', friendly) : null;
  if (save) {
    fFriendly.hidden = true;
    save.input.addEventListener('change', () => { fFriendly.hidden = !save.input.checked; });
  }

  const create = opts.createHref ? h('a', { class: 'btn', href: opts.createHref, id: 'create-csr' }, 'Create CSR') : null;

  const el = h('div', { class: 'csr-section' },
    prev,
    fSel || notice('info', 'The CSR Manager is not available on this server yet: paste a CSR or create one.'),
    fCsr,
    h('div', { class: 'actions' }, create, h('span', { class: 'hint' }, 'No CSR yet? "Create CSR" makes the key in your browser; it never leaves your computer.')),
    fCn, info, save, fFriendly);

  const pending = takePending(window.location.pathname);
  if (pending) {
    ta.value = pending;
    setTimeout(decode, 0);
  } else if (opts.initial) {
    ta.value = opts.initial;
    setTimeout(decode, 0);
  }

  return {
    el,
    csr: () => ta.value.trim(),
    decoded: () => decoded,
    decode,
    usePrevious: () => Boolean(prev && prev.input.checked && fromPrevious),
    managedId: () => fromManaged,
    setError: (e) => fCsr.setError(e),
    focus: () => ta.focus(),
    /** Save to the CSR Manager when the box is ticked (before the order call). */
    async saveIfAsked() {
      if (!save || !save.input.checked || fromManaged || fromPrevious) return null;
      return saveManagedCsr(ta.value.trim(), friendly.value.trim());
    },
    textarea: ta,
  };
}

export const CSR_FIELD_ID = 'csr-text';
export { uid };
