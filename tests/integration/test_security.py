"""Security (issue 14): invitations with consent, no user enumeration, login limits across
names and addresses, owners' tokens, sessions that end, seal binding, safe server defaults.
Every test here is a regression test of a finding: it failed before the fix."""
import http.client
import json
import os
import socket
import time
import uuid

import requests

from harness import DB, Client


def login(env, username, password, team=None, clock=None):
    body = {"username": username, "password": password}
    if team:
        body["team"] = team
    h = {"X-SSLOrders-Clock": str(clock)} if clock else None
    return Client(env.httpd.api).post("/auth/login", json=body, headers=h)


def token_of(env, username, password, team=None):
    st, ans = login(env, username, password, team)
    assert st == 200, ans
    return Client(env.httpd.api, ans["data"]["token"])


def post_from(env, source_ip, path, body, clock=None):
    """POST from another loopback source address (127.0.0.0/8 is all ours)."""
    c = http.client.HTTPConnection("127.0.0.1", env.httpd.port, timeout=30,
                                   source_address=(source_ip, 0))
    h = {"Content-Type": "application/json"}
    if clock:
        h["X-SSLOrders-Clock"] = str(clock)
    c.request("POST", "/v1beta" + path, body=json.dumps(body), headers=h)
    r = c.getresponse()
    data = r.read()
    c.close()
    return r.status, json.loads(data)


def portal(env, username, password, headers=None):
    s = requests.Session()
    r = s.post(env.httpd.api + "/auth/session", json={"username": username, "password": password},
               headers=headers)
    assert r.status_code == 200, r.text
    s.headers["X-CSRF-Token"] = r.json()["data"]["csrf_token"]
    return s


# ---- 1. invitations: nobody becomes a member without consent ----------------------------

def test_adding_a_member_is_an_invitation_the_invitee_accepts(env):
    owner_team = env.new_team()
    owner = owner_team.client()
    victim_team = env.new_team()
    victim = victim_team.client()
    st, body = owner.post("/team/members", json={"username": victim_team.username, "role": "owner"})
    assert st == 200, body
    inv = body["data"]
    assert inv["state"] == "pending" and inv["role"] == "owner" and inv["id"] > 0
    # not a member until it accepts
    assert [t["slug"] for t in victim.get("/teams")[1]["data"]["results"]] == [victim_team.slug]
    assert [m["username"] for m in owner.get("/team/members")[1]["data"]["results"]] == [owner_team.username]
    st, ans = login(env, victim_team.username, victim_team.password, team=owner_team.slug)
    assert st == 401
    # the invitee sees it, the admins see it
    st, body = victim.get("/invitations")
    assert st == 200 and [i["id"] for i in body["data"]["results"]] == [inv["id"]]
    assert body["data"]["results"][0]["team"]["slug"] == owner_team.slug
    st, body = owner.get("/team/invitations")
    assert st == 200 and [i["username"] for i in body["data"]["results"]] == [victim_team.username]
    # another user cannot accept it
    stranger = env.new_team().client()
    st, ans = stranger.post(f"/invitations/{inv['id']}/accept")
    assert (st, ans["code"]) == (404, 103)
    # declined: nothing
    st, _ = victim.post(f"/invitations/{inv['id']}/decline")
    assert st == 200
    assert victim.get("/invitations")[1]["data"]["total"] == 0
    st, ans = victim.post(f"/invitations/{inv['id']}/accept")
    assert (st, ans["code"]) == (404, 103)
    assert len(victim.get("/teams")[1]["data"]["results"]) == 1
    # a second invitation, accepted: a member with the role
    st, body = owner.post("/team/members", json={"username": victim_team.username, "role": "member"})
    inv2 = body["data"]["id"]
    st, ans = owner.post("/team/members", json={"username": victim_team.username, "role": "member"})
    assert (st, ans["code"]) == (409, 130)  # pending already
    st, body = victim.post(f"/invitations/{inv2}/accept")
    assert st == 200, body
    roles = {t["slug"]: t["role"] for t in victim.get("/teams")[1]["data"]["results"]}
    assert roles == {victim_team.slug: "owner", owner_team.slug: "member"}
    assert owner.get("/team/invitations")[1]["data"]["total"] == 0


