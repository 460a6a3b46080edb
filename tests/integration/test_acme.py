"""The ACME server (RFC 8555) bound to paid orders, driven by a small client of our own
(acme_client.py): EAB, every JWS rule, http-01 and dns-01, issuance as the order's first
issuance or reissue, certificates checked with openssl verify."""
import collections
import contextlib
import json
import os
import re
import subprocess
import tempfile
import time
import uuid

import pytest
import requests

import issuing
import pki
from acme_client import Acme, Key, Problem, b64, csr_der
import harness
from harness import DB, Httpd
from issuing import DAY, DV, DV_WILD, LONG, dom


@pytest.fixture
def team(env):
    return env.new_team(balance="10000", ttl=LONG)


@pytest.fixture
def api(team):
    return team.client()


def directory(env, server=None):
    return (server or env.httpd).url + "/acme/directory"


def paid_order(api, names, product=DV):
    """An order paid for, with its names, not sent for validation (PAI)."""
    body = {"product_id": product, "period": 1, "csr": pki.csr(names[0], names[1:], fresh=True),
            "domain_validation_methods": [{"host_name": n, "method": "http"} for n in names]}
    st, ans = api.post("/ssl/orders", json=body)
    assert st == 200, ans
    oid = ans["data"]["id"]
    return oid


def eab(api, oid):
    st, body = api.post("/acme/eab", json={"order_id": oid, "description": "test"})
    assert st == 200, body
    return body["data"]


def client(env, api, oid, alg="ES256", clock=None):
    e = eab(api, oid)
    c = Acme(directory(env), Key(alg), clock=clock)
    c.register(e["kid"], e["hmac_key"], contact=["mailto:ops@example.com"])
    return c, e


@contextlib.contextmanager
def second_server(env, name, extra=""):
    """Another server on the test's database and CA, started (stopped at the end)."""
    h = Httpd(env.base, DB, env.db_params, name=f"{name}-" + uuid.uuid4().hex[:6], dcv=env.dcv,
              extra=extra)
    h.ca_dir = env.httpd.ca_dir
    env.servers.append(h)
    try:
        h.start()
        yield h
    finally:
        h.stop()
        env.servers.remove(h)


def verify_chain(env, pem_chain):
    root = requests.get(env.httpd.url + "/pki/root.pem").text if False else None
    with tempfile.TemporaryDirectory() as d:
        certs = [c + "-----END CERTIFICATE-----\n"
                 for c in pem_chain.split("-----END CERTIFICATE-----") if c.strip()]
        assert len(certs) == 2, pem_chain
        with open(os.path.join(d, "leaf"), "w") as f:
            f.write(certs[0])
        with open(os.path.join(d, "inter"), "w") as f:
            f.write(certs[1])
        with open(os.path.join(d, "root"), "w") as f:
            f.write(root or open(os.path.join(env.httpd.ca_dir, "root.pem")).read()
                    if os.path.exists(os.path.join(env.httpd.ca_dir, "root.pem")) else "")
        return d, certs


def openssl_ok(env, api, oid, chain):
    """The chain the ACME server gave is the order's current certificate and verifies
    against the CA root."""
    o = api.get(f"/ssl/orders/{oid}")[1]["data"]
    assert o["certificate"].strip() in chain
    assert o["intermediate_certificate"].strip() in chain
    issuing.openssl_verify(env, o)
    return o


def http01(env, c, authz):
    ch = next(x for x in authz["challenges"] if x["type"] == "http-01")
    env.dcv.put_file("/.well-known/acme-challenge/" + ch["token"], c.key_authorization(ch["token"]))
    return c.post(ch["url"], {}).json()


def test_directory_and_nonces(env):
    r = requests.get(directory(env))
    assert r.status_code == 200
    d = r.json()
    for k in ("newNonce", "newAccount", "newOrder", "revokeCert", "keyChange"):
        assert d[k].startswith(env.httpd.url + "/acme/")
    assert d["meta"]["externalAccountRequired"] is True
    assert set(d["meta"]["profiles"]) >= {"classic", "shortlived"}
    h = requests.head(d["newNonce"])
    g = requests.get(d["newNonce"])
    assert h.status_code == 200 and g.status_code == 204
    assert h.headers["Replay-Nonce"] != g.headers["Replay-Nonce"]
    assert "no-store" in g.headers["Cache-Control"]
    assert 'rel="index"' in g.headers["Link"]


@pytest.mark.skipif(DB != "sqlite3", reason="SQLite statements expire on a schema change")
def test_nonces_after_a_schema_change(env):
    """Another connection changes the schema (a migration, a trigger replaced): every pooled
    SQLite connection's statements expire, and the next statement on each fails before it
    runs. The store prepares them again and runs the statement once more, so no nonce goes
    missing and no ACME request answers 503 (ACME has no request-level retry)."""
    import sqlite3
    d = requests.get(directory(env)).json()
    for _ in range(3):
        con = sqlite3.connect(env.db_params, timeout=10, isolation_level=None)
        con.execute("CREATE TABLE IF NOT EXISTS schema_bump (x INTEGER)")
        con.execute("DROP TABLE schema_bump")
        con.close()
        for _ in range(30):
            r = requests.head(d["newNonce"], headers={"Connection": "close"})
            assert r.status_code == 200 and r.headers.get("Replay-Nonce"), (r.status_code, r.headers)


def test_pai_order_http01_first_issuance(env, api):
    d = dom()
    oid = paid_order(api, [d, "www." + d])
    assert api.get(f"/ssl/orders/{oid}")[1]["data"]["status"] == "PAI"
    c, e = client(env, api, oid)
    assert e["hmac_key"] and e["kid"].startswith("kid_")
    url, order = c.new_order([d, "www." + d])
    assert order["status"] == "pending" and len(order["authorizations"]) == 2
    for a in order["authorizations"]:
        authz = c.get(a)
        assert authz["status"] == "pending"
        ch = http01(env, c, authz)
        assert ch["status"] == "valid", ch
        assert c.get(a)["status"] == "valid"
    order = c.get(url)
    assert order["status"] == "ready"
    done, _ = c.finalize(order, [d, "www." + d])
    assert done["status"] == "valid", done
    r = c.certificate(done["certificate"])
    assert r.headers["Content-Type"].startswith("application/pem-certificate-chain")
    o = openssl_ok(env, api, oid, r.text)
    assert o["status"] == "ACT"
    # the order is paid once: the first ACME issuance is its issuance
    st, certs = api.get(f"/ssl/orders/{oid}/certificates")
    assert st == 200 and certs["data"]["total"] == 1
    # the orders list of the account
    lst = c.post(c.get(c.kid)["orders"], None).json()
    assert url in lst["orders"]


def test_portal_validated_names_reissue_without_challenge(env, api):
    oid, o = issuing.issued(env, api)
    names = [h["host_name"] for h in o["domain_validation_methods"]] if "domain_validation_methods" in o \
        else [o["common_name"]]
    c, _ = client(env, api, oid)
    url, order = c.new_order([o["common_name"]])  # a subset of the order's names
    assert order["status"] == "ready", order
    assert c.get(order["authorizations"][0])["status"] == "valid"
    done, _ = c.finalize(order, [o["common_name"]])
    assert done["status"] == "valid"
    openssl_ok(env, api, oid, c.certificate(done["certificate"]).text)
    st, certs = api.get(f"/ssl/orders/{oid}/certificates")
    assert certs["data"]["total"] == 2  # a reissue, in the order's certificate history
    assert names


