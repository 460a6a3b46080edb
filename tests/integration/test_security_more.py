"""Security (issue 14, the rest): the audit row commits with its change, TOTP enrolment
shows a QR code, POST /teams does not tell whether a slug is taken, requiring 2FA ends the
sessions of members without it. Every test here failed before the fix."""
import base64
import hashlib
import hmac
import shutil
import struct
import subprocess
import time
import uuid

import pytest
import requests

from harness import DB, Client


def totp(secret, at, step=30):
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    mac = hmac.new(key, struct.pack(">Q", int(at) // step), hashlib.sha1).digest()
    off = mac[-1] & 15
    return "%06d" % ((struct.unpack(">I", mac[off:off + 4])[0] & 0x7fffffff) % 1000000)


def portal(env, username, password, otp=None, team=None):
    s = requests.Session()
    body = {"username": username, "password": password}
    if otp:
        body["otp"] = otp
    if team:
        body["team"] = team
    r = s.post(env.httpd.api + "/auth/session", json=body)
    assert r.status_code == 200, r.text
    s.headers["X-CSRF-Token"] = r.json()["data"]["csrf_token"]
    return s


# ---- 1. an action and its audit row commit (or roll back) together ----------------------

def refuse_audit_rows_of(env, actor):
    """A trigger that makes the database refuse the audit rows of one actor."""
    if DB == "pgsql":
        env.sql("CREATE OR REPLACE FUNCTION so_test_audit_refuse() RETURNS trigger LANGUAGE plpgsql "
                f"AS $$ BEGIN IF NEW.actor = '{actor}' THEN RAISE EXCEPTION 'audit refused'; END IF; "
                "RETURN NEW; END $$; "
                "CREATE TRIGGER so_test_audit_refuse BEFORE INSERT ON audit_log FOR EACH ROW "
                "EXECUTE FUNCTION so_test_audit_refuse()")
    else:
        env.sql("CREATE TRIGGER so_test_audit_refuse BEFORE INSERT ON audit_log "
                f"WHEN NEW.actor = '{actor}' BEGIN SELECT RAISE(ABORT, 'audit refused'); END")


def allow_audit_rows(env):
    env.sql("DROP TRIGGER so_test_audit_refuse" + (" ON audit_log" if DB == "pgsql" else ""))


def folder_names(client):
    st, body = client.get("/folders")
    assert st == 200, body
    return {f["name"] for f in body["data"]["results"]}


def test_a_change_and_its_audit_row_commit_together(env):
    t = env.new_team()
    owner = t.client()
    env.expect_log(r"audit refused")
    refuse_audit_rows_of(env, t.username)
    try:
        # the audit row cannot be written: the change is not kept either
        st, ans = owner.post("/folders", json={"name": "Unaudited"})
        assert st >= 500 and ans["code"], ans
        # a change outside an explicit transaction of the handler: the same
        st, ans = owner.post("/team/tokens", json={"name": "unaudited"})
        assert st >= 500, ans
    finally:
        allow_audit_rows(env)
    assert "Unaudited" not in folder_names(owner)
    names = [k["name"] for k in owner.get("/team/tokens", params={"all": "true"})[1]["data"]["results"]]
    assert "unaudited" not in names
    # with the audit log working: the change and its row, with the answer's status
    st, ans = owner.post("/folders", json={"name": "Audited"})
    assert st == 200, ans
    assert "Audited" in folder_names(owner)
    rows = owner.get("/audit")[1]["data"]["results"]
    made = [r for r in rows if (r["method"], r["route"]) == ("POST", "/folders")]
    assert len(made) == 1 and made[0]["status"] == 200, rows
    assert not [r for r in rows if r["route"] == "/team/tokens"], rows
    # an attempt that changed nothing is recorded with its failure, and changed nothing
    st, ans = owner.post("/folders", json={"name": ""})
    assert st == 400
    rows = owner.get("/audit")[1]["data"]["results"]
    made = [r for r in rows if (r["method"], r["route"]) == ("POST", "/folders")]
    assert sorted(r["status"] for r in made) == [200, 400]
    assert folder_names(owner) == {"Audited"} | (folder_names(owner) - {"Audited", "Unaudited", ""})


# ---- 3. POST /teams does not tell whether a slug is taken -------------------------------

def test_creating_a_team_does_not_tell_whether_a_slug_is_taken(env):
    first = env.new_team().client()
    prefix = "s" + uuid.uuid4().hex[:10]
    st, body = first.post("/teams", json={"slug": prefix})
    assert st == 200, body
    taken = body["data"]["slug"]
    assert taken.startswith(prefix + "-")
    # an outsider asks for the taken slug, the prefix again, and a free one: the same answer
    outsider = env.new_team().client()
    answers = []
    for ask in (taken, prefix, "f" + uuid.uuid4().hex[:10], env.new_team().slug):
        st, body = outsider.post("/teams", json={"slug": ask, "name": "Outsider Co"})
        assert st == 200, (ask, body)
        d = body["data"]
        assert d["slug"].startswith(ask[:56] + "-") and len(d["slug"]) == len(ask[:56]) + 7
        assert d["role"] == "owner" and d["name"] == "Outsider Co"
        answers.append(d)
    assert len({d["slug"] for d in answers}) == len(answers)
    assert len({tuple(sorted(d)) for d in answers}) == 1
    # a 63-character prefix still makes a valid slug; bad slugs are refused
    st, body = outsider.post("/teams", json={"slug": "a" * 63})
    assert st == 200 and len(body["data"]["slug"]) == 63, body
    st, body = outsider.post("/teams", json={"slug": "-bad"})
    assert (st, body["code"]) == (400, 102)
    # the first team is untouched: its owner still signs in to it by its slug
    assert {t["slug"] for t in first.get("/teams")[1]["data"]["results"]} >= {taken}


# ---- 4. requiring 2FA ends the sessions of members without it ---------------------------

def test_requiring_2fa_ends_sessions_of_members_without_it(env):
    t = env.new_team()
    api = env.httpd.api
    owner = portal(env, t.username, t.password)
    r = owner.post(api + "/me/2fa")
    secret = r.json()["data"]["secret"]
    now = int(time.time())
    r = owner.post(api + "/me/2fa/confirm", json={"otp": totp(secret, now)})
    assert r.status_code == 200, r.text
    member = t.add_member("member")
    msession = portal(env, member.username, member.password, team=t.slug)
    st, ans = Client(api).post("/auth/login", json={"username": member.username,
                                                    "password": member.password, "team": t.slug})
    assert st == 200, ans
    mlogin = Client(api, ans["data"]["token"])
    assert msession.get(api + "/me").status_code == 200 and mlogin.get("/me")[0] == 200
    tc = t.client()
    st, ans = tc.put("/team", json={"require_2fa": True})
    assert st == 200 and ans["data"]["require_2fa"] is True, ans
    assert ans["data"]["sessions_ended"] == 2
    # the member's portal session and sign-in token are over; the owner's (with 2FA) are not
    assert msession.get(api + "/me").status_code == 401
    assert mlogin.get("/me")[0] == 401
    assert owner.get(api + "/me").status_code == 200 and tc.get("/me")[0] == 200
    # off again: nothing more ends
    st, ans = tc.put("/team", json={"require_2fa": False})
    assert st == 200 and ans["data"]["sessions_ended"] == 0


# ---- 2. TOTP enrolment shows a QR code --------------------------------------------------

def decode_qr_svg(svg, tmp_path):
    """The text of a QR code SVG, read by real tools: rsvg-convert draws it, zbarimg reads it."""
    for tool in ("rsvg-convert", "zbarimg"):
        assert shutil.which(tool), f"{tool} is missing: scripts/deps.sh test installs it"
    src, png = tmp_path / "qr.svg", tmp_path / "qr.png"
    src.write_text(svg)
    subprocess.run(["rsvg-convert", "-o", str(png), str(src)], check=True)
    r = subprocess.run(["zbarimg", "--raw", "-q", str(png)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return r.stdout.strip()


def test_enrolment_answers_a_qr_code_of_the_otpauth_uri(env, tmp_path):
    t = env.new_team()
    api = env.httpd.api
    me = portal(env, t.username, t.password)
    r = me.post(api + "/me/2fa")
    assert r.status_code == 200, r.text
    d = r.json()["data"]
    assert d["qr_svg"].startswith("<svg xmlns=\"http://www.w3.org/2000/svg\"")
    assert "<script" not in d["qr_svg"] and "style" not in d["qr_svg"]
    assert decode_qr_svg(d["qr_svg"], tmp_path) == d["otpauth_uri"]
    # a new enrolment: a new secret and its own code
    r = me.post(api + "/me/2fa")
    d2 = r.json()["data"]
    assert d2["secret"] != d["secret"]
    assert decode_qr_svg(d2["qr_svg"], tmp_path) == d2["otpauth_uri"]
    # the secret of the code completes the enrolment
    r = me.post(api + "/me/2fa/confirm", json={"otp": totp(d2["secret"], time.time())})
    assert r.status_code == 200, r.text
    assert me.get(api + "/me/2fa").json()["data"]["enabled"] is True
