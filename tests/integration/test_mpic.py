"""Multi-perspective issuance corroboration (MPIC): perspectives are more httpd instances of
the module (SetHandler sslorders-perspective) that see their own DNS and HTTP answers: the
honest ones reach the same validation servers as the primary, the "hijacked" one its own
servers where the validation file is missing, and one holds another secret. The primary asks
them all before signing and applies the Baseline Requirements quorum and date schedule."""
import calendar
import hashlib
import subprocess
import types
import hmac
import json
import os
import secrets
import time
import uuid

import pytest
import requests

import pki
from acme_client import Acme, Key
from harness import HTTPD, DcvServers, Httpd, free_port
from issuing import DV, LONG, order, publish_files

SECRET = "mpic-test-secret-" + "x" * 16
LOC = "<Location /{p}>\n  SetHandler sslorders-perspective\n</Location>\n"


def at(when):
    return {"X-SSLOrders-Clock": str(calendar.timegm(when + (12, 0, 0)))}


def server(env, name, dcv, extra):
    return env.server(name, extra, dcv=dcv)


def stop(env, h):
    env.stop_server(h)


class NetnsPerspective(Httpd):
    """A perspective in its own network namespace (ip netns, a veth pair 10.77.x.0/30): it
    sees its own loopback, where a "hijacker's" web server answers port 80 of every name
    without the validation file, and no DNS server at all."""

    def __init__(self, env, extra):
        self.ns = "so-mpic-" + uuid.uuid4().hex[:6]
        sub = int(uuid.uuid4().hex[:2], 16)
        self.host_if, self.ns_if = "vh" + self.ns[-6:], "vn" + self.ns[-6:]
        self.ns_ip = f"10.77.{sub}.2"
        ip = ["ip"]
        subprocess.run(ip + ["netns", "add", self.ns], check=True, capture_output=True)
        for cmd in (["link", "add", self.host_if, "type", "veth", "peer", "name", self.ns_if],
                    ["link", "set", self.ns_if, "netns", self.ns],
                    ["addr", "add", f"10.77.{sub}.1/30", "dev", self.host_if],
                    ["link", "set", self.host_if, "up"],
                    ["-n", self.ns, "addr", "add", f"{self.ns_ip}/30", "dev", self.ns_if],
                    ["-n", self.ns, "link", "set", self.ns_if, "up"],
                    ["-n", self.ns, "link", "set", "lo", "up"]):
            subprocess.run(ip + cmd, check=True, capture_output=True)
        self.www = os.path.join(env.base, self.ns + "-www")
        os.makedirs(self.www, exist_ok=True)
        web = free_port()
        self.web = subprocess.Popen(["ip", "netns", "exec", self.ns, "python3", "-m",
                                     "http.server", str(web), "--bind", "127.0.0.1",
                                     "--directory", self.www],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        dcv = types.SimpleNamespace(http_port=web, https_port=web, dns_port=free_port())
        # its own database file: the perspective does not use the primary's
        name = "persp-netns-" + self.ns[-6:]
        super().__init__(env.base, "sqlite3", os.path.join(env.base, name, "var", "so.db"),
                         name=name, dcv=dcv, extra=extra)
        self.url = f"http://{self.ns_ip}:{self.port}"
        os.chmod(env.base, 0o755)

    def start(self, wait=True):
        self.write_conf()
        with open(self.conf) as f:
            text = f.read().replace(f"Listen 127.0.0.1:{self.port}", f"Listen {self.ns_ip}:{self.port}")
        with open(self.conf, "w") as f:
            f.write(text)
        subprocess.run(["ip", "netns", "exec", self.ns, HTTPD, "-f", self.conf, "-k", "start"],
                       env=self._env(), check=True, capture_output=True)
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                requests.get(self.url + "/", timeout=2)
                return
            except requests.RequestException:
                time.sleep(0.2)
        raise RuntimeError("the perspective in " + self.ns + " did not answer:\n" + self.read_log())

    def close(self):
        self.web.terminate()
        self.web.wait()
        subprocess.run(["ip", "netns", "del", self.ns], capture_output=True)


def hijacked_perspective(env, extra):
    """The hijacked perspective: in a network namespace when ip netns works (root), else a
    server on this network with its own validation servers. Returns (server, cleanup)."""
    try:
        h = NetnsPerspective(env, extra)
    except (subprocess.CalledProcessError, OSError):
        hijack_base = os.path.join(env.base, "hijack")
        os.makedirs(hijack_base, exist_ok=True)
        dcv = DcvServers(hijack_base)
        return server(env, "persp-hijacked", dcv, extra), dcv.close
    h.ca_dir = env.httpd.ca_dir
    env.servers.append(h)
    try:
        h.start()
    except Exception:
        h.close()
        raise
    return h, h.close


@pytest.fixture(scope="module")
def secret_files(env):
    good = os.path.join(env.base, "mpic.secret")
    bad = os.path.join(env.base, "mpic-other.secret")
    with open(good, "w") as f:
        f.write(SECRET + "\n")
    with open(bad, "w") as f:
        f.write("another-secret-" + "y" * 16 + "\n")
    for p in (good, bad):
        os.chmod(p, 0o644)
    return good, bad


@pytest.fixture(scope="module")
def perspectives(env, secret_files):
    """{name: url}: a..d honest, h hijacked (other DNS and HTTP), w another secret."""
    good, bad = secret_files
    auth = f"SSLOrdersPerspectiveAuth secret-file {good}\n"
    honest = server(env, "persp-honest", env.dcv,
                    auth + "".join(LOC.format(p=p) for p in ("a", "b", "c", "d")))
    hijacked, cleanup = hijacked_perspective(env, auth + LOC.format(p="h"))
    other = server(env, "persp-other", env.dcv,
                   f"SSLOrdersPerspectiveAuth secret-file {bad}\n" + LOC.format(p="w"))
    urls = {p: f"{honest.url}/{p}" for p in ("a", "b", "c", "d")}
    urls["h"] = hijacked.url + "/h"
    urls["w"] = other.url + "/w"
    yield urls
    for h in (honest, hijacked, other):
        stop(env, h)
    cleanup()


@pytest.fixture(scope="module")
def primaries(env, perspectives, secret_files):
    made = {}

    def get(names, mode="on"):
        key = ("".join(names), mode)
        if key not in made:
            extra = f"SSLOrdersPerspectiveAuth secret-file {secret_files[0]}\n"
            extra += "".join(f"SSLOrdersPerspective {n} {perspectives[n]}\n" for n in names)
            extra += f"SSLOrdersMPIC {mode}\nSSLOrdersMPICTimeout 20\n"
            made[key] = server(env, "mpic-primary", env.dcv, extra)
        return made[key]
    yield get
    for h in made.values():
        stop(env, h)


def validated(env, primary, headers=None):
    api = env.new_team(balance="10000", ttl=LONG).client(primary)
    oid, o = order(api, product=DV, names=["mpic-" + uuid.uuid4().hex[:8] + ".com"])
    publish_files(env, o)
    st, body = api.post(f"/ssl/orders/{oid}/validate", headers=headers)
    assert st == 200, body
    st, v = api.get(f"/ssl/orders/{oid}/validation", headers=headers)
    assert st == 200, v
    evs = api.get(f"/ssl/orders/{oid}/events")[1]["data"]["results"]
    return v["data"], evs


def agreed(mpic):
    return {p["name"]: p["agreed"] for p in mpic["perspectives"]}


def test_quorum_met_with_one_hijacked_perspective(env, primaries):
    # 5 perspectives (the count from 2026-12-15), one sees another HTTP server: one may disagree
    p = primaries(["a", "b", "c", "d", "h"])
    v, _ = validated(env, p, headers=at((2027, 1, 10)))
    assert v["status"] == "ACT", v
    m = v["names"][0]["mpic"]
    assert m["status"] == "corroborated" and m["mode"] == "on", m
    assert agreed(m) == {"a": True, "b": True, "c": True, "d": True, "h": False}, m
    h = [x for x in m["perspectives"] if x["name"] == "h"][0]
    assert "domain validation" in h["detail"] and "404" in h["detail"], h
    assert "4 of 5" in m["detail"]


def test_quorum_not_met_refuses(env, primaries):
    # hijacked + another secret: 2 of 5 disagree, at most 1 may
    p = primaries(["a", "b", "c", "h", "w"])
    v, evs = validated(env, p)
    assert v["status"] != "ACT", v
    m = v["names"][0]["mpic"]
    assert m["status"] == "refused", m
    assert agreed(m) == {"a": True, "b": True, "c": True, "h": False, "w": False}, m
    w = [x for x in m["perspectives"] if x["name"] == "w"][0]
    assert "401" in w["detail"], w
    assert "2 of 5" in m["detail"], m
    kinds = [e["kind"] for e in evs]
    assert "mpic_not_corroborated" in kinds and "issuance_failed" in kinds, kinds
    fail = [e for e in evs if e["kind"] == "issuance_failed"][-1]
    assert "multi-perspective" in json.dumps(fail), fail


def test_report_mode_issues_and_records(env, primaries):
    p = primaries(["a", "b", "c", "h", "w"], mode="report")
    v, evs = validated(env, p)
    assert v["status"] == "ACT", v
    m = v["names"][0]["mpic"]
    assert m["status"] == "reported" and m["mode"] == "report", m
    assert agreed(m)["h"] is False and agreed(m)["w"] is False
    ev = [e for e in evs if e["kind"] == "mpic_not_corroborated"]
    assert ev and "report" in json.dumps(ev[0]), evs
    assert "SO00851" in p.read_log()


def test_date_schedule_follows_the_test_clock(env, primaries):
    # 4 honest perspectives: enough from 2026-06-15, not from 2026-12-15 (5)
    p = primaries(["a", "b", "c", "d"])
    v, _ = validated(env, p, headers=at((2026, 12, 14)))
    assert v["status"] == "ACT", v
    assert v["names"][0]["mpic"]["status"] == "corroborated"
    v, _ = validated(env, p, headers=at((2026, 12, 15)))
    assert v["status"] != "ACT", v
    m = v["names"][0]["mpic"]
    assert m["status"] == "refused" and "at least 5" in m["detail"], m
    assert all(agreed(m).values()), m


def corroborated_but_hijacked(api, oid):
    """Validates oid (at a date that asks for 5 perspectives): ACT, 4 of 5 corroborated, the
    hijacked perspective disagreeing on the domain validation."""
    st, body = api.post(f"/ssl/orders/{oid}/validate", headers=at((2027, 1, 10)))
    assert st == 200, body
    v = body["data"]
    assert v["status"] == "ACT", v
    m = v["names"][0]["mpic"]
    assert m["status"] == "corroborated" and "4 of 5" in m["detail"], m
    assert agreed(m) == {"a": True, "b": True, "c": True, "d": True, "h": False}, m
    h = [x for x in m["perspectives"] if x["name"] == "h"][0]
    assert "domain validation" in h["detail"], h


def test_dns_account_repeated_by_perspectives(env, primaries, perspectives):
    """dns-account names are corroborated like dns: every perspective looks up the TXT record
    at the team account's label (the hijacked one, without that DNS, disagrees on the domain
    validation); a perspective asked with another account does not find it."""
    p = primaries(["a", "b", "c", "d", "h"])
    api = env.new_team(balance="10000", ttl=LONG).client(p)
    name = "mpica-" + uuid.uuid4().hex[:8] + ".com"
    oid, _ = order(api, product=DV, names=[name], method="dns-account")
    st, v = api.get(f"/ssl/orders/{oid}/validation")
    ins = v["data"]["names"][0]["instructions"]
    assert ins["record_name"].endswith("._acme-challenge." + name), ins
    env.dcv.add_record("TXT", ins["record_name"], ins["record_value"])
    corroborated_but_hijacked(api, oid)
    # the perspective checks the label of the account it is given
    o = api.get(f"/ssl/orders/{oid}")[1]["data"]
    uri = o["additional_data"][0]["dns_persist_value"].split("accounturi=")[1].split(";")[0].strip()
    csr_md5, csr_sha256 = o["additional_data"][0]["md5"], o["additional_data"][0]["sha256"]
    unique = o["additional_data"][0]["token"]
    for account, ok in ((uri, True), (uri + "0", False)):
        req = json.dumps({"names": [{"name": name, "dcv": {
            "method": "dns-account", "md5": csr_md5, "sha256": csr_sha256, "unique": unique,
            "ca_tag": "sslorders.local", "account": account}}]}).encode()
        r = requests.post(perspectives["a"], data=req, headers=signed(SECRET, req), timeout=30)
        assert r.status_code == 200, r.text
        res = r.json()["data"]["results"][0]["dcv"]
        assert res["ok"] is ok, (account, res)
    # dns-account without an account is a bad request
    req = json.dumps({"names": [{"name": name, "dcv": {
        "method": "dns-account", "md5": csr_md5, "sha256": csr_sha256, "ca_tag": "sslorders.local"}}]}).encode()
    r = requests.post(perspectives["a"], data=req, headers=signed(SECRET, req), timeout=30)
    assert r.status_code == 400, r.text


def test_dns_persist_repeated_by_perspectives(env, primaries, perspectives):
    """dns-persist names: every perspective looks up the team's persistent record (the
    hijacked one, without that DNS, disagrees); a perspective given another account URI does
    not accept the record."""
    p = primaries(["a", "b", "c", "d", "h"])
    api = env.new_team(balance="10000", ttl=LONG).client(p)
    name = "mpicp-" + uuid.uuid4().hex[:8] + ".com"
    oid, o = order(api, product=DV, names=[name], method="dns-persist")
    rec = o["additional_data"][0]
    env.dcv.add_record("TXT", rec["dns_persist_record"], rec["dns_persist_value"])
    corroborated_but_hijacked(api, oid)
    uri = rec["dns_persist_value"].split("accounturi=")[1].split(";")[0].strip()
    for uris, status, ok in (([uri], 200, True), ([uri + "0"], 200, False), ([], 400, None)):
        req = json.dumps({"names": [{"name": name, "persist": {
            "identities": ["sslorders.local"], "accounturis": uris}}]}).encode()
        r = requests.post(perspectives["a"], data=req, headers=signed(SECRET, req), timeout=30)
        assert r.status_code == status, r.text
        if ok is not None:
            assert r.json()["data"]["results"][0]["dcv"]["ok"] is ok, (uris, r.text)


def test_dns_persist_not_corroborated_refuses(env, primaries):
    # the hijacked perspective and the one with another secret: 2 of 5 disagree
    p = primaries(["a", "b", "c", "h", "w"])
    api = env.new_team(balance="10000", ttl=LONG).client(p)
    name = "mpicp-" + uuid.uuid4().hex[:8] + ".com"
    oid, o = order(api, product=DV, names=[name], method="dns-persist")
    rec = o["additional_data"][0]
    env.dcv.add_record("TXT", rec["dns_persist_record"], rec["dns_persist_value"])
    st, body = api.post(f"/ssl/orders/{oid}/validate", headers=at((2027, 1, 10)))
    assert st == 200, body
    assert body["data"]["status"] != "ACT", body
    m = body["data"]["names"][0]["mpic"]
    assert m["status"] == "refused" and "2 of 5" in m["detail"], m


# ---- ACME challenges (BR 3.2.2.9: corroborated while the client still serves them) ---------

def acme_challenge(env, primary, kind="http-01", when=(2027, 1, 10)):
    """A paid order, an ACME account bound to it on primary, the challenge of kind answered
    (published on the honest perspectives' servers): (api, order id, client, order url,
    the challenge as the server answered)."""
    api = env.new_team(balance="10000", ttl=LONG).client(primary)
    name = "mpicacme-" + uuid.uuid4().hex[:8] + ".com"
    st, ans = api.post("/ssl/orders", json={
        "product_id": DV, "period": 1, "csr": pki.csr(name, [], fresh=True),
        "domain_validation_methods": [{"host_name": name, "method": "http"}]})
    assert st == 200, ans
    oid = ans["data"]["id"]
    st, e = api.post("/acme/eab", json={"order_id": oid, "description": "mpic"})
    assert st == 200, e
    c = Acme(primary.url + "/acme/directory", Key(), clock=calendar.timegm(when + (12, 0, 0)))
    c.register(e["data"]["kid"], e["data"]["hmac_key"])
    url, o = c.new_order([name])
    authz = c.get(o["authorizations"][0])
    ch = next(x for x in authz["challenges"] if x["type"] == kind)
    if kind == "http-01":
        env.dcv.put_file("/.well-known/acme-challenge/" + ch["token"], c.key_authorization(ch["token"]))
    elif kind == "dns-persist-01":  # the team's record (as the API's dns-persist method)
        rec = api.get(f"/ssl/orders/{oid}")[1]["data"]["additional_data"][0]
        env.dcv.add_record("TXT", "_validation-persist." + name, rec["dns_persist_value"])
    else:
        env.dcv.add_record("TXT", "_acme-challenge." + name, c.dns_value(ch["token"]))
    return api, oid, c, url, c.post(ch["url"], {}).json()


def test_acme_http01_corroborated_by_perspectives(env, primaries):
    p = primaries(["a", "b", "c", "d", "h"])
    api, oid, c, url, ch = acme_challenge(env, p)
    assert ch["status"] == "valid", ch
    m = api.get(f"/ssl/orders/{oid}/validation")[1]["data"]["names"][0]["mpic"]
    assert m["status"] == "corroborated" and "4 of 5" in m["detail"] and "http-01" in m["detail"], m
    # the hijacked perspective's web server lacks the challenge file
    assert agreed(m) == {"a": True, "b": True, "c": True, "d": True, "h": False}, m
    h = [x for x in m["perspectives"] if x["name"] == "h"][0]
    assert "domain validation" in h["detail"] and "404" in h["detail"], h
    # the client may remove the file now: the issuance corroborates CAA only
    order = c.get(url)
    assert order["status"] == "ready", order
    done, _ = c.finalize(order, [order["identifiers"][0]["value"]])
    assert done["status"] == "valid", done
    m = api.get(f"/ssl/orders/{oid}/validation")[1]["data"]["names"][0]["mpic"]
    assert m["status"] == "corroborated" and "for CAA" in m["detail"], m


def test_acme_challenge_refused_without_quorum(env, primaries):
    # the hijacked perspective and the one with another secret: 2 of 5 disagree
    p = primaries(["a", "b", "c", "h", "w"])
    api, oid, c, url, ch = acme_challenge(env, p)
    assert ch["status"] == "invalid", ch
    assert ch["error"]["type"] == "urn:ietf:params:acme:error:unauthorized", ch
    assert "multi-perspective" in ch["error"]["detail"] and "2 of 5" in ch["error"]["detail"], ch
    assert c.get(url)["status"] == "invalid"
    m = api.get(f"/ssl/orders/{oid}/validation")[1]["data"]["names"][0]["mpic"]
    assert m["status"] == "refused", m
    assert agreed(m) == {"a": True, "b": True, "c": True, "h": False, "w": False}, m
    assert api.get(f"/ssl/orders/{oid}")[1]["data"]["status"] == "PAI"


def test_acme_dns01_corroborated_by_perspectives(env, primaries):
    p = primaries(["a", "b", "c", "d", "h"])
    api, oid, _, _, ch = acme_challenge(env, p, kind="dns-01")
    assert ch["status"] == "valid", ch
    m = api.get(f"/ssl/orders/{oid}/validation")[1]["data"]["names"][0]["mpic"]
    assert m["status"] == "corroborated" and "dns-01" in m["detail"], m
    assert agreed(m)["h"] is False and agreed(m)["a"] is True, m


def test_acme_dns_persist01_corroborated_by_perspectives(env, primaries):
    p = primaries(["a", "b", "c", "d", "h"])
    api, oid, _, _, ch = acme_challenge(env, p, kind="dns-persist-01")
    assert ch["status"] == "valid", ch
    m = api.get(f"/ssl/orders/{oid}/validation")[1]["data"]["names"][0]["mpic"]
    assert m["status"] == "corroborated" and "dns-persist record" in m["detail"], m
    assert agreed(m)["h"] is False and agreed(m)["a"] is True, m
    # 2 of 5 disagree: the challenge is invalid
    p = primaries(["a", "b", "c", "h", "w"])
    api, oid, c, url, ch = acme_challenge(env, p, kind="dns-persist-01")
    assert ch["status"] == "invalid", ch
    assert ch["error"]["type"] == "urn:ietf:params:acme:error:unauthorized", ch
    assert "dns-persist" in ch["error"]["detail"] and "2 of 5" in ch["error"]["detail"], ch


def test_perspective_acme_request_checked(env, perspectives):
    name = "mpicacme-" + uuid.uuid4().hex[:8] + ".com"
    for acme in ({"type": "http-01", "token": "abc", "key_authorization": "xyz.thumb"},
                 {"type": "dns-07", "token": "abc", "key_authorization": "abc.thumb"},
                 {"type": "http-01", "key_authorization": "abc.thumb"}):
        req = json.dumps({"names": [{"name": name, "acme": acme}]}).encode()
        r = requests.post(perspectives["a"], data=req, headers=signed(SECRET, req), timeout=30)
        assert r.status_code == 400 and "acme needs" in r.text, (acme, r.text)
    # a well-formed request for a file that is not there: answered, not validated
    req = json.dumps({"names": [{"name": name, "acme": {
        "type": "http-01", "token": "abc", "key_authorization": "abc.thumb"}}]}).encode()
    r = requests.post(perspectives["a"], data=req, headers=signed(SECRET, req), timeout=30)
    assert r.status_code == 200, r.text
    res = r.json()["data"]["results"][0]["dcv"]
    assert res["ok"] is False and "404" in res["detail"], res


def signed(secret, body, t=None, nonce=None):
    t = str(int(time.time())) if t is None else t
    nonce = nonce or secrets.token_hex(16)
    sig = hmac.new(secret.encode(), f"{t}\n{nonce}\n".encode() + body, hashlib.sha256).hexdigest()
    return {"Content-Type": "application/json", "X-SSLOrders-MPIC-Time": t,
            "X-SSLOrders-MPIC-Nonce": nonce, "X-SSLOrders-MPIC-Signature": sig}


def test_perspective_authentication(env, perspectives):
    url = perspectives["a"]
    body = json.dumps({"names": [{"name": "example.com", "caa": {"identities": ["sslorders.local"],
                                                                  "method": "http-01"}}]}).encode()
    # unsigned, another secret, stale: 401 with the JSON envelope (1121)
    for headers in ({"Content-Type": "application/json"},
                    signed("another-secret-" + "y" * 16, body),
                    signed(SECRET, body, t=str(int(time.time()) - 3600))):
        r = requests.post(url, data=body, headers=headers, timeout=30)
        assert r.status_code == 401, r.text
        assert r.json()["code"] == 1121, r.text
    # signed: the perspective answers; the same request again is a replay
    h = signed(SECRET, body)
    r = requests.post(url, data=body, headers=h, timeout=30)
    assert r.status_code == 200, r.text
    # the answer is signed for the request's nonce
    want = hmac.new(SECRET.encode(), f"answer\n{h['X-SSLOrders-MPIC-Nonce']}\n".encode() + r.content,
                    hashlib.sha256).hexdigest()
    assert r.headers.get("X-SSLOrders-MPIC-Answer-Signature") == want, r.headers
    res = r.json()["data"]["results"][0]
    assert res["name"] == "example.com" and res["caa"]["status"] == "permitted", res
    r = requests.post(url, data=body, headers=h, timeout=30)
    assert r.status_code == 401 and r.json()["code"] == 1121, r.text
    # a body that does not match the signature
    r = requests.post(url, data=body + b" ", headers=signed(SECRET, body), timeout=30)
    assert r.status_code == 401, r.text
    # signed but not a request: 400
    bad = b'{"names": "x"}'
    r = requests.post(url, data=bad, headers=signed(SECRET, bad), timeout=30)
    assert r.status_code == 400, r.text


class _Middle:
    """Someone between the primary and perspective a: forwards each request and hands back
    a's answer without its signature (strip) or changed under it (tamper)."""

    def __init__(self, target, mode):
        import http.server
        import threading
        target_url = target

        class H(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                fwd = {k: v for k, v in self.headers.items() if k.lower().startswith("x-sslorders")}
                fwd["Content-Type"] = "application/json"
                r = requests.post(target_url, data=body, headers=fwd, timeout=30)
                out = r.content
                if mode == "tamper":
                    out = out.replace(b'"agreed"', b'"agreed" ') if b'"agreed"' in out else out + b" "
                self.send_response(r.status_code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(out)))
                if mode == "tamper" and "X-SSLOrders-MPIC-Answer-Signature" in r.headers:
                    self.send_header("X-SSLOrders-MPIC-Answer-Signature",
                                     r.headers["X-SSLOrders-MPIC-Answer-Signature"])
                self.end_headers()
                self.wfile.write(out)

            def log_message(self, *a):
                pass

        self.srv = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), H)
        self.url = f"http://127.0.0.1:{self.srv.server_port}/m"
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()

    def close(self):
        self.srv.shutdown()


