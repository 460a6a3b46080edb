"""Baseline Requirements: DNSSEC-validated DNS for domain validation and CAA, and the CAA
check before issuance, against real authoritative DNS (nsd on 127.0.0.1 serving zones that
ldns-signzone signed, one with broken signatures, one unsigned; the module validates with a
trust anchor file holding the test zones' DS records)."""
import time
import uuid

import pytest

from harness import DB, Httpd
from issuing import DV, DV_MULTI, DV_WILD, LONG, order, publish_files, validate
from zones import Zones

CA = "sslorders.local"  # the CA tag: the default CAA identity


@pytest.fixture(scope="module")
def dns(env):
    z = Zones(env.base)
    z.zone("sec.test")
    z.zone("bogus.test", mode="broken")
    z.zone("plain.test", mode="unsigned")
    caa = "caa.test"
    z.zone(caa)
    z.add(caa, "ok", "CAA", f'0 issue "{CA}"')
    z.add(caa, "other", "CAA", '0 issue "letsencrypt.org"')
    z.add(caa, "other", "CAA", '0 issue "pki.goog; validationmethods=dns-01"')
    z.add(caa, "nobody", "CAA", '0 issue ";"')
    z.add(caa, "wild", "CAA", '0 issue ";"')
    z.add(caa, "wild", "CAA", f'0 issuewild "{CA}"')
    z.add(caa, "vm", "CAA", f'0 issue "{CA}; validationmethods=dns-01"')
    z.add(caa, "vmok", "CAA", f'0 issue "{CA}; validationmethods=http-01,dns-01"')
    z.add(caa, "acct", "CAA", f'0 issue "{CA}; accounturi=https://acme.example/acct/1"')
    z.add(caa, "crit", "CAA", '128 tbs "unknown"')
    z.add(caa, "crit", "CAA", f'0 issue "{CA}"')
    z.add(caa, "noncrit", "CAA", '0 tbs "unknown"')
    z.add(caa, "noncrit", "CAA", f'0 issue "{CA}"')
    z.add(caa, "iodef", "CAA", '0 iodef "mailto:security@caa.test"')
    z.add(caa, "iodef", "CAA", f'0 issue "{CA.upper()}"')
    z.add(caa, "alias", "CNAME", "other.caa.test.")
    z.add(caa, "onlyiodef", "CAA", '0 iodef "https://iodef.caa.test/report"')
    z.add(caa, "malformed", "CAA", f'0 issue "{CA}; =x"')
    z.zone("tree.test")
    z.add("tree.test", "@", "CAA", f'0 issue "{CA}"')
    z.zone("tree2.test", mode="unsigned")
    z.add("tree2.test", "@", "CAA", '0 issue "other-ca.example"')
    z.add("plain.test", "refuse", "CAA", '0 issue "letsencrypt.org"')
    z.add("bogus.test", "caa", "CAA", f'0 issue "{CA}"')
    z.start()
    yield z
    z.stop()


@pytest.fixture(scope="module")
def br(env, dns):
    h = Httpd(env.base, DB, env.db_params, name="br-" + uuid.uuid4().hex[:6], dcv=env.dcv,
              extra=f"SSLOrdersDCVNameserver 127.0.0.1:{dns.port}\nSSLOrdersDNSSEC on\n"
                    f"SSLOrdersDNSTrustAnchor {dns.anchor}\nSSLOrdersCAA on\n")
    h.ca_dir = env.httpd.ca_dir
    env.servers.append(h)
    h.start()
    yield h
    h.stop()
    env.servers.remove(h)
    h.new_log_lines()


@pytest.fixture
def api(env, br):
    return env.new_team(balance="10000", ttl=LONG).client(br)


def names_of(v):
    return {n["host_name"]: n for n in v["names"]}


def dns_validate(dns, api, zone, names, product=DV):
    """An order validated with DNS TXT records published in zone; returns (id, answer)."""
    oid, _ = order(api, product=product, names=names, method="dns")
    v = validate(api, oid)
    records = set()
    for n in v["names"]:
        base = n["host_name"].removeprefix("*.")
        rel = f"_pki-validation.{base}"[: -len(zone) - 1]
        records.add((rel, '"%s"' % n["instructions"]["record_value"]))
    for rel, value in sorted(records):
        dns.add(zone, rel, "TXT", value)
    dns.start()
    return oid, validate(api, oid)


# ---- DNSSEC --------------------------------------------------------------------------------

