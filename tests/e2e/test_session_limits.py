"""Concurrent sessions are bounded per client IP and globally (SPEC §1.2):
one over the limit hears 421 4.7.0 and is closed; a slot freed is usable."""

import time

from dialogue import Dialogue
from postern_harness import relay


def open_sessions(port, n, source=None):
    sessions = []
    for _ in range(n):
        d = Dialogue(port, source=source)
        d.expect("220")
        sessions.append(d)
    return sessions


def assert_refused(port, text, source=None):
    with Dialogue(port, source=source) as d:
        replies = d.expect_closed()
        assert replies and replies[0].first.startswith("421 4.7.0"), replies
        assert text in replies[0].text, replies


def test_per_ip_limit(make_server):
    srv = make_server(listeners=[relay("a", "none"), relay("b", "none")],
                      limits={"max_sessions_per_ip": 2})
    held = open_sessions(srv.port("a"), 2)
    try:
        # The limit is per client IP over all listeners.
        assert_refused(srv.port("b"), "Too many connections from your address")
        assert_refused(srv.port("a"), "Too many connections from your address")
        held[0].quit()
        # The freed slot becomes usable once the server has seen the close.
        deadline = time.monotonic() + 5
        while True:
            with Dialogue(srv.port("b")) as d:
                reply = d.read_reply()
                if reply.code == 220:
                    d.quit()
                    break
            assert time.monotonic() < deadline, f"slot never freed: {reply}"
            time.sleep(0.2)
    finally:
        for d in held:
            d.close()


def test_global_limit(make_server):
    # Three client IPs on loopback, so the per-IP limit (2) is never what
    # refuses the fourth session: the global one (3) is.
    srv = make_server(listeners=[relay("a", "none"), relay("b", "none")],
                      limits={"max_sessions": 3, "max_sessions_per_ip": 2})
    held = (open_sessions(srv.port("a"), 2, source="127.0.0.1") +
            open_sessions(srv.port("b"), 1, source="127.0.0.2"))
    try:
        assert_refused(srv.port("b"), "Too many connections", source="127.0.0.3")
        with Dialogue(srv.port("a"), source="127.0.0.3") as d:
            reply = d.read_reply()
            assert reply.first.startswith("421 4.7.0 Too many connections"), reply
            assert "from your address" not in reply.text, reply
        for d in held:
            d.cmd("NOOP", "250")
    finally:
        for d in held:
            d.close()
