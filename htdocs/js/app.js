// The portal: one page, history routing. httpd answers every portal URL that is not
// a file with index.html (FallbackResource), so /<team>/managed_csrs works as a link.
import { h, clear, icon } from './dom.js';
import { api, onUnauthorized, errorText } from './api.js';
import { state, loadSession, switchTeam, signOut, loadMe } from './session.js';
import { notice, takeFlash, announce } from './ui.js';
import { loadCart } from './cart.js';
import { money } from './format.js';
import { loadBrand, brandMark, brand } from './brand.js';

// the provider's name (SSLOrdersBrandName), from GET /branding at the first render
let APP = 'SSL Orders';

// path pattern -> page module (js/pages/<module>.js) and its export
const ROUTES = [
  ['/signin', 'signin', 'render', { public: true }],
  ['/:team', 'orders'],
  ['/:team/orders', 'orders'],
  ['/:team/orders/:id', 'order'],
  ['/:team/orders/:id/complete', 'complete'],
  ['/:team/orders/:id/validation', 'validation'],
  ['/:team/orders/:id/renew', 'renew'],
  ['/:team/orders/:id/reprocess', 'reprocess'],
  ['/:team/orders/:id/documents', 'documents'],
  ['/:team/orders/:id/seal', 'seal'],
  ['/:team/shop', 'shop'],
  ['/:team/cart', 'cart'],
  ['/:team/managed_csrs', 'csrs'],
  ['/:team/managed_csrs/new', 'csrgen'],
  ['/:team/managed_csrs/:id', 'csrs', 'renderOne'],
  ['/:team/folders', 'folders'],
  ['/:team/folders/explorer', 'folders', 'renderExplorer'],
  ['/:team/webhooks', 'webhooks'],
  ['/:team/webhooks/:id', 'webhooks', 'renderDeliveries'],
  ['/:team/security', 'security'],
  ['/:team/audit', 'audit'],
  ['/:team/acme', 'acme'],
].map(([pattern, module, fn, opts]) => ({ pattern, module, fn: fn || 'render', ...(opts || {}) }));

function match(pathname) {
  const parts = pathname.split('/').filter(Boolean).map(decodeURIComponent);
  for (const r of ROUTES) {
    const pp = r.pattern.split('/').filter(Boolean);
    if (pp.length !== parts.length) continue;
    const params = {};
    let ok = true;
    for (let i = 0; i < pp.length && ok; i += 1) {
      if (pp[i].startsWith(':')) {
        if (pp[i] === ':id' && !/^[0-9]+$/.test(parts[i]) && r.module !== 'csrs') ok = false;
        params[pp[i].slice(1)] = parts[i];
      } else if (pp[i] !== parts[i]) ok = false;
    }
    if (ok && params.team && ['signin', 'js', 'css', 'img', 'v1beta', 'seal'].includes(params.team)) ok = false;
    if (ok) return { route: r, params };
  }
  return null;
}

const main = () => document.getElementById('main');
let renderSeq = 0;
let sessionLoaded = false;
let firstRender = true;

export function navigate(url, opts = {}) {
  if (opts.replace) window.history.replaceState({}, '', url);
  else window.history.pushState({}, '', url);
  return render();
}

export function teamPath(rest = '') {
  const t = state.session && state.session.team ? state.session.team.slug : '';
  return `/${encodeURIComponent(t)}${rest}`;
}

// ---- the header: navigation, the cart's overview, balance, team, sign out ----

let headerEls = null;

function navLink(href, label) {
  const current = window.location.pathname === href || window.location.pathname.startsWith(`${href}/`);
  return h('li', {}, h('a', { href, 'aria-current': current ? 'page' : null }, label));
}

