"""Products, approver e-mails, CSR tools and contact handles."""
import json
import os
import re
import tempfile

import pytest

import pki
from harness import Client, swagger_validate


# ---- products ---------------------------------------------------------------------------

def test_products_list_and_get(api):
    st, body = api.get("/ssl/products")
    assert st == 200
    swagger_validate("ssl", "productListProductsResponse", body)
    data = body["data"]
    assert data["total"] == len(data["results"]) >= 8
    categories = {p["category"] for p in data["results"]}
    assert {"domain_validation", "organization_validation", "extended_validation"} <= categories
    kinds = {(p["validation_method"], p["is_wildcard_supported"], p["is_multidomain"])
             for p in data["results"]}
    for k in [("domain", False, False), ("domain", True, False), ("domain", False, True),
              ("organization", False, False), ("organization", True, False),
              ("organization", False, True), ("extended", False, False), ("extended", False, True)]:
        assert k in kinds, k
    # prices only when asked for
    assert all(p["prices"] == [] for p in data["results"])
    assert all(p["description"] == "" and p["supported_software"] == [] for p in data["results"])
    st, body = api.get("/ssl/products", params={"with_price": "true", "with_description": "true",
                                                "with_supported_software": "true"})
    swagger_validate("ssl", "productListProductsResponse", body)
    p = body["data"]["results"][0]
    assert [x["period"] for x in p["prices"]] == [1, 2, 3]
    price = p["prices"][0]["price"]
    assert price["reseller"]["currency"] == "EUR" and price["product"]["currency"] == "USD"
    assert price["reseller"]["price"] > 0
    assert p["description"] and {"id": "linux", "title": "Linux"} in p["supported_software"]
    st, one = api.get(f"/ssl/products/{p['id']}")
    assert st == 200
    swagger_validate("ssl", "productGetProductResponse", one)
    assert one["data"]["prices"] == p["prices"]


def test_products_reseller_price_in_team_currency(env):
    t = env.new_team(currency="USD")
    st, body = t.client().get("/ssl/products/1")
    price = body["data"]["prices"][0]["price"]
    assert price["reseller"]["currency"] == "USD"
    assert price["reseller"]["price"] == price["product"]["price"]


def test_products_sorting_and_paging(api):
    st, body = api.get("/ssl/products", params={"order_by.name": "asc"})
    names = [p["name"] for p in body["data"]["results"]]
    assert names == sorted(names)
    st, body = api.get("/ssl/products", params={"order_by.name": "desc"})
    assert [p["name"] for p in body["data"]["results"]] == sorted(names, reverse=True)
    st, body = api.get("/ssl/products", params={"order_by.category": "asc", "order_by.product_seqno": "desc"})
    rows = [(p["category"], p["id"]) for p in body["data"]["results"]]
    assert [r[0] for r in rows] == sorted(r[0] for r in rows)
    for key in ("brand_name", "sub_category", "brand_seqno", "product_seqno"):
        assert api.get("/ssl/products", params={f"order_by.{key}": "asc"})[0] == 200
    st, page = api.get("/ssl/products", params={"limit": 3, "offset": 2, "order_by.name": "asc"})
    assert [p["name"] for p in page["data"]["results"]] == names[2:5]
    assert page["data"]["total"] == len(names)
    for bad in ({"order_by.name": "up"}, {"order_by.price": "asc"}, {"limit": 1001},
                {"limit": "x"}, {"offset": -1}, {"with_price": "maybe"}):
        st, body = api.get("/ssl/products", params=bad)
        assert (st, body["code"]) == (400, 102), bad


def test_product_unknown(api):
    assert api.get("/ssl/products/999999")[1]["code"] == 103
    assert api.get("/ssl/products/abc")[0] == 404


