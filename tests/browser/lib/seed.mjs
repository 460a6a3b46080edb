// Real data for the browser tests, through the CLI and the API (no fakes):
//  - team "demo" (devserver.sh: user demo, owner, 1000.00 EUR) with orders created
//    through POST /ssl/orders;
//  - teams "bench-1" and "bench-2" (folders) with synthetic orders in every status (sslordersctl seed
//    orders), demo is a member there too (so sign-in asks for the team);
//  - a viewer user "vera" only in demo.
import { csr } from './harness.mjs';

export async function seed(server) {
  server.ctl(['seed', 'orders', '--teams', '2', '--orders', '90']);
  server.ctl(['member', 'add', 'bench-2', 'demo', 'owner']);
  server.ctl(['member', 'add', 'bench-1', 'demo', 'owner']);
  server.ctl(['balance', 'credit', 'bench-1', '3000', '--note', 'browser tests']);
  server.addUser('vera', 'vera-password-1');
  // the provider's own staff (accepts validation documents)
  server.ctl(['user', 'add', 'staffer', '--staff'], 'staff-password-1\n');
  server.ctl(['member', 'add', 'demo', 'staffer', 'viewer']);
  server.ctl(['member', 'add', 'demo', 'vera', 'viewer']);

  const api = await server.client('demo', server.password, 'demo');
  const bench = await server.client('demo', server.password, 'bench-1');
  const bench2 = await server.client('demo', server.password, 'bench-2');
  const made = {};
  // a bought order waiting for its details ("unused"), and orders with a CSR
  made.unused = (await api.post('/ssl/orders', { product_id: 1, period: 1 })).id;
  made.shopCsr = csr('shop.example.org', ['shop.example.org', 'www.shop.example.org']);
  made.withCsr = (await api.post('/ssl/orders', { product_id: 1, period: 1, csr: csr('alpha.example.com'), software_id: 'nginx' })).id;
  made.multi = (await api.post('/ssl/orders', {
    product_id: 3, period: 2, csr: csr('multi.example.net', ['multi.example.net', 'api.example.net', 'cdn.example.net']),
  })).id;
  const staff = await server.client('staffer', 'staff-password-1');
  return { api, bench, bench2, staff, made, password: server.password };
}

/**
 * An issued order, through the real flow: a CSR, HTTP validation methods, the file
 * published on the test web site, "validate" -> ACT with a certificate.
 */
export async function issueOrder(server, api, cn, productId = 1) {
  const id = (await api.post('/ssl/orders', { product_id: productId, period: 1, csr: csr(cn), software_id: 'nginx' })).id;
  let o = await api.get(`/ssl/orders/${id}`);
  await api.put(`/ssl/orders/${id}`, {
    domain_validation_methods: o.host_names.map((h) => ({ host_name: h, method: 'http' })), start_provision: true,
  });
  o = await api.get(`/ssl/orders/${id}`);
  for (const ad of o.additional_data) server.publish(ad.file_location, `${ad.file_contents}\n`);
  await api.post(`/ssl/orders/${id}/validate`, {});
  o = await api.get(`/ssl/orders/${id}`);
  if (o.status !== 'ACT') throw new Error(`order ${id} was not issued: ${o.status}`);
  return o;
}
