"""Metrics: the sslorders-metrics handler (Prometheus text format, parsed with
prometheus_client's parser), counted across every httpd process, restricted by Require;
the mod_status section; the DBDMax warning."""
import re
import sqlite3
import threading
import time
import uuid

import requests
from prometheus_client.parser import text_string_to_metric_families

from harness import DB, Httpd


def scrape(server):
    """A fresh connection each time: any child may answer."""
    r = requests.get(server.url + "/metrics", headers={"Connection": "close"}, timeout=10)
    assert r.status_code == 200, r.text[:300]
    assert r.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    return {f.name: f for f in text_string_to_metric_families(r.text)}


def sample(fams, family, name=None, **labels):
    """The value of one series (0 when it does not exist yet)."""
    f = fams.get(family)
    for s in (f.samples if f else []):
        if s.name == (name or family) and all(s.labels.get(k) == v for k, v in labels.items()):
            return s.value
    return 0


def check_histograms(fams):
    """Cumulative buckets never go down, +Inf equals the count, the sum is not negative."""
    n = 0
    for f in fams.values():
        if f.type != "histogram":
            continue
        series = {}
        for s in f.samples:
            key = tuple(sorted((k, v) for k, v in s.labels.items() if k != "le"))
            series.setdefault(key, {"buckets": [], "count": None, "sum": None})
            if s.name.endswith("_bucket"):
                series[key]["buckets"].append((float(s.labels["le"]), s.value))
            elif s.name.endswith("_count"):
                series[key]["count"] = s.value
            elif s.name.endswith("_sum"):
                series[key]["sum"] = s.value
        for key, v in series.items():
            les = [le for le, _ in v["buckets"]]
            assert les == sorted(les) and les[-1] == float("inf"), (f.name, key, les)
            values = [c for _, c in v["buckets"]]
            assert values == sorted(values), (f.name, key, values)
            assert values[-1] == v["count"], (f.name, key)
            assert v["sum"] is not None and v["sum"] >= 0
            n += 1
    return n


def test_metrics_count_requests_of_every_process(env, team):
    api = team.client()
    env.ctl("balance", "credit", team.slug, "1000")
    assert len(env.httpd.child_pids()) >= 2
    before = scrape(env.httpd)
    me0 = sample(before, "sslorders_http_requests", "sslorders_http_requests_total",
                 route="GET /me", status="200")
    denied0 = sample(before, "sslorders_http_requests", "sslorders_http_requests_total",
                     route="GET /me", status="401")
    hits0 = sample(before, "sslorders_cache_hits", "sslorders_cache_hits_total", cache="list")
    miss0 = sample(before, "sslorders_cache_misses", "sslorders_cache_misses_total", cache="list")
    acq0 = sample(before, "sslorders_db_acquired", "sslorders_db_acquired_total")
    n = 30
    for _ in range(n):
        # new connections: the requests spread over the children
        r = requests.get(env.httpd.api + "/me", timeout=10, headers={
            "Authorization": f"Bearer {team.token}", "Connection": "close"})
        assert r.status_code == 200
    assert requests.get(env.httpd.api + "/me", timeout=10).status_code == 401
    st, body = api.post("/ssl/orders", json={"product_id": 1, "period": 1})
    assert st == 200, body
    for _ in range(3):
        assert api.get("/ssl/orders", params={"limit": 10})[0] == 200
    # every scrape, whichever child answers it, sees all of them
    for _ in range(8):
        after = scrape(env.httpd)
        assert sample(after, "sslorders_http_requests", "sslorders_http_requests_total",
                      route="GET /me", status="200") >= me0 + n
        assert sample(after, "sslorders_http_requests", "sslorders_http_requests_total",
                      route="GET /me", status="401") >= denied0 + 1
        assert sample(after, "sslorders_http_requests", "sslorders_http_requests_total",
                      route="POST /ssl/orders", status="200") >= 1
        assert sample(after, "sslorders_db_acquired", "sslorders_db_acquired_total") >= acq0 + n
    # the first list page is built, the next ones come from a process cache (the same
    # process answers the same keep-alive connection)
    assert sample(after, "sslorders_cache_misses", "sslorders_cache_misses_total", cache="list") >= miss0 + 1
    assert sample(after, "sslorders_cache_hits", "sslorders_cache_hits_total", cache="list") >= hits0 + 2
    # latency histogram of /me holds every request counted
    count = sample(after, "sslorders_http_request_duration_seconds",
                   "sslorders_http_request_duration_seconds_count", route="GET /me")
    assert count >= me0 + n + 1
    assert check_histograms(after) >= 3
    assert after["sslorders_db_connections_in_use"].type == "gauge"
    assert sample(after, "sslorders_db_connections_in_use") >= 0
    for fam in ("sslorders_validations", "sslorders_issuances", "sslorders_job_runs",
                "sslorders_job_queue", "sslorders_job_lag_seconds", "sslorders_db_busy_waits"):
        assert fam in after, fam


