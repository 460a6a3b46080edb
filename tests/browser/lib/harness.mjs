// The browser tests' harness: a real server (scripts/devserver.sh, SQLite, the
// module just built) on a free port with real data, and Debian's Chromium driven
// by playwright-core. Nothing here fakes an API answer.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, chmodSync, readFileSync, mkdirSync, rmSync, existsSync } from 'node:fs';
import { createServer } from 'node:net';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const SHOTS = path.join(ROOT, 'tests/browser/screenshots');
const BUILD = process.env.SO_BUILD || path.join(ROOT, 'build');

export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'];

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', ...opts });
  if (r.status !== 0 && !opts.allowFail) {
    throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  }
  return r;
}

export class Server {
  async start() {
    // the customers' web sites: domain validation probes (HTTP) of every name are sent
    // here (SSLOrdersDCVConnectTo); a test publishes a file as the portal told it to
    this.published = new Map();
    this.web = http.createServer((req, res) => {
      const host = String(req.headers.host || '').replace(/:\d+$/, '').toLowerCase();
      const body = this.published.get(`${host}${req.url}`);
      res.writeHead(body === undefined ? 404 : 200, { 'Content-Type': 'text/plain' });
      res.end(body === undefined ? 'not found' : body);
    });
    await new Promise((resolve) => this.web.listen(0, '127.0.0.1', resolve));
    this.port = await freePort();
    this.var = mkdtempSync(path.join(tmpdir(), 'so-browser-'));
    chmodSync(this.var, 0o755); // httpd's children (www-data) must reach it
    this.base = `http://127.0.0.1:${this.port}`;
    this.env = {
      ...process.env, VAR: this.var, PORT: String(this.port), BUILD, LOG_LEVEL: 'warn sslorders:info',
      EXTRA_CONF: `SSLOrdersDCVConnectTo *:80 127.0.0.1:${this.web.address().port}\n`
        + 'SSLOrdersWebhookAllowHTTP on\nSSLOrdersWebhookAllowPrivate on', // webhooks.mjs: a local receiver
    };
    run(path.join(ROOT, 'scripts/devserver.sh'), ['start'], { env: this.env, cwd: ROOT });
    this.password = readFileSync(path.join(this.var, 'demo-credentials'), 'utf8').trim();
    return this;
  }

  /** Publish a file on a customer's web site: http://<host><path> answers body. */
  publish(url, body) {
    const u = new URL(url);
    this.published.set(`${u.hostname}${u.pathname}`, body);
  }

  stop() {
    if (this.web) this.web.close();
    if (!this.var) return;
    run(path.join(ROOT, 'scripts/devserver.sh'), ['stop'], { env: this.env, cwd: ROOT, allowFail: true });
    this.finalLog = this.errorLog(); // with what the children logged as they stopped
    if (!process.env.SO_KEEP) rmSync(this.var, { recursive: true, force: true });
    else console.log(`kept ${this.var}`);
  }

  /** build/sslordersctl on this server's database */
  ctl(args, input) {
    return run(path.join(BUILD, 'sslordersctl'), ['--driver', 'sqlite3', '--params', path.join(this.var, 'sslorders.db'), ...args],
      { input }).stdout.trim();
  }

  addUser(name, password) {
    this.ctl(['user', 'add', name], `${password}\n`);
  }

  errorLog() {
    const f = path.join(this.var, 'logs/error.log');
    return existsSync(f) ? readFileSync(f, 'utf8') : '';
  }

  /** An API client with a bearer token (POST /auth/login), for test data and checks. */
  async client(username, password, team) {
    const c = new Client(this.base);
    await c.login(username, password, team);
    return c;
  }
}

export class Client {
  constructor(base) { this.base = base; this.token = ''; }

  async login(username, password, team) {
    const d = await this.call('POST', '/auth/login', { username, password, ...(team ? { team } : {}) });
    this.token = d.token;
    return d;
  }