def test_invitations_cannot_fill_the_owned_teams_cap(env):
    victim_team = env.new_team()
    victim = victim_team.client()
    for _ in range(21):
        t = env.new_team().client()
        assert t.post("/team/members", json={"username": victim_team.username, "role": "owner"})[0] == 200
    slug = "v" + uuid.uuid4().hex[:10]
    st, body = victim.post("/teams", json={"slug": slug})
    assert st == 200, body


def test_invitations_expire_and_can_be_withdrawn(env):
    owner = env.new_team().client()
    u = env.new_user()
    invitee = env.new_team(user=u, ttl=24 * 30).client()
    st, body = owner.post("/team/members", json={"username": u[0], "role": "viewer"})
    iid = body["data"]["id"]
    later = str(int(time.time()) + 8 * 86400)
    st, ans = invitee.post(f"/invitations/{iid}/accept", headers={"X-SSLOrders-Clock": later})
    assert (st, ans["code"]) == (404, 103)
    assert invitee.get("/invitations", headers={"X-SSLOrders-Clock": later})[1]["data"]["total"] == 0
    # withdrawn by an admin
    st, ans = owner.delete(f"/team/invitations/{iid}")
    assert st == 200
    assert invitee.get("/invitations")[1]["data"]["total"] == 0
    st, ans = invitee.post(f"/invitations/{iid}/accept")
    assert (st, ans["code"]) == (404, 103)
    # another team cannot withdraw ours; bad input
    other = env.new_team().client()
    st, body = owner.post("/team/members", json={"username": u[0], "role": "viewer"})
    st, ans = other.delete(f"/team/invitations/{body['data']['id']}")
    assert (st, ans["code"]) == (404, 103)
    for bad in ({"username": u[0]}, {"role": "member"}, {"username": u[0], "role": "boss"}):
        assert owner.post("/team/members", json=bad)[0] == 400
    assert invitee.post("/invitations/abc/accept")[0] == 404


# ---- 2. no enumeration ------------------------------------------------------------------

def test_inviting_answers_the_same_for_unknown_and_real_users(env):
    owner = env.new_team().client()
    real = env.new_user()
    fake = "nobody" + uuid.uuid4().hex[:8]
    st1, a = owner.post("/team/members", json={"username": real[0], "role": "member"})
    st2, b = owner.post("/team/members", json={"username": fake, "role": "member"})
    assert st1 == st2 == 200
    shape = lambda d: sorted((k, type(v).__name__) for k, v in d.items())  # noqa: E731
    assert shape(a["data"]) == shape(b["data"])
    assert a["data"]["username"] == real[0] and b["data"]["username"] == fake
    assert "user_id" not in a["data"]


def test_login_limit_counts_across_names_and_addresses(env):
    past = int(time.time()) - 400 * 86400  # a clock of its own: other tests are not blocked
    t = env.new_team()
    # one password sprayed over many names from one address
    for i in range(50):
        st, ans = post_from(env, "127.0.0.3", "/auth/login",
                            {"username": f"spray{i}-{uuid.uuid4().hex[:6]}", "password": "Winter2026"},
                            clock=past)
        assert st == 401, (i, ans)
    st, ans = post_from(env, "127.0.0.3", "/auth/login",
                        {"username": t.username, "password": t.password}, clock=past)
    assert (st, ans["code"]) == (429, 197)
    # another address is not blocked
    st, ans = post_from(env, "127.0.0.4", "/auth/login",
                        {"username": t.username, "password": t.password}, clock=past)
    assert st == 200
    # one name tried from many addresses
    for i in range(50):
        st, ans = post_from(env, f"127.0.{10 + i // 5}.{10 + i}", "/auth/login",
                            {"username": t.username, "password": f"guess{i}"}, clock=past + 10)
        assert st == 401, (i, ans)
    st, ans = post_from(env, "127.0.9.9", "/auth/login",
                        {"username": t.username, "password": t.password}, clock=past + 10)
    assert (st, ans["code"]) == (429, 197)
    # now, the window has passed
    assert login(env, t.username, t.password)[0] == 200


# ---- 3. owners' tokens ------------------------------------------------------------------

