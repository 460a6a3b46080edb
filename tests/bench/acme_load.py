"""An ACME load driver for `make bench` (scenario acme): N accounts in N processes, each
repeating full issuances (newOrder -> the authorization, already valid and reused, or its
challenge -> finalize -> poll -> download) against one directory URL for a fixed time.
The same driver runs against our server and against Pebble.

Lean on purpose so that it is not the bottleneck: http.client on one keep-alive TLS
connection per account, ES256 account keys, one CSR per account reused; its own CPU time
is measured and reported (cpu_driver_s) next to the wall time.

  run(directory, accounts, seconds, ca_file, eabs, names, publish_dir) -> dict
"""
import base64
import hashlib
import hmac
import http.client
import json
import multiprocessing
import os
import resource
import ssl
import time
import urllib.parse

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.x509.oid import NameOID


def b64u(b):
    if isinstance(b, str):
        b = b.encode()
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def b64u_dec(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


class AcmeError(Exception):
    pass


class Account:
    def __init__(self, directory, ca_file):
        u = urllib.parse.urlsplit(directory)
        self.host, self.port = u.hostname, u.port or 443
        self.ctx = ssl.create_default_context(cafile=ca_file)
        self.conn = None
        self.key = ec.generate_private_key(ec.SECP256R1())
        nums = self.key.public_key().public_numbers()
        self.jwk = {"crv": "P-256", "kty": "EC", "x": b64u(nums.x.to_bytes(32, "big")),
                    "y": b64u(nums.y.to_bytes(32, "big"))}
        canon = json.dumps(self.jwk, sort_keys=True, separators=(",", ":")).encode()
        self.thumb = b64u(hashlib.sha256(canon).digest())
        self.kid = None
        self.nonce = None
        self.lat = {}   # request kind -> [ms]
        self.requests = 0
        self.dir = json.loads(self.request("GET", directory, kind="directory")[2])

    def _conn(self):
        if self.conn is None:
            self.conn = http.client.HTTPSConnection(self.host, self.port, context=self.ctx,
                                                    timeout=60)
        return self.conn

    def request(self, method, url, body=None, kind="other", headers=None):
        path = urllib.parse.urlsplit(url)
        target = path.path + ("?" + path.query if path.query else "")
        h = {"Content-Type": "application/jose+json"} if body is not None else {}
        h.update(headers or {})
        for attempt in range(2):
            t0 = time.perf_counter()
            try:
                c = self._conn()
                c.request(method, target, body=body, headers=h)
                r = c.getresponse()
                data = r.read()
            except (http.client.HTTPException, OSError):
                self.conn = None
                if attempt:
                    raise
                continue
            self.lat.setdefault(kind, []).append((time.perf_counter() - t0) * 1000)
            self.requests += 1
            n = r.getheader("Replay-Nonce")
            if n:
                self.nonce = n
            if r.getheader("Connection", "").lower() == "close":
                self.conn = None
            return r.status, r, data
        raise AcmeError("unreachable")

    def new_nonce(self):
        self.request("HEAD", self.dir["newNonce"], kind="newNonce")

    def sign(self, url, payload, jwk=False, extra=None):
        if not self.nonce:
            self.new_nonce()
        prot = {"alg": "ES256", "nonce": self.nonce, "url": url}
        self.nonce = None
        if jwk:
            prot["jwk"] = self.jwk
        else:
            prot["kid"] = self.kid
        p64 = b64u(json.dumps(prot))
        pl64 = "" if payload is None else b64u(json.dumps(payload))
        der = self.key.sign(f"{p64}.{pl64}".encode(), ec.ECDSA(hashes.SHA256()))
        r, s = decode_dss_signature(der)
        sig = b64u(r.to_bytes(32, "big") + s.to_bytes(32, "big"))
        return json.dumps({"protected": p64, "payload": pl64, "signature": sig})

    def post(self, url, payload, kind, jwk=False, ok=(200, 201)):
        for attempt in range(3):
            st, r, data = self.request("POST", url, self.sign(url, payload, jwk=jwk), kind=kind)
            if st in ok:
                return r, data
            if b"badNonce" in data and attempt < 2:
                continue
            raise AcmeError(f"{kind} {url}: {st} {data[:300]!r}")

    def register(self, eab=None, email="bench@sslorders.test"):
        payload = {"termsOfServiceAgreed": True, "contact": [f"mailto:{email}"]}
        url = self.dir["newAccount"]
        if eab:
            kid, key = eab
            prot = b64u(json.dumps({"alg": "HS256", "kid": kid, "url": url}))
            pl = b64u(json.dumps(self.jwk))
            mac = hmac.new(b64u_dec(key), f"{prot}.{pl}".encode(), hashlib.sha256).digest()
            payload["externalAccountBinding"] = {"protected": prot, "payload": pl,
                                                 "signature": b64u(mac)}
        r, _ = self.post(url, payload, "newAccount", jwk=True)
        self.kid = r.getheader("Location")

    def poll(self, url, kind, until, timeout=60):
        deadline = time.time() + timeout
        while True:
            r, data = self.post(url, None, kind)
            obj = json.loads(data)
            if obj["status"] in until:
                return obj
            if obj["status"] == "invalid" or time.time() > deadline:
                raise AcmeError(f"{kind} {url}: {obj}")
            ra = r.getheader("Retry-After")
            time.sleep(min(float(ra), 0.05) if ra and ra.isdigit() else 0.01)

    def issue(self, names, csr_der, publish_dir=None):
        """One full issuance; returns the PEM chain."""
        r, data = self.post(self.dir["newOrder"],
                            {"identifiers": [{"type": "dns", "value": n} for n in names]},
                            "newOrder", ok=(201,))
        order_url = r.getheader("Location")
        order = json.loads(data)
        for az_url in order["authorizations"]:
            _, data = self.post(az_url, None, "authz")
            az = json.loads(data)
            if az["status"] == "valid":
                continue
            ch = next(c for c in az["challenges"] if c["type"] == "http-01")
            if publish_dir:
                d = os.path.join(publish_dir, ".well-known", "acme-challenge")
                os.makedirs(d, exist_ok=True)
                with open(os.path.join(d, ch["token"]), "w") as f:
                    f.write(f"{ch['token']}.{self.thumb}")
            self.post(ch["url"], {}, "challenge")
            self.poll(az_url, "authz-poll", ("valid",))
        if order["status"] != "ready":
            order = self.poll(order_url, "order-poll", ("ready", "valid"))
        r, data = self.post(order["finalize"], {"csr": b64u(csr_der)}, "finalize")
        order = json.loads(data)
        if order["status"] != "valid":
            order = self.poll(order_url, "order-poll", ("valid",))
        _, pem = self.post(order["certificate"], None, "certificate")
        if b"BEGIN CERTIFICATE" not in pem:
            raise AcmeError("no certificate")
        return pem


def make_csr(names):
    k = ec.generate_private_key(ec.SECP256R1())
    csr = (x509.CertificateSigningRequestBuilder()
           .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
           .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]),
                          critical=False)
           .sign(k, hashes.SHA256()))
    return csr.public_bytes(serialization.Encoding.DER)