def test_signed_zone_validates_and_issues(dns, api):
    oid, v = dns_validate(dns, api, "sec.test", ["a1.sec.test", "www.a1.sec.test"], product=DV_MULTI)
    assert v["status"] == "ACT", [(n["host_name"], n["state"], n["last_error"], n["caa"]) for n in v["names"]]
    for n in v["names"]:
        assert n["state"] == "valid"
        assert n["caa"]["status"] == "permitted"
        assert n["caa"]["dnssec"] == "secure", n


def test_bogus_signature_fails_the_check(env, dns, api):
    oid, v = dns_validate(dns, api, "bogus.test", ["b1.bogus.test"])
    assert v["status"] == "REQ", v
    n = v["names"][0]
    assert n["state"] != "valid"
    assert "DNSSEC validation" in n["last_error"], n


def test_unsigned_zone_passes(dns, api):
    oid, v = dns_validate(dns, api, "plain.test", ["c1.plain.test"])
    assert v["status"] == "ACT", v
    assert v["names"][0]["caa"]["dnssec"] == "insecure"


# ---- CAA -----------------------------------------------------------------------------------

def http_order(env, api, names, product=None):
    product = product or (DV_MULTI if len(names) > 1 else DV)
    oid, o = order(api, product=product, names=names, method="http")
    publish_files(env, o)
    return oid, validate(api, oid)


def events(api, oid):
    return api.get(f"/ssl/orders/{oid}/events")[1]["data"]["results"]


@pytest.mark.parametrize("name", ["ok.caa.test", "vmok.caa.test", "noncrit.caa.test",
                                  "onlyiodef.caa.test", "deep.sub.tree.test", "none.sec.test"])
def test_caa_permits(env, api, name):
    oid, v = http_order(env, api, [name])
    assert v["status"] == "ACT", v
    caa = v["names"][0]["caa"]
    assert caa["status"] == "permitted", caa


@pytest.mark.parametrize("name,record,why", [
    ("other.caa.test", 'other.caa.test CAA 0 issue "letsencrypt.org"', "another CA"),
    ("nobody.caa.test", 'nobody.caa.test CAA 0 issue ";"', "forbids every CA"),
    ("vm.caa.test", "validationmethods=dns-01", "not http-01"),
    ("acct.caa.test", "accounturi", "ACME account"),
    ("crit.caa.test", 'crit.caa.test CAA 128 tbs "unknown"', "critical"),
    ("malformed.caa.test", "malformed.caa.test CAA 0 issue", "malformed"),
    ("alias.caa.test", 'alias.caa.test CAA 0 issue "letsencrypt.org"', "another CA"),
    ("x.y.tree2.test", 'tree2.test CAA 0 issue "other-ca.example"', "another CA"),
    ("refuse.plain.test", 'refuse.plain.test CAA 0 issue "letsencrypt.org"', "another CA"),
])
def test_caa_refuses_naming_the_record(env, api, name, record, why):
    oid, v = http_order(env, api, [name])
    assert v["status"] == "REQ", v
    caa = v["names"][0]["caa"]
    assert caa["status"] == "refused", caa
    assert record in caa["record"] or record in caa["detail"], caa
    assert why in caa["detail"], caa
    ev = [e for e in events(api, oid) if e["kind"] == "caa_refused"]
    assert ev and ev[0]["detail"]["host_name"] == name and ev[0]["detail"]["record"] == caa["record"]
    failed = [e for e in events(api, oid) if e["kind"] == "issuance_failed"]
    assert failed and caa["record"] in failed[-1]["detail"]["reason"]


def test_caa_issuewild_for_wildcards_only(env, dns, api):
    oid, v = dns_validate(dns, api, "caa.test", ["*.wild.caa.test", "wild.caa.test"],
                          product=DV_WILD)
    assert v["status"] == "REQ", v
    n = names_of(v)
    assert n["*.wild.caa.test"]["caa"]["status"] == "permitted", n
    assert "issuewild" in n["*.wild.caa.test"]["caa"]["record"]
    assert n["wild.caa.test"]["caa"]["status"] == "refused"
    assert n["wild.caa.test"]["caa"]["record"] == 'wild.caa.test CAA 0 issue ";"'