def test_answers_changed_on_the_way_do_not_count(env, perspectives, secret_files):
    """Perspective answers are signed: one that lost its signature or was changed on the
    way (a perspective reached over plain HTTP) counts as a disagreement, whatever it says."""
    strip, tamper = _Middle(perspectives["a"], "strip"), _Middle(perspectives["a"], "tamper")
    extra = f"SSLOrdersPerspectiveAuth secret-file {secret_files[0]}\n"
    urls = dict(perspectives, s=strip.url, t=tamper.url)
    extra += "".join(f"SSLOrdersPerspective {n} {urls[n]}\n" for n in ("b", "c", "d", "s", "t"))
    extra += "SSLOrdersMPIC on\nSSLOrdersMPICTimeout 20\n"
    p = server(env, "mpic-middle", env.dcv, extra)
    try:
        v, evs = validated(env, p, headers=at((2027, 1, 10)))
        m = v["names"][0]["mpic"]
        assert v["status"] != "ACT" and m["status"] == "refused", m
        assert agreed(m) == {"b": True, "c": True, "d": True, "s": False, "t": False}, m
        detail = {x["name"]: x["detail"] for x in m["perspectives"]}
        assert "not signed" in detail["s"], detail
        assert "signature does not match" in detail["t"], detail
    finally:
        stop(env, p)
        strip.close()
        tamper.close()