  async raw(method, p, body, headers = {}) {
    const h = { Accept: 'application/json', ...headers };
    if (this.token) h.Authorization = `Bearer ${this.token}`;
    let b;
    if (body !== undefined) { b = JSON.stringify(body); h['Content-Type'] = 'application/json'; }
    return fetch(`${this.base}/v1beta${p}`, { method, headers: h, body: b });
  }

  async call(method, p, body, headers) {
    const r = await this.raw(method, p, body, headers);
    const j = await r.json().catch(() => null);
    if (!r.ok || !j || j.code !== 0) {
      const e = new Error(`${method} ${p}: HTTP ${r.status} ${JSON.stringify(j)}`);
      e.status = r.status;
      e.code = j && j.code;
      throw e;
    }
    return j.data;
  }

  get(p) { return this.call('GET', p); }
  post(p, b, h) { return this.call('POST', p, b === undefined ? {} : b, h); }
  put(p, b) { return this.call('PUT', p, b); }
  del(p) { return this.call('DELETE', p); }

  /** Does the server have this endpoint? (104 = no such endpoint) */
  async has(method, p, body) {
    const r = await this.raw(method, p, body);
    const j = await r.json().catch(() => null);
    return !(r.status === 404 && j && j.code === 104) && r.status !== 405;
  }
}

export async function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: CHROMIUM_ARGS,
  });
}

/**
 * A fresh, isolated browser context and page. Console errors, page errors and
 * CSP violations are collected: a test fails when the portal logs one.
 */
export async function newPage(browser, server, opts = {}) {
  const context = await browser.newContext({
    baseURL: server.base,
    acceptDownloads: true,
    viewport: opts.viewport || { width: 1280, height: 900 },
    ...(opts.context || {}),
  });
  const page = await context.newPage();
  page.setDefaultTimeout(opts.timeout || 10000);
  page.problems = [];
  page.on('pageerror', (e) => page.problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') {
      const t = m.text();
      // failed API calls are shown to the user; the browser also logs them
      if (/Failed to load resource: the server responded with a status of (4\d\d|5\d\d)/.test(t)) return;
      page.problems.push(`console error: ${t}`);
    }
  });
  return page;
}

export async function shot(page, name) {
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
}

/** Sign in through the form; choose the team when asked. */
export async function signIn(page, username, password, team) {
  await page.goto('/signin');
  await page.getByLabel('User name').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  const chooser = page.getByRole('heading', { name: 'Choose a team' });
  const orders = page.getByRole('heading', { name: 'Orders', exact: true });
  await Promise.race([chooser.waitFor(), orders.waitFor()]);
  if (await chooser.isVisible()) {
    await page.locator(`button[data-team="${team || 'demo'}"]`).click();
    await orders.waitFor();
  }
  await ready(page);
}

/** Wait until the current page finished rendering. */
export async function ready(page) {
  await page.locator('#main > .view[data-ready="true"]').waitFor();
}

export function assertNoProblems(page) {
  if (page.problems.length) throw new Error(`browser problems:\n${page.problems.join('\n')}`);
}

export function csr(cn, sans = [], keyType = 'rsa') {
  const dir = mkdtempSync(path.join(tmpdir(), 'so-csr-'));
  const key = path.join(dir, 'k.pem');
  const args = ['req', '-new', '-nodes', '-keyout', key, '-subj', `/CN=${cn}`, '-out', path.join(dir, 'c.csr')];
  if (keyType === 'ec') args.splice(2, 0, '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256');
  else args.splice(2, 0, '-newkey', 'rsa:2048');
  if (sans.length) args.push('-addext', `subjectAltName=${sans.map((s) => `DNS:${s}`).join(',')}`);
  run('openssl', args);
  const out = readFileSync(path.join(dir, 'c.csr'), 'utf8');
  rmSync(dir, { recursive: true, force: true });
  return out;
}
