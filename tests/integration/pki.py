"""CSRs and keys for the tests (python3-cryptography)."""
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

_keys = {}


def key(kind="rsa2048", fresh=False):
    if kind in _keys and not fresh:
        return _keys[kind]
    if kind.startswith("rsa"):
        k = rsa.generate_private_key(public_exponent=65537, key_size=int(kind[3:]))
    else:
        curve = {"ec256": ec.SECP256R1(), "ec384": ec.SECP384R1(), "ec521": ec.SECP521R1()}[kind]
        k = ec.generate_private_key(curve)
    if not fresh:
        _keys[kind] = k
    return k


def csr(cn, sans=None, kind="rsa2048", ou=None, org=None, fresh=False, include_cn_in_san=True):
    """A PEM CSR for cn with the DNS names sans (the CN is added to the SANs)."""
    k = key(kind, fresh)
    attrs = [x509.NameAttribute(NameOID.COMMON_NAME, cn)]
    if org:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, org))
    if ou:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, ou))
    b = x509.CertificateSigningRequestBuilder().subject_name(x509.Name(attrs))
    names = ([cn] if include_cn_in_san else []) + [s for s in (sans or []) if s != cn]
    if names:
        b = b.add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]),
                            critical=False)
    return b.sign(k, hashes.SHA256()).public_bytes(serialization.Encoding.PEM).decode()


def bad_signature(pem):
    """The same CSR with one bit of its signature flipped."""
    req = x509.load_pem_x509_csr(pem.encode())
    der = bytearray(req.public_bytes(serialization.Encoding.DER))
    der[-5] ^= 0x01
    import base64
    b64 = base64.encodebytes(bytes(der)).decode()
    return "-----BEGIN CERTIFICATE REQUEST-----\n" + b64 + "-----END CERTIFICATE REQUEST-----\n"


def public_key_of_private(pem):
    k = serialization.load_pem_private_key(pem.encode(), password=None)
    return k.public_key().public_bytes(serialization.Encoding.PEM,
                                       serialization.PublicFormat.SubjectPublicKeyInfo)


def public_key_of_csr(pem):
    return x509.load_pem_x509_csr(pem.encode()).public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
