"""ACME finalization under concurrency: many accounts finalizing at once (each its own
order, and several accounts of one order) on one server; every ACME order must reach
`valid` with its certificate, none may stay `processing`. Waits are bounded, never timed."""
import concurrent.futures
import json
import os
import socket
import subprocess
import time

from cryptography import x509
from cryptography.hazmat.primitives import serialization

import issuing
from acme_client import Acme, Key, Problem, b64, csr_der
from issuing import LONG

WORKERS = 16
ROUNDS = 3
POLLS = 300          # a finalized order is polled at most this many times (Retry-After honoured, capped)


def directory(env):
    return env.httpd.url + "/acme/directory"


def eab(api, oid):
    st, body = api.post("/acme/eab", json={"order_id": oid, "description": "concurrency"})
    assert st == 200, body
    return body["data"]


def account(env, api, oid):
    e = eab(api, oid)
    c = Acme(directory(env), Key("ES256"))
    c.register(e["kid"], e["hmac_key"])
    return c


def post(c, url, payload):
    """A POST; a badNonce (RFC 8555 6.5: the client retries with the fresh nonce) is retried."""
    for attempt in range(5):
        try:
            return c.post(url, payload)
        except Problem as p:
            if p.type != "badNonce" or attempt == 4:
                raise
    raise AssertionError("unreachable")


def same_key(chain, key):
    """The chain's leaf certifies key (the CSR's)."""
    leaf = x509.load_pem_x509_certificate(chain.encode())
    spki = serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    return leaf.public_key().public_bytes(*spki) == key.public_key().public_bytes(*spki)


def poll(c, url, r, polls=POLLS):
    order = r.json()
    for _ in range(polls):
        if order["status"] != "processing":
            break
        time.sleep(min(float(r.headers.get("Retry-After", "1")), 0.2))
        r = post(c, url, None)
        order = r.json()
    return order


def issue(c, names):
    """newOrder -> (reused, valid) authorizations -> finalize -> poll -> certificate.
    Returns the order's last state, the chain (or None) and the CSR's key."""
    r = post(c, c.d["newOrder"], {"identifiers": [{"type": "dns", "value": n} for n in names]})
    url, order = r.headers["Location"], r.json()
    for az in order["authorizations"]:
        assert post(c, az, None).json()["status"] == "valid"
    if order["status"] != "ready":
        order = post(c, url, None).json()
    assert order["status"] == "ready", order
    der, key = csr_der(names)
    order = poll(c, url, post(c, order["finalize"], {"csr": b64(der)}))
    if order["status"] != "valid":
        return order, None, key
    return order, post(c, order["certificate"], None).text, key


def run_all(jobs):
    """jobs: (client, names) pairs, each run ROUNDS times in its own thread."""
    def worker(job):
        c, names = job
        out = []
        for _ in range(ROUNDS):
            out.append(issue(c, names))
        return out
    with concurrent.futures.ThreadPoolExecutor(len(jobs)) as ex:
        return [r for rs in ex.map(worker, jobs) for r in rs]


def check(results):
    """Every order valid, with a certificate of its own CSR's key (never another's)."""
    stuck = [o for o, chain, key in results if o["status"] != "valid"]
    assert not stuck, json.dumps(stuck[:3])
    for o, chain, key in results:
        assert chain and chain.count("BEGIN CERTIFICATE") == 2, (o, chain)
        assert same_key(chain, key), o
    assert len({o["certificate"] for o, chain, key in results}) == len(results)


def test_concurrent_finalize_own_orders(env):
    """WORKERS accounts, each bound to its own issued order, finalize ROUNDS times at once:
    every finalization is a reissue of its order and every order ends valid."""
    team = env.new_team(balance="100000", ttl=LONG)
    api = team.client()
    jobs = []
    for _ in range(WORKERS):
        oid, o = issuing.issued(env, api)
        jobs.append((account(env, api, oid), o["host_names"]))
    check(run_all(jobs))


def test_concurrent_finalize_one_order(env):
    """Several accounts bound to ONE order finalize at the same time: the order's claim is
    contended, yet every ACME order is issued (in turn) and ends valid."""
    team = env.new_team(balance="100000", ttl=LONG)
    api = team.client()
    oid, o = issuing.issued(env, api)
    jobs = [(account(env, api, oid), o["host_names"]) for _ in range(8)]
    results = run_all(jobs)
    check(results)
    # every ACME issuance is a certificate in the order's history
    st, body = api.get(f"/ssl/orders/{oid}/certificates")
    assert st == 200, body
    assert len(body["data"]["results"]) >= 1 + 8 * ROUNDS


