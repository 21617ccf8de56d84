"""Fixtures for end-to-end tests that start the real `postern serve`.

On a failing test every server still alive gets its log tail appended to the
report and its temporary directory kept (the path is printed), STYLE.md
habit 10. A server that crashed during a test, or does not exit with status 0
on SIGTERM, fails the test at teardown.
"""

import pathlib
import sys

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "tools"))

import postern_harness as harness  # noqa: E402


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.failed:
        for server in list(harness.LIVE):
            server.keep = True
            report.sections.append(
                (f"postern server {server.dir}",
                 f"kept for inspection: {server.dir}\n{server.log_tail(80)}"))


def _finish(servers, session=None):
    problems = []
    for server in servers:
        problem = server.finish()
        if problem:
            server.keep = True
            problems.append(f"{problem}\nkept: {server.dir}\n{server.log_tail(80)}")
        server.cleanup()
    if problems:
        text = "\n\n".join(problems)
        if session is not None and session.shouldstop:
            # Torn down after -x stopped the run: failing here would only
            # bury this under a pytest-internal traceback.
            sys.stderr.write(f"\n{text}\n")
            return
        pytest.fail(text, pytrace=False)


def _factory(servers):
    def factory(start=True, **kwargs):
        server = harness.Server(**kwargs)
        servers.append(server)
        if start:
            server.start()
        return server
    return factory


@pytest.fixture
def make_server():
    """Factory: make_server(**Server kwargs) -> a started Server, stopped at
    teardown. Pass start=False to get it unstarted."""
    servers = []
    yield _factory(servers)
    _finish(servers)


@pytest.fixture(scope="module")
def make_module_server(request):
    """Like make_server, for servers shared by the tests of one file."""
    servers = []
    yield _factory(servers)
    _finish(servers, request.session)


@pytest.fixture
def server(make_server):
    """A server with the standard listeners (see harness.standard_listeners)."""
    return make_server()


@pytest.fixture(scope="module")
def shared_server(make_module_server):
    """One server with the standard listeners for a whole test file, for
    tests that do not change state other tests see (no auth failures, no
    limits)."""
    return make_module_server()


@pytest.fixture
def mail_world():
    """Factory: mail_world(zone, receivers={host: tls}, ...) -> a started
    tests/tools/mail_world.MailWorld (receivers and a fake DNS for outbound
    tests), stopped at teardown."""
    from mail_world import MailWorld

    made = []

    def factory(*args, **kwargs):
        world = MailWorld(*args, **kwargs)
        made.append(world)
        return world

    yield factory
    for world in made:
        world.stop()
