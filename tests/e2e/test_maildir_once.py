"""A mailbox gets a message once (docs/delivery.md "Exactly once into
Maildirs"): recipients repeated in one transaction are kept once, and
`kill -9` during Maildir delivery under load leaves every acknowledged
message exactly once in each of its recipients' Maildirs.

The kill test is bounded for CI (a few hundred messages, 3 kills). Its long
form, the issue's 15 kills over 40,000 messages, runs with
POSTERN_LONG_KILL_TEST=1 (minutes; not part of the normal suite)."""

import collections
import os
import random
import re
import smtplib
import threading
import time

from postern_harness import SLOW, relay
from smtp_clients import message, smtp

SENDER = "carol@remote.test"
USERS = ("alice@example.test", "bob@example.test")


def test_one_hundred_identical_rcpts_give_one_file(make_server):
    server = make_server(listeners=[relay("mx", "none")])
    body = message(SENDER, ["bob@example.test"], subject="once", body="x" * 1000 + "\r\n")
    with smtp(server.port("mx")) as client:
        client.ehlo()
        assert client.mail(SENDER)[0] == 250
        for i in range(100):
            # The domain's case does not make another mailbox.
            rcpt = "bob@example.test" if i % 2 else "bob@EXAMPLE.test"
            assert client.rcpt(rcpt)[0] == 250
        assert client.data(body)[0] == 250
    server.wait_for_maildir("bob@example.test", 1)
    server.wait_spool_empty()
    server.assert_maildir_stays("bob@example.test", 1, wait=1.0)
    log = server.log_text()
    assert log.count("delivered id=") == 1, server.log_tail()


def subjects_in(server, address):
    """Subject -> number of files carrying it in the address's Maildir."""
    counts = collections.Counter()
    for raw in server.maildir_messages(address):
        m = re.search(rb"^Subject: (\S+)", raw, re.MULTILINE)
        if m:
            counts[m.group(1).decode()] += 1
    return counts


def recipients_of(n):
    return [USERS[n % 2]] if n % 3 else list(USERS)


def test_kill9_during_maildir_delivery_leaves_every_message_once(make_server):
    long_mode = os.environ.get("POSTERN_LONG_KILL_TEST") == "1"
    total = 40000 if long_mode else 600
    kills = 15 if long_mode else 3
    server = make_server(listeners=[relay("mx", "none")])
    acked = set()
    lock = threading.Lock()
    counter = iter(range(total))
    done = threading.Event()

    def client_loop():
        client = None
        while not done.is_set():
            with lock:
                n = next(counter, None)
            if n is None:
                return
            rcpts = recipients_of(n)
            try:
                if client is None:
                    client = smtp(server.port("mx"), timeout=10)
                client.sendmail(SENDER, rcpts, message(SENDER, rcpts, subject=f"m{n}"))
                with lock:
                    acked.add(n)
            except (OSError, smtplib.SMTPException):
                # Not acknowledged: the message may or may not be stored,
                # and is not sent again (that would be the client's own
                # duplicate). Wait for the server to come back.
                if client is not None:
                    try:
                        client.close()
                    except OSError:
                        pass
                client = None
                time.sleep(0.05)
        if client is not None:
            client.close()

    threads = [threading.Thread(target=client_loop) for _ in range(4)]
    for t in threads:
        t.start()
    rng = random.Random(20261207)
    try:
        for _ in range(kills):
            # Kill while messages arrive and Maildir deliveries run.
            deadline = time.monotonic() + 60 * SLOW
            before = len(acked)
            while len(acked) < before + rng.randint(30, 30 + total // (kills * 2)):
                assert time.monotonic() < deadline, "no progress\n" + server.log_tail()
                time.sleep(0.01)
            server.kill9()
            time.sleep(0.1)
            server.start()
    finally:
        for t in threads:
            t.join(timeout=600 * SLOW)
        done.set()
    server.wait_spool_empty(timeout=120 if long_mode else 30)

    per_user = {u: subjects_in(server, u) for u in USERS}
    missing, doubled = [], []
    for n in range(total):
        for u in recipients_of(n):
            count = per_user[u].get(f"m{n}", 0)
            if count > 1:
                doubled.append((n, u, count))
            if n in acked and count != 1:
                missing.append((n, u, count))
    assert not doubled, f"{len(doubled)} duplicated: {doubled[:10]}"
    assert not missing, f"{len(missing)} acknowledged but not delivered once: {missing[:10]}"
    assert len(acked) > total // 2
    found = server.log_text().count("found from an earlier attempt")
    print(f"\nkill -9 test: {total} messages, {len(acked)} acknowledged, {kills} kills, "
          f"0 duplicates, 0 lost; {found} redelivery(ies) recognised by file name")
