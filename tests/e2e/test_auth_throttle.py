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


CAROL = "carol@example.test"
CAROL_PW = "carol-throttle-pw-3"


def test_guesses_over_case_variants_and_forty_addresses_are_one_user(make_server):
    """40 wrong passwords for one user, spread over case variants of the
    address and 40 client addresses, count as one user: after 10 they are
    refused. The user's own network, where they logged in before, is not
    locked out by the strangers (docs/limits.md, "AUTH throttling")."""
    from postern_harness import USERS, submission
    from submit import auth_reply
    srv = make_server(listeners=[submission("sub", "none", insecure=True)],
                      users=dict(USERS, **{CAROL: CAROL_PW}))
    port = srv.port("sub")
    # Carol's own client, on 127.0.1.0/24, logs in once before the attack.
    assert auth_reply(port, CAROL, CAROL_PW, source="127.0.1.5").code == 235
    spellings = ["carol@example.test", "CAROL@example.test", "carol@EXAMPLE.TEST",
                 "Carol@Example.Test", "cArOl@eXaMpLe.tEsT"]
    codes = []
    for i in range(40):
        reply = auth_reply(port, spellings[i % len(spellings)], f"guess-{i}",
                           source=f"127.0.0.{10 + i}")
        codes.append(reply.code)
    assert codes[:10] == [535] * 10, codes
    assert codes[10:] == [454] * 30, codes
    # A stranger with the right password is refused too: the lock is on carol.
    assert auth_reply(port, "CAROL@example.test", CAROL_PW, source="127.0.0.99").code == 454
    # Carol's own network is not locked out.
    assert auth_reply(port, CAROL, CAROL_PW, source="127.0.1.6").code == 235
    log = srv.log_text()
    assert log.count("auth_throttled") >= 30 and "by=user " in log, srv.log_tail()
    for i in range(40):
        assert f"guess-{i}" not in log
