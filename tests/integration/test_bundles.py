"""Certificate bundles: every format downloaded from a real issued order, unpacked and
parsed with the openssl command line; what is in each file and in which order."""
import io
import os
import re
import subprocess
import tempfile
import zipfile

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

import pki
from issuing import DV_MULTI, LONG, dom, issued, issued_wildcard


@pytest.fixture(scope="module")
def shop(env):
    """One team with a wildcard order issued (file names: STAR_...)."""
    team = env.new_team(balance="10000", ttl=LONG)
    api = team.client()
    oid, o = issued_wildcard(env, api)
    return team, api, oid, o


def openssl_certs(data, kind):
    """The certificates of a file, in file order, read by the openssl command line."""
    if kind == "der":
        r = subprocess.run(["openssl", "x509", "-inform", "DER", "-outform", "PEM"], input=data,
                           capture_output=True, check=True)
        pems = r.stdout
    else:
        if kind == "pem":
            # a PEM bundle in order: through a PKCS#7 structure built by openssl
            r = subprocess.run(["openssl", "crl2pkcs7", "-nocrl", "-certfile", "/dev/stdin"],
                               input=data, capture_output=True, check=True)
            data = r.stdout
        r = subprocess.run(["openssl", "pkcs7", "-print_certs"], input=data, capture_output=True,
                           check=True)
        pems = r.stdout
    blocks = re.findall(rb"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----\n", pems, re.S)
    certs = [x509.load_pem_x509_certificate(b) for b in blocks]
    assert certs, "no certificate in the file"
    return certs


def chain_of(o):
    leaf = x509.load_pem_x509_certificate(o["certificate"].encode())
    inter = x509.load_pem_x509_certificate(o["intermediate_certificate"].encode())
    root = x509.load_pem_x509_certificate(o["root_certificate"].encode())
    return leaf, inter, root


def ca_file_name(cert, ext):
    cn = cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value
    return re.sub(r"[^A-Z0-9_-]", "_", cn.upper()) + "." + ext


def get(api, oid, fmt=None, **params):
    q = {"format": fmt} if fmt else {}
    q.update(params)
    return api.raw("GET", f"/ssl/orders/{oid}/download", params=q)


def test_every_format(env, shop):
    team, api, oid, o = shop
    leaf, inter, root = chain_of(o)
    cn = "STAR_" + o["common_name"][2:].replace(".", "_")
    assert o["common_name"].startswith("*.")

    def unzip(r):
        z = zipfile.ZipFile(io.BytesIO(r.content))
        assert z.testzip() is None
        return {n: z.read(n) for n in z.namelist()}

    expect_zip = {
        "cpanel": {f"{cn}.ca-bundle": [inter, root], f"{cn}.crt": [leaf]},
        "apache": {"ca-bundle-client.crt": [inter], f"{cn}.crt": [leaf]},
        "amazon": {"ca-chain-amazon.crt": [inter, root], f"{cn}.crt": [leaf]},
        "tomcat": {ca_file_name(root, "crt"): [root], ca_file_name(inter, "crt"): [inter],
                   f"{cn}.crt": [leaf]},
        "other": {ca_file_name(root, "crt"): [root], ca_file_name(inter, "crt"): [inter],
                  f"{cn}.crt": [leaf]},
        "default": {ca_file_name(root, "crt"): [root], ca_file_name(inter, "crt"): [inter],
                    f"{cn}.crt": [leaf]},
        "default_pem": {ca_file_name(root, "crt"): [root], ca_file_name(inter, "crt"): [inter],
                        f"{cn}.crt": [leaf]},
        "default_cer": {ca_file_name(root, "cer"): [root], ca_file_name(inter, "cer"): [inter],
                        f"{cn}.cer": [leaf]},
    }
    expect_file = {  # format: (file name, kind, certificates in order, Content-Type)
        "iis": (f"{cn}.p7b", "p7", [leaf, inter, root], "application/x-pkcs7-certificates"),
        "p7b": (f"{cn}.p7b", "p7", [leaf, inter, root], "application/x-pkcs7-certificates"),
        "cer": (f"{cn}.cer", "p7", [leaf, inter, root], "application/x-pkcs7-certificates"),
        "nginx": (f"{cn}.chained.crt", "pem", [leaf, inter], "application/x-pem-file"),
        "nodejs": (f"{cn}.chained.crt", "pem", [leaf, inter], "application/x-pem-file"),
        "ca-bundle": (f"{cn}.ca-bundle", "pem", [inter, root], "application/x-pem-file"),
        "pem_all": (f"{cn}.pem", "pem", [leaf, inter, root], "application/x-pem-file"),
        "pem_noroot": (f"{cn}.pem", "pem", [leaf, inter], "application/x-pem-file"),
        "pem_nointermediate": (f"{cn}.pem", "pem", [leaf], "application/x-pem-file"),
        "pem": (f"{cn}.crt", "pem", [leaf], "application/x-pem-file"),
        "der": (f"{cn}.der", "der", [leaf], "application/pkix-cert"),
    }
    listed = api.get("/ssl/download-formats")[1]["data"]
    names = [f["name"] for f in listed["results"]]
    assert set(names) == set(expect_zip) | set(expect_file)
    portal = [f["name"] for f in listed["results"] if f["portal"]]
    assert portal == ["iis", "cpanel", "apache", "amazon", "nginx", "nodejs", "tomcat", "other",
                      "ca-bundle"]
    assert all(f["label"] and f["description"] for f in listed["results"])
    assert {s["id"]: s["format"] for s in listed["software"]}["windows"] == "iis"

    for fmt, files in expect_zip.items():
        r = get(api, oid, fmt)
        assert r.status_code == 200, (fmt, r.text)
        assert r.headers["Content-Type"] == "application/zip"
        assert f'filename="{cn}.zip"' in r.headers["Content-Disposition"]
        got = unzip(r)
        assert set(got) == set(files), (fmt, sorted(got))
        for name, certs in files.items():
            assert openssl_certs(got[name], "pem") == certs, (fmt, name)
    for fmt, (fname, kind, certs, ctype) in expect_file.items():
        r = get(api, oid, fmt)
        assert r.status_code == 200, (fmt, r.text)
        assert r.headers["Content-Type"] == ctype, fmt
        assert r.headers["Content-Disposition"].startswith("attachment")
        assert f'filename="{fname}"' in r.headers["Content-Disposition"], fmt
        assert openssl_certs(r.content, kind) == certs, fmt
        if kind == "pem":
            assert b"PRIVATE KEY" not in r.content and b"\r" not in r.content

    # the nginx bundle and the CA bundle verify with openssl
    nginx = get(api, oid, "nginx").content
    cab = get(api, oid, "ca-bundle").content
    leaf_pem = leaf.public_bytes(serialization.Encoding.PEM)
    with tempfile.TemporaryDirectory() as d:
        for name, data in (("chain", nginx), ("cab", cab), ("leaf", leaf_pem)):
            with open(os.path.join(d, name), "wb") as f:
                f.write(data)
        r = subprocess.run(["openssl", "verify", "-CAfile", os.path.join(d, "cab"),
                            "-untrusted", os.path.join(d, "chain"), os.path.join(d, "leaf")],
                           capture_output=True, text=True)
        assert r.returncode == 0, r.stdout + r.stderr


