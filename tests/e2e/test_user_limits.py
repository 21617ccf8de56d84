"""Per-user limits on submission (SPEC §1.10, docs/limits.md): with
user_messages = ["5/1m"], a user's 6th message in a minute gets 450 4.7.1
with when to retry and a rate_limited log line, while another user is
unaffected; overrides in [limits.user."name"] apply."""

import re

import pytest

from postern_harness import USERS, submission
from submit import send

CAROL = "carol@example.test"
DAVE = "dave@example.test"
USERS4 = dict(USERS, **{CAROL: "carol-limits-pw-3", DAVE: "dave-limits-pw-4"})
ALICE, BOB = "alice@example.test", "bob@example.test"

OVERRIDES = f"""
[limits.user."{CAROL}"]
user_messages = ["2/1m"]

[limits.user."DAVE@Example.TEST"]
user_messages = []
user_recipients = ["3/1h"]
"""


@pytest.fixture(scope="module")
def server(make_module_server):
    return make_module_server(
        listeners=[submission("sub", "none", insecure=True)], users=USERS4,
        limits={"user_messages": ["5/1m"]}, extra_toml=OVERRIDES)


def pw(user):
    return USERS4[user]


def test_sixth_message_of_a_user_is_refused_another_user_is_not(server):
    port = server.port("sub")
    for i in range(5):
        reply = send(port, ALICE, pw(ALICE), subject=f"alice-{i}")
        assert reply.code == 250, f"message {i + 1}: {reply}"
    refused = send(port, ALICE, pw(ALICE), subject="alice-6")
    assert refused.first.startswith("450 4.7.1"), refused
    m = re.search(r"try again in (\d+) seconds", refused.first)
    assert m and 1 <= int(m.group(1)) <= 61, refused
    assert "5/1m" in refused.first, refused
    # Bob's budget is his own.
    assert send(port, BOB, pw(BOB), subject="bob-1").code == 250
    server.wait_for_log("rate_limited")
    log = server.log_text()
    assert re.search(r'rate_limited session=\S+ client=127\.0\.0\.1 user="alice@example\.test" '
                     r'cmd=MAIL limit=user_messages:5/1m retry_after=\d+s', log), server.log_tail()
    assert 'user="bob@example.test" cmd=MAIL limit' not in log


def test_override_is_applied_whatever_the_case_of_the_login(server):
    port = server.port("sub")
    assert send(port, CAROL, pw(CAROL)).code == 250
    assert send(port, "Carol@EXAMPLE.test", pw(CAROL)).code == 250
    refused = send(port, CAROL, pw(CAROL))
    assert refused.first.startswith("450 4.7.1") and "2/1m" in refused.first, refused


def test_recipient_limit_refuses_the_rcpt_that_crosses_it(server):
    port = server.port("sub")
    # dave: no message limit, 3 recipients an hour (override named in capitals).
    assert send(port, DAVE, pw(DAVE), recipients=[DAVE]).code == 250
    # Recipients 2 and 3 are accepted, the 4th crosses the limit.
    reply = send(port, DAVE, pw(DAVE), recipients=[ALICE, BOB, CAROL])
    assert reply.first.startswith("450 4.7.1 Recipient limit"), reply
    assert "3/1h" in reply.first, reply
    log = server.log_text()
    assert re.search(r'rate_limited .*user="dave@example\.test" cmd=RCPT '
                     r'limit=user_recipients:3/1h retry_after=\d+s', log), server.log_tail()
