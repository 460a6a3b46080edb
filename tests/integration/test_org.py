"""Account organisation (issue 6): folders, auto arrange, tags, the CSR Manager, quotes,
the cart and its checkout, balance and ledger, staff credit, teams, members and tokens;
role checks, other teams' objects (404) and bad input that changes nothing."""
import hashlib
import json
import socket
import threading
import time
import uuid

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import serialization

import pki
from harness import Client
from test_orders import DV, DV_MULTI, DV_WILD, OV, create, dom, prices, set_status

ROLES = ("archived", "default", "expired", "active", "revoked")


# ---- helpers -------------------------------------------------------------------------------

def team_id(env, team):
    return env.sql(f"SELECT id FROM teams WHERE slug = '{team.slug}'").strip()


def snapshot(env, team):
    """Everything of a team that a refused request must leave as it was."""
    tid = team_id(env, team)
    q = [f"SELECT COUNT(*) FROM orders WHERE team_id = {tid}",
         f"SELECT COUNT(*) FROM ledger WHERE team_id = {tid}",
         f"SELECT balance FROM team_balances WHERE team_id = {tid}",
         f"SELECT COUNT(*), COALESCE(SUM(id * 7 + parent_id + LENGTH(name) + is_default), 0) "
         f"FROM folders WHERE team_id = {tid}",
         f"SELECT COUNT(*) FROM tags WHERE team_id = {tid}",
         f"SELECT COUNT(*) FROM order_tags WHERE team_id = {tid}",
         f"SELECT COUNT(*), COALESCE(SUM(LENGTH(friendly_name)), 0) FROM managed_csrs WHERE team_id = {tid}",
         f"SELECT COUNT(*), COALESCE(SUM(quantity * 10 + period), 0) FROM cart_items WHERE team_id = {tid}",
         f"SELECT COUNT(*), COALESCE(SUM(LENGTH(role)), 0) FROM memberships WHERE team_id = {tid}",
         f"SELECT COUNT(*) FROM api_tokens WHERE team_id = {tid} AND revoked_at IS NULL",
         f"SELECT COALESCE(SUM(COALESCE(folder_id, 0)), 0) FROM orders WHERE team_id = {tid}"]
    return [env.sql(x).strip() for x in q]


def folders(api):
    """name -> folder (flat list)."""
    st, body = api.get("/folders", params={"flat": "true"})
    assert st == 200, body
    return {f["path"]: f for f in body["data"]["results"]}


def fid(api, path):
    return folders(api)[path]["id"]


def order(api, oid):
    st, body = api.get(f"/ssl/orders/{oid}")
    assert st == 200, body
    return body["data"]


def ids(body):
    return sorted(o["id"] for o in body["data"]["results"])


def in_folder(api, folder_id, sub=False):
    params = {"folder_id": folder_id}
    if sub:
        params["with_subfolders"] = "true"
    st, body = api.get("/ssl/orders", params=params)
    assert st == 200, body
    return ids(body)


@pytest.fixture
def rich(env):
    return env.new_team(balance="5000")


# ---- folders ---------------------------------------------------------------------------------

def test_new_team_has_five_folders_and_orders_land_in_default(env, rich):
    api = rich.client()
    st, body = api.get("/folders")
    assert st == 200
    data = body["data"]
    assert data["total"] == 5 and data["folders"] == 5
    got = {f["name"]: f for f in data["results"]}
    assert set(got) == set(ROLES)
    for name, f in got.items():
        assert f["role"] == name and f["parent_id"] is None and f["children"] == []
        assert f["is_default"] == (name == "default")
    assert data["default_folder_id"] == got["default"]["id"]
    oid = create(api)[1]["data"]["id"]
    o = order(api, oid)
    assert o["folder_id"] == got["default"]["id"] and o["folder_name"] == "default"
    assert o["tags"] == [] and o["certificate_tags"] == []
    assert folders(api)["default"]["orders"] == 1
    # the list carries the folder too
    listed = api.get("/ssl/orders")[1]["data"]["results"][0]
    assert listed["folder_id"] == got["default"]["id"]


def test_folder_tree_rename_move_keep_roles(env, rich):
    api = rich.client()
    st, body = api.post("/folders", json={"name": "Web Servers"})
    assert st == 200, body
    web = body["data"]["id"]
    st, body = api.post("/folders", json={"name": "prod_1", "parent_id": web})
    assert st == 200, body
    prod = body["data"]["id"]
    assert api.post("/folders", json={"name": "eu", "parent_id": prod})[0] == 200
    # the original folders may be renamed and moved; they keep their roles
    f = folders(api)
    assert api.put(f"/folders/{f['active']['id']}", json={"name": "Live certs"})[0] == 200
    assert api.put(f"/folders/{f['expired']['id']}", json={"parent_id": web})[0] == 200
    f = folders(api)
    assert f["Live certs"]["role"] == "active"
    assert f["Web Servers/expired"]["role"] == "expired"
    assert f["Web Servers/prod_1/eu"]["path"] == "Web Servers/prod_1/eu"
    # rename and move at once, and back to the root with parent_id null
    assert api.put(f"/folders/{prod}", json={"name": "Prod", "parent_id": None})[0] == 200
    f = folders(api)
    assert "Prod" in f and "Prod/eu" in f and f["Prod"]["parent_id"] is None
    st, body = api.get(f"/folders/{web}")
    assert st == 200 and [c["name"] for c in body["data"]["children"]] == ["expired"]
    tree = api.get("/folders")[1]["data"]
    assert tree["total"] == 6 and tree["folders"] == 8
    # the tree is paged by its root folders
    page = api.get("/folders", params={"limit": 2, "offset": 1})[1]["data"]
    assert page["total"] == 6 and len(page["results"]) == 2
    # name search
    found = api.get("/folders", params={"pattern": "EU"})[1]["data"]["results"]
    assert [x["path"] for x in found] == ["Prod/eu"]


@pytest.mark.parametrize("name", ["", "   ", "a/b", "dots.too", "tab\there", "x" * 65, "caf\u00e9",
                                  "<script>"])
def test_folder_name_rules(env, rich, name):
    api = rich.client()
    before = snapshot(env, rich)
    st, body = api.post("/folders", json={"name": name})
    assert (st, body["code"]) == (400, 120), body
    dflt = fid(api, "default")
    st, body = api.put(f"/folders/{dflt}", json={"name": name})
    assert (st, body["code"]) == (400, 120), body
    assert snapshot(env, rich) == before


def test_folder_names_unique_per_parent_case_insensitive(env, rich):
    api = rich.client()
    a = api.post("/folders", json={"name": "Shop_A 1"})[1]["data"]["id"]
    before = snapshot(env, rich)
    for name in ("shop_a 1", "SHOP_A 1", "  Shop_A 1 ", "Default"):
        st, body = api.post("/folders", json={"name": name})
        assert (st, body["code"]) == (409, 121), name
    assert snapshot(env, rich) == before
    # the same name under another parent is fine
    assert api.post("/folders", json={"name": "shop_a 1", "parent_id": a})[0] == 200
    # renaming or moving onto a taken name is refused
    st, body = api.put(f"/folders/{fid(api, 'archived')}", json={"name": "ACTIVE"})
    assert (st, body["code"]) == (409, 121)
    inner = fid(api, "Shop_A 1/shop_a 1")
    st, body = api.put(f"/folders/{inner}", json={"parent_id": 0})
    assert (st, body["code"]) == (409, 121)
    # a rename that only changes the case of a folder's own name is fine
    assert api.put(f"/folders/{a}", json={"name": "SHOP_A 1"})[0] == 200


def test_folder_move_never_into_its_subtree(env, rich):
    api = rich.client()
    a = api.post("/folders", json={"name": "A"})[1]["data"]["id"]
    b = api.post("/folders", json={"name": "B", "parent_id": a})[1]["data"]["id"]
    c = api.post("/folders", json={"name": "C", "parent_id": b})[1]["data"]["id"]
    before = snapshot(env, rich)
    for target in (a, b, c):
        st, body = api.put(f"/folders/{a}", json={"parent_id": target})
        assert (st, body["code"]) == (409, 122), target
    st, body = api.put(f"/folders/{b}", json={"parent_id": c})
    assert (st, body["code"]) == (409, 122)
    # unknown or foreign parents
    other = env.new_team().client()
    foreign = fid(other, "default")
    for parent in (foreign, 999999999):
        st, body = api.put(f"/folders/{a}", json={"parent_id": parent})
        assert (st, body["code"]) == (404, 103)
        st, body = api.post("/folders", json={"name": "x", "parent_id": parent})
        assert (st, body["code"]) == (404, 103)
    assert snapshot(env, rich) == before
    # moving down another branch and back to the root works
    d = api.post("/folders", json={"name": "D"})[1]["data"]["id"]
    assert api.put(f"/folders/{b}", json={"parent_id": d})[0] == 200
    assert api.put(f"/folders/{b}", json={"parent_id": 0})[0] == 200
    assert folders(api)["B/C"]["id"] == c
    # nesting is bounded
    parent = d
    for i in range(15):
        st, body = api.post("/folders", json={"name": f"l{i}", "parent_id": parent})
        assert st == 200, (i, body)
        parent = body["data"]["id"]
    st, body = api.post("/folders", json={"name": "too_deep", "parent_id": parent})
    assert (st, body["code"]) == (409, 122)


