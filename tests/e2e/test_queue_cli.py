"""`postern queue list|show|flush|delete|hold|release` against a running (and
a stopped) server (SPEC §3).

Messages are kept in the queue by making a local mailbox undeliverable for a
while: alice's Maildir path is a plain file, so delivery fails transiently
and is retried only after a minute. Removing the file and flushing then
delivers at once, which is what `flush` is for."""

import json
import os
import stat
import subprocess
import time

import pytest

import postern_harness as harness
from smtp_clients import message, smtp

POSTERN = harness.POSTERN
ALICE = "alice@example.test"
BOB = "bob@example.test"


def queue(srv, *args, timeout=60):
    return subprocess.run([POSTERN, "queue", *args, "--config", str(srv.config_path)],
                          capture_output=True, text=True, timeout=timeout * harness.SLOW)


def listing(srv):
    r = queue(srv, "list", "--json")
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def block_mailbox(srv, address):
    local, domain = address.split("@")
    folder = srv.data_dir / "mail" / domain
    folder.mkdir(parents=True, exist_ok=True)
    (folder / local).write_text("blocks delivery until removed\n")


def unblock_mailbox(srv, address):
    local, domain = address.split("@")
    (srv.data_dir / "mail" / domain / local).unlink()


def send(srv, rcpt, subject, body="Queued body text.\r\n"):
    with smtp(srv.port("relay_plain")) as client:
        client.sendmail("sender@elsewhere.test", [rcpt],
                        message("sender@elsewhere.test", rcpt, subject=subject, body=body))


def wait_deferred(srv, count, timeout=10.0):
    """Waits until `count` messages are queued, each tried once; returns them."""
    deadline = time.monotonic() + timeout * harness.SLOW
    while True:
        messages = listing(srv)
        if len(messages) == count and all(r["attempts"] >= 1 for m in messages
                                          for r in m["recipients"]):
            return messages
        if time.monotonic() > deadline:
            raise AssertionError(f"queue never held {count} tried message(s): {messages}\n"
                                 f"{srv.log_tail()}")
        time.sleep(0.05)


def test_list_and_show_with_the_server_running_and_stopped(make_server):
    srv = make_server()
    sock = srv.data_dir / "control.sock"
    assert stat.S_ISSOCK(os.stat(sock).st_mode)
    assert stat.S_IMODE(os.stat(sock).st_mode) == 0o660

    assert queue(srv, "list").stdout.strip() == "The queue is empty."
    block_mailbox(srv, ALICE)
    send(srv, ALICE, "stuck one", body="Line of the body.\r\n")
    [m] = wait_deferred(srv, 1)
    assert m["sender"] == "sender@elsewhere.test"
    assert m["held"] is False
    [r] = m["recipients"]
    assert r["address"] == ALICE and r["state"] == "pending" and r["attempts"] == 1
    assert r["last_reply"], m

    text = queue(srv, "list")
    assert text.returncode == 0, text.stderr
    assert m["id"] in text.stdout and "<sender@elsewhere.test>" in text.stdout
    assert "pending" in text.stdout and "attempts=1" in text.stdout and ALICE in text.stdout
    assert "1 message(s), 1 recipient(s) pending" in text.stdout

    show = queue(srv, "show", m["id"])
    assert show.returncode == 0, show.stderr
    assert "Subject: stuck one" in show.stdout and "Received: from" in show.stdout
    assert "Line of the body." not in show.stdout and "--body" in show.stdout
    body = queue(srv, "show", m["id"], "--body")
    assert "Line of the body." in body.stdout and "\r" not in body.stdout

    srv.stop()
    assert not sock.exists(), "control.sock must go away with the server"
    # Reading needs no server.
    assert [x["id"] for x in listing(srv)] == [m["id"]]
    assert queue(srv, "show", m["id"]).returncode == 0
    # Changing does, and says so.
    for args in (("flush",), ("hold", m["id"]), ("release", m["id"]), ("delete", m["id"])):
        r = queue(srv, *args)
        assert r.returncode == 3, (args, r.stdout, r.stderr)
        assert "does not seem to be running" in r.stderr and "control.sock" in r.stderr
    assert [x["id"] for x in listing(srv)] == [m["id"]]

    # A restart re-creates the socket (a stale file would be replaced too).
    srv.start()
    assert stat.S_ISSOCK(os.stat(sock).st_mode)
    assert queue(srv, "flush").returncode == 0


def test_flush_makes_a_deferred_message_due_now(make_server):
    srv = make_server()
    block_mailbox(srv, ALICE)
    send(srv, ALICE, "flush me")
    wait_deferred(srv, 1)
    unblock_mailbox(srv, ALICE)
    r = queue(srv, "flush")
    assert r.returncode == 0, r.stderr
    assert "1 message(s) due now" in r.stdout
    # Well before the one-minute retry.
    [delivered] = srv.wait_for_maildir(ALICE, 1, timeout=10)
    assert b"Subject: flush me" in delivered
    srv.wait_spool_empty()
    assert queue(srv, "list").stdout.strip() == "The queue is empty."


