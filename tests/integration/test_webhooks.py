"""Webhooks and the transactional outbox: a real receiver (an HTTP server in the test) whose
deliveries are verified with the npm package standardwebhooks; every event type, retries on
the server's clock with one webhook-id, secret rotation, disabled endpoints, SSRF refusals,
another team's endpoints, and SIGKILL of httpd during order creation and issuance."""
import http.server
import json
import os
import signal
import socket
import subprocess
import threading
import time
import uuid

import pytest

import pki
import samples
from harness import DB, ROOT, Httpd, env_sql, free_port
from issuing import DAY, LONG, dom, order, publish_files, validate


class Receiver:
    """Records every POST; answers the statuses planned for its path (then 200)."""

    def __init__(self):
        self.hits = []
        self.plan = {}
        self.lock = threading.Lock()
        self.port = free_port()
        rec = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0"))).decode()
                with rec.lock:
                    rec.hits.append({"path": self.path, "body": body,
                                     "headers": {k.lower(): v for k, v in self.headers.items()}})
                    plan = rec.plan.get(self.path)
                    status = plan.pop(0) if plan else 200
                self.send_response(status)
                self.send_header("Content-Type", "text/plain")
                self.end_headers()
                self.wfile.write(b"ok" if status < 300 else b"receiver says no")

            def log_message(self, *a):
                pass
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def url(self, path, host="127.0.0.1"):
        return f"http://{host}:{self.port}{path}"

    def of(self, path):
        with self.lock:
            return [h for h in self.hits if h["path"] == path]


@pytest.fixture(scope="module")
def receiver():
    r = Receiver()
    yield r
    r.httpd.shutdown()


def verify(items):
    """[(secret, hit)] -> [{ok, type|error}] by standardwebhooks (node)."""
    env = dict(os.environ, NODE_PATH=os.path.join(ROOT, "tests", "browser", "node_modules"))
    data = [{"secret": s, "headers": h["headers"], "body": h["body"]} for s, h in items]
    r = subprocess.run(["node", os.path.join(os.path.dirname(__file__), "wh_verify.js")],
                       input=json.dumps(data), capture_output=True, text=True, env=env, check=True)
    return json.loads(r.stdout)


def hook(api, receiver, events=("*",), **kw):
    path = "/h-" + uuid.uuid4().hex[:10]
    st, body = api.post("/webhooks", json=dict({"url": receiver.url(path), "events": list(events),
                                                "description": "test"}, **kw))
    assert st == 200, body
    assert body["data"]["secret"].startswith("whsec_")
    return body["data"]["id"], body["data"]["secret"], path


def run_jobs(env, at=None):
    """POST /staff/jobs/run (at the given clock time) with a long timeout: late in the suite
    the database holds every earlier test's orders and a pass far ahead works on all."""
    import requests
    h = {"Authorization": f"Bearer {env.staff().token}"}
    if at:
        h["X-SSLOrders-Clock"] = str(int(at))
    r = requests.post(env.httpd.api + "/staff/jobs/run", headers=h, timeout=600)
    assert r.status_code == 200, r.text
    return r.json()["data"]["worked"]


def ts(text):
    return int(time.mktime(time.strptime(text, "%Y-%m-%d %H:%M:%S"))) - time.timezone


def types(receiver, path):
    return [json.loads(h["body"])["type"] for h in receiver.of(path)]


ALL_TYPES = {"order.created", "order.paid", "order.validation_requested", "order.name_validated",
             "order.validation_failed", "order.issued", "order.reissued", "order.renewed",
             "order.revoked", "order.cancelled", "order.refunded", "order.expiring", "order.expired",
             "order.autorenew_failed", "document.accepted", "document.rejected", "team.balance_low",
             "ping"}


@pytest.fixture
def rich(env):
    return env.new_team(balance="10000", ttl=LONG)


# ---- every event type, signed ------------------------------------------------------------------

