"""Process-wide settings only behind their directives (SSLOrdersSQLiteMultithread,
SSLOrdersMallocMmapThreshold, SSLOrdersSQLiteSynchronous): off by default, logged when applied,
refused with a clear message when malformed or not in the main server."""
import time

import pytest

import harness
from harness import DB, Client, Httpd


def server(env, name, extra):
    stamp = "%d" % int(time.time() * 1000)
    params = env.db_params
    h = Httpd(env.base, DB, params, name=f"{name}-{stamp}", extra=extra, dcv=env.dcv)
    return h


def test_sqlite_mode_is_left_alone_by_default(env, team):
    assert Client(env.httpd.api, team.token).get("/me")[0] == 200
    assert "SO00750" not in env.httpd.read_log()


def test_sqlite_multithread_on_request(env, team):
    h = server(env, "sqlite-mt", "SSLOrdersSQLiteMultithread on")
    env.servers.append(h)
    try:
        h.start()
        st, body = Client(h.api, team.token).get("/me")
        assert st == 200 and body["data"]["team"]["slug"] == team.slug
        assert "SO00750: SQLite runs in multi-thread mode" in h.read_log()
    finally:
        h.stop()
        env.servers.remove(h)


def test_sqlite_synchronous_full_by_default(env, team):
    assert Client(env.httpd.api, team.token).get("/me")[0] == 200
    assert "SO00970" not in env.httpd.read_log()


@pytest.mark.skipif(DB != "sqlite3", reason="a setting of SQLite connections")
def test_sqlite_synchronous_normal_on_request(env, team):
    h = server(env, "sqlite-sync", "SSLOrdersSQLiteSynchronous normal")
    env.servers.append(h)
    try:
        h.start()
        c = Client(h.api, team.token)
        st, body = c.post("/folders", json={"name": "synchronous normal"})
        assert st in (200, 201), body
        st, body = c.get("/folders")
        assert st == 200 and "synchronous normal" in str(body)
        # what SQLite took, read back from the connection: 1 is NORMAL
        assert "synchronous = 1 (1 normal, 2 full" in h.read_log()
    finally:
        h.stop()
        env.servers.remove(h)


@pytest.mark.parametrize("extra,says", [
    ("SSLOrdersSQLiteSynchronous off", "expects full or normal"),
    ("<VirtualHost 127.0.0.1:1>\nSSLOrdersSQLiteSynchronous normal\n</VirtualHost>",
     "cannot occur within"),
    ("SSLOrdersMallocMmapThreshold 12", "expects off or bytes from 4096"),
    ("SSLOrdersSQLiteMultithread maybe", "SSLOrdersSQLiteMultithread"),
    ("<VirtualHost 127.0.0.1:1>\nSSLOrdersSQLiteMultithread on\n</VirtualHost>",
     "cannot occur within"),
    ("<VirtualHost 127.0.0.1:1>\nSSLOrdersMallocMmapThreshold 1048576\n</VirtualHost>",
     "cannot occur within"),
])
def test_process_directives_refuse_bad_use(env, extra, says):
    if harness.ASAN and "SSLOrdersMallocMmapThreshold" in extra:
        pytest.skip("the ASan build's configuration leaves SSLOrdersMallocMmapThreshold out "
                    "(ASan's allocator refuses mallopt)")
    h = server(env, "bad-process", extra)
    with pytest.raises(RuntimeError) as e:
        h.start()
    assert says in str(e.value)
