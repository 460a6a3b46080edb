// The portal session: the cookie is HttpOnly (JavaScript never sees it); what the
// page keeps is the CSRF token, the user name and the current team.
import { api, setCsrfToken, ApiError, forgetFeatures } from './api.js';

export const state = {
  session: null, // {csrf_token, username, is_staff, team: {id, slug, name, role, currency}, teams: [...]}
  me: null, // GET /me: {team: {balance, ...}}
};

const teamCache = new Map();

/** Per-team memo for data that rarely changes during a visit (the catalogue). */
export function cached(key, load) {
  const slug = state.session && state.session.team ? state.session.team.slug : '';
  const k = `${slug}:${key}`;
  if (!teamCache.has(k)) {
    const p = load().catch((e) => { teamCache.delete(k); throw e; });
    teamCache.set(k, p);
  }
  return teamCache.get(k);
}

export function dropCache(key) {
  for (const k of [...teamCache.keys()]) if (!key || k.endsWith(`:${key}`)) teamCache.delete(k);
}

function adopt(d) {
  state.session = d;
  setCsrfToken(d ? d.csrf_token : '');
}

const HINT = 'so_signed_in';
const signedInHint = () => document.cookie.split(';').some((c) => c.trim() === `${HINT}=1`);

/** The current session, or null when not signed in. The server sets the readable
 * so_signed_in cookie next to the HttpOnly session cookie: without it a visit is
 * signed out and GET /auth/session (a 401) is not asked. */
export async function loadSession() {
  if (!signedInHint()) {
    adopt(null);
    return null;
  }
  try {
    adopt(await api('GET', '/auth/session', { allow401: true }));
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) {
      adopt(null);
      document.cookie = `${HINT}=; Path=/; Max-Age=0; SameSite=Strict`;
    } else throw e;
  }
  return state.session;
}

export async function signIn(username, password, otp) {
  const body = { username, password };
  if (otp) body.otp = otp;
  const d = await api('POST', '/auth/session', { body, allow401: true });
  adopt(d);
  state.me = null;
  dropCache();
  forgetFeatures();
  return d;
}

export async function switchTeam(slug) {
  await api('PUT', '/auth/session', { body: { team: slug } });
  await loadSession();
  state.me = null;
  dropCache();
  return state.session;
}

export async function signOut() {
  try {
    await api('DELETE', '/auth/session', { allow401: true });
  } finally {
    adopt(null);
    state.me = null;
    dropCache();
  }
}

export async function loadMe() {
  state.me = await api('GET', '/me');
  return state.me;
}

export function team() {
  return state.session ? state.session.team : null;
}

export function canEdit() {
  const t = team();
  return Boolean(t && t.role !== 'viewer');
}