def test_caa_iodef_recorded(env, api):
    oid, v = http_order(env, api, ["iodef.caa.test"])
    assert v["status"] == "ACT", v
    io = [e["detail"] for e in events(api, oid) if e["kind"] == "caa_iodef"]
    assert io == [{"host_name": "iodef.caa.test", "iodef": "mailto:security@caa.test",
                   "status": "permitted"}], io


def test_caa_none_found_is_reused_for_8_hours(env, dns, api):
    """BR 3.2.2.8: "no CAA record anywhere" stands for 8 hours for the same order; a record
    published meanwhile counts from the first issuance after that."""
    label = "r" + uuid.uuid4().hex[:8]
    name = f"{label}.plain.test"
    oid, v = http_order(env, api, [name])
    assert v["status"] == "ACT", v
    first = v["names"][0]["caa"]
    assert first["status"] == "permitted" and first["domain"] == "", first
    dns.add("plain.test", label, "CAA", '0 issue "letsencrypt.org"')
    dns.start()

    def reissue(at):
        h = {"X-SSLOrders-Clock": str(int(at))}
        st, body = api.post(f"/ssl/orders/{oid}/reissue", json={"use_previous_csr": True}, headers=h)
        assert st == 200, body  # the names' validation is reused: signed in the request
        return api.get(f"/ssl/orders/{oid}/certificates")[1]["data"]["results"]

    now = time.time()
    certs = reissue(now + 7 * 3600)  # within 8 hours: the earlier result, not a new lookup
    assert len(certs) == 2 and certs[-1]["state"] == "valid", certs
    caa = api.get(f"/ssl/orders/{oid}/validation")[1]["data"]["names"][0]["caa"]
    assert caa == first, caa
    certs = reissue(now + 9 * 3600)  # after: looked up again, the new record refuses
    assert len(certs) == 2, certs
    caa = api.get(f"/ssl/orders/{oid}/validation", headers={"X-SSLOrders-Clock": str(int(now + 9 * 3600))})[1]["data"]["names"][0]["caa"]
    assert caa["status"] == "refused" and "letsencrypt.org" in caa["record"], caa
    failed = [e for e in events(api, oid) if e["kind"] == "issuance_failed"]
    assert failed and "letsencrypt.org" in failed[-1]["detail"]["reason"], failed


def test_caa_lookup_failure_is_not_permission(env, api):
    # the CAA answer of caa.bogus.test is bogus: an error, not "no records"
    oid, v = http_order(env, api, ["caa.bogus.test"])
    assert v["status"] == "REQ", v
    caa = v["names"][0]["caa"]
    assert caa["status"] == "error", caa
    assert "does not permit issuance" in caa["detail"] and "DNSSEC" in caa["detail"], caa
    assert any(e["kind"] == "caa_failed" for e in events(api, oid))


def test_caa_identity_directive(env, dns):
    h = Httpd(env.base, DB, env.db_params, name="brid-" + uuid.uuid4().hex[:6], dcv=env.dcv,
              extra=f"SSLOrdersDCVNameserver 127.0.0.1:{dns.port}\n"
                    f"SSLOrdersDNSTrustAnchor {dns.anchor}\nSSLOrdersDNSSEC on\n"
                    "SSLOrdersCAAIdentity letsencrypt.org other-ca.example\n")
    h.ca_dir = env.httpd.ca_dir
    env.servers.append(h)
    try:
        h.start()
        api = env.new_team(balance="10000", ttl=LONG).client(h)
        oid, v = http_order(env, api, ["other.caa.test"])
        assert v["status"] == "ACT", v
        assert 'issue "letsencrypt.org"' in v["names"][0]["caa"]["record"]
        oid, v = http_order(env, api, ["ok.caa.test"])  # names sslorders.local: not ours now
        assert v["status"] == "REQ" and v["names"][0]["caa"]["status"] == "refused", v
    finally:
        h.stop()
        env.servers.remove(h)
        h.new_log_lines()


# ---- approver addresses and e-mail validation by date ---------------------------------------

def at(when):
    import calendar
    return {"X-SSLOrders-Clock": str(calendar.timegm(when + (12, 0, 0)))}


def email_order_body(d, approver):
    import pki
    return {"product_id": DV, "period": 1, "csr": pki.csr(d, [], fresh=True),
            "domain_validation_methods": [{"host_name": d, "method": "email"}],
            "approver_email": approver}


