"""The ACME server's DNS challenges beyond RFC 8555: dns-persist-01 (BR 3.2.2.4.22,
draft-ietf-acme-dns-persist: a TXT record at _validation-persist.<name> naming the CA and the
account, set once) and dns-account-01 (BR 3.2.2.4.21, draft-ietf-acme-dns-account-label: the
dns-01 value at _<account label>._acme-challenge.<name>), driven by our own client
(acme_client.py) against the harness's dnsmasq."""
import base64
import hashlib

import pytest

import pki
from issuing import DV, DV_WILD, LONG, dom
from test_acme import api, client, openssl_ok, paid_order, team  # noqa: F401 (fixtures)


def persist_order(api, names, product=DV):
    """A paid order whose names are validated with dns-persist (PAI); its JSON."""
    body = {"product_id": product, "period": 1, "csr": pki.csr(names[0], names[1:], fresh=True),
            "domain_validation_methods": [{"host_name": n, "method": "dns-persist"} for n in names]}
    st, ans = api.post("/ssl/orders", json=body)
    assert st == 200, ans
    oid = ans["data"]["id"]
    return oid, api.get(f"/ssl/orders/{oid}")[1]["data"]


def acme_order(env, api, d):
    """A paid order for d, an ACME account bound to it and a new ACME order for d."""
    oid = paid_order(api, [d])
    c, _ = client(env, api, oid)
    url, _ = c.new_order([d])
    return oid, c, url


def persist_challenge(c, url):
    """The dns-persist-01 challenge of the ACME order's one authorization."""
    authz = c.get(c.get(url)["authorizations"][0])
    return authz, next(x for x in authz["challenges"] if x["type"] == "dns-persist-01")


def publish(env, name, value):
    base = name[2:] if name.startswith("*.") else name
    env.dcv.add_record("TXT", "_validation-persist." + base, value)


def finalize_ok(env, api, c, url, oid, names):
    order = c.get(url)
    assert order["status"] == "ready", order
    done, _ = c.finalize(order, names)
    assert done["status"] == "valid", done
    return openssl_ok(env, api, oid, c.certificate(done["certificate"]).text)


def test_dns_persist_team_record_from_the_portal(env, api, team):
    """The record the API/portal shows for a dns-persist order (the team's URI) validates
    the ACME challenge as it is; the challenge object says what a record may name."""
    d = dom()
    oid, o = persist_order(api, [d])
    value = o["additional_data"][0]["dns_persist_value"]
    c, _ = client(env, api, oid)
    url, order = c.new_order([d])
    authz, ch = persist_challenge(c, url)
    types = [x["type"] for x in authz["challenges"]]
    assert types == ["http-01", "dns-01", "tls-alpn-01", "dns-account-01", "dns-persist-01"]
    assert ch["status"] == "pending" and "token" not in ch
    issuer = value.split(";")[0]
    assert issuer in ch["issuer-domain-names"]
    assert ch["accounturi"] == c.kid
    assert c.kid in ch["accounturis"] and f"accounturi={ch['accounturis'][1]}" in value
    assert ch["accounturis"][1].startswith("urn:sslorders:")
    publish(env, d, value)
    r = c.post(ch["url"], {}).json()
    assert r["status"] == "valid" and r["validated"], r
    assert c.get(order["authorizations"][0])["status"] == "valid"
    o = finalize_ok(env, api, c, url, oid, [d])
    assert o["status"] == "ACT"


def test_dns_persist_account_url_record(env, api):
    """A record naming the ACME account's URL (as the draft describes) validates too."""
    d = dom()
    oid, c, url = acme_order(env, api, d)
    _, ch = persist_challenge(c, url)
    publish(env, d, f"{ch['issuer-domain-names'][0]}; accounturi={c.kid}")
    assert c.post(ch["url"], {}).json()["status"] == "valid"
    finalize_ok(env, api, c, url, oid, [d])


def test_dns_persist_missing_record(env, api):
    d = dom()
    oid, c, url = acme_order(env, api, d)
    _, ch = persist_challenge(c, url)
    r = c.post(ch["url"], {}).json()
    assert r["status"] == "invalid", r
    assert r["error"]["type"] == "urn:ietf:params:acme:error:dns", r
    assert "no TXT record at _validation-persist." + d in r["error"]["detail"], r
    assert c.get(url)["status"] == "invalid"
    assert api.get(f"/ssl/orders/{oid}")[1]["data"]["status"] == "PAI"


def test_dns_persist_other_account_team_or_ca_refused(env, api):
    """Records naming another ACME account, another team or another CA do not validate."""
    other_team = env.new_team(balance="10000", ttl=LONG).client()
    other_oid = paid_order(other_team, [dom()])
    stranger, _ = client(env, other_team, other_oid)
    _, o2 = persist_order(other_team, [dom()])
    other_team_value = o2["additional_data"][0]["dns_persist_value"]
    for label, value, words in [
            ("account", lambda ch: f"{ch['issuer-domain-names'][0]}; accounturi={stranger.kid}",
             "names another account"),
            ("team", lambda ch: other_team_value, "names another account"),
            ("ca", lambda ch: f"letsencrypt.org; accounturi={ch['accounturi']}", "names another CA")]:
        d = dom()
        oid, c, url = acme_order(env, api, d)
        _, ch = persist_challenge(c, url)
        publish(env, d, value(ch))
        r = c.post(ch["url"], {}).json()
        assert r["status"] == "invalid", (label, r)
        assert r["error"]["type"] == "urn:ietf:params:acme:error:incorrectResponse", (label, r)
        assert words in r["error"]["detail"], (label, r)
        if label != "ca":
            assert c.kid in r["error"]["detail"], r  # it says what it expected
        assert c.get(url)["status"] == "invalid"


