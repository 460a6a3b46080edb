"""make test-cluster: three httpd servers loading mod_sslorders on one PostgreSQL primary
with a streaming standby, behind a fourth httpd with mod_proxy_balancer, under mixed load
while the test kills httpd children, kills a whole server and restarts it, restarts
PostgreSQL, and promotes the standby (the servers find it through libpq's multi-host
DBDParams with target_session_attrs=read-write: no configuration edit). Then it checks
the invariants and prints the numbers and a summary line "N passed, N failed".

The load mixes API orders, checkout, validation and issuance, list pages, seal hits, ACME
issuances (EAB, http-01, finalize, download through the balancer), webhooks (each team's
endpoint is a local receiver that checks every Standard Webhooks signature) and expiry
reminders, while a job thread runs the background job on all three servers at once.

Everything listens on 127.0.0.1 on free ports, runs for CLUSTER_SECONDS (default 45)
of load, and is removed afterwards (SO_KEEP=1 keeps the directory).

Environment: SO_BUILD (the build directory), CLUSTER_SECONDS, CLUSTER_WORKERS (6), CLUSTER_EXTRA
(configuration lines for the three servers, e.g. CoreDumpDirectory to debug a crash).
"""
import base64
import collections
import hashlib
import hmac
import http.server
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
os.environ["SO_DB"] = "pgsql"

import requests  # noqa: E402

import harness  # noqa: E402
import issuing  # noqa: E402
import pki  # noqa: E402
from acme_client import Acme, Key, Problem  # noqa: E402

SECONDS = int(os.environ.get("CLUSTER_SECONDS", "45"))
WORKERS = int(os.environ.get("CLUSTER_WORKERS", "6"))
PG = harness.PGBIN

# error log lines the chaos announces: the database away and back, lost connections,
# children killed, the balancer finding a member down
EXPECTED = re.compile(
    r"SO00026|SO00027|SO00022|SO00003.*(terminat|connection|shut|recovery|read-only|closed)|"
    # an outbox delivery that lost its database (restart, promotion) is retried by the job
    r"SO0060[02]:.*(terminat|connection|shut|recovery|read-only|closed|could not)|"
    # (no AH00051/AH00052: a child killed by SIGKILL is not logged; one that crashed is)
    r"AH00629|AH02655|AH00633|AH00632|AH00639|AH00959|AH00957|AH01114|"
    r"AH01102|AH00898|AH01097|AH00940|AH10159|AH00169|AH00060|SO00234|SO00238|SO00220|"
    # an order or an outbox row claimed by a child killed mid-work, taken over by another
    # process of its host
    r"SO00703|SO00603|"
    # an order's validation could not be scheduled at its request (the job checks it anyway:
    # next_check_at stays 0, due)
    r"SO00214:.*database unavailable")


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


class PgNode:
    """One PostgreSQL server (primary or standby) run as the postgres user."""

    def __init__(self, base, name):
        self.dir = os.path.join(base, name)
        self.data = os.path.join(self.dir, "data")
        self.port = harness.free_port()
        os.makedirs(self.dir)
        shutil.chown(self.dir, "postgres", "postgres")

    def run(self, *args, check=True):
        return subprocess.run(list(args), preexec_fn=harness.as_user("postgres"), cwd=self.dir,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                              check=check)

    def conf(self, text):
        with open(os.path.join(self.data, "postgresql.conf"), "a") as f:
            f.write(text)

    def start(self):
        for attempt in range(3):
            r = self.run(f"{PG}/pg_ctl", "-D", self.data, "-l", os.path.join(self.dir, "pg.log"),
                         "-w", "-t", "60", "start", check=False)
            if r.returncode == 0:
                return
            with open(os.path.join(self.dir, "pg.log"), errors="replace") as f:
                busy = "Address already in use" in f.read()
            if not busy or attempt == 2:
                raise RuntimeError(f"PostgreSQL in {self.dir} did not start: {r.stdout}")
            # another process took the free port meanwhile (a shared machine): another one
            self.port = harness.free_port()
            self.conf(f"\nport = {self.port}\n")

    def stop(self, mode="fast"):
        self.run(f"{PG}/pg_ctl", "-D", self.data, "-m", mode, "-w", "stop", check=False)

    def psql(self, sql):
        return self.run(f"{PG}/psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres",
                        "-d", "sslorders", "-Atc", sql).stdout.strip()


