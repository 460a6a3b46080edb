// The certificate information page: order and certificate details, tags on the
// order and on its certificates, the bundle download table (every platform, then
// "Other platforms" and "CA bundle" explained), the CSR and the order's history.
import { h, fill } from '../dom.js';
import { api, apiUrl, ApiError } from '../api.js';
import { notice, errorBox, busy, pageHeader, facts, confirmDialog, flash, copyButton } from '../ui.js';
import { when, day, money } from '../format.js';
import { loadOrder, statusBadge, detailPairs, actionsFor } from '../orders-common.js';
import { parseCertificate, fingerprint, nameString } from '../lib/x509.js';
import { tagEditor } from '../tags.js';
import { loadTags } from '../org.js';
import { canEdit } from '../session.js';

// The portal's download table when the server cannot list its formats yet
// (the same rows as src/core/so_bundle.c; GET /ssl/download-formats gives them).
const PORTAL_FORMATS = [
  ['iis', 'Microsoft IIS (*.p7b)', 'PKCS#7 file with the server certificate and the CA chain, for the IIS certificate import.'],
  ['cpanel', 'WHM/cPanel', 'ZIP file with the CA bundle (.ca-bundle) and the server certificate (.crt).'],
  ['apache', 'Apache', 'ZIP file with ca-bundle-client.crt (the intermediate certificates) and the server certificate (.crt).'],
  ['amazon', 'Amazon', 'ZIP file with ca-chain-amazon.crt (the chain, issuing CA first) and the server certificate (.crt).'],
  ['nginx', 'Nginx', 'Single file with the server certificate followed by the intermediate certificates.'],
  ['nodejs', 'V8+Node.js', 'Single file with the server certificate followed by the intermediate certificates.'],
  ['tomcat', 'Java/Tomcat', 'ZIP file with the root, the intermediate and the server certificate as separate files.'],
  ['other', 'Other platforms', 'ZIP file with all the relevant certificates (1 root, 1 intermediate, 1 server certificate).'],
  ['ca-bundle', 'CA bundle (intermediate certs)', 'Single concatenated file containing the intermediate and root certificates, NOT the server certificate.'],
].map(([name, label, description]) => ({ name, label, description }));

async function downloadFormats() {
  try {
    const d = await api('GET', '/ssl/download-formats');
    const list = (d.results || d.formats || []).filter((f) => f.portal === undefined || f.portal === true || f.portal === 1);
    return list.length ? list : PORTAL_FORMATS;
  } catch (e) {
    if (e instanceof ApiError && e.missing) return PORTAL_FORMATS;
    throw e;
  }
}

