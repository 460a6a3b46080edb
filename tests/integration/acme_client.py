"""A small ACME (RFC 8555) client for the tests, on the `cryptography` package: every
key type the server accepts, External Account Binding, and hooks to break each JWS rule."""
import base64
import hashlib
import hmac
import json

import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa, utils
from cryptography.x509.oid import NameOID


def b64(b):
    if isinstance(b, str):
        b = b.encode()
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def unb64(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def _int_b64(n, size=None):
    size = size or (n.bit_length() + 7) // 8
    return b64(n.to_bytes(size, "big"))


class Key:
    """An account key: ES256, ES384, RS256 or EdDSA."""

    def __init__(self, alg="ES256"):
        self.alg = alg
        if alg == "ES256":
            self.k = ec.generate_private_key(ec.SECP256R1())
        elif alg == "ES384":
            self.k = ec.generate_private_key(ec.SECP384R1())
        elif alg == "RS256":
            self.k = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        elif alg == "EdDSA":
            self.k = ed25519.Ed25519PrivateKey.generate()
        else:
            raise ValueError(alg)

    def jwk(self):
        pub = self.k.public_key()
        if self.alg in ("ES256", "ES384"):
            n = pub.public_numbers()
            size = 32 if self.alg == "ES256" else 48
            return {"kty": "EC", "crv": "P-256" if size == 32 else "P-384",
                    "x": _int_b64(n.x, size), "y": _int_b64(n.y, size)}
        if self.alg == "RS256":
            n = pub.public_numbers()
            return {"kty": "RSA", "n": _int_b64(n.n), "e": _int_b64(n.e)}
        raw = pub.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return {"kty": "OKP", "crv": "Ed25519", "x": b64(raw)}

    def thumbprint(self):
        j = self.jwk()
        req = {"EC": ("crv", "kty", "x", "y"), "RSA": ("e", "kty", "n"),
               "OKP": ("crv", "kty", "x")}[j["kty"]]
        text = json.dumps({k: j[k] for k in req}, separators=(",", ":"), sort_keys=True)
        return b64(hashlib.sha256(text.encode()).digest())

    def sign(self, data):
        if self.alg in ("ES256", "ES384"):
            h = hashes.SHA256() if self.alg == "ES256" else hashes.SHA384()
            size = 32 if self.alg == "ES256" else 48
            r, s = utils.decode_dss_signature(self.k.sign(data, ec.ECDSA(h)))
            return r.to_bytes(size, "big") + s.to_bytes(size, "big")
        if self.alg == "RS256":
            return self.k.sign(data, padding.PKCS1v15(), hashes.SHA256())
        return self.k.sign(data)


def csr_der(names, key=None):
    key = key or ec.generate_private_key(ec.SECP256R1())
    b = x509.CertificateSigningRequestBuilder().subject_name(
        x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
    b = b.add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]),
                        critical=False)
    return b.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.DER), key


class Problem(Exception):
    def __init__(self, status, body):
        super().__init__(f"{status} {body}")
        self.status = status
        self.body = body
        self.type = body.get("type", "").replace("urn:ietf:params:acme:error:", "")


class Acme:
    def __init__(self, directory_url, key=None, clock=None):
        self.s = requests.Session()
        if clock:
            self.s.headers["X-SSLOrders-Clock"] = str(int(clock))
        self.directory_url = directory_url
        self.d = self.s.get(directory_url, timeout=30).json()
        self.key = key or Key()
        self.kid = None
        self._nonce = None

    def nonce(self):
        if self._nonce:
            n, self._nonce = self._nonce, None
            return n
        r = self.s.head(self.d["newNonce"], timeout=30)
        return r.headers["Replay-Nonce"]

    def jws(self, url, payload, key=None, use_jwk=None, nonce=None, alg=None, protected=None):
        key = key or self.key
        if use_jwk is None:
            use_jwk = self.kid is None
        prot = {"alg": alg or key.alg, "nonce": nonce or self.nonce(), "url": url}
        if use_jwk:
            prot["jwk"] = key.jwk()
        else:
            prot["kid"] = self.kid
        if protected:
            prot.update(protected)
        p64 = b64(json.dumps(prot))
        pl64 = "" if payload is None else b64(json.dumps(payload))
        sig = key.sign(f"{p64}.{pl64}".encode())
        return {"protected": p64, "payload": pl64, "signature": b64(sig)}

    def raw_post(self, url, body):
        r = self.s.post(url, data=json.dumps(body) if not isinstance(body, (bytes, str)) else body,
                        headers={"Content-Type": "application/jose+json"}, timeout=60)
        if "Replay-Nonce" in r.headers:
            self._nonce = r.headers["Replay-Nonce"]
        return r

    def post(self, url, payload, check=True, **kw):
        r = self.raw_post(url, self.jws(url, payload, **kw))
        if check and r.status_code >= 400:
            raise Problem(r.status_code, r.json())
        return r

    def eab(self, kid, hmac_key, url=None, key=None):
        url = url or self.d["newAccount"]
        prot = b64(json.dumps({"alg": "HS256", "kid": kid, "url": url}))
        pl = b64(json.dumps((key or self.key).jwk()))
        mac = hmac.new(unb64(hmac_key), f"{prot}.{pl}".encode(), hashlib.sha256).digest()
        return {"protected": prot, "payload": pl, "signature": b64(mac)}

    def register(self, kid, hmac_key, contact=None):
        payload = {"termsOfServiceAgreed": True, "externalAccountBinding": self.eab(kid, hmac_key)}
        if contact:
            payload["contact"] = contact
        r = self.post(self.d["newAccount"], payload, use_jwk=True)
        self.kid = r.headers["Location"]
        return r

    def new_order(self, names, **extra):
        payload = {"identifiers": [{"type": "dns", "value": n} for n in names]}
        payload.update(extra)
        r = self.post(self.d["newOrder"], payload)
        return r.headers["Location"], r.json()

    def get(self, url):
        return self.post(url, None).json()

    def key_authorization(self, token):
        return f"{token}.{self.key.thumbprint()}"

    def dns_value(self, token):
        return b64(hashlib.sha256(self.key_authorization(token).encode()).digest())

    def finalize(self, order, names, key=None):
        der, k = csr_der(names, key)
        r = self.post(order["finalize"], {"csr": b64(der)})
        return r.json(), k

    def certificate(self, url):
        r = self.post(url, None)
        return r