def test_catalogue_import_export(env, api):
    out = env.ctl("product", "export").stdout
    doc = json.loads(out)
    assert len(doc["products"]) >= 8
    # a new product and a changed price, imported twice: the same result
    new = dict(doc["products"][0])
    new.update({"id": 901, "name": "Test Import DV", "product_seqno": 999,
                "prices": [{"period": 1, "currency": "EUR", "price": "1.00"}]})
    doc["products"].append(new)
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(doc, f)
    try:
        exports = []
        for _ in range(2):
            r = env.ctl("product", "import", f.name)
            assert "products imported" in r.stdout
            exports.append(json.loads(env.ctl("product", "export").stdout))
        assert exports[0] == exports[1]  # idempotent
        imported = [p for p in exports[0]["products"] if p["id"] == 901][0]
        assert imported["name"] == "Test Import DV"
        assert imported["prices"] == [{"period": 1, "currency": "EUR", "price": "1.00",
                                       "extra_domain": "0.00", "extra_wildcard": "0.00"}]
        st, body = api.get("/ssl/products/901", params={"with_price": "true"})
        assert st == 200 and body["data"]["prices"][0]["price"]["reseller"]["price"] == 1.0
        # an invalid file changes nothing
        bad = json.loads(json.dumps(doc))
        bad["products"][0]["name"] = "Changed"
        bad["products"][1]["prices"] = [{"period": 99, "currency": "EUR", "price": "1"}]
        with open(f.name, "w") as g:
            json.dump(bad, g)
        r = env.ctl("product", "import", f.name, check=False)
        assert r.returncode == 1 and "nothing was imported" in r.stderr
        assert json.loads(env.ctl("product", "export").stdout)["products"][0]["name"] == doc["products"][0]["name"]
    finally:
        # take the test product off sale again
        new["active"] = False
        with open(f.name, "w") as g:
            json.dump({"products": [new]}, g)
        env.ctl("product", "import", f.name)
        os.unlink(f.name)
    assert api.get("/ssl/products/901")[0] == 404


# ---- approver e-mails ----------------------------------------------------------------------

def test_approver_emails(api):
    st, body = api.get("/ssl/approver-emails", params={"domain": "www.example.co.uk", "product_id": 1})
    assert st == 200
    swagger_validate("ssl", "approveremailListApproverEmailsResponse", body)
    # every Authorization Domain Name: the registrable domain first, then down to the FQDN
    assert body["data"]["results"] == [f"{p}@{d}" for d in ("example.co.uk", "www.example.co.uk")
                                       for p in ("admin", "administrator", "hostmaster",
                                                 "postmaster", "webmaster")]
    st, body = api.get("/ssl/approver-emails", params={"domain": "*.Shop.Example.COM"})
    assert st == 200 and body["data"]["results"][0] == "admin@example.com"
    assert body["data"]["results"][5:] == [f"{p}@shop.example.com" for p in
                                           ("admin", "administrator", "hostmaster", "postmaster",
                                            "webmaster")]
    for params, code in (({}, 102), ({"domain": "bad_domain"}, 1003), ({"domain": "co.uk"}, 1003),
                         ({"domain": "example.com", "product_id": 99999}, 1007),
                         ({"domain": "example.com", "product_id": "x"}, 102)):
        st, body = api.get("/ssl/approver-emails", params=params)
        assert st == 400 and body["code"] == code, params


# ---- CSR tools -----------------------------------------------------------------------------

def test_csr_decode(api):
    pem = pki.csr("shop.example.com", ["www.shop.example.com"], kind="rsa2048", ou="Web", org="Shop BV")
    st, body = api.post("/ssl/csr/decode", json={"csr": pem})
    assert st == 200
    swagger_validate("ssl", "csrDecodeCsrResponse", body)
    d = body["data"]
    assert d["subject"]["common_name"] == "shop.example.com"
    assert d["subject"]["organization"] == "Shop BV" and d["subject"]["unit"] == "Web"
    assert d["public_key"]["bits"] == 2048 and "BEGIN PUBLIC KEY" in d["public_key"]["key"]
    assert d["signature_hash_algorithm"] == "sha2"
    assert d["subject_alternative_name"] == ["shop.example.com", "www.shop.example.com"]
    assert d["domain_names_count"] == 2
    assert re.fullmatch(r"[0-9A-F]{32}", d["md5"]) and re.fullmatch(r"[0-9A-F]{64}", d["sha256"])
    st, body = api.post("/ssl/csr/decode", json={"csr": pki.csr("ec.example.com", kind="ec384")})
    assert body["data"]["key_type"] == "ec" and body["data"]["curve"] == "P-384"
    assert body["data"]["public_key"]["bits"] == 384
    st, body = api.post("/ssl/csr/decode", json={"csr": pki.csr("weak.example.com", kind="rsa1024")})
    assert st == 200 and body["data"]["key_ok"] is False and "2048" in body["data"]["key_problem"]


