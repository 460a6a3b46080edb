"""Counts the SQL statements of one ACME issuance (the bench's flow: newOrder -> authz, valid
and reused -> finalize -> poll if needed -> certificate download) on PostgreSQL: the
statement log (log_statement = all) of N sequential issuances of one account after a
warm-up, grouped by the statement's first words, with the writes and the commits (on
SQLite with SSLOrdersSQLiteSynchronous full, the default, each commit is a sync of the WAL
and takes the database's one write lock). Not part of `make bench`; run by hand:

  SO_DB=pgsql BUILD=$PWD/build python3 tests/bench/acme_sqlcount.py [N]
"""
import collections
import os
import re
import sys

import requests

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
os.environ["SO_DB"] = "pgsql"

import harness  # noqa: E402
import acme_clients as ac  # noqa: E402
import acme_load  # noqa: E402
import issuing  # noqa: E402


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    env = harness.Env()
    env.httpd.log_level = "error"
    env.httpd.sinks = False
    tls = ac.TlsPki(os.path.join(env.base, "tls"))
    port = harness.free_port()
    env.httpd.extra += ac.acme_server_conf(port, tls)
    try:
        env.start()
        team = env.new_team(balance="1000000")
        api = team.client()
        oid, o = issuing.issued(env, api)
        st, body = api.post("/acme/eab", json={"order_id": oid, "description": "sqlcount"})
        assert st == 200, body
        eab = (body["data"]["kid"], body["data"]["hmac_key"])
        acct = acme_load.Account(f"https://localhost:{port}/acme/directory", tls.ca)
        acct.register(eab)
        csr = acme_load.make_csr(o["host_names"])
        acct.issue(o["host_names"], csr)          # warm-up
        log = os.path.join(env.pg.dir, "pg.log")
        env.pg.psql("ALTER SYSTEM SET log_statement = 'all'")
        env.pg.psql("SELECT pg_reload_conf()")
        def deferred():
            """changes sent with a later statement and reads sent ahead with an earlier one"""
            text = requests.get(env.httpd.url + "/metrics", timeout=10).text
            m = re.search(r"^sslorders_db_deferred_total (\S+)$", text, re.M)
            a = re.search(r'^sslorders_db_read_ahead_total\{what="sent"\} (\S+)$', text, re.M)
            # (a build before them: none)
            return (float(m.group(1)) if m else 0.0) + (float(a.group(1)) if a else 0.0)

        deferred0 = deferred()
        env.pg.psql("SELECT 'sqlcount-start'")
        acct.requests = 0
        for _ in range(n):
            acct.issue(o["host_names"], csr)
        env.pg.psql("SELECT 'sqlcount-end'")
        deferred1 = deferred()
        env.pg.psql("ALTER SYSTEM SET log_statement = 'none'")
        env.pg.psql("SELECT pg_reload_conf()")
        text = open(log, encoding="utf-8", errors="replace").read()
        text = text[text.index("sqlcount-start"):text.index("sqlcount-end")]
        if os.environ.get("SQLCOUNT_LOG"):
            with open(os.environ["SQLCOUNT_LOG"], "w", encoding="utf-8") as f:
                f.write(text)
        stmts = re.findall(r"\[(\d+)\] LOG:  (statement|execute [^:]*): (.*)", text)
        kinds, writes, commits, in_trans = collections.Counter(), 0, 0, set()
        piggyback = 0  # a BEGIN or COMMIT sent in the round trip of a statement (pipeline)
        for pid, how, s in stmts:
            s = re.sub(r"^PREPARE \S+ \([^)]*\) AS ", "", s.strip())
            m = re.match(r"(INSERT INTO \w+|UPDATE \w+|DELETE FROM \w+|SELECT|WITH|BEGIN|COMMIT|"
                         r"ROLLBACK|SET|\w+)", s)
            verb = m.group(1) if m else s[:40]
            label = how[8:] if how.startswith("execute ") and how != "execute <unnamed>" else ""
            piggyback += how == "execute <unnamed>" and verb in ("BEGIN", "COMMIT")
            kinds[f"{verb} {label}".strip()[:90]] += 1
            write = verb.startswith(("INSERT", "UPDATE", "DELETE"))
            writes += write
            # a commit: COMMIT, or a write outside a transaction (autocommit)
            if verb == "BEGIN":
                in_trans.add(pid)
            elif verb in ("COMMIT", "ROLLBACK"):
                in_trans.discard(pid)
                commits += verb == "COMMIT"
            elif write and pid not in in_trans:
                commits += 1
        total = sum(kinds.values())
        print(f"{n} issuances, {acct.requests} requests: {total} statements, "
              f"{total / n:.1f} per issuance, {writes / n:.1f} writes (INSERT/UPDATE/DELETE), "
              f"{commits / n:.1f} commits (COMMIT or a write outside a transaction)")
        trips = total - piggyback - (deferred1 - deferred0)
        print(f"round trips to the database: {trips / n:.1f} per issuance (the statements less "
              f"{piggyback / n:.1f} BEGIN/COMMIT sent with a statement and "
              f"{(deferred1 - deferred0) / n:.1f} changes sent with the next statement and "
              f"reads sent with the one before, sslorders_db_deferred_total and "
              f"sslorders_db_read_ahead_total{{what=\"sent\"}})")
        for k, c in kinds.most_common():
            print(f"  {c / n:6.1f}  {k}")
    finally:
        env.close()


if __name__ == "__main__":
    main()