def test_approver_at_the_fqdn_and_email_dates(env, api):
    d = "www.shop." + uuid.uuid4().hex[:8] + ".com"
    st, body = api.get("/ssl/approver-emails", params={"domain": d})
    assert st == 200 and f"webmaster@{d}" in body["data"]["results"]
    assert f"admin@{d[4:]}" in body["data"]["results"] and len(body["data"]["results"]) == 15
    # before 2026-03-15: accepted without a warning; the FQDN's address is an approver
    st, body = api.post("/ssl/orders", json=email_order_body(d, f"admin@{d}"), headers=at((2026, 3, 14)))
    assert st == 200, body
    assert not body.get("warnings"), body
    # from 2026-03-15: a warning
    st, body = api.post("/ssl/orders", json=email_order_body(d, f"hostmaster@{d}"), headers=at((2026, 3, 15)))
    assert st == 200, body
    assert [w["code"] for w in body["warnings"]] == [1120], body
    # from 2028-03-15: refused, nothing created
    before = api.get("/ssl/orders")[1]["data"]["total"]
    st, body = api.post("/ssl/orders", json=email_order_body(d, f"admin@{d}"), headers=at((2028, 3, 15)))
    assert st == 400 and body["code"] == 1120 and "2028-03-15" in body["desc"], body
    assert api.get("/ssl/orders")[1]["data"]["total"] == before
    # an address at a name that is not a parent is no approver
    st, body = api.post("/ssl/orders", json=email_order_body(d, f"admin@x.{d}"), headers=at((2026, 1, 1)))
    assert st == 400 and body["code"] == 1009, body


# ---- dns-persist (BR 3.2.2.4.22) ------------------------------------------------------------

def test_dns_persist_set_once_for_the_team(env, dns, br):
    team = env.new_team(balance="10000", ttl=LONG)
    api = team.client(br)
    name = "p" + uuid.uuid4().hex[:6] + ".sec.test"
    oid, _ = order(api, names=[name], method="dns-persist")
    v = validate(api, oid)
    assert v["status"] == "REQ"
    ins = v["names"][0]["instructions"]
    assert ins["record_name"] == f"_validation-persist.{name}" and ins["record_type"] == "TXT"
    assert ins["record_value"].startswith(f"{CA}; accounturi=urn:sslorders:{CA}:team:")
    assert "there is no TXT record" in v["names"][0]["last_error"]
    o = api.get(f"/ssl/orders/{oid}")[1]["data"]
    assert o["additional_data"][0]["dns_persist_value"] == ins["record_value"]
    dns.add("sec.test", ins["record_name"][: -len(".sec.test")], "TXT", '"%s"' % ins["record_value"])
    dns.start()
    v = validate(api, oid)
    assert v["status"] == "ACT", v
    # set once: a later order of the team for the name validates without a change
    oid2, _ = order(api, names=[name], method="dns-persist")
    assert validate(api, oid2)["status"] == "ACT"
    # not for another team, nor for the wildcard (no policy=wildcard)
    other = env.new_team(balance="10000", ttl=LONG).client(br)
    oid3, _ = order(other, names=[name], method="dns-persist")
    v = validate(other, oid3)
    assert v["status"] == "REQ" and "names another account" in v["names"][0]["last_error"], v
    oid4, _ = order(api, product=DV_WILD, names=["*." + name, name], method="dns-persist")
    v = validate(api, oid4)
    n = names_of(v)
    assert n["*." + name]["state"] != "valid" and "policy=wildcard" in n["*." + name]["last_error"]
    assert n[name]["state"] == "valid"
    # a bad method name lists dns-persist
    st, body = api.post("/ssl/orders", json={"product_id": DV, "period": 1,
                                             "domain_validation_methods": [{"host_name": name, "method": "dns-persistent"}]})
    assert st == 400 and "dns-persist" in body["desc"]


# ---- dns-account (BR 3.2.2.4.21) ------------------------------------------------------------

def account_label(uri):
    """so_dcv_account_label(): "_" + lower-case base32 of SHA-256(uri)[:10]."""
    import base64
    import hashlib
    return "_" + base64.b32encode(hashlib.sha256(uri.encode()).digest()[:10]).decode().lower()


def team_uri(api, oid):
    """The team's account URI, as the order's dns-persist value names it."""
    ad = api.get(f"/ssl/orders/{oid}")[1]["data"]["additional_data"][0]
    uri = ad["dns_persist_value"].split("accounturi=")[1].split(";")[0].strip()
    assert uri.startswith(f"urn:sslorders:{CA}:team:"), ad
    return uri


