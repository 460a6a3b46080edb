// Reading an X.509 certificate in the browser for the details pages: serial number,
// subject, issuer, validity, names, SHA-256 fingerprint.
import { readTlv, children, bytesOf, readOid, readString, readTime, hex, pemBlocks, wholeOf } from './der.js';

const NAMES = { '2.5.4.3': 'CN', '2.5.4.6': 'C', '2.5.4.7': 'L', '2.5.4.8': 'ST', '2.5.4.10': 'O', '2.5.4.11': 'OU', '1.2.840.113549.1.9.1': 'emailAddress' };

function readName(el) {
  const parts = [];
  for (const rdn of children(el)) {
    for (const atv of children(rdn)) {
      const [t, v] = children(atv);
      parts.push([NAMES[readOid(t)] || readOid(t), readString(v)]);
    }
  }
  return parts;
}

export function nameString(parts) {
  return parts.map(([k, v]) => `${k}=${v}`).join(', ');
}

/** Parse the first certificate of a PEM text, or null. */
export function parseCertificate(pemText) {
  const block = pemBlocks(pemText).find((b) => b.label === 'CERTIFICATE');
  if (!block) return null;
  try {
    const cert = readTlv(block.der, 0);
    const [tbs] = children(cert);
    const f = children(tbs);
    let i = 0;
    if (f[0].tag === 0xa0) i = 1; // version
    const serial = bytesOf(f[i]);
    const issuer = readName(f[i + 2]);
    const [nb, na] = children(f[i + 3]);
    const subject = readName(f[i + 4]);
    const names = [];
    const ext = f.find((x) => x.tag === 0xa3);
    if (ext) {
      for (const e of children(children(ext)[0])) {
        const c = children(e);
        if (readOid(c[0]) === '2.5.29.17') {
          const octet = c[c.length - 1];
          const gn = readTlv(octet.buf.slice(octet.start, octet.end), 0);
          for (const n of children(gn)) if (n.tag === 0x82) names.push(readString(n));
        }
      }
    }
    let s = serial;
    while (s.length > 1 && s[0] === 0) s = s.slice(1);
    return {
      der: wholeOf(cert),
      serial: hex(s, ':'),
      serialHex: hex(s),
      issuer,
      subject,
      notBefore: readTime(nb),
      notAfter: readTime(na),
      names,
      cn: (subject.find(([k]) => k === 'CN') || [])[1] || '',
    };
  } catch (e) {
    return null;
  }
}

export async function fingerprint(der, algo = 'SHA-256') {
  const d = new Uint8Array(await crypto.subtle.digest(algo, der));
  return hex(d, ':');
}