class Cluster:
    def __init__(self):
        self.base = tempfile.mkdtemp(prefix="sslorders-cluster-", dir=harness.TMP)
        os.chmod(self.base, 0o755)
        self.primary = PgNode(self.base, "pg1")
        self.standby = PgNode(self.base, "pg2")
        self.dcv = harness.DcvServers(self.base)
        self.servers = []
        self.balancer = None

    # ---- PostgreSQL: a primary and a synchronous streaming standby ------------------
    def start_db(self):
        p = self.primary
        p.run(f"{PG}/initdb", "-D", p.data, "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8")
        # synchronous_commit on with a synchronous standby: a commit the API acknowledged
        # is on the standby too, so promoting it loses no answered order (see
        # docs/operations.md); fsync off: the test never loses the OS, only processes
        p.conf(f"\nport = {p.port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = "
               f"'{p.dir}'\nfsync = off\nfull_page_writes = off\nmax_connections = 600\n"
               "wal_level = replica\nmax_wal_senders = 5\nhot_standby = on\n"
               "synchronous_commit = on\n")
        p.start()
        p.run(f"{PG}/createdb", "-h", "127.0.0.1", "-p", str(p.port), "-U", "postgres", "sslorders")
        s = self.standby
        s.run(f"{PG}/pg_basebackup", "-h", "127.0.0.1", "-p", str(p.port), "-U", "postgres",
              "-D", s.data, "-R", "-X", "stream", "--no-sync", "--checkpoint=fast")
        s.port = harness.free_port()  # chosen late: less time for another process to take it
        s.conf(f"\nport = {s.port}\nunix_socket_directories = '{s.dir}'\n")
        s.start()
        deadline = time.time() + 30
        while time.time() < deadline:
            if p.psql("SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'") == "1":
                # from now on a commit waits until the standby has it
                p.psql("ALTER SYSTEM SET synchronous_standby_names = '*'")
                p.psql("SELECT pg_reload_conf()")
                return
            time.sleep(0.2)
        raise RuntimeError("the standby does not stream")

    def params(self):
        p, s = self.primary, self.standby
        return (f"host=127.0.0.1,127.0.0.1 port={p.port},{s.port} dbname=sslorders "
                "user=postgres target_session_attrs=read-write connect_timeout=3")

    def sql(self, q):
        node = self.standby if self.promoted else self.primary
        return node.psql(q)

    promoted = False

    # ---- httpd -----------------------------------------------------------------------
    def start_servers(self):
        # the balancer's port is chosen first: it is the servers' public URL (the ACME
        # directory's links, seal scripts), so the ACME clients go through the balancer
        self.bport = harness.free_port()
        for i in range(3):
            # all answer reads from their cached token lookups (SSLOrdersAuthCache, on by
            # default on PostgreSQL: each one's commits retire the others' through
            # notifications), the third with 2 s instead of 5: under the same chaos
            mine = "SSLOrdersAuthCache 2\n" if i == 2 else ""
            h = harness.Httpd(self.base, "pgsql", self.params(), name=f"so{i + 1}", dcv=self.dcv,
                              extra=os.environ.get("CLUSTER_EXTRA", "") + mine + f"DBDExptime 30\nSSLOrdersPublicURL http://127.0.0.1:{self.bport}\n")
            h.seal_max_age = 4
            if self.servers:
                h.ca_dir = self.servers[0].ca_dir  # one CA for all
            h.start()
            self.servers.append(h)
        self.start_balancer()

    def start_balancer(self):
        d = os.path.join(self.base, "balancer")
        os.makedirs(os.path.join(d, "logs"))
        os.makedirs(os.path.join(d, "run"))
        harness.chown_tree(d, harness.RUN_USER)
        m = harness.MODULES
        members = "\n".join(f"    BalancerMember http://127.0.0.1:{h.port} retry=1 connectiontimeout=2 "
                            f"timeout=30" for h in self.servers)
        conf = f"""ServerRoot "{d}"
ServerName 127.0.0.1
Listen 127.0.0.1:{self.bport}
PidFile "{d}/run/httpd.pid"
DefaultRuntimeDir "{d}/run"
ErrorLog "{d}/logs/error.log"
LogLevel warn
User {harness.RUN_USER}
Group {harness.RUN_USER}
LoadModule mpm_event_module {m}/mod_mpm_event.so
LoadModule authz_core_module {m}/mod_authz_core.so
LoadModule slotmem_shm_module {m}/mod_slotmem_shm.so
LoadModule proxy_module {m}/mod_proxy.so
LoadModule proxy_http_module {m}/mod_proxy_http.so
LoadModule proxy_balancer_module {m}/mod_proxy_balancer.so
LoadModule lbmethod_byrequests_module {m}/mod_lbmethod_byrequests.so
StartServers 2
ServerLimit 4
ThreadsPerChild 25
MaxRequestWorkers 100
MinSpareThreads 25
MaxSpareThreads 75
<Proxy balancer://so>
{members}
    ProxySet lbmethod=byrequests
</Proxy>
ProxyPass / balancer://so/
ProxyPassReverse / balancer://so/
"""
        self.bconf = os.path.join(d, "httpd.conf")
        self.blog = os.path.join(d, "logs", "error.log")
        with open(self.bconf, "w") as f:
            f.write(conf)
        subprocess.run([harness.HTTPD, "-f", self.bconf, "-k", "start"], check=True)
        harness.wait_port(self.bport)
        self.url = f"http://127.0.0.1:{self.bport}"

    def ctl(self, *args, input=None):
        cmd = [os.path.join(harness.BUILD, "sslordersctl"), "--driver", "pgsql", "--params",
               self.params()] + [str(a) for a in args]
        r = subprocess.run(cmd, input=input, capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"sslordersctl {args}: {r.stdout}{r.stderr}")
        return r.stdout.strip()

    def close(self):
        for h in self.servers:
            h.stop()
        if getattr(self, "bconf", None):
            subprocess.run([harness.HTTPD, "-f", self.bconf, "-k", "stop"], capture_output=True)
        self.dcv.close()
        self.primary.stop("immediate")
        self.standby.stop("immediate")
        if os.environ.get("SO_KEEP") != "1":
            shutil.rmtree(self.base, ignore_errors=True)


