// A small ASN.1 DER encoder and reader: enough for PKCS#10 requests and for reading
// certificates (serial number, names, dates). No dependencies.

const enc = new TextEncoder();

export function concat(...parts) {
  const list = parts.flat(Infinity);
  const n = list.reduce((s, p) => s + p.length, 0);
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of list) { out.set(p, o); o += p.length; }
  return out;
}

function length(n) {
  if (n < 0x80) return Uint8Array.of(n);
  const b = [];
  while (n > 0) { b.unshift(n & 0xff); n = Math.floor(n / 256); }
  return Uint8Array.from([0x80 | b.length, ...b]);
}

export function tlv(tag, ...content) {
  const c = concat(...content);
  return concat(Uint8Array.of(tag), length(c.length), c);
}

export const seq = (...c) => tlv(0x30, ...c);
export const set = (...c) => tlv(0x31, ...c);
export const nul = () => Uint8Array.of(0x05, 0x00);
export const octets = (b) => tlv(0x04, b);
export const utf8 = (s) => tlv(0x0c, enc.encode(s));
export const printable = (s) => tlv(0x13, enc.encode(s));
export const ia5 = (s) => tlv(0x16, enc.encode(s));
/** [n] constructed, context-specific (IMPLICIT when content is the inner value's content). */
export const ctx = (n, ...c) => tlv(0xa0 | n, ...c);
/** [n] primitive, context-specific (e.g. dNSName [2] IA5String IMPLICIT). */
export const ctxPrim = (n, bytes) => tlv(0x80 | n, bytes);
export const bitString = (b) => tlv(0x03, Uint8Array.of(0), b);

/** INTEGER from unsigned big-endian bytes (adds the 0x00 a high bit needs). */
export function uint(bytes) {
  let i = 0;
  while (i < bytes.length - 1 && bytes[i] === 0) i += 1;
  let b = bytes.slice(i);
  if (b[0] & 0x80) b = concat(Uint8Array.of(0), b);
  return tlv(0x02, b);
}

export function smallInt(n) {
  return tlv(0x02, Uint8Array.of(n));
}

export function oid(dotted) {
  const p = dotted.split('.').map(Number);
  const out = [40 * p[0] + p[1]];
  for (const v of p.slice(2)) {
    const b = [v & 0x7f];
    let x = Math.floor(v / 128);
    while (x > 0) { b.unshift(0x80 | (x & 0x7f)); x = Math.floor(x / 128); }
    out.push(...b);
  }
  return tlv(0x06, Uint8Array.from(out));
}

// ---- reading ----

/** Parse one DER element at offset: {tag, start (content), end, len, hdr}. */
export function readTlv(buf, off = 0) {
  if (off + 2 > buf.length) throw new Error('truncated DER');
  const tag = buf[off];
  let len = buf[off + 1];
  let p = off + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4 || p + n > buf.length) throw new Error('bad DER length');
    len = 0;
    for (let i = 0; i < n; i += 1) len = len * 256 + buf[p + i];
    p += n;
  }
  if (p + len > buf.length) throw new Error('truncated DER');
  return { tag, start: p, end: p + len, len, off, buf };
}

/** The children of a constructed element. */
export function children(el) {
  const out = [];
  let p = el.start;
  while (p < el.end) {
    const c = readTlv(el.buf, p);
    out.push(c);
    p = c.end;
  }
  return out;
}

export function bytesOf(el) {
  return el.buf.slice(el.start, el.end);
}

export function wholeOf(el) {
  return el.buf.slice(el.off, el.end);
}

export function readOid(el) {
  const b = bytesOf(el);
  const out = [Math.floor(b[0] / 40), b[0] % 40];
  let v = 0;
  for (let i = 1; i < b.length; i += 1) {
    v = v * 128 + (b[i] & 0x7f);
    if (!(b[i] & 0x80)) { out.push(v); v = 0; }
  }
  return out.join('.');
}

export function readString(el) {
  const b = bytesOf(el);
  if (el.tag === 0x1e) { // BMPString
    let s = '';
    for (let i = 0; i + 1 < b.length; i += 2) s += String.fromCharCode(b[i] * 256 + b[i + 1]);
    return s;
  }
  return new TextDecoder().decode(b);
}

export function readTime(el) {
  const s = new TextDecoder().decode(bytesOf(el));
  let y; let rest;
  if (el.tag === 0x17) { // UTCTime YYMMDDHHMMSSZ
    const yy = Number(s.slice(0, 2));
    y = yy >= 50 ? 1900 + yy : 2000 + yy;
    rest = s.slice(2);
  } else { y = Number(s.slice(0, 4)); rest = s.slice(4); }
  const d = new Date(Date.UTC(y, Number(rest.slice(0, 2)) - 1, Number(rest.slice(2, 4)),
    Number(rest.slice(4, 6)), Number(rest.slice(6, 8)), Number(rest.slice(8, 10) || 0)));
  return d;
}

export function hex(bytes, sep = '') {
  return Array.from(bytes, (x) => x.toString(16).padStart(2, '0').toUpperCase()).join(sep);
}

// ---- PEM ----

export function toBase64(bytes) {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

export function fromBase64(b64) {
  const s = atob(b64.replace(/[^A-Za-z0-9+/=]/g, ''));
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i += 1) out[i] = s.charCodeAt(i);
  return out;
}

export function pem(label, bytes) {
  const b = toBase64(bytes).replace(/(.{64})/g, '$1\n').replace(/\n$/, '');
  return `-----BEGIN ${label}-----\n${b}\n-----END ${label}-----\n`;
}

/** Every PEM block of a text: [{label, der}]. */
export function pemBlocks(text) {
  const out = [];
  const re = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g;
  let m;
  while ((m = re.exec(text || ''))) out.push({ label: m[1], der: fromBase64(m[2]) });
  return out;
}