def test_default_folder_can_change(env, rich):
    api = rich.client()
    inbox = api.post("/folders", json={"name": "Inbox"})[1]["data"]["id"]
    first = create(api)[1]["data"]["id"]
    st, body = api.put(f"/folders/{inbox}", json={"is_default": True})
    assert st == 200, body
    f = folders(api)
    assert f["Inbox"]["is_default"] and not f["default"]["is_default"]
    assert f["default"]["role"] == "default"
    assert api.get("/folders")[1]["data"]["default_folder_id"] == inbox
    second = create(api)[1]["data"]["id"]
    assert order(api, second)["folder_name"] == "Inbox"
    assert order(api, first)["folder_name"] == "default"
    st, body = api.put(f"/folders/{inbox}", json={"is_default": False})
    assert (st, body["code"]) == (400, 102)
    # any folder, an original one too
    assert api.put(f"/folders/{fid(api, 'archived')}", json={"is_default": True})[0] == 200
    assert order(api, create(api)[1]["data"]["id"])["folder_name"] == "archived"
    tid = team_id(env, rich)
    assert env.sql(f"SELECT COUNT(*) FROM folders WHERE team_id = {tid} AND is_default = 1").strip() == "1"


def test_delete_takes_subtree_and_moves_orders_to_default(env, rich):
    api = rich.client()
    x = api.post("/folders", json={"name": "X"})[1]["data"]["id"]
    y = api.post("/folders", json={"name": "Y", "parent_id": x})[1]["data"]["id"]
    z = api.post("/folders", json={"name": "Z", "parent_id": y})[1]["data"]["id"]
    o1, o2, o3 = (create(api)[1]["data"]["id"] for _ in range(3))
    assert api.post(f"/folders/{x}/orders", json={"order_ids": [o1]})[0] == 200
    assert api.post(f"/folders/{z}/orders", json={"order_ids": [o2]})[0] == 200
    st, body = api.delete(f"/folders/{x}")
    assert st == 200, body
    assert body["data"]["deleted_folders"] == 3 and body["data"]["moved_orders"] == 2
    assert not body["data"]["default_folder_created"]
    f = folders(api)
    assert not any(p.startswith("X") for p in f)
    dflt = f["default"]["id"]
    for oid in (o1, o2, o3):
        assert order(api, oid)["folder_id"] == dflt
    assert api.get(f"/folders/{y}")[0] == 404
    # every order is in exactly one folder
    tid = team_id(env, rich)
    assert env.sql(f"SELECT COUNT(*) FROM orders WHERE team_id = {tid} AND folder_id IS NULL").strip() == "0"
    assert sum(v["orders"] for v in folders(api).values()) == 3


def test_deleting_the_default_folder_makes_a_new_default(env, rich):
    api = rich.client()
    o1 = create(api)[1]["data"]["id"]
    old = fid(api, "default")
    st, body = api.delete(f"/folders/{old}")
    assert st == 200, body
    assert body["data"]["default_folder_created"] and body["data"]["moved_orders"] == 1
    f = folders(api)
    new = f["default"]
    assert new["id"] != old and new["is_default"] and new["role"] == "default"
    assert order(api, o1)["folder_id"] == new["id"]
    assert order(api, create(api)[1]["data"]["id"])["folder_id"] == new["id"]
    # a custom default inside a deleted subtree: the original "default" is the default again
    p = api.post("/folders", json={"name": "Parent"})[1]["data"]["id"]
    inbox = api.post("/folders", json={"name": "Inbox", "parent_id": p})[1]["data"]["id"]
    api.put(f"/folders/{inbox}", json={"is_default": True})
    o2 = create(api)[1]["data"]["id"]
    st, body = api.delete(f"/folders/{p}")
    assert st == 200 and not body["data"]["default_folder_created"]
    assert body["data"]["default_folder_id"] == new["id"]
    assert order(api, o2)["folder_id"] == new["id"]
    # the original "default" gone and a custom default deleted: a new "default" again
    inbox = api.post("/folders", json={"name": "Inbox"})[1]["data"]["id"]
    api.put(f"/folders/{inbox}", json={"is_default": True})
    assert api.delete(f"/folders/{new['id']}")[0] == 200
    st, body = api.delete(f"/folders/{inbox}")
    assert st == 200 and body["data"]["default_folder_created"]
    f = folders(api)
    assert f["default"]["is_default"] and f["default"]["role"] == "default"


def test_move_orders_all_or_nothing(env, rich):
    api = rich.client()
    a = api.post("/folders", json={"name": "A"})[1]["data"]["id"]
    sub = api.post("/folders", json={"name": "Sub", "parent_id": a})[1]["data"]["id"]
    o1, o2, o3 = (create(api)[1]["data"]["id"] for _ in range(3))
    other = env.new_team(balance="100")
    foreign = create(other.client())[1]["data"]["id"]
    before = snapshot(env, rich)
    for bad in ({"order_ids": [o1, foreign]}, {"order_ids": [o1, 999999999]}):
        st, body = api.post(f"/folders/{a}/orders", json=bad)
        assert (st, body["code"]) == (404, 103), bad
    for bad in ({}, {"order_ids": []}, {"order_ids": "1"}, {"order_ids": ["x"]},
                {"order_ids": [1.5]}, {"order_ids": list(range(1, 1003))}):
        st, body = api.post(f"/folders/{a}/orders", json=bad)
        assert (st, body["code"]) == (400, 102), bad
    st, body = api.post(f"/folders/{fid(other.client(), 'default')}/orders", json={"order_ids": [o1]})
    assert (st, body["code"]) == (404, 103)
    assert snapshot(env, rich) == before
    assert api.post(f"/folders/{a}/orders", json={"order_ids": [o1, o2]})[1]["data"]["moved"] == 2
    assert api.post(f"/folders/{sub}/orders", json={"order_ids": [o3]})[0] == 200
    # an order is in exactly one folder: moving it again takes it out of the first
    assert in_folder(api, a) == sorted([o1, o2])
    assert in_folder(api, a, sub=True) == sorted([o1, o2, o3])
    assert in_folder(api, sub) == [o3]
    assert api.post(f"/folders/{sub}/orders", json={"order_ids": [o1]})[0] == 200
    assert in_folder(api, a) == [o2] and in_folder(api, sub) == sorted([o1, o3])
    tree = api.get(f"/folders/{a}")[1]["data"]
    assert tree["orders"] == 1 and tree["orders_total"] == 3
    # the filter combines with the others; bad or foreign folders
    assert api.get("/ssl/orders", params={"folder_id": a, "status": "ACT"})[1]["data"]["total"] == 0
    assert api.get("/ssl/orders", params={"folder_id": "x"})[0] == 400
    assert api.get("/ssl/orders", params={"folder_id": a, "with_subfolders": "maybe"})[0] == 400
    st, body = api.get("/ssl/orders", params={"folder_id": fid(other.client(), "default")})
    assert (st, body["code"]) == (404, 103)


def test_auto_arrange(env, rich):
    api = rich.client()
    now = int(time.time())
    made = {}
    for name, status, exp in (("pai", "PAI", 0), ("req", "REQ", 0), ("act", "ACT", now + 86400 * 90),
                              ("act_past", "ACT", now - 60), ("exp", "EXP", now - 86400),
                              ("rej", "REJ", now + 86400), ("fai", "FAI", 0)):
        oid = create(api)[1]["data"]["id"]
        set_status(env, oid, status, expiration_date=exp)
        made[name] = oid
    # a custom folder with content, the original folders renamed, moved or removed
    custom = api.post("/folders", json={"name": "Mine"})[1]["data"]["id"]
    api.post(f"/folders/{custom}/orders", json={"order_ids": list(made.values())})
    f = folders(api)
    api.put(f"/folders/{f['active']['id']}", json={"name": "Live", "parent_id": custom})
    api.delete(f"/folders/{f['expired']['id']}")
    api.delete(f"/folders/{f['archived']['id']}")
    # a custom root folder named like a removed original one takes its role
    api.post("/folders", json={"name": "Archived"})
    st, body = api.post("/folders/auto-arrange")
    assert st == 200, body
    data = body["data"]
    assert data["created_folders"] == ["expired"]
    assert data["arranged"] == len(made)
    f = folders(api)
    assert f["expired"]["role"] == "expired" and f["Archived"]["role"] == "archived"
    assert f["Mine/Live"]["role"] == "active"
    where = {name: order(api, oid)["folder_id"] for name, oid in made.items()}
    assert where["exp"] == where["act_past"] == f["expired"]["id"]
    assert where["rej"] == where["fai"] == f["revoked"]["id"]
    assert where["pai"] == where["req"] == f["default"]["id"]
    assert where["act"] == f["Mine/Live"]["id"]
    assert f["Mine"]["orders"] == 0
    assert set(data["folders"]) == set(ROLES)
    # again: nothing to recreate
    assert api.post("/folders/auto-arrange")[1]["data"]["created_folders"] == []