def test_every_event_type_arrives_signed(env, rich, receiver):
    api = rich.client()
    staff = env.staff()
    wid, secret, path = hook(api, receiver)
    # created, paid, validation requested; the first check fails, then the names validate
    oid, o = order(api)
    assert validate(api, oid)["status"] == "REQ"
    publish_files(env, o)
    assert validate(api, oid)["status"] == "ACT"
    # reissue with a new key
    st, body = api.post(f"/ssl/orders/{oid}/reissue",
                        json={"csr": pki.csr(o["host_names"][0], o["host_names"][1:], fresh=True)})
    assert st == 200, body
    # revoked
    assert api.post(f"/ssl/orders/{oid}/revoke", json={"reason": "key_compromise"})[0] == 200
    # cancelled and refunded
    pai = api.post("/ssl/orders", json={"product_id": 1, "period": 1})[1]["data"]["id"]
    assert api.post(f"/ssl/orders/{pai}/cancel")[0] == 200
    # documents accepted and rejected
    a = api.raw("POST", f"/ssl/orders/{pai}/documents",
                files={"file": ("a.pdf", samples.PDF, "application/pdf")}).json()["data"]
    b = api.raw("POST", f"/ssl/orders/{pai}/documents",
                files={"file": ("b.png", samples.PNG, "image/png")}).json()["data"]
    assert staff.post(f"/staff/documents/{a['id']}", json={"decision": "accept"})[0] == 200
    assert staff.post(f"/staff/documents/{b['id']}",
                      json={"decision": "reject", "reason": "unreadable"})[0] == 200
    # a ping
    st, body = api.post(f"/webhooks/{wid}/test")
    assert st == 200 and body["data"]["status"] == "done" and body["data"]["last_status"] == 200
    run_jobs(env)
    # expiring, expired, renewed: a one-year order whose 200-day certificate lapsed
    oid2, o2 = order(api)
    publish_files(env, o2)
    assert validate(api, oid2)["status"] == "ACT"
    assert api.put(f"/ssl/orders/{oid2}/reminders", json={"days_before": [30]})[0] == 200
    end = ts(api.get(f"/ssl/orders/{oid2}")[1]["data"]["order_ends_at"])
    run_jobs(env, at=end - 29 * DAY)
    st, body = api.post(f"/ssl/orders/{oid2}/renew", headers={"X-SSLOrders-Clock": str(end - 28 * DAY)})
    assert st == 200, body
    run_jobs(env, at=end - 28 * DAY)
    # autorenew failed: a team whose balance does not cover the renewal
    poor = env.new_team(balance="40", ttl=LONG)
    papi = poor.client()
    pwid, psecret, ppath = hook(papi, receiver, events=["order.autorenew_failed", "team.balance_low"])
    oid3, o3 = order(papi, autorenew="on")
    publish_files(env, o3)
    assert validate(papi, oid3)["status"] == "ACT"
    end3 = ts(papi.get(f"/ssl/orders/{oid3}")[1]["data"]["order_ends_at"])
    run_jobs(env, at=end3 - 20 * DAY)
    run_jobs(env, at=end3 - 20 * DAY)

    got = types(receiver, path)
    want = {"order.created", "order.paid", "order.validation_requested", "order.validation_failed",
            "order.name_validated", "order.issued", "order.reissued", "order.revoked",
            "order.cancelled", "order.refunded", "document.accepted", "document.rejected", "ping",
            "order.expiring", "order.expired", "order.renewed"}
    assert want <= set(got), want - set(got)
    assert sorted(types(receiver, ppath)) == ["order.autorenew_failed", "team.balance_low"]
    low = [json.loads(h["body"]) for h in receiver.of(ppath)
           if json.loads(h["body"])["type"] == "team.balance_low"][0]["data"]
    assert low["order_id"] == oid3 and float(low["balance"]) < float(low["price"])
    hits = receiver.of(path) + receiver.of(ppath)
    results = verify([(secret, h) for h in receiver.of(path)] + [(psecret, h) for h in receiver.of(ppath)])
    assert all(r["ok"] for r in results), results
    # a wrong secret does not verify
    assert not verify([(psecret, receiver.of(path)[0])])[0]["ok"]
    # order events carry the order as GET /ssl/orders/{id} shows it
    keys = set(api.get(f"/ssl/orders/{oid}")[1]["data"])
    for h in hits:
        ev = json.loads(h["body"])
        assert ev["type"] in ALL_TYPES
        assert set(ev) == {"type", "timestamp", "data"}
        if ev["type"].startswith("order."):
            assert set(ev["data"]) == keys, ev["type"]
            assert ev["data"]["id"] in (oid, oid2, oid3, pai)
    first = [json.loads(h["body"]) for h in receiver.of(path)]
    issued = [e for e in first if e["type"] == "order.issued" and e["data"]["id"] == oid][0]
    assert issued["data"]["status"] == "ACT" and issued["data"]["certificate"].startswith("-----BEGIN")
    doc = [e for e in first if e["type"] == "document.rejected"][0]["data"]
    assert doc["order_id"] == pai and doc["document_id"] == b["id"] and doc["reason"] == "unreadable"
    # one order's events in the order they happened
    mine = [e["type"] for e in first if e["data"].get("id") == oid and e["type"].startswith("order.")]
    assert mine.index("order.created") < mine.index("order.validation_requested") \
        < mine.index("order.name_validated") < mine.index("order.issued") \
        < mine.index("order.reissued") < mine.index("order.revoked")
    # each event once: the webhook-ids are unique
    ids = [h["headers"]["webhook-id"] for h in receiver.of(path)]
    assert len(ids) == len(set(ids))
    # mail and messages still come (from the outbox)
    assert ["issued", str(oid), o["common_name"]] in env.httpd.messages()
    assert ["revoked", str(oid), o["common_name"]] in env.httpd.messages()


