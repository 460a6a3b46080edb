// Security: invitations to teams, the user's sessions, the password, two-factor sign-in.
// The 2FA secret is shown as a QR code (drawn by the server: POST /me/2fa answers qr_svg),
// as text and as an otpauth:// link; authenticator apps scan the code, take the secret
// typed in or the link opened on the phone.
import { h, fill } from '../dom.js';
import { api } from '../api.js';
import { field, errorBox, busy, announce, notice } from '../ui.js';
import { loadSession, state } from '../session.js';
import { fmtTime } from './security-format.js';

function section(id, title, ...content) {
  return h('section', { class: 'card', 'aria-labelledby': id }, h('h2', { id }, title), ...content);
}

async function invitations(ctx, box) {
  const list = (await api('GET', '/invitations')).results;
  if (!list.length) { fill(box, h('p', { id: 'no-invitations' }, 'No invitations are waiting for you.')); return; }
  const err = errorBox();
  const ul = h('ul', { class: 'invitations', id: 'invitation-list' });
  for (const i of list) {
    const yes = h('button', { type: 'button', class: 'btn primary small' }, 'Accept');
    const no = h('button', { type: 'button', class: 'btn small' }, 'Decline');
    const decide = (b, what) => busy(b, async () => {
      try {
        await api('POST', `/invitations/${i.id}/${what}`);
        announce(what === 'accept' ? `You joined ${i.team.name}` : 'Invitation declined');
        await loadSession();
        if (what === 'accept') {
          ctx.navigate(ctx.path('/security')); // the header shows the new team
          return;
        }
        await invitations(ctx, box);
      } catch (e) { err.show(e); }
    });
    yes.addEventListener('click', () => decide(yes, 'accept'));
    no.addEventListener('click', () => decide(no, 'decline'));
    ul.append(h('li', { 'data-invitation': String(i.id) },
      `${i.team.name} (${i.team.slug}) as ${i.role}`, i.invited_by ? `, from ${i.invited_by}` : '',
      `, until ${fmtTime(i.expires_at)} `, yes, ' ', no));
  }
  fill(box, err, ul);
}

async function sessions(box) {
  const err = errorBox();
  const rows = (await api('GET', '/auth/sessions')).results;
  const tbody = h('tbody');
  for (const s of rows) {
    const end = h('button', { type: 'button', class: 'btn small', disabled: s.current }, s.current ? 'This session' : 'End');
    end.addEventListener('click', () => busy(end, async () => {
      try { await api('DELETE', `/auth/sessions/${s.id}`); announce('Session ended'); await sessions(box); } catch (e) { err.show(e); }
    }));
    tbody.append(h('tr', { 'data-session': String(s.id) },
      h('td', {}, fmtTime(s.created_at)), h('td', {}, fmtTime(s.last_used_at)), h('td', {}, s.ip || '-'),
      h('td', { class: 'ua' }, s.user_agent || '-'), h('td', {}, s.team), h('td', {}, end)));
  }
  const others = h('button', { type: 'button', class: 'btn', id: 'end-other-sessions' }, 'Sign out everywhere else');
  others.addEventListener('click', () => busy(others, async () => {
    try { await api('DELETE', '/auth/sessions'); announce('Other sessions ended'); await sessions(box); } catch (e) { err.show(e); }
  }));
  fill(box, err, h('table', { class: 'table', id: 'sessions-table' },
    h('caption', { class: 'sr-only' }, 'Your sessions'),
    h('thead', {}, h('tr', {}, ['Signed in', 'Last used', 'Address', 'Browser', 'Team', ''].map((t) => h('th', { scope: 'col' }, t)))),
    tbody), h('div', { class: 'actions' }, others));
}

function passwordForm() {
  const oldp = h('input', { type: 'password', autocomplete: 'current-password', id: 'old-password' });
  const newp = h('input', { type: 'password', autocomplete: 'new-password', id: 'new-password' });
  const endTokens = h('input', { type: 'checkbox', id: 'end-tokens' });
  const fo = field('Current password', oldp, { required: true });
  const fn = field('New password', newp, { required: true, hint: 'At least 10 characters.' });
  const err = errorBox();
  const done = h('p', { class: 'notice notice-success', role: 'status', hidden: true, id: 'password-changed' });
  const save = h('button', { type: 'submit', class: 'btn primary' }, 'Change password');
  const form = h('form', { id: 'password-form', novalidate: true }, fo, fn,
    h('div', { class: 'check' }, endTokens, h('label', { for: 'end-tokens' }, 'Also end my API tokens')), err, done,
    h('div', { class: 'actions' }, save));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    fo.clearError(); fn.clearError(); err.clear(); done.hidden = true;
    if (!oldp.value) { fo.setError('Enter your current password.'); oldp.focus(); return; }
    if (newp.value.length < 10) { fn.setError('The new password needs at least 10 characters.'); newp.focus(); return; }
    busy(save, async () => {
      try {
        await api('PUT', '/me/password', { body: { old_password: oldp.value, new_password: newp.value, end_tokens: endTokens.checked } });
        oldp.value = ''; newp.value = '';
        done.textContent = 'Password changed. Your other sessions were ended.';
        done.hidden = false;
      } catch (e2) { err.show(e2); }
    });
  });
  return form;
}