def finalized_while_busy(env, owner="elsewhere:1:f00d", expect="processing"):
    """An ACME order of an issued SSL order, finalized while another worker (owner) holds
    the SSL order (its claim, until released by hand): it answers processing with
    Retry-After. Returns the team's API client, the SSL order, the ACME client, the ACME
    order's URL and the CSR's key."""
    team = env.new_team(balance="100000", ttl=LONG)
    api = team.client()
    oid, o = issuing.issued(env, api)
    c = account(env, api, oid)
    names = o["host_names"]
    r = post(c, c.d["newOrder"], {"identifiers": [{"type": "dns", "value": n} for n in names]})
    url, order = r.headers["Location"], r.json()
    assert order["status"] == "ready", order
    env.sql(f"UPDATE orders SET claim_owner = '{owner}', claim_until = {int(time.time()) + 3600} "
            f"WHERE id = {oid}")
    der, key = csr_der(names)
    r = post(c, order["finalize"], {"csr": b64(der)})
    assert r.json()["status"] == expect, r.json()
    assert expect != "processing" or r.headers.get("Retry-After")
    return api, oid, c, url, key


def test_a_claim_whose_process_is_gone_is_taken_over(env):
    """The SSL order is claimed by a process of this host that no longer runs (it died
    mid-issuance: kill -9, a crash): the finalize takes the claim over and issues at once,
    where it used to wait until the claim ran out (5 minutes). A live process of this host
    keeps its claim (the order stays processing)."""
    env.expect_log(r"SO00703")
    host = socket.gethostname()
    gone = subprocess.Popen(["true"])
    gone.wait()
    api, oid, c, url, key = finalized_while_busy(env, f"{host}:{gone.pid}:dead", "valid")
    order = post(c, url, None).json()
    assert order["status"] == "valid", order
    assert same_key(post(c, order["certificate"], None).text, key)
    assert env.sql(f"SELECT claim_owner FROM orders WHERE id = {oid}").strip() == ""
    # the server says what it did
    assert f"claimed by {host}:{gone.pid}:dead, which is gone" in env.httpd.read_log()
    # a live process of this host (this test's own): waited for
    live = f"{host}:{os.getpid()}:live"
    api, oid, c, url, key = finalized_while_busy(env, live)
    assert post(c, url, None).json()["status"] == "processing"
    assert env.sql(f"SELECT claim_owner FROM orders WHERE id = {oid}").strip() == live


def test_finalize_of_a_busy_order_is_retried(env):
    """The SSL order is held by another worker (its claim) when the ACME order is
    finalized: the ACME order answers processing (Retry-After) and a later poll, once the
    claim is released, issues it (before: it stayed processing until the background job
    ran)."""
    api, oid, c, url, key = finalized_while_busy(env)
    # held: still processing, however often it is polled
    for _ in range(3):
        assert post(c, url, None).json()["status"] == "processing"
    env.sql(f"UPDATE orders SET claim_owner = '', claim_until = 0 WHERE id = {oid}")
    order = poll(c, url, post(c, url, None))
    assert order["status"] == "valid", order
    chain = post(c, order["certificate"], None).text
    assert same_key(chain, key)
    # the order's current certificate is this one
    cur = api.get(f"/ssl/orders/{oid}")[1]["data"]["certificate"]
    assert cur.strip() in chain


def test_a_finalized_order_its_client_left_is_issued_by_the_job(env):
    """The SSL order is busy when the ACME order is finalized, and the client never polls
    again: the background job issues it once its client has had 10 s to poll, exactly
    once, with the account URL kept at finalize; the client finds it valid later."""
    api, oid, c, url, key = finalized_while_busy(env)
    acme_id = int(url.rsplit("/", 1)[1])
    kept = env.sql(f"SELECT account_url, finalized_at FROM acme_orders WHERE id = {acme_id}").strip()
    assert kept.split("|")[0] == c.kid, kept
    assert abs(int(kept.split("|")[1]) - time.time()) < 120, kept
    certs = api.get(f"/ssl/orders/{oid}/certificates")[1]["data"]["total"]

    def acme_status():
        return env.sql(f"SELECT status FROM acme_orders WHERE id = {acme_id}").strip()

    # still held: the job leaves it processing
    env.run_jobs(at=time.time() + 60)
    assert acme_status() == "processing"
    env.sql(f"UPDATE orders SET claim_owner = '', claim_until = 0 WHERE id = {oid}")
    # released, but finalized just now: its client is expected to poll first
    env.run_jobs()
    assert acme_status() == "processing"
    # the client is gone: the job issues it, once
    assert env.run_jobs(at=time.time() + 60) >= 1
    assert acme_status() == "valid"
    env.run_jobs(at=time.time() + 120)
    assert api.get(f"/ssl/orders/{oid}/certificates")[1]["data"]["total"] == certs + 1
    # the client comes back: valid, with the certificate of its CSR's key
    order = post(c, url, None).json()
    assert order["status"] == "valid", order
    chain = post(c, order["certificate"], None).text
    assert same_key(chain, key)
    assert api.get(f"/ssl/orders/{oid}")[1]["data"]["certificate"].strip() in chain