def test_dns_account_labelled_record(env, dns, br):
    api = env.new_team(balance="10000", ttl=LONG).client(br)
    name = "la" + uuid.uuid4().hex[:6] + ".sec.test"
    rel = name[: -len(".sec.test")]
    oid, _ = order(api, names=[name], method="dns-account")
    uri = team_uri(api, oid)
    label = account_label(uri)
    v = validate(api, oid)
    assert v["status"] == "REQ", v
    n = v["names"][0]
    assert n["method"] == "dns-account"
    ins = n["instructions"]
    ad = api.get(f"/ssl/orders/{oid}")[1]["data"]["additional_data"][0]
    # the record at the label of the team URI, the value the plain dns method asks for
    assert ins["record_name"] == f"{label}._acme-challenge.{name}" and ins["record_type"] == "TXT", ins
    assert ins["record_value"] == ad["dns_value"] and ins["txt_record_name"] == ins["record_name"], ins
    assert ad["dns_account_record"] == ins["record_name"] and ad["dns_account_value"] == ad["dns_value"]
    assert label in ins["text"] and ins["record_value"] in ins["text"]
    assert ins["record_name"] in n["last_error"], n
    # the right value at the plain _acme-challenge name, at another team's label and at
    # _pki-validation (the dns method's TXT) does not validate it
    other_label = account_label(f"urn:sslorders:{CA}:team:999999999")
    value = '"%s"' % ins["record_value"]
    dns.add("sec.test", f"_acme-challenge.{rel}", "TXT", value)
    dns.add("sec.test", f"{other_label}._acme-challenge.{rel}", "TXT", value)
    dns.add("sec.test", f"_pki-validation.{rel}", "TXT", value)
    dns.start()
    v = validate(api, oid)
    assert v["status"] == "REQ" and v["names"][0]["state"] != "valid", v
    assert ins["record_name"] in v["names"][0]["last_error"], v
    # a wrong value at the label: named
    dns.add("sec.test", f"{label}._acme-challenge.{rel}", "TXT", '"not-the-value"')
    dns.start()
    v = validate(api, oid)
    assert v["status"] == "REQ" and "wrong value" in v["names"][0]["last_error"], v
    # the record at the label: ACT (DNSSEC-validated in the signed zone)
    dns.add("sec.test", f"{label}._acme-challenge.{rel}", "TXT", value)
    dns.start()
    v = validate(api, oid)
    assert v["status"] == "ACT", v
    assert v["names"][0]["caa"]["dnssec"] == "secure", v
    ev = [e["detail"] for e in events(api, oid) if e["kind"] == "name_validated"]
    assert ev == [{"host_name": name, "method": "dns-account"}], ev


def test_dns_account_wildcard_and_bogus(env, dns, br):
    api = env.new_team(balance="10000", ttl=LONG).client(br)
    name = "lw" + uuid.uuid4().hex[:6] + ".sec.test"
    oid, _ = order(api, product=DV_WILD, names=["*." + name, name], method="dns-account")
    v = validate(api, oid)
    ins = {n["host_name"]: n["instructions"] for n in v["names"]}
    # a wildcard is validated at its base: the same record serves both
    assert ins["*." + name]["record_name"] == ins[name]["record_name"]
    dns.add("sec.test", ins[name]["record_name"][: -len(".sec.test")], "TXT",
            '"%s"' % ins[name]["record_value"])
    dns.start()
    v = validate(api, oid)
    assert v["status"] == "ACT", v
    # the right record in the zone with broken signatures fails DNSSEC
    bname = "lb" + uuid.uuid4().hex[:6] + ".bogus.test"
    oid, _ = order(api, names=[bname], method="dns-account")
    ins = validate(api, oid)["names"][0]["instructions"]
    dns.add("bogus.test", ins["record_name"][: -len(".bogus.test")], "TXT", '"%s"' % ins["record_value"])
    dns.start()
    v = validate(api, oid)
    assert v["status"] == "REQ" and "DNSSEC validation" in v["names"][0]["last_error"], v