export async function refreshHeader() {
  if (!headerEls || !state.session) return;
  const t = state.session.team;
  try {
    const me = await loadMe();
    headerEls.balance.textContent = `Balance: ${money(me.team.balance, me.team.currency)}`;
  } catch (e) {
    headerEls.balance.textContent = '';
  }
  // invitations to other teams wait on the Security page
  api('GET', '/invitations').then((d) => {
    if (!headerEls) return;
    const n = d.total || 0;
    headerEls.invitations.hidden = n === 0;
    headerEls.invitations.textContent = `Invitations (${n})`;
  }).catch(() => {});
  const cart = await loadCart().catch(() => null);
  const a = headerEls.cart;
  if (cart && cart.available) {
    const label = `Cart: ${cart.count} item${cart.count === 1 ? '' : 's'}, ${money(cart.total, cart.currency || t.currency)}`;
    // the visible text is the accessible name (axe: label-content-name-mismatch)
    a.replaceChildren(icon('cart'), ` Cart: ${cart.count} · ${money(cart.total, cart.currency || t.currency)}`);
    a.removeAttribute('aria-label');
    a.title = label;
    a.dataset.count = String(cart.count);
  } else {
    a.replaceChildren(icon('cart'), ' Cart');
    a.removeAttribute('aria-label');
    a.dataset.count = '0';
  }
}

function renderHeader() {
  const header = document.getElementById('site-header');
  clear(header);
  headerEls = null;
  const s = state.session;
  if (!s) {
    header.append(h('div', { class: 'bar' }, h('a', { class: 'brand', href: '/signin' }, ...brandMark(h, icon))));
    return;
  }
  const slug = s.team.slug;
  const p = (x) => `/${encodeURIComponent(slug)}${x}`;
  const navId = 'main-nav';
  const toggle = h('button', { type: 'button', class: 'menu-toggle', 'aria-expanded': 'false', 'aria-controls': navId }, 'Menu');
  const nav = h('nav', { id: navId, 'aria-label': 'Main' }, h('ul', {},
    navLink(p('/orders'), 'Orders'), navLink(p('/shop'), 'Shop'),
    navLink(p('/managed_csrs'), 'CSR Manager'), navLink(p('/folders'), 'Folders'),
    ['admin', 'owner'].includes(s.team.role) ? navLink(p('/webhooks'), 'Webhooks') : null,
    navLink(p('/acme'), 'ACME'),
    navLink(p('/security'), 'Security'),
    ['owner', 'admin'].includes(s.team.role) ? navLink(p('/audit'), 'Audit') : null));
  toggle.addEventListener('click', () => {
    const open = toggle.getAttribute('aria-expanded') !== 'true';
    toggle.setAttribute('aria-expanded', String(open));
    header.classList.toggle('nav-open', open);
  });
  const cart = h('a', { class: 'cart-overview', href: p('/cart'), id: 'cart-overview' }, icon('cart'), ' Cart');
  const balance = h('span', { class: 'balance', id: 'balance' });
  const invitations = h('a', { class: 'invitations-link', id: 'invitations-link', href: p('/security'), hidden: true }, 'Invitations');
  let teamEl;
  if (s.teams && s.teams.length > 1) {
    const sel = h('select', { id: 'team-switch', 'aria-label': 'Team' },
      s.teams.map((t) => h('option', { value: t.slug, selected: t.slug === slug }, `${t.name} (${t.role})`)));
    sel.addEventListener('change', async () => {
      try {
        await switchTeam(sel.value);
        announce(`Switched to team ${state.session.team.name}`);
        navigate(teamPath('/orders'));
      } catch (e) {
        sel.value = slug;
        header.append(notice('error', errorText(e)));
      }
    });
    teamEl = h('span', { class: 'team' }, h('label', { for: 'team-switch', class: 'sr-only' }, 'Team'), sel);
  } else {
    teamEl = h('span', { class: 'team', title: `Team ${s.team.name}` }, s.team.name);
  }
  const out = h('button', { type: 'button', class: 'btn small sign-out' }, 'Sign out');
  out.addEventListener('click', async () => {
    await signOut().catch(() => {});
    navigate('/signin');
  });
  header.append(h('div', { class: 'bar' },
    h('a', { class: 'brand', href: p('/orders') }, ...brandMark(h, icon)),
    toggle, nav,
    h('div', { class: 'account' }, invitations, cart, balance, teamEl,
      brand.support_url ? h('a', { class: 'support', href: brand.support_url, id: 'support-link' }, 'Help') : null,
      h('span', { class: 'user' }, icon('user'), ` ${s.username}`), out)));
  headerEls = { cart, balance, invitations };
  refreshHeader();
}

