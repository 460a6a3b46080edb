// What to publish for domain control validation, from the order's additional_data
// (GET /ssl/orders/{id}): the file for http/https, the CNAME or TXT record for dns, the TXT
// record of dns-persist and dns-account (at the team account's label),
// the approver address for email.
import { h } from './dom.js';
import { copyButton } from './ui.js';

export const METHODS = [
  ['dns', 'DNS record (CNAME or TXT)'],
  ['http', 'HTTP file'],
  ['https', 'HTTPS file'],
  ['email', 'E-mail to an approver address'],
  ['dns-persist', 'Persistent DNS TXT record (set once for the team)'],
  ['dns-account', 'DNS TXT record labelled with your account'],
];

export function methodLabel(m) {
  const x = METHODS.find(([k]) => k === m);
  return x ? x[1] : m || 'not chosen';
}

export function methodsFor(name) {
  return name.startsWith('*.') ? METHODS.filter(([m]) => m === 'dns' || m === 'email' || m === 'dns-persist' || m === 'dns-account') : METHODS;
}

function value(label, v) {
  return [h('dt', {}, label), h('dd', {}, h('code', { class: 'publish-value' }, v), ' ', copyButton(v))];
}

/** The instructions for one name and method. */
export function instructions(ad, method, approver) {
  if (!ad) return h('p', { class: 'hint' }, 'The instructions appear once the CSR is saved.');
  switch (method) {
    case 'http':
    case 'https': {
      const url = ad.file_location.replace(/^https?:/, `${method}:`);
      return h('div', { class: 'publish', 'data-method': method },
        h('p', {}, `Publish a file on ${ad.domain} so that this address answers with the text below (plain text, no redirect to another host):`),
        h('dl', {}, value('Address', url)),
        h('p', {}, 'File contents:'), h('pre', { class: 'file-contents' }, ad.file_contents),
        copyButton(ad.file_contents, 'Copy the contents'));
    }
    case 'dns':
      return h('div', { class: 'publish', 'data-method': 'dns' },
        h('p', {}, 'Add this CNAME record to the DNS zone:'),
        h('dl', {}, value('Name', ad.dns_record), value('Points to', ad.dns_value)),
        h('p', {}, 'Or, when a CNAME is not possible there, a TXT record:'),
        h('dl', {}, value('Name', ad.dns_txt_record), value('Value', ad.dns_value)));
    case 'dns-persist':
      return h('div', { class: 'publish', 'data-method': 'dns-persist' },
        h('p', {}, 'Add this TXT record once: it validates the name for every later order of your team while it stays in the DNS.'),
        h('dl', {}, value('Name', ad.dns_persist_record), value('Value', ad.dns_persist_value)));
    case 'dns-account':
      return h('div', { class: 'publish', 'data-method': 'dns-account' },
        h('p', {}, 'Add this TXT record to the DNS zone: its name carries the label of your team\'s account (a record at _acme-challenge without the label does not count).'),
        h('dl', {}, value('Name', ad.dns_account_record), value('Value', ad.dns_account_value)));
    case 'email':
      return h('div', { class: 'publish', 'data-method': 'email' },
        h('p', {}, approver
          ? `An approval link is sent to ${approver}. Open it and approve the request.`
          : 'An approval link is sent to the approver address you choose below.'));
    default:
      return h('p', { class: 'hint' }, 'Choose a method to see what to publish.');
  }
}

export function additionalFor(order, name) {
  return (order.additional_data || []).find((a) => a.domain === name) || null;
}
