"""Validation documents: uploads of every accepted type (the type from the content),
refusals that store nothing, download, delete, publish, staff decisions, organization
validation citing documents, and two servers on one database seeing the same files."""
import hashlib
import uuid

import pytest

import samples
from harness import DB, Httpd
from issuing import LONG, OV, order, publish_files, validate

CONTACT = {"name": {"first_name": "Olga", "last_name": "Visser"}, "company_name": "Visser Webwinkel BV",
           "address": {"street": "Dam", "number": "1", "city": "Amsterdam", "state": "Noord-Holland",
                       "country": "NL"},
           "phone": {"country_code": "+31", "subscriber_number": "2012345"},
           "email": "olga@visser.example"}


@pytest.fixture
def shop(env):
    team = env.new_team(balance="10000", ttl=LONG)
    api = team.client()
    oid = api.post("/ssl/orders", json={"product_id": 1, "period": 1})[1]["data"]["id"]
    return team, api, oid


def upload(api, oid, name, data, ctype="application/octet-stream", field="file"):
    return api.raw("POST", f"/ssl/orders/{oid}/documents", files={field: (name, data, ctype)})


def count(api, oid):
    st, body = api.get(f"/ssl/orders/{oid}/documents")
    assert st == 200
    return body["data"]["total"]


def test_every_accepted_type(env, shop):
    team, api, oid = shop
    for kind, (data, name, ctype) in samples.ALL.items():
        r = upload(api, oid, name, data)
        assert r.status_code == 201, (kind, r.text)
        d = r.json()["data"]
        assert d["type"] == kind and d["content_type"] == ctype, kind
        assert d["size"] == len(data) and d["sha256"] == hashlib.sha256(data).hexdigest()
        assert d["status"] == "pending" and d["published"] is False
        assert d["name"].endswith("." + kind)  # photo.jpeg -> photo.jpg, fax.tiff -> fax.tif
        # the same bytes come back
        r = api.raw("GET", f"/ssl/orders/{oid}/documents/{d['id']}")
        assert r.status_code == 200 and r.content == data
        assert r.headers["Content-Type"] == ctype
        assert r.headers["Content-Disposition"].startswith("attachment")
        assert "sandbox" in r.headers["Content-Security-Policy"]
    docs = api.get(f"/ssl/orders/{oid}/documents")[1]["data"]["results"]
    assert [d["type"] for d in docs] == list(samples.ALL)
    kinds = [e["kind"] for e in api.get(f"/ssl/orders/{oid}/events")[1]["data"]["results"]]
    assert kinds.count("document_uploaded") == len(samples.ALL)
    # the client's own Content-Type may say the same thing
    r = upload(api, oid, "scan.png", samples.PNG, "image/png")
    assert r.status_code == 201
    # a file name with a path and an unknown extension
    r = upload(api, oid, "../../etc/scan.exe", samples.PDF, "application/pdf")
    assert r.status_code == 201 and r.json()["data"]["name"] == "scan.exe.pdf"