def test_caa_validationmethods_dns_account(env, dns, br):
    """An API dns-account validation is the method dns-account-01 for CAA
    validationmethods: a record allowing it permits, one allowing only dns-01 refuses."""
    api = env.new_team(balance="10000", ttl=LONG).client(br)
    ok = f"dv{uuid.uuid4().hex[:8]}.caa.test"
    no = f"dn{uuid.uuid4().hex[:8]}.caa.test"
    dns.add("caa.test", ok.split(".")[0], "CAA", f'0 issue "{CA}; validationmethods=dns-account-01"')
    dns.add("caa.test", no.split(".")[0], "CAA", f'0 issue "{CA}; validationmethods=dns-01"')
    got = {}
    for n in (ok, no):
        oid, _ = order(api, names=[n], method="dns-account")
        ins = validate(api, oid)["names"][0]["instructions"]
        dns.add("caa.test", ins["record_name"][: -len(".caa.test")], "TXT", '"%s"' % ins["record_value"])
        got[n] = oid
    dns.start()
    v = validate(api, got[ok])
    assert v["status"] == "ACT", v
    assert v["names"][0]["caa"]["status"] == "permitted", v
    v = validate(api, got[no])
    assert v["status"] == "REQ" and v["names"][0]["state"] == "valid", v
    caa = v["names"][0]["caa"]
    assert caa["status"] == "refused" and "validationmethods=dns-01" in caa["record"], caa
    assert "dns-account-01" in caa["detail"], caa


def test_dns_account_by_update_and_reissue(env, dns, br):
    """The method is accepted where the others are: an order update (REQ) and a reissue."""
    api = env.new_team(balance="10000", ttl=LONG).client(br)
    name = "lu" + uuid.uuid4().hex[:6] + ".sec.test"
    oid, _ = order(api, names=[name], method="dns")
    st, body = api.put(f"/ssl/orders/{oid}", json={"domain_validation_methods": [
        {"host_name": name, "method": "dns-account"}]})
    assert st == 200, body
    n = validate(api, oid)["names"][0]
    assert n["method"] == "dns-account" and "._acme-challenge." in n["instructions"]["record_name"], n
    dns.add("sec.test", n["instructions"]["record_name"][: -len(".sec.test")], "TXT",
            '"%s"' % n["instructions"]["record_value"])
    dns.start()
    assert validate(api, oid)["status"] == "ACT"
    st, body = api.post(f"/ssl/orders/{oid}/reissue", json={"use_previous_csr": True, "domain_validation_methods": [
        {"host_name": name, "method": "dns-account"}]})
    assert st == 200, body
    o = api.get(f"/ssl/orders/{oid}")[1]["data"]
    assert [m["method"] for m in o["domain_validation_methods"]] == ["dns-account"], o


def test_dns_account_method_in_the_error(env, br):
    api = env.new_team(balance="10000", ttl=LONG).client(br)
    st, body = api.post("/ssl/orders", json={"product_id": DV, "period": 1, "domain_validation_methods": [
        {"host_name": "x.sec.test", "method": "dns-acct"}]})
    assert st == 400 and "dns-account" in body["desc"], body


# ---- CAA accounturi (RFC 8657) for ACME issuances --------------------------------------

def test_caa_accounturi_acme(env, dns, api, br):
    """A CAA record bound to one ACME account (accounturi) lets that account issue and
    refuses another account of the same order (a `caa` problem at finalize, the order
    invalid with that error); validationmethods is checked against the ACME challenge."""
    from acme_client import Acme, Key, Problem, b64, csr_der
    name = f"a{uuid.uuid4().hex[:8]}.caa.test"
    vm = f"v{uuid.uuid4().hex[:8]}.caa.test"
    st, ans = api.post("/ssl/orders", json={
        "product_id": DV_MULTI, "period": 1, "csr": __import__("pki").csr(name, [vm], fresh=True),
        "domain_validation_methods": [{"host_name": n, "method": "http"} for n in (name, vm)]})
    assert st == 200, ans
    oid = ans["data"]["id"]

    def account():
        st, body = api.post("/acme/eab", json={"order_id": oid, "description": "caa"})
        assert st == 200, body
        c = Acme(br.url + "/acme/directory", Key("ES256"))
        c.register(body["data"]["kid"], body["data"]["hmac_key"])
        return c

    def ready(c, names):
        url, order = c.new_order(names)
        for a in order["authorizations"]:
            authz = c.get(a)
            if authz["status"] == "valid":
                continue
            ch = next(x for x in authz["challenges"] if x["type"] == "http-01")
            env.dcv.put_file("/.well-known/acme-challenge/" + ch["token"],
                             c.key_authorization(ch["token"]))
            assert c.post(ch["url"], {}).json()["status"] == "valid"
        order = c.get(url)
        assert order["status"] == "ready", order
        return url, order

    mine, other = account(), account()
    dns.add("caa.test", name.split(".")[0], "CAA", f'0 issue "{CA}; accounturi={mine.kid}"')
    dns.add("caa.test", vm.split(".")[0], "CAA", f'0 issue "{CA}; validationmethods=dns-01"')
    dns.start()
    # the other account: refused, naming the record
    url, order = ready(other, [name])
    der, _ = csr_der([name])
    with pytest.raises(Problem) as p:
        other.post(order["finalize"], {"csr": b64(der)})
    assert p.value.status == 403 and p.value.type == "caa", p.value.body
    assert "accounturi" in p.value.body["detail"] or mine.kid in p.value.body["detail"], p.value.body
    o = other.get(url)
    assert o["status"] == "invalid" and o["error"]["type"].endswith(":caa"), o
    # the account the record names: issued
    url, order = ready(mine, [name])
    done = mine.post(order["finalize"], {"csr": b64(csr_der([name])[0])}).json()
    assert done["status"] == "valid", done
    # validationmethods=dns-01 refuses an http-01 validation
    url, order = ready(mine, [vm])
    with pytest.raises(Problem) as p:
        mine.post(order["finalize"], {"csr": b64(csr_der([vm])[0])})
    assert p.value.type == "caa" and "http-01" in p.value.body["detail"], p.value.body
    ev = [e["detail"] for e in events(api, oid) if e["kind"] == "caa_refused"]
    assert {e["host_name"] for e in ev} == {name, vm}, ev