def test_admin_cannot_revoke_an_owners_token(env):
    owner_team = env.new_team()
    owner = owner_team.client()
    admin = owner_team.add_member("admin").client()
    st, body = owner.post("/team/tokens", json={"name": "owner bot"})
    tid = body["data"]["id"]
    bot = Client(env.httpd.api, body["data"]["token"])
    st, ans = admin.delete(f"/team/tokens/{tid}")
    assert (st, ans["code"]) == (403, 108)
    assert bot.get("/me")[0] == 200
    # an admin's own and a member's tokens: fine
    member = owner_team.add_member("member")
    mt = owner.post("/team/tokens", json={"name": "x"})  # owner's again
    assert admin.delete(f"/team/tokens/{mt[1]['data']['id']}")[0] == 403
    mine = admin.post("/team/tokens", json={"name": "mine"})[1]["data"]["id"]
    assert admin.delete(f"/team/tokens/{mine}")[0] == 200
    assert member.client().get("/me")[0] == 200


# ---- 4. sessions and passwords ----------------------------------------------------------

def test_sessions_have_an_absolute_lifetime(env):
    t = env.new_team()
    s = requests.Session()
    now = int(time.time())
    r = s.post(env.httpd.api + "/auth/session", json={"username": t.username, "password": t.password},
               headers={"X-SSLOrders-Clock": str(now)})
    assert r.status_code == 200
    # used every 6 hours (inside the idle limit) for 7 days
    at = now
    while at < now + 7 * 86400 - 6 * 3600:
        at += 6 * 3600
        r = s.get(env.httpd.api + "/me", headers={"X-SSLOrders-Clock": str(at)})
        assert r.status_code == 200, (at - now, r.text)
    r = s.get(env.httpd.api + "/me", headers={"X-SSLOrders-Clock": str(now + 7 * 86400 + 60)})
    assert r.status_code == 401


def test_sessions_listed_and_ended(env):
    t = env.new_team()
    a = portal(env, t.username, t.password, headers={"User-Agent": "browser-A"})
    b = portal(env, t.username, t.password, headers={"User-Agent": "browser-B"})
    c = portal(env, t.username, t.password, headers={"User-Agent": "browser-C"})
    st = a.get(env.httpd.api + "/auth/sessions")
    assert st.status_code == 200, st.text
    rows = st.json()["data"]["results"]
    assert len(rows) == 3 and sum(1 for x in rows if x["current"]) == 1
    assert {x["user_agent"] for x in rows} >= {"browser-A", "browser-B", "browser-C"}
    assert all(x["ip"] == "127.0.0.1" and x["created_at"] and x["last_used_at"] for x in rows)
    bid = [x["id"] for x in rows if x["user_agent"] == "browser-B"][0]
    assert a.delete(env.httpd.api + f"/auth/sessions/{bid}").status_code == 200
    assert b.get(env.httpd.api + "/me").status_code == 401
    assert c.get(env.httpd.api + "/me").status_code == 200
    # another user's session: not found
    other = portal(env, *env.new_user()) if False else None  # noqa: F841
    r = a.delete(env.httpd.api + "/auth/sessions/999999999")
    assert r.status_code == 404
    # all others
    assert a.delete(env.httpd.api + "/auth/sessions").status_code == 200
    assert c.get(env.httpd.api + "/me").status_code == 401
    assert a.get(env.httpd.api + "/me").status_code == 200
    # a token cannot list sessions of the portal? it can: the user's sessions
    assert t.client().get("/auth/sessions")[0] == 200


def test_password_change_ends_other_sessions_and_optionally_tokens(env):
    t = env.new_team()
    other = portal(env, t.username, t.password)
    me = portal(env, t.username, t.password)
    tok = token_of(env, t.username, t.password)
    # wrong old password, weak new one
    r = me.put(env.httpd.api + "/me/password", json={"old_password": "nope", "new_password": "n" * 16})
    assert r.status_code in (400, 401, 403) and other.get(env.httpd.api + "/me").status_code == 200
    r = me.put(env.httpd.api + "/me/password", json={"old_password": t.password, "new_password": "short"})
    assert r.status_code == 400
    new = "pw-" + uuid.uuid4().hex
    r = me.put(env.httpd.api + "/me/password",
               json={"old_password": t.password, "new_password": new, "end_tokens": False})
    assert r.status_code == 200, r.text
    assert other.get(env.httpd.api + "/me").status_code == 401
    assert me.get(env.httpd.api + "/me").status_code == 200
    assert tok.get("/me")[0] == 200
    assert login(env, t.username, t.password)[0] == 401
    newer = "pw-" + uuid.uuid4().hex
    r = me.put(env.httpd.api + "/me/password",
               json={"old_password": new, "new_password": newer, "end_tokens": True})
    assert r.status_code == 200
    assert tok.get("/me")[0] == 401
    assert t.client().get("/me")[0] == 401  # the CLI-made token too