def test_job_events_carry_the_renewal_links(env, rich, receiver):
    """Events written by the background job (no request behind them) show the order as GET
    does, renewal links included: the renewed order's order.expired carries renewed_by, the
    renewal's events carry renewal_of."""
    from test_orders import create, set_status
    api = rich.client()
    wid, secret, path = hook(api, receiver)
    now = int(time.time())
    old = create(api, csr=pki.csr(dom()))[1]["data"]["id"]
    set_status(env, old, "ACT", active_date=now - 300 * DAY, expiration_date=now + 5 * DAY,
               order_ends_at=now + 5 * DAY)
    assert api.post("/cart", json={"renewal_of": old})[0] == 200
    st, body = api.post("/cart/checkout")
    assert st == 200, body
    new = body["data"]["orders"][0]
    run_jobs(env, at=now + 6 * DAY)
    events = [json.loads(h["body"]) for h in receiver.of(path)]
    expired = [e["data"] for e in events if e["type"] == "order.expired" and e["data"]["id"] == old]
    assert len(expired) == 1, [e["type"] for e in events]
    assert expired[0]["renewed_by"]["id"] == new and expired[0]["renewal_of"] is None
    assert expired[0]["status"] == "EXP"
    keys = set(api.get(f"/ssl/orders/{old}")[1]["data"])
    assert set(expired[0]) == keys
    mine = [e for e in events if e["type"].startswith("order.") and e["data"]["id"] == new]
    assert mine, [e["type"] for e in events]
    assert all(e["data"]["renewal_of"] == old and e["data"]["renewed_by"] is None for e in mine), \
        [(e["type"], e["data"]["renewal_of"], e["data"]["renewed_by"]) for e in mine]
    assert all(r["ok"] for r in verify([(secret, h) for h in receiver.of(path)]))


# ---- retries -------------------------------------------------------------------------------------

def test_a_delivery_claimed_by_a_gone_process_is_due_again(env, rich, receiver):
    """An outbox row claimed by a process of this host that no longer runs (killed
    mid-delivery) is delivered by the next job pass, not 2 minutes later when its claim runs
    out; a row claimed by a live process of this host waits for it."""
    env.expect_log(r"SO00603")
    api = rich.client()
    wid, secret, path = hook(api, receiver, events=["order.created"])
    receiver.plan[path] = [500]
    t0 = int(time.time()) + 1
    oid = api.post("/ssl/orders", json={"product_id": 1, "period": 1},
                   headers={"X-SSLOrders-Clock": str(t0)})[1]["data"]["id"]
    run_jobs(env, at=t0)
    assert len(receiver.of(path)) == 1  # the first try failed: pending, due in about 5 s
    row = env.sql(f"SELECT id FROM outbox WHERE order_id = {oid} AND consumer = {wid}").strip()
    host = socket.gethostname()
    gone = subprocess.Popen(["true"])
    gone.wait()
    for owner, delivered in ((f"{host}:{os.getpid()}:live", 1), (f"{host}:{gone.pid}:dead", 2)):
        env.sql(f"UPDATE outbox SET claim_owner = '{owner}', claim_until = {t0 + 3600} "
                f"WHERE id = {row}")
        run_jobs(env, at=t0 + 10)
        assert len(receiver.of(path)) == delivered, owner
    assert env.sql(f"SELECT status FROM outbox WHERE id = {row}").strip() == "done"
    assert f"claimed by {host}:{gone.pid}:dead, which is gone" in env.httpd.read_log()
    assert len({h["headers"]["webhook-id"] for h in receiver.of(path)}) == 1