def test_reissue_writes_its_request_with_the_certificate(env, api):
    """An ACME reissue of a DV order whose names are fresh is signed first; the request
    (the CSR, the names, their states, its event) and the certificate are then written in
    one transaction. The order carries the finalized CSR and only the names reissued, its
    events are acme_issuance_requested and then reissued at the same moment, and nothing is
    left waiting for a reissue (the background job issues nothing more)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    oid, o = issuing.issued(env, api)
    cn = o["common_name"]
    assert len(o["domain_validation_methods"]) == 2
    c, _ = client(env, api, oid)
    url, order = c.new_order([cn])  # a subset of the order's names
    assert order["status"] == "ready", order
    done, _ = c.finalize(order, [cn])
    assert done["status"] == "valid", done
    chain = c.certificate(done["certificate"]).text
    openssl_ok(env, api, oid, chain)
    now = api.get(f"/ssl/orders/{oid}")[1]["data"]
    assert now["status"] == "ACT"
    spki = serialization.PublicFormat.SubjectPublicKeyInfo
    der = serialization.Encoding.DER
    csr = x509.load_pem_x509_csr(now["csr"].encode())
    leaf = x509.load_pem_x509_certificate(chain.encode())
    assert csr.public_key().public_bytes(der, spki) == leaf.public_key().public_bytes(der, spki)
    assert now["csr"] != o["csr"]
    assert [h["host_name"] for h in now["domain_validation_methods"]] == [cn]
    # the new certificate is the order's one current certificate (on PostgreSQL the old one
    # stops being current in the statement that inserts the new one)
    current = env.sql(f"SELECT id, is_current FROM certificates WHERE order_id = {oid} "
                      "ORDER BY id").split()
    assert [r.split("|")[1] for r in current] == ["0", "1"], current
    assert now["certificate"].strip() == leaf.public_bytes(serialization.Encoding.PEM).decode().strip()
    ev = api.get(f"/ssl/orders/{oid}/events", params={"limit": 100})[1]["data"]["results"]
    kinds = [e["kind"] for e in ev]
    assert kinds[-2:] == ["acme_issuance_requested", "reissued"], kinds
    assert ev[-1]["created_at"] == ev[-2]["created_at"]
    assert ev[-2]["detail"] == {"names": 1, "previous": "ACT"}, ev[-2]
    # nothing waits: the background job's pass issues no other certificate
    env.run_jobs()
    assert api.get(f"/ssl/orders/{oid}/certificates")[1]["data"]["total"] == 2


def test_acme_issuances_reach_the_teams_webhooks(env, api):
    """An ACME request reads with its account (on PostgreSQL, in the nonce's statement)
    whether the team has an enabled webhook, and the events it writes read the webhooks only
    when it has: a reissue before the team had one writes no row for it, the next one (same
    account) writes the webhook's order.reissued and it is delivered, and none after the
    webhook is disabled."""
    import http.server
    import threading
    got = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            got.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *a):
            pass
    rx = http.server.ThreadingHTTPServer(("127.0.0.1", harness.free_port()), Handler)
    threading.Thread(target=rx.serve_forever, daemon=True).start()
    try:
        oid, o = issuing.issued(env, api)
        cn = o["common_name"]
        c, _ = client(env, api, oid)

        def reissue():
            url, order = c.new_order([cn])
            done, _ = c.finalize(order, [cn])
            for _ in range(60):
                if done["status"] == "valid":
                    return
                time.sleep(0.5)
                done = c.get(url)
            raise AssertionError(done)

        def hook_rows():
            return env.sql(f"SELECT consumer, type FROM outbox WHERE order_id = {oid} "
                           "AND consumer > 0 ORDER BY id").split()

        reissue()
        assert hook_rows() == []
        st, body = api.post("/webhooks", json={"url": f"http://127.0.0.1:{rx.server_port}/h",
                                               "events": ["order.reissued"],
                                               "description": "acme"})
        assert st == 200, body
        wid = body["data"]["id"]
        reissue()
        assert hook_rows() == [f"{wid}|order.reissued"]
        for _ in range(40):
            if got:
                break
            env.run_jobs()
            time.sleep(0.25)
        assert [g["type"] for g in got] == ["order.reissued"], got
        assert got[0]["data"]["id"] == oid
        assert api.put(f"/webhooks/{wid}", json={"enabled": False})[0] == 200
        reissue()
        assert hook_rows() == [f"{wid}|order.reissued"]
        assert api.get(f"/ssl/orders/{oid}/certificates")[1]["data"]["total"] == 4
    finally:
        rx.shutdown()


@pytest.mark.skipif(DB != "pgsql", reason="changes go with the next statement on PostgreSQL")
def test_a_change_sent_with_the_commit_that_fails_keeps_nothing(env, api):
    """On PostgreSQL the changes of a transaction whose row counts no one reads (the names'
    states, the events, the seal: so_db_exec_later) go to the database with the
    transaction's next statement or with its COMMIT, in one round trip. One that fails there
    fails its transaction as if it had been sent alone: a trigger refuses the reissue's
    `reissued` event (queued after the order's write, sent with the statements that
    follow), and the reissue keeps nothing: no certificate, the order as it was, the ACME
    order not valid, no event of it, and sslorders_db_deferred_total counted the queued
    changes. Once the trigger is gone the client's next finalize poll gets the certificate."""
    oid, o = issuing.issued(env, api)
    cn = o["common_name"]
    c, _ = client(env, api, oid)
    was = api.get(f"/ssl/orders/{oid}")[1]["data"]
    events = api.get(f"/ssl/orders/{oid}/events", params={"limit": 100})[1]["data"]["total"]
    deferred = lambda: float(re.search(r"^sslorders_db_deferred_total (\S+)$",  # noqa: E731
                                       requests.get(env.httpd.url + "/metrics").text,
                                       re.M).group(1))
    env.pg.psql("CREATE FUNCTION so_test_refuse() RETURNS trigger LANGUAGE plpgsql AS "
                "$$BEGIN RAISE EXCEPTION 'refused by the test'; END$$")
    env.pg.psql("CREATE TRIGGER so_test_refuse BEFORE INSERT ON order_events FOR EACH ROW "
                "WHEN (NEW.kind = 'reissued') EXECUTE FUNCTION so_test_refuse()")
    # the failure, named by its statement, and the requests it failed
    env.expect_log(r"so_order_event_insert failed: ERROR:  refused by the test|SO00500: ACME POST")
    try:
        url, order = c.new_order([cn])
        assert order["status"] == "ready", order
        before = deferred()
        der, _ = csr_der([cn])
        r = c.post(order["finalize"], {"csr": b64(der)}, check=False)
        assert r.status_code in (200, 500, 503), (r.status_code, r.text)
        assert deferred() > before  # the names' states and the request's event were queued
        r = c.post(url, None, check=False)  # a poll tries again, and fails again
        assert r.status_code != 200 or r.json()["status"] != "valid", r.text
        now = api.get(f"/ssl/orders/{oid}")[1]["data"]
        assert now["csr"] == was["csr"] and now["certificate"] == was["certificate"]
        assert api.get(f"/ssl/orders/{oid}/certificates")[1]["data"]["total"] == 1
        assert api.get(f"/ssl/orders/{oid}/events",
                       params={"limit": 100})[1]["data"]["total"] == events
        assert env.sql(f"SELECT COUNT(*) FROM certificates WHERE order_id = {oid}").strip() == "1"
    finally:
        env.pg.psql("DROP TRIGGER so_test_refuse ON order_events")
        env.pg.psql("DROP FUNCTION so_test_refuse()")
    done = c.get(url)
    for _ in range(60):
        if done["status"] == "valid":
            break
        time.sleep(0.5)
        done = c.get(url)
    assert done["status"] == "valid", done
    assert c.certificate(done["certificate"]).status_code == 200
    assert api.get(f"/ssl/orders/{oid}/certificates")[1]["data"]["total"] == 2
    kinds = [e["kind"] for e in api.get(f"/ssl/orders/{oid}/events",
                                        params={"limit": 100})[1]["data"]["results"]]
    assert kinds[-1] == "reissued", kinds


@pytest.mark.skipif(DB != "pgsql", reason="counted in PostgreSQL's statement log")
def test_reissue_statement_budget(env, api):
    """What an ACME reissue costs the database (newOrder with the order's validation reused,
    the authorization read, finalize, certificate download), counted in PostgreSQL's
    statement log over 5 reissues of one name after a warm-up (the least of three such
    windows): 66.8 statements per reissue
    before the order's names came with the order (one query), the key was looked up once,
    the reissue started with the request's transaction and the schedule was written with
    the order; 54 after; 49 since the nonce and the account are read in one statement (on
    PostgreSQL, a key the process verified before); 48.4 since the issuance of a request just
    written reads neither the order nor its names again and the outbox's delivery reads no
    mail recipients without a mail command (47 statements, and 1.4 notices to the other
    servers' token caches, at most one per 20 ms); 45.6 since a DV reissue of fresh names
    writes its request with the certificate, one transaction (44 and 1.6 notices); 42.6
    since the bound order's product flags come with the order, the SSL order's newest
    certificate is read in the statement that moves the ACME order to processing, and the
    outbox's own row is claimed and read in one statement; 36.0 since the names' states
    come with the order, the EAB with the account, the certificate is inserted with its
    predecessor's uncurrent (one statement on PostgreSQL), the claim ends with the order's
    write and returns the issuance state, and the ACME order is read with its
    authorizations and with its certificate (33.8 per issuance of two names without mail
    or message commands: tests/bench/acme_sqlcount.py). The budget is 38: a statement
    added to every issuance shows here.
    The same count by hand, with the list of statements: tests/bench/acme_sqlcount.py."""
    import re
    oid, o = issuing.issued(env, api)
    c, _ = client(env, api, oid)
    names = [o["common_name"]]

    def reissue():
        url, order = c.new_order(names)
        assert order["status"] == "ready", order
        assert c.get(order["authorizations"][0])["status"] == "valid"
        done, _ = c.finalize(order, names)
        assert done["status"] == "valid", done
        assert c.certificate(done["certificate"]).status_code == 200

    reissue()  # warm-up: each connection prepares a statement at its first use
    log = os.path.join(env.pg.dir, "pg.log")

    def window(n):
        """the statements PostgreSQL logged while 5 reissues ran"""
        env.pg.psql(f"SELECT 'budget-start-{n}'")
        for _ in range(5):
            reissue()
        env.pg.psql(f"SELECT 'budget-end-{n}'")
        text = open(log, encoding="utf-8", errors="replace").read()
        start, end = text.rindex(f"budget-start-{n}"), text.rindex(f"budget-end-{n}")
        text = text[text.index("\n", start):text.rindex("\n", 0, end)]  # between the markers' lines
        found = re.findall(r"LOG:  (statement|execute [^:]*): (?:PREPARE (\S+)|(.{0,40}))", text)
        # a BEGIN or COMMIT sent in the round trip of a statement (a pipeline) is an
        # unnamed extended-protocol execute; one on its own a simple query
        piggy = sum(1 for how, a, b in found
                    if how == "execute <unnamed>" and b.strip() in ("BEGIN", "COMMIT"))
        return collections.Counter(a or b for how, a, b in found), piggy

    # The background job's pass, or anything else the server does meanwhile, adds statements
    # to a window now and then (a CI run once counted 61 per reissue in its only window, one
    # more ACME account read and nonce among them): the least of three windows is the cost.
    env.pg.psql("ALTER SYSTEM SET log_statement = 'all'")
    env.pg.psql("SELECT pg_reload_conf()")
    def deferred():
        """changes sent with a later statement, reads sent ahead with an earlier one"""
        text = requests.get(env.httpd.url + "/metrics", timeout=10).text
        return (float(re.search(r"^sslorders_db_deferred_total (\S+)$", text, re.M).group(1))
                + read_ahead(text)[0])

    try:
        counts, trips = [], []
        for n in range(3):
            before = deferred()
            seen, piggy = window(n)
            counts.append(seen)
            trips.append(sum(seen.values()) - piggy - (deferred() - before))
    finally:
        env.pg.psql("ALTER SYSTEM RESET log_statement")
        env.pg.psql("SELECT pg_reload_conf()")
    per = min(sum(c.values()) for c in counts) / 5
    assert 20 < per <= 38, f"{per} statements per reissue: " + " | ".join(
        f"{sum(c.values()) / 5}: {sorted(c.items())}" for c in counts)
    # round trips: the statements less the BEGIN/COMMIT, the changes
    # (sslorders_db_deferred_total) and the reads (sslorders_db_read_ahead_total) that went
    # with another statement: 26.0 before the reads went with the nonce, 23.0 after
    assert min(trips) / 5 <= 25, (f"{min(trips) / 5} round trips per reissue", trips, counts)
    st, certs = api.get(f"/ssl/orders/{oid}/certificates")
    assert certs["data"]["total"] == 17  # the first issuance and the 16 reissues


def read_ahead(text=None):
    """sslorders_db_read_ahead_total: (sent, taken)"""
    return tuple(float(re.search(r'^sslorders_db_read_ahead_total\{what="%s"\} (\S+)$' % w,
                                 text, re.M).group(1)) for w in ("sent", "taken"))


def test_a_request_reads_its_resource_with_its_nonce(env, api):
    """On PostgreSQL a POST-as-GET of an authorization, an order or a certificate sends the
    read of that resource with the statement that takes its nonce (and reads the account), in
    one round trip, and the handler takes those rows instead of reading again
    (sslorders_db_read_ahead_total: sent and taken). Read ahead does not mean read for
    anyone: another account still gets a 404, and a statement of the request between the
    two (the account's last use, written at most once a minute) drops what was read ahead:
    the resource is read again, as it is then. SQLite reads nothing ahead."""
    oid, o = issuing.issued(env, api)
    names = [o["common_name"]]
    c, _ = client(env, api, oid)
    url, order = c.new_order(names)
    authz = order["authorizations"][0]
    metrics = lambda: read_ahead(requests.get(env.httpd.url + "/metrics", timeout=10).text)  # noqa: E731

    c.get(authz)  # (this connection's process has verified the account's key: known now)
    sent, taken = metrics()
    got = c.get(authz)
    assert got["status"] == "valid" and got["identifier"]["value"] == names[0], got
    done, _ = c.finalize(order, names)
    assert done["status"] == "valid", done
    assert c.certificate(done["certificate"]).status_code == 200
    assert c.get(url)["status"] == "valid"
    sent2, taken2 = metrics()
    if DB != "pgsql":
        assert (sent2, taken2) == (0, 0)
        return
    # the authorization, the order (finalize), the certificate and the order again
    assert (sent2 - sent, taken2 - taken) == (4, 4), (sent, taken, sent2, taken2)

    # another account: its nonce's round trip read the authorization too, and it is a 404
    oid2, o2 = issuing.issued(env, api)
    other, _ = client(env, api, oid2)
    other.get(other.new_order([o2["common_name"]])[1]["authorizations"][0])
    r = other.post(authz, None, check=False)
    assert r.status_code == 404, r.text
    assert "urn:ietf:params:acme:error:malformed" in r.text

    # a write of the request between the nonce and the read: read again, as it is now
    acct = c.kid.rsplit("/", 1)[1]
    env.sql(f"UPDATE acme_authz SET status = 'deactivated' WHERE id = "
            f"{authz.rsplit('/', 1)[1]}")
    env.sql(f"UPDATE acme_accounts SET last_used_at = 0 WHERE id = {acct}")
    sent, taken = metrics()
    got = c.get(authz)
    assert got["status"] == "deactivated", got
    sent2, taken2 = metrics()
    assert (sent2 - sent, taken2 - taken) == (1, 0), (sent, taken, sent2, taken2)
    assert int(env.sql(f"SELECT last_used_at FROM acme_accounts WHERE id = {acct}")) > 0


def test_dns01_wildcard(env, api):
    d = dom()
    # a wildcard order (its names validated by DNS), not sent for validation yet
    body = {"product_id": DV_WILD, "period": 1, "csr": pki.csr("*." + d, [], fresh=True),
            "domain_validation_methods": [{"host_name": "*." + d, "method": "dns"}]}
    st, ans = api.post("/ssl/orders", json=body)
    assert st == 200, ans
    oid = ans["data"]["id"]
    c, _ = client(env, api, oid)
    url, order = c.new_order(["*." + d])
    authz = c.get(order["authorizations"][0])
    assert authz["wildcard"] is True and authz["identifier"]["value"] == d
    # DNS challenges only, dns-01 first
    assert [x["type"] for x in authz["challenges"]] == ["dns-01", "dns-account-01", "dns-persist-01"]
    ch = authz["challenges"][0]
    env.dcv.add_record("TXT", "_acme-challenge." + d, c.dns_value(ch["token"]))
    assert c.post(ch["url"], {}).json()["status"] == "valid"
    done, _ = c.finalize(c.get(url), ["*." + d])
    assert done["status"] == "valid", done
    openssl_ok(env, api, oid, c.certificate(done["certificate"]).text)


def test_failed_challenge_invalidates(env, api):
    d = dom()
    oid = paid_order(api, [d])
    c, _ = client(env, api, oid)
    url, order = c.new_order([d])
    authz = c.get(order["authorizations"][0])
    ch = next(x for x in authz["challenges"] if x["type"] == "http-01")
    env.dcv.put_file("/.well-known/acme-challenge/" + ch["token"], "wrong")
    r = c.post(ch["url"], {}).json()
    assert r["status"] == "invalid" and "incorrectResponse" in r["error"]["type"]
    assert c.get(url)["status"] == "invalid"
    with pytest.raises(Problem) as p:
        c.finalize(c.get(url), [d])
    assert p.value.type == "orderNotReady"
    assert api.get(f"/ssl/orders/{oid}")[1]["data"]["status"] == "PAI"


@pytest.mark.parametrize("alg", ["ES256", "ES384", "RS256", "EdDSA"])
def test_key_types(env, api, alg):
    oid = paid_order(api, [dom()])
    c, _ = client(env, api, oid, alg=alg)
    acct = c.get(c.kid)
    assert acct["status"] == "valid" and acct["contact"] == ["mailto:ops@example.com"]
    st, lst = api.get("/acme/accounts")
    assert c.key.thumbprint() in [a["thumbprint"] for a in lst["data"]["results"]]


def test_jws_rules(env, api):
    d = dom()
    oid = paid_order(api, [d])
    c, _ = client(env, api, oid)
    url = c.d["newOrder"]
    payload = {"identifiers": [{"type": "dns", "value": d}]}

    def problem(body, status=None):
        r = c.raw_post(url, body)
        assert r.headers["Content-Type"] == "application/problem+json", r.text
        assert "Replay-Nonce" in r.headers
        if status:
            assert r.status_code == status
        return r.json()["type"].split(":")[-1]

    # an algorithm not accepted
    j = c.jws(url, payload)
    prot = json.loads(__import__("acme_client").unb64(j["protected"]))
    prot["alg"] = "HS256"
    j["protected"] = b64(json.dumps(prot))
    assert problem(j, 400) == "badSignatureAlgorithm"
    # a wrong signature
    j = c.jws(url, payload)
    j["signature"] = b64(b"\x01" * 64)
    assert problem(j, 400) == "malformed"
    # the url of another resource
    assert problem(c.jws(c.d["newAccount"], payload), 401) == "unauthorized"
    # an unknown nonce, then a replayed one
    assert problem(c.jws(url, payload, nonce="AAAAAAAAAAAAAAAAAAAAAA")) == "badNonce"
    n = c.nonce()
    assert c.raw_post(url, c.jws(url, payload, nonce=n)).status_code == 201
    assert problem(c.jws(url, payload, nonce=n), 400) == "badNonce"
    # no nonce at all
    j = c.jws(url, payload)
    prot = json.loads(__import__("acme_client").unb64(j["protected"]))
    del prot["nonce"]
    j = {"protected": b64(json.dumps(prot)), "payload": j["payload"]}
    j["signature"] = b64(c.key.sign(f"{j['protected']}.{j['payload']}".encode()))
    assert problem(j) == "badNonce"
    # jwk where a kid is needed, kid where a jwk is needed
    assert problem(c.jws(url, payload, use_jwk=True), 400) == "malformed"
    r = c.raw_post(c.d["newAccount"], c.jws(c.d["newAccount"], {}, use_jwk=False))
    assert r.status_code == 400 and r.json()["type"].endswith("malformed")
    # not JSON, not a JWS
    assert problem("not json", 400) == "malformed"
    assert problem({"protected": "x"}, 400) == "malformed"
    # an account that does not exist
    assert problem(c.jws(url, payload, protected={"kid": c.kid + "999"}), 400) == "accountDoesNotExist"
    # GET on a POST resource
    r = requests.get(url)
    assert r.status_code == 405 and r.headers["Content-Type"] == "application/problem+json"


def test_eab_misuse(env, api, team):
    d = dom()
    oid = paid_order(api, [d])
    e = eab(api, oid)
    # no EAB at all
    c = Acme(directory(env))
    with pytest.raises(Problem) as p:
        c.post(c.d["newAccount"], {"termsOfServiceAgreed": True}, use_jwk=True)
    assert p.value.type == "externalAccountRequired"
    # a wrong HMAC key
    with pytest.raises(Problem) as p:
        c.register(e["kid"], b64(b"x" * 32))
    assert p.value.type == "unauthorized"
    # onlyReturnExisting for a new key
    with pytest.raises(Problem) as p:
        c.post(c.d["newAccount"], {"onlyReturnExisting": True}, use_jwk=True)
    assert p.value.type == "accountDoesNotExist"
    # another team's order: 404, nothing created
    other = env.new_team(balance="100").client()
    st, body = other.post("/acme/eab", json={"order_id": oid})
    assert st == 404, body
    assert other.get("/acme/eab")[1]["data"]["total"] == 0
    # the right key works; onlyReturnExisting then finds it
    c.register(e["kid"], e["hmac_key"])
    r = c.post(c.d["newAccount"], {"onlyReturnExisting": True}, use_jwk=True)
    assert r.status_code == 200 and r.headers["Location"] == c.kid
    # names outside the bound order
    with pytest.raises(Problem) as p:
        c.new_order(["other-" + d])
    assert p.value.type == "rejectedIdentifier"
    with pytest.raises(Problem) as p:
        c.post(c.d["newOrder"], {"identifiers": [{"type": "ip", "value": "192.0.2.1"}]})
    assert p.value.type == "rejectedIdentifier"
    with pytest.raises(Problem) as p:
        c.new_order(["co.uk"])
    assert p.value.type == "rejectedIdentifier"
    # disabling the EAB revokes its accounts
    st, body = api.delete(f"/acme/eab/{e['kid']}")
    assert st == 200, body
    with pytest.raises(Problem) as p:
        c.new_order([d])
    assert p.value.type == "unauthorized"
    c2 = Acme(directory(env))
    with pytest.raises(Problem) as p:
        c2.register(e["kid"], e["hmac_key"])
    assert p.value.type == "unauthorized"
    lst = api.get("/acme/eab")[1]["data"]["results"]
    assert [x["disabled"] for x in lst if x["kid"] == e["kid"]] == [True]
    assert all("hmac_key" not in x for x in lst)
    # another team cannot disable it (404)
    assert other.delete(f"/acme/eab/{e['kid']}")[0] == 404


def test_key_change_and_deactivation(env, api):
    oid = paid_order(api, [dom()])
    c, _ = client(env, api, oid)
    old = c.key
    new = Key("ES384")
    inner = c.jws(c.d["keyChange"], {"account": c.kid, "oldKey": old.jwk()}, key=new,
                  use_jwk=True, nonce="unused")
    r = c.post(c.d["keyChange"], inner)
    assert r.status_code == 200
    c.key = new
    assert c.get(c.kid)["status"] == "valid"
    c.key = old
    with pytest.raises(Problem):
        c.get(c.kid)
    c.key = new
    assert c.post(c.kid, {"status": "deactivated"}).json()["status"] == "deactivated"
    with pytest.raises(Problem) as p:
        c.get(c.kid)
    assert p.value.type == "unauthorized"


def test_account_gone_after_use(env, api):
    """A request of an account the server verified before (on PostgreSQL its nonce and its
    account are then read in one statement) whose account is gone: accountDoesNotExist,
    with a fresh nonce; its nonce was consumed once (a replay is badNonce either way)."""
    oid = paid_order(api, [dom()])
    c, _ = client(env, api, oid)
    for _ in range(3):  # the account's key is known to the child of c's connection now
        assert c.get(c.kid)["status"] == "valid"
    env.sql(f"DELETE FROM acme_accounts WHERE id = {c.kid.rsplit('/', 1)[1]}")
    n = c.nonce()
    r = c.raw_post(c.kid, c.jws(c.kid, None, nonce=n))
    assert r.status_code == 400 and r.json()["type"].endswith("accountDoesNotExist"), r.text
    assert r.headers["Replay-Nonce"] and r.headers["Replay-Nonce"] != n
    r = c.raw_post(c.kid, c.jws(c.kid, None, nonce=n))
    assert r.status_code == 400
    assert r.json()["type"].split(":")[-1] in ("badNonce", "accountDoesNotExist"), r.text
    # the nonce of the answer is good for another account's request
    c2, _ = client(env, api, paid_order(api, [dom()]))
    nxt = r.headers["Replay-Nonce"]
    assert c2.raw_post(c2.kid, c2.jws(c2.kid, None, nonce=nxt)).status_code == 200


def test_authz_deactivation(env, api):
    d = dom()
    oid = paid_order(api, [d])
    c, _ = client(env, api, oid)
    url, order = c.new_order([d])
    a = order["authorizations"][0]
    assert c.post(a, {"status": "deactivated"}).json()["status"] == "deactivated"
    assert c.get(url)["status"] == "invalid"


# servers sharing a database share nonces kept in it: the default on PostgreSQL; SQLite keeps
# them in the server's memory unless told
NONCES_IN_DB = "" if DB == "pgsql" else "SSLOrdersACMENonces database"


def test_two_servers_one_database(env, api):
    """A nonce from one server is accepted once by another on the same database (nonces in
    the database: PostgreSQL's default, SSLOrdersACMENonces database on SQLite)."""
    with second_server(env, "acme-a", NONCES_IN_DB) as ha, \
            second_server(env, "acme-b", NONCES_IN_DB) as hb:
        oid = paid_order(api, [dom()])
        c, _ = client(env, api, oid)
        a = Acme(ha.url + "/acme/directory", c.key)
        a.kid = c.kid.replace(env.httpd.url, ha.url)
        b = Acme(hb.url + "/acme/directory", c.key)
        b.kid = c.kid.replace(env.httpd.url, hb.url)
        n = requests.head(a.d["newNonce"]).headers["Replay-Nonce"]
        assert env.sql(f"SELECT count(*) FROM acme_nonces WHERE nonce = '{n}'").strip() == "1"
        assert b.raw_post(b.kid, b.jws(b.kid, None, nonce=n)).status_code == 200
        r = b.raw_post(b.kid, b.jws(b.kid, None, nonce=n))
        assert r.status_code == 400 and r.json()["type"].endswith("badNonce")
        r = a.raw_post(a.kid, a.jws(a.kid, None, nonce=n))
        assert r.status_code == 400 and r.json()["type"].endswith("badNonce")


def test_nonces_in_memory(env, api):
    """SQLite's default (PostgreSQL with SSLOrdersACMENonces memory): nonces live in the memory
    the server's processes share, never in the database. An issuance works; a nonce is
    accepted once by any child, still after a graceful restart; another server does not know
    it, nor the same server after a full restart."""
    extra = "" if DB == "sqlite3" else "SSLOrdersACMENonces memory"

    def post(cl, n):
        return cl.raw_post(cl.kid, cl.jws(cl.kid, None, nonce=n))

    def bad_nonce(r):
        return r.status_code == 400 and r.json()["type"].endswith("badNonce") \
            and r.headers.get("Replay-Nonce")

    with second_server(env, "acme-mem", extra) as h:
        before = env.sql("SELECT count(*) FROM acme_nonces").strip()
        d = dom()
        oid = paid_order(api, [d])
        e = eab(api, oid)
        c = Acme(h.url + "/acme/directory", Key("ES256"))
        c.register(e["kid"], e["hmac_key"])
        url, order = c.new_order([d])
        assert http01(env, c, c.get(order["authorizations"][0]))["status"] == "valid"
        done, _ = c.finalize(c.get(url), [d])
        assert done["status"] == "valid", done
        chain = c.certificate(done["certificate"]).text
        assert chain.count("BEGIN CERTIFICATE") == 2
        n = requests.head(c.d["newNonce"]).headers["Replay-Nonce"]
        assert re.fullmatch(r"[A-Za-z0-9_-]{16}", n), n
        # nothing of it in the database (other servers of the test may add rows meanwhile
        # on PostgreSQL: the nonce's own row is checked there)
        assert env.sql(f"SELECT count(*) FROM acme_nonces WHERE nonce = '{n}'").strip() == "0"
        if DB == "sqlite3":
            assert env.sql("SELECT count(*) FROM acme_nonces").strip() == before
        assert post(c, n).status_code == 200
        assert bad_nonce(post(c, n))
        # nonces from several children, used after a graceful restart (new children)
        held = [requests.head(c.d["newNonce"], headers={"Connection": "close"})
                .headers["Replay-Nonce"] for _ in range(12)]
        h.graceful()
        for n in held:
            assert post(c, n).status_code == 200
        for n in held:
            assert bad_nonce(post(c, n))
        # another server on the same database: not its nonce; still good here afterwards
        with second_server(env, "acme-mem2", extra) as o:
            oc = Acme(o.url + "/acme/directory", c.key)
            oc.kid = c.kid.replace(h.url, o.url)
            n = requests.head(c.d["newNonce"]).headers["Replay-Nonce"]
            assert bad_nonce(post(oc, n))
            assert post(c, n).status_code == 200
        # a full restart forgets them
        n = requests.head(c.d["newNonce"]).headers["Replay-Nonce"]
        h.stop()
        h.start()
        assert bad_nonce(post(c, n))
        assert c.get(url)["status"] == "valid"


def test_account_changed_on_another_server(env, api):
    """A key rolled over, an account deactivated or revoked with its EAB on another server
    counts from the next request on this one, which authenticated the account before (a
    cache of accounts per server must check them with the database at each request)."""
    with second_server(env, "acme") as h:
        d = dom()
        oid = paid_order(api, [d])
        c, _ = client(env, api, oid)
        url, order = c.new_order([d])
        for _ in range(3):  # the account is known to the child of c's connection now
            assert c.get(url)["status"] == "pending"
        b = Acme(h.url + "/acme/directory", c.key)
        b.kid = c.kid.replace(env.httpd.url, h.url)
        old, new = c.key, Key("ES384")
        inner = b.jws(b.d["keyChange"], {"account": b.kid, "oldKey": old.jwk()}, key=new,
                      use_jwk=True, nonce="unused")
        assert b.post(b.d["keyChange"], inner).status_code == 200
        # server A: the old key is refused, the new one accepted
        with pytest.raises(Problem) as p:
            c.get(url)
        assert p.value.status == 400, p.value.body
        c.key = new
        assert c.get(url)["status"] == "pending"
        for _ in range(3):
            assert c.get(url)["status"] == "pending"
        # deactivated on server B: refused by server A at once
        b.key = new
        assert b.post(b.kid, {"status": "deactivated"}).json()["status"] == "deactivated"
        with pytest.raises(Problem) as p:
            c.get(url)
        assert p.value.type == "unauthorized" and "deactivated" in p.value.body["detail"]
        with pytest.raises(Problem) as p:
            c.new_order([d])
        assert p.value.type == "unauthorized"
        # an account revoked with its EAB (DELETE /v1beta/acme/eab/{kid}): the same
        d2 = dom()
        c2, e2 = client(env, api, paid_order(api, [d2]))
        url2, _ = c2.new_order([d2])
        assert c2.get(url2)["status"] in ("pending", "ready")
        assert api.delete(f"/acme/eab/{e2['kid']}")[0] in (200, 204)
        with pytest.raises(Problem) as p:
            c2.get(url2)
        assert p.value.type == "unauthorized", p.value.body


def test_eab_cli(env, team, api):
    oid = paid_order(api, [dom()])
    r = env.ctl("acme", "eab", "create", team.slug, "--order", oid)
    out = json.loads(r.stdout)
    assert set(out) == {"kid", "hmac_key", "directory_url"}
    lst = json.loads(env.ctl("acme", "eab", "list", team.slug).stdout)
    assert out["kid"] in [x["kid"] for x in lst]
    c = Acme(directory(env))
    c.register(out["kid"], out["hmac_key"])
    other = env.new_team()
    assert env.ctl("acme", "eab", "create", other.slug, "--order", oid, check=False).returncode == 1


def balance(env, team):
    return env.ctl("balance", "show", team.slug).stdout.strip()


def test_product_bound_charges_once(env):
    team = env.new_team(balance="100", ttl=LONG)
    api = team.client()
    st, body = api.post("/acme/eab", json={"product_id": DV, "description": "product"})
    assert st == 200, body
    e = body["data"]
    assert e["product_id"] == DV and e["order_id"] == 0
    c = Acme(directory(env))
    c.register(e["kid"], e["hmac_key"])
    d = dom()
    url, order = c.new_order([d])
    assert api.get("/ssl/orders")[1]["data"]["total"] == 0  # nothing charged before finalize
    http01(env, c, c.get(order["authorizations"][0]))
    done, _ = c.finalize(c.get(url), [d])
    assert done["status"] == "valid", done
    orders = api.get("/ssl/orders")[1]["data"]["results"]
    assert len(orders) == 1 and orders[0]["status"] == "ACT"
    oid = orders[0]["id"]
    openssl_ok(env, api, oid, c.certificate(done["certificate"]).text)
    # made by the order services with the ACME server's context: named "acme", via acme
    created = [e for e in api.get(f"/ssl/orders/{oid}/events")[1]["data"]["results"]
               if e["kind"] == "created"]
    assert len(created) == 1 and created[0]["actor"] == "acme", created
    assert created[0]["detail"]["via"] == "acme" and created[0]["detail"]["product_id"] == DV
    after_first = balance(env, team)
    assert "71.01" in after_first, after_first
    # the same names again: a reissue of that order, no charge, no challenge
    url2, order2 = c.new_order([d])
    assert order2["status"] == "ready", order2
    done2, _ = c.finalize(order2, [d])
    assert done2["status"] == "valid"
    assert api.get("/ssl/orders")[1]["data"]["total"] == 1
    assert balance(env, team) == after_first
    assert api.get(f"/ssl/orders/{oid}/certificates")[1]["data"]["total"] == 2
    # a name the product cannot take (a wildcard on a single-name DV product)
    with pytest.raises(Problem) as p:
        c.new_order(["*." + d])
    assert p.value.type == "rejectedIdentifier"


def test_invalid_only_when_stored(env):
    """A finalize that turns the order invalid (here: the balance went below the product's
    price between newOrder and finalize) while writing invalid fails, the database gone
    (a trigger fails that write the way a database that shuts down does): the answer says
    processing, as the order's row does, not invalid. The next poll, with the database
    back, decides again and then the order is invalid, with its problem."""
    team = env.new_team(balance="30", ttl=LONG)
    api = team.client()
    e = api.post("/acme/eab", json={"product_id": DV})[1]["data"]
    c = Acme(directory(env))
    c.register(e["kid"], e["hmac_key"])
    d = dom()
    url, order = c.new_order([d])
    http01(env, c, c.get(order["authorizations"][0]))
    env.ctl("balance", "credit", team.slug, "-25")  # 5.00 left, the product costs 28.99
    if DB == "pgsql":
        env.sql("CREATE FUNCTION so_test_down() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                "RAISE EXCEPTION 'the database system is shutting down (a test)'; END $$; "
                "CREATE TRIGGER so_test_down BEFORE UPDATE ON acme_orders FOR EACH ROW "
                "WHEN (NEW.status = 'invalid') EXECUTE FUNCTION so_test_down()")
        undo = "DROP TRIGGER so_test_down ON acme_orders; DROP FUNCTION so_test_down()"
    else:
        env.sql("CREATE TRIGGER so_test_down BEFORE UPDATE ON acme_orders "
                "WHEN NEW.status = 'invalid' BEGIN SELECT RAISE(ABORT, 'disk I/O error (a test)'); END")
        undo = "DROP TRIGGER so_test_down"
    env.expect_log(r"so_test_down|shutting down \(a test\)|disk I/O error \(a test\)|SO00979")
    try:
        done, _ = c.finalize(c.get(url), [d])
        assert done["status"] == "processing", done
        row = env.sql(f"SELECT status FROM acme_orders WHERE id = {url.rsplit('/', 1)[1]}")
        assert row.strip() == "processing", row
    finally:
        env.sql(undo)
    polled = c.get(url)
    assert polled["status"] == "invalid", polled
    assert polled["error"]["type"] == "urn:ietf:params:acme:error:unauthorized", polled
    assert "balance" in polled["error"]["detail"]
    assert api.get("/ssl/orders")[1]["data"]["total"] == 0
    assert "5.00" in balance(env, team)


def test_product_bound_balance_too_low(env):
    team = env.new_team(balance="10", ttl=LONG)
    api = team.client()
    e = api.post("/acme/eab", json={"product_id": DV})[1]["data"]
    c = Acme(directory(env))
    c.register(e["kid"], e["hmac_key"])
    with pytest.raises(Problem) as p:
        c.new_order([dom()])
    assert p.value.type == "unauthorized" and "balance" in p.value.body["detail"]
    assert api.get("/ssl/orders")[1]["data"]["total"] == 0
    assert "10.00" in balance(env, team)
    # another team's product id that does not exist: 404
    assert api.post("/acme/eab", json={"product_id": 999999})[0] == 404


def issued_via_acme(env, api, names=None):
    """A PAI order issued through ACME: (client, order id, certificate (x509), its key)."""
    from cryptography import x509 as cx
    names = names or [dom()]
    oid = paid_order(api, names)
    c, e = client(env, api, oid)
    url, order = c.new_order(names)
    for a in order["authorizations"]:
        http01(env, c, c.get(a))
    done, key = c.finalize(c.get(url), names)
    assert done["status"] == "valid", done
    pem = c.certificate(done["certificate"]).text
    return c, oid, cx.load_pem_x509_certificate(pem.encode()), key, e


def ari_id(cert):
    from cryptography import x509 as cx
    aki = cert.extensions.get_extension_for_class(cx.AuthorityKeyIdentifier).value.key_identifier
    n = cert.serial_number
    return b64(aki) + "." + b64(n.to_bytes(n.bit_length() // 8 + 1, "big"))


def cert_der(cert):
    from cryptography.hazmat.primitives import serialization as ser
    return b64(cert.public_bytes(ser.Encoding.DER))


def test_renewal_info_and_replaces(env, api, team):
    c, oid, cert, _, _ = issued_via_acme(env, api)
    assert c.d["renewalInfo"].endswith("/acme/renewal-info")
    r = requests.get(c.d["renewalInfo"] + "/" + ari_id(cert))
    assert r.status_code == 200, r.text
    assert int(r.headers["Retry-After"]) > 0
    w = r.json()["suggestedWindow"]
    import datetime
    utc = datetime.timezone.utc
    nb = cert.not_valid_before.replace(tzinfo=utc).timestamp()
    na = cert.not_valid_after.replace(tzinfo=utc).timestamp()

    def ts(s):
        assert s.endswith("Z") and "T" in s, s  # RFC 3339
        return datetime.datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()
    assert nb < ts(w["start"]) < ts(w["end"]) < na
    assert requests.get(c.d["renewalInfo"] + "/AAAA.AAAA").status_code == 404
    assert requests.get(c.d["renewalInfo"] + "/nonsense").status_code == 400
    # the provider asks for early renewal: the window is now
    env.ctl("acme", "renew-early", oid)
    w = requests.get(c.d["renewalInfo"] + "/" + ari_id(cert)).json()["suggestedWindow"]
    assert ts(w["start"]) <= time.time() + 5
    # replaces: honoured once, from the same account, with overlapping names
    names = [n.value for n in cert.extensions.get_extension_for_class(
        __import__("cryptography").x509.SubjectAlternativeName).value]
    url, order = c.new_order(names, replaces=ari_id(cert))
    assert order["replaces"] == ari_id(cert) and order["status"] == "ready"
    with pytest.raises(Problem) as p:
        c.new_order(names, replaces=ari_id(cert))
    assert p.value.type == "alreadyReplaced"
    with pytest.raises(Problem) as p:
        c.new_order(names, replaces="AAAA.AAAA")
    assert p.value.type == "malformed"
    other, _ = client(env, api, oid)
    with pytest.raises(Problem) as p:
        other.new_order(names, replaces=ari_id(cert))
    assert p.value.type == "malformed"


def test_revoke_by_account_and_by_cert_key(env, api):
    c, oid, cert, key, _ = issued_via_acme(env, api)
    # a reason the BR do not allow
    with pytest.raises(Problem) as p:
        c.post(c.d["revokeCert"], {"certificate": cert_der(cert), "reason": 6})
    assert p.value.type == "badRevocationReason"
    # another team's account cannot
    other_team = env.new_team(balance="100", ttl=LONG)
    oapi = other_team.client()
    o2 = paid_order(oapi, [dom()])
    stranger, _ = client(env, oapi, o2)
    with pytest.raises(Problem) as p:
        stranger.post(c.d["revokeCert"], {"certificate": cert_der(cert)})
    assert p.value.type == "unauthorized"
    r = c.post(c.d["revokeCert"], {"certificate": cert_der(cert), "reason": 4})
    assert r.status_code == 200
    certs = api.get(f"/ssl/orders/{oid}/certificates")[1]["data"]["results"]
    assert any(x.get("revoked_at") or x.get("revoked") for x in certs), certs
    with pytest.raises(Problem) as p:
        c.post(c.d["revokeCert"], {"certificate": cert_der(cert)})
    assert p.value.type == "alreadyRevoked"
    # the window of a revoked certificate is now
    w = requests.get(c.d["renewalInfo"] + "/" + ari_id(cert)).json()["suggestedWindow"]
    assert w["start"] < w["end"] and w["end"][:10] == time.strftime("%Y-%m-%d", time.gmtime())
    # by the certificate's own key (jwk), without an account
    c2, oid2, cert2, key2, _ = issued_via_acme(env, api)
    k = Key("ES256")
    k.k = key2
    anon = Acme(directory(env), k)
    wrong = Acme(directory(env), Key("ES256"))
    with pytest.raises(Problem) as p:
        wrong.post(wrong.d["revokeCert"], {"certificate": cert_der(cert2)}, use_jwk=True)
    assert p.value.type == "unauthorized"
    r = anon.post(anon.d["revokeCert"], {"certificate": cert_der(cert2), "reason": 1}, use_jwk=True)
    assert r.status_code == 200
    # a key compromise blocks the key (BR 6.1.1.3): no certificate for it again
    from cryptography import x509 as cx
    names2 = cert2.extensions.get_extension_for_class(cx.SubjectAlternativeName).value \
        .get_values_for_type(cx.DNSName)
    url, order = c2.new_order(names2)
    for a in order["authorizations"]:
        z = c2.get(a)
        if z["status"] != "valid":
            http01(env, c2, z)
    with pytest.raises(Problem) as p:
        c2.finalize(c2.get(url), names2, key=key2)
    assert p.value.type == "badCSR", p.value.body
    assert "revoked for key compromise" in p.value.body["detail"], p.value.body
    assert c2.get(url)["status"] == "ready"  # refused before processing: a new key may follow
    done, _ = c2.finalize(c2.get(url), names2)
    assert done["status"] in ("valid", "processing"), done


def test_rate_limits(env, api):
    """Per client address (new accounts) and per account (new orders), shared by every
    server on the database: rateLimited with Retry-After."""
    with second_server(env, "acme-rl", extra="SSLOrdersACMERateLimit 2 1\n") as h:
        d = dom()
        oid = paid_order(api, [d])
        codes = []
        clients = []
        for _ in range(3):
            c = Acme(h.url + "/acme/directory")
            e = eab(api, oid)
            try:
                c.register(e["kid"], e["hmac_key"])
                clients.append(c)
                codes.append(200)
            except Problem as p:
                assert p.type == "rateLimited" and p.status == 429
                codes.append(429)
        assert codes[0] == 200 and 429 in codes[1:], codes
        r = Acme(h.url + "/acme/directory")
        res = r.raw_post(r.d["newAccount"], r.jws(r.d["newAccount"], {}, use_jwk=True))
        assert res.status_code == 429 and 0 < int(res.headers["Retry-After"]) <= 3600
        c = clients[0]
        seen = []
        for _ in range(4):
            try:
                c.new_order([d])
                seen.append(201)
            except Problem as p:
                assert p.type == "rateLimited"
                seen.append(429)
        assert seen[0] == 201 and 429 in seen, seen


def test_shortlived_profile(env, api):
    d = dom()
    oid = paid_order(api, [d])
    c, _ = client(env, api, oid)
    url, order = c.new_order([d], profile="shortlived")
    assert order["profile"] == "shortlived"
    http01(env, c, c.get(order["authorizations"][0]))
    done, _ = c.finalize(c.get(url), [d])
    from cryptography import x509 as cx
    cert = cx.load_pem_x509_certificate(c.certificate(done["certificate"]).text.encode())
    assert (cert.not_valid_after - cert.not_valid_before).days <= 7
    with pytest.raises(Problem) as p:
        c.new_order([d], profile="forever")
    assert p.value.type == "invalidProfile"


class AlpnServer:
    """A TLS server answering ALPN acme-tls/1 with a tls-alpn-01 certificate (RFC 8737)."""

    def __init__(self, base, name, digest, critical=True):
        import datetime
        import socket
        import ssl
        import threading
        from cryptography import x509 as cx
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID
        key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.datetime.utcnow()
        subj = cx.Name([cx.NameAttribute(NameOID.COMMON_NAME, name)])
        cert = (cx.CertificateBuilder().subject_name(subj).issuer_name(subj)
                .public_key(key.public_key()).serial_number(cx.random_serial_number())
                .not_valid_before(now - datetime.timedelta(hours=1))
                .not_valid_after(now + datetime.timedelta(days=1))
                .add_extension(cx.SubjectAlternativeName([cx.DNSName(name)]), critical=False)
                .add_extension(cx.UnrecognizedExtension(
                    cx.ObjectIdentifier("1.3.6.1.5.5.7.1.31"), b"\x04\x20" + digest),
                    critical=critical)
                .sign(key, hashes.SHA256()))
        d = tempfile.mkdtemp(dir=base)
        with open(os.path.join(d, "c.pem"), "wb") as f:
            f.write(cert.public_bytes(serialization.Encoding.PEM))
            f.write(key.private_bytes(serialization.Encoding.PEM,
                                      serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption()))
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(os.path.join(d, "c.pem"))
        ctx.set_alpn_protocols(["acme-tls/1"])

        # a probe counts when its ClientHello arrives (the server name callback runs before
        # the server answers): counted after the handshake, a probe that had the
        # certificate and closed could be asserted on before the count (seen under load)
        def hello(sock, server_name, c):
            self.hits += 1
        ctx.sni_callback = hello
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(5)
        self.port = self.sock.getsockname()[1]
        self.hits = 0

        def serve():
            while True:
                try:
                    conn, _ = self.sock.accept()
                except OSError:
                    return
                try:
                    with ctx.wrap_socket(conn, server_side=True) as s:
                        s.recv(1)
                except (OSError, ssl.SSLError):
                    pass
        threading.Thread(target=serve, daemon=True).start()

    def close(self):
        self.sock.close()


def alpn_challenge(env, api, digest_of):
    """An order's tls-alpn-01 challenge answered by a TLS server with the certificate
    digest_of(key authorization) makes, probed by a server routed to it: the answer."""
    import hashlib
    d = dom()
    oid = paid_order(api, [d])
    c, _ = client(env, api, oid)
    url, order = c.new_order([d])
    authz = c.get(order["authorizations"][0])
    ch = next(x for x in authz["challenges"] if x["type"] == "tls-alpn-01")
    srv = AlpnServer(env.base, d, digest_of(hashlib.sha256(c.key_authorization(ch["token"]).encode()).digest()))
    try:
        route = f"SSLOrdersDCVConnectTo {d}:443 127.0.0.1:{srv.port}\n"
        with second_server(env, "acme-alpn", extra=route) as h:
            b = Acme(h.url + "/acme/directory", c.key)
            b.kid = c.kid.replace(env.httpd.url, h.url)
            r = b.post(ch["url"].replace(env.httpd.url, h.url), {}).json()
            return r, srv.hits, b.get(url.replace(env.httpd.url, h.url))["status"]
    finally:
        srv.close()


def test_tls_alpn01(env, api):
    r, hits, status = alpn_challenge(env, api, lambda digest: digest)
    assert r["status"] == "valid", r
    assert hits >= 1 and status == "ready"


def test_tls_alpn01_wrong_certificate(env, api):
    r, _, status = alpn_challenge(env, api, lambda digest: b"\x00" * 32)
    assert r["status"] == "invalid" and r["error"]["type"].endswith("incorrectResponse"), r
    assert status == "invalid"


def test_issuance_writes_webhook_event_of_team(env, api):
    """A team with a webhook endpoint, an account registered without contact: the ACME
    issuance writes the order.issued event with the order in it (the order's folders and
    tags read for the team of the order: the request has no user; found by the cluster
    test, a child crashed)."""
    st, ans = api.post("/webhooks", json={"url": f"http://127.0.0.1:{harness.free_port()}/h",
                                          "events": ["*"], "description": "acme"})
    assert st == 200, ans
    wid = ans["data"]["id"]
    d = dom()
    st, ans = api.post("/ssl/orders", json={"product_id": DV, "period": 1, "csr": pki.csr(d, []),
                                            "domain_validation_methods": [{"host_name": d,
                                                                           "method": "http"}]})
    assert st == 200, ans
    oid = ans["data"]["id"]
    e = eab(api, oid)
    c = Acme(directory(env), Key())
    c.register(e["kid"], e["hmac_key"])
    url, order = c.new_order([d])
    for a in order["authorizations"]:
        assert http01(env, c, c.get(a))["status"] == "valid"
    done, _ = c.finalize(c.get(url), [d])
    assert done["status"] == "valid", done
    openssl_ok(env, api, oid, c.certificate(done["certificate"]).text)
    # the event is written with the order in it (delivered or not: nobody listens there)
    st, wh = api.get(f"/webhooks/{wid}/deliveries")
    assert st == 200 and "order.issued" in json.dumps(wh), wh
    # nobody listens there: a later test that moves the clock on would see the endpoint
    # disabled after its failed deliveries (SO00601)
    assert api.delete(f"/webhooks/{wid}")[0] == 200
