"""Helpers for tests that need orders validated and issued (HTTP file validation
against the harness's DCV web server)."""
import os
import subprocess
import tempfile
import uuid

from cryptography import x509

import pki

DV, DV_WILD, DV_MULTI, OV = 1, 2, 3, 4
DAY = 86400
LONG = 24 * 3650  # token hours: the tests move the clock years ahead


def dom():
    return "i" + uuid.uuid4().hex[:10] + ".com"


def order(api, product=DV, names=None, method="http", approver=None, period=1, **extra):
    """An order sent for validation: returns (id, the order object)."""
    d = names[0] if names else dom()
    names = names or [d, "www." + d]
    body = {"product_id": product, "period": period, "csr": pki.csr(names[0], names[1:], fresh=True),
            "domain_validation_methods": [{"host_name": n, "method": method} for n in names],
            "start_provision": True}
    if approver:
        body["approver_email"] = approver
    body.update(extra)
    st, ans = api.post("/ssl/orders", json=body)
    assert st == 200, ans
    oid = ans["data"]["id"]
    return oid, api.get(f"/ssl/orders/{oid}")[1]["data"]


def publish_files(env, o):
    for a in o["additional_data"]:
        if a["file_location"]:
            path = "/" + a["file_location"].split("/", 3)[3]
            env.dcv.put_file(path, a["file_contents"])


def validate(api, oid):
    st, body = api.post(f"/ssl/orders/{oid}/validate")
    assert st == 200, body
    return body["data"]


def certificate(api, oid):
    o = api.get(f"/ssl/orders/{oid}")[1]["data"]
    return o, x509.load_pem_x509_certificate(o["certificate"].encode()) if o["certificate"] else None


def openssl_verify(env, o):
    """openssl verify -x509_strict of the order's chain; returns its output."""
    with tempfile.TemporaryDirectory() as d:
        for name in ("certificate", "intermediate_certificate", "root_certificate"):
            with open(os.path.join(d, name), "w") as f:
                f.write(o[name])
        r = subprocess.run(["openssl", "verify", "-x509_strict", "-purpose", "sslserver",
                            "-CAfile", os.path.join(d, "root_certificate"),
                            "-untrusted", os.path.join(d, "intermediate_certificate"),
                            os.path.join(d, "certificate")], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    return r.stdout


def issued(env, api, product=DV, names=None, **kw):
    oid, o = order(api, product=product, names=names, **kw)
    publish_files(env, o)
    assert validate(api, oid)["status"] == "ACT"
    return oid, api.get(f"/ssl/orders/{oid}")[1]["data"]


def issued_wildcard(env, api):
    """A wildcard order validated with a DNS CNAME and issued."""
    d = dom()
    oid, o = order(api, product=DV_WILD, names=["*." + d, d], method="dns")
    v = validate(api, oid)
    records = {n["instructions"]["record_name"]: n["instructions"]["record_value"]
               for n in v["names"] if n["state"] != "valid"}  # *.d and d share one record
    for name, value in records.items():
        env.dcv.add_record("CNAME", name, value)
    assert validate(api, oid)["status"] == "ACT"
    return oid, api.get(f"/ssl/orders/{oid}")[1]["data"]
