"""Real ACME clients (Debian's certbot, lego and Apache's mod_md) against an ACME server:
our module mounted at /acme in an httpd over TLS, or Pebble (the harness's own check that
the clients are driven right, independent of our server).

Everything listens on 127.0.0.1. The clients' challenge listeners use two ports chosen
once (CHALLENGE_HTTP, CHALLENGE_TLS); our server's probes reach them through
SSLOrdersDCVConnectTo (*:80 and *:443), Pebble's through its httpPort/tlsPort and the
harness's dnsmasq (an A record 127.0.0.1 per name). dns-01 TXT records go into the same
dnsmasq, through a small control server the clients' hooks call.
"""
import base64
import datetime
import glob
import http.server
import json
import os
import shutil
import signal
import subprocess
import threading
import time
import urllib.parse

import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

import harness

CLIENT_TIMEOUT = 240  # seconds for one client run (a loaded, shared machine)


def listener_port():
    """A free port for a challenge listener that is bound again and again over a module:
    outside the kernel's ephemeral range, so that no outgoing connection or other test's
    free_port() (port 0) takes it in between."""
    import random
    import socket
    lo, hi = 20000, 32000
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            eph = int(f.read().split()[0])
        hi = min(hi, eph - 1)
    except (OSError, ValueError):
        pass
    for _ in range(200):
        port = random.randint(lo, hi)
        s = socket.socket()
        try:
            s.bind(("127.0.0.1", port))
            return port
        except OSError:
            continue
        finally:
            s.close()
    return harness.free_port()


# ---- a TLS test CA that the clients trust -------------------------------------------------

class TlsPki:
    """A root CA and a server certificate for 127.0.0.1 and localhost (for the ACME
    server's own TLS, not the certificates it issues)."""

    def __init__(self, d):
        os.makedirs(d, exist_ok=True)
        now = datetime.datetime.now(datetime.timezone.utc)
        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ACME test TLS root")])
        ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
              .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
              .not_valid_before(now - datetime.timedelta(hours=1))
              .not_valid_after(now + datetime.timedelta(days=30))
              .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
              .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False,
                                           False), critical=True)
              .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()),
                             critical=False)
              .sign(ca_key, hashes.SHA256()))
        key = ec.generate_private_key(ec.SECP256R1())
        import ipaddress
        crt = (x509.CertificateBuilder()
               .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
               .issuer_name(ca_name).public_key(key.public_key())
               .serial_number(x509.random_serial_number())
               .not_valid_before(now - datetime.timedelta(hours=1))
               .not_valid_after(now + datetime.timedelta(days=30))
               .add_extension(x509.SubjectAlternativeName(
                   [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                   critical=False)
               .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
               .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]),
                              critical=False)
               .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                              critical=False)
               .sign(ca_key, hashes.SHA256()))
        self.ca = os.path.join(d, "tls-ca.pem")
        self.cert = os.path.join(d, "tls-server.pem")
        self.key = os.path.join(d, "tls-server.key")
        with open(self.ca, "wb") as f:
            f.write(ca.public_bytes(serialization.Encoding.PEM))
        with open(self.cert, "wb") as f:
            f.write(crt.public_bytes(serialization.Encoding.PEM))
        with open(self.key, "wb") as f:
            f.write(key.private_bytes(serialization.Encoding.PEM,
                                      serialization.PrivateFormat.TraditionalOpenSSL,
                                      serialization.NoEncryption()))
        os.chmod(self.key, 0o644)
        for p in (d, self.ca, self.cert):
            os.chmod(p, 0o755 if os.path.isdir(p) else 0o644)


def acme_server_conf(tls_port, tls, public_main=False):
    """httpd lines: mod_ssl on tls_port with /acme mounted (our module's ACME server).
    public_main: SSLOrdersPublicURL of the whole server is the TLS one (the API's EAB
    answers then name the https directory), else only the TLS virtual host's."""
    main = f"SSLOrdersPublicURL https://localhost:{tls_port}\n" if public_main else ""
    return main + f"""
<IfModule !ssl_module>
LoadModule ssl_module {harness.MODULES}/mod_ssl.so
</IfModule>
Listen 127.0.0.1:{tls_port}
<Location /acme>
    SetHandler sslorders-acme
    Require all granted
</Location>
<VirtualHost 127.0.0.1:{tls_port}>
    ServerName localhost
    SSLEngine on
    SSLCertificateFile "{tls.cert}"
    SSLCertificateKeyFile "{tls.key}"
    SSLOrdersPublicURL https://localhost:{tls_port}
</VirtualHost>
"""


