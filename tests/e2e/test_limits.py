"""Limits bound what one client can make the server hold (SPEC §1.2, §2
[limits]): SIZE twice, recipients, line length, errors, idle time."""

import time

import pytest

from dialogue import Dialogue
from postern_harness import USERS, relay

ALICE = "alice@example.test"
MAX_SIZE = 20000
LIMITS = {"max_message_size": MAX_SIZE, "max_recipients": 3, "max_errors": 5}


@pytest.fixture(scope="module")
def limited(make_module_server):
    users = dict(USERS, **{"carol@example.test": "carol-limits-pw-3"})
    return make_module_server(listeners=[relay("relay", "none")], limits=LIMITS, users=users)


def session(srv):
    d = Dialogue(srv.port("relay"))
    d.expect("220")
    ehlo = d.ehlo()
    assert ehlo.has(f"SIZE {MAX_SIZE}"), ehlo
    return d


def test_size_parameter_over_limit_refused_at_mail(limited):
    with session(limited) as d:
        d.cmd(f"MAIL FROM:<s@remote.test> SIZE={MAX_SIZE + 1}", "552 5.3.4")
        d.cmd(f"MAIL FROM:<s@remote.test> SIZE={MAX_SIZE}", "250 2.1.0")
        d.quit()


def test_oversized_body_refused_after_end_of_data_nothing_delivered(limited):
    before = len(limited.maildir_messages(ALICE))
    with session(limited) as d:
        d.cmd("MAIL FROM:<s@remote.test>", "250")
        d.cmd(f"RCPT TO:<{ALICE}>", "250")
        d.cmd("DATA", "354")
        line = "x" * 70 + "\r\n"
        d.send("Subject: too big\r\n\r\n" + line * (MAX_SIZE // len(line) + 50))
        d.send(".\r\n")
        d.expect("552 5.3.4")
        # The session is still usable and a small message goes through.
        d.cmd("MAIL FROM:<s@remote.test>", "250")
        d.cmd(f"RCPT TO:<{ALICE}>", "250")
        d.cmd("DATA", "354")
        d.send("Subject: small\r\n\r\nfits\r\n.\r\n")
        d.expect("250 2.0.0")
        d.quit()
    messages = limited.wait_for_maildir(ALICE, before + 1)
    limited.assert_maildir_stays(ALICE, before + 1, wait=1.0)
    assert b"fits" in messages[-1]
    assert not any(b"too big" in m for m in messages)


def test_too_many_recipients(limited):
    with session(limited) as d:
        d.cmd("MAIL FROM:<s@remote.test>", "250")
        for rcpt in (ALICE, "bob@example.test", "carol@example.test"):
            d.cmd(f"RCPT TO:<{rcpt}>", "250")
        # A repeat is accepted but adds no recipient (it is delivered once).
        d.cmd(f"RCPT TO:<{ALICE}>", "250")
        d.cmd("RCPT TO:<dave@example.test>", "452 4.5.3")
        d.cmd("RSET", "250")
        d.quit()


def test_long_command_line(limited):
    with session(limited) as d:
        d.send("NOOP " + "a" * 5000 + "\r\n")
        d.expect("500 5.5.2")
        d.cmd("NOOP", "250")
        d.quit()


def test_long_line_in_data_does_not_break_the_session(limited):
    # A single 1 MB line in DATA must neither exhaust memory nor end the
    # message; with the size limit it is refused after end of data.
    with session(limited) as d:
        d.cmd("MAIL FROM:<s@remote.test>", "250")
        d.cmd(f"RCPT TO:<{ALICE}>", "250")
        d.cmd("DATA", "354")
        d.send(b"Subject: long\r\n\r\n" + b"y" * 1_000_000 + b"\r\n.\r\n")
        reply = d.read_reply(timeout=30)
        assert reply.code in (552, 500), reply
        d.cmd("NOOP", "250")
        d.quit()


def test_too_many_errors_closes(limited):
    # max_errors = 5: the 5th error (or, at the latest, the 6th) is answered
    # with 421 and the connection is closed.
    with session(limited) as d:
        for i in range(1, 7):
            d.send(f"BOGUS{i}\r\n")
            reply = d.read_reply()
            if reply.code != 500:
                break
        assert reply.first.startswith("421 4.7.0"), f"error {i}: {reply}"
        assert "too many errors" in reply.text, reply
        assert i in (5, 6), f"421 after {i} errors with max_errors = 5"
        assert d.expect_closed() == []


def test_idle_timeout_closes_with_421(make_server):
    srv = make_server(listeners=[relay("relay", "none")], limits={"idle_timeout": "2s"})
    with Dialogue(srv.port("relay")) as d:
        d.expect("220")
        d.ehlo()
        started = time.monotonic()
        replies = d.expect_closed(timeout=15)
        waited = time.monotonic() - started
        assert replies and replies[-1].first.startswith("421 4.4.2"), replies
        assert "timeout" in replies[-1].text, replies
        assert 1.5 <= waited <= 10, f"closed after {waited:.1f}s for idle_timeout 2s"


def test_trickling_client_is_cut_off(make_server):
    # Bytes that never complete a line must not push the deadline out
    # forever: a command line still unfinished after 10x the idle timeout
    # ends the session (SPEC §1.2 "a client that trickles bytes cannot hold a
    # session forever").
    srv = make_server(listeners=[relay("relay", "none")], limits={"idle_timeout": "2s"})
    with Dialogue(srv.port("relay")) as d:
        d.expect("220")
        started = time.monotonic()
        closed_after = None
        while time.monotonic() - started < 20:
            try:
                d.send(b"N")
                d.expect_nothing(wait=0.5)
            except (OSError, AssertionError):
                closed_after = time.monotonic() - started
                break
        assert closed_after is not None, \
            "a client trickling one byte every 0.5s kept its session for 20s (idle_timeout 2s)"
