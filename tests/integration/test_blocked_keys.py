"""Blocked keys (Baseline Requirements 6.1.1.3): keys on an SSLOrdersBlockedKeys list
(Debian's openssl-blacklist form, computed here independently of the module from the
modulus, and the SHA-256 of a SubjectPublicKeyInfo) and keys of certificates revoked for key
compromise are never certified again: not at order creation, not in the CSR Manager, not at
signing for an order that took the CSR before the key was blocked."""
import hashlib
import os
import subprocess
import time
import uuid

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import NameOID

import pki
from harness import DB, Httpd
from issuing import DV, LONG, dom, order, publish_files, validate


def csr_of(k, names):
    b = x509.CertificateSigningRequestBuilder().subject_name(
        x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
    b = b.add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]),
                        critical=False)
    return b.sign(k, hashes.SHA256()).public_bytes(serialization.Encoding.PEM).decode()


def debian_fp(k):
    """openssl-vulnkey's fingerprint: the last 20 hex digits of SHA-1("Modulus=<HEX>\\n")."""
    n = k.public_key().public_numbers().n
    return hashlib.sha1(b"Modulus=%s\n" % format(n, "X").encode()).hexdigest()[20:]


def spki_sha256(k):
    der = k.public_key().public_bytes(serialization.Encoding.DER,
                                      serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(der).hexdigest()


@pytest.fixture(scope="module")
def listed():
    """Three keys: one in Debian's form, one by SPKI hash, one on no list."""
    return {"debian": pki.key("rsa2048", fresh=True), "spki": pki.key("ec256", fresh=True),
            "free": pki.key("rsa2048", fresh=True)}


@pytest.fixture(scope="module")
def blocking(env, listed):
    lists = os.path.join(env.base, "blocked-" + uuid.uuid4().hex[:6])
    os.makedirs(lists)
    deb = os.path.join(lists, "blacklist.RSA-2048")
    with open(deb, "w") as f:  # the openssl-blacklist file's shape: a comment, upper case
        f.write("# Debian weak keys (test)\n0000000000000000beef\n%s\n"
                % debian_fp(listed["debian"]).upper())
    spki = os.path.join(lists, "compromised.sha256")
    with open(spki, "w") as f:
        f.write("%s\r\n\r\n" % spki_sha256(listed["spki"]))
    h = Httpd(env.base, DB, env.db_params, name="blocked-" + uuid.uuid4().hex[:6], dcv=env.dcv,
              extra=f"SSLOrdersBlockedKeys {deb}\nSSLOrdersBlockedKeys {spki}\n")
    h.ca_dir = env.httpd.ca_dir
    env.servers.append(h)
    h.start()
    h.lists = (deb, spki)
    yield h
    h.stop()
    env.servers.remove(h)
    h.new_log_lines()


def balance(api):
    return api.get("/me")[1]["data"]["team"]["balance"]


def test_listed_keys_are_refused(env, listed, blocking):
    api = env.new_team(balance="1000", ttl=LONG).client(blocking)
    before = (balance(api), api.get("/ssl/orders")[1]["data"]["total"])
    for kind, words in (("debian", "Debian's openssl-blacklist form, CVE-2008-0166) listed in "
                                   + blocking.lists[0]),
                        ("spki", "blocked key listed in " + blocking.lists[1])):
        d = dom()
        pem = csr_of(listed[kind], [d])
        st, body = api.post("/ssl/orders", json={"product_id": DV, "period": 1, "csr": pem})
        assert (st, body["code"]) == (400, 1002), body
        assert words in body["desc"] + str(body.get("data", "")), body
        st, body = api.post("/ssl/managed-csrs", json={"csr": pem, "friendly_name": "x"})
        assert (st, body["code"]) == (400, 1002), body
        st, body = api.post("/ssl/csr/decode", json={"csr": pem})  # tells, refuses nothing
        assert st == 200 and body["data"]["key_ok"] is False, body
        assert words in body["data"]["key_problem"], body
    assert (balance(api), api.get("/ssl/orders")[1]["data"]["total"]) == before
    # another key passes; the module logged how many fingerprints it loaded
    st, body = api.post("/ssl/orders", json={"product_id": DV, "period": 1,
                                             "csr": csr_of(listed["free"], [dom()])})
    assert st == 200, body
    assert "SO00975" in blocking.read_log() and "3 key fingerprints" in blocking.read_log()


@pytest.mark.parametrize("content, why", [
    ("# fine\n0123456789abcdef0123\nnot a fingerprint\n", "line 3: not a key fingerprint"),
    ("0123456789abcdef012\n", "line 1: not a key fingerprint"),
    (None, "cannot be read"),
])
def test_a_bad_list_stops_the_configuration(env, content, why):
    path = os.path.join(env.base, "bad-list-" + uuid.uuid4().hex[:6])
    if content is not None:
        with open(path, "w") as f:
            f.write(content)
    h = Httpd(env.base, DB, env.db_params, name="badlist-" + uuid.uuid4().hex[:6],
              extra=f"SSLOrdersBlockedKeys {path}\n")
    h.write_conf()
    r = subprocess.run(["/usr/sbin/apache2", "-t", "-f", h.conf], capture_output=True, text=True,
                       env=h._env())
    assert r.returncode != 0 and "SSLOrdersBlockedKeys" in r.stderr and why in r.stderr, r.stderr


def events(api, oid):
    return api.get(f"/ssl/orders/{oid}/events")[1]["data"]["results"]


def issued_with(env, api, k, d):
    oid, o = order(api, names=[d], csr=csr_of(k, [d]))
    publish_files(env, o)
    assert validate(api, oid)["status"] == "ACT"
    return oid


def certs_of(api, oid):
    return api.get(f"/ssl/orders/{oid}/certificates")[1]["data"]["results"]


def crl_reasons(env):
    r = requests.get(env.httpd.url + "/pki/crl")
    assert r.status_code == 200
    crl = x509.load_der_x509_crl(r.content)
    return {"%x" % e.serial_number: e.extensions.get_extension_for_class(x509.CRLReason).value.reason
            for e in crl}


def test_key_compromise_blocks_the_key_everywhere(env):
    owner_team = env.new_team(balance="1000", ttl=LONG)
    owner, other = owner_team.client(), env.new_team(balance="1000", ttl=LONG).client()
    k = pki.key("rsa2048", fresh=True)
    # before anyone tells of a compromise, certificates of two teams share the key
    oid1 = issued_with(env, owner, k, dom())
    oid3 = issued_with(env, other, k, dom())
    oid4 = issued_with(env, other, k, dom())
    d2 = dom()
    oid2, o2 = order(owner, names=[d2], csr=csr_of(k, [d2]))  # validated later
    # revoked for another reason: nothing is blocked
    st, body = other.post(f"/ssl/orders/{oid4}/revoke", json={"reason": "superseded"})
    assert st == 200, body
    st, body = other.post("/ssl/orders", json={"product_id": DV, "period": 1,
                                               "csr": csr_of(k, [dom()])})
    assert st == 200, body
    # a reissue with the same key; its certificate is revoked for key compromise
    st, body = owner.post(f"/ssl/orders/{oid1}/reissue", json={"use_previous_csr": True})
    assert st == 200, body
    env.run_jobs()  # the names' validation is reused: issued at once
    first, second = certs_of(owner, oid1)
    assert (first["state"], second["state"]) == ("superseded", "valid")
    # one certificate as stored before its key's hash was (the background pass fills it in)
    env.sql("UPDATE certificates SET spki_sha256 = '' WHERE id = %d" % certs_of(other, oid3)[0]["id"])
    st, body = owner.post(f"/ssl/orders/{oid1}/revoke", json={"reason": "key_compromise"})
    assert st == 200, body
    # a new order of any team with the key: 400, nothing written
    before = balance(other)
    st, body = other.post("/ssl/orders", json={"product_id": DV, "period": 1,
                                               "csr": csr_of(k, [dom()])})
    assert (st, body["code"]) == (400, 1002), body
    assert "revoked for key compromise" in str(body) and second["serial"] in str(body), body
    st, body = other.post("/ssl/csr/decode", json={"csr": csr_of(k, [dom()])})
    assert st == 200 and body["data"]["key_ok"] is False, body
    assert "revoked for key compromise" in body["data"]["key_problem"], body
    assert balance(other) == before
    # the background pass revokes every other live certificate with the key, in every team
    env.run_jobs()
    revoked = {c["serial"]: c["revoke_reason"]
               for oid, api in ((oid1, owner), (oid3, other), (oid4, other))
               for c in certs_of(api, oid)}
    c3 = certs_of(other, oid3)[0]["serial"]
    c4 = certs_of(other, oid4)[0]["serial"]
    assert revoked == {first["serial"]: 1, second["serial"]: 1, c3: 1, c4: 4}, revoked
    ev = [e for e in events(other, oid3) if e["kind"] == "revoked"]
    # (by the background pass: "system"; here the staff member who ran it; never the owner)
    assert len(ev) == 1 and ev[0]["actor"] != owner_team.username, ev
    assert ev[0]["detail"]["reason"] == 1, ev
    assert "SO00978" in env.httpd.read_log()
    crl = crl_reasons(env)
    for serial in (first["serial"], second["serial"], c3):
        assert crl[serial.lower().lstrip("0")] == x509.ReasonFlags.key_compromise, crl
    env.run_jobs()  # nothing more to do: each certificate revoked once
    assert len([e for e in events(other, oid3) if e["kind"] == "revoked"]) == 1
    # the order that took the key before: validated, but not signed
    publish_files(env, o2)
    v = validate(owner, oid2)
    assert v["status"] == "REQ", v
    assert all(n["state"] == "valid" for n in v["names"]), v
    failed = [e for e in events(owner, oid2) if e["kind"] == "issuance_failed"]
    assert failed and "revoked for key compromise" in failed[-1]["detail"]["reason"], failed
    assert "SO00977" in env.httpd.read_log()
    env.run_jobs(at=time.time() + 2 * 3600)  # checked again an hour later: told once only
    assert [e["kind"] for e in events(owner, oid2)].count("issuance_failed") == 1
    # it stays validated and unsigned; the customer cancels it (refunded: it was never issued)
    before = balance(owner)
    assert owner.post(f"/ssl/orders/{oid2}/cancel")[0] == 200
    assert float(balance(owner)) > float(before)