def test_retries_keep_the_webhook_id(env, rich, receiver):
    api = rich.client()
    wid, secret, path = hook(api, receiver, events=["order.created"])
    receiver.plan[path] = [500, 500]
    t0 = int(time.time()) + 1
    oid = api.post("/ssl/orders", json={"product_id": 1, "period": 1},
                   headers={"X-SSLOrders-Clock": str(t0)})[1]["data"]["id"]
    run_jobs(env, at=t0)
    assert len(receiver.of(path)) == 1
    run_jobs(env, at=t0 + 2)   # not due yet (about 5 s)
    assert len(receiver.of(path)) == 1
    run_jobs(env, at=t0 + 10)
    assert len(receiver.of(path)) == 2
    run_jobs(env, at=t0 + 100)  # not due yet (about 5 min)
    assert len(receiver.of(path)) == 2
    run_jobs(env, at=t0 + 400)
    hits = receiver.of(path)
    assert len(hits) == 3
    assert len({h["headers"]["webhook-id"] for h in hits}) == 1
    assert len({h["body"] for h in hits}) == 1
    assert all(r["ok"] for r in verify([(secret, h) for h in hits]))
    assert json.loads(hits[0]["body"])["data"]["id"] == oid
    st, body = api.get(f"/webhooks/{wid}/deliveries")
    assert st == 200 and body["data"]["total"] == 1
    d = body["data"]["results"][0]
    assert d["status"] == "done" and d["event_id"] == hits[0]["headers"]["webhook-id"]
    assert [a["http_status"] for a in d["attempts"]] == [500, 500, 200]
    assert d["attempts"][0]["response"] == "receiver says no" and d["attempts"][0]["next_retry"]
    assert d["attempts"][2]["response"] == "ok"
    # a redelivery keeps the webhook-id
    st, body = api.post(f"/webhooks/{wid}/deliveries/{d['id']}/redeliver")
    assert st == 200 and body["data"]["status"] == "done"
    assert receiver.of(path)[-1]["headers"]["webhook-id"] == d["event_id"]
    assert len(receiver.of(path)) == 4
    # an event failing for 3 days is given up
    receiver.plan[path] = [500] * 50
    oid2 = api.post("/ssl/orders", json={"product_id": 1, "period": 1},
                    headers={"X-SSLOrders-Clock": str(t0 + 1000)})[1]["data"]["id"]
    run_jobs(env, at=t0 + 1000)
    run_jobs(env, at=t0 + 1000 + 4 * DAY)
    d2 = [x for x in api.get(f"/webhooks/{wid}/deliveries")[1]["data"]["results"]
          if json.loads(receiver.of(path)[-1]["body"])["data"]["id"] == oid2][0]
    assert d2["status"] == "failed" and len(d2["attempts"]) == 2 and d2["next_retry"] == ""
    receiver.plan[path] = []


# ---- rotation ---------------------------------------------------------------------------------

def test_rotation_signs_with_both_secrets_for_a_day(env, rich, receiver):
    api = rich.client()
    wid, old, path = hook(api, receiver)
    st, body = api.post(f"/webhooks/{wid}/rotate")
    assert st == 200 and body["data"]["secret"].startswith("whsec_") and body["data"]["secret"] != old
    new = body["data"]["secret"]
    assert api.get(f"/webhooks/{wid}")[1]["data"]["old_secret_until"]
    assert "secret" not in api.get(f"/webhooks/{wid}")[1]["data"]
    assert api.post(f"/webhooks/{wid}/test")[0] == 200
    h = receiver.of(path)[-1]
    sigs = h["headers"]["webhook-signature"].split(" ")
    assert len(sigs) == 2 and all(s.startswith("v1,") for s in sigs)
    assert [r["ok"] for r in verify([(new, h), (old, h)])] == [True, True]
    # a day later only the new secret signs
    later = int(time.time()) + 25 * 3600
    assert api.post(f"/webhooks/{wid}/test", headers={"X-SSLOrders-Clock": str(later)})[0] == 200
    h = receiver.of(path)[-1]
    assert len(h["headers"]["webhook-signature"].split(" ")) == 1
    assert [r["ok"] for r in verify([(new, h), (old, h)])] == [True, False]


