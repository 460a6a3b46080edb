"""Issuance: domain control validation against real servers (HTTP, HTTPS, DNS, e-mail),
organization validation, certificates checked with OpenSSL, reissue, renewal,
revocation and the CRL, expiry and reminders, the background job, two servers."""
import datetime
import os
import re
import threading
import time
import uuid

import pytest
import requests
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID, ExtensionOID, NameOID

import pki
from harness import DB, Client, Httpd

from issuing import (DAY, DV, DV_MULTI, DV_WILD, LONG, OV, certificate, dom, issued,  # noqa: F401
                     openssl_verify, order, publish_files, validate)








@pytest.fixture
def rich(env):
    return env.new_team(balance="10000", ttl=LONG)


# ---- HTTP file validation and the issued certificate -------------------------------------------

def test_http_validation_issues_a_strict_certificate(env, rich):
    api = rich.client()
    oid, o = order(api)
    names = o["host_names"]
    # nothing published yet: not validated, and the reason is plain
    v = validate(api, oid)
    assert v["validated"] == 0 and v["status"] == "REQ"
    assert all(n["state"] == "pending" and "404" in n["last_error"] for n in v["names"])
    assert v["names"][0]["instructions"]["url"].startswith(f"http://{names[0]}/.well-known/pki-validation/")
    # a wrong file does not validate either
    a = o["additional_data"][0]
    path = "/" + a["file_location"].split("/", 3)[3]
    env.dcv.put_file(path, "0" * 64 + "\nsslorders.local\n")
    v = validate(api, oid)
    assert v["validated"] == 0 and "expected" in v["names"][0]["last_error"]
    publish_files(env, o)
    v = validate(api, oid)
    assert v["status"] == "ACT" and v["validated"] == 2
    o, cert = certificate(api, oid)
    assert o["status"] == "ACT" and o["active_date"] and o["expiration_date"]
    assert "OK" in openssl_verify(env, o)
    # the Baseline Requirements profile
    san = cert.extensions.get_extension_for_oid(ExtensionOID.SUBJECT_ALTERNATIVE_NAME).value
    assert san.get_values_for_type(x509.DNSName) == names
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == names[0]
    assert not cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)  # DV
    eku = cert.extensions.get_extension_for_oid(ExtensionOID.EXTENDED_KEY_USAGE).value
    assert list(eku) == [ExtendedKeyUsageOID.SERVER_AUTH]
    ku = cert.extensions.get_extension_for_oid(ExtensionOID.KEY_USAGE)
    assert ku.critical and ku.value.digital_signature and ku.value.key_encipherment
    bc = cert.extensions.get_extension_for_oid(ExtensionOID.BASIC_CONSTRAINTS)
    assert bc.critical and not bc.value.ca
    policies = [p.policy_identifier.dotted_string for p in
                cert.extensions.get_extension_for_oid(ExtensionOID.CERTIFICATE_POLICIES).value]
    assert "2.23.140.1.2.1" in policies
    aia = cert.extensions.get_extension_for_oid(ExtensionOID.AUTHORITY_INFORMATION_ACCESS).value
    ca_issuers = [d.access_location.value for d in aia]
    assert ca_issuers == [env.httpd.url + "/pki/intermediate.crt"]
    cdp = cert.extensions.get_extension_for_oid(ExtensionOID.CRL_DISTRIBUTION_POINTS).value
    assert cdp[0].full_name[0].value == env.httpd.url + "/pki/crl"
    assert cert.extensions.get_extension_for_oid(ExtensionOID.SUBJECT_KEY_IDENTIFIER)
    assert cert.extensions.get_extension_for_oid(ExtensionOID.AUTHORITY_KEY_IDENTIFIER)
    assert cert.serial_number > 0 and cert.serial_number.bit_length() >= 64
    days = (cert.not_valid_after - cert.not_valid_before).total_seconds() / DAY
    assert days <= 200 + 1 / DAY
    # the AIA URL serves the intermediate the chain holds
    r = requests.get(ca_issuers[0])
    assert r.status_code == 200 and r.headers["Content-Type"] == "application/pkix-cert"
    inter = x509.load_der_x509_certificate(r.content)
    assert inter == x509.load_pem_x509_certificate(o["intermediate_certificate"].encode())
    kinds = [e["kind"] for e in api.get(f"/ssl/orders/{oid}/events")[1]["data"]["results"]]
    assert kinds.count("issued") == 1 and kinds.count("name_validated") == 2
    assert ["issued", str(oid), names[0]] in env.httpd.messages()


def test_https_and_wildcard_dns(env, rich):
    api = rich.client()
    oid, o = order(api, method="https")
    publish_files(env, o)
    assert validate(api, oid)["status"] == "ACT"
    # a wildcard validates through DNS: a CNAME for one order, a TXT record for another
    d = dom()
    oid, o = order(api, product=DV_WILD, names=["*." + d, d], method="dns")
    v = validate(api, oid)
    assert v["validated"] == 0
    ins = v["names"][0]["instructions"]
    assert ins["record_type"] == "CNAME" and ins["record_name"].endswith("." + d)
    env.dcv.add_record("CNAME", ins["record_name"], ins["record_value"])
    assert validate(api, oid)["status"] == "ACT"
    o, cert = certificate(api, oid)
    openssl_verify(env, o)
    d2 = dom()
    oid2, o2 = order(api, names=[d2, "www." + d2], method="dns")
    v = validate(api, oid2)
    for n in v["names"]:
        env.dcv.add_record("TXT", n["instructions"]["txt_record_name"], n["instructions"]["record_value"])
    assert validate(api, oid2)["status"] == "ACT"


def test_wrong_dns_token_does_not_validate(env, rich):
    api = rich.client()
    oid, o = order(api, method="dns")
    v = validate(api, oid)
    ins = v["names"][0]["instructions"]
    env.dcv.add_record("CNAME", ins["record_name"], "0" * 32 + "." + "1" * 32 + ".sslorders.local")
    v = validate(api, oid)
    assert v["status"] == "REQ" and v["names"][0]["state"] == "pending"
    assert v["names"][0]["last_error"]
    assert api.get(f"/ssl/orders/{oid}")[1]["data"]["certificate"] == ""


