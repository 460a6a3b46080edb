// The customer portal in a real browser: one server with real data, one Chromium,
// every flow of issue 7. Run: make test-browser (or: node --test portal.test.mjs).
import { before, after } from 'node:test';
import { Server, launchBrowser } from './lib/harness.mjs';
import { seed } from './lib/seed.mjs';

import signin from './flows/signin.mjs';
import orders from './flows/orders.mjs';
import shop from './flows/shop.mjs';
import csrFlows from './flows/csr.mjs';
import lifecycle from './flows/lifecycle.mjs';
import folderFlows from './flows/folders.mjs';
import issued from './flows/issued.mjs';
import webhooks from './flows/webhooks.mjs';
import security from './flows/security.mjs';
import customer from './flows/customer.mjs';
import acme from './flows/acme.mjs';

const env = {};

before(async () => {
  env.server = await new Server().start();
  env.browser = await launchBrowser();
  Object.assign(env, await seed(env.server));
}, { timeout: 120000 });

after(async () => {
  if (env.browser) await env.browser.close();
  if (env.server) {
    env.server.stop();
    const log = env.server.finalLog || '';
    // "[sslorders:error]", "[core:warn]", ...; a child that crashed (AH00052 is a notice);
    // an assertion of a library (written to stderr, which is the error log)
    const bad = log.split('\n').filter((l) => /\[[a-z_0-9]+:(warn|error|crit|alert|emerg)\]|exit signal (Segmentation|Abort|Bus|Illegal|Floating|Trace)|Assertion .* failed/.test(l));
    if (bad.length && !process.env.SO_ALLOW_ERRORS) {
      throw new Error(`httpd error log:\n${bad.join('\n')}`);
    }
  }
});

signin(env);
orders(env);
shop(env);
csrFlows(env);
lifecycle(env);
folderFlows(env);
issued(env);
webhooks(env);
security(env);
customer(env);
acme(env);