# ---- endpoints: disabled, removed, another team's, bad input -----------------------------------

def test_disabled_endpoints_get_nothing_and_failing_ones_are_disabled(env, rich, receiver):
    api = rich.client()
    wid, secret, path = hook(api, receiver, events=["order.created"])
    st, body = api.put(f"/webhooks/{wid}", json={"enabled": False})
    assert st == 200 and body["data"]["enabled"] is False
    api.post("/ssl/orders", json={"product_id": 1, "period": 1})
    run_jobs(env)
    assert receiver.of(path) == []
    st, body = api.put(f"/webhooks/{wid}", json={"enabled": True, "events": ["order.created", "order.paid"]})
    assert st == 200 and body["data"]["events"] == ["order.created", "order.paid"]
    oid = api.post("/ssl/orders", json={"product_id": 1, "period": 1})[1]["data"]["id"]
    run_jobs(env)
    assert types(receiver, path) == ["order.created", "order.paid"]
    # failing for five days: disabled, and the owners are told
    env_sql(env, f"UPDATE users SET email = 'owner-{rich.slug}@shop.example' WHERE username = '{rich.username}'")
    receiver.plan[path] = [500] * 50
    t0 = int(time.time()) + 1
    api.post("/ssl/orders", json={"product_id": 1, "period": 1}, headers={"X-SSLOrders-Clock": str(t0)})
    run_jobs(env, at=t0)
    assert api.get(f"/webhooks/{wid}")[1]["data"]["failing_since"]
    t1 = t0 + 5 * DAY + 60
    api.post("/ssl/orders", json={"product_id": 1, "period": 1}, headers={"X-SSLOrders-Clock": str(t1)})
    env.expect_log(r"SO00601")
    run_jobs(env, at=t1)
    w = api.get(f"/webhooks/{wid}")[1]["data"]
    assert w["enabled"] is False and "failed" in w["disabled_reason"]
    mails = [m for m in env.httpd.mails() if m["To"] == f"owner-{rich.slug}@shop.example"]
    assert len(mails) == 1 and "disabled" in str(mails[0]["Subject"])
    n = len(receiver.of(path))
    api.post("/ssl/orders", json={"product_id": 1, "period": 1}, headers={"X-SSLOrders-Clock": str(t1 + 10)})
    run_jobs(env, at=t1 + 4000)
    assert len(receiver.of(path)) == n
    receiver.plan[path] = []
    # removed
    assert api.delete(f"/webhooks/{wid}")[0] == 200
    assert api.get(f"/webhooks/{wid}")[0] == 404
    assert oid


def test_another_teams_endpoints_are_not_found(env, rich, receiver):
    api = rich.client()
    wid, secret, path = hook(api, receiver)
    api.post(f"/webhooks/{wid}/test")
    d = api.get(f"/webhooks/{wid}/deliveries")[1]["data"]["results"][0]["id"]
    other = env.new_team(balance="100", ttl=LONG).client()
    owid, _, opath = hook(other, receiver)
    for method, p in (("GET", f"/webhooks/{wid}"), ("PUT", f"/webhooks/{wid}"),
                      ("DELETE", f"/webhooks/{wid}"), ("POST", f"/webhooks/{wid}/rotate"),
                      ("POST", f"/webhooks/{wid}/test"), ("GET", f"/webhooks/{wid}/deliveries"),
                      ("POST", f"/webhooks/{owid}/deliveries/{d}/redeliver")):
        st, body = other.call(method, p, json={} if method in ("PUT", "POST") else None)
        assert (st, body["code"]) == (404, 103), (method, p, body)
    assert [w["id"] for w in other.get("/webhooks")[1]["data"]["results"]] == [owid]
    # members are not admins
    member = env.new_team(balance="1").add_member("member").client()
    assert member.post("/webhooks", json={"url": receiver.url("/x"), "events": ["*"]})[1]["code"] == 108
    # bad input changes nothing
    n = api.get("/webhooks")[1]["data"]["total"]
    for bad, code in (({"url": receiver.url("/x"), "events": ["order.nope"]}, 151),
                      ({"url": receiver.url("/x"), "events": []}, 151),
                      ({"url": "ftp://example.com/", "events": ["*"]}, 150),
                      ({"url": "http://u:p@example.com/", "events": ["*"]}, 150),
                      ({"url": "not a url", "events": ["*"]}, 150),
                      ({"events": ["*"]}, 102)):
        st, body = api.post("/webhooks", json=bad)
        assert st == 400 and body["code"] == code, (bad, body)
    assert api.get("/webhooks")[1]["data"]["total"] == n


