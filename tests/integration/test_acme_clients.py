"""Real ACME clients against the module's ACME server (issue 11): Debian's certbot 2.1
(standalone http-01, manual dns-01 with hooks), lego 4.9 (http-01, tls-alpn-01, dns-01
through the exec provider) and Apache's mod_md 2.6 (a second httpd: obtain, renew through
ARI, pick up a revocation), over TLS with a test CA the clients trust, External Account
Binding bound to a product (one charge) or to a paid order (no charge). Every certificate
chains to the built-in CA root (openssl verify) and shows in the team's orders.

The same client runs against Pebble check the harness itself (the clients, their hooks,
the challenge listeners and the test DNS): when they pass and a run against our server
fails, the server is at fault.
"""
import os
import types
import uuid

import pytest

import acme_clients as ac
import harness
from harness import Env
from issuing import DV, LONG, dom, order

CLIENTS = ["certbot-http-01", "certbot-dns-01", "lego-http-01", "lego-tls-alpn-01", "lego-dns-01"]


@pytest.fixture(scope="module")
def env():
    """This module's own server: the ACME server over TLS, its validation probes sent to
    the clients' challenge listeners (SSLOrdersDCVConnectTo *:80 and *:443) and dns-01
    looked up in the harness's dnsmasq."""
    e = Env()
    try:
        e.acme_tls = ac.TlsPki(os.path.join(e.base, "tls"))
        e.ch_http = ac.listener_port()
        e.ch_tls = ac.listener_port()
        e.httpd.dcv = types.SimpleNamespace(http_port=e.ch_http, https_port=e.ch_tls,
                                            dns_port=e.dcv.dns_port)
        e.acme_port = harness.free_port()
        e.httpd.extra = ac.acme_server_conf(e.acme_port, e.acme_tls, public_main=True)
        e.directory = f"https://localhost:{e.acme_port}/acme/directory"
        e.dnsctl = ac.DnsControl(e.dcv)
        e.hooks = e.dnsctl.hook(os.path.join(e.base, "hooks"))
        e.start()
    except Exception:
        e.close()
        raise
    yield e
    e.dnsctl.close()
    e.close()


@pytest.fixture(scope="module")
def pebble(env):
    p = ac.Pebble(env.base, env.acme_tls, env.ch_http, env.ch_tls, env.dcv.dns_port,
                  env={"PEBBLE_VA_NOSLEEP": "1", "PEBBLE_WFE_NONCEREJECT": "0"})
    yield p
    p.close()


@pytest.fixture
def workdir(env):
    d = os.path.join(env.base, "clients", uuid.uuid4().hex[:8])
    os.makedirs(d)
    yield d
    ac.wait_ports_free(env.ch_http, env.ch_tls)


def names_for(env):
    d = dom()
    names = [d, "www." + d]
    for n in names:  # Pebble resolves the names; our server connects through DCVConnectTo
        env.dcv.add_record("A", n, "127.0.0.1")
    return names


def client_for(kind, d, directory, ca, eab):
    cls = ac.Certbot if kind.startswith("certbot") else ac.Lego
    return cls(d, directory, ca, eab)


def port_for(env, challenge):
    return env.ch_tls if challenge == "tls-alpn-01" else env.ch_http


def issue(env, client, kind, names):
    challenge = kind.split("-", 1)[1]
    if isinstance(client, ac.Certbot):
        return client.certonly(names, challenge, http_port=env.ch_http, hooks=env.hooks)
    return client.issue(names, challenge, port=port_for(env, challenge), hooks=env.hooks,
                        dns_port=env.dcv.dns_port)


def renew(env, client, kind, names):
    challenge = kind.split("-", 1)[1]
    if isinstance(client, ac.Certbot):
        return client.renew(names[0])
    return client.renew(names, challenge, port=port_for(env, challenge), hooks=env.hooks,
                        dns_port=env.dcv.dns_port)