def test_hold_survives_flush_and_restart_until_released(make_server):
    srv = make_server()
    block_mailbox(srv, ALICE)
    send(srv, ALICE, "held one")
    [m] = wait_deferred(srv, 1)
    r = queue(srv, "hold", m["id"])
    assert r.returncode == 0, r.stderr
    assert f"{m['id']} held" in r.stdout
    [m2] = listing(srv)
    assert m2["held"] is True
    assert " held " in queue(srv, "list").stdout

    unblock_mailbox(srv, ALICE)
    assert "0 message(s) due now" in queue(srv, "flush").stdout
    srv.assert_maildir_stays(ALICE, 0, wait=1.0)

    srv.restart()
    srv.assert_maildir_stays(ALICE, 0, wait=1.0)
    assert listing(srv)[0]["held"] is True

    r = queue(srv, "release", m["id"])
    assert r.returncode == 0, r.stderr
    assert f"{m['id']} released" in r.stdout
    [delivered] = srv.wait_for_maildir(ALICE, 1, timeout=10)
    assert b"Subject: held one" in delivered


def test_delete_removes_for_good(make_server):
    srv = make_server()
    block_mailbox(srv, ALICE)
    send(srv, ALICE, "doomed")
    send(srv, ALICE, "kept")
    first, second = wait_deferred(srv, 2)  # listed in arrival order
    r = queue(srv, "delete", first["id"])
    assert r.returncode == 0, r.stderr
    assert f"{first['id']} deleted" in r.stdout
    assert [m["id"] for m in listing(srv)] == [second["id"]]

    unblock_mailbox(srv, ALICE)
    assert queue(srv, "flush").returncode == 0
    [delivered] = srv.wait_for_maildir(ALICE, 1, timeout=10)
    assert b"Subject: kept" in delivered
    srv.assert_maildir_stays(ALICE, 1, wait=1.0)
    assert "deleted" in srv.log_text()

    gone = queue(srv, "delete", first["id"])
    assert gone.returncode == 1
    assert f"no message {first['id']}" in gone.stderr
    bad = queue(srv, "hold", "../etc")
    assert bad.returncode == 2 and "not a queue id" in bad.stderr
    assert queue(srv, "show", first["id"]).returncode == 1


def test_usage_errors(make_server):
    srv = make_server(start=False)
    assert queue(srv, "show").returncode != 0
    assert queue(srv, "hold").returncode != 0
    r = subprocess.run([POSTERN, "queue"], capture_output=True, text=True, timeout=30)
    assert r.returncode != 0
    # No spool yet: an empty queue, not an error.
    r = queue(srv, "list")
    assert r.returncode == 0 and "empty" in r.stdout
    assert json.loads(queue(srv, "list", "--json").stdout) == []


def test_a_crash_leaves_a_stale_socket_that_the_next_start_replaces(make_server):
    srv = make_server()
    sock = srv.data_dir / "control.sock"
    srv.kill9()
    assert sock.exists()
    r = queue(srv, "flush")
    assert r.returncode == 3 and "nobody answers on" in r.stderr
    srv.start()
    assert queue(srv, "flush").returncode == 0


def test_delete_all_and_by_sender_or_recipient(make_server):
    srv = make_server()
    block_mailbox(srv, ALICE)
    block_mailbox(srv, BOB)
    for sender, rcpt in (("one@elsewhere.test", ALICE), ("one@elsewhere.test", BOB),
                         ("two@elsewhere.test", ALICE), ("three@other.test", BOB)):
        with smtp(srv.port("relay_plain")) as client:
            client.sendmail(sender, [rcpt], message(sender, rcpt, subject="to delete"))
    wait_deferred(srv, 4)
    r = queue(srv, "delete", "--sender", "ONE@elsewhere.test")
    assert r.returncode == 0 and "2 message(s)" in r.stdout, r.stdout + r.stderr
    assert sorted(m["sender"] for m in listing(srv)) == ["three@other.test", "two@elsewhere.test"]
    r = queue(srv, "hold", "--recipient", "@example.test")
    assert r.returncode == 0 and "2 message(s)" in r.stdout, r.stdout + r.stderr
    assert all(m["held"] for m in listing(srv))
    r = queue(srv, "delete", "--recipient", "nobody@example.test")
    assert r.returncode == 0 and "no message matches" in r.stdout
    r = queue(srv, "delete", "--all")
    assert r.returncode == 0 and "2 message(s)" in r.stdout, r.stdout + r.stderr
    assert listing(srv) == []
    # Both ways of naming messages at once, or none, is a usage mistake.
    assert queue(srv, "delete").returncode == 2
    assert queue(srv, "delete", "--all", "0123456789ABCDEF").returncode == 2
