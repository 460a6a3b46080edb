"""The Openprovider order API: create, list, get, update, approver e-mail, cancel, OTP,
events; status rules, money, idempotency, concurrency, roles and team scoping."""
import json
import threading
import time
import uuid

import pytest
import requests

import pki
from harness import DB, Client, swagger_validate
from test_catalog import CONTACT

DV, DV_WILD, DV_MULTI, OV, OV_WILD, OV_MULTI, EV, EV_MULTI = 1, 2, 3, 4, 5, 6, 7, 8


def dom():
    """A fresh registrable domain (approver addresses are those of the registrable domain)."""
    return "o" + uuid.uuid4().hex[:10] + ".com"


def balance(client):
    return client.get("/me")[1]["data"]["team"]["balance"]


def counts(env, team):
    tid = env.sql(f"SELECT id FROM teams WHERE slug = '{team.slug}'").strip()
    return (env.sql(f"SELECT COUNT(*) FROM orders WHERE team_id = {tid}").strip(),
            env.sql(f"SELECT COUNT(*) FROM ledger WHERE team_id = {tid}").strip(),
            env.sql(f"SELECT balance FROM team_balances WHERE team_id = {tid}").strip(),
            env.sql(f"SELECT COUNT(*) FROM order_events WHERE team_id = {tid}").strip())


def prices(api, product, period=1):
    p = api.get(f"/ssl/products/{product}")[1]["data"]
    pr = [x for x in p["prices"] if x["period"] == period][0]
    return (round(pr["price"]["reseller"]["price"] * 100),
            round(pr["extra_domain_price"]["reseller"]["price"] * 100),
            round(pr["extra_wildcard_domain_price"]["reseller"]["price"] * 100))


@pytest.fixture
def rich(env):
    """A team with money."""
    return env.new_team(balance="5000")


def create(api, **body):
    body.setdefault("product_id", DV)
    body.setdefault("period", 1)
    return api.post("/ssl/orders", json=body)


def set_status(env, order_id, status, **dates):
    sets = [f"status = '{status}'"] + [f"{k} = {v}" for k, v in dates.items()]
    env.sql(f"UPDATE orders SET {', '.join(sets)} WHERE id = {order_id}")


# ---- create ----------------------------------------------------------------------------------

def test_create_without_csr_is_paid_and_waits(env, rich):
    api = rich.client()
    start = balance(api)
    st, body = create(api, product_id=DV, period=2)
    assert st == 200
    swagger_validate("ssl", "orderCreateOrderResponse", body)
    oid = body["data"]["id"]
    base, _, _ = prices(api, DV, 2)
    assert float(balance(api)) == pytest.approx(float(start) - base / 100)
    st, o = api.get(f"/ssl/orders/{oid}")
    assert st == 200
    swagger_validate("ssl", "orderGetOrderResponse", o)
    o = o["data"]
    assert o["status"] == "PAI" and o["period"] == 2 and o["csr"] == "" and o["host_names"] == []
    assert o["certificate"] == "" and o["active_date"] == "" and o["order_date"]
    assert o["price"] == f"{base / 100:.2f}" and o["currency"] == "EUR"
    tid = env.sql(f"SELECT id FROM teams WHERE slug = '{rich.slug}'").strip()
    ledger = env.sql(f"SELECT amount, kind, order_id FROM ledger WHERE team_id = {tid} ORDER BY id").split()
    assert ledger[-1] == f"{-base}|charge|{oid}"


def test_create_with_csr_and_provision(env, rich):
    api = rich.client()
    d = dom()
    pem = pki.csr(d, ["www." + d], ou="Shop")
    st, body = create(api, csr=pem, software_id="linux", approver_email=f"admin@{d}",
                      start_provision=True, autorenew="on")
    assert st == 200, body
    o = api.get(f"/ssl/orders/{body['data']['id']}")[1]["data"]
    assert o["status"] == "REQ" and o["common_name"] == d
    assert o["host_names"] == [d, "www." + d]
    assert o["domain_validation_methods"] == [{"host_name": d, "method": "email"},
                                              {"host_name": "www." + d, "method": "email"}]
    assert o["email_approver"] == f"admin@{d}" and o["autorenew"] == "on"
    assert o["organization_unit"] == "Shop" and o["software"] == "linux"
    add = {a["domain"]: a for a in o["additional_data"]}
    assert add[d]["file_location"] == \
        f"http://{d}/.well-known/pki-validation/{add[d]['md5']}.txt"
    assert add[d]["file_contents"].split("\n")[0] == add[d]["sha256"]
    assert add[d]["dns_record"].lower() == f"_{add[d]['md5'].lower()}.{d}"  # DNS ignores case
    assert o["domain_validation_statuses"]["ca_status"] == "requested"