def revoke(env, client, kind, names):
    challenge = kind.split("-", 1)[1]
    if isinstance(client, ac.Certbot):
        return client.revoke(names[0])
    return client.revoke(names, challenge, port=port_for(env, challenge), hooks=env.hooks,
                         dns_port=env.dcv.dns_port)


def ok(rc_out, what):
    rc, out = rc_out
    assert rc == 0, f"{what} failed ({rc}):\n{out[-6000:]}"
    return out


# ---- the harness itself, against Pebble -------------------------------------------------------

@pytest.mark.parametrize("kind", CLIENTS)
def test_clients_against_pebble(env, pebble, workdir, kind):
    """The client, its challenge listener or hooks, and the DNS work: issue, renew, revoke
    against Pebble, the chain verified against Pebble's root."""
    names = names_for(env)
    c = client_for(kind, workdir, pebble.directory, env.acme_tls.ca, ("kid-1", pebble.EAB["kid-1"]))
    ok(issue(env, c, kind, names), f"{kind} issue against pebble")
    first = c.cert_pem(names[0])
    good, out = ac.openssl_verify(first, c.chain_pem(names[0]), pebble.roots())
    assert good, out
    ok(renew(env, c, kind, names), f"{kind} renew against pebble")
    second = c.cert_pem(names[0])
    assert ac.serial_hex(second) != ac.serial_hex(first)
    ok(revoke(env, c, kind, names), f"{kind} revoke against pebble")


def test_mod_md_against_pebble(env, pebble):
    """mod_md obtains from Pebble with EAB (Pebble 2.4 has no ARI or profiles)."""
    d = dom()
    env.dcv.add_record("A", d, "127.0.0.1")
    md = ac.ModMd(env.base, pebble.directory, env.acme_tls.ca, ("kid-2", pebble.EAB["kid-2"]), d,
                  env.ch_http, env.ch_tls)
    md.start()
    try:
        assert md.wait_event("renewed"), md.read_log()[-6000:]
        good, out = ac.openssl_verify(ac.split_pem(md.staged_cert())[0],
                                      "".join(ac.split_pem(md.staged_cert())[1:]), pebble.roots())
        assert good, out
    finally:
        md.stop()


# ---- against our server -----------------------------------------------------------------------

def eab_for(env, api, **body):
    body.setdefault("description", "client test")
    st, ans = api.post("/acme/eab", json=body)
    assert st == 200, ans
    d = ans["data"]
    assert d["directory_url"] == env.directory
    return d["kid"], d["hmac_key"]


def team_state(api):
    bal = api.get("/balance")[1]["data"]["balance"]
    led = api.get("/ledger", params={"kind": "charge", "limit": 1000})[1]["data"]["results"]
    return bal, led


def order_of(api, name):
    st, body = api.get("/ssl/orders", params={"limit": 1000})
    assert st == 200, body
    found = [o for o in body["data"]["results"] if o["common_name"] == name]
    assert len(found) == 1, f"{name} in the team's orders: {found}"
    return found[0]


def certs_of(api, oid):
    st, body = api.get(f"/ssl/orders/{oid}/certificates")
    assert st == 200, body
    return {int(c["serial"], 16): c for c in body["data"]["results"]}


def check_ours(env, api, name, leaf, chain):
    """The certificate chains to the built-in root and is one of the order's certificates."""
    o = order_of(api, name)
    full = api.get(f"/ssl/orders/{o['id']}")[1]["data"]
    good, out = ac.openssl_verify(leaf, chain, full["root_certificate"])
    assert good, out
    serial = int(ac.serial_hex(leaf), 16)
    certs = certs_of(api, o["id"])
    assert serial in certs, (serial, certs.keys())
    return full, certs[serial]


