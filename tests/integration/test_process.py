"""Process-wide settings only behind their directives (SSLOrdersSQLiteMultithread,
SSLOrdersMallocMmapThreshold, SSLOrdersSQLiteSynchronous, SSLOrdersSQLiteMmap): off by
default, logged when applied, refused with a clear message when malformed or not in the main
server."""
import os
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


def db_mapped(h):
    """whether a process of server h maps its SQLite database file (its -shm file aside)"""
    mapped = False
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if h.conf.encode() not in f.read():
                    continue
            with open(f"/proc/{pid}/maps") as f:
                maps = f.read()
        except OSError:
            continue
        mapped |= any(line.endswith(" " + h.db_params) for line in maps.splitlines())
    return mapped


@pytest.mark.skipif(DB != "sqlite3", reason="a setting of SQLite connections")
def test_sqlite_reads_through_a_memory_map_only_on_request(env, team):
    """By default no connection maps the database (SQLite drops a connection's map whenever
    another one wrote, and under writes each transaction unmapped and mapped it again);
    SSLOrdersSQLiteMmap 64 maps it, and what SQLite took is logged once per process."""
    c = Client(env.httpd.api, team.token)
    for i in range(5):
        assert c.post("/folders", json={"name": f"unmapped {i}"})[0] in (200, 201)
        assert c.get("/folders")[0] == 200
    assert not db_mapped(env.httpd)
    assert "SO00985" not in env.httpd.read_log()
    h = server(env, "sqlite-mmap", "SSLOrdersSQLiteMmap 64")
    env.servers.append(h)
    try:
        h.start()
        c = Client(h.api, team.token)
        for i in range(5):
            assert c.post("/folders", json={"name": f"mapped {i}"})[0] in (200, 201)
            st, body = c.get("/folders")
            assert st == 200 and f"mapped {i}" in str(body)
        assert db_mapped(h)
        assert "mmap_size = 67108864 (SSLOrdersSQLiteMmap)" in h.read_log()
    finally:
        h.stop()
        env.servers.remove(h)


@pytest.mark.parametrize("extra,says", [
    ("SSLOrdersSQLiteMmap lots", "expects MiB from 0 (none) to 4096"),
    ("SSLOrdersSQLiteMmap 4097", "expects MiB from 0 (none) to 4096"),
    ("<VirtualHost 127.0.0.1:1>\nSSLOrdersSQLiteMmap 64\n</VirtualHost>", "cannot occur within"),
    ("SSLOrdersACMENonces sometimes", "expects auto, memory or database"),
    ("<VirtualHost 127.0.0.1:1>\nSSLOrdersACMENonces memory\n</VirtualHost>", "cannot occur within"),
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