def test_multi_domain_prices_and_amounts(env, rich):
    api = rich.client()
    base, extra, wild = prices(api, DV_MULTI)
    d = dom()
    names = [f"a.{d}", f"b.{d}", f"c.{d}", f"*.{d}"]
    start = float(balance(api))
    st, body = create(api, product_id=DV_MULTI, csr=pki.csr(d, names))
    assert st == 200, body
    o = api.get(f"/ssl/orders/{body['data']['id']}")[1]["data"]
    # 4 plain names (3 included, 1 extra) and one wildcard
    assert (o["domain_amount"], o["wildcard_domain_amount"]) == (4, 1)
    expected = base + extra + wild
    assert o["price"] == f"{expected / 100:.2f}"
    assert float(balance(api)) == pytest.approx(start - expected / 100)
    # paying for more up front; names within it later
    st, body = create(api, product_id=DV_MULTI, domain_amount=10, wildcard_domain_amount=2)
    o = api.get(f"/ssl/orders/{body['data']['id']}")[1]["data"]
    assert o["price"] == f"{(base + 7 * extra + 2 * wild) / 100:.2f}"
    st, body = create(api, product_id=DV_MULTI, domain_amount=2, csr=pki.csr(d, names))
    assert (st, body["code"]) == (400, 1004)
    st, body = create(api, product_id=DV_MULTI, domain_amount=101)
    assert st == 400
    # host_names replace the CSR's SANs but never the common name
    st, body = create(api, product_id=DV_MULTI, csr=pki.csr(d, names), host_names=[f"x.{d}"])
    o = api.get(f"/ssl/orders/{body['data']['id']}")[1]["data"]
    assert o["host_names"] == [d, f"x.{d}"]


@pytest.mark.parametrize("product,cn,sans,host_names,code", [
    (DV, "{d}", ["mail.{d}"], None, 1004),          # a single-name product with another SAN
    (DV, "{d}", [], ["other.{d}"], 1004),          # host_names on a single-name product
    (DV, "*.{d}", [], None, 1003),                 # wildcard on a non-wildcard product
    (DV_WILD, "{d}", [], None, 1004),              # a wildcard product needs a wildcard CN
    (EV_MULTI, "{d}", ["*.{d}"], None, 1004),      # no wildcards in EV
    (DV, "localhost", [], None, 1003),             # one label
    (DV, "co.uk", [], None, 1003),                 # a public suffix
    (DV, "192.168.1.1", [], None, 1003),           # an IP address
])
def test_names_that_do_not_fit(env, rich, product, cn, sans, host_names, code):
    api = rich.client()
    before = counts(env, rich)
    d = dom()
    pem = pki.csr(cn.format(d=d), [s.format(d=d) for s in sans])
    body = {"product_id": product, "period": 1, "csr": pem}
    if host_names:
        body["host_names"] = [h.format(d=d) for h in host_names]
    st, ans = api.post("/ssl/orders", json=body)
    assert (st, ans["code"]) == (400, code), ans
    assert counts(env, rich) == before


def test_single_name_twin_and_common_name_host_names(env, rich):
    api = rich.client()
    d = dom()
    st, body = create(api, csr=pki.csr(d, ["www." + d]))
    assert st == 200, body
    assert api.get(f"/ssl/orders/{body['data']['id']}")[1]["data"]["host_names"] == [d, "www." + d]
    # host_names replaces the CSR's names (but not the common name)
    st, body = create(api, csr=pki.csr(d, ["www." + d]), host_names=[d])
    assert st == 200, body
    assert api.get(f"/ssl/orders/{body['data']['id']}")[1]["data"]["host_names"] == [d]
    st, body = create(api, product_id=DV_WILD, csr=pki.csr("*." + d, [d]))
    assert st == 200, body
    assert api.get(f"/ssl/orders/{body['data']['id']}")[1]["data"]["host_names"] == ["*." + d, d]


@pytest.mark.parametrize("kind,code", [("rsa1024", 1002), ("ec521", 1002)])
def test_weak_keys(env, rich, kind, code):
    st, body = create(rich.client(), csr=pki.csr(dom(), kind=kind))
    assert (st, body["code"]) == (400, code)


@pytest.mark.parametrize("body,code", [
    ({"csr": "garbage"}, 1001),
    ({"csr": "BADSIG"}, 1001),
    ({"product_id": 9999}, 1007),
    ({"period": 7}, 1008),
    ({"period": 0}, 102),
    ({"period": "two"}, 102),
    ({"product_id": None}, 102),
    ({"autorenew": "yes"}, 102),
    ({"software_id": "vax"}, 102),
    ({"host_names": "a.example.com"}, 102),
    ({"host_names": [1]}, 102),
    ({"domain_validation_methods": ["dns"]}, 102),
    ({"domain_validation_methods": [{"host_name": "{d}", "method": "ftp"}]}, 1011),
    ({"domain_validation_methods": [{"host_name": "other.example.org", "method": "dns"}]}, 1011),
    ({"approver_email": "root@{d}"}, 1009),
    ({"approver_email": "admin@example.org"}, 1009),
    ({"organization_handle": "ZZ999999-NL"}, 1010),
    ({"start_provision": True}, 1012),
    ({"start_provision": "soon"}, 102),
])
def test_create_bad_input_changes_nothing(env, rich, body, code):
    api = rich.client()
    before = counts(env, rich)
    d = dom()
    full = {"product_id": DV, "period": 1, "csr": pki.csr(d)}
    for k, v in body.items():
        if v is None:
            full.pop(k, None)
        elif isinstance(v, str):
            full[k] = v.replace("{d}", d)
        elif isinstance(v, list):
            full[k] = [{kk: vv.replace("{d}", d) for kk, vv in x.items()} if isinstance(x, dict) else x
                       for x in v]
        else:
            full[k] = v
    if body.get("csr") == "BADSIG":
        full["csr"] = pki.bad_signature(pki.csr(d))
    if body.get("start_provision") is True:
        del full["csr"]
    st, ans = api.post("/ssl/orders", json=full)
    assert (st, ans["code"]) == (so_status(code), code), ans
    assert counts(env, rich) == before


def so_status(code):
    return {102: 400, 1012: 409}.get(code, 400)


