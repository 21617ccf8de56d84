"""Limits that hold across nodes (SPEC §1.10, docs/limits.md "Several
nodes, one Redis"): two postern processes share one redis-server, started
here on a loopback port with its own config and stopped after.

- 3 messages through node A and 3 through node B exhaust one budget of 5;
- an AUTH lock-out earned on node A holds on node B;
- with Redis killed, both nodes keep answering (on their own counters) and
  log it; once Redis is back, counting is shared again."""

import time

import pytest

from postern_harness import SLOW, USERS, submission
from redis_server import RedisServer
from submit import auth_reply, send

CAROL, DAVE, ERIN = "carol@example.test", "dave@example.test", "erin@example.test"
USERS5 = dict(USERS, **{CAROL: "carol-shared-pw-3", DAVE: "dave-shared-pw-4",
                        ERIN: "erin-shared-pw-5"})
ALICE, BOB = "alice@example.test", "bob@example.test"


@pytest.fixture(scope="module")
def redis():
    r = RedisServer().start()
    yield r
    r.stop()


def node(make_module_server, redis):
    srv = make_module_server(
        listeners=[submission("sub", "none", insecure=True)], users=USERS5,
        limits={"user_messages": ["5/1m"]},
        extra_toml=f'\n[state]\nurl = "{redis.url}"\n')
    srv.wait_for_log("backend=redis url=redis://127.0.0.1", timeout=10)
    wait_connected(srv, 1)
    return srv


def wait_connected(srv, times, timeout=15.0):
    deadline = time.monotonic() + timeout * SLOW
    while srv.log_text().count("status=connected") < times:
        assert time.monotonic() < deadline, \
            f"node never (re)connected to Redis {times}x\n{srv.log_tail()}"
        time.sleep(0.1)


@pytest.fixture(scope="module")
def nodes(make_module_server, redis):
    return node(make_module_server, redis), node(make_module_server, redis)


def pw(user):
    return USERS5[user]


def test_one_budget_across_two_nodes(nodes):
    a, b = nodes
    for i in range(3):
        assert send(a.port("sub"), ALICE, pw(ALICE), subject=f"a{i}").code == 250, i
    for i in range(2):
        assert send(b.port("sub"), ALICE, pw(ALICE), subject=f"b{i}").code == 250, i
    sixth = send(b.port("sub"), ALICE, pw(ALICE), subject="b2")
    assert sixth.first.startswith("450 4.7.1"), f"6th message across nodes: {sixth}"
    assert "rate_limited" in b.log_text()


def test_auth_lockout_on_node_a_holds_on_node_b(nodes):
    a, b = nodes
    # Ten wrong passwords for bob through A, each from its own address, so
    # only bob's count (not an address's) reaches the limit.
    for i in range(10):
        reply = auth_reply(a.port("sub"), BOB, f"wrong-{i}", source=f"127.0.0.{10 + i}")
        assert reply.code == 535, f"attempt {i}: {reply}"
    # B refuses bob without checking, even with the right password.
    refused = auth_reply(b.port("sub"), BOB, pw(BOB), source="127.0.0.40")
    assert refused.first.startswith("454 4.7.0"), refused
    assert "auth_throttled" in b.log_text() and "by=user" in b.log_text(), b.log_tail()


def test_redis_down_nodes_keep_answering_then_counting_resumes(nodes, redis):
    a, b = nodes
    redis.kill()
    # Both nodes answer at once (no hang) and count on their own meanwhile.
    for srv in (a, b):
        started = time.monotonic()
        assert send(srv.port("sub"), CAROL, pw(CAROL)).code == 250
        assert time.monotonic() - started < 5 * SLOW, "a session waited on a dead Redis"
        srv.wait_for_log("status=unavailable", timeout=10)
    assert "backend=redis" in a.log_text() and "answered_locally" in a.log_text()
    redis.start()
    wait_connected(a, 2)
    wait_connected(b, 2)
    # Shared again: dave's budget of 5 is one for both nodes.
    for i in range(3):
        assert send(a.port("sub"), DAVE, pw(DAVE), subject=f"a{i}").code == 250, i
    for i in range(2):
        assert send(b.port("sub"), DAVE, pw(DAVE), subject=f"b{i}").code == 250, i
    sixth = send(b.port("sub"), DAVE, pw(DAVE), subject="b2")
    assert sixth.first.startswith("450 4.7.1"), f"counting did not resume in Redis: {sixth}"
    assert b"postern:msg:60000:dave@example.test" in redis.command("KEYS", "postern:msg:*")