def test_a_crowd_asking_for_one_new_list_page_builds_it_once_per_process(env):
    """24 requests at once for a list page nobody asked for yet: each process builds it
    once (single flight in the page cache) and its other requests wait for that page,
    instead of each request building it."""
    team = env.new_team(balance="100000")
    api = team.client()
    for _ in range(150):  # a page of 100 orders takes a while to build
        st, body = api.post("/ssl/orders", json={"product_id": 1, "period": 1})
        assert st == 200, body
    before = scrape(env.httpd)
    hits0 = sample(before, "sslorders_cache_hits", "sslorders_cache_hits_total", cache="list")
    miss0 = sample(before, "sslorders_cache_misses", "sslorders_cache_misses_total", cache="list")
    n = 24
    go = threading.Barrier(n)
    answers = [None] * n

    def ask(i):
        go.wait()
        r = requests.get(env.httpd.api + "/ssl/orders", params={"limit": 100, "status": "PAI"},
                         headers={"Authorization": f"Bearer {team.token}", "Connection": "close"},
                         timeout=30)
        answers[i] = (r.status_code, r.text)

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(a is not None and a[0] == 200 for a in answers), [a and a[0] for a in answers]
    assert len({a[1] for a in answers}) == 1  # one page, the same for everyone
    assert '"total":150' in answers[0][1].replace(" ", "")
    after = scrape(env.httpd)
    # at most ServerLimit (4) children: a loaded machine may start a third or a fourth one
    # during the crowd (and stop it again)
    built = sample(after, "sslorders_cache_misses", "sslorders_cache_misses_total", cache="list") - miss0
    served = sample(after, "sslorders_cache_hits", "sslorders_cache_hits_total", cache="list") - hits0
    assert 1 <= built <= 4, (built, len(env.httpd.child_pids()))
    assert built + served == n, (built, served)


def test_metrics_follow_jobs_and_seals(env):
    import issuing
    team = env.new_team(balance="1000")
    api = team.client()
    before = scrape(env.httpd)
    oid, o = issuing.issued(env, api)
    env.run_jobs()
    s = api.get(f"/ssl/orders/{oid}/seal")[1]["data"]
    for _ in range(3):
        assert requests.get(s["script_url"], timeout=10).status_code == 200
    after = scrape(env.httpd)
    assert sample(after, "sslorders_issuances", "sslorders_issuances_total", result="issued") >= \
        sample(before, "sslorders_issuances", "sslorders_issuances_total", result="issued") + 1
    assert sample(after, "sslorders_validations", "sslorders_validations_total", result="valid") >= \
        sample(before, "sslorders_validations", "sslorders_validations_total", result="valid") + 1
    assert sample(after, "sslorders_job_runs", "sslorders_job_runs_total") >= \
        sample(before, "sslorders_job_runs", "sslorders_job_runs_total") + 1
    assert sample(after, "sslorders_job_last_run_timestamp_seconds") > 0
    assert sample(after, "sslorders_job_lag_seconds") >= 0
    seal = sample(after, "sslorders_cache_hits", "sslorders_cache_hits_total", cache="seal") + \
        sample(after, "sslorders_cache_misses", "sslorders_cache_misses_total", cache="seal")
    seal0 = sample(before, "sslorders_cache_hits", "sslorders_cache_hits_total", cache="seal") + \
        sample(before, "sslorders_cache_misses", "sslorders_cache_misses_total", cache="seal")
    assert seal >= seal0 + 3
    assert check_histograms(after) >= 1


