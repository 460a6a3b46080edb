import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))

from harness import DB, Env  # noqa: E402
import openapi  # noqa: E402

# every answer of the API is checked against docs/openapi.yaml (+ docs/openapi/*.yaml)
openapi.install()


@pytest.fixture(scope="session")
def env():
    e = Env()
    try:
        e.start()
    except Exception:
        e.close()
        raise
    yield e
    e.close()


@pytest.fixture(autouse=True)
def error_log_gate(request, env):
    """Fail a test that leaves [error]/[warn] lines in an httpd error log that it did
    not announce with env.expect_log(regex)."""
    env.unexpected_log_lines()  # drop what earlier fixtures produced
    yield
    bad = env.unexpected_log_lines()
    if bad:
        pytest.fail("unexpected lines in the httpd error log:\n" + "\n".join(bad[:20]))
    off_spec = openapi.take()
    if off_spec and not os.environ.get("SO_OPENAPI_RECORD"):
        pytest.fail("answers the OpenAPI description does not allow (docs/openapi.yaml):\n"
                    + "\n".join(off_spec[:20]))


@pytest.fixture
def team(env):
    """A fresh team whose owner holds a token."""
    return env.new_team(role="owner")


@pytest.fixture
def api(team):
    return team.client()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A failed test shows the end of each server's error log (what CI prints is all there is)."""
    outcome = yield
    rep = outcome.get_result()
    env = item.funcargs.get("env") if hasattr(item, "funcargs") else None
    if rep.failed and env is not None:
        for s in getattr(env, "servers", []):
            tail = s.read_log().splitlines()[-40:]
            rep.sections.append((f"httpd error log {s.error_log} (last lines)", "\n".join(tail)))


def pytest_report_header(config):
    return f"mod_sslorders integration tests on {DB}"