# ---- e-mail validation -----------------------------------------------------------------------

def approval_link(env, to):
    for m in reversed(env.httpd.mails()):
        if m["To"] == to:
            body = m.get_payload(decode=True).decode()
            return re.search(r"(http://\S+/approve/[0-9a-f]+)", body).group(1)
    raise AssertionError(f"no mail to {to}")


def test_email_validation_follows_the_link(env, rich):
    api = rich.client()
    d = dom()
    oid, o = order(api, names=[d, "www." + d], method="email", approver=f"hostmaster@{d}")
    link = approval_link(env, f"hostmaster@{d}")
    # nothing happens before the approval
    assert validate(api, oid)["status"] == "REQ"
    r = requests.get(link)
    assert r.status_code == 200 and d in r.text and "<form method=\"post\">" in r.text
    assert "Content-Security-Policy" in r.headers
    r = requests.post(link)
    assert r.status_code == 200 and "Approved" in r.text
    o = api.get(f"/ssl/orders/{oid}")[1]["data"]
    assert o["status"] == "ACT"
    openssl_verify(env, o)
    # a link works once; a made-up one never
    assert requests.post(link).status_code == 404
    assert requests.get(link[:-4] + "abcd").status_code == 404
    assert requests.get(env.httpd.url + "/approve/x").status_code == 404


def test_approver_change_and_resend_send_new_links(env, rich):
    api = rich.client()
    d = dom()
    oid, o = order(api, names=[d], method="email", approver=f"admin@{d}")
    first = approval_link(env, f"admin@{d}")
    assert api.put(f"/ssl/orders/{oid}/approver-email", json={"approver_email": f"webmaster@{d}"})[0] == 200
    second = approval_link(env, f"webmaster@{d}")
    assert requests.get(first).status_code == 404  # the old address's link is void
    assert api.post(f"/ssl/orders/{oid}/approver-email/resend")[0] == 200
    third = approval_link(env, f"webmaster@{d}")
    assert third != second and requests.get(second).status_code == 404
    assert requests.post(third).status_code == 200
    assert api.get(f"/ssl/orders/{oid}")[1]["data"]["status"] == "ACT"


# ---- organization validation ---------------------------------------------------------------

CONTACT = {"name": {"first_name": "Olga", "last_name": "Visser"}, "company_name": "Visser Webwinkel BV",
           "address": {"street": "Dam", "number": "1", "city": "Amsterdam", "state": "Noord-Holland",
                       "country": "NL"},
           "phone": {"country_code": "+31", "subscriber_number": "2012345"},
           "email": "olga@visser.example"}


def test_ov_waits_for_staff(env, rich):
    api = rich.client()
    handle = api.post("/customers", json=CONTACT)[1]["data"]["handle"]
    oid, o = order(api, product=OV, organization_handle=handle)
    publish_files(env, o)
    v = validate(api, oid)
    assert v["validated"] == 2 and v["status"] == "REQ"
    assert v["organization"] == {"required": True, "status": "pending", "reason": "", "checked_at": "",
                                 "valid_until": "", "documents": []}
    staff = env.staff()
    pending = staff.get("/staff/organizations")[1]["data"]["results"]
    mine = [p for p in pending if p["order_id"] == oid][0]
    assert mine["organization"]["company_name"] == "Visser Webwinkel BV"
    st, body = api.post(f"/staff/orders/{oid}/organization", json={"decision": "approve"})
    assert (st, body["code"]) == (403, 108)
    st, body = staff.post(f"/staff/orders/{oid}/organization", json={"decision": "approve"})
    assert st == 200 and body["data"]["issued"] is True
    o, cert = certificate(api, oid)
    openssl_verify(env, o)
    assert cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == "Visser Webwinkel BV"
    assert cert.subject.get_attributes_for_oid(NameOID.LOCALITY_NAME)[0].value == "Amsterdam"
    assert cert.subject.get_attributes_for_oid(NameOID.COUNTRY_NAME)[0].value == "NL"
    policies = [p.policy_identifier.dotted_string for p in
                cert.extensions.get_extension_for_oid(ExtensionOID.CERTIFICATE_POLICIES).value]
    assert "2.23.140.1.2.2" in policies
    # a rejection fails the order and refunds it
    start = float(api.get("/me")[1]["data"]["team"]["balance"])
    oid2, o2 = order(api, product=OV, organization_handle=handle)
    st, body = staff.post(f"/staff/orders/{oid2}/organization", json={"decision": "reject"})
    assert st == 400  # a reason is required
    r = env.ctl("org", "reject", oid2, "--reason", "no such company in the register")
    assert "rejected" in r.stdout
    o2 = api.get(f"/ssl/orders/{oid2}")[1]["data"]
    assert o2["status"] == "FAI"
    assert float(api.get("/me")[1]["data"]["team"]["balance"]) == pytest.approx(start)


