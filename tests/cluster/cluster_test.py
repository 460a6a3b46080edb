"""make test-cluster: three httpd servers loading mod_sslorders on one PostgreSQL primary
with a streaming standby, behind a fourth httpd with mod_proxy_balancer, under mixed load
while the test kills httpd children, kills a whole server and restarts it, restarts
PostgreSQL, and promotes the standby (the servers find it through libpq's multi-host
DBDParams with target_session_attrs=read-write: no configuration edit). Then it checks
the invariants and prints the numbers and a summary line "N passed, N failed".

Everything listens on 127.0.0.1 on free ports, runs for CLUSTER_SECONDS (default 45)
of load, and is removed afterwards (SO_KEEP=1 keeps the directory).

Environment: SO_BUILD (the build directory), CLUSTER_SECONDS, CLUSTER_WORKERS (6).
"""
import collections
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

SECONDS = int(os.environ.get("CLUSTER_SECONDS", "45"))
WORKERS = int(os.environ.get("CLUSTER_WORKERS", "6"))
PG = harness.PGBIN

# error log lines the chaos announces: the database away and back, lost connections,
# children killed, the balancer finding a member down
EXPECTED = re.compile(
    r"SO00026|SO00027|SO00022|SO00003.*(terminat|connection|shut|recovery|read-only|closed)|"
    # an outbox delivery that lost its database (restart, promotion) is retried by the job
    r"SO0060[02]:.*(terminat|connection|shut|recovery|read-only|closed|could not)|"
    r"AH00629|AH02655|AH00633|AH00632|AH00639|AH00052|AH00051|AH00959|AH00957|AH01114|"
    r"AH01102|AH00898|AH01097|AH00940|AH10159|AH00169|AH00060|SO00234|SO00238|SO00220")


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
               f"'{p.dir}'\nfsync = off\nfull_page_writes = off\nmax_connections = 400\n"
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
        for i in range(3):
            h = harness.Httpd(self.base, "pgsql", self.params(), name=f"so{i + 1}", dcv=self.dcv,
                              extra="DBDExptime 30\n")
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
        self.bport = harness.free_port()
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
        elif st is None or st >= 500:
            with self.lock:
                self.to_validate[team.slug].append((team, oid))

    def worker(self, n):
        team = self.teams[n % len(self.teams)]
        s = requests.Session()
        s.headers["Authorization"] = f"Bearer {team.token}"
        while not self.stop.is_set():
            x = random.random()
            if x < 0.30:
                self.create(s, team)
            elif x < 0.40:
                self.checkout(s, team)
            elif x < 0.55:
                self.validate(s, team)
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
                os.kill(random.choice(kids), signal.SIGKILL)
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
        # leftover validations finish (the servers are on the promoted standby now)
        s = requests.Session()
        time.sleep(2)
        total = sum(load.counts.values())
        log(f"load: {total} requests in {elapsed:.0f} s by {WORKERS} clients; by kind: "
            f"{dict(load.counts)}")
        log(f"errors by kind: {dict(load.errors) or 'none'}")
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
        off = cl.sql("SELECT count(*) FROM teams t WHERE t.balance <> COALESCE((SELECT sum(amount) "
                     "FROM ledger l WHERE l.team_id = t.id), 0)")
        check("every balance equals its ledger", off == "0", off)
        dup = cl.sql("SELECT count(*) FROM (SELECT order_id FROM certificates GROUP BY order_id "
                     "HAVING count(*) > 1) x")
        check("no certificate issued twice for one issuance", dup == "0", dup)
        acts = set(int(x) for x in cl.sql("SELECT id FROM orders WHERE status = 'ACT'").split())
        check("every order that answered ACT is ACT", load.issued <= acts,
              f"{len(load.issued)} answered ACT, {len(load.issued - acts)} not ACT")
        # mail and events: at most once per recipient (a server killed between the commit
        # and the mail may lose one: there is no outbox yet, so none are counted missing)
        mails = collections.Counter()
        for h in cl.servers:
            for m in h.mails():
                mails[(m["To"], m["Subject"])] += 1
        dup_mail = [k for k, n in mails.items() if n > 1]
        check("every mail delivered at most once per recipient", not dup_mail, dup_mail[:5])
        issued_mail = sum(1 for (to, subj) in mails if "is issued" in (subj or ""))
        msgs = collections.Counter()
        for h in cl.servers:
            for m in h.messages():
                msgs[tuple(m[:2])] += 1
        dup_msg = [k for k, n in msgs.items() if n > 1]
        check("every event message delivered at most once", not dup_msg, dup_msg[:5])
        certs = int(cl.sql("SELECT count(*) FROM certificates"))
        issued_msgs = sum(1 for k in msgs if k[0] == "issued")
        log(f"certificates {certs}; 'issued' event messages {issued_msgs} (a server killed between "
            f"the commit and the message loses it: {certs - issued_msgs} lost); 'issued' mails "
            f"{issued_mail}")
        # error logs: only announced lines
        bad = []
        for path in [h.error_log for h in cl.servers] + [cl.blog]:
            with open(path, errors="replace") as f:
                for line in f:
                    if harness.BAD_LINE.search(line) and not EXPECTED.search(line):
                        bad.append(line.strip())
        check("the error logs hold only announced lines", not bad, "\n" + "\n".join(bad[:15]))
    except Exception as e:  # a broken setup is a failure, not a crash without a summary
        import traceback
        traceback.print_exc()
        check("cluster test ran", False, repr(e))
    finally:
        cl.close()
    passed = sum(1 for _, ok in results if ok)
    failed = len(results) - passed
    print(f"cluster test: {passed} passed, {failed} failed in {time.time() - t_start:.0f} s")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
