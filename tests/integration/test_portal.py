"""Issue 17: what the portal needs from the API. A renewal is bought once (the old
order links to it, a second one is refused with 1140), a renewal with the renewed
order's CSR and names goes to validation by itself; white-label settings."""
import os
import subprocess
import time
import uuid

import pytest
import requests

import pki
from harness import DB, Client, Httpd, free_port
from issuing import issued, order
from test_orders import DV, create, dom, set_status


@pytest.fixture
def team(env):
    return env.new_team(balance="5000")


def events(api, oid):
    return [e["kind"] for e in api.get(f"/ssl/orders/{oid}/events")[1]["data"]["results"]]


def issued_order(env, api, **body):
    d = dom()
    oid = create(api, csr=pki.csr(d), **body)[1]["data"]["id"]
    now = int(time.time())
    set_status(env, oid, "ACT", active_date=now - 300 * 86400, expiration_date=now + 10 * 86400,
               order_ends_at=now + 10 * 86400)
    return oid, d


def test_renewal_is_bought_once_and_linked(env, team):
    api = team.client()
    old, _ = issued_order(env, api)
    st, body = api.post("/cart", json={"renewal_of": old})
    assert st == 200, body
    st, body = api.post("/cart/checkout")
    assert st == 200, body
    new = body["data"]["orders"][0]
    o_old = api.get(f"/ssl/orders/{old}")[1]["data"]
    o_new = api.get(f"/ssl/orders/{new}")[1]["data"]
    assert o_old["renewed_by"]["id"] == new and o_old["renewal_of"] is None
    assert o_new["renewal_of"] == old and o_new["renewed_by"] is None
    assert o_old["renewed_by"]["status"] == o_new["status"]
    # the list shows the same links
    listed = {o["id"]: o for o in api.get("/ssl/orders", params={"limit": 100})[1]["data"]["results"]}
    assert listed[old]["renewed_by"]["id"] == new and listed[new]["renewal_of"] == old
    # a second renewal: in the cart, at checkout, in place: 409 1140, nothing changes
    balance = api.get("/balance")[1]["data"]["balance"]
    st, body = api.post("/cart", json={"renewal_of": old})
    assert (st, body["code"]) == (409, 1140), body
    assert f"order {new}" in body["desc"]
    st, body = api.post(f"/ssl/orders/{old}/renew", json={})
    assert (st, body["code"]) == (409, 1140), body
    assert api.get("/cart")[1]["data"]["total"] == 0
    assert api.get("/balance")[1]["data"]["balance"] == balance
    # once the renewal is cancelled, the order may be renewed again
    set_status(env, new, "FAI")
    assert api.get(f"/ssl/orders/{old}")[1]["data"]["renewed_by"] is None
    st, body = api.post("/cart", json={"renewal_of": old})
    assert st == 200, body


def test_renewal_in_the_cart_twice_is_refused_at_checkout(env, team):
    """The order was renewed (by another member's checkout) after it was put in the cart."""
    api = team.client()
    old, _ = issued_order(env, api)
    item = api.post("/cart", json={"renewal_of": old})[1]["data"]["id"]
    st, body = api.post("/cart/checkout")
    assert st == 200
    new = body["data"]["orders"][0]
    # put the item back as it was (a stale cart) straight in the table
    tid = env.sql(f"SELECT id FROM teams WHERE slug = '{team.slug}'").strip()
    env.sql("INSERT INTO cart_items (team_id, product_id, period, quantity, renewal_of, created_at, "
            f"updated_at) VALUES ({tid}, {DV}, 1, 1, {old}, 1, 1)")
    assert item
    st, body = api.get("/cart")
    assert body["data"]["valid"] is False and body["data"]["results"][0]["problem_code"] == 1140
    st, body = api.post("/cart/checkout")
    assert (st, body["code"]) == (409, 1140), body
    assert len([o for o in api.get("/ssl/orders", params={"limit": 100})[1]["data"]["results"]
                if o.get("renewal_of") == old]) == 1
    assert new


