// A PKCS#10 certificate signing request built in the browser: the key pair is made
// with WebCrypto and never leaves the page; the request (CertificationRequestInfo in
// DER) is signed with RSASSA-PKCS1-v1_5 + SHA-256 or ECDSA P-256/SHA-256
// (P-384/SHA-384). RFC 2986, RFC 5280 (names, subjectAltName), RFC 5758 (ECDSA).
import { seq, set, oid, utf8, printable, ia5, ctx, ctxPrim, bitString, octets, nul, uint, smallInt, concat, pem, readTlv, children, bytesOf } from './der.js';

const OID = {
  C: '2.5.4.6', ST: '2.5.4.8', L: '2.5.4.7', O: '2.5.4.10', OU: '2.5.4.11', CN: '2.5.4.3',
  emailAddress: '1.2.840.113549.1.9.1',
  extensionRequest: '1.2.840.113549.1.9.14',
  subjectAltName: '2.5.29.17',
  sha256WithRSA: '1.2.840.113549.1.1.11',
  ecdsaSha256: '1.2.840.10045.4.3.2',
  ecdsaSha384: '1.2.840.10045.4.3.3',
};

export const KEY_TYPES = {
  'rsa-2048': { label: 'RSA 2048 bits', gen: { name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' }, sign: { name: 'RSASSA-PKCS1-v1_5' }, alg: OID.sha256WithRSA, params: true },
  'rsa-3072': { label: 'RSA 3072 bits', gen: { name: 'RSASSA-PKCS1-v1_5', modulusLength: 3072, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' }, sign: { name: 'RSASSA-PKCS1-v1_5' }, alg: OID.sha256WithRSA, params: true },
  'rsa-4096': { label: 'RSA 4096 bits', gen: { name: 'RSASSA-PKCS1-v1_5', modulusLength: 4096, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' }, sign: { name: 'RSASSA-PKCS1-v1_5' }, alg: OID.sha256WithRSA, params: true },
  'ec-p256': { label: 'EC P-256', gen: { name: 'ECDSA', namedCurve: 'P-256' }, sign: { name: 'ECDSA', hash: 'SHA-256' }, alg: OID.ecdsaSha256, params: false, size: 32 },
  'ec-p384': { label: 'EC P-384', gen: { name: 'ECDSA', namedCurve: 'P-384' }, sign: { name: 'ECDSA', hash: 'SHA-384' }, alg: OID.ecdsaSha384, params: false, size: 48 },
};

/** Country must be a PrintableString, e-mail an IA5String, the rest UTF8String. */
function rdn(type, value) {
  let v;
  if (type === 'C') v = printable(value);
  else if (type === 'emailAddress') v = ia5(value);
  else v = utf8(value);
  return set(seq(oid(OID[type]), v));
}

/** subject: {C, ST, L, O, OU, CN, emailAddress} (empty values are left out) */
export function encodeName(subject) {
  const order = ['C', 'ST', 'L', 'O', 'OU', 'CN', 'emailAddress'];
  return seq(...order.filter((k) => subject[k]).map((k) => rdn(k, subject[k])));
}

function sanExtension(names) {
  const gn = seq(...names.map((n) => ctxPrim(2, new TextEncoder().encode(n))));
  return seq(oid(OID.subjectAltName), octets(gn));
}

/** WebCrypto gives ECDSA signatures as r||s; X.509 wants SEQUENCE { INTEGER r, INTEGER s }. */
function ecdsaDer(raw, size) {
  return seq(uint(raw.slice(0, size)), uint(raw.slice(size)));
}

export function checkSubject(subject, names) {
  const problems = [];
  if (!subject.CN) problems.push(['CN', 'The Common Name is needed (the main host name, e.g. www.example.com).']);
  if (subject.C && !/^[A-Za-z]{2}$/.test(subject.C)) problems.push(['C', 'The country is a two-letter code such as NL or US.']);
  const host = /^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}$/i;
  for (const n of names) if (!host.test(n)) problems.push(['SAN', `"${n}" is not a host name.`]);
  if (subject.CN && !host.test(subject.CN)) problems.push(['CN', `"${subject.CN}" is not a host name.`]);
  if (subject.emailAddress && !/^[^@\s]+@[^@\s]+$/.test(subject.emailAddress)) problems.push(['emailAddress', 'Not an e-mail address.']);
  for (const [k, v] of Object.entries(subject)) if (v && v.length > 64 && k !== 'emailAddress') problems.push([k, 'At most 64 characters.']);
  return problems;
}

/**
 * Make a key pair and a CSR. Returns {csrPem, keyPem, keyType}; the private key is
 * only ever in this page's memory and in what the user downloads.
 */
export async function generateCsr(subject, sans, keyType = 'rsa-2048') {
  const kt = KEY_TYPES[keyType];
  if (!kt) throw new Error(`unknown key type ${keyType}`);
  const keys = await crypto.subtle.generateKey(kt.gen, true, ['sign', 'verify']);
  const spki = new Uint8Array(await crypto.subtle.exportKey('spki', keys.publicKey));
  const names = [...new Set([subject.CN, ...sans].filter(Boolean).map((n) => n.toLowerCase()))];
  const attrs = ctx(0, seq(oid(OID.extensionRequest), set(seq(sanExtension(names)))));
  const info = seq(smallInt(0), encodeName(subject), spki, attrs);
  const sigRaw = new Uint8Array(await crypto.subtle.sign(kt.sign, keys.privateKey, info));
  const sig = kt.sign.name === 'ECDSA' ? ecdsaDer(sigRaw, kt.size) : sigRaw;
  const algId = kt.params ? seq(oid(kt.alg), nul()) : seq(oid(kt.alg));
  const csr = seq(info, algId, bitString(sig));
  const pkcs8 = new Uint8Array(await crypto.subtle.exportKey('pkcs8', keys.privateKey));
  return { csrPem: pem('CERTIFICATE REQUEST', csr), keyPem: pem('PRIVATE KEY', pkcs8), keyType, names };
}

/** Check a DER CSR's own signature in the browser (used by the page after signing). */
export async function selfCheck(csrPem, keyType) {
  const kt = KEY_TYPES[keyType];
  const b64 = csrPem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');
  const der = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  const top = readTlv(der, 0);
  const [info, , sigEl] = children(top);
  const infoDer = der.slice(info.off, info.end);
  const spkiEl = children(info)[2];
  const spki = der.slice(spkiEl.off, spkiEl.end);
  const pub = await crypto.subtle.importKey('spki', spki, kt.gen, false, ['verify']);
  let sig = bytesOf(sigEl).slice(1);
  if (kt.sign.name === 'ECDSA') {
    const [r, s] = children(readTlv(sig, 0)).map((x) => {
      let b = bytesOf(x);
      while (b.length > kt.size) b = b.slice(1);
      return concat(new Uint8Array(kt.size - b.length), b);
    });
    sig = concat(r, s);
  }
  return crypto.subtle.verify(kt.sign, pub, sig, infoDer);
}
