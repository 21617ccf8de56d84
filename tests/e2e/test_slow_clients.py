"""Slow clients (docs/limits.md, "Slow clients"; issue 16): with T =
idle_timeout, a command line is complete within min(T, 30s), a session
outside message content queues a message within 2T, and content arrives at
1 KiB/s or better after a grace of T; a client that trickles is cut off with
421. Connections are bounded per /24 too (4 x max_sessions_per_ip)."""

import time

from dialogue import Dialogue, DialogueError
from postern_harness import SLOW, relay

BOB = "bob@example.test"


def cut_off_after(d, started, feed, limit):
    """Calls feed() until the server closes; returns (seconds, replies)."""
    while time.monotonic() - started < limit:
        try:
            feed()
        except (OSError, DialogueError):
            break
    try:
        replies = d.expect_closed(timeout=5 * SLOW)
    except DialogueError:
        replies = None
    return time.monotonic() - started, replies


def assert_421(replies):
    assert replies, "closed without a reply"
    assert replies[-1].first.startswith("421 4.4.2"), replies


def test_one_byte_every_five_seconds_is_cut_off_within_the_line_deadline(make_server):
    # T = 6 s: a command line must be complete within min(T, 30 s) = 6 s.
    srv = make_server(listeners=[relay("relay", "none")], limits={"idle_timeout": "6s"})
    with Dialogue(srv.port("relay")) as d:
        d.expect("220")
        started = time.monotonic()
        line = iter(b"MAIL FROM:<a@example.org>\r\n")

        def feed():
            d.send(bytes([next(line)]))
            # The 421 may come while we wait out the 5 s.
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline:
                d.expect_nothing(wait=0.5)

        waited, replies = cut_off_after(d, started, feed, 60)
        assert_421(replies)
        assert waited <= 6 + 3 * SLOW, f"cut off after {waited:.1f}s, deadline 6s"
    # With T <= 30 s the idle deadline (from the banner) comes first; the
    # 30 s line rule proper is in tests/unit/net/progress_deadlines_test.cpp.
    srv.wait_for_log("state=command")


def test_noop_keepalive_ends_after_two_idle_timeouts(make_server):
    # Every NOOP is a complete command well inside T = 3 s, but no message
    # is ever queued: 2T = 6 s from the start, then 421.
    srv = make_server(listeners=[relay("relay", "none")], limits={"idle_timeout": "3s"})
    with Dialogue(srv.port("relay")) as d:
        started = time.monotonic()
        d.expect("220")
        d.ehlo()

        seen = []

        def feed():
            d.cmd("NOOP")
            seen.append(d.read_reply())
            if seen[-1].code != 250:
                raise DialogueError(f"NOOP answered {seen[-1]}")
            time.sleep(1)

        waited, replies = cut_off_after(d, started, feed, 30)
        assert_421(seen[-1:] + (replies or []))
        assert 5 <= waited <= 6 + 3 * SLOW, f"cut off after {waited:.1f}s, deadline 6s"
    srv.wait_for_log("rule=between_messages")


def test_message_content_below_one_kib_per_second_is_cut_off(make_server):
    # 1100 bytes every 2.5 s: more than 1 KiB per idle timeout (T = 3 s),
    # so the idle clock alone would never fire, but 440 bytes/s is below
    # 1 KiB/s: cut near T + bytes/1 KiB/s, about 5.3 s into the content.
    srv = make_server(listeners=[relay("relay", "none")], limits={"idle_timeout": "3s"})
    with Dialogue(srv.port("relay")) as d:
        d.expect("220")
        d.ehlo()
        d.cmd("MAIL FROM:<a@example.org>", "250")
        d.cmd(f"RCPT TO:<{BOB}>", "250")
        d.cmd("DATA", "354")
        started = time.monotonic()
        chunk = b"Subject: slow\r\n" + b"x" * 1083 + b"\r\n"

        def feed():
            d.send(chunk)
            d.expect_nothing(wait=2.5)

        waited, replies = cut_off_after(d, started, feed, 60)
        assert_421(replies)
        assert 4 <= waited <= 6 + 3 * SLOW, f"cut off after {waited:.1f}s"
    srv.wait_for_log("rule=data_rate")


def test_connections_per_network(make_server):
    # max_sessions_per_ip = 1: a /24 gets 4 sessions, whichever addresses.
    srv = make_server(listeners=[relay("relay", "none")], limits={"max_sessions_per_ip": 1})
    held = []
    try:
        for host in range(1, 5):
            d = Dialogue(srv.port("relay"), source=f"127.0.0.{host}")
            d.expect("220")
            held.append(d)
        with Dialogue(srv.port("relay"), source="127.0.0.5") as d:
            replies = d.expect_closed()
            assert replies and replies[0].first.startswith("421 4.7.0"), replies
            assert "Too many connections from your network" in replies[0].text, replies
        # Another /24 is another network.
        with Dialogue(srv.port("relay"), source="127.0.1.1") as d:
            d.expect("220")
            d.quit()
    finally:
        for d in held:
            d.close()