# ---- DNS records from the clients' hooks -----------------------------------------------------

class DnsControl:
    """An HTTP endpoint on 127.0.0.1 the dns-01 hooks call to add/remove TXT records in the
    harness's dnsmasq: /present?name=&value=, /cleanup?name=&value=."""

    def __init__(self, dcv):
        self.dcv = dcv
        self.port = harness.free_port()
        self.lock = threading.Lock()
        self.seen = []
        ctl = self

        class H(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                u = urllib.parse.urlparse(self.path)
                q = urllib.parse.parse_qs(u.query)
                name = q["name"][0].rstrip(".")
                value = q["value"][0]
                with ctl.lock:
                    if u.path == "/present":
                        ctl.seen.append((name, value))
                        ctl.dcv.add_record("TXT", name, value)
                    else:
                        rec = ("TXT", name, value)
                        if rec in ctl.dcv.records:
                            ctl.dcv.records.remove(rec)
                            ctl.dcv._dns_restart()
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"ok\n")

            def log_message(self, *a):
                pass
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), H)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def hook(self, d):
        """Scripts for certbot (auth/cleanup, CERTBOT_DOMAIN/CERTBOT_VALIDATION) and lego's exec
        provider (present|cleanup FQDN VALUE)."""
        os.makedirs(d, exist_ok=True)
        common = ("#!/usr/bin/python3\nimport os, sys, urllib.parse, urllib.request\n"
                  f"def call(what, name, value):\n"
                  f"    q = urllib.parse.urlencode({{'name': name, 'value': value}})\n"
                  f"    urllib.request.urlopen('http://127.0.0.1:{self.port}/' + what + '?' + q,"
                  f" timeout=30).read()\n")
        paths = {}
        for what in ("present", "cleanup"):
            p = os.path.join(d, f"certbot-{what}.py")
            with open(p, "w") as f:
                f.write(common + f"call('{what}', '_acme-challenge.' + os.environ['CERTBOT_DOMAIN'],"
                        " os.environ['CERTBOT_VALIDATION'])\n")
            os.chmod(p, 0o755)
            paths["certbot-" + what] = p
        p = os.path.join(d, "lego-exec.py")
        with open(p, "w") as f:
            f.write(common + "call(sys.argv[1], sys.argv[2], sys.argv[3])\n")
        os.chmod(p, 0o755)
        paths["lego"] = p
        return paths

    def close(self):
        self.server.shutdown()


# ---- Pebble ------------------------------------------------------------------------------------

class Pebble:
    """Debian's pebble on 127.0.0.1 with EAB required; its validation goes to the clients'
    challenge ports and asks the harness's dnsmasq."""

    EAB = {"kid-1": base64.urlsafe_b64encode(b"pebble-eab-key-one-32-bytes-long").decode().rstrip("="),
           "kid-2": base64.urlsafe_b64encode(b"pebble-eab-key-two-32-bytes-long").decode().rstrip("=")}

    def __init__(self, base, tls, http_port, tls_port, dns_port, env=None, eab=True,
                 eab_keys=None):
        self.dir = os.path.join(base, "pebble")
        os.makedirs(self.dir, exist_ok=True)
        self.port = harness.free_port()
        self.mgmt = harness.free_port()
        self.tls = tls
        conf = {"pebble": {"listenAddress": f"127.0.0.1:{self.port}",
                           "managementListenAddress": f"127.0.0.1:{self.mgmt}",
                           "certificate": tls.cert, "privateKey": tls.key,
                           "httpPort": http_port, "tlsPort": tls_port, "ocspResponderURL": "",
                           "externalAccountBindingRequired": eab}}
        if eab:
            conf["pebble"]["externalAccountMACKeys"] = eab_keys or self.EAB
        self.conf = os.path.join(self.dir, "pebble.json")
        with open(self.conf, "w") as f:
            json.dump(conf, f)
        self.log = open(os.path.join(self.dir, "pebble.log"), "w")
        e = dict(os.environ, **(env or {}))
        self.proc = subprocess.Popen(["/usr/bin/pebble", "-config", self.conf, "-dnsserver",
                                      f"127.0.0.1:{dns_port}"], stdout=self.log,
                                     stderr=subprocess.STDOUT, env=e, cwd=self.dir)
        if not harness.wait_port(self.port, 30):
            raise RuntimeError("pebble did not start: " + self.read_log())
        self.directory = f"https://localhost:{self.port}/dir"

    def read_log(self):
        with open(os.path.join(self.dir, "pebble.log"), errors="replace") as f:
            return f.read()

    def roots(self):
        """Pebble's issuing root (PEM), regenerated at each start."""
        r = requests.get(f"https://localhost:{self.mgmt}/roots/0", verify=self.tls.ca, timeout=10)
        r.raise_for_status()
        return r.text

    def close(self):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