class Receiver:
    """The teams' webhook endpoint: records every POST (path, headers, body), answers 200."""

    def __init__(self):
        self.hits = []
        self.lock = threading.Lock()
        self.port = harness.free_port()
        rec = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with rec.lock:
                    rec.hits.append({"path": self.path, "body": body,
                                     "headers": {k.lower(): v for k, v in self.headers.items()}})
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *a):
                pass
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()


def signed(secret, hit):
    """Standard Webhooks: v1 = base64(HMAC-SHA256(key, id.timestamp.body)), key = whsec_ part."""
    h = hit["headers"]
    key = base64.b64decode(secret.split("_", 1)[1])
    msg = f"{h.get('webhook-id')}.{h.get('webhook-timestamp')}.".encode() + hit["body"]
    want = base64.b64encode(hmac.new(key, msg, hashlib.sha256).digest()).decode()
    return any(sig.split(",", 1) == ["v1", want] for sig in h.get("webhook-signature", "").split())


def ts(text):
    return int(time.mktime(time.strptime(text, "%Y-%m-%d %H:%M:%S"))) - time.timezone


class Load:
    """Workers sending a mix of requests through the balancer, recording every answer."""

    def __init__(self, cl, teams, seal_url):
        self.cl = cl
        self.teams = teams
        self.seal_url = seal_url
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.counts = collections.Counter()
        self.errors = collections.Counter()
        self.created = {}         # order id -> team slug (every 2xx create)
        self.checkout_orders = {}
        self.issued = set()       # order ids that answered ACT
        self.to_validate = collections.defaultdict(list)  # team slug -> [(team, order id)]
        self.timeline = []        # (time, ok) for recovery times
        self.issued_by = collections.defaultdict(list)  # team slug -> issued order ids
        self.reminded = {}        # order id -> the reminder recipient set by a 2xx PUT
        self.acme_started = 0
        self.acme_valid = {}      # order id -> the chain the ACME client downloaded
        self.acme_failed = collections.Counter()
        self.acme_stuck = []      # (order id, what the client saw) of ACME issuances given up
        self.jobs = collections.Counter()

    def record(self, kind, status, ok):
        with self.lock:
            self.counts[kind] += 1
            if not ok:
                self.errors[f"{kind} {status}"] += 1
            self.timeline.append((time.time(), ok))

    def call(self, s, kind, method, path, **kw):
        try:
            r = s.request(method, self.cl.url + "/v1beta" + path, timeout=40, **kw)
        except requests.RequestException as e:
            self.record(kind, type(e).__name__, False)
            return None, None
        ok = 200 <= r.status_code < 300
        self.record(kind, r.status_code, ok)
        try:
            return r.status_code, r.json()
        except ValueError:
            return r.status_code, None

    def create(self, s, team):
        """POST /ssl/orders with an Idempotency-Key, retried with the same key until an
        answer comes: the order exists once whatever happened to the earlier tries."""
        key = uuid.uuid4().hex
        validate = random.random() < 0.25
        body = {"product_id": 1, "period": 1}
        if validate:
            d = issuing.dom()
            body.update({"csr": pki.csr(d, ["www." + d]), "start_provision": True,
                         "domain_validation_methods": [{"host_name": n, "method": "http"}
                                                       for n in (d, "www." + d)]})
        for attempt in range(8):
            st, ans = self.call(s, "create", "POST", "/ssl/orders", json=body,
                                headers={"Idempotency-Key": key})
            if st == 200:
                oid = ans["data"]["id"]
                with self.lock:
                    self.created[oid] = team.slug
                    if validate:
                        self.to_validate[team.slug].append((team, oid))
                return
            if st is not None and st < 500:
                return
            time.sleep(0.3)

    def checkout(self, s, team):
        key = uuid.uuid4().hex
        st, _ = self.call(s, "cart", "POST", "/cart", json={"product_id": 1, "period": 1})
        if st != 200:
            return
        for attempt in range(8):
            st, ans = self.call(s, "checkout", "POST", "/cart/checkout",
                                headers={"Idempotency-Key": key})
            if st == 200:
                with self.lock:
                    for o in ans["data"]["orders"]:
                        oid = o["id"] if isinstance(o, dict) else o
                        self.created[oid] = team.slug
                        self.checkout_orders[oid] = team.slug
                return
            if st is not None and st < 500:
                return
            time.sleep(0.3)

    def validate(self, s, me):
        with self.lock:
            if not self.to_validate[me.slug]:
                return
            team, oid = self.to_validate[me.slug].pop(0)
        st, ans = self.call(s, "order get", "GET", f"/ssl/orders/{oid}")
        if st != 200:
            with self.lock:
                self.to_validate[team.slug].append((team, oid))
            return
        for a in ans["data"]["additional_data"]:
            if a["file_location"]:
                self.cl.dcv.put_file("/" + a["file_location"].split("/", 3)[3], a["file_contents"])
        st, ans = self.call(s, "validate", "POST", f"/ssl/orders/{oid}/validate")
        if st == 200 and ans["data"]["status"] == "ACT":
            with self.lock:
                self.issued.add(oid)
                self.issued_by[team.slug].append(oid)
        elif st is None or st >= 500:
            with self.lock:
                self.to_validate[team.slug].append((team, oid))

    # ---- ACME: a paid order issued through the ACME server, every step retried -----------
    def acme_step(self, what, fn):
        """fn() retried while the cluster is in trouble (5xx, lost connections, bad nonces
        after a server change); a client error (4xx other than badNonce) ends the issuance."""
        for attempt in range(10):
            try:
                return fn()
            except Problem as e:
                if e.status < 500 and e.type != "badNonce":
                    raise RuntimeError(f"{what}: {e.status} {e.type}")
                why = f"{e.status} {e.type}"
            except (requests.RequestException, ValueError, KeyError) as e:
                why = type(e).__name__
            self.record("acme", why, False)
            time.sleep(0.5)
        raise RuntimeError(f"{what}: gave up")

    def acme(self, s, team):
        d = issuing.dom()
        body = {"product_id": issuing.DV, "period": 1, "csr": pki.csr(d, []),
                "domain_validation_methods": [{"host_name": d, "method": "http"}]}
        key = uuid.uuid4().hex
        oid = None
        for attempt in range(8):
            st, ans = self.call(s, "acme order", "POST", "/ssl/orders", json=body,
                                headers={"Idempotency-Key": key})
            if st == 200:
                oid = ans["data"]["id"]
                with self.lock:
                    self.created[oid] = team.slug
                break
            if st is not None and st < 500:
                return
            time.sleep(0.3)
        if oid is None:
            return
        with self.lock:
            self.acme_started += 1
        try:
            def eab():
                st, ans = self.call(s, "acme eab", "POST", "/acme/eab",
                                    json={"order_id": oid, "description": "cluster"})
                if st != 200:
                    raise requests.RequestException(f"eab {st}")
                return ans["data"]
            e = self.acme_step("eab", eab)
            c = self.acme_step("directory", lambda: Acme(self.cl.url + "/acme/directory", Key()))
            self.acme_step("account", lambda: c.register(e["kid"], e["hmac_key"]))
            url, order = self.acme_step("new order", lambda: c.new_order([d]))
            for a in order["authorizations"]:
                authz = self.acme_step("authz", lambda: c.get(a))
                if authz["status"] == "valid":
                    continue
                ch = next(x for x in authz["challenges"] if x["type"] == "http-01")
                self.cl.dcv.put_file("/.well-known/acme-challenge/" + ch["token"],
                                     c.key_authorization(ch["token"]))
                self.acme_step("challenge", lambda: c.post(ch["url"], {}))
                for _ in range(40):
                    if self.acme_step("authz", lambda: c.get(a))["status"] != "pending":
                        break
                    time.sleep(0.25)
            # finalize: a try that lost its answer is seen as processing or valid on the
            # next look at the order, never finalized a second time
            for _ in range(40):
                order = self.acme_step("order", lambda: c.get(url))
                if order["status"] == "ready":
                    try:
                        order, _ = c.finalize(order, [d])
                    except Problem as p:
                        if p.status < 500 and p.type not in ("badNonce", "orderNotReady"):
                            raise RuntimeError(f"finalize: {p.status} {p.type}")
                        self.record("acme", f"finalize {p.status} {p.type}", False)
                    except (requests.RequestException, ValueError) as x:
                        self.record("acme", f"finalize {type(x).__name__}", False)
                if order["status"] == "valid":
                    break
                if order["status"] == "invalid":
                    raise RuntimeError(f"order invalid: {order.get('error')}")
                time.sleep(0.25)
            if order["status"] != "valid":
                raise RuntimeError(f"order {order['status']}")
            chain = self.acme_step("certificate", lambda: c.certificate(order["certificate"]).text)
            self.record("acme", 200, True)
            with self.lock:
                self.acme_valid[oid] = chain
                self.issued.add(oid)
        except (RuntimeError, StopIteration, KeyError) as x:
            self.record("acme", "failed", False)
            with self.lock:
                self.acme_failed[str(x)[:60]] += 1
                self.acme_stuck.append((oid, f"{time.strftime('%H:%M:%S')} {x}"))

    # ---- reminders: one due now on an issued order, to a recipient of its own ------------
    def remind(self, s, team):
        with self.lock:
            mine = [o for o in self.issued_by[team.slug] if o not in self.reminded]
        if not mine:
            return
        oid = random.choice(mine)
        st, ans = self.call(s, "order get", "GET", f"/ssl/orders/{oid}")
        if st != 200:
            return
        end, now = ts(ans["data"]["order_ends_at"]), int(time.time())
        days = (end - now) // 86400 + 1
        if days > 365:
            return
        # set 'days' before the end (a moment ago) at a clock just before it: due at once
        due = end - days * 86400
        rcpt = f"r{oid}-{uuid.uuid4().hex[:6]}@cluster.example"
        for attempt in range(6):
            st, _ = self.call(s, "reminders", "PUT", f"/ssl/orders/{oid}/reminders",
                              json={"days_before": [days], "recipients": [rcpt]},
                              headers={"X-SSLOrders-Clock": str(due - 60)})
            if st == 200:
                with self.lock:
                    self.reminded[oid] = rcpt
                return
            if st is not None and st < 500:
                return
            time.sleep(0.3)

    def job_runner(self, staff_token):
        """The background job on all three servers at the same moment, every 2 s."""
        def one(h):
            try:
                r = requests.post(h.api + "/staff/jobs/run", timeout=60,
                                  headers={"Authorization": f"Bearer {staff_token}"})
                k = "ok" if r.status_code == 200 else str(r.status_code)
            except requests.RequestException as e:
                k = type(e).__name__
            with self.lock:
                self.jobs[k] += 1
        while not self.stop.wait(2):
            ts_ = [threading.Thread(target=one, args=(h,)) for h in self.cl.servers]
            for t in ts_:
                t.start()
            for t in ts_:
                t.join()

    def worker(self, n):
        team = self.teams[n % len(self.teams)]
        s = requests.Session()
        s.headers["Authorization"] = f"Bearer {team.token}"
        while not self.stop.is_set():
            x = random.random()
            if x < 0.25:
                self.create(s, team)
            elif x < 0.33:
                self.checkout(s, team)
            elif x < 0.48:
                self.validate(s, team)
            elif x < 0.54:
                self.acme(s, team)
            elif x < 0.58:
                self.remind(s, team)
            elif x < 0.75:
                self.call(s, "list", "GET", "/ssl/orders", params={"limit": 25})
            elif x < 0.90:
                try:
                    r = requests.get(self.seal_url, timeout=40)
                    self.record("seal", r.status_code, r.status_code == 200)
                except requests.RequestException as e:
                    self.record("seal", type(e).__name__, False)
            else:
                self.call(s, "me", "GET", "/me")

    def recovery(self, since):
        """Seconds from since to the first of 20 answers in a row that were all good."""
        with self.lock:
            tl = sorted(t for t in self.timeline if t[0] >= since)
        run = 0
        for t, ok in tl:
            run = run + 1 if ok else 0
            if run >= 20:
                return t - since
        return None


