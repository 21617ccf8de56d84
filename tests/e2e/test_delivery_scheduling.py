"""Delivery that one slow destination cannot stall (docs/delivery.md
"Scheduling"): with several deliveries stuck on a tarpit (a host that
accepts the connection and never answers), mail to other domains and to
local users still goes out within seconds; the per-destination bound holds
(the tarpit counts its connections); SIGTERM stops within seconds while
deliveries wait on the silent peer, and they are delivered after a restart.
Peers that trickle their banner or send an endless line are cut off and
the message is retried.

The world is on loopback: tests/tools/fake_dns.py answers for the *.test
domains, tests/tools/smtp_receiver.py (aiosmtpd) plays the healthy MX hosts,
tests/tools/bad_peers.py the broken ones, all on one port number (the
sender's `remote_port`), each on its own 127.0.0.x address."""

import re
import subprocess
import time

import pytest

import slow_world
from postern_harness import POSTERN, SLOW
from slow_world import SlowWorld, wait_until

SENDER = "alice@example.test"
# Addresses of this file only.
TARPIT = "127.0.0.111"
GOOD = "127.0.0.112"
OTHER = "127.0.0.113"
HOSTS = (TARPIT, GOOD, OTHER)

ZONE = "\n".join([
    "tarpit.test MX 10 mx.tarpit.test",
    f"mx.tarpit.test A {TARPIT}",
    "good.test MX 10 mx.good.test",
    f"mx.good.test A {GOOD}",
    "other.test MX 10 mx.other.test",
    f"mx.other.test A {OTHER}",
])


@pytest.fixture
def world(make_server):
    w = SlowWorld(make_server, ZONE, HOSTS, "sched")
    yield w
    w.stop()


def send(server, recipient, subject, count=1):
    slow_world.send(server, SENDER, [recipient], subject, count)


def test_tarpit_stalls_neither_other_domains_nor_local_mail_and_sigterm_is_prompt(world):
    tarpit = world.bad_peer(TARPIT, "tarpit")
    good = world.receiver(GOOD)
    # Replies may take a minute here: the stuck deliveries stay stuck for
    # the whole test, as they would for minutes on a real tarpit.
    sender = world.sender(['command_timeout = "60s"', "max_connections_per_destination = 2",
                           "max_connections = 4", 'retry_initial = "1s"'])
    send(sender, "bob@tarpit.test", "stuck", count=6)
    wait_until("two connections to the tarpit", lambda: tarpit.open_now() == 2, 10, sender)

    started = time.monotonic()
    send(sender, "carol@good.test", "healthy")
    send(sender, "bob@example.test", "local")
    good.wait_for_messages(1, sender, timeout=5)
    sender.wait_for_maildir("bob@example.test", 1, timeout=5)
    assert time.monotonic() - started < 5 * SLOW

    # The per-destination bound held the whole time: the other four
    # messages to the tarpit wait for a slot instead of connecting.
    time.sleep(1)
    assert tarpit.max_open == 2, sender.log_tail()
    assert tarpit.accepted == 2, sender.log_tail()

    # SIGTERM while two deliveries wait on the silent peer.
    started = time.monotonic()
    assert sender.stop(timeout=10) == 0
    stopped_in = time.monotonic() - started
    assert stopped_in < 5 * SLOW, f"stop took {stopped_in:.1f}s\n{sender.log_tail()}"

    # The tarpit turns into a real server: after a restart every message
    # is delivered, none lost, none twice.
    tarpit.stop()
    healed = world.receiver(TARPIT)
    sender.start()
    got = healed.wait_for_messages(6, sender, timeout=20)
    sender.wait_spool_empty()
    subjects = sorted(m["data"].split("Subject: ", 1)[1].split("\n", 1)[0].strip() for m in got)
    assert subjects == [f"stuck {i}" for i in range(6)]
    assert len(good.messages()) == 1


def test_dead_destination_is_logged_once_and_others_keep_their_speed(world):
    world.bad_peer(TARPIT, "tarpit")
    other = world.receiver(OTHER)
    sender = world.sender(['command_timeout = "1s"', "max_connections_per_destination = 3",
                           'retry_initial = "30s"'])
    send(sender, "bob@tarpit.test", "dead", count=10)
    sender.wait_for_log("state=dead", timeout=10)
    # Mail to another domain meanwhile goes at once.
    send(sender, "dave@other.test", "fine", count=3)
    other.wait_for_messages(3, sender, timeout=5)
    time.sleep(1.5)
    dead_lines = [l for l in sender.log_text().splitlines()
                  if "destination=mx:mx.tarpit.test" in l and "state=dead" in l]
    # Once for the destination, not once per message (the three that were
    # in flight when it died report in without another line).
    assert len(dead_lines) == 1, dead_lines
    assert "retry_in=30s" in dead_lines[0] or "retry_in=29s" in dead_lines[0], dead_lines
    # Only the jobs in flight when it died were attempted.
    deferred = [l for l in sender.log_text().splitlines()
                if "deferred id=" in l and "tarpit.test" in l]
    assert len(deferred) <= 3, deferred

    # `postern queue list` shows it per destination: what waits and why,
    # and from the running server that it is held back as dead.
    listing = subprocess.run([POSTERN, "queue", "list", "--config", str(sender.config_path)],
                             capture_output=True, text=True, timeout=30 * SLOW)
    assert listing.returncode == 0, listing.stderr
    rows = [l for l in listing.stdout.splitlines() if l.startswith("tarpit.test ")]
    assert len(rows) == 1 and re.search(r"tarpit\.test\s+10\s", rows[0]), listing.stdout
    assert "4.4.1" in rows[0], listing.stdout
    # Destinations are MX host sets (docs/delivery.md).
    assert re.search(r"mx:mx\.tarpit\.test in_flight=0/1 queued=10 dead retry_in=\d+s reason=",
                     listing.stdout), \
        listing.stdout


@pytest.mark.parametrize("mode", ["trickle", "endless"])
def test_trickling_or_endless_peer_is_cut_off_and_retried(world, mode):
    world.bad_peer(TARPIT, mode)
    sender = world.sender(['command_timeout = "2s"', 'retry_initial = "30s"'])
    started = time.monotonic()
    send(sender, "bob@tarpit.test", mode)
    sender.wait_for_log("deferred id=", timeout=10)
    # A trickle does not extend the 2 s the banner may take in all.
    assert time.monotonic() - started < 6 * SLOW, sender.log_tail()
    line = [l for l in sender.log_text().splitlines() if "deferred id=" in l][0]
    assert ("timeout" in line) if mode == "trickle" else ("malformed" in line), line
    # Still queued for a later try.
    assert sender.spool_segments()