def caa_refuses_then_issues(c, ready, no, ok, method):
    """The ACME order for no (ready(name): challenge done, order ready) is refused at
    finalize with a caa problem naming method; the one for ok is issued."""
    from acme_client import Problem, b64, csr_der
    url, order = ready(no)
    with pytest.raises(Problem) as p:
        c.post(order["finalize"], {"csr": b64(csr_der([no])[0])})
    assert p.value.type == "caa" and method in p.value.body["detail"], p.value.body
    url, order = ready(ok)
    done = c.post(order["finalize"], {"csr": b64(csr_der([ok])[0])}).json()
    assert done["status"] == "valid", done


def test_caa_validationmethods_dns_persist_acme(env, dns, api, br):
    """An ACME dns-persist-01 validation is the method dns-persist-01 for CAA
    validationmethods: a record allowing only it lets the name issue; one allowing only
    http-01 refuses it (a `caa` problem naming the method)."""
    from acme_client import Acme, Key
    ok = f"pv{uuid.uuid4().hex[:8]}.caa.test"
    no = f"pn{uuid.uuid4().hex[:8]}.caa.test"
    st, ans = api.post("/ssl/orders", json={
        "product_id": DV_MULTI, "period": 1, "csr": __import__("pki").csr(ok, [no], fresh=True),
        "domain_validation_methods": [{"host_name": n, "method": "dns-persist"} for n in (ok, no)]})
    assert st == 200, ans
    oid = ans["data"]["id"]
    st, body = api.post("/acme/eab", json={"order_id": oid, "description": "caa"})
    assert st == 200, body
    c = Acme(br.url + "/acme/directory", Key("ES256"))
    c.register(body["data"]["kid"], body["data"]["hmac_key"])
    for n in (ok, no):
        dns.add("caa.test", "_validation-persist." + n.split(".")[0], "TXT",
                f'"{CA}; accounturi={c.kid}"')
    dns.add("caa.test", ok.split(".")[0], "CAA", f'0 issue "{CA}; validationmethods=dns-persist-01"')
    dns.add("caa.test", no.split(".")[0], "CAA", f'0 issue "{CA}; validationmethods=http-01"')
    dns.start()

    def ready(name):
        url, order = c.new_order([name])
        authz = c.get(order["authorizations"][0])
        ch = next(x for x in authz["challenges"] if x["type"] == "dns-persist-01")
        r = c.post(ch["url"], {}).json()
        assert r["status"] == "valid", r
        order = c.get(url)
        assert order["status"] == "ready", order
        return url, order

    caa_refuses_then_issues(c, ready, no, ok, "dns-persist-01")