def test_ov_identity_check_is_reused_for_398_days(env, rich):
    """BR 4.2.1: an approved organization is reused by the team's later OV orders for the
    same organization (record unchanged) for 398 days from its check, then staff again."""
    api, staff = rich.client(), env.staff()
    handle = api.post("/customers", json=CONTACT)[1]["data"]["handle"]
    oid, o = order(api, product=OV, organization_handle=handle)
    publish_files(env, o)
    assert validate(api, oid)["organization"]["status"] == "pending"
    st, body = staff.post(f"/staff/orders/{oid}/organization", json={"decision": "approve"})
    assert st == 200 and body["data"]["issued"] is True
    org = api.get(f"/ssl/orders/{oid}/validation")[1]["data"]["organization"]
    checked = org["checked_at"]
    at = int(datetime.datetime.strptime(checked, "%Y-%m-%d %H:%M:%S")
             .replace(tzinfo=datetime.timezone.utc).timestamp())
    assert org["status"] == "approved" and org["valid_until"] == \
        datetime.datetime.fromtimestamp(at + 398 * DAY, datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S")

    def ov_order(clock, handle_=handle):
        h = {"X-SSLOrders-Clock": str(clock)}
        d = dom()
        names = [d, "www." + d]
        st, ans = api.post("/ssl/orders", headers=h, json={
            "product_id": OV, "period": 1, "organization_handle": handle_,
            "csr": pki.csr(d, names[1:], fresh=True), "start_provision": True,
            "domain_validation_methods": [{"host_name": n, "method": "http"} for n in names]})
        assert st == 200, ans
        o_ = api.get(f"/ssl/orders/{ans['data']['id']}", headers=h)[1]["data"]
        publish_files(env, o_)
        st, v = api.post(f"/ssl/orders/{o_['id']}/validate", headers=h)
        assert st == 200, v
        return o_["id"], v["data"]

    # 397 days later: issued at once, the check of the first order reused (its time kept)
    oid2, v2 = ov_order(at + 397 * DAY)
    assert v2["status"] == "ACT", v2
    assert v2["organization"]["status"] == "approved" and v2["organization"]["checked_at"] == checked
    assert v2["organization"]["reason"].startswith(f"reused: the organization was validated for order {oid}")
    kinds = [e["kind"] for e in api.get(f"/ssl/orders/{oid2}/events")[1]["data"]["results"]]
    assert "organization_reused" in kinds
    # 399 days later: too old, staff decide again (a reuse of the reuse does not extend it)
    oid3, v3 = ov_order(at + 399 * DAY)
    assert v3["status"] == "REQ" and v3["organization"]["status"] == "pending", v3
    pending = [p["order_id"] for p in staff.get("/staff/organizations")[1]["data"]["results"]]
    assert oid3 in pending and oid2 not in pending
    # another organization of the team reuses nothing
    other = dict(CONTACT, company_name="Andere Winkel BV")
    handle2 = api.post("/customers", json=other)[1]["data"]["handle"]
    oid4, v4 = ov_order(at + DAY, handle2)
    assert v4["status"] == "REQ" and v4["organization"]["status"] == "pending"
    # the organization's record changed after the check: staff again
    st, body = api.put(f"/customers/{handle}", json={"email": "info@visser.example"},
                       headers={"X-SSLOrders-Clock": str(at + 2 * DAY)})
    assert st == 200, body
    oid5, v5 = ov_order(at + 3 * DAY)
    assert v5["status"] == "REQ" and v5["organization"]["status"] == "pending"


def test_ov_reissue_after_398_days_goes_back_to_staff(env, rich):
    api, staff = rich.client(), env.staff()
    handle = api.post("/customers", json=dict(CONTACT, company_name="Lang Geleden BV"))[1]["data"]["handle"]
    d = dom()
    oid, o = order(api, product=OV, names=[d, "www." + d], period=2, organization_handle=handle)
    publish_files(env, o)
    validate(api, oid)
    assert staff.post(f"/staff/orders/{oid}/organization", json={"decision": "approve"})[1]["data"]["issued"]
    org = api.get(f"/ssl/orders/{oid}/validation")[1]["data"]["organization"]
    at = int(datetime.datetime.strptime(org["checked_at"], "%Y-%m-%d %H:%M:%S")
             .replace(tzinfo=datetime.timezone.utc).timestamp())
    first = api.get(f"/ssl/orders/{oid}")[1]["data"]["certificate"]
    h = {"X-SSLOrders-Clock": str(at + 399 * DAY)}
    st, body = api.post(f"/ssl/orders/{oid}/reissue", headers=h,
                        json={"csr": pki.csr(d, ["www." + d], fresh=True)})
    assert st == 200, body
    publish_files(env, api.get(f"/ssl/orders/{oid}", headers=h)[1]["data"])  # the new key's files
    st, v = api.post(f"/ssl/orders/{oid}/validate", headers=h)
    assert st == 200, v
    org = v["data"]["organization"]
    assert org["status"] == "pending" and "older than 398 days" in org["reason"], org
    o2 = api.get(f"/ssl/orders/{oid}", headers=h)[1]["data"]
    assert o2["status"] == "ACT" and o2["certificate"] == first  # the current one stays
    kinds = [e["kind"] for e in api.get(f"/ssl/orders/{oid}/events")[1]["data"]["results"]]
    assert "organization_expired" in kinds
    assert oid in [p["order_id"] for p in staff.get("/staff/organizations", headers=h)[1]["data"]["results"]]
    st, body = staff.post(f"/staff/orders/{oid}/organization", json={"decision": "approve"}, headers=h)
    assert st == 200 and body["data"]["issued"] is True, body
    assert api.get(f"/ssl/orders/{oid}", headers=h)[1]["data"]["certificate"] != first


# ---- reissue, renewal, revocation -------------------------------------------------------------


def test_reissue_reuses_validation_and_keeps_the_old_certificate(env, rich):
    api = rich.client()
    d = dom()
    oid, o = issued(env, api, product=DV_MULTI, names=[d, "a." + d])
    first = o["certificate"]
    # a new key, the same names: issued at once, validations reused
    st, body = api.post(f"/ssl/orders/{oid}/reissue", json={"csr": pki.csr(d, ["a." + d], fresh=True)})
    assert st == 200, body
    o2 = api.get(f"/ssl/orders/{oid}")[1]["data"]
    assert o2["certificate"] != first and o2["status"] == "ACT"
    openssl_verify(env, o2)
    # a new name: it is validated first; meanwhile the current certificate stays
    st, body = api.post(f"/ssl/orders/{oid}/reissue",
                        json={"use_previous_csr": True, "host_names": ["a." + d, "b." + d],
                              "domain_validation_methods": [{"host_name": "b." + d, "method": "http"}]})
    assert st == 200, body
    o3 = api.get(f"/ssl/orders/{oid}")[1]["data"]
    assert o3["certificate"] == o2["certificate"] and o3["host_names"] == [d, "a." + d, "b." + d]
    v = api.get(f"/ssl/orders/{oid}/validation")[1]["data"]
    assert v["reissue_pending"] is True
    assert {n["host_name"]: n["state"] for n in v["names"]} == {d: "valid", "a." + d: "valid", "b." + d: "pending"}
    publish_files(env, o3)
    env.run_jobs()
    o4, cert = certificate(api, oid)
    assert cert.extensions.get_extension_for_oid(ExtensionOID.SUBJECT_ALTERNATIVE_NAME).value \
        .get_values_for_type(x509.DNSName) == [d, "a." + d, "b." + d]
    certs = api.get(f"/ssl/orders/{oid}/certificates")[1]["data"]["results"]
    assert len(certs) == 3 and [c["state"] for c in certs] == ["superseded", "superseded", "valid"]
    # reissue is for active orders only
    pai = api.post("/ssl/orders", json={"product_id": DV, "period": 1})[1]["data"]["id"]
    st, body = api.post(f"/ssl/orders/{pai}/reissue", json={"use_previous_csr": True})
    assert (st, body["code"]) == (409, 1006)


def test_revoke_and_crl(env, rich):
    api = rich.client()
    oid, o = issued(env, api)
    serial = int(api.get(f"/ssl/orders/{oid}/certificates")[1]["data"]["results"][0]["serial"], 16)
    st, body = api.post(f"/ssl/orders/{oid}/revoke", json={"reason": "key_compromise"})
    assert st == 200, body
    st, body = api.post(f"/ssl/orders/{oid}/revoke", json={"reason": "key_compromise"})
    assert (st, body["code"]) == (409, 1050)
    assert api.post(f"/ssl/orders/{oid}/revoke", json={"reason": "bored"})[0] == 400
    assert api.get(f"/ssl/orders/{oid}")[1]["data"]["certificate_revoked"] is True
    r = requests.get(env.httpd.url + "/pki/crl")
    assert r.status_code == 200 and r.headers["Content-Type"] == "application/pkix-crl"
    crl = x509.load_der_x509_crl(r.content)
    inter = x509.load_pem_x509_certificate(o["intermediate_certificate"].encode())
    assert crl.is_signature_valid(inter.public_key())
    entry = crl.get_revoked_certificate_by_serial_number(serial)
    assert entry is not None
    assert entry.extensions.get_extension_for_class(x509.CRLReason).value.reason == \
        x509.ReasonFlags.key_compromise
    assert ["revoked", str(oid), o["common_name"]] in env.httpd.messages()


def test_cancel_of_an_active_order_revokes(env, rich):
    api = rich.client()
    start = float(api.get("/me")[1]["data"]["team"]["balance"])
    oid, o = issued(env, api)
    serial = int(api.get(f"/ssl/orders/{oid}/certificates")[1]["data"]["results"][0]["serial"], 16)
    assert api.post(f"/ssl/orders/{oid}/cancel")[0] == 200
    assert api.get(f"/ssl/orders/{oid}")[1]["data"]["status"] == "FAI"
    assert float(api.get("/me")[1]["data"]["team"]["balance"]) == pytest.approx(start)  # refunded
    crl = x509.load_der_x509_crl(requests.get(env.httpd.url + "/pki/crl").content)
    entry = crl.get_revoked_certificate_by_serial_number(serial)
    assert entry.extensions.get_extension_for_class(x509.CRLReason).value.reason == \
        x509.ReasonFlags.cessation_of_operation


def test_subscription_renewal_expiry_and_reminders(env, rich):
    api = rich.client()
    tech = api.post("/customers", json=dict(CONTACT, email="tech@shop.example"))[1]["data"]["handle"]
    oid, o = issued(env, api, technical_handle=tech)

    def reminders():  # the jobs work on every order of the server: only this order's reminders
        return [m for m in env.httpd.mails() if o["common_name"] in str(m["Subject"])
                and ("expires in" in str(m["Subject"]) or "expired" in str(m["Subject"]))]

    def ts(text):
        return int(time.mktime(time.strptime(text, "%Y-%m-%d %H:%M:%S"))) - time.timezone
    end, exp = ts(o["order_ends_at"]), ts(o["expiration_date"])
    assert exp < end  # 200 days of a one-year order: a reissue comes before the expiry
    st, body = api.put(f"/ssl/orders/{oid}/reminders",
                       json={"days_before": [30, 7], "days_after": [5], "recipients": ["ops@shop.example"]})
    assert st == 200 and body["data"]["days_before"] == [30, 7] and body["data"]["days_after"] == [5]
    assert api.put(f"/ssl/orders/{oid}/reminders", json={"days_before": [0]})[0] == 400
    # the subscription reissues 30 days before each certificate expires until one covers the
    # order's end; from 2027 on the validations are older than the 100-day reuse period (the
    # names are checked again) and certificates last at most 100 days
    certs = [o["certificate"]]
    while exp < end - DAY:
        env.run_jobs(at=exp - 29 * DAY)
        o2 = api.get(f"/ssl/orders/{oid}")[1]["data"]
        assert o2["status"] == "ACT" and o2["certificate"] not in certs
        certs.append(o2["certificate"])
        assert ts(o2["expiration_date"]) > exp
        exp = ts(o2["expiration_date"])
        assert len(certs) < 6
    assert len(certs) >= 2 and exp <= end
    assert reminders() == []
    # renewal opens 30 days before the end
    st, body = api.post(f"/ssl/orders/{oid}/renew", headers={"X-SSLOrders-Clock": str(end - 40 * DAY)})
    assert (st, body["code"]) == (409, 1051)
    env.run_jobs(at=end - 31 * DAY)
    assert reminders() == []  # nothing due yet
    env.run_jobs(at=end - 29 * DAY)
    env.run_jobs(at=end - 29 * DAY)  # each reminder once
    mails = reminders()
    assert len(mails) == 1 and "expires in 30 days" in mails[0]["Subject"]
    assert set(a.strip() for a in mails[0]["To"].split(",")) == {"tech@shop.example", "ops@shop.example"}
    env.run_jobs(at=end - 6 * DAY)
    mails = reminders()
    assert len(mails) == 2 and "expires in 7 days" in mails[1]["Subject"]
    assert ["expiring", str(oid), o["common_name"]] in env.httpd.messages()
    # the order ends: EXP, and the reminder after the expiry
    env.run_jobs(at=end + 6 * DAY)
    o3 = api.get(f"/ssl/orders/{oid}")[1]["data"]
    assert o3["status"] == "EXP"
    mails = reminders()
    assert len(mails) == 3 and "expired 5 days ago" in mails[2]["Subject"]
    kinds = [e["kind"] for e in api.get(f"/ssl/orders/{oid}/events")[1]["data"]["results"]]
    assert "subscription_reissue" in kinds and "reissued" in kinds and "expired" in kinds


def test_renew_keeps_the_remaining_time(env, rich):
    api = rich.client()
    oid, o = issued(env, api)
    end = int(time.mktime(time.strptime(o["order_ends_at"], "%Y-%m-%d %H:%M:%S"))) - time.timezone
    before = float(api.get("/me")[1]["data"]["team"]["balance"])
    at = end - 10 * DAY
    env.run_jobs(at=o and (int(time.mktime(time.strptime(o["expiration_date"], "%Y-%m-%d %H:%M:%S")))
                          - time.timezone - 29 * DAY))  # the subscription reissue
    st, body = api.post(f"/ssl/orders/{oid}/renew", headers={"X-SSLOrders-Clock": str(at)})
    assert st == 200, body
    o2 = api.get(f"/ssl/orders/{oid}")[1]["data"]
    new_end = int(time.mktime(time.strptime(o2["order_ends_at"], "%Y-%m-%d %H:%M:%S"))) - time.timezone
    assert 364 * DAY <= new_end - end <= 366 * DAY  # one more year from the old end
    price = float(api.get("/ssl/products/1")[1]["data"]["prices"][0]["price"]["reseller"]["price"])
    assert float(api.get("/me")[1]["data"]["team"]["balance"]) == pytest.approx(before - price)
    # the validations are older than the reuse period then: the names are checked again
    env.run_jobs(at=at)
    o3 = api.get(f"/ssl/orders/{oid}")[1]["data"]
    assert o3["status"] == "ACT"
    kinds = [e["kind"] for e in api.get(f"/ssl/orders/{oid}/events")[1]["data"]["results"]]
    assert "renewed" in kinds and kinds[-1] == "reissued"


def test_autorenew_charges_or_reports(env):
    poor = env.new_team(balance="40", ttl=LONG)
    api = poor.client()
    oid, o = issued(env, api, autorenew="on")
    end = int(time.mktime(time.strptime(o["order_ends_at"], "%Y-%m-%d %H:%M:%S"))) - time.timezone
    # the jobs did not run for months: the first certificate (200 days) lapsed inside the
    # one-year order; it is reissued at once (the names checked again), back to ACT
    env.run_jobs(at=end - 20 * DAY)
    kinds = [e["kind"] for e in api.get(f"/ssl/orders/{oid}/events")[1]["data"]["results"]]
    assert kinds[-4:] == ["expired", "subscription_reissue", "name_validated", "name_validated"][-4:] \
        or kinds[-3:] == ["name_validated", "name_validated", "reissued"], kinds
    assert "expired" in kinds and kinds[-1] == "reissued", kinds
    assert api.get(f"/ssl/orders/{oid}")[1]["data"]["status"] == "ACT"
    env.run_jobs(at=end - 20 * DAY)
    kinds = [e["kind"] for e in api.get(f"/ssl/orders/{oid}/events")[1]["data"]["results"]]
    assert "autorenew_failed" in kinds  # 40 - 28.99 left: not enough
    assert ["autorenew_failed", str(oid), o["common_name"]] in env.httpd.messages()
    env.ctl("balance", "credit", poor.slug, "100")
    env.run_jobs(at=end - 19 * DAY)
    kinds = [e["kind"] for e in api.get(f"/ssl/orders/{oid}/events")[1]["data"]["results"]]
    assert "renewed" in kinds


# ---- the background job and several servers ---------------------------------------------------

def test_watchdog_issues_on_its_own(env, rich):
    h = Httpd(env.base, DB, env.db_params, name="wd-" + uuid.uuid4().hex[:6], dcv=env.dcv,
              extra="SSLOrdersJobInterval 1\n")
    h.ca_dir = env.httpd.ca_dir
    env.servers.append(h)
    try:
        h.start()
        api = rich.client(h)
        oid, o = order(api)
        publish_files(env, o)
        deadline = time.time() + 20
        while time.time() < deadline and api.get(f"/ssl/orders/{oid}")[1]["data"]["status"] != "ACT":
            time.sleep(0.5)
        assert api.get(f"/ssl/orders/{oid}")[1]["data"]["status"] == "ACT"
    finally:
        h.stop()
        env.servers.remove(h)
        h.new_log_lines()


def test_two_servers_never_issue_twice(env, rich):
    h = Httpd(env.base, DB, env.db_params, name="twin-" + uuid.uuid4().hex[:6], dcv=env.dcv)
    h.ca_dir = env.httpd.ca_dir
    env.servers.append(h)
    try:
        h.start()
        api_a = rich.client(env.httpd)
        api_b = rich.client(h)
        oids = []
        for _ in range(3):
            oid, o = order(api_a)
            publish_files(env, o)
            oids.append(oid)
        results = []

        def hammer(api, oid):
            for _ in range(4):
                results.append(api.post(f"/ssl/orders/{oid}/validate")[0])

        threads = [threading.Thread(target=hammer, args=(a, oid)) for oid in oids
                   for a in (api_a, api_b, api_a, api_b)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert all(st in (200, 409) for st in results), results
        for oid in oids:
            certs = api_a.get(f"/ssl/orders/{oid}/certificates")[1]["data"]["results"]
            assert len(certs) == 1, certs
            kinds = [e["kind"] for e in api_a.get(f"/ssl/orders/{oid}/events")[1]["data"]["results"]]
            assert kinds.count("issued") == 1
    finally:
        h.stop()
        env.servers.remove(h)
        h.new_log_lines()


@pytest.mark.parametrize("method", ["http", "dns"])
def test_a_server_stopping_during_a_background_pass_ends_it_cleanly(env, rich, method):
    """A child stops while its background pass waits on a web site (http) or a DNS server
    (dns) that does not answer: the probe ends within a second, the pass lets its database
    connection go before mod_dbd's pool does (apr_reslist aborted the child with SIGABRT
    here), and the stopped probe does not count as a failed check of the name."""
    import socket
    if method == "http":
        hang = socket.socket()
        hang.bind(("127.0.0.1", 0))
        hang.listen(16)
    else:
        hang = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        hang.bind(("127.0.0.1", 0))
    held, asked = [], threading.Event()

    def listen():
        while True:
            try:
                if method == "http":
                    held.append(hang.accept()[0])  # read nothing, answer nothing
                else:
                    hang.recvfrom(4096)  # a query, never answered
            except OSError:
                return
            asked.set()

    threading.Thread(target=listen, daemon=True).start()
    port = hang.getsockname()[1]
    web = port if method == "http" else env.dcv.http_port
    dns = port if method == "dns" else env.dcv.dns_port
    h = Httpd(env.base, DB, env.db_params, name="stop-" + uuid.uuid4().hex[:6], dcv=None,
              extra=f"SSLOrdersDCVConnectTo *:80 127.0.0.1:{web}\n"
                    f"SSLOrdersDCVConnectTo *:443 127.0.0.1:{web}\n"
                    f"SSLOrdersDCVNameserver 127.0.0.1:{dns}\n"
                    "SSLOrdersJobInterval 1\n")
    h.ca_dir = env.httpd.ca_dir
    env.servers.append(h)
    try:
        api = rich.client()
        oid, _ = order(api, method=method)
        h.start()
        assert asked.wait(30), "the background pass did not probe"
        t0 = time.time()
        h.stop()
        took = time.time() - t0
        lines = h.new_log_lines()
        bad = [l for l in lines if re.search(r"exit signal|Assertion .* failed|SIGKILL|SO00974", l)]
        assert not bad, "\n".join(bad)
        assert took < 8, f"the stop took {took:.1f} s"
        kinds = [e["kind"] for e in api.get(f"/ssl/orders/{oid}/events")[1]["data"]["results"]]
        assert "validation_failed" not in kinds, kinds
        names = validate_state(api, oid)
        assert all("stopped" not in n["last_error"] for n in names), names
    finally:
        h.stop()
        env.servers.remove(h)
        h.new_log_lines()
        hang.close()
        for c in held:
            c.close()


def validate_state(api, oid):
    st, body = api.get(f"/ssl/orders/{oid}/validation")
    assert st == 200, body
    return body["data"]["names"]


# ---- access -----------------------------------------------------------------------------

def test_issuance_endpoints_are_team_scoped(env, rich):
    api = rich.client()
    oid, o = issued(env, api)
    other = env.new_team().client()
    for method, path, body in (("GET", f"/ssl/orders/{oid}/validation", None),
                               ("POST", f"/ssl/orders/{oid}/validate", None),
                               ("GET", f"/ssl/orders/{oid}/certificates", None),
                               ("POST", f"/ssl/orders/{oid}/revoke", {}),
                               ("GET", f"/ssl/orders/{oid}/reminders", None),
                               ("PUT", f"/ssl/orders/{oid}/reminders", {"enabled": False}),
                               ("POST", f"/ssl/orders/{oid}/reissue", {"use_previous_csr": True}),
                               ("POST", f"/ssl/orders/{oid}/renew", None)):
        st, ans = other.call(method, path, json=body)
        assert (st, ans["code"]) == (404, 103), path
    viewer = rich.add_member("viewer").client()
    assert viewer.get(f"/ssl/orders/{oid}/certificates")[0] == 200
    assert viewer.post(f"/ssl/orders/{oid}/revoke", json={})[1]["code"] == 108
    st, body = api.post("/staff/jobs/run")
    assert (st, body["code"]) == (403, 108)


def test_a_long_list_of_issued_orders(env):
    """A list page of 100 issued orders carries each order's certificate (their ids are
    bound in batches: a statement takes at most 64 placeholders)."""
    team = env.new_team(balance="10000")
    api = team.client()
    oid, o = issued(env, api)
    others = [api.post("/ssl/orders", json={"product_id": DV, "period": 1})[1]["data"]["id"]
              for _ in range(80)]
    now = int(time.time())
    env.sql(f"UPDATE orders SET status = 'ACT', active_date = {now}, expiration_date = {now + 86400} "
            f"WHERE id IN ({', '.join(map(str, others))})")
    st, body = api.get("/ssl/orders", params={"limit": 100})
    assert st == 200, body
    rows = {r["id"]: r for r in body["data"]["results"]}
    assert len(rows) == 81 and body["data"]["total"] == 81
    assert rows[oid]["certificate"] == o["certificate"] and rows[oid]["certificate_serial"]
    assert all(rows[i]["certificate"] == "" for i in others)


def test_list_pages_follow_every_change(env):
    """Each process keeps order list pages by team version (SSLOrdersListCache): a page
    asked again is served from memory, and a change of anything a page shows, by the API,
    the CA, sslordersctl or plain SQL, in any table the page draws from, shows at once.
    (On PostgreSQL the token lookups, with the list version, are cached too
    (SSLOrdersAuthCache, on by default there): a plain SQL writer sends NOTIFY
    sslorders_auth, as the README tells operators, and its change shows in the
    milliseconds the notification takes.)"""
    team = env.new_team(balance="10000")
    api = team.client()
    tid = env.sql(f"SELECT id FROM teams WHERE slug = '{team.slug}'").strip()

    def page(**params):
        st, body = api.get("/ssl/orders", params=params or None)
        assert st == 200, body
        return {r["id"]: r for r in body["data"]["results"]}, body["data"]["total"]

    def sql_writer(sql):
        env.sql(sql + (";\nNOTIFY sslorders_auth" if DB == "pgsql" else ""))

    def soon(check):
        """at once on SQLite; within the notification's travel on PostgreSQL"""
        deadline = time.time() + (2 if DB == "pgsql" else 0)
        while not check():
            assert time.time() < deadline, "the change did not show"
            time.sleep(0.02)

    pai = api.post("/ssl/orders", json={"product_id": DV, "period": 1})[1]["data"]["id"]
    rows, total = page()
    assert total == 1 and rows[pai]["status"] == "PAI"
    assert page() == (rows, total)
    # a new order, validated (names, status) and issued (certificates)
    oid, o = issued(env, api)
    rows, total = page()
    assert total == 2 and rows[oid]["status"] == "ACT"
    assert rows[oid]["host_names"] == o["host_names"] and rows[oid]["certificate"] == o["certificate"]
    assert page(status="ACT")[0].keys() == {oid}
    # orders through the API
    assert api.put(f"/ssl/orders/{oid}", json={"autorenew": "on"})[0] == 200
    assert page()[0][oid]["autorenew"] == "on"
    assert api.post(f"/ssl/orders/{pai}/cancel")[0] == 200
    assert page()[0][pai]["status"] == "FAI" and page(status="PAI")[1] == 0
    # tags and their names
    assert api.post(f"/ssl/orders/{oid}/tags", json={"tags": ["prod"]})[0] == 200
    assert page()[0][oid]["tags"] == ["prod"]
    tag = api.get("/tags")[1]["data"]["results"][0]["id"]
    assert api.put(f"/tags/{tag}", json={"name": "live"})[0] == 200
    assert page()[0][oid]["tags"] == ["live"]
    assert page(tag="live")[0].keys() == {oid}
    # folders: a move, a rename
    web = api.post("/folders", json={"name": "Web"})[1]["data"]["id"]
    assert api.post(f"/folders/{web}/orders", json={"order_ids": [oid]})[0] == 200
    assert (page()[0][oid]["folder_id"], page()[0][oid]["folder_name"]) == (web, "Web")
    assert api.put(f"/folders/{web}", json={"name": "Web servers"})[0] == 200
    assert page()[0][oid]["folder_name"] == "Web servers"
    assert page(folder_id=web)[0].keys() == {oid}
    # the certificate revoked
    assert api.post(f"/ssl/orders/{oid}/revoke", json={"reason": "superseded"})[0] == 200
    assert page()[0][oid]["certificate_revoked"] is True
    # another writer: plain SQL on the order, and on the catalogue (every team's)
    sql_writer(f"UPDATE orders SET organization_unit = 'Ops' WHERE id = {oid}")
    soon(lambda: page()[0][oid]["organization_unit"] == "Ops")
    name = env.sql(f"SELECT name FROM products WHERE id = {DV}").strip()
    sql_writer(f"UPDATE products SET name = 'Renamed DV' WHERE id = {DV}")
    try:
        soon(lambda: page()[0][oid]["product_name"] == "Renamed DV")
    finally:
        sql_writer(f"UPDATE products SET name = '{name}' WHERE id = {DV}")
    soon(lambda: page()[0][oid]["product_name"] == name)
    # another team's change leaves this team's pages alone, and ours theirs
    other = env.new_team(balance="100").client()
    other.post("/ssl/orders", json={"product_id": DV, "period": 1})
    assert page()[1] == 2 and other.get("/ssl/orders")[1]["data"]["total"] == 1
    # the page really comes from memory: a change the version does not see stays
    # unseen (this connection stays with one process) until the version moves
    if DB == "sqlite3":
        trigger = env.sql("SELECT sql FROM sqlite_master WHERE name = 'orders_version_UPDATE'")
        drop = "DROP TRIGGER orders_version_UPDATE"
        bump = f"UPDATE team_versions SET version = version + 1 WHERE team_id = {tid}"
    else:
        trigger = env.sql("SELECT pg_get_triggerdef(oid) FROM pg_trigger "
                          "WHERE tgname = 'orders_changes_update'")
        drop = "DROP TRIGGER orders_changes_update ON orders"
        bump = f"INSERT INTO team_change_log (team_id) VALUES ({tid})"
    assert trigger.startswith("CREATE TRIGGER")
    before = page()
    env.sql(drop)
    try:
        sql_writer(f"UPDATE orders SET organization_unit = 'Unseen' WHERE id = {oid}")
        time.sleep(0.2 if DB == "pgsql" else 0)  # (the notification arrived: it changed nothing)
        assert page() == before
        sql_writer(bump)
        soon(lambda: page()[0][oid]["organization_unit"] == "Unseen")
    finally:
        env.sql(trigger)
    # the background job folds PostgreSQL's change log: the version stays, the log empties
    version = f"SELECT COALESCE(SUM(version), 0) FROM team_list_versions WHERE team_id IN (0, {tid})"
    v = env.sql(version).strip()
    env.run_jobs()
    assert env.sql(version).strip() == v
    if DB == "pgsql":
        assert env.sql(f"SELECT COUNT(*) FROM team_change_log WHERE team_id = {tid}").strip() == "0"
        assert env.sql(f"SELECT SUM(changes) FROM team_change_base WHERE team_id IN (0, {tid})"
                       ).strip() == v
        # a fold that moved many rows vacuums the log (their dead index entries slowed every
        # version read until autovacuum came by): 1,500 changes at once, as a busy second
        # of order creation leaves them
        vacuums = "SELECT vacuum_count FROM pg_stat_user_tables WHERE relname = 'team_change_log'"
        n0 = int(env.sql(vacuums).strip())
        env.sql(f"INSERT INTO team_change_log (team_id) SELECT {tid} FROM generate_series(1, 1500)")
        env.run_jobs()
        assert env.sql(version).strip() == str(int(v) + 1500)
        assert env.sql(f"SELECT COUNT(*) FROM team_change_log WHERE team_id = {tid}").strip() == "0"
        deadline = time.time() + 10
        while int(env.sql(vacuums).strip()) == n0 and time.time() < deadline:
            time.sleep(0.2)
        assert int(env.sql(vacuums).strip()) > n0
        v = env.sql(version).strip()
    env.sql(f"UPDATE orders SET organization_unit = 'Seen' WHERE id = {oid}")
    assert page()[0][oid]["organization_unit"] == "Seen"


def test_list_pages_across_two_servers(env):
    """Two servers on one database: a change made through one shows in the pages the other
    keeps (at once on SQLite, within the notification's milliseconds on PostgreSQL); a
    server with SSLOrdersListCache off builds every page."""
    team = env.new_team(balance="1000")
    h = Httpd(env.base, DB, env.db_params, name="lists-" + uuid.uuid4().hex[:6], dcv=env.dcv,
              extra="SSLOrdersListCache off\n")
    h.ca_dir = env.httpd.ca_dir
    env.servers.append(h)
    if DB == "sqlite3":
        trigger = env.sql("SELECT sql FROM sqlite_master WHERE name = 'orders_version_UPDATE'")
        drop = "DROP TRIGGER orders_version_UPDATE"
    else:
        trigger = env.sql("SELECT pg_get_triggerdef(oid) FROM pg_trigger "
                          "WHERE tgname = 'orders_changes_update'")
        drop = "DROP TRIGGER orders_changes_update ON orders"
    try:
        h.start()
        cached, uncached = team.client(env.httpd), team.client(h)
        oid = cached.post("/ssl/orders", json={"product_id": DV, "period": 1})[1]["data"]["id"]

        def first(api, field):
            st, body = api.get("/ssl/orders")
            assert st == 200, body
            return body["data"]["results"][0][field]

        def soon(api, field, want, limit=3.0):
            """what api's first order shows once it shows want, or after limit seconds. On
            PostgreSQL a change through the other server reaches this one's token cache (which
            holds the list version) by a notification the other server's listener thread
            sends after the commit, in its own transaction (docs/operations.md): milliseconds,
            more on a loaded machine (a CI run read the old page right after the PUT)."""
            start = time.time()
            while True:
                got = first(api, field)
                if got == want or time.time() - start > limit:
                    return got
                time.sleep(0.02)

        assert first(cached, "autorenew") == first(uncached, "autorenew") == "off"
        assert uncached.put(f"/ssl/orders/{oid}", json={"autorenew": "on"})[0] == 200
        assert soon(cached, "autorenew", "on") == "on"
        assert cached.put(f"/ssl/orders/{oid}", json={"autorenew": "off"})[0] == 200
        assert first(uncached, "autorenew") == "off" and first(cached, "autorenew") == "off"
        # a change no version sees: the cached page stays, the other server reads the rows
        env.sql(drop)
        try:
            env.sql(f"UPDATE orders SET organization_unit = 'Unseen' WHERE id = {oid}")
            assert first(cached, "organization_unit") == ""
            assert first(uncached, "organization_unit") == "Unseen"
        finally:
            env.sql(trigger)
    finally:
        h.stop()
        env.servers.remove(h)
        h.new_log_lines()


def test_a_ca_created_with_the_key_types_asked(env, rich):
    """SSLOrdersCAKey ec-p384 ec-p256: a CA created on the server's first start has a P-384
    root and a P-256 issuing intermediate; its certificates are signed with
    ecdsa-with-SHA256, verify to its root, pass the profile linter (issued), and the
    directive changes nothing of a CA that exists (the second start keeps the keys).
    sslordersctl ca init --key/--issuing-key creates the same, and refuses a type it does
    not know."""
    import subprocess
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    h = Httpd(env.base, DB, env.db_params, name="cakey-" + uuid.uuid4().hex[:6], dcv=env.dcv,
              extra="SSLOrdersCAKey ec-p384 ec-p256\n")
    env.servers.append(h)
    try:
        h.start()
        oid, o = issued(env, rich.client(h))
        inter = x509.load_pem_x509_certificate(o["intermediate_certificate"].encode())
        root = x509.load_pem_x509_certificate(o["root_certificate"].encode())
        leaf = x509.load_pem_x509_certificate(o["certificate"].encode())
        assert inter.public_key().curve.name == "secp256r1"
        assert root.public_key().curve.name == "secp384r1"
        assert leaf.signature_algorithm_oid._name == "ecdsa-with-SHA256"
        assert inter.signature_algorithm_oid._name == "ecdsa-with-SHA384"
        openssl_verify(env, o)
        key = open(f"{h.ca_dir}/intermediate.key").read()
        h.stop()
        h.extra = h.extra.replace("ec-p384 ec-p256", "rsa-2048")
        h.start()
        assert open(f"{h.ca_dir}/intermediate.key").read() == key
        oid2, o2 = issued(env, rich.client(h))
        assert o2["intermediate_certificate"] == o["intermediate_certificate"]
    finally:
        h.stop()
        env.servers.remove(h)
        h.new_log_lines()
    d = os.path.join(env.base, "ca-" + uuid.uuid4().hex[:6])
    r = env.ctl("ca", "init", d, "--key", "rsa-2048", "--issuing-key", "ec-p256")
    assert "created a CA" in r.stdout
    with open(os.path.join(d, "root.crt"), "rb") as f:
        assert isinstance(x509.load_pem_x509_certificate(f.read()).public_key(), rsa.RSAPublicKey)
    with open(os.path.join(d, "intermediate.crt"), "rb") as f:
        assert isinstance(x509.load_pem_x509_certificate(f.read()).public_key().curve,
                          ec.SECP256R1)
    bad = env.ctl("ca", "init", d + "-bad", "--key", "rsa-1024", check=False)
    assert bad.returncode == 2 and "expects ec-p256" in bad.stderr
    assert not os.path.exists(d + "-bad")
    assert subprocess.run(["openssl", "verify", "-CAfile", os.path.join(d, "root.crt"),
                           os.path.join(d, "intermediate.crt")]).returncode == 0