def test_folders_roles(env, rich):
    owner = rich.client()
    oid = create(owner)[1]["data"]["id"]
    dflt = fid(owner, "default")
    viewer = rich.add_member("viewer").client()
    member = rich.add_member("member").client()
    admin = rich.add_member("admin").client()
    before = snapshot(env, rich)
    assert viewer.get("/folders")[0] == 200 and viewer.get(f"/folders/{dflt}")[0] == 200
    changes = (("POST", "/folders", {"name": "v"}), ("PUT", f"/folders/{dflt}", {"name": "v"}),
               ("DELETE", f"/folders/{dflt}", None), ("POST", "/folders/auto-arrange", None),
               ("POST", f"/folders/{dflt}/orders", {"order_ids": [oid]}))
    for method, path, body in changes:
        st, ans = viewer.call(method, path, json=body)
        assert (st, ans["code"]) == (403, 108), (method, path)
    # members move orders but do not manage folders
    for method, path, body in changes[:4]:
        st, ans = member.call(method, path, json=body)
        assert (st, ans["code"]) == (403, 108), (method, path)
    assert snapshot(env, rich) == before
    assert member.post(f"/folders/{dflt}/orders", json={"order_ids": [oid]})[0] == 200
    assert admin.post("/folders", json={"name": "By admin"})[0] == 200


def test_other_teams_folders_are_404(env, rich):
    api = rich.client()
    other = env.new_team(balance="100").client()
    theirs = fid(other, "archived")
    for method, path, body in (("GET", f"/folders/{theirs}", None),
                               ("PUT", f"/folders/{theirs}", {"name": "mine"}),
                               ("DELETE", f"/folders/{theirs}", None),
                               ("POST", f"/folders/{theirs}/orders", {"order_ids": [1]}),
                               ("GET", "/folders/999999999", None),
                               ("GET", "/folders/abc", None)):
        st, ans = api.call(method, path, json=body)
        assert (st, ans["code"]) == (404, 103), (method, path)
    assert theirs not in [f["id"] for f in folders(api).values()]
    assert folders(other)["archived"]["id"] == theirs


def test_folder_bad_input_changes_nothing(env, rich):
    api = rich.client()
    dflt = fid(api, "default")
    before = snapshot(env, rich)
    url = f"{env.httpd.api}/folders"
    h = {"Authorization": f"Bearer {rich.token}", "Content-Type": "application/json"}
    for data in ("{oops", "[]", '{"name": 1}', '{"name": "a", "parent_id": "x"}',
                 '{"name": "a", "parent_id": -1}', '{"name": "a", "name": "b"}'):
        r = requests.post(url, data=data, headers=h)
        assert r.status_code == 400 and r.json()["code"] in (101, 102), data
    for body in ({}, {"is_default": "yes"}, {"name": None, "parent_id": "root"}):
        st, ans = api.put(f"/folders/{dflt}", json=body)
        assert (st, ans["code"]) == (400, 102), body
    assert api.get("/folders", params={"limit": 0})[0] == 400
    assert api.get("/folders", params={"flat": "perhaps"})[0] == 400
    assert snapshot(env, rich) == before


# ---- tags ---------------------------------------------------------------------------------------

def test_tags_on_orders(env, rich):
    api = rich.client()
    o1, o2, o3 = (create(api)[1]["data"]["id"] for _ in range(3))
    st, body = api.post(f"/ssl/orders/{o1}/tags", json={"tags": ["prod", "web", " prod "]})
    assert st == 200, body
    assert [t["name"] for t in body["data"]["results"]] == ["prod", "web"]
    assert api.post(f"/ssl/orders/{o2}/tags", json={"tags": ["prod"]})[0] == 200
    assert api.post(f"/ssl/orders/{o3}/tags", json={"name": "m\u00fcnchen \u2713"})[0] == 200
    assert order(api, o1)["tags"] == ["prod", "web"]
    page = api.get(f"/ssl/orders/{o1}/tags", params={"limit": 1, "offset": 1})[1]["data"]
    assert page["total"] == 2 and [t["name"] for t in page["results"]] == ["web"]
    assert api.get(f"/ssl/orders/{o1}/tags", params={"limit": 101})[0] == 400
    assert order(api, o3)["tags"] == ["m\u00fcnchen \u2713"]
    # use counts, the most used first
    st, body = api.get("/tags")
    assert st == 200
    tags = body["data"]["results"]
    assert body["data"]["total"] == 3 and tags[0]["name"] == "prod" and tags[0]["uses"] == 2
    assert tags[0]["orders"] == 2 and tags[0]["certificates"] == 0
    by = {t["name"]: t for t in tags}
    assert by["web"]["uses"] == 1
    assert api.get("/tags", params={"limit": 1, "offset": 1})[1]["data"]["total"] == 3
    assert [t["name"] for t in api.get("/tags", params={"pattern": "WE"})[1]["data"]["results"]] == ["web"]
    # the list filters by one or more tags (any, or all of them)
    assert ids(api.get("/ssl/orders", params={"tag": "prod"})[1]) == sorted([o1, o2])
    assert ids(api.get("/ssl/orders", params=[("tag", "web"), ("tag", "m\u00fcnchen \u2713")])[1]) == \
        sorted([o1, o3])
    assert ids(api.get("/ssl/orders", params=[("tag", "web"), ("tag", "prod"),
                                              ("tag_match", "all")])[1]) == [o1]
    assert ids(api.get("/ssl/orders", params={"tag": "nothing"})[1]) == []
    assert api.get("/ssl/orders", params={"tag": "prod", "tag_match": "some"})[0] == 400
    # replace, remove one
    assert api.put(f"/ssl/orders/{o1}/tags", json={"tags": ["web", "new"]})[0] == 200
    assert order(api, o1)["tags"] == ["new", "web"]
    st, body = api.delete(f"/ssl/orders/{o1}/tags/{by['web']['id']}")
    assert st == 200 and [t["name"] for t in body["data"]["results"]] == ["new"]
    st, body = api.delete(f"/ssl/orders/{o1}/tags/{by['web']['id']}")
    assert (st, body["code"]) == (404, 103)
    assert api.put(f"/ssl/orders/{o1}/tags", json={"tags": []})[0] == 200
    assert order(api, o1)["tags"] == []
    # a tag removed from every order stays a team tag with no uses
    assert api.get(f"/tags/{by['web']['id']}")[1]["data"]["uses"] == 0


def test_team_tags_crud(env, rich):
    api = rich.client()
    oid = create(api)[1]["data"]["id"]
    st, body = api.post("/tags", json={"name": "Customer A"})
    assert st == 200
    tid = body["data"]["id"]
    st, body = api.post("/tags", json={"name": "Customer A"})
    assert (st, body["code"]) == (409, 124)
    # tag names are exact: another case is another tag
    assert api.post("/tags", json={"name": "customer a"})[0] == 200
    assert api.post("/tags", json={"name": "x" * 255})[0] == 200
    api.post(f"/ssl/orders/{oid}/tags", json={"tags": ["Customer A"]})
    st, body = api.put(f"/tags/{tid}", json={"name": "customer a"})
    assert (st, body["code"]) == (409, 124)
    assert api.put(f"/tags/{tid}", json={"name": "Customer B"})[0] == 200
    assert order(api, oid)["tags"] == ["Customer B"]
    assert api.delete(f"/tags/{tid}")[0] == 200
    assert order(api, oid)["tags"] == []
    assert api.get(f"/tags/{tid}")[0] == 404


@pytest.mark.parametrize("name", ["", "   ", "x" * 256, "a\nb", "bell\u0007", "\u202eevil"])
def test_tag_name_rules(env, rich, name):
    api = rich.client()
    oid = create(api)[1]["data"]["id"]
    before = snapshot(env, rich)
    st, body = api.post("/tags", json={"name": name})
    assert (st, body["code"]) == (400, 123)
    st, body = api.post(f"/ssl/orders/{oid}/tags", json={"tags": ["fine", name]})
    assert (st, body["code"]) == (400, 123)
    assert snapshot(env, rich) == before


def test_tags_bad_input_roles_and_other_teams(env, rich):
    api = rich.client()
    oid = create(api)[1]["data"]["id"]
    api.post(f"/ssl/orders/{oid}/tags", json={"tags": ["a"]})
    tag = api.get("/tags")[1]["data"]["results"][0]["id"]
    viewer = rich.add_member("viewer").client()
    before = snapshot(env, rich)
    for body in ({}, {"tags": "a"}, {"tags": [1]}, {"tags": [None]}, {"tags": ["t%d" % i for i in range(101)]}):
        st, ans = api.post(f"/ssl/orders/{oid}/tags", json=body)
        assert (st, ans["code"]) == (400, 102), body
    assert api.post("/tags", json={})[0] == 400
    assert viewer.get("/tags")[0] == 200 and viewer.get(f"/ssl/orders/{oid}/tags")[0] == 200
    for method, path, body in (("POST", "/tags", {"name": "v"}), ("PUT", f"/tags/{tag}", {"name": "v"}),
                               ("DELETE", f"/tags/{tag}", None),
                               ("POST", f"/ssl/orders/{oid}/tags", {"tags": ["v"]}),
                               ("PUT", f"/ssl/orders/{oid}/tags", {"tags": []}),
                               ("DELETE", f"/ssl/orders/{oid}/tags/{tag}", None)):
        st, ans = viewer.call(method, path, json=body)
        assert (st, ans["code"]) == (403, 108), (method, path)
    other = env.new_team(balance="100").client()
    for method, path, body in (("GET", f"/tags/{tag}", None), ("PUT", f"/tags/{tag}", {"name": "o"}),
                               ("DELETE", f"/tags/{tag}", None),
                               ("GET", f"/ssl/orders/{oid}/tags", None),
                               ("POST", f"/ssl/orders/{oid}/tags", {"tags": ["o"]}),
                               ("PUT", f"/ssl/orders/{oid}/tags", {"tags": []}),
                               ("DELETE", f"/ssl/orders/{oid}/tags/{tag}", None)):
        st, ans = other.call(method, path, json=body)
        assert (st, ans["code"]) == (404, 103), (method, path)
    # another team's tag on my order is not there either
    theirs = other.post("/tags", json={"name": "theirs"})[1]["data"]["id"]
    st, ans = api.delete(f"/ssl/orders/{oid}/tags/{theirs}")
    assert (st, ans["code"]) == (404, 103)
    assert snapshot(env, rich) == before
    assert other.get("/tags")[1]["data"]["total"] == 1


