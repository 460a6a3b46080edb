"""Test harness: a real httpd loading the freshly built module, on SQLite or on a
real PostgreSQL server started here, plus helpers to talk to the API and the CLI.

Environment:
  SO_DB     sqlite3 (default) or pgsql
  SO_BUILD  the build directory holding mod_sslorders.so and sslordersctl
  SO_ASAN   1 when the module is an ASan/UBSan build (libasan is preloaded)
  SO_TMP    where the test directories are made (default /tmp)
"""
import glob
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid

import requests

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.environ.get("SO_BUILD", os.path.join(ROOT, "build"))
DB = os.environ.get("SO_DB", "sqlite3")
JOB_RUN_TIMEOUT = 120  # seconds: POST /staff/jobs/run may deliver the outbox for 50 s
ASAN = os.environ.get("SO_ASAN") == "1"
HTTPD = "/usr/sbin/apache2"
MODULES = "/usr/lib/apache2/modules"
PGBIN = sorted(glob.glob("/usr/lib/postgresql/*/bin"))[-1] if glob.glob("/usr/lib/postgresql/*/bin") else ""
RUN_USER = "www-data"
# where test directories are made (SO_TMP: e.g. a directory of one's own on a shared machine)
TMP = os.environ.get("SO_TMP", "/tmp")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_port(port, timeout=20.0, up=True):
    deadline = time.time() + timeout
    while time.time() < deadline:
        s = socket.socket()
        s.settimeout(0.2)
        try:
            s.connect(("127.0.0.1", port))
            s.close()
            if up:
                return True
        except OSError:
            if not up:
                return True
        time.sleep(0.05)
    return False


def as_user(user):
    pw = pwd.getpwnam(user)

    def demote():
        os.setgid(pw.pw_gid)
        os.setuid(pw.pw_uid)
    return demote


def chown_tree(path, user):
    pw = pwd.getpwnam(user)
    if not os.path.isdir(path):
        os.chown(path, pw.pw_uid, pw.pw_gid)
        return
    for dirpath, dirnames, filenames in os.walk(path):
        os.chown(dirpath, pw.pw_uid, pw.pw_gid)
        for f in filenames:
            os.chown(os.path.join(dirpath, f), pw.pw_uid, pw.pw_gid)


class Postgres:
    """A PostgreSQL cluster of our own in a temporary directory, on a free port."""

    def __init__(self, base):
        self.dir = os.path.join(base, "pg")
        self.port = free_port()
        os.makedirs(self.dir)
        shutil.chown(self.dir, "postgres", "postgres")
        self.data = os.path.join(self.dir, "data")
        self.sock = self.dir
        self.dbname = "sslorders"

    def _run(self, *args, check=True):
        return subprocess.run(list(args), preexec_fn=as_user("postgres"), cwd=self.dir,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                              check=check)

    def init(self):
        self._run(f"{PGBIN}/initdb", "-D", self.data, "-A", "trust", "-U", "postgres",
                  "--no-sync", "-E", "UTF8")
        with open(os.path.join(self.data, "postgresql.conf"), "a") as f:
            f.write(f"\nport = {self.port}\nlisten_addresses = '127.0.0.1'\n"
                    f"unix_socket_directories = '{self.sock}'\nfsync = off\n"
                    "synchronous_commit = off\nfull_page_writes = off\nmax_connections = 1000\n")
        self.start()
        self._run(f"{PGBIN}/createdb", "-h", self.sock, "-p", str(self.port), "-U", "postgres",
                  self.dbname)

    def start(self):
        self._run(f"{PGBIN}/pg_ctl", "-D", self.data, "-l", os.path.join(self.dir, "pg.log"),
                  "-w", "start")

    def stop(self):
        self._run(f"{PGBIN}/pg_ctl", "-D", self.data, "-m", "fast", "-w", "stop", check=False)

    def psql(self, sql, dbname=None):
        return self._run(f"{PGBIN}/psql", "-h", self.sock, "-p", str(self.port), "-U", "postgres",
                         "-d", dbname or self.dbname, "-Atc", sql).stdout

    def params(self, dbname=None):
        return (f"host=127.0.0.1 port={self.port} dbname={dbname or self.dbname} user=postgres")

    def create_db(self, name):
        self._run(f"{PGBIN}/createdb", "-h", self.sock, "-p", str(self.port), "-U", "postgres", name)


