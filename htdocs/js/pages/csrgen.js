// The CSR generator: the key pair is made in the browser with WebCrypto and never
// leaves it; the request is built and signed here (js/lib/pkcs10.js). The private
// key is offered for download with a warning; the CSR can be saved to the CSR
// Manager and handed back to the order form that asked for it.
import { h, fill } from '../dom.js';
import { field, checkbox, errorBox, busy, pageHeader, notice, copyButton, downloadLink, select, announce } from '../ui.js';
import { generateCsr, checkSubject, KEY_TYPES, selfCheck } from '../lib/pkcs10.js';
import { saveManagedCsr, loadManagedCsrs } from '../org.js';
import { handBack } from '../csr-input.js';

export async function render(ctx) {
  const { view, path } = ctx;
  ctx.setTitle('CSR generator');
  const ret = ctx.query.get('return');
  const returnPath = ret && /^\/[^/]/.test(ret) && !ret.startsWith('//') ? ret : '';
  const managed = await loadManagedCsrs().catch(() => ({ available: false }));
  if (!ctx.alive()) return;
  view.append(pageHeader('CSR generator', 'Enter the certificate details and click Generate CSR. ',
    h('strong', {}, 'The key pair is created in your browser: the private key is never sent to the server.')));

  const inp = (id, extra = {}) => h('input', { type: 'text', id, autocomplete: 'off', spellcheck: 'false', ...extra });
  const f = {
    CN: field('Common Name', inp('gen-cn', { placeholder: 'www.example.com' }), { required: true, hint: 'The main host name of the certificate' }),
    SAN: field('Additional names', h('textarea', { id: 'gen-san', rows: 3, class: 'mono', placeholder: 'example.com\nshop.example.com' }), { hint: 'One host name per line (the Common Name is always included)' }),
    O: field('Organization', inp('gen-o', { autocomplete: 'organization' }), { hint: 'Only checked for OV/EV certificates' }),
    OU: field('Organization unit', inp('gen-ou')),
    L: field('City', inp('gen-l')),
    ST: field('State or province', inp('gen-st')),
    C: field('Country', inp('gen-c', { maxlength: 2, placeholder: 'NL' }), { hint: 'Two letters' }),
    emailAddress: field('E-mail', inp('gen-email', { type: 'email' })),
  };
  const keySel = select(Object.entries(KEY_TYPES).map(([k, v]) => [k, v.label]), { id: 'gen-key', value: 'rsa-2048' });
  const fKey = field('Key type', keySel, { hint: 'RSA 2048 works everywhere; EC P-256 is smaller and faster' });
  const friendly = inp('gen-friendly', { maxlength: 255 });
  const fFriendly = field('Friendly name', friendly, { hint: 'Shown in the CSR Manager and in the "use managed CSR" lists' });
  const save = managed.available ? checkbox('Save to CSR Manager', { id: 'gen-save', checked: true }) : null;
  const err = errorBox();
  const go = h('button', { type: 'submit', class: 'btn primary' }, 'Generate CSR');
  const form = h('form', { id: 'csr-generator', novalidate: true, 'aria-label': 'CSR details' },
    h('fieldset', {}, h('legend', {}, 'Certificate details'), h('div', { class: 'grid2' }, f.CN, f.SAN, f.O, f.OU, f.L, f.ST, f.C, f.emailAddress)),
    h('fieldset', {}, h('legend', {}, 'Key and storage'), fKey, fFriendly, save,
      managed.available ? null : h('p', { class: 'hint' }, 'The CSR Manager is not available on this server yet: copy or download the CSR.')),
    err, h('div', { class: 'actions' }, go,
      h('a', { href: returnPath || path('/managed_csrs') }, returnPath ? 'Back to the order' : 'Back to the CSR Manager')));
  const result = h('section', { id: 'csr-result', 'aria-live': 'polite' });
  view.append(form, result);
  f.CN.input.focus();

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    err.clear();
    Object.values(f).forEach((x) => x.clearError());
    const subject = Object.fromEntries(['CN', 'O', 'OU', 'L', 'ST', 'C', 'emailAddress'].map((k) => [k, f[k].input.value.trim()]));
    subject.CN = subject.CN.toLowerCase();
    subject.C = subject.C.toUpperCase();
    const sans = f.SAN.input.value.split(/[\s,]+/).map((x) => x.trim().toLowerCase()).filter(Boolean);
    const problems = checkSubject(subject, sans);
    if (problems.length) {
      for (const [k, msg] of problems) (f[k] || f.SAN).setError(msg);
      (f[problems[0][0]] || f.SAN).input.focus();
      return;
    }
    busy(go, async () => {
      let out;
      try {
        out = await generateCsr(subject, sans, keySel.value);
        if (!(await selfCheck(out.csrPem, keySel.value))) throw new Error('the signature of the new CSR does not verify');
      } catch (e2) {
        err.show(`The browser could not create the key or the CSR: ${e2.message}`);
        return;
      }
      let saved = null;
      let saveErr = null;
      if (save && save.input.checked) {
        try { saved = await saveManagedCsr(out.csrPem, friendly.value.trim() || subject.CN); } catch (e3) { saveErr = e3; }
      }
      showResult(ctx, result, out, { saved, saveErr, returnPath, cn: subject.CN });
    });
  });
}

function showResult(ctx, result, out, { saved, saveErr, returnPath, cn }) {
  const file = `${cn.replace(/\*/g, 'STAR').replace(/[^A-Za-z0-9_-]/g, '_')}`;
  const keyLink = downloadLink('Download the private key', `${file}.key`, out.keyPem, 'application/x-pem-file', 'btn primary');
  keyLink.id = 'download-key';
  const csrTa = h('textarea', { id: 'generated-csr', class: 'csr mono', readOnly: true }, out.csrPem);
  fill(result, 
    h('h2', { tabindex: '-1' }, 'Your CSR is ready'),
    notice('success', `A ${KEY_TYPES[out.keyType].label} key and a CSR for ${out.names.join(', ')} were created in your browser.`),
    h('div', { class: 'warning-key', role: 'alert', id: 'key-warning' },
      h('h3', {}, h('img', { src: '/img/warning.svg', alt: '', class: 'icon' }), ' Save your private key now'),
      h('p', {}, 'The private key exists only in this browser window; it was not sent to the server and cannot be recovered. ',
        'Download it now and keep it in a safe place: you need it to install any certificate issued for this CSR. ',
        'Whoever has the key can use the certificate: if it is lost or stolen, the certificate must be reissued with a new key.'),
      h('p', {}, keyLink)),
    h('div', { class: 'field' }, h('label', { for: 'generated-csr' }, 'CSR (certificate signing request)'), csrTa),
    h('div', { class: 'actions' }, copyButton(out.csrPem, 'Copy the CSR'),
      downloadLink('Download the CSR', `${file}.csr`, out.csrPem, 'application/pkcs10', 'btn')),
    saved ? notice('success', 'Saved to the CSR Manager. ', h('a', { href: ctx.path(`/managed_csrs/${saved.id}`) }, 'View it')) : null,
    saveErr ? notice('error', `The CSR could not be saved to the CSR Manager: ${saveErr.plain || saveErr.message}`) : null,
    returnPath ? h('div', { class: 'actions' }, h('button', { type: 'button', class: 'btn primary', id: 'use-csr',
      onClick: () => { handBack(returnPath, out.csrPem); ctx.navigate(returnPath); } }, 'Use this CSR for the order')) : null);
  result.querySelector('h2').focus();
  announce('The CSR is ready. Download the private key now.');
}