def test_off_without_perspectives(env):
    # the default server lists no perspective: MPIC off, nothing asked, mpic null
    v, evs = validated(env, env.httpd)
    assert v["status"] == "ACT", v
    assert v["names"][0]["mpic"] is None, v
    assert not [e for e in evs if e["kind"] == "mpic_not_corroborated"]


@pytest.mark.skipif(os.geteuid() != 0, reason="ip netns needs root")
def test_hijacked_perspective_is_in_its_own_network(perspectives):
    # reached over a veth pair: it cannot see the primary's loopback servers
    assert perspectives["h"].startswith("http://10.77."), perspectives
    ns = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    assert "so-mpic-" in ns, ns


def _probable_prime(n):
    if n % 2 == 0:
        return False
    d, r = n - 1, 0
    while d % 2 == 0:
        d //= 2
        r += 1
    for a in (2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37):
        x = pow(a, d, n)
        if x in (1, n - 1):
            continue
        for _ in range(r - 1):
            x = pow(x, 2, n)
            if x == n - 1:
                break
        else:
            return False
    return True


def test_weak_rsa_csr_refused(env):
    """A CSR whose RSA primes are next to each other (Fermat's method factors it at once) is
    refused with 1002, nothing created."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID
    p = secrets.randbits(1024) | (3 << 1022) | 1  # two top bits: a 2048-bit modulus
    while not _probable_prime(p):
        p += 2
    q = p + 2
    while not _probable_prime(q):
        q += 2
    e = 65537
    d = pow(e, -1, (p - 1) * (q - 1))
    key = rsa.RSAPrivateNumbers(p, q, d, d % (p - 1), d % (q - 1), pow(q, -1, p),
                                rsa.RSAPublicNumbers(e, p * q)).private_key()
    name = "weak-" + uuid.uuid4().hex[:8] + ".com"
    csr = (x509.CertificateSigningRequestBuilder()
           .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
           .sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM).decode())
    api = env.new_team(balance="10000", ttl=LONG).client()
    before = api.get("/ssl/orders")[1]["data"]["total"]
    st, body = api.post("/ssl/orders", json={
        "product_id": DV, "period": 1, "csr": csr,
        "domain_validation_methods": [{"host_name": name, "method": "http"}]})
    assert st == 400 and body["code"] == 1002 and "Fermat" in json.dumps(body), body
    assert api.get("/ssl/orders")[1]["data"]["total"] == before