def test_renewal_with_unchanged_csr_goes_to_validation(env, team):
    api = team.client()
    d = dom()
    oid = create(api, csr=pki.csr(d, [f"www.{d}"]), product_id=3,
                 domain_validation_methods=[{"host_name": d, "method": "dns"},
                                            {"host_name": f"www.{d}", "method": "http"}])[1]["data"]["id"]
    now = int(time.time())
    set_status(env, oid, "ACT", active_date=now - 300 * 86400, expiration_date=now + 5 * 86400,
               order_ends_at=now + 5 * 86400)
    api.post("/cart", json={"renewal_of": oid})
    new = api.post("/cart/checkout")[1]["data"]["orders"][0]
    o = api.get(f"/ssl/orders/{new}")[1]["data"]
    assert o["status"] == "REQ"
    assert sorted((m["host_name"], m["method"]) for m in o["domain_validation_methods"]) == \
        sorted([(d, "dns"), (f"www.{d}", "http")])
    assert "provisioning_requested" in events(api, new)
    # the names are validated like any order's: the instructions are there
    assert {a["domain"] for a in o["additional_data"]} >= {d, f"www.{d}"}


def test_renewal_that_lacks_something_waits(env, team):
    """An OV order whose organization is gone, or a DV order without any method: the
    renewal is paid and waits (PAI) for what is missing; nothing is guessed."""
    api = team.client()
    oid, _ = issued_order(env, api)  # a CSR, but no method and no approver address
    api.post("/cart", json={"renewal_of": oid})
    new = api.post("/cart/checkout")[1]["data"]["orders"][0]
    o = api.get(f"/ssl/orders/{new}")[1]["data"]
    assert o["status"] == "PAI" and o["csr"] and o["domain_validation_methods"] == []
    assert "provisioning_requested" not in events(api, new)


def test_auto_arrange_makes_default_the_default_folder_again(env, team):
    api = team.client()
    oid = create(api)[1]["data"]["id"]
    mine = api.post("/folders", json={"name": "Mine"})[1]["data"]["id"]
    assert api.put(f"/folders/{mine}", json={"is_default": True})[0] == 200
    st, body = api.post("/folders/auto-arrange")
    assert st == 200, body
    folders = api.get("/folders")[1]["data"]["results"]
    default = [f for f in folders if f["is_default"]]
    assert len(default) == 1 and default[0]["role"] == "default" and default[0]["name"] == "default"
    assert body["data"]["default_folder_id"] == default[0]["id"]
    # the paid order is in the default folder, so the Orders page shows it
    listed = api.get("/ssl/orders", params={"folder_id": default[0]["id"]})[1]["data"]["results"]
    assert oid in [o["id"] for o in listed]


# ---- white-label: two brands on one database ---------------------------------------------------

def ca_subjects(ca_dir):
    out = []
    for name in sorted(os.listdir(ca_dir)):
        path = os.path.join(ca_dir, name)
        if os.path.isfile(path) and b"BEGIN CERTIFICATE" in open(path, "rb").read():
            r = subprocess.run(["openssl", "x509", "-in", path, "-noout", "-subject"],
                               capture_output=True, text=True)
            out.append(r.stdout.strip())
    return out


@pytest.fixture
def two_brands(env):
    """One httpd on the test database: the main server is Alpha, a virtual host on a
    second port is Beta (its own name, logo, color, support address and CA)."""
    port2 = free_port()
    name = "brand-" + uuid.uuid4().hex[:6]
    h = Httpd(env.base, DB, env.db_params, name=name, dcv=env.dcv, extra=f"""
SSLOrdersBrandName "Alpha Hosting"
SSLOrdersBrandColor #112233
SSLOrdersSupportURL https://help.alpha.example/
Listen 127.0.0.1:{port2}
<VirtualHost 127.0.0.1:{port2}>
    SSLOrdersBrandName "Beta Certificates"
    SSLOrdersBrandLogo /img/beta.svg
    SSLOrdersBrandColor #AA0000
    SSLOrdersSupportURL mailto:help@beta.example
    SSLOrdersPublicURL http://127.0.0.1:{port2}
    SSLOrdersCA "{env.base}/{name}/ca-beta"
</VirtualHost>
""")
    env.servers.append(h)
    h.start()
    yield h, f"http://127.0.0.1:{port2}"
    h.stop()
    env.servers.remove(h)
    h.new_log_lines()