def test_cli_passwd_ends_sessions_and_with_end_tokens_the_tokens(env):
    t = env.new_team()
    s = portal(env, t.username, t.password)
    tok = token_of(env, t.username, t.password)
    env.ctl("user", "passwd", t.username, input="pw-" + uuid.uuid4().hex + "\n")
    assert s.get(env.httpd.api + "/me").status_code == 401
    assert tok.get("/me")[0] == 200
    env.ctl("user", "passwd", t.username, "--end-tokens", input="pw-" + uuid.uuid4().hex + "\n")
    assert tok.get("/me")[0] == 401


# ---- 6. server defaults -----------------------------------------------------------------

def raw_request(port, data, read_timeout=30):
    s = socket.create_connection(("127.0.0.1", port), timeout=read_timeout)
    s.sendall(data)
    out = b""
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            out += chunk
    except socket.timeout:
        out += b"<timeout>"
    s.close()
    return out


def test_trace_is_off_and_server_tokens_prod(env):
    r = requests.request("TRACE", env.httpd.url + "/", timeout=10)
    assert r.status_code == 405
    r = requests.get(env.httpd.url + "/", timeout=10)
    assert r.headers["Server"] == "Apache"


def test_access_log_has_a_defined_format(env):
    requests.get(env.httpd.url + "/index.html?probe=accesslog", timeout=10)
    path = os.path.join(env.httpd.dir, "logs", "access.log")
    deadline = time.time() + 5
    lines = []
    while time.time() < deadline:
        if os.path.exists(path):
            with open(path) as f:
                lines = [l for l in f.read().splitlines() if "probe=accesslog" in l]
            if lines:
                break
        time.sleep(0.1)
    assert lines, "no access log line"
    assert lines[-1] != "common" and '"GET /index.html?probe=accesslog HTTP/1.1" 200' in lines[-1]
    assert lines[-1].split()[-1].isdigit()  # %D, the request time in microseconds


def test_a_slow_body_is_cut(env):
    t0 = time.time()
    head = (f"POST /v1beta/auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Content-Length: 1000\r\n\r\n{{").encode()
    out = raw_request(env.httpd.port, head, read_timeout=45)
    took = time.time() - t0
    assert took < 40, took  # not the 60 s of Timeout
    assert out == b"" or b"408" in out or b"<timeout>" not in out


def test_order_token_page_exists(env):
    api = env.new_team(balance="1000").client()
    import issuing
    oid = issuing.order(api)[0]
    st, body = api.post(f"/ssl/orders/{oid}/otp-tokens")
    assert st == 200
    uri = body["data"]["uri"].split("#")[0]
    r = requests.get(uri, timeout=10)
    assert r.status_code == 200 and "text/html" in r.headers["Content-Type"]
    assert "order token" in r.text.lower()
    assert f"order={oid}&token={body['data']['token']}" in body["data"]["uri"]
    assert requests.get(env.httpd.url + "/js/otp.js", timeout=10).status_code == 200


def test_frame_headers_are_consistent(env, team):
    # the portal: no framing in either header
    r = requests.get(env.httpd.url + "/", timeout=10)
    assert r.headers["X-Frame-Options"] == "DENY" and "frame-ancestors 'none'" in r.headers["Content-Security-Policy"]


# ---- 5. seal binding --------------------------------------------------------------------