def client_flow_ours(env, api, c, kind, names, charged):
    """issue -> renew -> revoke with a client; charged: the order's price charged once (a
    product-bound EAB) or None (an order-bound EAB: never)."""
    bal0, led0 = team_state(api)
    ok(issue(env, c, kind, names), f"{kind} issue")
    first = c.cert_pem(names[0])
    o, cert = check_ours(env, api, names[0], first, c.chain_pem(names[0]))
    assert cert["names"] == names or sorted(cert["names"]) == sorted(names)
    bal1, led1 = team_state(api)
    new_charges = [l for l in led1 if l["id"] not in {x["id"] for x in led0}]
    if charged:
        assert len(new_charges) == 1 and new_charges[0]["order_id"] == o["id"], new_charges
        assert float(bal1) == float(bal0) + float(new_charges[0]["amount"]) < float(bal0)
    else:
        assert new_charges == [] and bal1 == bal0
    ok(renew(env, c, kind, names), f"{kind} renew")
    second = c.cert_pem(names[0])
    assert ac.serial_hex(second) != ac.serial_hex(first)
    o2, cert2 = check_ours(env, api, names[0], second, c.chain_pem(names[0]))
    assert o2["id"] == o["id"], "a renewal inside the subscription reissues the same order"
    assert team_state(api) == (bal1, led1), "a reissue is not charged"
    ok(revoke(env, c, kind, names), f"{kind} revoke")
    certs = certs_of(api, o["id"])
    assert certs[int(ac.serial_hex(second), 16)]["state"] == "revoked"
    assert ["revoked", str(o["id"]), names[0]] in env.httpd.messages()
    return o


@pytest.mark.parametrize("kind", CLIENTS)
def test_client_with_a_product_bound_eab(env, workdir, kind):
    """A product-bound EAB: the first ACME order creates one paid order (charged once), the
    renewal reissues it at no charge, the revocation shows in its certificates."""
    team = env.new_team(balance="1000", ttl=LONG)
    api = team.client()
    names = names_for(env)
    eab = eab_for(env, api, product_id=DV, period=1)
    c = client_for(kind, workdir, env.directory, env.acme_tls.ca, eab)
    client_flow_ours(env, api, c, kind, names, charged=True)


@pytest.mark.parametrize("kind", ["certbot-dns-01", "lego-http-01", "lego-tls-alpn-01"])
def test_client_with_an_order_bound_eab(env, workdir, kind):
    """An order-bound EAB on a paid order waiting for its validation: the ACME issuance is
    that order's issuance, the renewal a reissue, never a charge."""
    team = env.new_team(balance="1000", ttl=LONG)
    api = team.client()
    names = names_for(env)
    oid, _ = order(api, product=DV, names=names)
    eab = eab_for(env, api, order_id=oid)
    c = client_for(kind, workdir, env.directory, env.acme_tls.ca, eab)
    o = client_flow_ours(env, api, c, kind, names, charged=None)
    assert o["id"] == oid


def test_order_bound_eab_on_a_paid_order_without_names(env, workdir):
    """An order paid without a CSR (PAI): its first ACME issuance (lego, one name: what the
    product includes) is that order's issuance; more names than paid for are refused."""
    team = env.new_team(balance="1000", ttl=LONG)
    api = team.client()
    st, ans = api.post("/ssl/orders", json={"product_id": DV, "period": 1})
    assert st == 200, ans
    oid = ans["data"]["id"]
    bal0, led0 = team_state(api)
    names = names_for(env)
    eab = eab_for(env, api, order_id=oid)
    c = ac.Lego(workdir, env.directory, env.acme_tls.ca, eab)
    rc, out = c.issue(names, "http-01", port=env.ch_http)
    assert rc != 0 and "rejectedIdentifier" in out, out[-3000:]
    ok(c.issue(names[:1], "http-01", port=env.ch_http), "lego with one name")
    o, _ = check_ours(env, api, names[0], c.cert_pem(names[0]), c.chain_pem(names[0]))
    assert o["id"] == oid and o["status"] == "ACT"
    assert team_state(api) == (bal0, led0)