def test_certificate_tags_need_a_certificate_of_the_order(env, rich):
    """Tags on a certificate name it by serial; an order without that certificate is 404
    (the issued-certificate case is in the unit tests: tests/unit/test_org.c)."""
    api = rich.client()
    oid = create(api)[1]["data"]["id"]
    for serial in ("01AB", "zz", "0" * 200):
        for method, body in (("GET", None), ("POST", {"tags": ["x"]}), ("PUT", {"tags": []})):
            st, ans = api.call(method, f"/ssl/orders/{oid}/certificates/{serial}/tags", json=body)
            assert (st, ans["code"]) == (404, 103), (serial, method)
    assert api.get("/tags")[1]["data"]["total"] == 0


def test_tags_on_issued_certificates_and_reissue_from_the_csr_manager(env, rich):
    """Every certificate an order got can be tagged by its serial (any case, colons,
    leading zeros); a reissue takes a managed CSR."""
    from issuing import issued
    api = rich.client()
    d = dom()
    oid, o = issued(env, api, product=DV_MULTI, names=[d, "a." + d])
    first = api.get(f"/ssl/orders/{oid}/certificates")[1]["data"]["results"][0]
    pem = pki.csr(d, ["a." + d], fresh=True)
    mid = api.post("/ssl/managed-csrs", json={"csr": pem, "friendly_name": "next key"})[1]["data"]["id"]
    st, body = api.post(f"/ssl/orders/{oid}/reissue", json={"managed_csr_id": mid})
    assert st == 200, body
    certs = api.get(f"/ssl/orders/{oid}/certificates")[1]["data"]["results"]
    assert len(certs) == 2 and api.get(f"/ssl/orders/{oid}")[1]["data"]["csr"] == pem
    serial = first["serial"]
    colons = ":".join(serial.upper()[i:i + 2] for i in range(0, len(serial), 2))
    for form in (serial, serial.upper(), "00" + serial, colons):
        st, body = api.post(f"/ssl/orders/{oid}/certificates/{form}/tags", json={"tags": ["old-key"]})
        assert st == 200, (form, body)
        assert [t["name"] for t in body["data"]["results"]] == ["old-key"]
    st, body = api.post(f"/ssl/orders/{oid}/certificates/{certs[1]['serial']}/tags", json={"tags": ["current"]})
    assert st == 200
    assert {t["name"]: t["certificates"] for t in api.get("/tags")[1]["data"]["results"]} == \
        {"old-key": 1, "current": 1}
    # another order's certificate is not this order's
    oid2 = create(api)[1]["data"]["id"]
    st, body = api.get(f"/ssl/orders/{oid2}/certificates/{serial}/tags")
    assert (st, body["code"]) == (404, 103)


# ---- CSR Manager --------------------------------------------------------------------------------

