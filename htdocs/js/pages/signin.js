// Sign in: user name and password (POST /v1beta/auth/session sets the HttpOnly
// cookie and gives the CSRF token); a user in several teams chooses one.
import { h } from '../dom.js';
import { errorText } from '../api.js';
import { field, errorBox, busy } from '../ui.js';
import { state, signIn, switchTeam } from '../session.js';

function safeNext(next, slug) {
  // only a path of this portal, never another origin (//evil, /\evil)
  if (next && /^\/[A-Za-z0-9_.~%-]/.test(next) && !next.startsWith('//') && !next.startsWith('/signin')) {
    const parts = next.split('/');
    if (parts.length > 2) parts[1] = encodeURIComponent(slug);
    return parts.join('/');
  }
  return `/${encodeURIComponent(slug)}/orders`;
}

export async function render(ctx) {
  const { view } = ctx;
  ctx.setTitle('Sign in');
  const next = ctx.query.get('next');
  const box = h('div', { class: 'signin card' });
  view.append(box);

  const chooseTeam = (s) => {
    box.replaceChildren();
    const err = errorBox();
    box.append(h('h1', { tabindex: '-1' }, 'Choose a team'),
      h('p', {}, `${s.username}, you are a member of several teams. Which one do you want to work in? You can switch later from the header.`),
      err);
    const list = h('ul', { class: 'team-choice' });
    for (const t of s.teams) {
      const b = h('button', { type: 'button', class: 'btn', 'data-team': t.slug }, `${t.name} (${t.role})`);
      b.addEventListener('click', () => busy(b, async () => {
        try {
          if (t.slug !== state.session.team.slug) await switchTeam(t.slug);
          ctx.navigate(safeNext(next, t.slug));
        } catch (e) { err.show(e); }
      }));
      list.append(h('li', {}, b));
    }
    box.append(list);
    box.querySelector('h1').focus();
  };

  if (state.session && !ctx.query.get('switch')) {
    if (state.session.teams && state.session.teams.length > 1 && ctx.query.get('choose')) chooseTeam(state.session);
    else {
      box.append(h('h1', { tabindex: '-1' }, 'Signed in'),
        h('p', {}, `You are signed in as ${state.session.username}.`),
        h('p', {}, h('a', { href: `/${encodeURIComponent(state.session.team.slug)}/orders` }, 'Go to your orders')));
    }
    return;
  }

  const user = h('input', { type: 'text', name: 'username', autocomplete: 'username', autocapitalize: 'none', spellcheck: 'false' });
  const pass = h('input', { type: 'password', name: 'password', autocomplete: 'current-password' });
  const fu = field('User name', user, { required: true });
  const fp = field('Password', pass, { required: true });
  // two-factor sign-in: asked for when the server answers 162
  const otp = h('input', { type: 'text', name: 'otp', inputmode: 'numeric', autocomplete: 'one-time-code', autocapitalize: 'none' });
  const fo = field('Authentication code', otp, { hint: 'The 6-digit code of your authenticator app, or a recovery code.' });
  fo.hidden = true;
  const err = errorBox();
  const submit = h('button', { type: 'submit', class: 'btn primary' }, 'Sign in');
  const form = h('form', { novalidate: true, 'aria-labelledby': 'signin-title' }, fu, fp, fo, err, h('div', { class: 'actions' }, submit));
  box.append(h('h1', { id: 'signin-title', tabindex: '-1' }, 'Sign in to your account'),
    h('p', { class: 'muted' }, 'Manage your certificate orders, CSRs, folders and site seals.'), form);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    fu.clearError(); fp.clearError(); err.clear();
    if (!user.value.trim()) { fu.setError('Enter your user name.'); user.focus(); return; }
    if (!pass.value) { fp.setError('Enter your password.'); pass.focus(); return; }
    busy(submit, async () => {
      try {
        const s = await signIn(user.value.trim(), pass.value, fo.hidden ? '' : otp.value.trim());
        if (s.teams && s.teams.length > 1) chooseTeam(s);
        else ctx.navigate(safeNext(next, s.team.slug));
      } catch (e2) {
        if (e2.code === 162) {
          fo.hidden = false;
          err.show('Enter the code of your authenticator app.');
          otp.focus();
        } else if (e2.code === 163) {
          err.show(errorText(e2));
        } else if (e2.status === 401 && !fo.hidden) {
          err.show('Wrong user name, password or code. Check them and try again.');
          otp.value = '';
          otp.focus();
        } else if (e2.status === 401) {
          err.show('Wrong user name or password. Check both and try again.');
          pass.value = '';
          pass.focus();
        } else err.show(errorText(e2));
      }
    });
  });
  user.focus();
}
