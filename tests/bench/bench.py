"""make bench: throughput of API endpoints relative to httpd serving a static file of the
same body size from the same server, in the same run, plus latencies and memory.

Bounded: every wrk run is limited in time (BENCH_SECONDS, default 5) and connections;
everything listens on 127.0.0.1. Results are printed and written to
tests/bench/results/<scenario>.json. Nothing here is asserted: the figures go into the
issue notes.

  BENCH_DB=sqlite3|pgsql    database (default sqlite3)
  BENCH_SECONDS=5           seconds per wrk run
  BENCH_ONLY=auth,...       scenarios to run (default: all)
  BENCH_EXTRA_CONF=...      configuration lines for the server ("\n" separates lines)


  ACME_ACCOUNTS=16          concurrent ACME accounts (scenario acme)
  ACME_SECONDS=10           seconds of the ACME runs (at least BENCH_SECONDS)
  COLD_IDLE_SECONDS=0       scenario cold: load after that long idle (one start) instead of
                            right after a start of each
"""
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
os.environ.setdefault("SO_DB", os.environ.get("BENCH_DB", "sqlite3"))

import requests  # noqa: E402

import harness  # noqa: E402

SECONDS = int(os.environ.get("BENCH_SECONDS", "5"))
CONNS = int(os.environ.get("BENCH_CONNECTIONS", "16"))
THREADS = 2
RESULTS = os.path.join(HERE, "results")
SCENARIOS = {}


# SSLOrdersAuthCache is on (5 s) by default on PostgreSQL and off on SQLite: the
# scenarios that measure it run as configured and again with the other setting
AUTHCACHE_OTHER = "SSLOrdersAuthCache off" if harness.DB == "pgsql" else "SSLOrdersAuthCache 5"


def scenario(fn):
    SCENARIOS[fn.__name__] = fn
    return fn


LUA_HEADERS = """
wrk.headers["Authorization"] = "Bearer %(token)s"
%(extra)s
"""

LUA_LIMIT = """
local count = 0
local limit = %(limit)d
response = function(status, headers, body)
  count = count + 1
  if status ~= 200 then errors_seen = (errors_seen or 0) + 1 end
  if count >= limit then wrk.thread:stop() end
end
"""


