import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { newPage, signIn, shot, ready, assertNoProblems } from '../lib/harness.mjs';

export default function (env) {
  describe('orders page', () => {
    it('lists the orders', async () => {
      const page = await newPage(env.browser, env.server);
      await signIn(page, 'demo', env.password, 'bench-1');
      await shot(page, 'orders-list');
      assertNoProblems(page);
      await page.context().close();
    });
  });
}