def _worker(i, directory, ca_file, eab, names, publish_dir, barrier, stop_at_q, out_q):
    try:
        acct = Account(directory, ca_file)
        acct.register(eab)
        csr = make_csr(names)
        acct.issue(names, csr, publish_dir)   # warm-up: validates the names once
        acct.lat = {}
        acct.requests = 0
        barrier.wait(timeout=600)
        stop_at = stop_at_q.get()
        t0 = resource.getrusage(resource.RUSAGE_SELF)
        done, errors = 0, []
        while time.time() < stop_at:
            try:
                acct.issue(names, csr)
                done += 1
            except AcmeError as e:
                errors.append(str(e)[:300])
                if len(errors) > 20:
                    break
        t1 = resource.getrusage(resource.RUSAGE_SELF)
        cpu = (t1.ru_utime - t0.ru_utime) + (t1.ru_stime - t0.ru_stime)
        out_q.put({"i": i, "done": done, "errors": errors, "lat": acct.lat,
                   "requests": acct.requests, "cpu": cpu})
    except Exception as e:  # noqa: BLE001 - reported to the caller
        try:
            barrier.abort()
        except Exception:  # noqa: BLE001
            pass
        out_q.put({"i": i, "fatal": f"{type(e).__name__}: {e}"[:500]})


def pct(values, p):
    if not values:
        return 0.0
    v = sorted(values)
    return v[min(len(v) - 1, int(round(p / 100.0 * (len(v) - 1))))]


def run(directory, accounts, seconds, ca_file, eabs, names, publish_dir=None):
    """eabs: one (kid, hmac) per account (or None); names: one list of names per account."""
    ctx = multiprocessing.get_context("fork")
    barrier = ctx.Barrier(accounts + 1)
    stop_q, out_q = ctx.Queue(), ctx.Queue()
    procs = [ctx.Process(target=_worker, args=(i, directory, ca_file, eabs[i], names[i],
                                                publish_dir, barrier, stop_q, out_q))
             for i in range(accounts)]
    for p in procs:
        p.start()
    try:
        barrier.wait(timeout=600)
    except Exception:  # noqa: BLE001 - a worker failed its setup
        pass
    start = time.time()
    for _ in procs:
        stop_q.put(start + seconds)
    results = [out_q.get(timeout=seconds + 600) for _ in procs]
    wall = time.time() - start
    for p in procs:
        p.join(30)
    fatal = [r["fatal"] for r in results if "fatal" in r]
    if fatal:
        return {"fatal": fatal}
    lat_all, by_kind = [], {}
    for r in results:
        for k, v in r["lat"].items():
            by_kind.setdefault(k, []).extend(v)
            lat_all.extend(v)
    done = sum(r["done"] for r in results)
    cpu = sum(r["cpu"] for r in results)
    return {"issuances": done, "seconds": wall, "per_s": done / wall if wall else 0,
            "requests": sum(r["requests"] for r in results),
            "p50_ms": pct(lat_all, 50), "p99_ms": pct(lat_all, 99),
            "p99_by_kind": {k: round(pct(v, 99), 1) for k, v in sorted(by_kind.items())},
            "p50_by_kind": {k: round(pct(v, 50), 1) for k, v in sorted(by_kind.items())},
            "errors": [e for r in results for e in r["errors"]][:10],
            "cpu_driver_s": cpu, "driver_cores": cpu / wall if wall else 0,
            "driver_ms_per_issuance": cpu * 1000 / done if done else 0}