def test_seal_host_comes_from_referer_or_origin_before_the_query(env):
    import issuing
    t = env.new_team(balance="10000", ttl=issuing.LONG)
    api = t.client()
    d = issuing.dom()
    oid, o = issuing.issued(env, api, names=[d, "www." + d])
    s = api.get(f"/ssl/orders/{oid}/seal")[1]["data"]
    # a phishing page cannot claim the real site with ?host=
    for hdr in ({"Referer": "https://phish.example/login"}, {"Origin": "https://phish.example"}):
        r = requests.get(s["image_url"], params={"host": d}, headers=hdr, timeout=10)
        assert "NOT VALID FOR THIS SITE" in r.text and "SECURED SITE" not in r.text, hdr
        r = requests.get(s["report_url"], params={"host": d}, headers=hdr, timeout=10)
        assert "not valid for this site" in r.text.lower(), hdr
    # the real site with a Referer, and ?host= alone (no header sent)
    r = requests.get(s["image_url"], params={"host": "evil.example"},
                     headers={"Referer": f"https://www.{d}/"}, timeout=10)
    assert "SECURED SITE" in r.text
    assert "SECURED SITE" in requests.get(s["image_url"], params={"host": d}, timeout=10).text
    # the report never prints request text that is not one of the order's names
    spoof = "CALL-0800-555-SUPPORT.example"
    r = requests.get(s["report_url"], params={"host": spoof}, timeout=10)
    assert "not valid for this site" in r.text.lower()
    assert spoof.lower() not in r.text.lower() and "0800" not in r.text
    r = requests.get(s["report_url"], headers={"Referer": f"https://{spoof}/"}, timeout=10)
    assert "0800" not in r.text
    # frame-ancestors and X-Frame-Options agree (the report may be framed)
    r = requests.get(s["report_url"], params={"host": d}, timeout=10)
    assert "X-Frame-Options" not in r.headers
    assert "frame-ancestors *" in r.headers["Content-Security-Policy"]


# ---- 7. scoped API tokens ---------------------------------------------------------------

def test_scoped_tokens(env):
    t = env.new_team(balance="100")
    owner = t.client()
    st, body = owner.post("/team/tokens", json={"name": "reader", "scopes": ["orders:read"]})
    assert st == 200 and body["data"]["scopes"] == "orders:read", body
    reader = Client(env.httpd.api, body["data"]["token"])
    assert reader.get("/ssl/orders")[0] == 200
    st, ans = reader.post("/customers", json={"company_name": "X"})
    assert (st, ans["code"]) == (403, 161) and "orders:write" in ans["desc"] and ans["data"] == "orders:write"
    for path in ("/ledger", "/cart"):
        st, ans = reader.get(path)
        assert (st, ans["code"]) == (403, 161) and "billing" in ans["desc"], path
    st, ans = reader.post("/team/tokens", json={"name": "escalate"})
    assert (st, ans["code"]) == (403, 161) and "team:admin" in ans["desc"]
    assert reader.get("/me")[0] == 200  # the account itself needs no scope
    # the default: the creator's role
    st, body = owner.post("/team/tokens", json={"name": "all"})
    assert set(body["data"]["scopes"].split()) >= {"orders:read", "orders:write", "billing", "team:admin"}
    listed = {x["id"]: x for x in owner.get("/team/tokens")[1]["data"]["results"]}
    assert any(x["scopes"] == "orders:read" for x in listed.values())
    # a member cannot hand out scopes beyond its role (and may not make tokens at all)
    # networks: only from an allowed address
    st, body = owner.post("/team/tokens", json={"name": "net", "networks": ["192.0.2.0/24", "2001:db8::/32"]})
    assert st == 200 and body["data"]["networks"] == "192.0.2.0/24 2001:db8::/32"
    st, ans = Client(env.httpd.api, body["data"]["token"]).get("/me")
    assert (st, ans["code"]) == (401, 196)
    st, body = owner.post("/team/tokens", json={"name": "net2", "networks": ["127.0.0.0/8"]})
    assert Client(env.httpd.api, body["data"]["token"]).get("/me")[0] == 200
    # expiry as a time
    at = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(time.time() + 3600))
    st, body = owner.post("/team/tokens", json={"name": "exp", "expires_at": at})
    assert st == 200 and body["data"]["expires_at"] == at
    later = str(int(time.time()) + 7200)
    assert Client(env.httpd.api, body["data"]["token"]).get("/me", headers={"X-SSLOrders-Clock": later})[0] == 401
    # bad input changes nothing
    before = len(owner.get("/team/tokens", params={"all": "true"})[1]["data"]["results"])
    for bad in ({"name": "x", "scopes": ["root"]}, {"name": "x", "scopes": "orders:read"},
                {"name": "x", "scopes": []}, {"name": "x", "scopes": [1]},
                {"name": "x", "networks": ["10.0.0.0/33"]}, {"name": "x", "networks": ["10.1"]},
                {"name": "x", "networks": ["example.com"]}, {"name": "x", "networks": ["1.2.3.4/"]},
                {"name": "x", "expires_at": "yesterday"}, {"name": "x", "expires_at": "2001-01-01"},
                {"name": "x", "expires_at": at, "ttl_hours": 2}):
        st, ans = owner.post("/team/tokens", json=bad)
        assert (st, ans["code"]) == (400, 102), (bad, ans)
    assert len(owner.get("/team/tokens", params={"all": "true"})[1]["data"]["results"]) == before