def test_caa_validationmethods_dns_account_acme(env, dns, api, br):
    """ACME dns-account-01 is its own method for CAA validationmethods (the draft's label):
    `validationmethods=dns-account-01` lets it issue, `validationmethods=dns-01` refuses it."""
    import base64
    import hashlib
    from acme_client import Acme, Key
    ok = f"av{uuid.uuid4().hex[:8]}.caa.test"
    no = f"an{uuid.uuid4().hex[:8]}.caa.test"
    st, ans = api.post("/ssl/orders", json={
        "product_id": DV_MULTI, "period": 1, "csr": __import__("pki").csr(ok, [no], fresh=True),
        "domain_validation_methods": [{"host_name": n, "method": "dns"} for n in (ok, no)]})
    assert st == 200, ans
    oid = ans["data"]["id"]
    st, body = api.post("/acme/eab", json={"order_id": oid, "description": "caa"})
    assert st == 200, body
    c = Acme(br.url + "/acme/directory", Key("ES256"))
    c.register(body["data"]["kid"], body["data"]["hmac_key"])
    label = "_" + base64.b32encode(hashlib.sha256(c.kid.encode()).digest()[:10]).decode().lower()
    dns.add("caa.test", ok.split(".")[0], "CAA", f'0 issue "{CA}; validationmethods=dns-account-01"')
    dns.add("caa.test", no.split(".")[0], "CAA", f'0 issue "{CA}; validationmethods=dns-01"')

    def ready(name):
        url, order = c.new_order([name])
        authz = c.get(order["authorizations"][0])
        ch = next(x for x in authz["challenges"] if x["type"] == "dns-account-01")
        dns.add("caa.test", f"{label}._acme-challenge.{name.split('.')[0]}", "TXT",
                '"%s"' % c.dns_value(ch["token"]))
        dns.start()
        r = c.post(ch["url"], {}).json()
        assert r["status"] == "valid", r
        order = c.get(url)
        assert order["status"] == "ready", order
        return url, order

    caa_refuses_then_issues(c, ready, no, ok, "dns-account-01")


def test_acme_dns_challenges_dnssec_validated(env, dns, api, br):
    """ACME's DNS challenges (dns-01, dns-account-01, dns-persist-01) go through the
    DNSSEC-validating resolver: right records in a zone with broken signatures leave each
    challenge invalid (a `dns` problem saying so); dns-01 in the signed zone validates."""
    import base64
    import hashlib
    from acme_client import Acme, Key
    tag = uuid.uuid4().hex[:6]
    names = {t: f"{t[:5].replace('-', '')}{tag}.bogus.test"
             for t in ("dns-01", "dns-account-01", "dns-persist-01")}
    good = f"ok{tag}.sec.test"
    every = list(names.values()) + [good]
    st, ans = api.post("/ssl/orders", json={
        "product_id": DV_MULTI, "period": 1, "csr": __import__("pki").csr(every[0], every[1:], fresh=True),
        "domain_validation_methods": [{"host_name": n, "method": "dns"} for n in every]})
    assert st == 200, ans
    oid = ans["data"]["id"]
    st, body = api.post("/acme/eab", json={"order_id": oid, "description": "dnssec"})
    assert st == 200, body
    c = Acme(br.url + "/acme/directory", Key("ES256"))
    c.register(body["data"]["kid"], body["data"]["hmac_key"])
    label = "_" + base64.b32encode(hashlib.sha256(c.kid.encode()).digest()[:10]).decode().lower()
    chals = {}
    for t, n in list(names.items()) + [("dns-01", good)]:
        url, order = c.new_order([n])
        authz = c.get(order["authorizations"][0])
        ch = next(x for x in authz["challenges"] if x["type"] == t)
        zone = n.split(".", 1)[1]
        first = n.split(".")[0]
        if t == "dns-01":
            dns.add(zone, f"_acme-challenge.{first}", "TXT", '"%s"' % c.dns_value(ch["token"]))
        elif t == "dns-account-01":
            dns.add(zone, f"{label}._acme-challenge.{first}", "TXT", '"%s"' % c.dns_value(ch["token"]))
        else:
            dns.add(zone, f"_validation-persist.{first}", "TXT", f'"{CA}; accounturi={c.kid}"')
        chals[n] = ch
    dns.start()
    for t, n in names.items():
        r = c.post(chals[n]["url"], {}).json()
        assert r["status"] == "invalid", (t, r)
        assert r["error"]["type"] == "urn:ietf:params:acme:error:dns", (t, r)
        assert "DNSSEC validation" in r["error"]["detail"], (t, r)
    r = c.post(chals[good]["url"], {}).json()
    assert r["status"] == "valid", r