def test_two_brands_on_one_database(env, two_brands):
    h, beta_url = two_brands
    team = env.new_team(balance="1000")
    alpha = team.client(h)
    beta = Client(beta_url + "/v1beta", team.token)
    # the portal's brand, per host; the defaults on the test server
    assert requests.get(env.httpd.api + "/branding").json()["data"] == {
        "name": "SSL Orders", "logo": "/img/logo.svg", "color": "#0b5394", "support_url": ""}
    assert alpha.get("/branding")[1]["data"] == {
        "name": "Alpha Hosting", "logo": "/img/logo.svg", "color": "#112233",
        "support_url": "https://help.alpha.example/"}
    assert requests.get(beta_url + "/v1beta/branding").json()["data"] == {
        "name": "Beta Certificates", "logo": "/img/beta.svg", "color": "#aa0000",
        "support_url": "mailto:help@beta.example"}
    # the same orders through both hosts (one database)
    d = dom()
    oid, o = order(beta, names=[d], method="email", approver=f"admin@{d}")
    assert alpha.get(f"/ssl/orders/{oid}")[1]["data"]["common_name"] == d
    # the approval mail sent through Beta is Beta's
    mail = [m for m in h.mails() if m["To"] == f"admin@{d}"][-1]
    assert "Beta Certificates" in str(mail["From"])
    body = mail.get_payload(decode=True).decode().replace("\r\n", "\n")
    assert "-- \nBeta Certificates\nHelp: mailto:help@beta.example" in body
    assert alpha.post(f"/ssl/orders/{oid}/approver-email/resend")[0] == 200
    mail = [m for m in h.mails() if m["To"] == f"admin@{d}"][-1]
    assert "Alpha Hosting" in str(mail["From"])
    assert "Help: https://help.alpha.example/" in mail.get_payload(decode=True).decode()
    # each host's CA names its brand (a CA created with SSLOrdersBrandName)
    assert any("O = Alpha Hosting" in s for s in ca_subjects(h.ca_dir))
    assert any("O = Beta Certificates" in s for s in ca_subjects(f"{env.base}/{h.dir.split('/')[-1]}/ca-beta"))
    # the seal badge and the report, per host
    d2 = dom()
    oid2, _ = issued(env, beta, names=[d2])
    seal = beta.get(f"/ssl/orders/{oid2}/seal")[1]["data"]
    sid = seal["seal_id"]
    assert seal["report_url"].startswith(beta_url)
    for url, brand, color in ((beta_url, "Beta Certificates", "#aa0000"), (h.url, "Alpha Hosting", "#112233")):
        for _ in range(2):  # the second answer comes from the process's cache
            svg = requests.get(f"{url}/seal/{sid}.svg", params={"host": d2}).text
            assert f">{brand}</text>" in svg and f"verified by {brand}" in svg
            html = requests.get(f"{url}/seal/{sid}/report", params={"host": d2}).text
            assert f"<title>Secured site report for {d2} — {brand}</title>" in html
            assert f"border-top:4px solid {color}" in html and 'rel="icon"' in html
    # the test server without a brand keeps the badge's level words
    svg = requests.get(f"{env.httpd.url}/seal/{sid}.svg", params={"host": d2}).text
    assert "verified by" not in svg


@pytest.mark.parametrize("line", [
    "SSLOrdersBrandColor red", "SSLOrdersBrandColor #12345", "SSLOrdersBrandLogo \"javascript:x\"",
    "SSLOrdersSupportURL ftp://x", "SSLOrdersSupportURL \"https://a b\"", "SSLOrdersBrandName \"\"",
])
def test_bad_brand_settings_stop_the_configuration(env, line):
    h = Httpd(env.base, DB, env.db_params, name="badbrand-" + uuid.uuid4().hex[:6], extra=line + "\n")
    h.write_conf()
    # h._env(): the ASan build's httpd needs its runtime preloaded (make asan-test)
    r = subprocess.run(["/usr/sbin/apache2", "-t", "-f", h.conf], capture_output=True, text=True,
                       env=h._env())
    assert r.returncode != 0 and line.split()[0] in r.stderr, r.stderr