def test_ssrf_refusals(env, rich, receiver):
    h = Httpd(env.base, DB, env.db_params, name="ssrf-" + uuid.uuid4().hex[:6], dcv=env.dcv,
              extra="SSLOrdersWebhookAllowHTTP off\nSSLOrdersWebhookAllowPrivate off\n")
    h.ca_dir = env.httpd.ca_dir
    env.servers.append(h)
    try:
        h.start()
        api = rich.client(h)
        for url in ("http://example.com/hook", "https://127.0.0.1/hook", "https://[::1]/hook",
                    "https://10.1.2.3/hook", "https://169.254.169.254/latest", "https://192.168.1.1/",
                    "https://[::ffff:127.0.0.1]/", "https://localhost/hook", "https://[fe80::1]/"):
            st, body = api.post("/webhooks", json={"url": url, "events": ["*"]})
            assert (st, body["code"]) == (400, 150), (url, body)
        # this host's name (it resolves to one of its own addresses): refused when it is
        # resolved, at delivery
        path = "/ssrf-" + uuid.uuid4().hex[:6]
        st, body = api.post("/webhooks", json={"url": f"https://{socket.gethostname()}:{receiver.port}{path}",
                                               "events": ["*"]})
        assert st == 200, body
        wid = body["data"]["id"]
        st, body = api.post(f"/webhooks/{wid}/test")
        assert st == 200 and body["data"]["status"] == "pending", body
        a = body["data"]["attempts"][0]
        assert a["http_status"] == 0 and "refused" in a["error"], a
        assert receiver.of(path) == []
    finally:
        h.stop()
        env.servers.remove(h)


# ---- SIGKILL: nothing is lost --------------------------------------------------------------------

