"""Process-wide settings only behind their directives (SSLOrdersSQLiteMultithread,
SSLOrdersMallocMmapThreshold): off by default, logged when applied, refused with a clear
message when malformed or not in the main server."""
import time

import pytest

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


@pytest.mark.parametrize("extra,says", [
    ("SSLOrdersMallocMmapThreshold 12", "expects off or bytes from 4096"),
    ("SSLOrdersSQLiteMultithread maybe", "SSLOrdersSQLiteMultithread"),
    ("<VirtualHost 127.0.0.1:1>\nSSLOrdersSQLiteMultithread on\n</VirtualHost>",
     "cannot occur within"),
    ("<VirtualHost 127.0.0.1:1>\nSSLOrdersMallocMmapThreshold 1048576\n</VirtualHost>",
     "cannot occur within"),
])
def test_process_directives_refuse_bad_use(env, extra, says):
    h = server(env, "bad-process", extra)
    with pytest.raises(RuntimeError) as e:
        h.start()
    assert says in str(e.value)