def csr_facts(pem):
    req = x509.load_pem_x509_csr(pem.encode())
    der = req.public_bytes(serialization.Encoding.DER)
    spki = req.public_key().public_bytes(serialization.Encoding.DER,
                                         serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.md5(der).hexdigest().upper(), hashlib.sha1(spki).hexdigest()


def test_managed_csr_crud(env, rich):
    api = rich.client()
    d = dom()
    pem = pki.csr(d, ["www." + d, "mail." + d], org="Example BV", ou="Web", fresh=True)
    st, body = api.post("/ssl/managed-csrs", json={"csr": pem, "friendly_name": "shop key 2026"})
    assert st == 200, body
    mid = body["data"]["id"]
    st, body = api.get(f"/ssl/managed-csrs/{mid}")
    assert st == 200
    c = body["data"]
    md5, pk_sha1 = csr_facts(pem)
    assert c["friendly_name"] == "shop key 2026" and c["common_name"] == d
    assert c["subject"]["organization"] == "Example BV" and c["subject"]["unit"] == "Web"
    assert c["names"] == [d, "www." + d, "mail." + d]
    assert (c["key_type"], c["key_bits"]) == ("rsa", 2048)
    assert c["md5"] == md5 and c["public_key_sha1"].lower() == pk_sha1
    assert c["created_at"] and c["orders"] == [] and c["orders_count"] == 0
    assert "PRIVATE" not in c["csr"] and "CERTIFICATE REQUEST" in c["csr"]
    # the same CSR twice
    st, body = api.post("/ssl/managed-csrs", json={"csr": pem})
    assert (st, body["code"]) == (409, 125) and body["data"] == str(mid)
    # an EC key
    ec = pki.csr("ec." + d, kind="ec384", fresh=True)
    st, body = api.post("/ssl/managed-csrs", json={"csr": ec})
    assert st == 200
    e = api.get(f"/ssl/managed-csrs/{body['data']['id']}")[1]["data"]
    assert (e["key_type"], e["key_bits"], e["curve"]) == ("ec", 384, "P-384") and e["friendly_name"] == ""
    # list, paged, newest first, searchable
    st, body = api.get("/ssl/managed-csrs")
    assert body["data"]["total"] == 2 and body["data"]["results"][0]["common_name"] == "ec." + d
    assert len(api.get("/ssl/managed-csrs", params={"limit": 1})[1]["data"]["results"]) == 1
    assert [x["id"] for x in api.get("/ssl/managed-csrs", params={"pattern": "SHOP KEY"})[1]["data"]["results"]] == [mid]
    assert [x["id"] for x in api.get("/ssl/managed-csrs", params={"pattern": "mail." + d})[1]["data"]["results"]] == [mid]
    # edit the friendly name, delete
    assert api.put(f"/ssl/managed-csrs/{mid}", json={"friendly_name": "renamed"})[0] == 200
    assert api.get(f"/ssl/managed-csrs/{mid}")[1]["data"]["friendly_name"] == "renamed"
    assert api.delete(f"/ssl/managed-csrs/{mid}")[0] == 200
    assert api.get(f"/ssl/managed-csrs/{mid}")[0] == 404
    assert api.delete(f"/ssl/managed-csrs/{mid}")[0] == 404


@pytest.mark.parametrize("body,code", [
    ({"csr": "garbage"}, 1001),
    ({"csr": "BADSIG"}, 1001),
    ({"csr": "WEAK"}, 1002),
    ({}, 102),
    ({"csr": 5}, 102),
    ({"csr": "OK", "friendly_name": 1}, 102),
    ({"csr": "OK", "friendly_name": "x" * 256}, 102),
    ({"csr": "OK", "friendly_name": "a\u0001b"}, 102),
])
def test_managed_csr_bad_input(env, rich, body, code):
    api = rich.client()
    before = snapshot(env, rich)
    d = dom()
    body = dict(body)
    if body.get("csr") == "BADSIG":
        body["csr"] = pki.bad_signature(pki.csr(d))
    elif body.get("csr") == "WEAK":
        body["csr"] = pki.csr(d, kind="rsa1024")
    elif body.get("csr") == "OK":
        body["csr"] = pki.csr(d)
    st, ans = api.post("/ssl/managed-csrs", json=body)
    assert (st, ans["code"]) == (400, code), ans
    assert snapshot(env, rich) == before


def test_orders_use_managed_csrs(env, rich):
    api = rich.client()
    d = dom()
    pem = pki.csr(d, ["www." + d], fresh=True)
    mid = api.post("/ssl/managed-csrs", json={"csr": pem, "friendly_name": "k"})[1]["data"]["id"]
    st, body = create(api, managed_csr_id=mid)
    assert st == 200, body
    a = body["data"]["id"]
    o = order(api, a)
    assert o["common_name"] == d and o["host_names"] == [d, "www." + d] and o["csr"].strip() == pem.strip()
    # a PAI order gets it through PUT (the CSR Manager of the order's team only)
    b = create(api)[1]["data"]["id"]
    assert api.put(f"/ssl/orders/{b}", json={"managed_csr_id": str(mid)})[0] == 200
    assert order(api, b)["common_name"] == d
    c = api.get(f"/ssl/managed-csrs/{mid}")[1]["data"]
    assert c["orders_count"] == 2 and sorted(x["id"] for x in c["orders"]) == sorted([a, b])
    assert c["orders"][0]["status"] == "PAI"
    # bad uses change nothing
    other = env.new_team(balance="100").client()
    theirs = other.post("/ssl/managed-csrs", json={"csr": pki.csr(dom(), fresh=True)})[1]["data"]["id"]
    before = snapshot(env, rich)
    st, ans = create(api, managed_csr_id=theirs)
    assert (st, ans["code"]) == (404, 103)
    st, ans = create(api, managed_csr_id=mid, csr=pem)
    assert (st, ans["code"]) == (400, 102)
    st, ans = create(api, managed_csr_id="one")
    assert (st, ans["code"]) == (400, 102)
    st, ans = api.put(f"/ssl/orders/{b}", json={"managed_csr_id": theirs})
    assert (st, ans["code"]) == (404, 103)
    # the status rules of csr apply
    set_status(env, b, "REQ")
    st, ans = api.put(f"/ssl/orders/{b}", json={"managed_csr_id": mid})
    assert (st, ans["code"]) == (409, 1005) and "managed_csr_id" in ans["desc"]
    set_status(env, b, "PAI")
    assert snapshot(env, rich) == before
    # deleting it leaves the orders their own copy
    assert api.delete(f"/ssl/managed-csrs/{mid}")[0] == 200
    assert order(api, a)["csr"].strip() == pem.strip()


def test_csr_generator_saves_to_csr_manager(env, rich):
    api = rich.client()
    d = dom()
    st, body = api.post("/ssl/csr", json={"common_name": d, "country": "NL", "save_to_csr_manager": True,
                                          "friendly_name": "generated"})
    assert st == 200, body
    data = body["data"]
    assert "PRIVATE KEY" in data["key"] and data["managed_csr_id"]
    c = api.get(f"/ssl/managed-csrs/{data['managed_csr_id']}")[1]["data"]
    assert c["csr"].strip() == data["csr"].strip() and c["friendly_name"] == "generated"
    assert c["common_name"] == d and c["subject"]["country"] == "NL"
    # the key is never stored
    tid = team_id(env, rich)
    assert env.sql(f"SELECT COUNT(*) FROM managed_csrs WHERE team_id = {tid} AND csr LIKE '%PRIVATE%'").strip() == "0"
    key_body = data["key"].split("-----")[2].strip().split("\n")[0]
    assert env.sql(f"SELECT COUNT(*) FROM managed_csrs WHERE csr LIKE '%{key_body[:40]}%'").strip() == "0"
    # without the flag nothing is stored; a viewer may generate but not save
    viewer = rich.add_member("viewer").client()
    before = snapshot(env, rich)
    st, body = api.post("/ssl/csr", json={"common_name": d, "country": "NL"})
    assert st == 200 and "managed_csr_id" not in body["data"]
    assert viewer.post("/ssl/csr", json={"common_name": d, "country": "NL"})[0] == 200
    st, body = viewer.post("/ssl/csr", json={"common_name": d, "country": "NL", "save_to_csr_manager": True})
    assert (st, body["code"]) == (403, 108)
    st, body = api.post("/ssl/csr", json={"common_name": d, "country": "NL", "save_to_csr_manager": "yes"})
    assert (st, body["code"]) == (400, 102)
    assert snapshot(env, rich) == before


def test_managed_csrs_roles_and_other_teams(env, rich):
    api = rich.client()
    mid = api.post("/ssl/managed-csrs", json={"csr": pki.csr(dom(), fresh=True)})[1]["data"]["id"]
    viewer = rich.add_member("viewer").client()
    before = snapshot(env, rich)
    assert viewer.get("/ssl/managed-csrs")[0] == 200 and viewer.get(f"/ssl/managed-csrs/{mid}")[0] == 200
    for method, path, body in (("POST", "/ssl/managed-csrs", {"csr": pki.csr(dom())}),
                               ("PUT", f"/ssl/managed-csrs/{mid}", {"friendly_name": "v"}),
                               ("DELETE", f"/ssl/managed-csrs/{mid}", None)):
        st, ans = viewer.call(method, path, json=body)
        assert (st, ans["code"]) == (403, 108), (method, path)
    other = env.new_team().client()
    for method, path, body in (("GET", f"/ssl/managed-csrs/{mid}", None),
                               ("PUT", f"/ssl/managed-csrs/{mid}", {"friendly_name": "o"}),
                               ("DELETE", f"/ssl/managed-csrs/{mid}", None)):
        st, ans = other.call(method, path, json=body)
        assert (st, ans["code"]) == (404, 103), (method, path)
    assert other.get("/ssl/managed-csrs")[1]["data"]["total"] == 0
    assert snapshot(env, rich) == before


# ---- quotes, cart, checkout --------------------------------------------------------------------

def test_quote(env, rich):
    api = rich.client()
    base, extra, wild = prices(api, DV_MULTI, 2)
    st, body = api.get(f"/ssl/products/{DV_MULTI}/quote", params={"period": 2, "domains": 5,
                                                                   "wildcard_domains": 2})
    assert st == 200, body
    q = body["data"]
    assert (q["period"], q["domain_amount"], q["wildcard_domain_amount"]) == (2, 5, 2)
    assert q["price"] == f"{(base + 2 * extra + 2 * wild) / 100:.2f}" and q["currency"] == "EUR"
    assert q["base_price"] == f"{base / 100:.2f}" and q["included_domains"] == 3
    # the same amount as an order of it
    st, body = create(api, product_id=DV_MULTI, period=2, domain_amount=5, wildcard_domain_amount=2)
    assert order(api, body["data"]["id"])["price"] == q["price"]
    dv, _, _ = prices(api, DV, 1)
    assert api.get(f"/ssl/products/{DV}/quote")[1]["data"]["price"] == f"{dv / 100:.2f}"
    for params, status, code in (({"period": 7}, 400, 1008), ({"period": "x"}, 400, 102),
                                 ({"domains": 101}, 400, 1004), ({"wildcard_domains": -1}, 400, 102)):
        st, body = api.get(f"/ssl/products/{DV_MULTI}/quote", params=params)
        assert (st, body["code"]) == (status, code), params
    st, body = api.get(f"/ssl/products/{OV}/quote", params={"wildcard_domains": 1})
    assert (st, body["code"]) == (200, 0)  # a single-name product pays for its name
    assert api.get("/ssl/products/9999/quote")[0] == 404


def test_cart_add_change_remove_total(env, rich):
    api = rich.client()
    dv, _, _ = prices(api, DV, 1)
    base, extra, wild = prices(api, DV_MULTI, 1)
    st, body = api.post("/cart", json={"product_id": DV, "period": 1, "quantity": 2})
    assert st == 200, body
    a = body["data"]["id"]
    b = api.post("/cart", json={"product_id": DV_MULTI, "period": 1, "domain_amount": 4,
                                "wildcard_domain_amount": 1})[1]["data"]["id"]
    st, body = api.get("/cart")
    assert st == 200
    cart = body["data"]
    assert cart["total"] == 2 and cart["quantity"] == 3 and cart["valid"]
    expected = 2 * dv + base + extra + wild
    assert cart["amount"] == f"{expected / 100:.2f}" and cart["currency"] == "EUR"
    items = {i["id"]: i for i in cart["results"]}
    assert items[a]["unit_price"] == f"{dv / 100:.2f}" and items[a]["amount"] == f"{2 * dv / 100:.2f}"
    assert items[b]["domain_amount"] == 4 and items[b]["renewal_of"] is None
    # change the quantity, remove
    st, body = api.put(f"/cart/{a}", json={"quantity": 5})
    assert st == 200 and body["data"]["quantity"] == 5
    assert api.get("/cart")[1]["data"]["amount"] == f"{(5 * dv + base + extra + wild) / 100:.2f}"
    assert api.delete(f"/cart/{b}")[0] == 200
    assert api.get(f"/cart/{b}")[0] == 404
    assert api.get("/cart", params={"limit": 1})[1]["data"]["total"] == 1
    assert api.delete("/cart")[1]["data"]["removed"] == 1
    assert api.get("/cart")[1]["data"] == {"results": [], "total": 0, "amount": "0.00",
                                           "currency": "EUR", "quantity": 0, "valid": True}


def test_cart_renewal_items(env, rich):
    api = rich.client()
    d = dom()
    act = create(api, product_id=DV_MULTI, csr=pki.csr(d, [f"a.{d}"]), domain_amount=5)[1]["data"]["id"]
    set_status(env, act, "ACT", active_date=int(time.time()), expiration_date=int(time.time()) + 86400)
    pai = create(api)[1]["data"]["id"]
    st, body = api.post("/cart", json={"renewal_of": act, "period": 2})
    assert st == 200, body
    item = api.get(f"/cart/{body['data']['id']}")[1]["data"]
    base, extra, _ = prices(api, DV_MULTI, 2)
    assert item["product_id"] == DV_MULTI and item["domain_amount"] == 5 and item["period"] == 2
    assert item["renewal_of"] == act and item["renewal_common_name"] == d
    assert item["unit_price"] == f"{(base + 2 * extra) / 100:.2f}"
    before = snapshot(env, rich)
    st, ans = api.post("/cart", json={"renewal_of": act})
    assert (st, ans["code"]) == (409, 127)
    st, ans = api.post("/cart", json={"renewal_of": pai})
    assert (st, ans["code"]) == (409, 1006)
    st, ans = api.post("/cart", json={"renewal_of": act, "quantity": 2})
    assert (st, ans["code"]) == (400, 102)
    st, ans = api.put(f"/cart/{item['id']}", json={"quantity": 2})
    assert (st, ans["code"]) == (400, 102)
    st, ans = api.post("/cart", json={"renewal_of": act, "product_id": DV})
    assert (st, ans["code"]) == (400, 102)
    other = env.new_team(balance="100")
    foreign = create(other.client())[1]["data"]["id"]
    st, ans = api.post("/cart", json={"renewal_of": foreign})
    assert (st, ans["code"]) == (404, 103)
    assert snapshot(env, rich) == before


@pytest.mark.parametrize("body,code", [
    ({}, 102), ({"product_id": DV}, 102), ({"period": 1}, 102), ({"product_id": 9999, "period": 1}, 1007),
    ({"product_id": DV, "period": 7}, 1008), ({"product_id": DV, "period": 1, "quantity": 0}, 102),
    ({"product_id": DV, "period": 1, "quantity": 101}, 102),
    ({"product_id": DV, "period": 1, "quantity": "many"}, 102),
    ({"product_id": DV_MULTI, "period": 1, "domain_amount": 101}, 1004),
    ({"product_id": DV_MULTI, "period": 1, "wildcard_domain_amount": -1}, 102),
    ({"product_id": 8, "period": 1, "wildcard_domain_amount": 1}, 1004),
    ({"renewal_of": "x"}, 102),
])
def test_cart_bad_input_changes_nothing(env, rich, body, code):
    api = rich.client()
    keep = api.post("/cart", json={"product_id": DV, "period": 1})[1]["data"]["id"]
    before = snapshot(env, rich)
    st, ans = api.post("/cart", json=body)
    assert (st, ans["code"]) == (400, code), ans
    for change in ({}, {"quantity": 0}, {"period": 9}):
        st, ans = api.put(f"/cart/{keep}", json=change)
        assert st == 400, change
    assert snapshot(env, rich) == before


def ledger_rows(env, team):
    tid = team_id(env, team)
    return env.sql(f"SELECT amount, kind, order_id FROM ledger WHERE team_id = {tid} ORDER BY id").split()


def test_checkout_creates_orders_like_post_orders(env, rich):
    api = rich.client()
    d = dom()
    renewed = create(api, product_id=DV_MULTI, csr=pki.csr(d, [f"a.{d}", f"b.{d}"]),
                     approver_email=f"admin@{d}", autorenew="on")[1]["data"]["id"]
    set_status(env, renewed, "EXP", active_date=int(time.time()) - 400 * 86400,
               expiration_date=int(time.time()) - 86400)
    inbox = api.post("/folders", json={"name": "Inbox"})[1]["data"]["id"]
    api.put(f"/folders/{inbox}", json={"is_default": True})
    api.post("/cart", json={"product_id": DV, "period": 1, "quantity": 2})
    api.post("/cart", json={"product_id": DV_MULTI, "period": 2, "domain_amount": 6,
                            "wildcard_domain_amount": 1})
    api.post("/cart", json={"renewal_of": renewed})
    cart = api.get("/cart")[1]["data"]
    start = float(api.get("/balance")[1]["data"]["balance"])
    ledger_before = ledger_rows(env, rich)
    st, body = api.post("/cart/checkout")
    assert st == 200, body
    data = body["data"]
    made = data["orders"]
    assert len(made) == 4 and data["count"] == 4 and data["amount"] == cart["amount"]
    assert float(data["balance"]) == pytest.approx(start - float(cart["amount"]))
    assert float(api.get("/balance")[1]["data"]["balance"]) == pytest.approx(float(data["balance"]))
    assert api.get("/cart")[1]["data"]["total"] == 0
    # one charge row per order, as POST /ssl/orders writes it
    new_rows = ledger_rows(env, rich)[len(ledger_before):]
    assert [r.split("|")[1] for r in new_rows] == ["charge"] * 4
    assert sorted(int(r.split("|")[2]) for r in new_rows) == sorted(made)
    orders = [order(api, oid) for oid in made]
    for o in orders:
        assert o["folder_id"] == inbox
        assert -int(round(float(o["price"]) * 100)) in [int(r.split("|")[0]) for r in new_rows]
    # a renewal with the CSR and names of the order it renews goes to validation by itself
    assert [o["status"] for o in orders] == ["PAI", "PAI", "PAI", "REQ"]
    dv, _, _ = prices(api, DV, 1)
    assert [o["price"] for o in orders[:2]] == [f"{dv / 100:.2f}"] * 2
    multi = orders[2]
    assert (multi["period"], multi["domain_amount"], multi["wildcard_domain_amount"]) == (2, 6, 1)
    # the renewal: the same product, names, CSR and contacts
    ren = orders[3]
    old = order(api, renewed)
    assert ren["product_id"] == DV_MULTI and ren["host_names"] == old["host_names"]
    assert ren["csr"] == old["csr"] and ren["email_approver"] == f"admin@{d}" and ren["autorenew"] == "on"
    ev = api.get(f"/ssl/orders/{ren['id']}/events")[1]["data"]["results"][0]
    assert ev["kind"] == "created" and ev["detail"]["source"] == "cart" and ev["detail"]["renewal_of"] == renewed
    kinds = [e["kind"] for e in api.get(f"/ssl/orders/{renewed}/events")[1]["data"]["results"]]
    assert kinds[-1] == "renewal_ordered"
    st, body = api.post("/cart/checkout")
    assert (st, body["code"]) == (409, 126)


def test_checkout_invalid_item_creates_and_charges_nothing(env, rich):
    api = rich.client()
    act = create(api)[1]["data"]["id"]
    set_status(env, act, "ACT", active_date=int(time.time()), expiration_date=int(time.time()) + 86400)
    api.post("/cart", json={"product_id": DV, "period": 1, "quantity": 3})
    bad = api.post("/cart", json={"renewal_of": act})[1]["data"]["id"]
    # the order renewed was cancelled meanwhile
    set_status(env, act, "FAI")
    cart = api.get("/cart")[1]["data"]
    assert not cart["valid"]
    assert [i for i in cart["results"] if i["id"] == bad][0]["problem_code"] == 1006
    before = snapshot(env, rich)
    st, body = api.post("/cart/checkout", headers={"Idempotency-Key": "bad-" + uuid.uuid4().hex})
    assert (st, body["code"]) == (409, 1006)
    assert f"Cart item {bad}" in body["desc"] and "FAI" in body["desc"]
    assert snapshot(env, rich) == before


def test_checkout_without_enough_balance_creates_and_charges_nothing(env):
    poor = env.new_team(balance="20.00")
    api = poor.client()
    api.post("/cart", json={"product_id": DV, "period": 1, "quantity": 2})
    api.post("/cart", json={"product_id": OV, "period": 3})
    amount = api.get("/cart")[1]["data"]["amount"]
    before = snapshot(env, poor)
    st, body = api.post("/cart/checkout")
    assert (st, body["code"]) == (402, 1013)
    assert "20.00" in body["desc"] and amount in body["desc"]
    assert snapshot(env, poor) == before
    assert api.get("/cart")[1]["data"]["total"] == 2


def raw_post_and_hang_up(env, token, path, body, headers):
    """Send a request and close the connection without reading the answer."""
    data = json.dumps(body).encode()
    head = [f"POST /v1beta{path} HTTP/1.1", f"Host: 127.0.0.1:{env.httpd.port}",
            f"Authorization: Bearer {token}", "Content-Type: application/json",
            f"Content-Length: {len(data)}", "Connection: close"]
    head += [f"{k}: {v}" for k, v in headers.items()]
    s = socket.create_connection(("127.0.0.1", env.httpd.port))
    s.sendall(("\r\n".join(head) + "\r\n\r\n").encode() + data)
    s.close()


def test_checkout_retried_after_dropped_connection_charges_once(env):
    t = env.new_team(balance="1000")
    api = t.client()
    api.post("/cart", json={"product_id": DV, "period": 1, "quantity": 2})
    api.post("/cart", json={"product_id": DV_WILD, "period": 1})
    amount = float(api.get("/cart")[1]["data"]["amount"])
    key = "checkout-" + uuid.uuid4().hex
    tid = team_id(env, t)
    raw_post_and_hang_up(env, t.token, "/cart/checkout", {}, {"Idempotency-Key": key})
    deadline = time.time() + 20
    while time.time() < deadline:
        if env.sql(f"SELECT COUNT(*) FROM orders WHERE team_id = {tid}").strip() == "3":
            break
        time.sleep(0.1)
    # the client never saw the answer: it retries with the same key
    r = api.call("POST", "/cart/checkout", json={}, headers={"Idempotency-Key": key}, raw=True)
    assert r.status_code == 200, r.text
    assert r.headers.get("Idempotent-Replayed") == "true"
    made = r.json()["data"]["orders"]
    assert len(made) == 3
    assert sorted(made) == [int(x) for x in env.sql(
        f"SELECT id FROM orders WHERE team_id = {tid} ORDER BY id").split()]
    assert float(api.get("/balance")[1]["data"]["balance"]) == pytest.approx(1000 - amount)
    assert env.sql(f"SELECT COUNT(*) FROM ledger WHERE team_id = {tid} AND kind = 'charge'").strip() == "3"
    # retried again, concurrently with more items in the cart: still the first answer
    api.post("/cart", json={"product_id": DV, "period": 1})
    r2 = api.call("POST", "/cart/checkout", json={}, headers={"Idempotency-Key": key}, raw=True)
    assert r2.status_code == 200 and r2.json()["data"]["orders"] == made
    assert api.get("/cart")[1]["data"]["total"] == 1
    # the same key for another request
    st, body = api.post("/cart/checkout", json={"note": "other"}, headers={"Idempotency-Key": key})
    assert (st, body["code"]) == (422, 1014)
    st, body = api.post("/cart/checkout", headers={"Idempotency-Key": "k" * 201})
    assert (st, body["code"]) == (400, 102)


def concurrently(n, fn):
    results = []
    threads = [threading.Thread(target=lambda: results.append(fn())) for _ in range(n)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    return results


def test_concurrent_checkouts_charge_once(env):
    t = env.new_team(balance="1000")
    api = t.client()
    tid = team_id(env, t)
    api.post("/cart", json={"product_id": DV, "period": 1, "quantity": 3})
    amount = float(api.get("/cart")[1]["data"]["amount"])
    # without a key: one checkout wins, the others find the cart changed or empty
    results = concurrently(5, lambda: Client(api.base, api.token).post("/cart/checkout"))
    codes = sorted(st for st, _ in results)
    assert codes.count(200) == 1, results
    assert all(st == 200 or (st, b["code"]) in ((409, 126), (409, 128)) or st == 503
               for st, b in results), results
    assert env.sql(f"SELECT COUNT(*) FROM orders WHERE team_id = {tid}").strip() == "3"
    assert float(api.get("/balance")[1]["data"]["balance"]) == pytest.approx(1000 - amount)
    # with one key: every answer that is not a busy retry is the same
    api.post("/cart", json={"product_id": DV, "period": 1, "quantity": 2})
    key = "c-" + uuid.uuid4().hex
    results = concurrently(5, lambda: Client(api.base, api.token).post(
        "/cart/checkout", headers={"Idempotency-Key": key}))
    oks = [tuple(b["data"]["orders"]) for st, b in results if st == 200]
    assert oks and len(set(oks)) == 1 and all(st in (200, 503) for st, _ in results), results
    assert env.sql(f"SELECT COUNT(*) FROM orders WHERE team_id = {tid}").strip() == "5"
    assert float(api.get("/balance")[1]["data"]["balance"]) == pytest.approx(1000 - amount * 5 / 3)


def test_balance_and_ledger(env, rich):
    api = rich.client()
    st, body = api.get("/balance")
    assert st == 200 and body["data"]["balance"] == "5000.00" and body["data"]["currency"] == "EUR"
    a = create(api)[1]["data"]["id"]
    b = create(api)[1]["data"]["id"]
    api.post(f"/ssl/orders/{a}/cancel")
    st, body = api.get("/ledger")
    assert st == 200
    rows = body["data"]["results"]
    assert body["data"]["total"] == 4
    assert [r["kind"] for r in rows] == ["refund", "charge", "charge", "credit"]
    assert rows[0]["order_id"] == a and rows[1]["order_id"] == b and rows[3]["order_id"] is None
    assert rows[3]["amount"] == "5000.00" and rows[0]["amount"] == rows[2]["amount"].lstrip("-")
    assert rows[1]["user"] == rich.username and rows[0]["balance_after"] == body["data"]["results"][0]["balance_after"]
    assert rows[0]["balance_after"] == api.get("/balance")[1]["data"]["balance"]
    assert [r["kind"] for r in api.get("/ledger", params={"order_id": a})[1]["data"]["results"]] == \
        ["refund", "charge"]
    assert api.get("/ledger", params={"kind": "charge"})[1]["data"]["total"] == 2
    page = api.get("/ledger", params={"limit": 1, "offset": 1})[1]["data"]
    assert page["total"] == 4 and page["results"][0]["id"] == rows[1]["id"]
    for params in ({"kind": "gift"}, {"order_id": "x"}, {"limit": 0}, {"offset": -1}):
        assert api.get("/ledger", params=params)[0] == 400, params
    other = env.new_team().client()
    assert other.get("/ledger", params={"order_id": a})[1]["data"]["total"] == 0
    assert rich.add_member("viewer").client().get("/ledger")[0] == 200


def test_staff_credit(env):
    customer = env.new_team(balance="10")
    staff_user = env.new_user(staff=True)
    staff = env.new_team(user=staff_user).client()
    st, body = staff.post(f"/staff/teams/{customer.slug}/credit", json={"amount": "25.50", "note": "wire 42"})
    assert st == 200, body
    assert body["data"]["balance"] == "35.50"
    tid = team_id(env, customer)
    st, body = staff.post(f"/staff/teams/{tid}/credit", json={"amount": 5})
    assert body["data"]["balance"] == "40.50"
    rows = customer.client().get("/ledger")[1]["data"]["results"]
    assert (rows[1]["kind"], rows[1]["amount"], rows[1]["note"], rows[1]["user"]) == \
        ("credit", "25.50", "wire 42", staff_user[0])
    before = snapshot(env, customer)
    st, body = staff.post(f"/staff/teams/{customer.slug}/credit", json={"amount": "-100"})
    assert (st, body["code"]) == (402, 1013)
    for bad in ({}, {"amount": "abc"}, {"amount": 0}, {"amount": 1.5}, {"amount": "1.234"},
                {"amount": "10", "note": 5}, {"amount": 10 ** 12}):
        st, body = staff.post(f"/staff/teams/{customer.slug}/credit", json=bad)
        assert (st, body["code"]) == (400, 102), bad
    st, body = staff.post("/staff/teams/no-such-team/credit", json={"amount": "1"})
    assert (st, body["code"]) == (404, 103)
    # not staff: even the team's owner
    st, body = customer.client().post(f"/staff/teams/{customer.slug}/credit", json={"amount": "1"})
    assert (st, body["code"]) == (403, 108)
    assert snapshot(env, customer) == before
    assert staff.post(f"/staff/teams/{customer.slug}/credit", json={"amount": "-0.50"})[1]["data"]["balance"] == "40.00"
    env.expect_log(r"SO00400")


def test_cart_roles_and_other_teams(env, rich):
    api = rich.client()
    item = api.post("/cart", json={"product_id": DV, "period": 1})[1]["data"]["id"]
    viewer = rich.add_member("viewer").client()
    before = snapshot(env, rich)
    assert viewer.get("/cart")[0] == 200 and viewer.get(f"/cart/{item}")[0] == 200
    assert viewer.get("/balance")[0] == 200
    assert viewer.get(f"/ssl/products/{DV}/quote")[0] == 200
    for method, path, body in (("POST", "/cart", {"product_id": DV, "period": 1}),
                               ("PUT", f"/cart/{item}", {"quantity": 2}),
                               ("DELETE", f"/cart/{item}", None), ("DELETE", "/cart", None),
                               ("POST", "/cart/checkout", None)):
        st, ans = viewer.call(method, path, json=body)
        assert (st, ans["code"]) == (403, 108), (method, path)
    other = env.new_team(balance="100").client()
    for method, path, body in (("GET", f"/cart/{item}", None), ("PUT", f"/cart/{item}", {"quantity": 2}),
                               ("DELETE", f"/cart/{item}", None)):
        st, ans = other.call(method, path, json=body)
        assert (st, ans["code"]) == (404, 103), (method, path)
    assert other.get("/cart")[1]["data"]["total"] == 0
    st, ans = other.post("/cart/checkout")
    assert (st, ans["code"]) == (409, 126)
    assert snapshot(env, rich) == before


# ---- teams, members, tokens -----------------------------------------------------------------------

def login(env, username, password, team=None):
    body = {"username": username, "password": password}
    if team:
        body["team"] = team
    st, ans = Client(env.httpd.api).post("/auth/login", json=body)
    assert st == 200, ans
    return Client(env.httpd.api, ans["data"]["token"])


def test_create_team_and_choose_it_at_login(env, rich):
    api = rich.client()
    prefix = "n" + uuid.uuid4().hex[:10]
    st, body = api.post("/teams", json={"slug": prefix, "name": "New Co", "currency": "USD"})
    assert st == 200, body
    assert body["data"]["role"] == "owner" and body["data"]["currency"] == "USD"
    slug = body["data"]["slug"]  # the prefix and a suffix the server picks (issue 14)
    assert slug.startswith(prefix + "-") and len(slug) == len(prefix) + 7
    st, body = api.get("/teams")
    assert body["data"]["total"] == 2 and {t["slug"] for t in body["data"]["results"]} == {rich.slug, slug}
    assert api.get("/teams", params={"limit": 1})[1]["data"]["total"] == 2
    assert len(api.get("/teams", params={"limit": 1})[1]["data"]["results"]) == 1
    # the token keeps its team; a login chooses the other one, with its five folders
    assert api.get("/team")[1]["data"]["slug"] == rich.slug
    new = login(env, rich.username, rich.password, team=slug)
    assert new.get("/team")[1]["data"]["slug"] == slug
    assert set(folders(new)) == set(ROLES)
    # the portal switches teams
    s = requests.Session()
    r = s.post(env.httpd.api + "/auth/session", json={"username": rich.username, "password": rich.password})
    csrf = r.json()["data"]["csrf_token"]
    r = s.put(env.httpd.api + "/auth/session", json={"team": slug}, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 200 and s.get(env.httpd.api + "/me").json()["data"]["team"]["slug"] == slug
    before = snapshot(env, rich)
    for bad, status, code in (({"slug": "Bad Slug"}, 400, 102),
                              ({}, 400, 102), ({"slug": "ok-" + slug, "currency": "euro"}, 400, 102),
                              ({"slug": "ok-" + slug, "name": ""}, 400, 102)):
        st, ans = api.post("/teams", json=bad)
        assert (st, ans["code"]) == (status, code), bad
    assert snapshot(env, rich) == before


def invite_accepted(env, inviter, user, role):
    """POST /team/members invites; the user accepts (issue 14: nobody joins unasked)."""
    st, body = inviter.post("/team/members", json={"username": user[0], "role": role})
    assert st == 200 and body["data"]["state"] == "pending", body
    invitee = Client(env.httpd.api, env.ctl("token", "create", env_team_of(env, user), user[0]).stdout.strip())
    st, ans = invitee.post(f"/invitations/{body['data']['id']}/accept")
    assert st == 200, ans
    return body


def env_team_of(env, user):
    """A team of the user's own (a token needs one) made once per user."""
    slug = "own" + user[0][-10:]
    if env.ctl("team", "add", slug, check=False).returncode == 0:
        env.ctl("member", "add", slug, user[0], "owner")
    return slug


def test_members(env, rich):
    owner = rich.client()
    u1 = env.new_user()
    u2 = env.new_user()
    invite_accepted(env, owner, u1, "member")
    m1 = login(env, *u1, team=rich.slug)
    assert m1.get("/me")[1]["data"]["team"]["role"] == "member"
    uid1 = m1.get("/me")[1]["data"]["id"]
    before = snapshot(env, rich)
    for bad, status, code in (({"username": u1[0], "role": "viewer"}, 409, 130),
                              ({"username": u2[0], "role": "boss"}, 400, 102),
                              ({"username": u2[0]}, 400, 102), ({"role": "member"}, 400, 102)):
        st, ans = owner.post("/team/members", json=bad)
        assert (st, ans["code"]) == (status, code), bad
    # a member cannot manage members
    st, ans = m1.post("/team/members", json={"username": u2[0], "role": "viewer"})
    assert (st, ans["code"]) == (403, 108)
    assert snapshot(env, rich) == before
    st, body = owner.get("/team/members")
    assert body["data"]["total"] == 2
    assert [m["role"] for m in body["data"]["results"]] == ["owner", "member"]
    assert m1.get("/team/members")[0] == 200
    # change the role; admins never touch owners
    assert owner.put(f"/team/members/{uid1}", json={"role": "admin"})[0] == 200
    admin = m1
    owner_id = [m["user_id"] for m in owner.get("/team/members")[1]["data"]["results"] if m["role"] == "owner"][0]
    st, body = admin.post("/team/members", json={"username": u2[0], "role": "owner"})
    assert (st, body["code"]) == (403, 108)
    invite_accepted(env, admin, u2, "viewer")
    uid2 = [m["user_id"] for m in owner.get("/team/members")[1]["data"]["results"] if m["username"] == u2[0]][0]
    for method, body in (("PUT", {"role": "viewer"}), ("DELETE", None)):
        st, ans = admin.call(method, f"/team/members/{owner_id}", json=body)
        assert (st, ans["code"]) == (403, 108)
    st, ans = admin.put(f"/team/members/{uid2}", json={"role": "owner"})
    assert (st, ans["code"]) == (403, 108)
    assert admin.put(f"/team/members/{uid2}", json={"role": "member"})[0] == 200
    # removing a member ends their tokens at once
    v = login(env, *u2, team=rich.slug)
    assert v.get("/me")[0] == 200
    assert admin.delete(f"/team/members/{uid2}")[0] == 200
    st, ans = v.get("/me")
    assert (st, ans["code"]) == (401, 196)
    st, ans = owner.delete(f"/team/members/{uid2}")
    assert (st, ans["code"]) == (404, 103)
    # the last owner can neither leave nor stop being owner
    before = snapshot(env, rich)
    st, ans = owner.post("/team/leave")
    assert (st, ans["code"]) == (409, 129)
    st, ans = owner.put(f"/team/members/{owner_id}", json={"role": "admin"})
    assert (st, ans["code"]) == (409, 129)
    st, ans = owner.delete(f"/team/members/{owner_id}")
    assert (st, ans["code"]) == (409, 129)
    assert snapshot(env, rich) == before
    # with a second owner the first may go
    assert owner.put(f"/team/members/{uid1}", json={"role": "owner"})[0] == 200
    assert owner.post("/team/leave")[0] == 200
    assert owner.get("/me")[0] == 401
    assert [m["role"] for m in admin.get("/team/members")[1]["data"]["results"]] == ["owner"]
    # members of another team are not there
    other = env.new_team().client()
    for method, body in (("PUT", {"role": "viewer"}), ("DELETE", None)):
        st, ans = other.call(method, f"/team/members/{uid1}", json=body)
        assert (st, ans["code"]) == (404, 103)


def test_viewer_and_member_cannot_manage_members_or_tokens(env, rich):
    owner = rich.client()
    viewer_team = rich.add_member("viewer")
    viewer = viewer_team.client()
    member = rich.add_member("member").client()
    vid = [m["user_id"] for m in owner.get("/team/members")[1]["data"]["results"]
           if m["username"] == viewer_team.username][0]
    before = snapshot(env, rich)
    for c in (viewer, member):
        for method, path, body in (("POST", "/team/members", {"username": rich.username, "role": "viewer"}),
                                   ("PUT", f"/team/members/{vid}", {"role": "admin"}),
                                   ("DELETE", f"/team/members/{vid}", None),
                                   ("GET", "/team/tokens", None),
                                   ("POST", "/team/tokens", {"name": "x"}),
                                   ("DELETE", "/team/tokens/1", None)):
            st, ans = c.call(method, path, json=body)
            assert (st, ans["code"]) == (403, 108), (method, path)
    assert snapshot(env, rich) == before
    # anyone may leave
    assert viewer.post("/team/leave")[0] == 200
    assert viewer.get("/me")[0] == 401


def test_api_tokens(env, rich):
    owner = rich.client()
    st, body = owner.post("/team/tokens", json={"name": "deploy bot", "ttl_hours": 2})
    assert st == 200, body
    tok = body["data"]
    bot = Client(env.httpd.api, tok["token"])
    assert bot.get("/me")[1]["data"]["team"]["slug"] == rich.slug
    st, body = owner.get("/team/tokens")
    listed = {t["id"]: t for t in body["data"]["results"]}
    assert tok["id"] in listed and listed[tok["id"]]["name"] == "deploy bot"
    assert listed[tok["id"]]["state"] == "active" and "token" not in listed[tok["id"]]
    assert any(t["current"] for t in listed.values())
    # revoked: it stops working at once
    assert owner.delete(f"/team/tokens/{tok['id']}")[0] == 200
    st, ans = bot.get("/me")
    assert (st, ans["code"]) == (401, 196)
    assert tok["id"] not in [t["id"] for t in owner.get("/team/tokens")[1]["data"]["results"]]
    revoked = [t for t in owner.get("/team/tokens", params={"all": "true"})[1]["data"]["results"]
               if t["id"] == tok["id"]]
    assert revoked[0]["state"] == "revoked" and revoked[0]["revoked_at"]
    st, ans = owner.delete(f"/team/tokens/{tok['id']}")
    assert (st, ans["code"]) == (404, 103)
    # an expired token is not listed by default
    st, body = owner.post("/team/tokens", json={"name": "short", "ttl_hours": 1})
    later = str(int(time.time()) + 2 * 3600)
    st, ans = Client(env.httpd.api, body["data"]["token"]).get("/me", headers={"X-SSLOrders-Clock": later})
    assert st == 401
    # another team's tokens are not there
    other = env.new_team()
    other_tok = other.client().post("/team/tokens", json={"name": "theirs"})[1]["data"]["id"]
    before = snapshot(env, other)
    st, ans = owner.delete(f"/team/tokens/{other_tok}")
    assert (st, ans["code"]) == (404, 103)
    assert other_tok not in [t["id"] for t in owner.get("/team/tokens", params={"all": "true"})[1]["data"]["results"]]
    for bad in ({}, {"name": ""}, {"name": "x", "ttl_hours": 0}, {"name": "x", "ttl_hours": "2h"},
                {"name": "x", "ip": "not-an-ip"}, {"name": "x" * 101}):
        st, ans = other.client().post("/team/tokens", json=bad)
        assert (st, ans["code"]) == (400, 102), bad
    assert snapshot(env, other) == before
    # bound to an address
    st, body = owner.post("/team/tokens", json={"name": "bound", "ip": "192.0.2.7"})
    assert Client(env.httpd.api, body["data"]["token"]).get("/me")[0] == 401


def test_otp_tokens_cannot_reach_organisation(env, rich):
    api = rich.client()
    oid = create(api)[1]["data"]["id"]
    otp = Client(env.httpd.api, api.post(f"/ssl/orders/{oid}/otp-tokens")[1]["data"]["token"])
    for method, path in (("GET", "/folders"), ("GET", "/tags"), ("GET", f"/ssl/orders/{oid}/tags"),
                         ("GET", "/cart"), ("GET", "/ledger"), ("GET", "/team/members"),
                         ("GET", "/ssl/managed-csrs")):
        st, ans = otp.call(method, path)
        assert (st, ans["code"]) == (403, 1019), path


def test_cli_member_list_and_remove(env):
    t = env.new_team()
    other = t.add_member("member")
    out = env.ctl("member", "list", t.slug).stdout.split("\n")
    assert out[0].split() == ["owner", t.username] and out[1].split() == ["member", other.username]
    assert other.client().get("/me")[0] == 200
    env.ctl("member", "remove", t.slug, other.username)
    assert other.client().get("/me")[0] == 401
    r = env.ctl("member", "remove", t.slug, t.username, check=False)
    assert r.returncode == 1 and "last owner" in r.stderr
    r = env.ctl("member", "remove", t.slug, other.username, check=False)
    assert r.returncode == 1 and "not found" in r.stderr
    assert env.ctl("member", "list", t.slug).stdout.split() == ["owner", t.username]