@pytest.mark.parametrize("bad,reason", [
    ("hello", "PEM"),
    ("-----BEGIN CERTIFICATE REQUEST-----\nMIIC\n-----END CERTIFICATE REQUEST-----\n", "truncated"),
    ("truncated", "truncated"),
    ("badsig", "signature"),
])
def test_csr_decode_garbage(api, bad, reason):
    pem = pki.csr("x.example.com")
    if bad == "truncated":
        bad = pem[:len(pem) // 2]
    elif bad == "badsig":
        bad = pki.bad_signature(pem)
    st, body = api.post("/ssl/csr/decode", json={"csr": bad})
    assert (st, body["code"]) == (400, 1001)
    assert reason in body["data"]
    swagger_validate("ssl", "errorError", body)


def test_csr_generate(env, api):
    st, body = api.post("/ssl/csr", json={"common_name": "gen.example.com", "country": "nl",
                                          "organization": "Gen BV", "email": "it@example.com",
                                          "subject_alternative_name": ["www.gen.example.com"],
                                          "with_config": True})
    assert st == 200
    swagger_validate("ssl", "csrCreateCsrResponse", body)
    d = body["data"]
    assert "BEGIN PRIVATE KEY" in d["key"] and d["config"] and "subjectAltName" in d["config"]
    assert d["command"].startswith("openssl req")
    assert pki.public_key_of_private(d["key"]) == pki.public_key_of_csr(d["csr"])
    st, dec = api.post("/ssl/csr/decode", json={"csr": d["csr"]})
    assert dec["data"]["subject"]["country"] == "NL"
    assert dec["data"]["subject_alternative_name"] == ["gen.example.com", "www.gen.example.com"]
    assert dec["data"]["public_key"]["bits"] == 2048
    for extra, kt, bits in (({"bits": 4096}, "rsa", 4096), ({"key_type": "ec"}, "ec", 256),
                            ({"key_type": "ec", "curve": "P-384"}, "ec", 384)):
        st, body = api.post("/ssl/csr", json={"common_name": "k.example.com", "country": "DE", **extra})
        assert st == 200, body
        dec = api.post("/ssl/csr/decode", json={"csr": body["data"]["csr"]})[1]["data"]
        assert (dec["key_type"], dec["public_key"]["bits"]) == (kt, bits)
        assert body["data"]["config"] == ""
    # the private key never reaches the log
    assert "PRIVATE KEY" not in env.httpd.read_log()
    # each bad input with its own code and the words that say what is wrong
    base = {"common_name": "x.example.com", "country": "NL"}
    for change, drop, code, says in (
            ({}, "common_name", 102, "'common_name' is required"),
            ({}, "country", 102, "'country' is required"),
            ({"country": "NLD"}, None, 102, "'country' is longer than 2"),
            ({"bits": 1024}, None, 102, "bits must be"),
            ({"key_type": "dsa"}, None, 102, "key_type must be"),
            ({"key_type": "ec", "curve": "P-521"}, None, 102, "curve must be"),
            ({"common_name": "not a host"}, None, 1003, "common_name: the host name"),
            ({"subject_alternative_name": "y"}, None, 102, "'subject_alternative_name' must be an array"),
            ({"subject_alternative_name": [1]}, None, 102, "subject_alternative_name holds strings")):
        bad = dict(base, **change)
        if drop:
            del bad[drop]
        st, body = api.post("/ssl/csr", json=bad)
        assert (st, body["code"]) == (400, code), (bad, body)
        assert says in body["desc"], (bad, body)


# ---- contact handles -------------------------------------------------------------------------

CONTACT = {"name": {"first_name": "Anna", "last_name": "Jansen", "initials": "A."},
           "company_name": "Jansen Hosting BV",
           "address": {"street": "Keizersgracht", "number": "1", "zipcode": "1015 CJ",
                       "city": "Amsterdam", "country": "nl"},
           "phone": {"country_code": "+31", "area_code": "20", "subscriber_number": "1234567"},
           "email": "anna@jansen.example", "vat": "NL123456789B01"}


def test_customers_crud(api, team):
    st, body = api.post("/customers", json=CONTACT)
    assert st == 200
    swagger_validate("reseller-customer", "customerCreateCustomerResponse", body)
    handle = body["data"]["handle"]
    assert re.fullmatch(r"AJ\d{6}-NL", handle)
    st, body = api.get(f"/customers/{handle}")
    assert st == 200
    swagger_validate("reseller-customer", "customerGetCustomerResponse", body)
    c = body["data"]
    assert c["name"]["full_name"] == "Anna Jansen" and c["address"]["country"] == "NL"
    assert c["company_name"] == "Jansen Hosting BV" and c["vat"] == "NL123456789B01"
    st, body = api.put(f"/customers/{handle}", json={"email": "info@jansen.example",
                                                     "address": {"city": "Utrecht"}})
    assert st == 200 and body["data"]["success"] is True
    swagger_validate("reseller-customer", "customerUpdateCustomerResponse", body)
    c = api.get(f"/customers/{handle}")[1]["data"]
    assert c["email"] == "info@jansen.example" and c["address"]["city"] == "Utrecht"
    assert c["address"]["street"] == "Keizersgracht"
    st, body = api.get("/customers", params={"pattern": "jansen"})
    assert st == 200 and body["data"]["total"] == 1
    swagger_validate("reseller-customer", "customerListCustomersResponse", body)
    assert api.get("/customers", params={"handle_pattern": handle[:4] + "*"})[1]["data"]["total"] == 1
    assert api.get("/customers", params={"pattern": "nobody"})[1]["data"]["total"] == 0
    st, body = api.delete(f"/customers/{handle}")
    assert st == 200
    assert api.get(f"/customers/{handle}")[0] == 404


@pytest.mark.parametrize("change,field", [
    ({"email": "not-an-email"}, "email"),
    ({"email": None}, "email"),
    ({"address": {"street": "x", "city": "y", "country": "Netherlands"}}, "country"),
    ({"name": {"first_name": "A"}}, "last_name"),
    ({"phone": {"country_code": "+31", "subscriber_number": "12ab"}}, "phone"),
    ({"name": "Anna"}, "object"),
    ({"comments": "bad\u0001char"}, "control"),
])
def test_customers_bad_input(env, api, change, field):
    before = env.sql("SELECT COUNT(*) FROM customers")
    body = json.loads(json.dumps(CONTACT))
    body.update(change)
    if change.get("email", 1) is None:
        del body["email"]
    st, ans = api.post("/customers", json=body)
    assert (st, ans["code"]) == (400, 1016), ans  # invalid contact, whichever the field
    assert field in ans["desc"]
    assert env.sql("SELECT COUNT(*) FROM customers") == before


def test_customers_are_team_scoped(env, api, team):
    handle = api.post("/customers", json=CONTACT)[1]["data"]["handle"]
    other = env.new_team().client()
    for method, path, body in (("GET", f"/customers/{handle}", None),
                               ("PUT", f"/customers/{handle}", {"email": "x@y.example"}),
                               ("DELETE", f"/customers/{handle}", None)):
        st, ans = other.call(method, path, json=body)
        assert (st, ans["code"]) == (404, 103), method
    assert other.get("/customers")[1]["data"]["total"] == 0
    assert api.get(f"/customers/{handle}")[1]["data"]["email"] == CONTACT["email"]


def test_customers_roles(env, team):
    viewer = team.add_member("viewer").client()
    assert viewer.get("/customers")[0] == 200
    st, body = viewer.post("/customers", json=CONTACT)
    assert (st, body["code"]) == (403, 108)
    member = team.add_member("member").client()
    assert member.post("/customers", json=CONTACT)[0] == 200