def wrk(url, token=None, seconds=SECONDS, conns=CONNS, limit=None, lua_extra="", latency=True):
    script = ""
    if token:
        script += LUA_HEADERS % {"token": token, "extra": lua_extra}
    elif lua_extra:
        script += lua_extra
    if limit:
        script += LUA_LIMIT % {"limit": limit // THREADS}
    args = ["wrk", "-t", str(THREADS), "-c", str(conns), "-d", f"{seconds}s"]
    if latency:
        args.append("--latency")
    path = None
    if script:
        fd, path = tempfile.mkstemp(suffix=".lua")
        with os.fdopen(fd, "w") as f:
            f.write(script)
        args += ["-s", path]
    out = subprocess.run(args + [url], capture_output=True, text=True).stdout
    if path:
        os.unlink(path)
    return parse_wrk(out)


def _ms(v, unit):
    return float(v) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def parse_wrk(out):
    res = {"raw": out}
    m = re.search(r"Requests/sec:\s+([\d.]+)", out)
    res["rps"] = float(m.group(1)) if m else 0.0
    m = re.search(r"(\d+) requests in", out)
    res["requests"] = int(m.group(1)) if m else 0
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    res["non2xx"] = int(m.group(1)) if m else 0
    m = re.search(r"Socket errors: (.*)", out)
    res["socket_errors"] = m.group(1) if m else ""
    for pct in ("50", "99"):
        m = re.search(rf"\s{pct}%\s+([\d.]+)(us|ms|s)", out)
        res[f"p{pct}_ms"] = _ms(m.group(1), m.group(2)) if m else None
    return res


def rss_kib(pids):
    total = {}
    for pid in pids:
        try:
            with open(f"/proc/{pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total[pid] = int(line.split()[1])
        except OSError:
            pass
    return total


def static_twin(server, size, name):
    """A static file of exactly size bytes in the server's document root."""
    path = os.path.join(server.dir, "htdocs", name)
    with open(path, "w") as f:
        f.write(("{" + "x" * max(0, size - 2) + "}")[:size])
    return server.url + "/" + name


def report(name, rows, extra=None):
    os.makedirs(RESULTS, exist_ok=True)
    print(f"\n== {name} ({harness.DB}, {SECONDS}s per run, {CONNS} connections)")
    for r in rows:
        print("  " + r)
    data = {"db": harness.DB, "seconds": SECONDS, "connections": CONNS, "rows": rows}
    if extra:
        data.update(extra)
    with open(os.path.join(RESULTS, f"{name}-{harness.DB}.json"), "w") as f:
        json.dump(data, f, indent=2)


def list_cache_hits(httpd):
    """The list page cache's hits so far, over every child (the metrics handler)."""
    r = requests.get(httpd.url + "/metrics", headers={"Connection": "close"}, timeout=10)
    m = re.search(r'^sslorders_cache_hits_total\{cache="list"\} (\S+)$', r.text, re.M)
    return float(m.group(1)) if m else 0.0


def list_changes(env):
    """Writes that changed some team's order list version so far (every team's)."""
    if harness.DB == "pgsql":
        q = "SELECT n_tup_ins FROM pg_stat_user_tables WHERE relname = 'team_change_log'"
    else:
        q = "SELECT COALESCE(SUM(version), 0) FROM team_versions"
    return int(env.sql(q).strip() or 0)


def unpaid_since(env, first, where="TRUE"):
    """Orders after id first (and where) that have no charge in the ledger."""
    return int(env.sql(f"SELECT COUNT(*) FROM orders o WHERE o.id > {first} AND {where} AND NOT "
                       f"EXISTS (SELECT 1 FROM ledger l WHERE l.order_id = o.id AND l.kind = "
                       f"'charge')").strip())


def ratio_row(label, api, static):
    ratio = api["rps"] / static["rps"] if static["rps"] else 0.0
    return (f"{label}: {api['rps']:.0f} req/s vs static {static['rps']:.0f} req/s = "
            f"ratio {ratio:.2f}; p50 {api['p50_ms']} ms, p99 {api['p99_ms']} ms; "
            f"non-2xx {api['non2xx']}")


def authcache_me(env, team, size):
    """GET /me on a second httpd of the same database with the other SSLOrdersAuthCache
    setting (AUTHCACHE_OTHER), against a static file of the same size on that httpd."""
    h = harness.Httpd(env.base, harness.DB, env.db_params, name="bench-authcache", dcv=env.dcv,
                      extra=AUTHCACHE_OTHER + "\n", log_level="error")
    h.ca_dir = env.httpd.ca_dir
    h.sinks = False
    h.start()
    try:
        url_static = static_twin(h, size, f"bench-me-{size}.json")
        wrk(url_static, seconds=1, latency=False)
        wrk(h.api + "/me", token=team.token, seconds=1, latency=False)
        static = wrk(url_static)
        api = wrk(h.api + "/me", token=team.token)
        assert api["non2xx"] == 0
        return {"api": api, "static": static}
    finally:
        h.stop()


@scenario
def auth(env):
    """GET /me with a bearer token against a static file of the same size; login
    latency; RSS of the children before and after 100,000 authenticated requests."""
    team = env.new_team()
    c = team.client()
    r = requests.get(env.httpd.api + "/me", headers={"Authorization": f"Bearer {team.token}"})
    assert r.status_code == 200, r.text
    size = len(r.content)
    url_static = static_twin(env.httpd, size, f"bench-me-{size}.json")
    # warm up both
    wrk(url_static, seconds=1, latency=False)
    wrk(env.httpd.api + "/me", token=team.token, seconds=1, latency=False)
    static = wrk(url_static)
    api = wrk(env.httpd.api + "/me", token=team.token)
    static2 = wrk(url_static)
    rows = [ratio_row("GET /v1beta/me", api, static),
            f"static file ({size} bytes) second run: {static2['rps']:.0f} req/s"]
    cached = authcache_me(env, team, size)
    rows.append(ratio_row(f"GET /v1beta/me, {AUTHCACHE_OTHER} (another httpd, same database)",
                          cached["api"], cached["static"]))
    # login latency, sequential, one client
    times = []
    s = requests.Session()
    for _ in range(30):
        t0 = time.perf_counter()
        st = s.post(env.httpd.api + "/auth/login",
                    json={"username": team.username, "password": team.password}).status_code
        times.append((time.perf_counter() - t0) * 1000)
        assert st == 200
    rows.append(f"POST /auth/login sequential: p50 {statistics.median(times):.1f} ms, "
                f"max {max(times):.1f} ms over {len(times)}")
    conc = wrk(env.httpd.api + "/auth/login", seconds=SECONDS, conns=4, latency=True,
               lua_extra='wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n'
               'wrk.body = \'{"username":"%s","password":"%s"}\'\n' % (team.username, team.password))
    rows.append(f"POST /auth/login, 4 concurrent clients: {conc['rps']:.1f} logins/s, "
                f"p50 {conc['p50_ms']} ms, p99 {conc['p99_ms']} ms, non-2xx {conc['non2xx']}")
    # memory: logins (scrypt needs 16 MiB each) must not stay resident
    pids = env.httpd.child_pids()
    rows.append("RSS of the children after the logins: " +
                ", ".join(f"pid {p}: {v} KiB" for p, v in rss_kib(pids).items()))
    # the same load once first: the children open their database connections (each with
    # its page cache and the mapped database file) under it; what grows after that stays
    wrk(env.httpd.api + "/me", token=team.token, seconds=3, latency=False)
    pids = env.httpd.child_pids()
    before = rss_kib(pids)
    n = 100000
    t0 = time.time()
    # wrk stops each thread at its share of n but waits out the duration: size it
    secs = int(n / max(api["rps"], 1000) * 1.3) + 2
    run = wrk(env.httpd.api + "/me", token=team.token, seconds=secs, limit=n, latency=False)
    after = rss_kib(pids)
    grow = {pid: after.get(pid, 0) - before.get(pid, 0) for pid in before}
    rows.append(f"RSS of the children before/after {run['requests']} requests "
                f"({time.time() - t0:.1f}s): " +
                ", ".join(f"pid {p}: {before[p]} -> {after.get(p, 0)} KiB ({grow[p]:+d})"
                          for p in before))
    report("auth", rows, {"ratio_me": api["rps"] / static["rps"] if static["rps"] else 0,
                          "other": AUTHCACHE_OTHER,
                          "ratio_me_other": cached["api"]["rps"] / cached["static"]["rps"]
                          if cached["static"]["rps"] else 0,
                          "login_p50_ms": statistics.median(times),
                          "rss_growth_kib": grow})


@scenario
def orders(env):
    """100,000 orders over 100 teams: a filtered, sorted page of 25 and a
    common_name_pattern search against static files of the same size, with the page
    cache and without it; then order creation under 16 concurrent clients
    (every charge must be in the ledger)."""
    n_orders = int(os.environ.get("BENCH_ORDERS", "100000"))
    t0 = time.time()
    env.ctl("seed", "orders", "--teams", "100", "--orders", str(n_orders))
    seed_s = time.time() - t0
    user = env.new_user()
    env.ctl("member", "add", "bench-1", user[0], "owner")
    token = env.ctl("token", "create", "bench-1", user[0]).stdout.strip()
    env.ctl("balance", "credit", "bench-1", "10000000")
    rows = [f"seeded {n_orders} orders over 100 teams in {seed_s:.1f}s"]
    api = env.httpd.api
    queries = {
        "page of 25, status=ACT, order_by.expiration_date=asc":
            "/ssl/orders?status=ACT&order_by.expiration_date=asc&limit=25",
        "common_name_pattern=host1*.customer1*, 25":
            "/ssl/orders?common_name_pattern=host1*.customer1*&limit=25",
    }
    extra = {}

    def lists(mode):
        for label, path in queries.items():
            r = requests.get(api + path, headers={"Authorization": f"Bearer {token}"})
            assert r.status_code == 200 and r.json()["data"]["total"] > 0, r.text[:300]
            size = len(r.content)
            url_static = static_twin(env.httpd, size, f"bench-list-{size}.json")
            wrk(url_static, seconds=1, latency=False)
            wrk(api + path, token=token, seconds=1, latency=False)
            static = wrk(url_static)
            hits0, changes0 = list_cache_hits(env.httpd), list_changes(env)
            res = wrk(api + path, token=token)
            hits = list_cache_hits(env.httpd) - hits0
            rows.append(ratio_row(f"GET {label} ({size} bytes, total "
                                  f"{r.json()['data']['total']}), {mode}", res, static)
                        + f"; from the page cache {hits:.0f} of {res['requests']}, order "
                        f"list changes meanwhile {list_changes(env) - changes0}")
            extra[f"{label}, {mode}"] = {
                "ratio": res["rps"] / static["rps"] if static["rps"] else 0,
                "p50_ms": res["p50_ms"], "p99_ms": res["p99_ms"]}

    # as configured (a page asked again comes from the page cache) ...
    time.sleep(2)  # PostgreSQL: the seed's change log folded (every second)
    lists("page cache on")
    # ... and every page built from the database
    conf = env.httpd.extra
    env.httpd.extra = conf + "\nSSLOrdersListCache off\n"
    env.httpd.stop()
    env.httpd.start()
    lists("page cache off")
    # ... and both with the other token cache setting (on PostgreSQL, whose default caches
    # the token lookups: each page with its round trip to the database)
    env.httpd.extra = conf + f"\n{AUTHCACHE_OTHER}\n"
    env.httpd.stop()
    env.httpd.start()
    lists(f"page cache on, {AUTHCACHE_OTHER}")
    env.httpd.extra = conf + f"\n{AUTHCACHE_OTHER}\nSSLOrdersListCache off\n"
    env.httpd.stop()
    env.httpd.start()
    lists(f"page cache off, {AUTHCACHE_OTHER}")
    env.httpd.extra = conf
    env.httpd.stop()
    env.httpd.start()
    # creating orders: 16 clients
    tid = env.sql("SELECT id FROM teams WHERE slug = 'bench-1'").strip()
    before = int(env.sql(f"SELECT COUNT(*) FROM orders WHERE team_id = {tid}").strip())
    first = int(env.sql("SELECT COALESCE(MAX(id), 0) FROM orders").strip())
    lua = ('wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n'
           'wrk.body = \'{"product_id":1,"period":1}\'\n')
    res = wrk(api + "/ssl/orders", token=token, conns=16, lua_extra=lua)
    time.sleep(2)  # requests wrk left in flight still commit
    after = int(env.sql(f"SELECT COUNT(*) FROM orders WHERE team_id = {tid}").strip())
    charges = int(env.sql(f"SELECT COUNT(*) FROM ledger WHERE team_id = {tid} AND kind = 'charge'").strip())
    # every new order has its charge, and every charge its order
    unpaid = unpaid_since(env, first, f"o.team_id = {tid}")
    orphans = int(env.sql(f"SELECT COUNT(*) FROM ledger l WHERE l.team_id = {tid} AND l.kind = "
                          f"'charge' AND NOT EXISTS (SELECT 1 FROM orders o WHERE o.id = "
                          f"l.order_id)").strip())
    rows.append(f"POST /ssl/orders, 16 clients: {res['rps']:.0f} orders/s, p50 {res['p50_ms']} ms, "
                f"p99 {res['p99_ms']} ms, non-2xx {res['non2xx']}, socket errors "
                f"'{res['socket_errors']}'; orders created {after - before}, charges in the "
                f"ledger {charges}, orders without a charge {unpaid}, charges without an "
                f"order {orphans}")
    extra["create"] = {"rps": res["rps"], "non2xx": res["non2xx"], "created": after - before,
                       "charges": charges, "unpaid": unpaid, "orphans": orphans}
    # the same over 16 teams (a charge waits only for its own team's balance row)
    slugs = [f"bench-{i}" for i in range(1, 17)]
    tokens = []
    for slug in slugs:
        if slug != "bench-1":
            env.ctl("member", "add", slug, user[0], "owner")
            env.ctl("balance", "credit", slug, "10000000")
        tokens.append(env.ctl("token", "create", slug, user[0]).stdout.strip())
    ids = ",".join(env.sql(f"SELECT id FROM teams WHERE slug IN "
                           f"({','.join(repr(x) for x in slugs)})").split())
    first = int(env.sql("SELECT COALESCE(MAX(id), 0) FROM orders").strip())
    lua = ("local toks = {%s}\nlocal i = 0\nrequest = function()\n  i = i + 1\n"
           "  return wrk.format(\"POST\", nil, {[\"Content-Type\"] = \"application/json\", "
           "[\"Authorization\"] = \"Bearer \" .. toks[(i %% #toks) + 1]}, "
           "'{\"product_id\":1,\"period\":1}')\nend\n") % ",".join(f'"{t}"' for t in tokens)
    res = wrk(api + "/ssl/orders", conns=16, lua_extra=lua)
    time.sleep(2)
    created = int(env.sql(f"SELECT COUNT(*) FROM orders WHERE id > {first}").strip())
    unpaid = unpaid_since(env, first)
    drift = int(env.sql(f"SELECT COUNT(*) FROM team_balances b WHERE b.team_id IN ({ids}) AND "
                        f"b.balance <> (SELECT COALESCE(SUM(amount), 0) FROM ledger l WHERE "
                        f"l.team_id = b.team_id)").strip())
    rows.append(f"POST /ssl/orders, 16 clients over 16 teams: {res['rps']:.0f} orders/s, p50 "
                f"{res['p50_ms']} ms, p99 {res['p99_ms']} ms, non-2xx {res['non2xx']}; orders "
                f"created {created}, without a charge {unpaid}, balances unlike their ledger "
                f"{drift}")
    extra["create_16_teams"] = {"rps": res["rps"], "non2xx": res["non2xx"], "created": created,
                                "unpaid": unpaid, "drift": drift}
    report("orders", rows, extra)


@scenario
def issuance(env):
    """Certificates signed per second through the CA code (build/ca_speed) against
    `openssl speed` for the same key types in the same run; the time from the last
    validation to ACT (POST /validate with the files published: the HTTP checks, the
    signing, the database writes)."""
    import issuing
    rows = []
    out = subprocess.run([os.path.join(os.environ.get("BUILD", "build"), "ca_speed"), str(SECONDS)],
                         capture_output=True, text=True).stdout
    ours = {m.group(1): float(m.group(2)) for m in
            re.finditer(r"^(EC P-256|EC P-384|RSA 2048) intermediate\s+([\d.]+)", out, re.M)}
    sp = subprocess.run(["openssl", "speed", "-seconds", str(SECONDS), "ecdsap256", "ecdsap384",
                         "rsa2048"], capture_output=True, text=True).stdout
    theirs = {}
    m = re.search(r"rsa 2048 bits\s+\S+\s+\S+\s+([\d.]+)", sp)
    theirs["RSA 2048"] = float(m.group(1)) if m else 0
    for bits, name in (("256", "EC P-256"), ("384", "EC P-384")):
        m = re.search(bits + r" bits ecdsa \(nistp" + bits + r"\)\s+\S+\s+\S+\s+([\d.]+)", sp)
        theirs[name] = float(m.group(1)) if m else 0
    extra = {}
    for name in ("EC P-384", "EC P-256", "RSA 2048"):
        if name in ours and theirs.get(name):
            ratio = ours[name] / theirs[name]
            rows.append(f"so_ca_issue with an {name} intermediate: {ours[name]:.0f} certificates/s "
                        f"vs openssl speed {theirs[name]:.0f} sign/s = ratio {ratio:.2f}")
            extra[name] = {"ours": ours[name], "openssl": theirs[name], "ratio": ratio}
    # last validation -> ACT
    team = env.new_team(balance="100000")
    api = team.client()
    n = int(os.environ.get("BENCH_ISSUE", "40"))
    pending = []
    for _ in range(n):
        oid, o = issuing.order(api)
        issuing.publish_files(env, o)
        pending.append(oid)
    times = []
    for oid in pending:
        t0 = time.perf_counter()
        st, body = api.post(f"/ssl/orders/{oid}/validate")
        times.append((time.perf_counter() - t0) * 1000)
        assert st == 200 and body["data"]["status"] == "ACT", body
    times.sort()
    rows.append(f"last validation to ACT (POST /validate: 2 HTTP checks, signing with the "
                f"default P-384 intermediate, the writes), {n} orders: p50 "
                f"{statistics.median(times):.1f} ms, p90 {times[int(n * 0.9) - 1]:.1f} ms, "
                f"max {times[-1]:.1f} ms")
    extra["validate_to_act_p50_ms"] = statistics.median(times)
    report("issuance", rows, extra)


@scenario
def seals(env):
    """The seal script, badge and report (hot: served from the process cache) and a ZIP
    bundle download, each against a static file of the same size."""
    import issuing
    team = env.new_team(balance="1000")
    api = team.client()
    oid, o = issuing.issued(env, api)
    s = api.get(f"/ssl/orders/{oid}/seal")[1]["data"]
    cn = o["common_name"]
    targets = [("GET /seal/<id>.js", s["script_url"], None),
               ("GET /seal/<id>.svg?host=", s["image_url"] + "?host=" + cn, None),
               ("GET /seal/<id>/report?host=", s["report_url"] + "?host=" + cn, None),
               ("GET /ssl/orders/{id}/download?format=other (ZIP)",
                env.httpd.api + f"/ssl/orders/{oid}/download?format=other", team.token)]
    rows, extra = [], {}
    for label, url, token in targets:
        r = requests.get(url, headers={"Authorization": f"Bearer {token}"} if token else {})
        assert r.status_code == 200, r.text[:200]
        size = len(r.content)
        url_static = static_twin(env.httpd, size, f"bench-seal-{size}.bin")
        wrk(url_static, seconds=1, latency=False)
        wrk(url, token=token, seconds=1, latency=False)
        static = wrk(url_static)
        res = wrk(url, token=token)
        rows.append(ratio_row(f"{label} ({size} bytes)", res, static))
        extra[label] = {"ratio": res["rps"] / static["rps"] if static["rps"] else 0,
                        "p50_ms": res["p50_ms"], "p99_ms": res["p99_ms"]}
    report("seals", rows, extra)


@scenario
def mpic(env):
    """DV validation time (POST /validate to ACT: the primary's HTTP checks, the remote
    perspectives asked in parallel, CAA, signing) with no MPIC, 1, 3 and 5 perspectives.
    The perspectives are one more httpd of the module on 127.0.0.1 (one Location each);
    SSLOrdersMPIC report, so the fewer-than-required counts still issue (the same work)."""
    import issuing
    secret = os.path.join(env.base, "bench-mpic.secret")
    with open(secret, "w") as f:
        f.write("bench-mpic-secret-0123456789\n")
    os.chmod(secret, 0o644)
    loc = "".join(f"<Location /p{i}>\n SetHandler sslorders-perspective\n</Location>\n"
                  for i in range(1, 6))
    persp = harness.Httpd(env.base, harness.DB, env.db_params, name="bench-persp", dcv=env.dcv,
                          extra=f"SSLOrdersPerspectiveAuth secret-file {secret}\n" + loc,
                          log_level="error")
    persp.ca_dir = env.httpd.ca_dir
    persp.sinks = False
    persp.start()
    servers = [persp]
    n = int(os.environ.get("BENCH_MPIC", "40"))
    rows, extra = [], {}
    try:
        for count in (0, 1, 3, 5):
            if count == 0:
                server = env.httpd
            else:
                conf = f"SSLOrdersPerspectiveAuth secret-file {secret}\nSSLOrdersMPIC report\n"
                conf += "".join(f"SSLOrdersPerspective p{i} {persp.url}/p{i}\n"
                                for i in range(1, count + 1))
                server = harness.Httpd(env.base, harness.DB, env.db_params,
                                       name=f"bench-mpic{count}", dcv=env.dcv, extra=conf,
                                       log_level="error")
                server.ca_dir = env.httpd.ca_dir
                server.sinks = False
                server.start()
                servers.append(server)
            api = env.new_team(balance="100000").client(server)
            pending = []
            for _ in range(n):
                oid, o = issuing.order(api, names=[issuing.dom()])
                issuing.publish_files(env, o)
                pending.append(oid)
            times = []
            for oid in pending:
                t0 = time.perf_counter()
                st, body = api.post(f"/ssl/orders/{oid}/validate")
                times.append((time.perf_counter() - t0) * 1000)
                assert st == 200 and body["data"]["status"] == "ACT", body
            times.sort()
            p50 = statistics.median(times)
            p99 = times[min(n - 1, int(n * 0.99))]
            label = "no MPIC" if count == 0 else f"{count} perspective{'s' if count > 1 else ''}"
            rows.append(f"DV validation to ACT, {label}, {n} orders: p50 {p50:.1f} ms, "
                        f"p99 {p99:.1f} ms, max {times[-1]:.1f} ms")
            extra[str(count)] = {"p50_ms": p50, "p99_ms": p99, "max_ms": times[-1]}
    finally:
        for s in servers:
            s.stop()
    report("mpic", rows, extra)



def _pcts(res):
    out = res["raw"]
    vals = {}
    for pct in ("50", "90", "99"):
        m = re.search(rf"\s{pct}%\s+([\d.]+)(us|ms|s)", out)
        vals[pct] = _ms(m.group(1), m.group(2)) if m else None
    return vals


@scenario
def cold(env):
    """Tail latency from the first second: for /me, a list page (cached after its first
    request) and the seal script, the server is restarted and loaded at once with
    COLD_CONNECTIONS (32) connections for COLD_SECONDS (10); then a static file of the
    same size on the same, now warm, server. p50/p90/p99 of each."""
    import issuing
    conns = int(os.environ.get("COLD_CONNECTIONS", "32"))
    secs = int(os.environ.get("COLD_SECONDS", "10"))
    team = env.new_team(balance="1000")
    api = team.client()
    for _ in range(30):
        api.post("/ssl/orders", json={"product_id": 1, "period": 1})
    oid, o = issuing.issued(env, api)
    seal = api.get(f"/ssl/orders/{oid}/seal")[1]["data"]["script_url"]
    targets = [("GET /v1beta/me", env.httpd.api + "/me", team.token),
               ("GET /v1beta/ssl/orders?limit=25 (cached after the first)",
                env.httpd.api + "/ssl/orders?limit=25", team.token),
               ("GET /seal/<id>.js", seal, None)]
    rows, extra = [], {}
    idle = int(os.environ.get("COLD_IDLE_SECONDS", "0"))
    statics = []
    for label, url, token in targets:
        r = requests.get(url, headers={"Authorization": f"Bearer {token}"} if token else {})
        assert r.status_code == 200, r.text[:200]
        statics.append(static_twin(env.httpd, len(r.content), f"bench-cold-{len(r.content)}.bin"))
    if idle:
        # after an idle time instead: one start, nothing asked for COLD_IDLE_SECONDS (the
        # background job runs as it does on an idle server), then the three loads in a row
        env.httpd.stop()
        env.httpd.start()
        time.sleep(idle)
    def loads(targets, statics, suffix=""):
        for (label, url, token), url_static in zip(targets, statics):
            if not idle:
                env.httpd.stop()
                env.httpd.start()
            res = wrk(url, token=token, seconds=secs, conns=conns)
            static = wrk(url_static, seconds=secs, conns=conns)
            a, b = _pcts(res), _pcts(static)
            when = f"after {idle} s idle" if idle else "after a start"
            rows.append(f"{label}{suffix}, first {secs} s {when}, {conns} connections: "
                        f"{res['rps']:.0f} req/s, p50/p90/p99 {a['50']}/{a['90']}/{a['99']} ms, "
                        f"non-2xx {res['non2xx']}; static file: {static['rps']:.0f} req/s, "
                        f"p50/p90/p99 {b['50']}/{b['90']}/{b['99']} ms")
            extra[label + suffix] = {"api": a, "static": b, "rps": res["rps"],
                                     "static_rps": static["rps"]}

    loads(targets, statics)
    if not idle:
        # /me and the list page again with the other token cache setting
        conf = env.httpd.extra
        env.httpd.extra = conf + f"\n{AUTHCACHE_OTHER}\n"
        loads(targets[:2], statics[:2], f", {AUTHCACHE_OTHER}")
        env.httpd.extra = conf
        env.httpd.stop()
        env.httpd.start()
    errors = [l for l in env.httpd.read_log().splitlines() if "AH10159" in l]
    rows.append(f"AH10159 lines in the error log: {len(errors)}")
    report("cold", rows, extra)


@scenario
def webhooks(env):
    """The outbox: order creation (16 clients) without webhooks and with one endpoint
    taking every event; then the events delivered per second to a local receiver by the
    background pass (POST /staff/jobs/run), every one signed and answered 200."""
    import http.server
    import threading
    hits = []

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length", "0")))
            hits.append(self.headers.get("webhook-id"))
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *a):
            pass
    port = harness.free_port()
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    rows, extra = [], {}
    api = env.httpd.api
    staff = env.staff()
    lua = ('wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n'
           'wrk.body = \'{"product_id":1,"period":1}\'\n')
    for mode in ("without webhooks", "with one webhook endpoint (every event)"):
        team = env.new_team(balance="10000000")
        if mode.startswith("with one"):
            st, body = team.client().post("/webhooks", json={
                "url": f"http://127.0.0.1:{port}/bench", "events": ["*"]})
            assert st == 200, body
        staff.post("/staff/jobs/run", timeout=harness.JOB_RUN_TIMEOUT)  # nothing left over from before
        res = wrk(api + "/ssl/orders", token=team.token, conns=16, lua_extra=lua)
        time.sleep(2)
        rows.append(f"POST /ssl/orders, 16 clients, {mode}: {res['rps']:.0f} orders/s, p50 "
                    f"{res['p50_ms']} ms, p99 {res['p99_ms']} ms, non-2xx {res['non2xx']}")
        extra[mode] = {"rps": res["rps"], "p50_ms": res["p50_ms"], "p99_ms": res["p99_ms"]}
    pending = int(env.sql("SELECT COUNT(*) FROM outbox WHERE status = 'pending'").strip())
    t0 = time.perf_counter()
    while int(env.sql("SELECT COUNT(*) FROM outbox WHERE status = 'pending'").strip()) > 0:
        st, body = staff.post("/staff/jobs/run", timeout=harness.JOB_RUN_TIMEOUT)
        assert st == 200, body
        if time.perf_counter() - t0 > 120:
            break
    took = time.perf_counter() - t0
    srv.shutdown()
    rows.append(f"outbox: {pending} pending rows (2 events per order: created, paid) delivered "
                f"in {took:.1f}s = {len(hits) / took if took else 0:.0f} webhook deliveries/s to a "
                f"local receiver (libcurl, a new connection each, signed); unique webhook-ids "
                f"{len(set(hits))} of {len(hits)}")
    extra["outbox"] = {"pending": pending, "seconds": took,
                       "deliveries_per_s": len(hits) / took if took else 0, "hits": len(hits)}
    report("webhooks", rows, extra)


def _acme_prepare(env):
    """The ACME server over TLS (mod_ssl) on its own port, like a production mount."""
    import acme_clients as ac
    env.acme_tls = ac.TlsPki(os.path.join(env.base, "tls"))
    env.acme_port = harness.free_port()
    env.httpd.extra += ac.acme_server_conf(env.acme_port, env.acme_tls)


@scenario
def acme(env):
    """Full ACME issuances per second with ACME_ACCOUNTS (16) concurrent accounts, one
    process each (tests/bench/acme_load.py): newOrder -> the authorization, already valid
    and reused -> finalize -> poll -> download; against our server (over TLS, everything
    persisted) and against Pebble (PEBBLE_VA_NOSLEEP=1, PEBBLE_VA_ALWAYS_VALID=1,
    PEBBLE_AUTHZREUSE=100, PEBBLE_WFE_NONCEREJECT=0) with the same driver in the same run
    (Pebble for PEBBLE_SECONDS, 3: see below).
    The driver's own CPU time is reported: it must stay well under the machine's cores."""
    import acme_clients as ac
    import acme_load
    import issuing
    n = int(os.environ.get("ACME_ACCOUNTS", "16"))
    seconds = max(SECONDS, int(os.environ.get("ACME_SECONDS", "10")))
    names = [[issuing.dom()] for _ in range(n)]
    rows, extra = [], {}

    def row(label, r):
        if "fatal" in r:
            rows.append(f"{label}: FAILED: {r['fatal'][:3]}")
            return
        rows.append(f"{label}: {r['per_s']:.1f} issuances/s ({r['issuances']} in {r['seconds']:.1f}s,"
                    f" {r['requests']} requests), p50 {r['p50_ms']:.1f} ms, p99 {r['p99_ms']:.1f} ms "
                    f"per request; driver CPU {r['driver_cores']:.2f} cores "
                    f"({r['driver_ms_per_issuance']:.1f} ms/issuance); errors {len(r['errors'])}")
        rows.append(f"  p99 by request (ms): {r['p99_by_kind']}")
        for e in r["errors"][:3]:
            rows.append(f"  error: {e}")

    # Pebble. Debian's Pebble (2.4.0) often stops answering with 16 accounts at once
    # (every request times out and its log stops after "calling handler"; mostly with
    # authorization reuse on). It runs PEBBLE_SECONDS (3) instead of ACME_SECONDS; a run that
    # hangs is repeated with a new Pebble: once more with reuse, then at most twice with
    # PEBBLE_AUTHZREUSE=0 (each issuance then answers its challenge: two requests more than
    # ours). The row says which.
    peb_seconds = int(os.environ.get("PEBBLE_SECONDS", "3"))
    hung, label = 0, f"Pebble, {n} accounts"
    for reuse in ("100", "100", "0", "0"):
        keys = {f"kid-{i}": acme_load.b64u(os.urandom(32)) for i in range(n)}
        peb = ac.Pebble(env.base, env.acme_tls, harness.free_port(), harness.free_port(),
                        env.dcv.dns_port, eab_keys=keys,
                        env={"PEBBLE_VA_NOSLEEP": "1", "PEBBLE_VA_ALWAYS_VALID": "1",
                             "PEBBLE_AUTHZREUSE": reuse, "PEBBLE_WFE_NONCEREJECT": "0"})
        try:
            r = acme_load.run(peb.directory, n, peb_seconds, env.acme_tls.ca,
                              [(f"kid-{i}", keys[f"kid-{i}"]) for i in range(n)], names)
        finally:
            peb.close()
        if "fatal" not in r or not all("timed out" in f for f in r["fatal"]):
            break
        hung += 1
    if hung:
        label += f" ({hung} run(s) with authorization reuse hung"
        label += "; this one without reuse: a challenge per issuance)" if reuse == "0" else ")"
    row(label, r)
    extra["pebble"] = r
    extra["pebble_authz_reuse"] = reuse != "0"
    # ours: one order per account, paid and validated in the portal (its validation is
    # fresh: the ACME authorizations are valid at once), an EAB bound to it; every ACME
    # issuance is a reissue of that order. The names of a missing validation would be
    # published in the harness's DCV server (publish_dir).
    team = env.new_team(balance="1000000")
    api = team.client()
    eabs, names = [], []
    for i in range(n):
        oid, o = issuing.issued(env, api)
        names.append(o["host_names"])
        st, body = api.post("/acme/eab", json={"order_id": oid, "description": f"bench {i}"})
        if st != 200:
            rows.append(f"ours: POST /v1beta/acme/eab answered {st}: {str(body)[:200]}")
            report("acme", rows, extra)
            return
        eabs.append((body["data"]["kid"], body["data"]["hmac_key"]))
    directory = f"https://localhost:{env.acme_port}/acme/directory"
    r = acme_load.run(directory, n, seconds, env.acme_tls.ca, eabs, names,
                      publish_dir=env.dcv.dir)
    row(f"mod_sslorders ({harness.DB}), {n} accounts (P-384 issuing intermediate, the default)",
        r)
    extra["ours"] = r
    if "fatal" not in r and "fatal" not in extra["pebble"] and extra["pebble"]["per_s"]:
        rows.append(f"ratio ours/Pebble: {r['per_s'] / extra['pebble']['per_s']:.2f}"
                    + ("" if extra["pebble_authz_reuse"] else " (Pebble without authorization reuse)"))
        # every issuance is a certificate of its order, persisted, never charged
        certs = sum(len(api.get(f"/ssl/orders/{o['id']}/certificates")[1]["data"]["results"])
                    for o in api.get("/ssl/orders", params={"limit": 1000})[1]["data"]["results"])
        led = api.get("/ledger", params={"kind": "charge", "limit": 1000})[1]["data"]
        rows.append(f"  persisted: {certs} certificates in the {n} orders' histories, "
                    f"{len(led['results'])} charges (the {n} portal orders)")
    # the same with a CA whose issuing intermediate is P-256 (SSLOrdersCAKey ec-p384 ec-p256):
    # a server of its own (its own CA) on the same database
    import uuid
    port2 = harness.free_port()
    h2 = harness.Httpd(env.base, harness.DB, env.db_params, name="acme256-" + uuid.uuid4().hex[:6],
                       dcv=env.dcv, extra=ac.acme_server_conf(port2, env.acme_tls)
                       + "SSLOrdersCAKey ec-p384 ec-p256\n")
    h2.log_level = "error"
    h2.sinks = False
    env.servers.append(h2)
    try:
        h2.start()
        api2 = team.client(h2)
        eabs2, names2 = [], []
        for i in range(n):
            oid, o = issuing.issued(env, api2)
            names2.append(o["host_names"])
            st, body = api2.post("/acme/eab", json={"order_id": oid, "description": f"p256 {i}"})
            eabs2.append((body["data"]["kid"], body["data"]["hmac_key"]))
        r2 = acme_load.run(f"https://localhost:{port2}/acme/directory", n, seconds,
                           env.acme_tls.ca, eabs2, names2, publish_dir=env.dcv.dir)
        row(f"mod_sslorders ({harness.DB}), {n} accounts (P-256 issuing intermediate: "
            "SSLOrdersCAKey ec-p384 ec-p256)", r2)
        extra["ours_p256"] = r2
        if "fatal" not in r2 and "fatal" not in extra["pebble"] and extra["pebble"]["per_s"]:
            rows.append(f"ratio ours (P-256 intermediate)/Pebble: "
                        f"{r2['per_s'] / extra['pebble']['per_s']:.2f}")
    finally:
        h2.stop()
        env.servers.remove(h2)
    report("acme", rows, extra)


acme.prepare = _acme_prepare


def main():
    only = [s for s in os.environ.get("BENCH_ONLY", "").split(",") if s]
    env = harness.Env()
    env.httpd.log_level = "error"
    env.httpd.sinks = False          # no mail: the figures are the module's own
    env.httpd.seal_max_age = 300     # the production default
    # BENCH_EXTRA_CONF: configuration lines added to the server's (e.g. "DBDMin 25")
    env.httpd.extra += os.environ.get("BENCH_EXTRA_CONF", "").replace("\\n", "\n") + "\n"


    for name, fn in SCENARIOS.items():
        if hasattr(fn, "prepare") and (not only or name in only):
            fn.prepare(env)
    try:
        env.start()
        for name, fn in SCENARIOS.items():
            if only and name not in only:
                continue
            fn(env)
    finally:
        env.close()


if __name__ == "__main__":
    main()