class Team:
    def __init__(self, slug, token):
        self.slug, self.token = slug, token


def children(h):
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(h.pid())], capture_output=True,
                         text=True).stdout
    return [int(x) for x in out.split()]


def kill_server(h):
    pids = [h.pid()] + children(h)
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    for _ in range(100):
        if not any(os.path.exists(f"/proc/{p}") and open(f"/proc/{p}/stat").read().split()[2] != "Z"
                   for p in pids):
            break
        time.sleep(0.05)
    # the listener and the pid file of a killed server are left behind
    try:
        os.unlink(os.path.join(h.dir, "run", "httpd.pid"))
    except OSError:
        pass


def main():
    results = []

    def check(name, ok, detail=""):
        results.append((name, ok))
        log(f"{'PASS' if ok else 'FAIL'} {name}{': ' + str(detail) if detail else ''}")

    cl = Cluster()
    receiver = Receiver()
    t_start = time.time()
    try:
        cl.start_db()
        log(f"PostgreSQL primary :{cl.primary.port}, standby :{cl.standby.port} (synchronous)")
        cl.start_servers()
        log(f"servers :{', :'.join(str(h.port) for h in cl.servers)}, balancer :{cl.bport}")
        teams = []
        for i in range(3):
            slug = "c" + uuid.uuid4().hex[:10]
            user = "u" + uuid.uuid4().hex[:10]
            cl.ctl("team", "add", slug, "--name", f"Cluster {i}")
            cl.ctl("user", "add", user, input="pw-" + uuid.uuid4().hex + "\n")
            cl.ctl("member", "add", slug, user, "owner")
            cl.ctl("balance", "credit", slug, "1000000")
            teams.append(Team(slug, cl.ctl("token", "create", slug, user)))
        # a staff user whose token runs the background job (at clock times ahead in the end)
        staff_user, staff_team = "s" + uuid.uuid4().hex[:10], "s" + uuid.uuid4().hex[:10]
        cl.ctl("team", "add", staff_team, "--name", "Cluster staff")
        cl.ctl("user", "add", staff_user, "--staff", input="pw-" + uuid.uuid4().hex + "\n")
        cl.ctl("member", "add", staff_team, staff_user, "owner")
        staff_token = cl.ctl("token", "create", staff_team, staff_user, "--ttl", "87600")
        # every team's webhook endpoint: the receiver (every event type)
        hooks = {}  # webhook id -> (path, secret)
        for t in teams:
            path = "/h-" + t.slug
            r = requests.post(cl.url + "/v1beta/webhooks", timeout=30,
                              headers={"Authorization": f"Bearer {t.token}"},
                              json={"url": f"http://127.0.0.1:{receiver.port}{path}",
                                    "events": ["*"], "description": "cluster"})
            r.raise_for_status()
            hooks[r.json()["data"]["id"]] = (path, r.json()["data"]["secret"])
        # an issued order whose seal the load asks for
        api = harness.Client(cl.url + "/v1beta", teams[0].token)

        class E:
            dcv = cl.dcv
        oid, _ = issuing.issued(E, api)
        seal_url = api.get(f"/ssl/orders/{oid}/seal")[1]["data"]["script_url"]
        seal_url = re.sub(r"^https?://[^/]+", cl.url, seal_url)
        load = Load(cl, teams, seal_url)
        load.issued.add(oid)
        threads = [threading.Thread(target=load.worker, args=(i,), daemon=True) for i in range(WORKERS)]
        threads.append(threading.Thread(target=load.job_runner, args=(staff_token,), daemon=True))
        t0 = time.time()
        for t in threads:
            t.start()
        events = []

        def at(sec):
            time.sleep(max(0, t0 + sec - time.time()))

        step = SECONDS / 9
        # 1. kill -9 random children
        at(step)
        for _ in range(3):
            h = random.choice(cl.servers)
            kids = children(h)
            if kids:
                try:
                    os.kill(random.choice(kids), signal.SIGKILL)
                except ProcessLookupError:
                    pass  # the MPM ended that child between the listing and the kill
            time.sleep(0.5)
        events.append(("kill -9 three httpd children", time.time()))
        log("killed three httpd children")
        # 2. kill -9 a whole server, restart it
        at(2 * step)
        victim = cl.servers[1]
        kill_server(victim)
        log(f"killed server :{victim.port} (parent and children)")
        t_kill = time.time()
        time.sleep(3)
        victim.start()
        events.append(("kill -9 a whole server, restart after 3 s", t_kill))
        log(f"restarted server :{victim.port}")
        # 3. restart PostgreSQL
        at(4 * step)
        t_pg = time.time()
        cl.primary.stop("immediate")
        time.sleep(1)
        cl.primary.start()
        events.append(("PostgreSQL primary restarted (immediate stop)", t_pg))
        log("restarted the PostgreSQL primary")
        # 4. fail over: the primary dies, the standby is promoted
        at(6 * step)
        t_fo = time.time()
        cl.primary.stop("immediate")
        cl.standby.run(f"{PG}/pg_ctl", "-D", cl.standby.data, "-w", "promote")
        cl.promoted = True
        events.append(("primary killed, standby promoted", t_fo))
        log("primary stopped, standby promoted")
        at(SECONDS)
        load.stop.set()
        for t in threads:
            t.join(60)
        elapsed = time.time() - t0
        # an ACME issuance the client gave up: the SSL order's claim and the ACME order as
        # they are before the jobs below run (who holds the order, and for how long)
        for oid, seen in load.acme_stuck:
            owner, _, left = cl.sql(f"SELECT claim_owner || '|' || (claim_until - {int(time.time())}) "
                                    f"FROM orders WHERE id = {int(oid)}").strip().partition("|")
            pid = owner.split(":")[1] if owner.count(":") == 2 else ""
            alive = "alive" if pid.isdigit() and os.path.exists(f"/proc/{pid}") else "not running"
            log(f"ACME order of SSL order {oid} given up at {seen}; the order's claim: "
                + (f"{owner} ({alive}), {left} s left" if pid else "none") + "; ACME: " + cl.sql(
                    "SELECT string_agg(status || ' finalized ' || finalized_at || ' cert ' || cert_id, "
                    f"', ') FROM acme_orders WHERE order_id = {int(oid)}"))
        # the outbox drains: the job on every server at clock times ahead (a delivery whose
        # server died keeps its claim for a while; a failed try waits for its retry time)
        t_drain = time.time()
        pending = None
        for k in range(1, 16):
            for h in cl.servers:
                try:
                    requests.post(h.api + "/staff/jobs/run", timeout=120,
                                  headers={"Authorization": f"Bearer {staff_token}",
                                           "X-SSLOrders-Clock": str(int(time.time()) + 600 * k)})
                except requests.RequestException:
                    pass
            pending = cl.sql("SELECT count(*) FROM outbox WHERE status = 'pending'")
            if pending == "0":
                break
            time.sleep(1)
        log(f"outbox drained in {time.time() - t_drain:.1f} s ({pending} pending)")
        total = sum(load.counts.values())
        log(f"load: {total} requests in {elapsed:.0f} s by {WORKERS} clients; by kind: "
            f"{dict(load.counts)}")
        log(f"errors by kind: {dict(load.errors) or 'none'}")
        log(f"background job runs (3 servers at once every 2 s): {dict(load.jobs)}")
        log(f"ACME: {load.acme_started} started, {len(load.acme_valid)} issued, failed: "
            f"{dict(load.acme_failed) or 'none'}")
        for name, t in events:
            rec = load.recovery(t)
            log(f"recovery after '{name}': " + (f"{rec:.1f} s" if rec is not None else "not seen"))
        check("load ran", total > 100 and len(load.created) > 10,
              f"{total} requests, {len(load.created)} orders created")
        # ---- invariants ---------------------------------------------------------------
        ids = set(int(x) for x in cl.sql("SELECT id FROM orders").split())
        missing = sorted(set(load.created) - ids)
        check("every order that got a 2xx exists", not missing, f"missing {missing[:10]}")
        twice = cl.sql("SELECT count(*) FROM (SELECT order_id FROM ledger WHERE kind = 'charge' "
                       "GROUP BY order_id HAVING count(*) > 1) x")
        check("no order charged twice", twice == "0", twice)
        orphans = cl.sql("SELECT count(*) FROM ledger l WHERE l.kind = 'charge' AND NOT EXISTS "
                         "(SELECT 1 FROM orders o WHERE o.id = l.order_id)")
        check("every charge has its order", orphans == "0", orphans)
        unpaid = cl.sql("SELECT count(*) FROM orders o WHERE NOT EXISTS (SELECT 1 FROM ledger l "
                        "WHERE l.order_id = o.id AND l.kind = 'charge')")
        check("every order has its charge", unpaid == "0", unpaid)
        off = cl.sql("SELECT count(*) FROM teams t LEFT JOIN team_balances b ON b.team_id = t.id "
                     "WHERE COALESCE(b.balance, 0) <> COALESCE((SELECT sum(amount) "
                     "FROM ledger l WHERE l.team_id = t.id), 0)")
        check("every balance equals its ledger", off == "0", off)
        dup = cl.sql("SELECT count(*) FROM (SELECT order_id FROM certificates GROUP BY order_id "
                     "HAVING count(*) > 1) x")
        check("no certificate issued twice for one issuance", dup == "0", dup)
        acts = set(int(x) for x in cl.sql("SELECT id FROM orders WHERE status = 'ACT'").split())
        check("every order that answered ACT is ACT", load.issued <= acts,
              f"{len(load.issued)} answered ACT, {len(load.issued - acts)} not ACT")
        # mail and event messages come from the outbox (consumer 0): delivered at least once;
        # one delivered twice must come from one outbox row tried twice (a try that ran the
        # command and lost its database, or its server, before recording it: the job retries
        # it once its claim ends), never from two rows of one event
        tried = collections.defaultdict(list)  # (order id, type) -> [attempts of each row]
        for row in cl.sql("SELECT order_id, type, attempts FROM outbox WHERE consumer = 0").splitlines():
            oid, typ, n = row.split("|")
            tried[(int(oid), typ)].append(int(n))
        retried = {o for (o, _), ns in tried.items() if max(ns) > 1}
        names = {}  # common name -> order id
        for row in cl.sql("SELECT id, common_name FROM orders WHERE common_name <> ''").splitlines():
            oid, cn = row.split("|", 1)
            names[cn] = int(oid)
        mails = collections.Counter()
        for h in cl.servers:
            for m in h.mails():
                mails[(m["To"], m["Subject"])] += 1
        dup_mail = [k for k, n in mails.items() if n > 1]
        unexplained = [k for k in dup_mail
                       if not any(cn in str(k[1]) and o in retried for cn, o in names.items())]
        check("a mail delivered twice only by a retried outbox row", not unexplained,
              unexplained[:5])
        issued_mail = sum(1 for (to, subj) in mails if "is issued" in (subj or ""))
        msgs = collections.Counter()
        for h in cl.servers:
            for m in h.messages():
                msgs[tuple(m[:2])] += 1
        dup_msg = [k for k, n in msgs.items() if n > 1]
        unexplained = [k for k in dup_msg if not k[1].isdigit() or int(k[1]) not in retried]
        check("an event message delivered twice only by a retried outbox row", not unexplained,
              unexplained[:5])
        log(f"outbox (mail, messages): {sum(len(v) for v in tried.values())} rows, "
            f"{sum(1 for v in tried.values() for n in v if n > 1)} tried more than once; "
            f"duplicates delivered: {len(dup_mail)} mails, {len(dup_msg)} messages")
        certs = int(cl.sql("SELECT count(*) FROM certificates"))
        issued_msgs = sum(1 for k in msgs if k[0] == "issued")
        log(f"certificates {certs}; 'issued' event messages {issued_msgs} (a server killed between "
            f"the commit and the message loses it: {certs - issued_msgs} lost); 'issued' mails "
            f"{issued_mail}")
        # ---- ACME -------------------------------------------------------------------------
        check("ACME issuances completed under the chaos", len(load.acme_valid) > 0,
              f"{len(load.acme_valid)} of {load.acme_started}")
        # cert_id > 0 is the certificate; while processing it is -(the SSL order's newest
        # certificate id at finalize) - 1, so two fresh orders still processing share -1
        shared = cl.sql("SELECT count(*) FROM (SELECT cert_id FROM acme_orders WHERE cert_id > 0 "
                        "GROUP BY cert_id HAVING count(*) > 1) x")
        check("no certificate belongs to two ACME orders", shared == "0", shared)
        log("ACME orders by status at the end: " + ", ".join(
            cl.sql("SELECT status || ' ' || count(*) FROM acme_orders GROUP BY status "
                   "ORDER BY status").splitlines()))
        wrong = []
        ids_ = ",".join(str(o) for o in load.acme_valid) or "0"
        per = {}  # order id -> (ACME orders with a certificate, certificates, the PEMs on one line)
        for row in cl.sql("SELECT o.id, (SELECT count(*) FROM acme_orders a WHERE a.order_id = o.id "
                          "AND a.cert_id <> 0), (SELECT count(*) FROM certificates c WHERE "
                          "c.order_id = o.id), (SELECT string_agg(translate(c.pem, chr(10) || chr(13) "
                          "|| ' ', ''), '') FROM certificates c WHERE c.order_id = o.id) "
                          f"FROM orders o WHERE o.id IN ({ids_})").splitlines():
            oid, a, n, pem = row.split("|")
            per[int(oid)] = (a, n, pem)
        for oid, chain in load.acme_valid.items():
            got_ = per.get(oid, ("?", "?", ""))
            flat = "".join(chain.split())
            if got_[:2] != ("1", "1") or not got_[2] or got_[2] not in flat:
                wrong.append((oid,) + got_[:2])
        check("no certificate issued twice for one ACME order (one ACME order, one certificate, "
              "the one downloaded)", not wrong, wrong[:5])
        nocert = cl.sql("SELECT count(*) FROM acme_orders a WHERE a.status = 'valid' AND NOT EXISTS "
                        "(SELECT 1 FROM certificates c WHERE c.id = a.cert_id)")
        check("every valid ACME order has its certificate", nocert == "0", nocert)
        # ---- webhooks -----------------------------------------------------------------------
        rows = cl.sql("SELECT event_id || ' ' || consumer || ' ' || status || ' ' || type || ' ' || "
                      "order_id FROM outbox WHERE consumer <> 0").splitlines()
        got = collections.defaultdict(list)  # (path, event id) -> [body]
        with receiver.lock:
            hits = list(receiver.hits)
        for hit in hits:
            got[(hit["path"], hit["headers"].get("webhook-id"))].append(hit["body"])
        lost, undelivered, created_events = [], [], set()
        for row in rows:
            eid, consumer, status, typ, order_id = row.split(" ")
            path = hooks.get(int(consumer), ("?",))[0]
            if status != "done":
                undelivered.append((eid, status, typ))
            if not got.get((path, eid)):
                lost.append((eid, status, typ))
            if typ == "order.created":
                created_events.add(int(order_id))
        check("webhook events were sent", len(rows) > 10, f"{len(rows)} events, {len(hits)} POSTs")
        check("every webhook event delivered (done, and received at its endpoint)",
              not lost and not undelivered, f"lost {lost[:5]}, not done {undelivered[:5]}")
        no_event = sorted(set(load.created) - created_events)
        check("every order that got a 2xx has its order.created event", not no_event, no_event[:10])
        changed = [k for k, bodies in got.items() if len(set(bodies)) > 1]
        check("one webhook id never delivered with different content", not changed, changed[:5])
        secrets = {path: secret for path, secret in hooks.values()}
        unsigned = [h["headers"].get("webhook-id") for h in hits
                    if h["path"] not in secrets or not signed(secrets[h["path"]], h)]
        check("every webhook POST carries a valid Standard Webhooks signature", not unsigned,
              unsigned[:5])
        dups = sum(len(b) - 1 for b in got.values())
        log(f"webhooks: {len(rows)} events, {len(hits)} POSTs, {dups} duplicate deliveries "
            f"(at least once: a server killed between the POST and its commit sends it again)")
        # ---- reminders ----------------------------------------------------------------------
        mails = [m for h in cl.servers for m in h.mails()]
        bad_rem, twice = [], []
        for oid, rcpt in load.reminded.items():
            # the recipient gets every mail of the order from now on (an 'is issued' mail
            # still in the outbox when the reminder was set, ...): count the reminder's own
            reminder_subject = re.compile(r"^Your certificate for .* (expires in|expired) ")
            got_ = [m for m in mails if rcpt in str(m["To"])
                    and reminder_subject.match(str(m["Subject"]))]
            rows_ = tried.get((oid, "order.expiring"), [])
            # one reminder: one outbox row (reminders_sent), one mail to the recipient, or two
            # by that row retried (at least once)
            if len(rows_) != 1 or not got_ or len(got_) > rows_[0] \
                    or len({str(m["Subject"]) for m in got_}) != 1:
                bad_rem.append((oid, len(rows_), len(got_),
                                sorted({str(m["Subject"]) for m in mails if rcpt in str(m["To"])})))
            elif len(got_) > 1:
                twice.append(oid)
        check("reminders were set", len(load.reminded) > 0, len(load.reminded))
        check("every reminder written once and delivered to its recipient (at least once; "
              "twice only by its retried outbox row)", not bad_rem,
              f"{len(load.reminded)} reminders; (order, outbox rows, mails) wrong {bad_rem[:10]}")
        log(f"reminders: {len(load.reminded)} set, delivered twice (retried row): {twice or 'none'}")
        # error logs: only announced lines
        bad = []
        taken = collections.Counter()
        for path in [h.error_log for h in cl.servers] + [cl.blog]:
            with open(path, errors="replace") as f:
                for line in f:
                    for tag in ("SO00703", "SO00603"):
                        taken[tag] += tag in line
                    if harness.BAD_LINE.search(line) and not EXPECTED.search(line):
                        bad.append(line.strip())
        log(f"claims taken over from killed children: orders (SO00703) {taken['SO00703']}, "
            f"outbox rows (SO00603) {taken['SO00603']}")
        check("the error logs hold only announced lines", not bad, "\n" + "\n".join(bad[:15]))
    except Exception as e:  # a broken setup is a failure, not a crash without a summary
        import traceback
        traceback.print_exc()
        check("cluster test ran", False, repr(e))
    finally:
        cl.close()
        receiver.close()
    passed = sum(1 for _, ok in results if ok)
    failed = len(results) - passed
    print(f"cluster test: {passed} passed, {failed} failed in {time.time() - t_start:.0f} s")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