# ---- running clients ------------------------------------------------------------------------

BIND_FAILED = ("Address already in use", "Problem binding to port", "bind: address already in use")


def run(cmd, env, timeout=CLIENT_TIMEOUT, cwd=None):
    """Run a client; once more when its challenge listener could not bind (a port another
    process held for a moment; certbot 2.1 on Python 3.11 reports that as "can't set
    attribute")."""
    rc, out = run_once(cmd, env, timeout, cwd)
    if rc != 0 and any(b in out for b in BIND_FAILED):
        time.sleep(3)
        rc, out2 = run_once(cmd, env, timeout, cwd)
        out += "\n[run again: the listener could not bind]\n" + out2
    return rc, out


def run_once(cmd, env, timeout=CLIENT_TIMEOUT, cwd=None):
    """Run a client in its own process group; kill the whole group on timeout (a client left
    behind would hold the challenge port)."""
    p = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         text=True, start_new_session=True)
    try:
        out, _ = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        out, _ = p.communicate()
        out += f"\n[killed after {timeout}s]"
    return p.returncode, out


def wait_ports_free(*ports, timeout=30):
    for port in ports:
        harness.wait_port(port, timeout=timeout, up=False)


class Certbot:
    def __init__(self, d, directory, ca_bundle, eab, email="acme@sslorders.test"):
        self.d = d
        self.directory = directory
        self.env = dict(os.environ, REQUESTS_CA_BUNDLE=ca_bundle)
        self.eab = eab
        self.email = email
        os.makedirs(d, exist_ok=True)

    def base(self):
        return ["certbot", "--non-interactive", "--config-dir", f"{self.d}/config",
                "--work-dir", f"{self.d}/work", "--logs-dir", f"{self.d}/logs",
                "--server", self.directory]

    def run(self, cmd):
        """certbot 2.1 on Python 3.11 reports every ACME error as "AttributeError: can't set
        attribute" (josepy): add the real error from its log to the output."""
        rc, out = run(cmd, self.env)
        if rc != 0:
            try:
                with open(f"{self.d}/logs/letsencrypt.log", errors="replace") as f:
                    errs = [l.strip() for l in f if "acme.messages.Error" in l or
                            "certbot.errors" in l or "Problem binding" in l]
                out += "\n[from certbot's log]\n" + "\n".join(errs[-5:])
            except OSError:
                pass
        return rc, out

    def certonly(self, names, challenge, http_port=None, hooks=None, extra=()):
        cmd = self.base() + ["certonly", "--agree-tos", "-m", self.email,
                             "--eab-kid=" + self.eab[0], "--eab-hmac-key=" + self.eab[1],
                             "--cert-name", names[0], "--key-type", "ecdsa"]
        if challenge == "http-01":
            cmd += ["--standalone", "--preferred-challenges", "http",
                    "--http-01-port", str(http_port), "--http-01-address", "127.0.0.1"]
        else:
            cmd += ["--manual", "--preferred-challenges", "dns",
                    "--manual-auth-hook", hooks["certbot-present"],
                    "--manual-cleanup-hook", hooks["certbot-cleanup"]]
        for n in names:
            cmd += ["-d", n]
        return self.run(cmd + list(extra))

    def renew(self, name):
        return self.run(self.base() + ["renew", "--cert-name", name, "--force-renewal",
                                       "--no-random-sleep-on-renew"])

    def revoke(self, name, reason="superseded"):
        return self.run(self.base() + ["revoke", "--cert-name", name, "--reason", reason,
                                       "--no-delete-after-revoke"])

    def cert_pem(self, name):
        with open(f"{self.d}/config/live/{name}/cert.pem") as f:
            return f.read()

    def chain_pem(self, name):
        with open(f"{self.d}/config/live/{name}/chain.pem") as f:
            return f.read()