def test_eab_from_the_cli_works_with_certbot(env, workdir, monkeypatch):
    """`sslordersctl acme eab create TEAM --order ID` prints {kid, hmac_key, directory_url}
    (the URL from SSLORDERS_PUBLIC_URL) that certbot uses as they are."""
    import json
    team = env.new_team(balance="1000", ttl=LONG)
    api = team.client()
    names = names_for(env)
    oid, _ = order(api, product=DV, names=names)
    monkeypatch.setenv("SSLORDERS_PUBLIC_URL", env.directory.rsplit("/acme/", 1)[0])
    out = env.ctl("acme", "eab", "create", team.slug, "--order", oid).stdout
    cred = json.loads(out)
    assert cred["directory_url"] == env.directory
    c = ac.Certbot(workdir, cred["directory_url"], env.acme_tls.ca, (cred["kid"], cred["hmac_key"]))
    ok(c.certonly(names, "http-01", http_port=env.ch_http), "certbot with CLI credentials")
    check_ours(env, api, names[0], c.cert_pem(names[0]), c.chain_pem(names[0]))


def test_mod_md_obtains_renews_via_ari_and_after_revocation(env):
    """Apache's mod_md with MDExternalAccountBinding (bound to a paid order) and MDProfile: it
    obtains (that order's issuance, no charge); the provider's
    `sslordersctl acme renew-early` moves the ARI window to now and mod_md renews (with
    `replaces`); a revocation moves the window too and mod_md replaces the revoked one."""
    team = env.new_team(balance="1000", ttl=LONG)
    api = team.client()
    d = dom()
    oid, _ = order(api, product=DV, names=[d])   # paid, waiting for its validation
    eab = eab_for(env, api, order_id=oid)
    md = ac.ModMd(env.base, env.directory, env.acme_tls.ca, eab, d, env.ch_http, env.ch_tls,
                  profile="classic")
    md.start()
    try:
        assert md.wait_event("renewed"), md.read_log()[-6000:]
        pems = ac.split_pem(md.staged_cert())
        o, c1 = check_ours(env, api, d, pems[0], "".join(pems[1:]))
        assert o["id"] == oid
        bal1, led1 = team_state(api)
        md.graceful()  # activate it
        assert ac.serial_hex(md.served_cert()) == ac.serial_hex(pems[0])
        # ARI: a window in the future; the provider asks for early renewal: the window is now
        now = ac.datetime.datetime.now(ac.datetime.timezone.utc)
        st, ri = ac.renewal_info(env.directory, env.acme_tls.ca, pems[0])
        assert st == 200, ri
        assert ac.rfc3339(ri["suggestedWindow"]["start"]) > now
        env.ctl("acme", "renew-early", o["id"])
        st, ri = ac.renewal_info(env.directory, env.acme_tls.ca, pems[0])
        assert st == 200 and ac.rfc3339(ri["suggestedWindow"]["start"]) <= \
            ac.datetime.datetime.now(ac.datetime.timezone.utc), ri
        # mod_md sees it and renews (with replaces)
        assert md.wait_event("renewed", count=2), md.read_log()[-6000:]
        pems2 = ac.split_pem(md.staged_cert())
        assert ac.serial_hex(pems2[0]) != ac.serial_hex(pems[0])
        o2, c2 = check_ours(env, api, d, pems2[0], "".join(pems2[1:]))
        assert o2["id"] == o["id"] and team_state(api) == (bal1, led1)
        md.graceful()
        assert ac.serial_hex(md.served_cert()) == ac.serial_hex(pems2[0])
        # a revocation (here from the API) moves the window: mod_md replaces the certificate
        st, body = api.post(f"/ssl/orders/{o['id']}/revoke", json={"reason": "key_compromise"})
        assert st == 200, body
        assert md.wait_event("renewed", count=3), md.read_log()[-6000:]
        pems3 = ac.split_pem(md.staged_cert())
        assert ac.serial_hex(pems3[0]) not in (ac.serial_hex(pems[0]), ac.serial_hex(pems2[0]))
        o3, _ = check_ours(env, api, d, pems3[0], "".join(pems3[1:]))
        assert o3["id"] == o["id"] and team_state(api) == (bal1, led1), \
            "a replacement inside the subscription is a free reissue"
    finally:
        md.stop()
