"""Repeated AUTH failures from one IP are slowed and then refused (SPEC §1.3).

The expectation does not depend on the configuration: the default policy
refuses after 10 failures within 15 minutes, so by the 12th attempt the
server must answer 454 4.7.0 without checking, even for the right password.
"""

import base64
import time

from dialogue import Dialogue

ALICE = "alice@example.test"
WRONG = "guess-{}-not-the-password"


def b64(text):
    return base64.b64encode(text.encode()).decode()


def attempt(server, password):
    """One AUTH PLAIN on a fresh connection (so the error limit of a single
    session plays no part); returns the reply."""
    with Dialogue(server.port("submission_plain"), timeout=30) as d:
        d.expect("220")
        d.ehlo()
        reply = d.cmd("AUTH PLAIN " + b64(f"\0{ALICE}\0{password}"), "")
        d.cmd("QUIT")
        return reply


def test_repeated_failures_are_refused_then_password_not_logged(server):
    replies = []
    started = time.monotonic()
    for i in range(12):
        reply = attempt(server, WRONG.format(i))
        replies.append(reply.first)
        if reply.code == 454:
            break
    elapsed = time.monotonic() - started
    codes = [int(r[:3]) for r in replies]
    assert all(c == 535 for c in codes[:3]), replies
    assert codes[-1] == 454, f"never throttled after {len(codes)} failures: {replies}"
    assert len(codes) <= 12, replies
    assert replies[-1].startswith("454 4.7.0"), replies
    # Refusal happens before the password is checked: the right one is
    # refused too while the lock lasts.
    right = attempt(server, server.users[ALICE])
    assert right.first.startswith("454 4.7.0"), right
    # Failures after the free ones are slowed down (delay grows per failure).
    assert elapsed >= 1.0, f"{len(codes)} failures answered in {elapsed:.2f}s, no slowdown"
    log = server.log_text()
    for i in range(12):
        assert WRONG.format(i) not in log
    assert server.users[ALICE] not in log