class Lego:
    def __init__(self, d, directory, ca_bundle, eab, email="acme@sslorders.test"):
        self.d = d
        self.directory = directory
        self.env = dict(os.environ, LEGO_CA_CERTIFICATES=ca_bundle)
        self.eab = eab
        self.email = email
        os.makedirs(d, exist_ok=True)

    def base(self, names, challenge, port=None, hooks=None, dns_port=None):
        cmd = ["lego", "--server", self.directory, "--email", self.email, "--accept-tos",
               "--path", self.d, "--eab", "--kid=" + self.eab[0], "--hmac=" + self.eab[1],
               "--key-type", "ec256"]
        for n in names:
            cmd += ["--domains", n]
        if challenge == "http-01":
            cmd += ["--http", "--http.port", f"127.0.0.1:{port}"]
        elif challenge == "tls-alpn-01":
            cmd += ["--tls", "--tls.port", f"127.0.0.1:{port}"]
        else:
            cmd += ["--dns", "exec", "--dns.disable-cp",
                    "--dns.resolvers", f"127.0.0.1:{dns_port}"]
        return cmd

    def _env(self, hooks):
        e = dict(self.env)
        if hooks:
            e.update(EXEC_PATH=hooks["lego"], EXEC_POLLING_INTERVAL="1",
                     EXEC_PROPAGATION_TIMEOUT="60")
        return e

    def issue(self, names, challenge, port=None, hooks=None, dns_port=None):
        return run(self.base(names, challenge, port, hooks, dns_port) + ["run"], self._env(hooks))

    def renew(self, names, challenge, port=None, hooks=None, dns_port=None):
        return run(self.base(names, challenge, port, hooks, dns_port) +
                   ["renew", "--days", "99999", "--no-random-sleep"], self._env(hooks))

    def revoke(self, names, challenge, port=None, hooks=None, dns_port=None):
        # lego revokes the certificate of each --domains: the first names it
        return run(self.base(names[:1], challenge, port, hooks, dns_port) + ["revoke", "--reason", "4"],
                   self._env(hooks))

    def cert_pem(self, name):
        """The leaf (lego's .crt holds the leaf then the chain)."""
        with open(os.path.join(self.d, "certificates", name.replace("*", "_") + ".crt")) as f:
            text = f.read()
        return split_pem(text)[0]

    def chain_pem(self, name):
        with open(os.path.join(self.d, "certificates", name.replace("*", "_") + ".crt")) as f:
            return "".join(split_pem(f.read())[1:])


def split_pem(text):
    out, cur = [], []
    for line in text.splitlines(keepends=True):
        if "-----BEGIN" in line:
            cur = [line]
        elif "-----END" in line:
            cur.append(line)
            out.append("".join(cur))
            cur = []
        elif cur:
            cur.append(line)
    return out


def openssl_verify(leaf, chain, root):
    """openssl verify of leaf with chain (untrusted) against root; returns (ok, output)."""
    import tempfile
    with tempfile.TemporaryDirectory() as d:
        paths = {}
        for k, v in (("leaf", leaf), ("chain", chain), ("root", root)):
            paths[k] = os.path.join(d, k)
            with open(paths[k], "w") as f:
                f.write(v)
        args = ["openssl", "verify", "-purpose", "sslserver", "-CAfile", paths["root"]]
        if chain.strip():
            args += ["-untrusted", paths["chain"]]
        r = subprocess.run(args + [paths["leaf"]], capture_output=True, text=True)
    return r.returncode == 0, r.stdout + r.stderr