def test_mod_status_section(env, team):
    requests.get(env.httpd.api + "/me", headers={"Authorization": f"Bearer {team.token}"})
    r = requests.get(env.httpd.url + "/server-status?auto", timeout=10)
    assert r.status_code == 200
    lines = dict(l.split(": ", 1) for l in r.text.splitlines() if ": " in l)
    assert int(lines["SSLOrdersRequests"]) >= 1
    assert int(lines["SSLOrders5xx"]) >= 0 and "SSLOrdersDBConnectionsInUse" in lines
    r = requests.get(env.httpd.url + "/server-status", timeout=10)
    assert r.status_code == 200 and "<h2>mod_sslorders</h2>" in r.text


def test_metrics_restricted_and_pool_warning(env):
    """Require applies as anywhere; DBDMax below ThreadsPerChild is announced at start."""
    h = Httpd(env.base, DB, env.db_params, name="metrics-" + uuid.uuid4().hex[:6], extra=(
        "<Location /private-metrics>\n SetHandler sslorders-metrics\n Require all denied\n"
        "</Location>\nDBDMax 5\n"))
    h.ca_dir = env.httpd.ca_dir
    env.servers.append(h)
    env.expect_log(r"SO00701")
    try:
        h.start()
        assert requests.get(h.url + "/private-metrics", timeout=10).status_code == 403
        r = requests.post(h.url + "/metrics", timeout=10)
        assert r.status_code == 405
        assert requests.get(h.url + "/metrics", timeout=10).status_code == 200
        assert "SO00701" in h.read_log() and "DBDMax 5 is below ThreadsPerChild 25" in h.read_log()
    finally:
        h.stop()
        env.servers.remove(h)


def test_sqlite_lock_waits_are_short_polls(env, team):
    """SQLite: a writer waiting for another process's write lock waits in our busy handler
    (counted), and gets through as soon as the lock is gone."""
    if DB != "sqlite3":
        return
    api = team.client()
    env.ctl("balance", "credit", team.slug, "100")
    before = scrape(env.httpd)
    con = sqlite3.connect(env.db_params, timeout=5, isolation_level=None)
    con.execute("BEGIN IMMEDIATE")
    out = {}

    def create():
        out["answer"] = api.post("/ssl/orders", json={"product_id": 1, "period": 1})
    t = threading.Thread(target=create)
    t.start()
    time.sleep(0.4)
    con.execute("ROLLBACK")
    con.close()
    t.join(30)
    st, body = out["answer"]
    assert st == 200, body
    after = scrape(env.httpd)
    assert sample(after, "sslorders_db_busy_waits", "sslorders_db_busy_waits_total") >= \
        sample(before, "sslorders_db_busy_waits", "sslorders_db_busy_waits_total") + 1
    assert sample(after, "sslorders_db_busy_wait_seconds", "sslorders_db_busy_wait_seconds_total") > \
        sample(before, "sslorders_db_busy_wait_seconds", "sslorders_db_busy_wait_seconds_total")


def _side_server(env, extra, params=None):
    h = Httpd(env.base, DB, params or env.db_params, name="warm-" + uuid.uuid4().hex[:6],
              extra=extra)
    h.ca_dir = env.httpd.ca_dir
    env.servers.append(h)
    return h