# ---- 8. the audit log -------------------------------------------------------------------

def test_audit_log_records_every_write(env):
    t = env.new_team(balance="100")
    owner = t.client()
    member = t.add_member("member")
    mc = member.client()
    st, body = mc.post("/customers", json={"company_name": "Audit Co", "name": {"first_name": "A", "last_name": "B"}})
    mc.post("/team/members", json={"username": "someone", "role": "viewer"})  # refused: 403
    s = portal(env, t.username, t.password, headers={"User-Agent": "audit-browser"})
    s.post(env.httpd.api + "/folders", json={"name": "Audited"})
    owner.get("/ssl/orders")  # reads are not logged
    st, body = owner.get("/audit")
    assert st == 200, body
    rows = body["data"]["results"]
    assert all(r["method"] != "GET" for r in rows)
    by_route = {(r["method"], r["route"]): r for r in rows}
    c = by_route[("POST", "/customers")]
    assert c["actor"] == member.username and c["actor_kind"] == "token" and c["ip"] == "127.0.0.1"
    assert c["status"] in (200, 400) and c["at"]
    refused = by_route[("POST", "/team/members")]
    assert refused["status"] == 403 and refused["code"] == 108
    f = by_route[("POST", "/folders")]
    assert f["actor_kind"] == "session" and f["actor"] == t.username
    # the CLI's staff action is there too
    u = env.new_user()
    env.ctl("member", "add", t.slug, u[0], "viewer")
    rows = owner.get("/audit")[1]["data"]["results"]
    assert rows[0]["actor_kind"] == "cli" and u[0] in rows[0]["path"]
    assert u[0] in env.ctl("audit", t.slug).stdout
    # filters and paging
    st, body = owner.get("/audit", params={"actor": member.username})
    assert body["data"]["total"] >= 2 and all(r["actor"] == member.username for r in body["data"]["results"])
    st, body = owner.get("/audit", params={"result": "failure"})
    assert all(r["status"] >= 400 for r in body["data"]["results"]) and body["data"]["total"] >= 1
    st, body = owner.get("/audit", params={"limit": 1})
    assert len(body["data"]["results"]) == 1 and body["data"]["total"] >= 4
    # CSV
    r = owner.raw("GET", "/audit", params={"format": "csv"})
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/csv")
    lines = r.text.strip().split("\r\n")
    assert lines[0].startswith("id,at,actor_kind,actor") and len(lines) >= 5
    # admins only; another team sees none of it
    assert mc.get("/audit")[0] == 403
    other = env.new_team().client()
    theirs = other.get("/audit")[1]["data"]["results"]
    assert [r["actor_kind"] for r in theirs] == ["cli"]  # only its own making
    assert not any(member.username in (r["actor"] + r["path"]) for r in theirs)
    for bad in ({"since": "x"}, {"result": "maybe"}, {"format": "xml"}, {"limit": 0}):
        st, ans = owner.get("/audit", params=bad)
        assert (st, ans["code"]) == (400, 102), bad


def test_audit_retention_is_pruned_by_the_job(env):
    t = env.new_team()
    owner = t.client()
    owner.post("/team/tokens", json={"name": "old"})
    owner.post("/team/tokens", json={"name": "new"})
    rows = owner.get("/audit")[1]["data"]["results"]
    assert len(rows) >= 2
    # the oldest row 400 days old (the job at the real time: it does not expire every order)
    old = min(r["id"] for r in rows)
    env.sql(f"UPDATE audit_log SET at = at - {400 * 86400} WHERE id = {old}")
    env.run_jobs()
    left = [r["id"] for r in owner.get("/audit")[1]["data"]["results"]]
    assert old not in left and len(left) == len(rows) - 1


# ---- 9. two-factor sign-in --------------------------------------------------------------