def test_refusals_store_nothing(env, shop):
    team, api, oid = shop
    cases = [
        # (file name, bytes, Content-Type, status, code)
        ("empty.pdf", b"", "application/pdf", 415, 1081),
        ("prog.pdf", b"MZ\x90\x00" + b"\x00" * 200, "application/pdf", 415, 1081),
        ("cut.png", samples.PNG[:40], "image/png", 415, 1081),
        ("cut.pdf", samples.PDF[:-8], "application/pdf", 415, 1081),
        ("page.html", b"<html><script>alert(1)</script></html>", "text/html", 415, 1081),
        ("logo.pdf", samples.PNG, "application/octet-stream", 400, 1082),   # mislabelled name
        ("logo", samples.PNG, "application/pdf", 400, 1082),                # mislabelled type
        ("logo.png", samples.PNG, "image/jpeg", 400, 1082),
    ]
    for name, data, ctype, status, code in cases:
        r = upload(api, oid, name, data, ctype)
        assert (r.status_code, r.json()["code"]) == (status, code), (name, r.text)
        assert r.json()["desc"]
    # no file part, another field name
    r = upload(api, oid, "a.pdf", samples.PDF, field="attachment")
    assert (r.status_code, r.json()["code"]) == (400, 1083)
    # not multipart
    st, body = api.post(f"/ssl/orders/{oid}/documents", json={"file": "x"})
    assert (st, body["code"]) == (415, 107)
    # a truncated multipart body
    boundary = "b" + uuid.uuid4().hex
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.pdf\"\r\n"
            f"Content-Type: application/pdf\r\n\r\n").encode() + samples.PDF
    r = api.raw("POST", f"/ssl/orders/{oid}/documents", data=body,
                headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    assert (r.status_code, r.json()["code"]) == (400, 1083)
    assert "truncated" in r.json()["desc"]
    # larger than SSLOrdersMaxUpload (10 MiB by default)
    big = samples.PDF[:-6] + b"%" * (10 * 1024 * 1024) + b"\n%%EOF\n"
    r = upload(api, oid, "big.pdf", big, "application/pdf")
    assert (r.status_code, r.json()["code"]) == (413, 106)
    assert count(api, oid) == 0
    # a viewer cannot upload; another team cannot see
    viewer = team.add_member("viewer").client()
    r = upload(viewer, oid, "a.pdf", samples.PDF)
    assert (r.status_code, r.json()["code"]) == (403, 108)
    stranger = env.new_team().client()
    r = upload(stranger, oid, "a.pdf", samples.PDF)
    assert (r.status_code, r.json()["code"]) == (404, 103)
    assert count(api, oid) == 0


def test_lifecycle_staff_and_publishing(env, shop):
    team, api, oid = shop
    staff = env.staff()
    a = upload(api, oid, "a.pdf", samples.PDF).json()["data"]
    b = upload(api, oid, "b.png", samples.PNG).json()["data"]
    c = upload(api, oid, "c.txt", samples.TXT).json()["data"]
    # only accepted documents are published
    st, body = api.put(f"/ssl/orders/{oid}/documents/{a['id']}", json={"published": True})
    assert (st, body["code"]) == (409, 1085)
    # a pending one can be deleted
    assert api.delete(f"/ssl/orders/{oid}/documents/{c['id']}")[0] == 200
    assert api.raw("GET", f"/ssl/orders/{oid}/documents/{c['id']}").status_code == 404
    # staff see the pending ones of every team, read and decide them
    pending = staff.get("/staff/documents")[1]["data"]["results"]
    mine = [d for d in pending if d["order_id"] == oid]
    assert {d["id"] for d in mine} == {a["id"], b["id"]} and mine[0]["team"] == team.slug
    assert staff.raw("GET", f"/staff/documents/{a['id']}").content == samples.PDF
    assert api.get("/staff/documents")[0] == 403
    st, body = staff.post(f"/staff/documents/{b['id']}", json={"decision": "reject"})
    assert (st, body["code"]) == (400, 102)  # a reason is needed
    st, body = staff.post(f"/staff/documents/{b['id']}", json={"decision": "reject", "reason": "unreadable"})
    assert st == 200 and body["data"]["status"] == "rejected" and body["data"]["reason"] == "unreadable"
    st, body = staff.post(f"/staff/documents/{a['id']}", json={"decision": "accept"})
    assert st == 200 and body["data"]["status"] == "accepted"
    st, body = staff.post(f"/staff/documents/{a['id']}", json={"decision": "reject", "reason": "x"})
    assert (st, body["code"]) == (409, 1085)  # decided already
    # decided documents stay
    st, body = api.delete(f"/ssl/orders/{oid}/documents/{a['id']}")
    assert (st, body["code"]) == (409, 1085)
    st, body = api.put(f"/ssl/orders/{oid}/documents/{a['id']}", json={"published": True})
    assert st == 200 and body["data"]["published"] is True
    st, body = api.put(f"/ssl/orders/{oid}/documents/{b['id']}", json={"published": True})
    assert (st, body["code"]) == (409, 1085)
    kinds = [e["kind"] for e in api.get(f"/ssl/orders/{oid}/events")[1]["data"]["results"]]
    for k in ("document_uploaded", "document_deleted", "document_rejected", "document_accepted",
              "document_published"):
        assert k in kinds, k


def test_organization_validation_cites_documents(env, shop):
    team, api, _ = shop
    staff = env.staff()
    handle = api.post("/customers", json=CONTACT)[1]["data"]["handle"]
    oid, o = order(api, product=OV, organization_handle=handle)
    publish_files(env, o)
    validate(api, oid)
    doc = upload(api, oid, "kvk.pdf", samples.PDF).json()["data"]
    # a pending document cannot be cited
    st, body = staff.post(f"/staff/orders/{oid}/organization",
                          json={"decision": "approve", "documents": [doc["id"]]})
    assert (st, body["code"]) == (400, 102)
    staff.post(f"/staff/documents/{doc['id']}", json={"decision": "accept"})
    st, body = staff.post(f"/staff/orders/{oid}/organization",
                          json={"decision": "approve", "documents": [doc["id"]]})
    assert st == 200 and body["data"]["issued"] is True and body["data"]["documents"] == [doc["id"]]
    v = api.get(f"/ssl/orders/{oid}/validation")[1]["data"]
    assert v["organization"]["status"] == "approved" and v["organization"]["documents"] == [doc["id"]]


def test_two_servers_see_the_same_documents(env, shop):
    team, api, oid = shop
    h = Httpd(env.base, DB, env.db_params, name="docs-" + uuid.uuid4().hex[:6], dcv=env.dcv)
    h.ca_dir = env.httpd.ca_dir
    env.servers.append(h)
    try:
        h.start()
        d = upload(api, oid, "a.pdf", samples.PDF).json()["data"]
        other = team.client(h)
        r = other.raw("GET", f"/ssl/orders/{oid}/documents/{d['id']}")
        assert r.status_code == 200 and r.content == samples.PDF
        assert other.delete(f"/ssl/orders/{oid}/documents/{d['id']}")[0] == 200
        assert api.raw("GET", f"/ssl/orders/{oid}/documents/{d['id']}").status_code == 404
    finally:
        h.stop()
        env.servers.remove(h)
        h.new_log_lines()