def test_default_format_follows_the_software_and_etags(env, shop):
    team, api, oid, o = shop
    # the order has no software: "other" (a ZIP of separate files)
    r = get(api, oid)
    assert r.headers["Content-Type"] == "application/zip"
    assert r.content == get(api, oid, "other").content  # deterministic bytes
    etag = r.headers["ETag"]
    assert etag.startswith('"') and r.headers["Cache-Control"] == "private, no-cache"
    r2 = api.raw("GET", f"/ssl/orders/{oid}/download", params={"format": "other"},
                 headers={"If-None-Match": etag})
    assert r2.status_code == 304 and r2.content == b""
    # aliases and case
    assert get(api, oid, "AWS").headers["Content-Disposition"] == \
        get(api, oid, "amazon").headers["Content-Disposition"]
    # a Windows order gets the PKCS#7 file
    d = dom()
    oid2, _ = issued(env, api, software_id="windows", names=[d, "www." + d])
    r = get(api, oid2)
    assert r.headers["Content-Type"] == "application/x-pkcs7-certificates"


def test_earlier_certificates_and_errors(env, shop):
    team, api, oid, o = shop
    d = dom()
    oid2, o2 = issued(env, api, product=DV_MULTI, names=[d, "a." + d])
    first = api.get(f"/ssl/orders/{oid2}/certificates")[1]["data"]["results"][0]
    st, body = api.post(f"/ssl/orders/{oid2}/reissue", json={"csr": pki.csr(d, ["a." + d], fresh=True)})
    assert st == 200, body
    certs = api.get(f"/ssl/orders/{oid2}/certificates")[1]["data"]["results"]
    assert len(certs) == 2
    old = get(api, oid2, "pem", certificate_id=first["id"])
    assert old.status_code == 200
    assert openssl_certs(old.content, "pem")[0] == x509.load_pem_x509_certificate(first["certificate"].encode())
    new = get(api, oid2, "pem")
    assert new.content != old.content
    # another order's certificate id, an unknown one, a bad one
    other_cert = api.get(f"/ssl/orders/{oid}/certificates")[1]["data"]["results"][0]["id"]
    for cid, status in ((other_cert, 404), (99999999, 404), ("x", 400)):
        r = get(api, oid2, "pem", certificate_id=cid)
        assert r.status_code == status, (cid, r.text)
    # unknown format
    r = get(api, oid2, "exe")
    assert (r.status_code, r.json()["code"]) == (400, 1080)
    # revoked: refused
    st, _ = api.post(f"/ssl/orders/{oid2}/revoke", json={"certificate_id": first["id"], "reason": "superseded"})
    assert st == 200
    r = get(api, oid2, "pem", certificate_id=first["id"])
    assert (r.status_code, r.json()["code"]) == (409, 1050)
    assert get(api, oid2, "pem").status_code == 200  # the current one still is
    # not issued yet
    oid3 = api.post("/ssl/orders", json={"product_id": 1, "period": 1})[1]["data"]["id"]
    r = get(api, oid3, "pem")
    assert (r.status_code, r.json()["code"]) == (409, 1052)
    # another team's order is not found
    stranger = env.new_team().client()
    r = get(stranger, oid, "pem")
    assert (r.status_code, r.json()["code"]) == (404, 103)
    # a viewer of the team may download
    viewer = team.add_member("viewer").client()
    assert get(viewer, oid, "pem").status_code == 200