def totp(secret, at, step=30):
    import base64
    import hashlib
    import hmac
    import struct
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    mac = hmac.new(key, struct.pack(">Q", int(at) // step), hashlib.sha1).digest()
    off = mac[-1] & 15
    return "%06d" % ((struct.unpack(">I", mac[off:off + 4])[0] & 0x7fffffff) % 1000000)


def test_two_factor_sign_in(env):
    t = env.new_team()
    me = portal(env, t.username, t.password)
    api = env.httpd.api
    assert me.get(api + "/me/2fa").json()["data"] == {"enabled": False, "pending": False}
    r = me.post(api + "/me/2fa/confirm", json={"otp": "123456"})
    assert (r.status_code, r.json()["code"]) == (409, 164)
    r = me.post(api + "/me/2fa")
    assert r.status_code == 200, r.text
    secret, uri = r.json()["data"]["secret"], r.json()["data"]["otpauth_uri"]
    assert len(secret) == 32 and uri.startswith("otpauth://totp/") and f"secret={secret}" in uri
    now = int(time.time())
    r = me.post(api + "/me/2fa/confirm", json={"otp": "000000" if totp(secret, now) != "000000" else "111111"})
    assert (r.status_code, r.json()["code"]) == (400, 102)
    code = totp(secret, now)
    r = me.post(api + "/me/2fa/confirm", json={"otp": code})
    assert r.status_code == 200, r.text
    recovery = r.json()["data"]["recovery_codes"]
    assert len(recovery) == 10 and len(set(recovery)) == 10
    assert me.get(api + "/me/2fa").json()["data"]["enabled"] is True
    # sign-in now needs the second factor
    st, ans = login(env, t.username, t.password)
    assert (st, ans["code"]) == (401, 162)
    body = {"username": t.username, "password": t.password, "otp": code}
    st, ans = Client(api).post("/auth/login", json=body)
    assert (st, ans["code"]) == (401, 196)  # the confirming code is not accepted again
    later = now + 60
    body["otp"] = totp(secret, later)
    h = {"X-SSLOrders-Clock": str(later)}
    st, ans = Client(api).post("/auth/login", json=body, headers=h)
    assert st == 200, ans
    st, ans = Client(api).post("/auth/login", json=body, headers=h)
    assert (st, ans["code"]) == (401, 196)  # each code once
    r = requests.post(api + "/auth/session", json=dict(body, otp=totp(secret, later + 30)),
                      headers={"X-SSLOrders-Clock": str(later + 30)})
    assert r.status_code == 200, r.text
    # a recovery code, once
    body["otp"] = recovery[0]
    assert Client(api).post("/auth/login", json=body)[0] == 200
    assert Client(api).post("/auth/login", json=body)[0] == 401
    body["otp"] = recovery[1].upper().replace("-", "")
    assert Client(api).post("/auth/login", json=body)[0] == 200
    # a team may require it: a member without it cannot sign in there
    other = t.add_member("viewer")
    tc = t.client()
    st, ans = tc.put("/team", json={"require_2fa": True})
    assert st == 200 and ans["data"]["require_2fa"] is True
    st, ans = login(env, other.username, other.password, team=t.slug)
    assert (st, ans["code"]) == (403, 163)
    # an admin without 2FA cannot require it
    nt = env.new_team()
    st, ans = nt.client().put("/team", json={"require_2fa": True})
    assert (st, ans["code"]) == (403, 163)
    assert nt.client().put("/team", json={"require_2fa": "maybe"})[0] == 400
    assert tc.put("/team", json={"require_2fa": False})[1]["data"]["require_2fa"] is False
    assert login(env, other.username, other.password, team=t.slug)[0] == 200
    # off again with a code
    r = me.delete(api + "/me/2fa", json={"otp": "999999" if totp(secret, later + 90) != "999999" else "888888"},
                  headers={"X-SSLOrders-Clock": str(later + 90)})
    assert r.status_code == 400
    r = me.delete(api + "/me/2fa", json={"otp": totp(secret, later + 90)},
                  headers={"X-SSLOrders-Clock": str(later + 90)})
    assert r.status_code == 200, r.text
    st, ans = login(env, t.username, t.password)
    assert st == 200
    # the job run itself is a staff action in the staff user's team
    kinds = {(r["actor_kind"], r["route"]) for r in env.staff().get("/audit")[1]["data"]["results"]}
    assert ("staff", "/staff/jobs/run") in kinds