def test_sigkill_during_creation_and_issuance_loses_nothing(env, receiver):
    import requests
    team = env.new_team(balance="100000", ttl=LONG)
    api = team.client()
    wid, secret, path = hook(api, receiver, events=["order.created", "order.validation_requested",
                                                    "order.issued"])
    other = env.new_team(balance="100", ttl=LONG)
    owid, osecret, opath = hook(other.client(), receiver)
    stop = threading.Event()
    approvers = {}

    def by_email():
        c = team.client()
        while not stop.is_set():
            d = dom()
            try:
                st, body = c.post("/ssl/orders", json={
                    "product_id": 1, "period": 1, "csr": pki.csr(d, ["www." + d]),
                    "approver_email": f"admin@{d}", "start_provision": True,
                    "domain_validation_methods": [{"host_name": n, "method": "email"}
                                                  for n in (d, "www." + d)]})
                if st == 200:
                    approvers[body["data"]["id"]] = f"admin@{d}"
            except requests.RequestException:
                time.sleep(0.05)

    def by_http():
        c = team.client()
        while not stop.is_set():
            try:
                oid, o = order(c)
                publish_files(env, o)
                c.post(f"/ssl/orders/{oid}/validate")
            except (requests.RequestException, AssertionError, KeyError, TypeError):
                time.sleep(0.05)

    # one order surely waits for its (published) validation: issued by the pass after the restart
    pre, pre_o = order(api)
    publish_files(env, pre_o)
    threads = [threading.Thread(target=f) for f in (by_email, by_email, by_http)]
    for t in threads:
        t.start()
    env.expect_log(r"AH00052|AH00098|SO00602|SO00600|AH01909|database|Unclean|child process")
    try:
        for _ in range(4):  # children, one at a time
            time.sleep(0.8)
            kids = env.httpd.child_pids()
            if kids:
                try:
                    os.kill(kids[len(kids) // 2], signal.SIGKILL)
                except OSError:
                    pass
        time.sleep(0.8)
        # the whole server at once (and a child it forked meanwhile)
        left = env.httpd.kill_all()
        assert not left, f"processes of the server survived SIGKILL: {left}"
        time.sleep(0.5)
    finally:
        stop.set()
        for t in threads:
            t.join(30)
    env.httpd.start()
    # after the restart the background job delivers what was committed (claims end in 120 s)
    run_jobs(env, at=int(time.time()) + 600)
    run_jobs(env, at=int(time.time()) + 900)
    orders = api.get("/ssl/orders", params={"limit": 1000})[1]["data"]["results"]
    assert len(orders) >= 3, [o["id"] for o in orders]
    hits = [json.loads(h["body"]) for h in receiver.of(path)]
    created = {e["data"]["id"] for e in hits if e["type"] == "order.created"}
    requested = {e["data"]["id"] for e in hits if e["type"] == "order.validation_requested"}
    issued = {e["data"]["id"] for e in hits if e["type"] == "order.issued"}
    ids = {o["id"] for o in orders}
    assert ids == created, ids ^ created
    assert ids == requested, ids ^ requested
    act = {o["id"] for o in orders if o["status"] == "ACT"}
    assert act and act == issued, (act ^ issued, [(o["id"], o["status"], o["domain_validation_methods"]) for o in orders])
    assert all(r["ok"] for r in verify([(secret, h) for h in receiver.of(path)]))
    # every e-mail validated order has its approval link
    mails = {m["To"] for m in env.httpd.mails()}
    for o in orders:
        if o["id"] in approvers or o["status"] == "REQ":
            full = api.get(f"/ssl/orders/{o['id']}")[1]["data"]
            if full["email_approver"]:
                assert full["email_approver"] in mails, o["id"]
    messages = env.httpd.messages()
    for oid in act:
        assert any(m[:2] == ["issued", str(oid)] for m in messages), oid
    # nothing went to another team
    assert receiver.of(opath) == []


def test_cli_adds_lists_and_removes(env, rich, receiver):
    url = receiver.url("/cli-" + uuid.uuid4().hex[:6])
    r = env.ctl("webhook", "add", rich.slug, url, check=False)
    assert r.returncode == 1 and "https" in r.stderr  # the server's defaults: https only
    r = env.ctl("webhook", "add", rich.slug, url, "--events", "order.nope", "--allow-http",
                "--allow-private", check=False)
    assert r.returncode == 1 and "order.nope" in r.stderr
    wid, secret = env.ctl("webhook", "add", rich.slug, url, "--events", "order.created,order.paid",
                          "--allow-http", "--allow-private").stdout.split()
    assert secret.startswith("whsec_")
    assert f"{wid} enabled {url} order.created,order.paid" in env.ctl("webhook", "list", rich.slug).stdout
    w = rich.client().get(f"/webhooks/{wid}")[1]["data"]
    assert w["events"] == ["order.created", "order.paid"] and w["url"] == url
    env.ctl("webhook", "remove", rich.slug, wid)
    assert rich.client().get(f"/webhooks/{wid}")[0] == 404
    assert env.ctl("webhook", "remove", rich.slug, wid, check=False).returncode == 1


def test_two_servers_deliver_each_event_once(env, rich, receiver):
    """Two servers on one database run the background pass at the same time: the claims
    let exactly one of them deliver each row."""
    h = Httpd(env.base, DB, env.db_params, name="twin-" + uuid.uuid4().hex[:6], dcv=env.dcv)
    h.ca_dir = env.httpd.ca_dir
    env.servers.append(h)
    try:
        h.start()
        api = rich.client()
        wid, secret, path = hook(api, receiver, events=["order.created", "order.paid"])
        ids = [api.post("/ssl/orders", json={"product_id": 1, "period": 1})[1]["data"]["id"]
               for _ in range(30)]
        staff_token = env.staff().token
        from harness import Client
        clients = [Client(env.httpd.api, staff_token), Client(h.api, staff_token)]
        errors = []

        def run(c):
            for _ in range(3):
                st, body = c.post("/staff/jobs/run")
                if st != 200:
                    errors.append(body)
        threads = [threading.Thread(target=run, args=(c,)) for c in clients]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        assert not errors, errors
        hits = receiver.of(path)
        got = [h["headers"]["webhook-id"] for h in hits]
        assert len(got) == len(set(got)) == 60
        created = [json.loads(x["body"])["data"]["id"] for x in hits
                   if json.loads(x["body"])["type"] == "order.created"]
        assert sorted(created) == sorted(ids)
    finally:
        h.stop()
        env.servers.remove(h)


def test_a_server_without_commands_writes_no_rows_for_itself(env, rich):
    """The outbox's rows for the server itself carry the mail and SSLOrdersMessageCmd: a
    server with neither command writes none for the events it would not act on (issued,
    ...), still the one of order.validation_requested (the e-mail approval); a server with
    them writes both and delivers them right after the request that wrote them."""
    from issuing import issued
    quiet = Httpd(env.base, DB, env.db_params, name="quiet-" + uuid.uuid4().hex[:6], dcv=env.dcv)
    quiet.ca_dir = env.httpd.ca_dir
    quiet.sinks = False
    env.servers.append(quiet)
    try:
        quiet.start()
        rows = {}
        for server in (quiet, env.httpd):
            oid, o = issued(env, rich.client(server))
            assert o["status"] == "ACT"
            rows[server] = sorted(tuple(r.split("|")) for r in env.sql(
                f"SELECT type, status FROM outbox WHERE order_id = {oid} AND consumer = 0"
            ).split())
            kinds = [e["kind"] for e in rich.client(server).get(f"/ssl/orders/{oid}/events")[1]["data"]["results"]]
            assert "issued" in kinds, kinds
        assert rows[quiet] == [("order.validation_requested", "done")], rows[quiet]
        assert rows[env.httpd] == [("order.issued", "done"),
                                   ("order.validation_requested", "done")], rows[env.httpd]
        assert ["issued", str(oid), o["common_name"]] in env.httpd.messages()
    finally:
        quiet.stop()
        env.servers.remove(quiet)


def outbox_reads(env):
    """Tuples PostgreSQL read from the outbox table and its indexes so far."""
    return int(env.sql(
        "SELECT COALESCE((SELECT seq_tup_read FROM pg_stat_user_tables WHERE relname = 'outbox'), 0)"
        " + COALESCE((SELECT SUM(idx_tup_read) FROM pg_stat_user_indexes WHERE relname = 'outbox'), 0)"
    ).strip())


def test_a_backlog_after_a_quiet_outbox_drains_in_order_and_linear_work(env, rich, receiver):
    """A receiver back after an outage finds a backlog: every event arrives once, each
    order's in order. On PostgreSQL a statement is planned once per connection, from the
    statistics of the moment; taken while nothing was pending (a healthy outbox), they once
    turned the due query into a comparison of every pending row with every other (4.2 s per
    batch of 50 with 5,000 pending). The reads of the outbox must stay linear."""
    api = rich.client()
    wid, secret, path = hook(api, receiver, events=["order.created", "order.paid"])
    n = 200
    oids = [api.post("/ssl/orders", json={"product_id": 1, "period": 1})[1]["data"]["id"]
            for _ in range(n)]
    run_jobs(env)
    assert len(receiver.of(path)) == 2 * n
    pg = DB == "pgsql"
    if pg:
        # statistics of a quiet outbox, kept while the backlog builds
        env.sql("ALTER TABLE outbox SET (autovacuum_enabled = false); ANALYZE outbox")
    try:
        run_jobs(env)  # the connections plan the due query again, from those statistics
        env.sql(f"UPDATE outbox SET status = 'pending', next_at = 0, attempts = 0 "
                f"WHERE consumer = {wid}")
        before = outbox_reads(env) if pg else 0
        run_jobs(env)
        hits = receiver.of(path)[2 * n:]
        assert len(hits) == 2 * n
        ids = [h["headers"]["webhook-id"] for h in hits]
        assert len(set(ids)) == 2 * n
        seen = {}
        for h in hits:
            body = json.loads(h["body"])
            oid = body["data"]["id"]
            seen.setdefault(oid, []).append(body["type"])
        assert sorted(seen) == sorted(oids)
        assert all(t == ["order.created", "order.paid"] for t in seen.values()), seen
        if pg:
            # the counters reach the statistics when the job's backend is idle (up to 10 s)
            reads, deadline = 0, time.time() + 20
            while time.time() < deadline:
                reads = outbox_reads(env) - before
                if reads >= 2 * n:
                    time.sleep(1.5)
                    reads = outbox_reads(env) - before
                    break
                time.sleep(0.5)
            assert 2 * n <= reads < 60 * 2 * n, reads
    finally:
        if pg:
            env.sql("ALTER TABLE outbox RESET (autovacuum_enabled)")
