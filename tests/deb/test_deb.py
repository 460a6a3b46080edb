"""The Debian package in the system's own httpd (make test-deb, part of make test).

Installs build/deb/libapache2-mod-sslorders_<version>_<arch>.deb with apt, enables the
module with a2enmod (which enables mod_dbd through the .load file's "Depends: dbd"),
starts Debian's apache2 on a free 127.0.0.1 port, gets an order through the API with a
team made by the packaged sslordersctl, then purges the package and checks that nothing
it brought or made is left: files, configuration, data, dpkg state.

It changes the machine's /etc/apache2 while it runs (ports.conf, the enabled modules)
and puts everything back, also when it fails. It needs root and a stopped system apache2.
"""
import glob
import hashlib
import json
import os
import pwd
import socket
import subprocess
import time
import urllib.error
import urllib.request

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PKG = "libapache2-mod-sslorders"
PORTS_CONF = "/etc/apache2/ports.conf"
WATCHED = ["/etc/apache2", "/usr/lib/apache2/modules", "/usr/sbin", "/usr/share/sslorders",
           f"/usr/share/doc/{PKG}", "/usr/share/man/man8", "/var/lib/sslorders"]

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="installs a package: needs root")


def sh(*args, check=True, env=None, inp=None):
    run = subprocess.run(list(args), capture_output=True, text=True, env=env, input=inp)
    if check and run.returncode != 0:
        raise AssertionError(f"{' '.join(args)} exited {run.returncode}:\n{run.stdout}\n{run.stderr}")
    return run


def snapshot():
    """Every file and directory under the watched trees, with a digest of each file."""
    seen = {}
    for top in WATCHED:
        for dirpath, dirnames, filenames in os.walk(top):
            seen[dirpath] = "dir"
            for name in filenames + [d for d in dirnames if os.path.islink(os.path.join(dirpath, d))]:
                path = os.path.join(dirpath, name)
                if os.path.islink(path):
                    seen[path] = "link:" + os.readlink(path)
                elif os.path.isfile(path):
                    with open(path, "rb") as f:
                        seen[path] = hashlib.sha256(f.read()).hexdigest()
    return seen


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def apache_env():
    env = dict(os.environ)
    # apache2ctl would hand a start over to systemd when PID 1 is systemd
    env["APACHE_STARTED_BY_SYSTEMD"] = "true"
    return env


def system_apache_running():
    pidfile = "/var/run/apache2/apache2.pid"
    if not os.path.exists(pidfile):
        return False
    try:
        os.kill(int(open(pidfile).read().strip()), 0)
        return True
    except (ValueError, OSError):
        return False


def call(port, method, path, token=None, body=None):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method=method,
                                 data=json.dumps(body).encode() if body is not None else None)
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    if body is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=10) as ans:
            return ans.status, ans.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


@pytest.fixture(scope="module")
def deb():
    found = sorted(glob.glob(os.path.join(ROOT, "build", "deb", f"{PKG}_*.deb")))
    assert found, "no package: run `make deb` first (make test-deb does)"
    return found[-1]