// ---- rendering a route ----

async function render() {
  const seq = ++renderSeq;
  const url = new URL(window.location.href);
  let path = url.pathname.replace(/\/+$/, '') || '/';
  if (!sessionLoaded) {
    try {
      APP = (await loadBrand()).name;
      await loadSession();
      sessionLoaded = true;
    } catch (e) {
      main().replaceChildren(notice('error', errorText(e)));
      return;
    }
  }
  if (path === '/' || path === '/index.html') {
    return navigate(state.session ? teamPath('/orders') : '/signin', { replace: true });
  }
  const m = match(path);
  if (m && !m.route.public && !state.session) {
    return navigate(`/signin?next=${encodeURIComponent(url.pathname + url.search)}`, { replace: true });
  }
  if (m && m.params.team && state.session && m.params.team !== state.session.team.slug) {
    const t = (state.session.teams || []).find((x) => x.slug === m.params.team);
    if (t) {
      try {
        await switchTeam(t.slug);
      } catch (e) {
        main().replaceChildren(notice('error', errorText(e)));
        return;
      }
    } else {
      renderHeader();
      main().replaceChildren(h('div', { class: 'view' }, h('h1', { tabindex: '-1' }, 'Not your team'),
        h('p', {}, `You are not a member of the team "${m.params.team}".`),
        h('p', {}, h('a', { href: teamPath('/orders') }, 'Back to your orders'))));
      document.title = `Not your team — ${APP}`;
      return;
    }
  }
  if (seq !== renderSeq) return;
  renderHeader();
  const view = h('div', { class: 'view' });
  const fl = takeFlash();
  main().replaceChildren(...(fl ? [fl] : []), view);
  if (!m) {
    view.append(h('h1', { tabindex: '-1' }, 'Page not found'),
      h('p', {}, 'There is no page at this address. '),
      h('p', {}, h('a', { href: state.session ? teamPath('/orders') : '/signin' }, 'Go to the Orders page')));
    document.title = `Page not found — ${APP}`;
    view.dataset.ready = 'true';
    return;
  }
  const ctx = {
    view,
    params: m.params,
    query: url.searchParams,
    session: state.session,
    team: state.session ? state.session.team.slug : '',
    path: (rest) => teamPath(rest),
    navigate,
    refreshHeader,
    setTitle: (t) => { document.title = `${t} — ${APP}`; },
    alive: () => view.isConnected && seq === renderSeq,
  };
  try {
    const mod = await import(`./pages/${m.route.module}.js`);
    await mod[m.route.fn](ctx);
  } catch (e) {
    if (!ctx.alive()) return;
    console.error(e);
    view.append(notice('error', errorText(e)));
  }
  if (seq !== renderSeq) return;
  if (!firstRender) {
    const h1 = view.querySelector('h1');
    if (h1) {
      if (!h1.hasAttribute('tabindex')) h1.setAttribute('tabindex', '-1');
      h1.focus({ preventScroll: false });
    }
    window.scrollTo(0, 0);
  }
  firstRender = false;
  view.dataset.ready = 'true';
}

// same-origin links are handled here (no reload); API links (downloads, CSV), new
// windows and modified clicks are left to the browser
document.addEventListener('click', (e) => {
  if (e.defaultPrevented || e.button !== 0 || e.ctrlKey || e.metaKey || e.shiftKey || e.altKey) return;
  const a = e.target.closest('a');
  if (!a || !a.href || a.target || a.hasAttribute('download') || a.dataset.native !== undefined) return;
  const u = new URL(a.href);
  if (u.origin !== window.location.origin) return;
  if (/^\/(v1beta|seal|pub|css|js|img)(\/|$)/.test(u.pathname)) return;
  if (u.pathname === window.location.pathname && u.search === window.location.search && u.hash) return;
  e.preventDefault();
  navigate(u.pathname + u.search + u.hash);
});

window.addEventListener('popstate', () => render());

onUnauthorized(() => {
  state.session = null;
  const here = window.location.pathname + window.location.search;
  if (window.location.pathname !== '/signin') navigate(`/signin?next=${encodeURIComponent(here)}`, { replace: true });
});

render();