export async function render(ctx) {
  const { view, params, path } = ctx;
  const o = await loadOrder(params.id);
  if (!ctx.alive()) return;
  ctx.setTitle(`${o.common_name || `Order #${o.id}`}`);
  const issued = Boolean(o.certificate);
  view.append(pageHeader(o.common_name || `Order #${o.id}`, `Order #${o.id} · ${o.product_name} · `, statusBadge(o.status)));
  const acts = actionsFor(o, path).filter((a) => !['download', 'details'].includes(a.kind));
  const err = errorBox();
  const bar = h('div', { class: 'toolbar' }, acts.map((a) => h('a', { class: 'btn small', href: a.href, 'data-kind': a.kind }, a.label)));
  if (['PAI', 'REQ', 'ACT'].includes(o.status) && canEdit()) {
    const cancel = h('button', { type: 'button', class: 'btn small danger' }, o.status === 'ACT' ? 'Cancel and revoke' : 'Cancel order');
    cancel.addEventListener('click', async () => {
      const ok = await confirmDialog(`Cancel order #${o.id}?`, o.status === 'ACT'
        ? ['The certificate is revoked; browsers stop trusting it.', 'It is refunded only within 30 days of issuance.']
        : ['The order is cancelled and refunded in full.'], 'Cancel the order', { danger: true });
      if (!ok) return;
      await busy(cancel, async () => {
        try {
          await api('POST', `/ssl/orders/${o.id}/cancel`, { body: {} });
          flash(`Order #${o.id} was cancelled.`);
          ctx.refreshHeader();
          ctx.navigate(window.location.pathname, { replace: true });
        } catch (e) { err.show(e); }
      });
    });
    bar.append(cancel);
  }
  view.append(bar, err);

  // order details
  view.append(h('section', { class: 'card', 'aria-labelledby': 'sec-order' }, h('h2', { id: 'sec-order' }, 'Order details'),
    facts([...detailPairs(o),
      ['Organization unit', o.organization_unit],
      ['Names paid for', o.domain_amount ? `${o.domain_amount}${o.wildcard_domain_amount ? ` + ${o.wildcard_domain_amount} wildcard` : ''}` : ''],
      ['Approver address', o.email_approver],
      ['Automatic renewal', o.autorenew === 'on' ? 'on' : 'off'],
      ['Folder', o.folder_name || ''],
      ['Last change', when(o.updated_at)]])));

  // certificate details
  const cert = issued ? parseCertificate(o.certificate) : null;
  const certSec = h('section', { class: 'card', 'aria-labelledby': 'sec-cert' }, h('h2', { id: 'sec-cert' }, 'Certificate'));
  if (cert) {
    const fp = h('code', { id: 'cert-fingerprint' });
    fingerprint(cert.der).then((x) => { fp.textContent = x; }).catch(() => {});
    certSec.append(facts([
      ['Subject', nameString(cert.subject)], ['Issuer', nameString(cert.issuer)],
      ['Serial number', h('code', { id: 'cert-serial' }, cert.serial)],
      ['Valid from', cert.notBefore.toISOString().replace('T', ' ').slice(0, 16) + ' UTC'],
      ['Valid until', cert.notAfter.toISOString().replace('T', ' ').slice(0, 16) + ' UTC'],
      ['Names', cert.names.join(', ')], ['SHA-256 fingerprint', fp]]),
    h('details', {}, h('summary', {}, 'Certificate (PEM)'), h('pre', {}, o.certificate), copyButton(o.certificate, 'Copy the certificate')));
  } else {
    certSec.append(h('p', { class: 'muted' }, o.status === 'REQ' ? 'Not issued yet: the order is being validated. ' : 'Not issued.',
      o.status === 'REQ' ? h('a', { href: path(`/orders/${o.id}/validation`) }, 'See the validation') : null));
  }
  view.append(certSec);

  // every certificate of the order (issue 4), with revocation
  let certs = [];
  try {
    certs = (await api('GET', `/ssl/orders/${o.id}/certificates`)).results || [];
  } catch (e) {
    if (!(e instanceof ApiError && e.missing)) throw e;
  }
  if (certs.length) {
    const certErr = errorBox();
    const rows = certs.map((c) => {
      const revoke = c.state === 'valid' && canEdit()
        ? h('button', { type: 'button', class: 'btn small danger', 'aria-label': `Revoke the certificate ${c.serial}` }, 'revoke') : null;
      if (revoke) {
        revoke.addEventListener('click', async () => {
          const reason = h('select', { id: 'revoke-reason' }, ['unspecified', 'key_compromise', 'affiliation_changed', 'superseded', 'cessation_of_operation', 'privilege_withdrawn']
            .map((r) => h('option', { value: r }, r.replace(/_/g, ' '))));
          const ok = await confirmDialog(`Revoke the certificate ${c.serial}?`, [
            'Browsers stop trusting it as soon as they see the revocation. This cannot be undone.',
            h('div', { class: 'field' }, h('label', { for: 'revoke-reason' }, 'Reason'), reason)], 'Revoke', { danger: true });
          if (!ok) return;
          await busy(revoke, async () => {
            try {
              await api('POST', `/ssl/orders/${o.id}/revoke`, { body: { certificate_id: c.id, reason: reason.value } });
              flash(`The certificate ${c.serial} was revoked.`);
              ctx.navigate(window.location.pathname, { replace: true });
            } catch (e) { certErr.show(e); }
          });
        });
      }
      return h('tr', { 'data-serial': c.serial },
        h('td', { class: 'mono' }, c.serial), h('td', {}, c.state + (c.current ? ' (current)' : '')),
        h('td', {}, day(c.not_before)), h('td', {}, day(c.not_after)),
        h('td', {}, c.revoked_at ? `${day(c.revoked_at)} ${c.revoke_reason || ''}` : ''), h('td', {}, revoke));
    });
    view.append(h('section', { class: 'card', 'aria-labelledby': 'sec-certs' }, h('h2', { id: 'sec-certs' }, 'Certificates of this order'),
      h('div', { class: 'table-wrap' }, h('table', { id: 'certificates-table' }, h('thead', {}, h('tr', {},
        ['Serial number', 'State', 'Valid from', 'Valid until', 'Revoked', ''].map((t) => h('th', { scope: 'col' }, t)))), h('tbody', {}, rows))),
      certErr));
  }

  // tags on the order and on its certificates
  const tagsSec = h('section', { class: 'card', 'aria-labelledby': 'sec-tags' }, h('h2', { id: 'sec-tags' }, 'Tags'));
  view.append(tagsSec);
  const tagsAvail = await loadTags().then((t) => t.available).catch(() => false);
  if (!tagsAvail) {
    tagsSec.append(notice('info', 'Tags are not available on this server yet.'));
  } else {
    tagsSec.append(h('p', { class: 'hint' }, 'Tags are labels for your own record keeping; you can search orders by them.'),
      h('h3', {}, 'On the order'), await tagEditor(o.id, null, `Tags on order ${o.id}`));
    const norm = (x) => String(x).replace(/:/g, '').toUpperCase().replace(/^0+(?=.)/, '');
    const serials = new Set((o.certificate_tags || []).map((c) => norm(c.serial)));
    certs.forEach((c) => serials.add(norm(c.serial)));
    if (cert) serials.add(norm(cert.serialHex));
    for (const s of serials) {
      tagsSec.append(h('h3', {}, `On the certificate ${s}`), await tagEditor(o.id, s, `Tags on certificate ${s}`));
    }
  }

  // downloads
  const dlSec = h('section', { class: 'card', 'aria-labelledby': 'sec-dl', id: 'downloads' }, h('h2', { id: 'sec-dl' }, 'Download the certificate'));
  view.append(dlSec);
  if (!issued) {
    dlSec.append(h('p', { class: 'muted' }, 'The download table appears here once the certificate is issued.'));
  } else {
    const formats = await downloadFormats().catch(() => PORTAL_FORMATS);
    const tbody = h('tbody');
    for (const f of formats) {
      tbody.append(h('tr', { 'data-format': f.name },
        h('th', { scope: 'row' }, f.label),
        h('td', {}, f.description),
        h('td', {}, h('a', { href: apiUrl(`/ssl/orders/${o.id}/download`, { format: f.name }), download: '', class: 'btn small' }, 'download'))));
    }
    dlSec.append(h('p', {}, 'Each bundle holds only what the platform needs to install the certificate. ',
      o.software ? `Your server software is ${o.software}; the matching bundle is also what the issuance e-mail carries.` : ''),
    h('div', { class: 'table-wrap' }, h('table', { id: 'download-table' }, h('caption', { class: 'sr-only' }, 'Certificate bundles'),
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Platform'), h('th', { scope: 'col' }, 'Contents'), h('th', { scope: 'col' }, h('span', { class: 'sr-only' }, 'Download')))),
      tbody)),
    h('p', { class: 'hint', id: 'download-note' }, 'The last two rows are not for one server platform: ',
      h('strong', {}, 'Other platforms'), ' is a ZIP file with all the relevant certificates (1 root, 1 intermediate, 1 server certificate); ',
      h('strong', {}, 'CA bundle (intermediate certs)'), ' is one file with the intermediate and root certificates, NOT the server certificate.'));
  }

  // the CSR
  if (o.csr) {
    view.append(h('section', { class: 'card', 'aria-labelledby': 'sec-csr' }, h('h2', { id: 'sec-csr' }, 'Certificate signing request'),
      h('details', {}, h('summary', {}, 'Show the CSR'), h('pre', {}, o.csr), copyButton(o.csr, 'Copy the CSR'))));
  }

  // history
  const hist = h('section', { class: 'card', 'aria-labelledby': 'sec-hist' }, h('h2', { id: 'sec-hist' }, 'History'));
  view.append(hist);
  try {
    const ev = await api('GET', `/ssl/orders/${o.id}/events`, { query: { limit: 50 } });
    const rows = (ev.results || []).map((e) => h('tr', {}, h('td', {}, when(e.created_at)), h('td', {}, e.kind.replace(/_/g, ' ')), h('td', {}, e.actor || '')));
    hist.append(rows.length ? h('div', { class: 'table-wrap' }, h('table', {}, h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'When'), h('th', { scope: 'col' }, 'What'), h('th', { scope: 'col' }, 'Who'))), h('tbody', {}, rows)))
      : h('p', { class: 'empty' }, 'No events.'));
  } catch (e) { fill(hist, h('h2', {}, 'History'), notice('error', e.plain || e.message)); }
  void day; void money;
}
