"""Outbound delivery without a thread per connection (docs/delivery.md
"Threads"): fifty deliveries waiting at once on a slow destination (an
aiosmtpd receiver that takes seconds to answer each message) add no
threads to the server, mail to a healthy destination still goes out at
once, and two domains with the same MX hosts share one destination and
its per-destination bound.

The world is on loopback (tests/tools/slow_world.py): fake_dns.py answers
for the *.test domains, smtp_receiver.py (aiosmtpd) plays the MX hosts, all
on one port number (the sender's `remote_port`), each on its own 127.0.0.x."""

import os
import time

import pytest

import slow_world
from postern_harness import SLOW
from slow_world import SlowWorld, wait_until

SENDER = "alice@example.test"
# Addresses of this file only.
SLOW_HOST = "127.0.0.121"
GOOD = "127.0.0.122"
HOSTS = (SLOW_HOST, GOOD)

ZONE = "\n".join([
    "slow.test MX 10 mx.slow.test",
    "alias.test MX 10 mx.slow.test",
    f"mx.slow.test A {SLOW_HOST}",
    "good.test MX 10 mx.good.test",
    f"mx.good.test A {GOOD}",
])


@pytest.fixture
def world(make_server):
    w = SlowWorld(make_server, ZONE, HOSTS, "async", delivery=['command_timeout = "60s"'])
    yield w
    w.stop()


def send(server, recipients, subject, count=1):
    slow_world.send(server, SENDER, recipients, subject, count)


def threads_of(server):
    return len(os.listdir(f"/proc/{server.proc.pid}/task"))


def test_fifty_slow_deliveries_add_no_threads_and_a_healthy_destination_is_prompt(world):
    slow = world.receiver(SLOW_HOST, delay=6.0)
    good = world.receiver(GOOD)
    sender = world.sender(["max_connections = 100", "max_connections_per_destination = 60"])
    time.sleep(0.5)
    idle_threads = threads_of(sender)

    send(sender, ["bob@slow.test"], "slow", count=50)
    # All fifty sessions are open at once, each waiting for its 250.
    wait_until("50 connections to the slow receiver", lambda: slow.connections() >= 50, 15, sender)
    busy_threads = threads_of(sender)
    print(f"threads idle={idle_threads} with 50 slow deliveries in flight={busy_threads}")
    assert len(slow.messages()) < 50, "the receiver answered before the check"
    # O(1): the same threads as when idle (a few of slack for the pools'
    # lazy starts), far fewer than the deliveries in flight.
    assert busy_threads <= idle_threads + 4, (idle_threads, busy_threads)
    assert busy_threads < 50, busy_threads

    started = time.monotonic()
    send(sender, ["carol@good.test"], "healthy")
    good.wait_for_messages(1, sender, timeout=3)
    assert time.monotonic() - started < 3 * SLOW

    slow.wait_for_messages(50, sender, timeout=30)
    sender.wait_spool_empty(timeout=30)
    subjects = sorted(m["data"].split("Subject: ", 1)[1].split("\n", 1)[0].strip()
                      for m in slow.messages())
    assert subjects == sorted(f"slow {i}" for i in range(50))


def test_domains_with_the_same_mx_hosts_share_one_destination_bound(world):
    slow = world.receiver(SLOW_HOST, delay=2.0)
    sender = world.sender(["max_connections_per_destination = 2"])
    send(sender, ["bob@slow.test", "eve@alias.test"], "shared", count=3)
    wait_until("connections to the shared MX", lambda: slow.connections() >= 2, 10, sender)
    # Per domain it would be 2 + 2 at once; per MX host set it is 2 in all.
    time.sleep(1)
    assert slow.connections() == 2, sender.log_tail()
    slow.wait_for_messages(6, sender, timeout=30)
    sender.wait_spool_empty(timeout=15)
    log = sender.log_text()
    assert "domain=slow.test destination=mx:mx.slow.test" in log, sender.log_tail()
    assert "domain=alias.test destination=mx:mx.slow.test" in log, sender.log_tail()