class Httpd:
    """httpd with mod_sslorders in a private server root."""

    def __init__(self, base, db_driver, db_params, name="httpd", extra="", log_level=None,
                 dcv=None):
        self.dir = os.path.join(base, name)
        self.port = free_port()
        self.db_driver = db_driver
        self.db_params = db_params
        self.extra = extra
        self.log_level = log_level or "warn core:notice sslorders:info"
        for d in ("run", "logs", "var", "htdocs"):
            os.makedirs(os.path.join(self.dir, d), exist_ok=True)
        # the children (www-data) read the portal and write the SQLite files
        shutil.copytree(os.path.join(ROOT, "htdocs"), os.path.join(self.dir, "htdocs"),
                        dirs_exist_ok=True)
        chown_tree(os.path.join(self.dir, "var"), RUN_USER)
        os.chmod(self.dir, 0o755)
        self.conf = os.path.join(self.dir, "httpd.conf")
        self.error_log = os.path.join(self.dir, "logs", "error.log")
        self.log_offset = 0
        self.url = f"http://127.0.0.1:{self.port}"
        self.api = self.url + "/v1beta"
        self.dcv = dcv
        self.sinks = True          # record mail and lifecycle messages (python scripts)
        self.seal_max_age = 4      # seconds: tests see seal changes quickly
        self.ca_dir = os.path.join(self.dir, "ca")
        # mail and lifecycle messages are recorded here (run as the httpd User)
        for name in ("mailsink.py", "messagesink.py"):
            dst = os.path.join(self.dir, name)
            shutil.copy(os.path.join(ROOT, "tests", "integration", "sinks.py"), dst)
            os.chmod(dst, 0o755)
        for d in ("mail",):
            os.makedirs(os.path.join(self.dir, d), exist_ok=True)
        chown_tree(os.path.join(self.dir, "mail"), RUN_USER)
        open(os.path.join(self.dir, "messages.log"), "a").close()
        chown_tree(os.path.join(self.dir, "messages.log"), RUN_USER)

    def write_conf(self):
        with open(os.path.join(ROOT, "conf", "httpd-dev.conf.in")) as f:
            text = f.read()
        values = {
            "SERVER_ROOT": self.dir, "PORT": str(self.port),
            "RUN_DIR": os.path.join(self.dir, "run"), "LOG_DIR": os.path.join(self.dir, "logs"),
            "LOG_LEVEL": self.log_level, "USER": RUN_USER, "GROUP": RUN_USER, "MODULES": MODULES,
            "MODULE": os.path.join(BUILD, "mod_sslorders.so"), "DB_DRIVER": self.db_driver,
            "DB_PARAMS": self.db_params, "HTDOCS": os.path.join(self.dir, "htdocs"),
            "CA_DIR": self.ca_dir, "EXTRA": self.issuance_conf() + self.extra,
        }
        for k, v in values.items():
            text = text.replace(f"@{k}@", v)
        if ASAN:
            # ASan's allocator refuses mallopt (SO00752): the directive is not for that build
            text = text.replace("\nSSLOrdersMallocMmapThreshold ", "\n# SSLOrdersMallocMmapThreshold ")
        with open(self.conf, "w") as f:
            f.write(text)

    def issuance_conf(self):
        conf = ["SSLOrdersTestClock on",
                "SSLOrdersMailFrom certificates@sslorders.test",
                "SSLOrdersJobInterval 3600",
                # webhooks to the tests' receivers on 127.0.0.1 (test_webhooks.py)
                "SSLOrdersWebhookAllowHTTP on",
                "SSLOrdersWebhookAllowPrivate on",
                f"SSLOrdersSealMaxAge {self.seal_max_age}",
                # ACME rate limits off: every test's accounts come from 127.0.0.1
                "SSLOrdersACMERateLimit 0 0"]
        if self.sinks:
            conf += [f"SSLOrdersMailCommand {self.dir}/mailsink.py",
                     f"SSLOrdersMessageCmd {self.dir}/messagesink.py"]
        if self.dcv:
            conf += [f"SSLOrdersDCVConnectTo *:80 127.0.0.1:{self.dcv.http_port}",
                     f"SSLOrdersDCVConnectTo *:443 127.0.0.1:{self.dcv.https_port}",
                     f"SSLOrdersDCVNameserver 127.0.0.1:{self.dcv.dns_port}",
                     # CAA is checked against the test DNS server (which has no CAA records)
                     "SSLOrdersCAA on"]
        return "\n".join(conf) + "\n"

    def mails(self):
        """The mails sent so far, oldest first (email.message.Message objects)."""
        import email
        d = os.path.join(self.dir, "mail")
        out = []
        for name in sorted(os.listdir(d)):
            if name.endswith(".eml"):
                with open(os.path.join(d, name), "rb") as f:
                    out.append(email.message_from_bytes(f.read()))
        return out

    def messages(self):
        with open(os.path.join(self.dir, "messages.log")) as f:
            return [l.split() for l in f.read().splitlines()]

    def _env(self):
        env = dict(os.environ)
        if ASAN:
            lib = subprocess.run(["gcc", "-print-file-name=libasan.so"], capture_output=True,
                                 text=True).stdout.strip()
            ubsan = subprocess.run(["gcc", "-print-file-name=libubsan.so"], capture_output=True,
                                   text=True).stdout.strip()
            env["LD_PRELOAD"] = f"{lib} {ubsan}"
            env["ASAN_OPTIONS"] = (f"detect_leaks=0:abort_on_error=0:halt_on_error=1:"
                                   f"allow_user_segv_handler=0:handle_segv=1:"
                                   f"log_path={self.dir}/logs/asan")
            env["UBSAN_OPTIONS"] = f"print_stacktrace=1:halt_on_error=1:log_path={self.dir}/logs/ubsan"
        return env

    def start(self, wait=True):
        self.write_conf()
        r = subprocess.run([HTTPD, "-f", self.conf, "-k", "start"], env=self._env(),
                           capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"httpd failed to start: {r.stdout}{r.stderr}\n{self.read_log()}")
        if wait and not wait_port(self.port):
            raise RuntimeError(f"httpd did not listen on {self.port}:\n{self.read_log()}")
        if wait:
            # wait until a child answers
            deadline = time.time() + 20
            while time.time() < deadline:
                try:
                    requests.get(self.url + "/", timeout=2)
                    break
                except requests.RequestException:
                    time.sleep(0.1)

    def pid(self):
        try:
            with open(os.path.join(self.dir, "run", "httpd.pid")) as f:
                return int(f.read().strip())
        except (OSError, ValueError):
            return None

    def stop(self):
        pid = self.pid()
        subprocess.run([HTTPD, "-f", self.conf, "-k", "stop"], env=self._env(),
                       capture_output=True)
        deadline = time.time() + 20
        while pid and time.time() < deadline:
            try:
                os.kill(pid, 0)
                time.sleep(0.05)
            except OSError:
                break
        wait_port(self.port, timeout=5, up=False)

    def graceful(self):
        subprocess.run([HTTPD, "-f", self.conf, "-k", "graceful"], env=self._env(), check=True)
        time.sleep(1.0)

    def kill_all(self, timeout=20):
        """SIGKILL every process of this server: the parent, its children, and a child the
        parent forked after it was listed (an orphan once the parent is gone, which still
        holds the listening socket). Found by the configuration file on their command
        line; returns when none is left and every one killed is reaped (a zombie parent
        would make `httpd -k start` think the server is still running)."""
        deadline = time.time() + timeout
        killed = set()
        while True:
            pids = []
            for d in os.listdir("/proc"):
                if not d.isdigit():
                    continue
                try:
                    with open(f"/proc/{d}/cmdline", "rb") as f:
                        args = f.read().split(b"\0")
                except OSError:
                    continue
                if self.conf.encode() in args:
                    pids.append(int(d))
            if time.time() > deadline:
                return pids
            if not pids:
                if not any(os.path.exists(f"/proc/{p}") for p in killed):
                    return []
                time.sleep(0.1)
                continue
            killed.update(pids)
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            time.sleep(0.1)

    def child_pids(self):
        ppid = self.pid()
        out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(ppid)], capture_output=True,
                             text=True).stdout
        return [int(x) for x in out.split()]

    def read_log(self):
        try:
            with open(self.error_log, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def new_log_lines(self):
        try:
            with open(self.error_log, errors="replace") as f:
                f.seek(self.log_offset)
                text = f.read()
                self.log_offset = f.tell()
        except OSError:
            return []
        return text.splitlines()

    def sanitizer_reports(self):
        return glob.glob(os.path.join(self.dir, "logs", "asan*")) + \
            glob.glob(os.path.join(self.dir, "logs", "ubsan*"))


# [error]/[warn] and worse, and a child that died of a crash (AH00052 is logged at notice;
# a SIGKILL, which the cluster test sends, is not a crash)
BAD_LINE = re.compile(r"\[[a-z_0-9]+:(error|warn|crit|alert|emerg)\]"
                      r"|exit signal (Segmentation|Abort|Bus|Illegal|Floating|Trace)"
                      r"|Assertion .* failed")


class Env:
    """One test session: the database server (pgsql), httpd, the CLI."""

    def __init__(self):
        self.base = tempfile.mkdtemp(prefix="sslorders-test-", dir=TMP)
        os.chmod(self.base, 0o755)
        self.pg = None
        self.expected_log = []
        if DB == "pgsql":
            self.pg = Postgres(self.base)
            self.pg.init()
            self.db_params = self.pg.params()
        else:
            var = os.path.join(self.base, "httpd", "var")
            self.db_params = os.path.join(var, "so.db")
        self.dcv = DcvServers(self.base)
        self.httpd = Httpd(self.base, DB, self.db_params, dcv=self.dcv)
        self.servers = [self.httpd]
        self._staff = None

    def start(self):
        self.httpd.start()

    def close(self):
        for s in self.servers:
            s.stop()
        self.dcv.close()
        if self.pg:
            self.pg.stop()
        if os.environ.get("SO_KEEP") != "1":
            shutil.rmtree(self.base, ignore_errors=True)

    # ---- the error log gate -------------------------------------------------------
    def expect_log(self, pattern):
        """Allow [error]/[warn] lines matching pattern during the current test."""
        self.expected_log.append(re.compile(pattern))

    def unexpected_log_lines(self):
        bad = []
        for s in self.servers:
            for line in s.new_log_lines():
                if BAD_LINE.search(line) and not any(p.search(line) for p in self.expected_log):
                    bad.append(line)
            reports = s.sanitizer_reports()
            for r in reports:
                with open(r, errors="replace") as f:
                    bad.append(f"sanitizer report {r}:\n" + f.read()[:4000])
                os.rename(r, r + ".seen")
        self.expected_log = []
        return bad

    # ---- the CLI ------------------------------------------------------------------
    def ctl(self, *args, input=None, check=True):
        cmd = [os.path.join(BUILD, "sslordersctl"), "--driver", DB, "--params", self.db_params]
        cmd += [str(a) for a in args]
        r = subprocess.run(cmd, input=input, capture_output=True, text=True)
        if check and r.returncode != 0:
            raise RuntimeError(f"sslordersctl {' '.join(map(str, args))} failed "
                               f"({r.returncode}): {r.stdout}{r.stderr}")
        return r

    def new_user(self, name=None, password=None, staff=False):
        name = name or "u" + uuid.uuid4().hex[:12]
        password = password or "pw-" + uuid.uuid4().hex
        args = ["user", "add", name] + (["--staff"] if staff else [])
        self.ctl(*args, input=password + "\n")
        return name, password

    def staff(self):
        """A client of a staff user."""
        if not self._staff:
            # a long-lived token: the jobs run at clock times years ahead
            self._staff = self.new_team(user=self.new_user(staff=True), ttl=24 * 3650).client()
        return self._staff

    def run_jobs(self, at=None):
        """Run the background job once (POST /staff/jobs/run), optionally at a given time."""
        h = {"X-SSLOrders-Clock": str(int(at))} if at else None
        # one run may deliver the outbox for up to 50 s (so_outbox_run's bound)
        st, body = self.staff().post("/staff/jobs/run", headers=h, timeout=JOB_RUN_TIMEOUT)
        assert st == 200, body
        return body["data"]["worked"]

    def new_team(self, role="owner", balance=None, user=None, currency="EUR", ttl=None):
        """A team with one user of role; returns a Team with a token."""
        slug = "t" + uuid.uuid4().hex[:12]
        self.ctl("team", "add", slug, "--name", f"Team {slug}", "--currency", currency)
        if user is None:
            user = self.new_user()
        self.ctl("member", "add", slug, user[0], role)
        extra = ["--ttl", str(ttl)] if ttl else []
        token = self.ctl("token", "create", slug, user[0], *extra).stdout.strip()
        if balance is not None:
            self.ctl("balance", "credit", slug, balance)
        return Team(self, slug, user[0], user[1], token)


class Team:
    def __init__(self, env, slug, username, password, token):
        self.env = env
        self.slug = slug
        self.username = username
        self.password = password
        self.token = token

    def client(self, server=None):
        return Client((server or self.env.httpd).api, self.token)

    def add_member(self, role):
        user = self.env.new_user()
        self.env.ctl("member", "add", self.slug, user[0], role)
        token = self.env.ctl("token", "create", self.slug, user[0]).stdout.strip()
        return Team(self.env, self.slug, user[0], user[1], token)


class Client:
    """requests against the API with a bearer token; answers (status, json)."""

    def __init__(self, base, token=None):
        self.base = base
        self.token = token
        self.s = requests.Session()

    def headers(self, extra=None):
        h = {}
        if self.token:
            h["Authorization"] = f"Bearer {self.token}"
        if extra:
            h.update(extra)
        return h

    def call(self, method, path, json=None, params=None, headers=None, data=None, raw=False,
             files=None, timeout=30):
        r = self.s.request(method, self.base + path, json=json, params=params, data=data,
                           files=files, headers=self.headers(headers), timeout=timeout)
        if raw:
            return r
        try:
            body = r.json()
        except ValueError:
            body = None
        return r.status_code, body

    def raw(self, method, path, **kw):
        """The requests.Response itself (downloads, uploads)."""
        return self.call(method, path, raw=True, **kw)

    def get(self, path, **kw):
        return self.call("GET", path, **kw)

    def post(self, path, json=None, **kw):
        return self.call("POST", path, json=json, **kw)

    def put(self, path, json=None, **kw):
        return self.call("PUT", path, json=json, **kw)

    def delete(self, path, **kw):
        return self.call("DELETE", path, **kw)


# ---- Swagger (OpenAPI 2) conformance -------------------------------------------------
_swagger = {}


def swagger_validate(spec, definition, instance):
    """Validate instance against #/definitions/<definition> of swagger/<spec>.swagger.json
    (the Openprovider specs, used as JSON Schema). Raises jsonschema.ValidationError."""
    import json
    import jsonschema
    if spec not in _swagger:
        with open(os.path.join(os.path.dirname(__file__), "swagger", f"{spec}.swagger.json")) as f:
            _swagger[spec] = json.load(f)
    doc = _swagger[spec]
    schema = {"$ref": f"#/definitions/{definition}", "definitions": doc["definitions"]}
    jsonschema.validate(instance, schema)


def env_sql(env, sql):
    """Run SQL on the test database (setup only: e.g. an order that is already ACT)."""
    if DB == "pgsql":
        return env.pg.psql(sql)
    import sqlite3
    con = sqlite3.connect(env.db_params, timeout=10)
    try:
        cur = con.execute(sql)
        rows = cur.fetchall()
        con.commit()
        return "\n".join("|".join(str(c) for c in r) for r in rows)
    finally:
        con.close()


Env.sql = env_sql


def env_server(env, name, extra, dcv=None):
    """One more httpd of the module on the test database (the same CA), started; stop it
    with env.stop_server."""
    h = Httpd(env.base, DB, env.db_params, name=name + "-" + uuid.uuid4().hex[:6], dcv=dcv,
              extra=extra)
    h.ca_dir = env.httpd.ca_dir
    env.servers.append(h)
    h.start()
    return h


def env_stop_server(env, h):
    h.stop()
    env.servers.remove(h)
    h.new_log_lines()


Env.server = env_server
Env.stop_server = env_stop_server


# ---- domain validation servers ----------------------------------------------------------

class DcvServers:
    """What the CA's probes reach during the tests: an HTTP server (port 80 of every
    name, through SSLOrdersDCVConnectTo), an HTTPS server (openssl s_server -WWW, port
    443) and dnsmasq (SSLOrdersDCVNameserver), all on 127.0.0.1."""

    def __init__(self, base):
        import http.server
        import threading
        self.dir = os.path.join(base, "dcv")
        os.makedirs(os.path.join(self.dir, ".well-known", "pki-validation"), exist_ok=True)
        self.http_port = free_port()
        d = self.dir

        class Handler(http.server.SimpleHTTPRequestHandler):
            def __init__(self, *a, **kw):
                super().__init__(*a, directory=d, **kw)

            def log_message(self, *a):
                pass
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", self.http_port), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        # https: a self-signed certificate is fine (the BR do not ask for a trusted one)
        self.https_port = free_port()
        key = os.path.join(base, "dcv-key.pem")
        crt = os.path.join(base, "dcv-crt.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", crt,
                        "-subj", "/CN=dcv.test", "-days", "2"], check=True, capture_output=True)
        self.s_server = subprocess.Popen(
            ["openssl", "s_server", "-quiet", "-WWW", "-accept", f"127.0.0.1:{self.https_port}",
             "-cert", crt, "-key", key], cwd=self.dir, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        wait_port(self.https_port)
        self.dns_port = free_port()
        self.dns_conf = os.path.join(base, "dnsmasq.conf")
        self.records = []
        self.dnsmasq = None
        self._dns_restart()

    def put_file(self, path, content):
        """Publish content at path (e.g. /.well-known/pki-validation/X.txt)."""
        full = os.path.join(self.dir, path.lstrip("/"))
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "w") as f:
            f.write(content)

    def remove_file(self, path):
        try:
            os.unlink(os.path.join(self.dir, path.lstrip("/")))
        except OSError:
            pass

    def add_record(self, rtype, name, value):
        """A CNAME, TXT or A record (dnsmasq restarts with it)."""
        self.records.append((rtype, name.rstrip("."), value.rstrip(".")))
        self._dns_restart()

    def _dns_restart(self):
        if self.dnsmasq:
            self.dnsmasq.terminate()
            self.dnsmasq.wait()
        lines = ["no-resolv", "no-hosts", "listen-address=127.0.0.1", "bind-interfaces",
                 f"port={self.dns_port}", "log-facility=/dev/null",
                 # answer every other name (NXDOMAIN) instead of REFUSED: CAA lookups climb
                 "local=/#/"]
        for rtype, name, value in self.records:
            if rtype == "CNAME":
                lines.append(f"cname={name},{value}")
                # dnsmasq answers a CNAME only when it knows the target: give it an address
                lines.append(f"host-record={value},192.0.2.1")
            elif rtype == "A":
                lines.append(f"host-record={name},{value}")
            else:
                lines.append(f'txt-record={name},"{value}"')
        with open(self.dns_conf, "w") as f:
            f.write("\n".join(lines) + "\n")
        self.dnsmasq = subprocess.Popen(["dnsmasq", "--no-daemon", f"--conf-file={self.dns_conf}",
                                         "--user=root"],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(0.3)

    def close(self):
        self.httpd.shutdown()
        for p in (self.s_server, self.dnsmasq):
            if p:
                p.terminate()
                p.wait()
