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