def _burst(h, token, n=20, rounds=3):
    """n requests at the same time, each on its own connection, rounds times."""
    codes = []

    def one():
        r = requests.get(h.api + "/me", headers={"Authorization": f"Bearer {token}",
                                                 "Connection": "close"}, timeout=30)
        codes.append(r.status_code)
    for _ in range(rounds):
        ts = [threading.Thread(target=one) for _ in range(n)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
    assert codes == [200] * (n * rounds), codes


def test_child_opens_its_connections_before_requests(env, team):
    """SSLOrdersDBWarm: a child opens its connections before it takes requests (mod_dbd opens
    connections one at a time under its pool's lock, so opening them on demand made the
    first requests wait behind each other). A burst of requests then opens none; with
    SSLOrdersDBWarm off the same burst does. Each connection opened at the start has run the
    hot statements once (a fresh PostgreSQL backend's first run of each took 80-100 ms under
    the first load), so the burst prepares fewer statements than the unwarmed one. A
    DBDExptime that would close them is announced."""
    # PostgreSQL warms by default (auto: min(ThreadsPerChild, DBDMax - 1)); SQLite only when asked
    warm = "" if DB == "pgsql" else "SSLOrdersDBWarm 25\n"
    # (both servers look every request's token up: SSLOrdersAuthCache off)
    h = _side_server(env, warm + "DBDExptime 300\nSSLOrdersAuthCache off\n")
    try:
        h.start()
        # the MPM's other child may still be opening its connections: until its line is out.
        # The log first: a child's line follows its counts, so counters scraped after the
        # lines are complete for those children (scraped before, the last statement of a
        # child that logged in between could be missing)
        deadline = time.time() + 20
        while True:
            log = h.read_log()
            before = scrape(h)
            if opened(before, "start") <= 25 * log.count("SO00971") or time.time() > deadline:
                break
            time.sleep(0.2)
        _burst(h, team.token)
        after = scrape(h)
        log = h.read_log()
        children = log.count("SO00971")
        assert children >= 1 and log.count("opened 25 of 25 database connections") == children, log
        # so_store_warm's 8 statements, each run once on each connection the warm-up opened
        # (one may be the background job's, opened before), none failed
        warmed = re.findall(r"opened 25 of 25 database connections of this child in \d+ ms; "
                            r"(\d+) hot statements run once on the (\d+) of them", log)
        assert len(warmed) == children, log
        assert all(int(n) == 8 * int(c) and int(c) >= 24 for n, c in warmed), warmed
        assert "SO00981" not in log
        assert prepared(before) >= 8 * opened(before, "start")
        warm_burst = prepared(after) - prepared(before)
        # the background job may have opened one before a child's warm-up took over
        assert 24 * children <= opened(after, "start") <= 25 * children
        assert opened(after, "demand") == opened(before, "demand")
        assert "SO00972" in log and "DBDExptime 300: the 25 connections" in log
    finally:
        h.stop()
        env.servers.remove(h)

    h = _side_server(env, "SSLOrdersDBWarm off\nSSLOrdersAuthCache off\n")
    try:
        h.start()
        before = scrape(h)
        _burst(h, team.token)
        after = scrape(h)
        assert "SO00971" not in h.read_log() and "SO00972" not in h.read_log()
        assert opened(after, "start") == 0
        assert opened(after, "demand") > opened(before, "demand")
        # each connection a request opened prepared at least the token lookup at its first use
        cold_burst = prepared(after) - prepared(before)
        assert cold_burst >= opened(after, "demand") - opened(before, "demand")
        assert warm_burst < cold_burst, (warm_burst, cold_burst)
    finally:
        h.stop()
        env.servers.remove(h)


def prepared(fams):
    return sample(fams, "sslorders_db_statements_prepared", "sslorders_db_statements_prepared_total")


def opened(fams, when):
    return sample(fams, "sslorders_db_connections_opened", "sslorders_db_connections_opened_total",
                  when=when)


def test_child_start_without_database_is_quiet(env):
    """PostgreSQL away when a child starts: the warm-up is skipped with one info line, and
    mod_dbd logs nothing until a request needs the database."""
    if DB != "pgsql":
        return
    from harness import free_port
    params = env.db_params.replace(f"port={env.pg.port}", f"port={free_port()}")
    assert params != env.db_params
    env.expect_log(r"SO00022")  # the startup migration cannot reach it either
    h = _side_server(env, "", params=params)
    try:
        h.start()
        log = h.read_log()
        assert "SO00973" in log and "SO00971" not in log, log
        assert "Can't connect" not in log and "AH00633" not in log, log
    finally:
        h.stop()
        env.servers.remove(h)


def test_a_list_page_sends_its_lookups_in_one_round_trip(env):
    """An order list page built from the database: on PostgreSQL its orders' names,
    certificates, folders, tags and renewals go to the database together (pipelines of at
    most 16 statements), counted by sslorders_db_pipelined_total; on SQLite there is none.
    Either way the page holds what they found, past the first 60 ids (SQLite's IN batch;
    PostgreSQL binds all ids as one array) too."""
    team = env.new_team(balance="100000")
    api = team.client()
    ids = []
    for _ in range(200):
        st, body = api.post("/ssl/orders", json={"product_id": 1, "period": 1})
        assert st == 200, body
        ids.append(body["data"]["id"])
    for oid in (ids[1], ids[190]):
        assert api.post(f"/ssl/orders/{oid}/tags", json={"tags": ["web", "prod"]})[0] == 200

    def pipelined(fams, what):
        return sample(fams, "sslorders_db_pipelined", "sslorders_db_pipelined_total", what=what)

    # (no renewal links in the team: their two lookups are skipped)
    for limit, least in ((10, 5), (1000, 4)):
        before = scrape(env.httpd)
        st, body = api.get("/ssl/orders", params={"limit": limit})  # not asked before: built
        assert st == 200, body
        after = scrape(env.httpd)
        page = {o["id"]: o for o in body["data"]["results"]}
        assert len(page) == limit if limit < 200 else sorted(page) == sorted(ids)
        assert body["data"]["total"] == 200
        tagged = {oid for oid, o in page.items() if o["tags"]}
        assert tagged == {ids[1], ids[190]} & set(page), tagged
        assert all(page[oid]["tags"] == ["prod", "web"] for oid in tagged)
        assert all(o["folder_name"] == "default" and o["renewed_by"] is None
                   and o["certificate_id"] is None for o in page.values())
        batches = pipelined(after, "batches") - pipelined(before, "batches")
        statements = pipelined(after, "statements") - pipelined(before, "statements")
        if DB == "pgsql":
            # 10: the count, names, folders and the two tag lookups (no certificate yet);
            # 200 (no count): the same but the count, each statement with all 200 ids in one
            # array.
            # A webhook delivery meanwhile may add a batch of its own.
            assert batches >= 1 and statements >= least, (batches, statements)
        else:
            assert batches == 0 and statements == 0, (batches, statements)

def test_a_list_page_skips_what_the_team_has_none_of(env):
    """The credential of an order list page says whether the team has any tags and any
    renewal links: a page of a team without skips those lookups (two statements each on
    PostgreSQL), and shows them as soon as there are some."""
    h = env.server("viewflags", "SSLOrdersListCache off\nSSLOrdersAuthCache off\n")
    try:
        t = env.new_team(balance="1000")
        api = t.client(h)
        a, b, c = (api.post("/ssl/orders", json={"product_id": 1, "period": 1})[1]["data"]["id"]
                   for _ in range(3))
        time.sleep(1)  # (the server's first background pass)

        def statements(fams):
            return sample(fams, "sslorders_db_pipelined", "sslorders_db_pipelined_total",
                          what="statements")

        def page():
            before = scrape(h)
            st, body = api.get("/ssl/orders", params={"limit": 10})
            assert st == 200, body
            return ({o["id"]: o for o in body["data"]["results"]},
                    statements(scrape(h)) - statements(before))

        rows, s0 = page()
        assert all(o["tags"] == [] and o["renewed_by"] is None and o["renewal_of"] is None
                   for o in rows.values())
        assert api.post(f"/ssl/orders/{a}/tags", json={"tags": ["web"]})[0] == 200
        rows, s1 = page()
        assert rows[a]["tags"] == ["web"] and rows[b]["tags"] == []
        tid = env.sql(f"SELECT id FROM teams WHERE slug = '{t.slug}'").strip()
        env.sql("INSERT INTO order_renewals (renewal_id, renewed_id, team_id, created_at) "
                f"VALUES ({c}, {b}, {tid}, 1)")
        rows, s2 = page()
        assert rows[b]["renewed_by"] == {"id": c, "status": rows[c]["status"]}, rows[b]
        assert rows[c]["renewal_of"] == b
        if DB == "pgsql":
            assert (s1 - s0, s2 - s1) == (2, 2), (s0, s1, s2)
        else:
            assert (s0, s1, s2) == (0, 0, 0)
    finally:
        env.stop_server(h)