def ari_cert_id(pem):
    """The RFC 9773 certificate identifier: base64url(AKI keyIdentifier) "." base64url(serial
    DER content octets)."""
    cert = x509.load_pem_x509_certificate(pem.encode())
    aki = cert.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value.key_identifier
    n = cert.serial_number
    raw = n.to_bytes((n.bit_length() + 8) // 8, "big")  # a leading zero when the top bit is set

    def b64u(b):
        return base64.urlsafe_b64encode(b).rstrip(b"=").decode()
    return b64u(aki) + "." + b64u(raw)


def renewal_info(directory, ca_file, pem):
    """GET <renewalInfo>/<certID> -> (status, json)."""
    d = requests.get(directory, verify=ca_file, timeout=30).json()
    r = requests.get(d["renewalInfo"].rstrip("/") + "/" + ari_cert_id(pem), verify=ca_file,
                     timeout=30)
    try:
        return r.status_code, r.json()
    except ValueError:
        return r.status_code, None


def rfc3339(s):
    return datetime.datetime.fromisoformat(s.replace("Z", "+00:00"))


def serial_hex(pem):
    return format(x509.load_pem_x509_certificate(pem.encode()).serial_number, "x")


# ---- Apache mod_md ----------------------------------------------------------------------------

class ModMd:
    """A second httpd with mod_md and mod_ssl managing one domain against an ACME server."""

    def __init__(self, base, directory, ca_file, eab, domain, http_port, tls_port, profile=None):
        self.dir = os.path.join(base, "mdhttpd-" + domain)
        for d in ("run", "logs", "md", "htdocs"):
            os.makedirs(os.path.join(self.dir, d), exist_ok=True)
        os.chmod(self.dir, 0o755)
        self.domain = domain
        self.http_port = http_port
        self.tls_port = tls_port
        self.conf = os.path.join(self.dir, "httpd.conf")
        self.events = os.path.join(self.dir, "md-events.log")
        open(self.events, "a").close()
        os.chmod(self.events, 0o666)
        self.msgcmd = os.path.join(self.dir, "md-message.sh")
        with open(self.msgcmd, "w") as f:
            f.write(f"#!/bin/sh\necho \"$@\" >> {self.events}\n")
        os.chmod(self.msgcmd, 0o755)
        m = harness.MODULES
        profile_line = f"MDProfile {profile}\n" if profile else ""
        with open(self.conf, "w") as f:
            f.write(f"""ServerRoot "{self.dir}"
ServerName 127.0.0.1
Listen 127.0.0.1:{http_port}
Listen 127.0.0.1:{tls_port}
PidFile "{self.dir}/run/httpd.pid"
DefaultRuntimeDir "{self.dir}/run"
ErrorLog "{self.dir}/logs/error.log"
LogLevel warn md:debug
User {harness.RUN_USER}
Group {harness.RUN_USER}
LoadModule mpm_event_module {m}/mod_mpm_event.so
LoadModule authz_core_module {m}/mod_authz_core.so
LoadModule mime_module {m}/mod_mime.so
LoadModule ssl_module {m}/mod_ssl.so
LoadModule md_module {m}/mod_md.so
TypesConfig /etc/mime.types
DocumentRoot "{self.dir}/htdocs"
ServerAdmin acme@sslorders.test
MDStoreDir "{self.dir}/md"
MDCertificateAuthority {directory}
MDCACertificateFile "{ca_file}"
MDExternalAccountBinding {eab[0]} {eab[1]}
MDCertificateAgreement accepted
MDPortMap http:{http_port} https:{tls_port}
MDRenewWindow 33%
MDRetryDelay 2s
MDCheckInterval 2s
MDMessageCmd {self.msgcmd}
MDPrivateKeys secp256r1
{profile_line}MDomain {domain}
<VirtualHost 127.0.0.1:{tls_port}>
    ServerName {domain}
    SSLEngine on
</VirtualHost>
<Location /md-status>
    SetHandler md-status
    Require all granted
</Location>
""")

    def start(self):
        r = subprocess.run([harness.HTTPD, "-f", self.conf, "-k", "start"], capture_output=True,
                           text=True)
        if r.returncode != 0:
            raise RuntimeError(f"mod_md httpd: {r.stdout}{r.stderr}{self.read_log()}")

    def graceful(self):
        subprocess.run([harness.HTTPD, "-f", self.conf, "-k", "graceful"], capture_output=True)
        time.sleep(1.5)

    def stop(self):
        subprocess.run([harness.HTTPD, "-f", self.conf, "-k", "stop"], capture_output=True)
        harness.wait_port(self.http_port, timeout=20, up=False)
        harness.wait_port(self.tls_port, timeout=20, up=False)

    def read_log(self):
        try:
            with open(os.path.join(self.dir, "logs", "error.log"), errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def events_seen(self):
        with open(self.events) as f:
            return [line.split() for line in f.read().splitlines()]

    def wait_event(self, event, count=1, timeout=CLIENT_TIMEOUT):
        """Wait until MDMessageCmd reported event for the domain count times."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            n = sum(1 for e in self.events_seen() if e[:2] == [event, self.domain])
            if n >= count:
                return True
            time.sleep(0.5)
        return False

    def staged_cert(self):
        """The certificate mod_md obtained and staged (before a graceful activates it), else
        the active one."""
        for sub in ("staging", "domains"):
            for p in glob.glob(os.path.join(self.dir, "md", sub, self.domain, "pubcert*.pem")):
                with open(p) as f:
                    return f.read()
        return None

    def served_cert(self):
        """The leaf the server presents for the domain (after a graceful)."""
        r = subprocess.run(["openssl", "s_client", "-connect", f"127.0.0.1:{self.tls_port}",
                            "-servername", self.domain], input="", capture_output=True, text=True,
                           timeout=30)
        pems = split_pem(r.stdout)
        return pems[0] if pems else None

    def status(self):
        try:
            r = requests.get(f"http://127.0.0.1:{self.http_port}/md-status", timeout=10)
            return r.json()
        except (requests.RequestException, ValueError):
            return None

    def remove(self):
        shutil.rmtree(self.dir, ignore_errors=True)