def test_install_enable_order_purge(deb):
    assert not system_apache_running(), "the system apache2 is running: stop it for this test"
    assert sh("dpkg-query", "-W", "-f=${db:Status-Status}", PKG, check=False).stdout \
        in ("", "not-installed", "config-files"), f"{PKG} is installed already"
    if sh("dpkg-query", "-W", "-f=${db:Status-Status}", PKG, check=False).stdout == "config-files":
        sh("dpkg", "--purge", PKG)

    before = snapshot()
    dbd_was_enabled = sh("a2query", "-q", "-m", "dbd", check=False).returncode == 0
    ports_conf = open(PORTS_CONF).read()
    port = free_port()
    started = False
    try:
        # install: files in place, data directory owned by www-data, schema migrated,
        # the module available but not enabled
        sh("apt-get", "install", "-y", "-q", "--no-install-recommends", deb,
           env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))
        assert os.path.isfile("/usr/lib/apache2/modules/mod_sslorders.so")
        assert os.access("/usr/sbin/sslordersctl", os.X_OK)
        assert os.path.isfile("/usr/share/man/man8/sslordersctl.8.gz")
        assert os.path.isfile("/usr/share/man/man8/mod_sslorders.8.gz")
        assert os.path.isfile("/usr/share/sslorders/htdocs/index.html")
        st = os.stat("/var/lib/sslorders")
        assert pwd.getpwuid(st.st_uid).pw_name == "www-data"
        db = "/var/lib/sslorders/sslorders.db"
        assert os.path.isfile(db), "postinst did not create the schema"
        assert pwd.getpwuid(os.stat(db).st_uid).pw_name == "www-data"
        assert sh("a2query", "-q", "-m", "sslorders", check=False).returncode != 0, \
            "the module must not be enabled by installing the package"
        man = sh("man", "-P", "cat", "8", "sslordersctl", check=False)
        if man.returncode == 0:  # man-db may be absent on a minimal machine
            assert "token create" in man.stdout

        # enable it in the system httpd (mod_dbd comes with it) on a loopback port
        sh("a2enmod", "sslorders")
        assert sh("a2query", "-q", "-m", "dbd", check=False).returncode == 0
        with open(PORTS_CONF, "w") as f:
            f.write(f"Listen 127.0.0.1:{port}\n")
        sh("apache2ctl", "configtest", env=apache_env())
        sh("apache2ctl", "start", env=apache_env())
        started = True
        deadline = time.time() + 20
        while True:
            try:
                status, _ = call(port, "GET", "/pki/root.crt")
                if status == 200:
                    break
            except OSError:
                pass
            assert time.time() < deadline, "the system httpd did not answer"
            time.sleep(0.2)

        # a team, its owner and a token through the packaged CLI (as www-data's database)
        ctl = ["sslordersctl", "--params", db]
        sh(*ctl, "user", "add", "pkgtest", inp="correct horse battery staple\n")
        sh(*ctl, "team", "add", "pkgtest")
        sh(*ctl, "member", "add", "pkgtest", "pkgtest", "owner")
        sh(*ctl, "balance", "credit", "pkgtest", "100")
        token = sh(*ctl, "token", "create", "pkgtest", "pkgtest").stdout.strip()
        assert token

        status, body = call(port, "POST", "/v1beta/ssl/orders", token, {"product_id": 1, "period": 1})
        assert status == 200, body
        order = json.loads(body)["data"]["id"]
        status, body = call(port, "GET", f"/v1beta/ssl/orders/{order}", token)
        assert status == 200, body
        got = json.loads(body)["data"]
        assert got["id"] == order and got["status"] == "PAI"
        status, body = call(port, "GET", "/v1beta/me", token)
        assert status == 200 and json.loads(body)["data"]
        # the CA was made by the server (as www-data) in the package's data directory
        assert os.path.isdir("/var/lib/sslorders/ca")
        status, crt = call(port, "GET", "/pki/root.crt")
        assert status == 200 and len(crt) > 100
    finally:
        if started:
            sh("apache2ctl", "stop", env=apache_env(), check=False)
            deadline = time.time() + 20
            while system_apache_running() and time.time() < deadline:
                time.sleep(0.2)
        sh("a2dismod", "-q", "sslorders", check=False)
        if not dbd_was_enabled:
            sh("a2dismod", "-q", "dbd", check=False)
        with open(PORTS_CONF, "w") as f:
            f.write(ports_conf)
        purge = sh("apt-get", "purge", "-y", "-q", PKG, check=False,
                   env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))

    assert purge.returncode == 0, purge.stderr
    assert sh("dpkg-query", "-W", "-f=${db:Status-Status}", PKG, check=False).stdout \
        in ("", "not-installed")
    after = snapshot()
    added = sorted(set(after) - set(before))
    removed = sorted(set(before) - set(after))
    changed = sorted(k for k in set(before) & set(after) if before[k] != after[k])
    assert not added, f"left behind: {added}"
    assert not removed, f"removed: {removed}"
    assert not changed, f"changed: {changed}"