async function twoFactor(box) {
  const st = await api('GET', '/me/2fa');
  const err = errorBox();
  if (st.enabled) {
    const code = h('input', { type: 'text', inputmode: 'numeric', autocomplete: 'one-time-code', id: 'tfa-off-code' });
    const fc = field('Code from your app (or a recovery code)', code, { required: true });
    const off = h('button', { type: 'submit', class: 'btn' }, 'Turn two-factor sign-in off');
    const form = h('form', { id: 'tfa-off-form', novalidate: true }, fc, err, h('div', { class: 'actions' }, off));
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      err.clear();
      busy(off, async () => {
        try { await api('DELETE', '/me/2fa', { body: { otp: code.value.trim() } }); announce('Two-factor sign-in is off'); await twoFactor(box); } catch (e2) { err.show(e2); }
      });
    });
    fill(box, h('p', { id: 'tfa-state' }, 'Two-factor sign-in is on: signing in asks for a code from your authenticator app.'), form);
    return;
  }
  const start = h('button', { type: 'button', class: 'btn primary', id: 'tfa-start' }, 'Turn on two-factor sign-in');
  start.addEventListener('click', () => busy(start, async () => {
    try {
      const en = await api('POST', '/me/2fa');
      const code = h('input', { type: 'text', inputmode: 'numeric', autocomplete: 'one-time-code', id: 'tfa-code', maxlength: 6 });
      const fc = field('The 6-digit code your app shows', code, { required: true });
      const confirm = h('button', { type: 'submit', class: 'btn primary' }, 'Confirm');
      const form = h('form', { id: 'tfa-confirm-form', novalidate: true }, fc, err, h('div', { class: 'actions' }, confirm));
      form.addEventListener('submit', (e) => {
        e.preventDefault();
        err.clear();
        busy(confirm, async () => {
          try {
            const r = await api('POST', '/me/2fa/confirm', { body: { otp: code.value.trim() } });
            fill(box, notice('success', 'Two-factor sign-in is on.'),
              h('p', {}, 'Keep these recovery codes somewhere safe. Each signs you in once if you lose your device; they are not shown again.'),
              h('ol', { id: 'recovery-codes', class: 'mono' }, r.recovery_codes.map((c) => h('li', {}, c))));
            announce('Two-factor sign-in is on');
          } catch (e2) { err.show(e2); }
        });
      });
      // the server draws the QR code (an SVG document): shown as a data: image (img-src
      // 'self' data: in the portal's Content-Security-Policy; no markup of it enters the page)
      const qr = h('img', { id: 'tfa-qr', class: 'tfa-qr', width: 200, height: 200,
        alt: 'QR code of the otpauth link for your authenticator app',
        src: 'data:image/svg+xml;charset=utf-8,' + encodeURIComponent(en.qr_svg) });
      fill(box, h('p', {}, 'Add this account to your authenticator app: scan the QR code, type the secret, or open the link on your phone.'),
        h('p', {}, qr),
        h('p', {}, 'Secret: ', h('code', { id: 'tfa-secret' }, en.secret)),
        h('p', {}, h('a', { href: en.otpauth_uri, id: 'tfa-uri', 'data-native': '' }, 'Open in the authenticator app')),
        form);
      code.focus();
    } catch (e) { err.show(e); }
  }));
  fill(box, h('p', { id: 'tfa-state' }, 'Two-factor sign-in is off.'), err, h('div', { class: 'actions' }, start));
}

export async function render(ctx) {
  const { view } = ctx;
  ctx.setTitle('Security');
  const inv = h('div', { id: 'invitations' });
  const ses = h('div', { id: 'sessions' });
  const tfa = h('div', { id: 'two-factor' });
  view.append(h('h1', { tabindex: '-1' }, 'Security'),
    h('p', {}, `Signed in as ${state.session.username}.`),
    section('sec-invitations', 'Invitations', inv),
    section('sec-sessions', 'Sessions', ses),
    section('sec-password', 'Password', passwordForm()),
    section('sec-2fa', 'Two-factor sign-in', tfa));
  await Promise.all([invitations(ctx, inv), sessions(ses), twoFactor(tfa)]);
}