def wildcard_order(api, d):
    st, ans = api.post("/ssl/orders", json={
        "product_id": DV_WILD, "period": 1, "csr": pki.csr("*." + d, [], fresh=True),
        "domain_validation_methods": [{"host_name": "*." + d, "method": "dns"}]})
    assert st == 200, ans
    return ans["data"]["id"]


def test_dns_persist_wildcard_needs_policy(env, api):
    # without policy=wildcard: refused
    d = dom()
    oid = wildcard_order(api, d)
    c, _ = client(env, api, oid)
    url, _ = c.new_order(["*." + d])
    authz, ch = persist_challenge(c, url)
    assert authz["wildcard"] is True
    assert [x["type"] for x in authz["challenges"]][0] == "dns-01"
    assert "http-01" not in [x["type"] for x in authz["challenges"]]
    publish(env, "*." + d, f"{ch['issuer-domain-names'][0]}; accounturi={c.kid}")
    r = c.post(ch["url"], {}).json()
    assert r["status"] == "invalid" and "policy=wildcard" in r["error"]["detail"], r
    # with it: issued
    d = dom()
    oid = wildcard_order(api, d)
    c, _ = client(env, api, oid)
    url, _ = c.new_order(["*." + d])
    _, ch = persist_challenge(c, url)
    publish(env, "*." + d, f"{ch['issuer-domain-names'][0]}; accounturi={c.kid}; policy=wildcard")
    assert c.post(ch["url"], {}).json()["status"] == "valid"
    finalize_ok(env, api, c, url, oid, ["*." + d])


# ---- dns-account-01 ---------------------------------------------------------------------

def account_label(account_url):
    """The draft's label, computed independently of the server."""
    return "_" + base64.b32encode(hashlib.sha256(account_url.encode()).digest()[:10]).decode() \
        .rstrip("=").lower()


def account_challenge(c, url):
    authz = c.get(c.get(url)["authorizations"][0])
    return authz, next(x for x in authz["challenges"] if x["type"] == "dns-account-01")


@pytest.mark.parametrize("wild", [False, True])
def test_dns_account(env, api, wild):
    d = dom()
    name = "*." + d if wild else d
    oid = wildcard_order(api, d) if wild else paid_order(api, [d])
    c, _ = client(env, api, oid)
    url, _ = c.new_order([name])
    authz, ch = account_challenge(c, url)
    types = [x["type"] for x in authz["challenges"]]
    assert types == (["dns-01", "dns-account-01", "dns-persist-01"] if wild else
                     ["http-01", "dns-01", "tls-alpn-01", "dns-account-01", "dns-persist-01"])
    assert ch["status"] == "pending" and ch["token"]
    # the dns-01 record is not the dns-account-01 one
    env.dcv.add_record("TXT", "_acme-challenge." + d, c.dns_value(ch["token"]))
    env.dcv.add_record("TXT", f"{account_label(c.kid)}._acme-challenge.{d}",
                       c.dns_value(ch["token"]))
    r = c.post(ch["url"], {}).json()
    assert r["status"] == "valid", r
    finalize_ok(env, api, c, url, oid, [name])


def test_dns_account_wrong_or_missing_record(env, api):
    # missing: only the dns-01 name has it
    d = dom()
    oid, c, url = acme_order(env, api, d)
    _, ch = account_challenge(c, url)
    env.dcv.add_record("TXT", "_acme-challenge." + d, c.dns_value(ch["token"]))
    r = c.post(ch["url"], {}).json()
    assert r["status"] == "invalid" and r["error"]["type"] == "urn:ietf:params:acme:error:dns", r
    assert c.get(url)["status"] == "invalid"
    # wrong: another account's label, and a wrong value at ours
    d = dom()
    oid = paid_order(api, [d])
    c, _ = client(env, api, oid)
    other, _ = client(env, api, oid)
    url, _ = c.new_order([d])
    _, ch = account_challenge(c, url)
    env.dcv.add_record("TXT", f"{account_label(other.kid)}._acme-challenge.{d}",
                       c.dns_value(ch["token"]))
    env.dcv.add_record("TXT", f"{account_label(c.kid)}._acme-challenge.{d}", "wrong")
    r = c.post(ch["url"], {}).json()
    assert r["status"] == "invalid", r
    assert r["error"]["type"] == "urn:ietf:params:acme:error:incorrectResponse", r
    assert c.get(url)["status"] == "invalid"
    assert api.get(f"/ssl/orders/{oid}")[1]["data"]["status"] == "PAI"