def test_wildcard_cannot_use_http(env, rich):
    d = dom()
    st, body = create(rich.client(), product_id=DV_WILD, csr=pki.csr("*." + d, [d]),
                      domain_validation_methods=[{"host_name": "*." + d, "method": "http"}])
    assert (st, body["code"]) == (400, 1011)


def test_handles_must_be_the_teams(env, rich):
    api = rich.client()
    other = env.new_team(balance="100").client()
    foreign = other.post("/customers", json=CONTACT)[1]["data"]["handle"]
    own = api.post("/customers", json=CONTACT)[1]["data"]["handle"]
    st, body = create(api, product_id=OV, organization_handle=foreign)
    assert (st, body["code"]) == (400, 1010)
    st, body = create(api, product_id=OV, organization_handle=own, technical_handle=own)
    assert st == 200
    oid = body["data"]["id"]
    o = api.get(f"/ssl/orders/{oid}")[1]["data"]
    assert o["organization_handle"] == own and o["technical_handle"] == own
    # a handle in use cannot be deleted
    st, body = api.delete(f"/customers/{own}")
    assert (st, body["code"]) == (409, 1015)
    # the list filters by it
    st, body = api.get("/ssl/orders", params={"contact_handle": own})
    assert [x["id"] for x in body["data"]["results"]] == [oid]
    # OV/EV need the organization before provisioning
    d = dom()
    st, body = create(api, product_id=OV, csr=pki.csr(d), approver_email=f"admin@{d}",
                      start_provision=True)
    assert (st, body["code"]) == (409, 1012) and "organization_handle" in body["desc"]


def test_insufficient_balance_creates_nothing(env):
    poor = env.new_team(balance="1.00")
    api = poor.client()
    before = counts(env, poor)
    st, body = create(api, product_id=EV)
    assert (st, body["code"]) == (402, 1013)
    assert "1.00" in body["desc"]
    assert counts(env, poor) == before


def test_each_charge_writes_the_balance_it_left_in_the_ledger(env):
    """The charge and its ledger row (one statement on PostgreSQL): balance_after is the
    balance each charge left, the audit row commits with it, and a team whose balance row
    was removed by hand gets it back on its next credit."""
    t = env.new_team(balance="100.00")
    api = t.client()
    tid = env.sql(f"SELECT id FROM teams WHERE slug = '{t.slug}'").strip()
    base, _, _ = prices(api, DV)
    ids = []
    for _ in range(3):
        st, body = create(api)
        assert st == 200, body
        ids.append(body["data"]["id"])
    rows = env.sql(f"SELECT order_id, amount, balance_after FROM ledger WHERE team_id = {tid} "
                   f"AND kind = 'charge' ORDER BY id").split()
    assert rows == [f"{oid}|{-base}|{10000 - base * (i + 1)}" for i, oid in enumerate(ids)], rows
    assert int(env.sql(f"SELECT balance FROM team_balances WHERE team_id = {tid}").strip()) \
        == 10000 - 3 * base
    assert env.sql(f"SELECT COUNT(*) FROM audit_log WHERE team_id = {tid} AND method = 'POST' "
                   f"AND route = '/ssl/orders' AND status = 200").strip() == "3"
    # no balance row: a credit creates it, a charge is refused until then
    env.sql(f"DELETE FROM team_balances WHERE team_id = {tid}")
    st, body = create(api)
    assert (st, body["code"]) == (402, 1013)
    env.ctl("balance", "credit", t.slug, "50")
    assert env.sql(f"SELECT balance FROM team_balances WHERE team_id = {tid}").strip() == "5000"
    st, body = create(api)
    assert st == 200, body
    last = env.sql(f"SELECT balance_after FROM ledger WHERE team_id = {tid} ORDER BY id DESC "
                   f"LIMIT 1").strip()
    assert int(last) == 5000 - base


# ---- idempotency -------------------------------------------------------------------------------

def test_idempotency_key_replays_without_charging(env, rich):
    api = rich.client()
    key = "k-" + uuid.uuid4().hex
    start = balance(api)
    body = {"product_id": DV, "period": 1}
    r1 = api.call("POST", "/ssl/orders", json=body, headers={"Idempotency-Key": key}, raw=True)
    r2 = api.call("POST", "/ssl/orders", json=body, headers={"Idempotency-Key": key}, raw=True)
    assert r1.status_code == r2.status_code == 200
    assert r1.json()["data"]["id"] == r2.json()["data"]["id"]
    assert r2.headers.get("Idempotent-Replayed") == "true"
    base, _, _ = prices(api, DV)
    assert float(balance(api)) == pytest.approx(float(start) - base / 100)
    st, ans = api.post("/ssl/orders", json={"product_id": DV, "period": 2},
                       headers={"Idempotency-Key": key})
    assert (st, ans["code"]) == (422, 1014)
    # another team may use the same key
    other = env.new_team(balance="100").client()
    assert other.post("/ssl/orders", json=body, headers={"Idempotency-Key": key})[0] == 200


def test_idempotency_key_concurrent_retries(env, rich):
    api = rich.client()
    key = "c-" + uuid.uuid4().hex
    start = balance(api)
    results = []

    def go():
        c = Client(api.base, api.token)
        results.append(c.post("/ssl/orders", json={"product_id": DV, "period": 1},
                              headers={"Idempotency-Key": key}))
    threads = [threading.Thread(target=go) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ids = {b["data"]["id"] for st, b in results if st == 200}
    assert len(ids) == 1 and all(st in (200, 503) for st, _ in results)
    base, _, _ = prices(api, DV)
    assert float(balance(api)) == pytest.approx(float(start) - base / 100)


def test_concurrent_creates_charge_every_order(env):
    t = env.new_team(balance="1000")
    api = t.client()
    base, _, _ = prices(api, DV)
    results = []

    def go():
        c = Client(api.base, api.token)
        for _ in range(5):
            results.append(c.post("/ssl/orders", json={"product_id": DV, "period": 1})[0])
    threads = [threading.Thread(target=go) for _ in range(6)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    ok = results.count(200)
    assert ok == 30
    tid = env.sql(f"SELECT id FROM teams WHERE slug = '{t.slug}'").strip()
    charges = env.sql(f"SELECT COUNT(*), SUM(amount) FROM ledger WHERE team_id = {tid} AND kind = 'charge'").strip()
    assert charges == f"{ok}|{-ok * base}"
    assert float(balance(api)) == pytest.approx(1000 - ok * base / 100)


def test_concurrent_creates_at_the_edge_of_the_balance(env):
    """On PostgreSQL the charge and the COMMIT go in one round trip, and a charge that would
    leave less than the price (team.balance_low due) or too little is refused there and done
    again the usual way. At the edge, with 8 concurrent orders and money for 2.5: exactly 2
    are charged, the second writes team.balance_low once, the rest get 1013 and leave
    nothing behind; the balance equals its ledger."""
    t = env.new_team(balance="100")
    api = t.client()
    base, _, _ = prices(api, DV)
    tid = env.sql(f"SELECT id FROM teams WHERE slug = '{t.slug}'").strip()
    env.sql(f"UPDATE team_balances SET balance = {base * 5 // 2} WHERE team_id = {tid}")
    st, body = api.post("/webhooks", json={"url": "https://hooks.example.net/low",
                                           "events": ["team.balance_low"]})
    assert st == 200, body
    wid = body["data"]["id"]
    results = []

    def go():
        results.append(Client(api.base, api.token).post("/ssl/orders",
                                                        json={"product_id": DV, "period": 1}))
    threads = [threading.Thread(target=go) for _ in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert sorted(st for st, _ in results) == [200, 200] + [402] * 6, results
    assert {b["code"] for st, b in results if st == 402} == {1013}
    ok = sorted(b["data"]["id"] for st, b in results if st == 200)
    assert env.sql(f"SELECT order_id, amount FROM ledger WHERE team_id = {tid} "
                   f"AND kind = 'charge' ORDER BY order_id").split() == [f"{o}|{-base}" for o in ok]
    assert env.sql(f"SELECT id FROM orders WHERE team_id = {tid} ORDER BY id").split() \
        == [str(o) for o in ok]
    assert int(env.sql(f"SELECT balance FROM team_balances WHERE team_id = {tid}").strip()) \
        == base * 5 // 2 - 2 * base
    low = env.sql(f"SELECT payload FROM outbox WHERE team_id = {tid} "
                  f"AND type = 'team.balance_low'").splitlines()
    assert len(low) == 1, low
    data = json.loads(low[0])["data"]
    assert data["order_id"] in ok
    assert float(data["balance"]) * 100 == pytest.approx(base * 5 // 2 - 2 * base)
    assert env.sql(f"SELECT COUNT(*) FROM audit_log WHERE team_id = {tid} AND method = 'POST' "
                   f"AND route = '/ssl/orders' AND status = 200").strip() == "2"
    # the endpoint cannot be reached: gone, with its event, before a later test's job pass
    # (far ahead on the clock) gives up on it and disables it with a warning
    assert api.delete(f"/webhooks/{wid}")[0] in (200, 204)
    env.sql(f"DELETE FROM outbox WHERE team_id = {tid}")


# ---- list --------------------------------------------------------------------------------------

@pytest.fixture
def listed(env):
    """A team with a known set of orders."""
    t = env.new_team(balance="5000")
    api = t.client()
    d = "list" + uuid.uuid4().hex[:6] + ".example.net"
    made = {}
    made["pai"] = create(api, product_id=DV, period=1)[1]["data"]["id"]
    made["shop"] = create(api, product_id=DV, csr=pki.csr(f"shop.{d}", ou="Retail"))[1]["data"]["id"]
    made["multi"] = create(api, product_id=DV_MULTI,
                           csr=pki.csr(f"api.{d}", [f"mail.{d}", f"cdn.{d}"]))[1]["data"]["id"]
    made["ov"] = create(api, product_id=OV, csr=pki.csr(f"www.{d}", ou="Corporate IT"))[1]["data"]["id"]
    now = int(time.time())
    set_status(env, made["shop"], "ACT", active_date=now - 100 * 86400,
               expiration_date=now + 10 * 86400)
    set_status(env, made["multi"], "ACT", active_date=now - 10 * 86400,
               expiration_date=now + 150 * 86400)
    set_status(env, made["ov"], "EXP", active_date=now - 300 * 86400,
               expiration_date=now - 100 * 86400)
    return t, api, d, made


def ids(body):
    return [o["id"] for o in body["data"]["results"]]


def test_list_filters(env, listed):
    t, api, d, m = listed
    st, body = api.get("/ssl/orders")
    assert st == 200
    swagger_validate("ssl", "orderListOrdersResponse", body)
    assert body["data"]["total"] == 4
    # newest first by default
    assert ids(body) == [m["ov"], m["multi"], m["shop"], m["pai"]]
    assert set(ids(api.get("/ssl/orders", params=[("status", "ACT"), ("status", "EXP")])[1])) == \
        {m["shop"], m["multi"], m["ov"]}
    assert ids(api.get("/ssl/orders", params={"status": "PAI"})[1]) == [m["pai"]]
    assert ids(api.get("/ssl/orders", params={"common_name_pattern": f"shop.{d}"})[1]) == [m["shop"]]
    assert set(ids(api.get("/ssl/orders", params={"common_name_pattern": f"*.{d}"})[1])) == \
        {m["shop"], m["multi"], m["ov"]}
    assert ids(api.get("/ssl/orders", params={"common_name_pattern": "shop.*"})[1]) == [m["shop"]]
    assert ids(api.get("/ssl/orders", params={"show_expiring": "true"})[1]) == [m["shop"]]
    # free text: a host name that is only a SAN, an order id, an organization unit
    assert ids(api.get("/ssl/orders", params={"search": f"cdn.{d}"})[1]) == [m["multi"]]
    # (an id also matches as text, e.g. inside a host name)
    assert m["pai"] in ids(api.get("/ssl/orders", params={"search": str(m["pai"])})[1])
    assert ids(api.get("/ssl/orders", params={"search": "corporate"})[1]) == [m["ov"]]
    assert ids(api.get("/ssl/orders", params={"organization_unit": "retail"})[1]) == [m["shop"]]
    assert set(ids(api.get("/ssl/orders", params={"product_id": DV})[1])) == {m["pai"], m["shop"]}
    today = time.strftime("%Y-%m-%d", time.gmtime())
    assert api.get("/ssl/orders", params={"order_date_from": today})[1]["data"]["total"] == 4
    assert api.get("/ssl/orders", params={"order_date_to": "2000-01-01"})[1]["data"]["total"] == 0
    soon = time.strftime("%Y-%m-%d", time.gmtime(time.time() + 30 * 86400))
    assert ids(api.get("/ssl/orders", params={"expiration_date_from": today,
                                              "expiration_date_to": soon})[1]) == [m["shop"]]
    for bad in ({"status": "XYZ"}, {"order_by.price": "asc"}, {"order_by.status": "sideways"},
                {"limit": 0}, {"limit": 1001}, {"order_date_from": "yesterday"},
                {"show_expiring": "x"}, {"format": "xml"}):
        st, body = api.get("/ssl/orders", params=bad)
        assert (st, body["code"]) == (400, 102), bad


def test_list_name_prefixes_and_pages_over_60_orders(env):
    """common_name_pattern's literal prefix bounds a range of names compared as bytes
    (SQLite's BINARY, PostgreSQL's COLLATE "C" index): punctuation at the edge of the
    prefix neither leaks nor drops a name. A page of more than 60 orders gets every
    order's names (SQLite: ids in batches of 60; PostgreSQL: one array of ids)."""
    t = env.new_team(balance="100000")
    api = t.client()
    d = "pfx" + uuid.uuid4().hex[:6] + ".example.net"
    names = ["a", "a-b", "a0", "ab", "b", "a-0", "aa"]
    made = {}
    for n in names:
        st, body = create(api, product_id=DV, csr=pki.csr(f"{n}.{d}"))
        assert st == 200, body
        made[n] = body["data"]["id"]

    def match(pattern):
        st, body = api.get("/ssl/orders", params={"common_name_pattern": pattern, "limit": 100})
        assert st == 200, body
        assert body["data"]["total"] == len(body["data"]["results"])
        return {o["common_name"].split(".")[0] for o in body["data"]["results"]}

    assert match("a*") == {"a", "a-b", "a0", "ab", "a-0", "aa"}
    assert match("a-*") == {"a-b", "a-0"}
    assert match("a.*") == {"a"}
    assert match("a0*") == {"a0"}
    assert match("a*." + d) == {"a", "a-b", "a0", "ab", "a-0", "aa"}
    assert match("a-*." + d) == {"a-b", "a-0"}
    assert match("ab*") == {"ab"}
    assert match("b*") == {"b"}
    assert match("c*") == set()
    assert match("*b." + d) == {"a-b", "ab", "b"}
    # more than 60 orders on one page, each with its two names (the name and www.)
    for i in range(62 - len(names)):
        st, body = create(api, product_id=DV, csr=pki.csr(f"n{i}.{d}", [f"www.n{i}.{d}"]))
        assert st == 200, body
    st, body = api.get("/ssl/orders", params={"limit": 100})
    assert st == 200 and body["data"]["total"] == 62
    results = body["data"]["results"]
    assert len(results) == 62
    assert sum(len(o["host_names"]) for o in results) >= 2 * (62 - len(names)) + len(names)
    for o in results:
        st, one = api.get(f"/ssl/orders/{o['id']}")
        assert st == 200
        assert o["host_names"] == one["data"]["host_names"], o["id"]
        assert o["common_name"] in o["host_names"]


def test_list_sorting_and_paging(env, listed):
    t, api, d, m = listed
    body = api.get("/ssl/orders", params={"order_by.expiration_date": "asc",
                                          "status": ["ACT", "EXP"]})[1]
    assert ids(body) == [m["ov"], m["shop"], m["multi"]]
    body = api.get("/ssl/orders", params={"order_by.common_name": "desc", "status": "ACT"})[1]
    assert ids(body) == [m["shop"], m["multi"]]
    body = api.get("/ssl/orders", params={"order_by.status": "asc", "order_by.order_date": "asc"})[1]
    assert [o["status"] for o in body["data"]["results"]] == sorted(
        o["status"] for o in body["data"]["results"])
    body = api.get("/ssl/orders", params={"order_by.product_name": "asc"})[1]
    names = [o["product_name"] for o in body["data"]["results"]]
    assert names == sorted(names)
    page = api.get("/ssl/orders", params={"limit": 2, "offset": 1})[1]
    assert page["data"]["total"] == 4 and ids(page) == [m["multi"], m["shop"]]


def test_list_csv_export(env, listed):
    t, api, d, m = listed
    r = api.call("GET", "/ssl/orders", params={"status": "ACT"}, headers={"Accept": "text/csv"},
                 raw=True)
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/csv")
    assert "attachment" in r.headers["Content-Disposition"]
    lines = r.text.strip().split("\r\n")
    assert lines[0].startswith("id,common_name,host_names")
    assert len(lines) == 3 and f"mail.{d}" in r.text
    r2 = api.call("GET", "/ssl/orders", params={"status": "ACT", "format": "csv"}, raw=True)
    assert r2.text == r.text
    # spreadsheet formulas are defused
    api.post("/ssl/orders", json={"product_id": DV, "period": 1,
                                  "csr": pki.csr("formula." + d, ou="=HYPERLINK(\"x\")")})
    r = api.call("GET", "/ssl/orders", params={"format": "csv", "search": "formula"}, raw=True)
    assert "'=HYPERLINK" in r.text


# ---- update (status rules of seed 004) -----------------------------------------------------------

def test_update_while_pai(env, rich):
    api = rich.client()
    own = api.post("/customers", json=CONTACT)[1]["data"]["handle"]
    oid = create(api, product_id=DV_MULTI, domain_amount=4)[1]["data"]["id"]
    d = dom()
    st, body = api.put(f"/ssl/orders/{oid}", json={
        "id": oid, "csr": pki.csr(d, [f"a.{d}"]), "host_names": [f"a.{d}", f"b.{d}", f"c.{d}"],
        "organization_handle": own, "technical_handle": own, "software_id": "windows",
        "approver_email": f"webmaster@{d}", "autorenew": "on",
        "domain_validation_methods": [{"host_name": f"b.{d}", "method": "dns"}]})
    assert st == 200, body
    swagger_validate("ssl", "orderUpdateOrderResponse", body)
    o = api.get(f"/ssl/orders/{oid}")[1]["data"]
    assert o["host_names"] == [d, f"a.{d}", f"b.{d}", f"c.{d}"]
    assert o["software"] == "windows" and o["autorenew"] == "on" and o["status"] == "PAI"
    assert {x["host_name"]: x["method"] for x in o["domain_validation_methods"]} == {f"b.{d}": "dns"}
    # more names than paid for
    st, body = api.put(f"/ssl/orders/{oid}", json={"host_names": [f"{i}.{d}" for i in range(6)]})
    assert (st, body["code"]) == (400, 1004)
    # product fields never change
    for field, value in (("product_id", EV), ("period", 3), ("domain_amount", 50)):
        st, body = api.put(f"/ssl/orders/{oid}", json={field: value})
        assert (st, body["code"]) == (409, 1005) and field in body["desc"]
    # start_provision names what is missing, then works; POST is an alias of PUT
    st, body = api.post(f"/ssl/orders/{oid}", json={"start_provision": True, "approver_email": ""})
    assert (st, body["code"]) == (409, 1012)
    assert f"a.{d}" in body["desc"]
    st, body = api.post(f"/ssl/orders/{oid}", json={"start_provision": True})
    assert st == 200, body
    o = api.get(f"/ssl/orders/{oid}")[1]["data"]
    assert o["status"] == "REQ"
    assert {x["host_name"]: x["method"] for x in o["domain_validation_methods"]}[f"b.{d}"] == "dns"
    assert {x["host_name"]: x["method"] for x in o["domain_validation_methods"]}[d] == "email"


def test_update_rules_by_status(env, rich):
    api = rich.client()
    d = dom()
    oid = create(api, csr=pki.csr(d), approver_email=f"admin@{d}", start_provision=True)[1]["data"]["id"]
    # REQ: validation methods and autorenew only; one forbidden field refuses everything
    st, body = api.put(f"/ssl/orders/{oid}", json={
        "domain_validation_methods": [{"host_name": d, "method": "dns"}], "autorenew": "on"})
    assert st == 200
    st, body = api.put(f"/ssl/orders/{oid}", json={"autorenew": "off", "software_id": "windows"})
    assert (st, body["code"]) == (409, 1005)
    assert "software_id" in body["desc"] and "REQ" in body["desc"]
    o = api.get(f"/ssl/orders/{oid}")[1]["data"]
    assert o["autorenew"] == "on" and o["software"] == ""
    for field, value in (("csr", pki.csr(d)), ("approver_email", f"admin@{d}"),
                         ("start_provision", True), ("organization_handle", "")):
        st, body = api.put(f"/ssl/orders/{oid}", json={field: value})
        assert (st, body["code"]) == (409, 1005), field
    # ACT: autorenew only
    set_status(env, oid, "ACT", active_date=int(time.time()), expiration_date=int(time.time()) + 86400 * 100)
    assert api.put(f"/ssl/orders/{oid}", json={"autorenew": "off"})[0] == 200
    st, body = api.put(f"/ssl/orders/{oid}", json={"domain_validation_methods": [{"host_name": d, "method": "http"}]})
    assert (st, body["code"]) == (409, 1005)
    # REJ, FAI, EXP: nothing
    for status in ("REJ", "FAI", "EXP"):
        set_status(env, oid, status)
        st, body = api.put(f"/ssl/orders/{oid}", json={"autorenew": "on"})
        assert (st, body["code"]) == (409, 1005), status
    st, body = api.put(f"/ssl/orders/{oid}", json={"id": oid + 1})
    assert st == 400


def test_concurrent_updates_lose_no_write(env, rich):
    api = rich.client()
    d = dom()
    names = [f"n{i}.{d}" for i in range(8)]
    oid = create(api, product_id=DV_MULTI, csr=pki.csr(d, names))[1]["data"]["id"]
    errors = []

    def go(name):
        c = Client(api.base, api.token)
        st, body = c.put(f"/ssl/orders/{oid}",
                         json={"domain_validation_methods": [{"host_name": name, "method": "dns"}]})
        if st != 200:
            errors.append(body)
    threads = [threading.Thread(target=go, args=(n,)) for n in names]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    o = api.get(f"/ssl/orders/{oid}")[1]["data"]
    methods = {x["host_name"]: x["method"] for x in o["domain_validation_methods"]}
    assert all(methods.get(n) == "dns" for n in names), methods
    assert o["version"] == 1 + len(names)


# ---- approver e-mail, cancel, OTP, events -----------------------------------------------------------

def test_approver_email_change_and_resend(env, rich):
    api = rich.client()
    d = dom()
    oid = create(api, csr=pki.csr(d), approver_email=f"admin@{d}")[1]["data"]["id"]
    st, body = api.put(f"/ssl/orders/{oid}/approver-email", json={"approver_email": f"hostmaster@{d}"})
    assert (st, body["code"]) == (409, 1006)  # PAI
    api.put(f"/ssl/orders/{oid}", json={"start_provision": True})
    st, body = api.put(f"/ssl/orders/{oid}/approver-email", json={"id": oid, "approver_email": f"hostmaster@{d}"})
    assert st == 200
    swagger_validate("ssl", "approveremailUpdateApproverEmailAddressResponse", body)
    assert api.get(f"/ssl/orders/{oid}")[1]["data"]["email_approver"] == f"hostmaster@{d}"
    st, body = api.put(f"/ssl/orders/{oid}/approver-email", json={"approver_email": "admin@evil.example"})
    assert (st, body["code"]) == (400, 1009)
    st, body = api.post(f"/ssl/orders/{oid}/approver-email/resend", json={"id": oid})
    assert st == 200
    swagger_validate("ssl", "approveremailResendApproverEmailResponse", body)
    kinds = [e["kind"] for e in api.get(f"/ssl/orders/{oid}/events")[1]["data"]["results"]]
    assert [k for k in kinds if k != "approval_mail_sent"] == \
        ["created", "updated", "provisioning_requested", "approver_email_changed",
         "approver_email_resend_requested"]
    # the approval mail went out on provisioning, to the new approver, and on the resend
    assert kinds.count("approval_mail_sent") == 3, kinds
    to = [m["To"] for m in env.httpd.mails() if d in str(m["Subject"])]
    assert to == [f"admin@{d}", f"hostmaster@{d}", f"hostmaster@{d}"]
    # only email-validated orders get mail
    api.put(f"/ssl/orders/{oid}", json={"domain_validation_methods": [{"host_name": d, "method": "dns"}]})
    st, body = api.post(f"/ssl/orders/{oid}/approver-email/resend")
    assert (st, body["code"]) == (409, 1006)


def test_cancel_and_refund(env, rich):
    api = rich.client()
    start = float(balance(api))
    a = create(api)[1]["data"]["id"]
    d = dom()
    b = create(api, csr=pki.csr(d), approver_email=f"admin@{d}", start_provision=True)[1]["data"]["id"]
    st, body = api.post(f"/ssl/orders/{a}/cancel", json={"id": a})
    assert st == 200
    swagger_validate("ssl", "orderCancelOrderResponse", body)
    assert api.post(f"/ssl/orders/{b}/cancel")[0] == 200
    assert float(balance(api)) == pytest.approx(start)
    for oid in (a, b):
        o = api.get(f"/ssl/orders/{oid}")[1]["data"]
        assert o["status"] == "FAI" and o["cancelled_at"]
        st, body = api.post(f"/ssl/orders/{oid}/cancel")
        assert (st, body["code"]) == (409, 1006)
        st, body = api.put(f"/ssl/orders/{oid}", json={"autorenew": "on"})
        assert (st, body["code"]) == (409, 1005)
    tid = env.sql(f"SELECT id FROM teams WHERE slug = '{rich.slug}'").strip()
    assert env.sql(f"SELECT COUNT(*) FROM ledger WHERE team_id = {tid} AND kind = 'refund'").strip() == "2"
    # an active order: revoked (REJ, then FAI once revoked; this one has no certificate);
    # refund only within 30 days of activation
    now = int(time.time())
    c = create(api)[1]["data"]["id"]
    set_status(env, c, "ACT", active_date=now - 40 * 86400, expiration_date=now + 100 * 86400)
    before = float(balance(api))
    assert api.post(f"/ssl/orders/{c}/cancel")[0] == 200
    assert api.get(f"/ssl/orders/{c}")[1]["data"]["status"] == "FAI"
    assert float(balance(api)) == pytest.approx(before)
    e = create(api)[1]["data"]["id"]
    set_status(env, e, "ACT", active_date=now - 5 * 86400, expiration_date=now + 100 * 86400)
    before = float(balance(api))
    api.post(f"/ssl/orders/{e}/cancel")
    base, _, _ = prices(api, DV)
    assert float(balance(api)) == pytest.approx(before + base / 100)


def test_otp_token(env, rich):
    api = rich.client()
    d = dom()
    oid = create(api, csr=pki.csr(d), approver_email=f"admin@{d}", start_provision=True)[1]["data"]["id"]
    other = create(api)[1]["data"]["id"]
    st, body = api.post(f"/ssl/orders/{oid}/otp-tokens")
    assert st == 200
    swagger_validate("ssl", "otptokenCreateOtpTokenResponse", body)
    token = body["data"]["token"]
    assert len(token) >= 32 and token in body["data"]["uri"] and body["data"]["expire_at"]
    otp = Client(env.httpd.api, token)
    assert otp.get(f"/ssl/orders/{oid}")[1]["data"]["id"] == oid
    assert otp.get(f"/ssl/orders/{other}")[0] == 404
    for method, path in (("GET", "/ssl/orders"), ("GET", "/me"), ("POST", f"/ssl/orders/{oid}/cancel"),
                         ("GET", f"/ssl/orders/{oid}/events")):
        st, ans = otp.call(method, path)
        assert (st, ans["code"]) == (403, 1019), path
    st, ans = otp.put(f"/ssl/orders/{oid}", json={"domain_validation_methods": [{"host_name": d, "method": "dns"}]})
    assert st == 200
    st, ans = otp.put(f"/ssl/orders/{oid}", json={"autorenew": "on"})
    assert (st, ans["code"]) == (409, 1005)
    later = str(int(time.time()) + 73 * 3600)
    st, ans = otp.get(f"/ssl/orders/{oid}", headers={"X-SSLOrders-Clock": later})
    assert (st, ans["code"]) == (401, 196)
    ev = api.get(f"/ssl/orders/{oid}/events")[1]["data"]["results"]
    assert [e["actor"] for e in ev if e["kind"] == "updated"][-1] == "order token"


def test_events_record_who_and_what(env, rich):
    api = rich.client()
    oid = create(api)[1]["data"]["id"]
    api.put(f"/ssl/orders/{oid}", json={"autorenew": "on"})
    st, body = api.get(f"/ssl/orders/{oid}/events")
    assert st == 200 and body["data"]["total"] == 2
    created, updated = body["data"]["results"]
    assert created["kind"] == "created" and created["actor"] == rich.username
    assert created["detail"]["product_id"] == DV and created["detail"]["status"] == "PAI"
    assert updated["detail"]["fields"] == ["autorenew"] and updated["created_at"]


# ---- roles and teams --------------------------------------------------------------------------

def test_roles(env, rich):
    owner = rich.client()
    oid = create(owner)[1]["data"]["id"]
    viewer = rich.add_member("viewer").client()
    assert viewer.get("/ssl/orders")[0] == 200
    assert viewer.get(f"/ssl/orders/{oid}")[0] == 200
    for method, path, body in (("POST", "/ssl/orders", {"product_id": DV, "period": 1}),
                               ("PUT", f"/ssl/orders/{oid}", {"autorenew": "on"}),
                               ("POST", f"/ssl/orders/{oid}/cancel", None),
                               ("POST", f"/ssl/orders/{oid}/otp-tokens", None)):
        st, ans = viewer.call(method, path, json=body)
        assert (st, ans["code"]) == (403, 108), path
    member = rich.add_member("member").client()
    assert member.put(f"/ssl/orders/{oid}", json={"autorenew": "on"})[0] == 200


def test_other_teams_orders_are_404(env, rich):
    api = rich.client()
    oid = create(api, autorenew="off")[1]["data"]["id"]
    other = env.new_team(balance="100").client()
    for method, path, body in (("GET", f"/ssl/orders/{oid}", None),
                               ("PUT", f"/ssl/orders/{oid}", {"autorenew": "on"}),
                               ("POST", f"/ssl/orders/{oid}", {"autorenew": "on"}),
                               ("POST", f"/ssl/orders/{oid}/cancel", None),
                               ("PUT", f"/ssl/orders/{oid}/approver-email", {"approver_email": "a@b.example"}),
                               ("POST", f"/ssl/orders/{oid}/approver-email/resend", None),
                               ("POST", f"/ssl/orders/{oid}/otp-tokens", None),
                               ("GET", f"/ssl/orders/{oid}/events", None)):
        st, ans = other.call(method, path, json=body)
        assert (st, ans["code"]) == (404, 103), (method, path)
    assert oid not in ids(other.get("/ssl/orders")[1])
    o = api.get(f"/ssl/orders/{oid}")[1]["data"]
    assert o["status"] == "PAI" and o["autorenew"] == "off"


def test_malformed_update_changes_nothing(env, rich):
    api = rich.client()
    oid = create(api)[1]["data"]["id"]
    before = counts(env, rich)
    url = f"{env.httpd.api}/ssl/orders/{oid}"
    h = {"Authorization": f"Bearer {rich.token}", "Content-Type": "application/json"}
    assert requests.put(url, data="{oops", headers=h).status_code == 400
    assert requests.put(url, data='{"autorenew": true}', headers=h).status_code == 400
    assert requests.put(url, data='{"host_names": {"a": 1}}', headers=h).status_code == 400
    assert requests.put(url, data='{"domain_validation_methods": [{"host_name": 1}]}',
                        headers=h).status_code == 400
    assert counts(env, rich) == before
    assert api.get(f"/ssl/orders/{oid}")[1]["data"]["version"] == 1
