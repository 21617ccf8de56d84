"""Group commit never answers 250 before the fsync that covers the message
(SPEC §1.4, issue 5).

The real binary runs with tests/tools/fsync_fault.cpp preloaded, which makes
fsync() and fdatasync() under the spool folder fail with EIO: on every Nth
call, or while a control file exists. Many sessions send pipelined messages
at once, so the spool's writer thread groups them into batches, some of
which lose their fsync. Then the server is killed with SIGKILL and started
again without the shim, and the Maildirs must hold exactly the messages that
were answered 250: every one of them (the 250 came after a successful fsync
of its batch), and none of those answered 452 4.3.1 (a batch whose fsync
failed is never acknowledged and never delivered).

A failed sync in the shim also loses what it did not make durable, as a
power cut after it would: the file is cut back to its last synced size and
files created since the folder's last good sync are unlinked. Without that
the bytes would still be in the page cache after SIGKILL, and a server that
ignored the error and answered 250 would look fine. With it, such a server
loses acknowledged messages and this test fails (tried with the spool
ignoring the fdatasync error, ignoring the folder's fsync error, and
answering before writing).

What the spool does on such an error (src/spool/wal_writer.cpp, store(),
append_batch() and create_segment()): the batch is taken back (the segment
is truncated to where the batch began, or a segment the batch had just
created is unlinked), every message of the batch is answered 452 4.3.1,
and the writer thread goes on with the next batch in a new segment file;
nothing is poisoned, so later batches succeed as soon as fsync does. A failed fsync of a delivery-state record
(update()) only leaves the message pending, so it may be delivered twice
(at least once, docs/spool.md); that is why deliveries are compared as
sets.
"""

import concurrent.futures
import os
import pathlib
import threading

import pytest

import postern_harness as harness
from dialogue import Dialogue
from postern_harness import SLOW, relay

RECIPIENTS = ("alice@example.test", "bob@example.test")
QUEUED = "250 2.0.0 Ok: queued as "
STORAGE_FAILURE = "452 4.3.1"


def fault_library():
    """The shim CMake builds (its path comes from CTest; by hand, it is
    looked for beside the binary)."""
    path = os.environ.get("POSTERN_FSYNC_FAULT_LIB")
    if not path:
        path = str(pathlib.Path(harness.POSTERN).resolve().parent / "libpostern_fsync_fault.so")
    assert os.path.isfile(path), (
        f"fsync fault shim not found at {path}: build the postern_fsync_fault target "
        "(or set POSTERN_FSYNC_FAULT_LIB)")
    return path


def start_with_faults(srv, monkeypatch, **fault_env):
    """Starts `postern serve` with the shim preloaded; `fault_env` are the
    shim's POSTERN_FSYNC_FAULT_* settings (without the prefix)."""
    spool = (srv.data_dir / "spool").resolve()
    with monkeypatch.context() as m:
        m.setenv("LD_PRELOAD", fault_library())
        m.setenv("POSTERN_FSYNC_FAULT_DIR", str(spool))
        for key, value in fault_env.items():
            m.setenv(f"POSTERN_FSYNC_FAULT_{key}", str(value))
        # An ASan binary insists on its runtime coming first in the list of
        # loaded libraries; the shim intercepts nothing ASan needs.
        asan = os.environ.get("ASAN_OPTIONS", "")
        m.setenv("ASAN_OPTIONS", f"{asan}:verify_asan_link_order=0" if asan
                 else "verify_asan_link_order=0")
        srv.start()


def message(tag):
    body = "".join(f"line {n} of {tag}: some text to make a real message\r\n"
                   for n in range(20))
    return f"Subject: {tag}\r\nMessage-ID: <{tag}@client.test>\r\n\r\n{body}"


def envelope(n):
    """MAIL, RCPT and DATA for the n-th message of a session (recipients
    alternate)."""
    rcpt = RECIPIENTS[n % len(RECIPIENTS)]
    return f"MAIL FROM:<load@remote.test>\r\nRCPT TO:<{rcpt}>\r\nDATA\r\n"


def session(port, name, count, start):
    """One client: `count` messages on one connection, pipelined (RFC 2920:
    MAIL, RCPT and DATA in one group; the message content, its end and the
    next group in the next). Returns {tag: reply to the end of data}."""
    tags = [f"{name}-{i}" for i in range(count)]
    replies = {}
    with Dialogue(port, timeout=60 * SLOW) as d:
        d.expect("220")
        d.ehlo()
        start.wait(timeout=60 * SLOW)
        d.send(envelope(0))
        for i, tag in enumerate(tags):
            d.expect("250 2.1.0")
            d.expect("250 2.1.5")
            d.expect("354")
            flight = message(tag) + ".\r\n"
            flight += envelope(i + 1) if i + 1 < count else "QUIT\r\n"
            d.send(flight)
            replies[tag] = d.read_reply().first
        d.expect("221")
    return replies


def load(srv, prefix, sessions, per_session):
    """`sessions` clients at once, each sending `per_session` messages;
    returns (acknowledged tags, refused tags) and checks that every end of
    data was answered either 250 queued or 452 4.3.1."""
    start = threading.Barrier(sessions)
    with concurrent.futures.ThreadPoolExecutor(max_workers=sessions) as pool:
        futures = [pool.submit(session, srv.port("relay"), f"{prefix}{k}", per_session, start)
                   for k in range(sessions)]
        replies = {}
        for f in futures:
            replies.update(f.result(timeout=120 * SLOW))
    acked = {t for t, r in replies.items() if r.startswith(QUEUED)}
    refused = {t for t, r in replies.items() if r.startswith(STORAGE_FAILURE)}
    other = {t: r for t, r in replies.items() if t not in acked and t not in refused}
    assert not other, f"end of data answered neither 250 queued nor 452 4.3.1: {other}"
    return acked, refused


def delivered_tags(srv):
    """Subjects of every message in the recipients' Maildirs (a message may
    be there twice: delivery is at least once)."""
    tags = []
    for address in RECIPIENTS:
        for m in srv.maildir_messages(address):
            for line in m.split(b"\n\n", 1)[0].split(b"\n"):
                if line.startswith(b"Subject: "):
                    tags.append(line[9:].decode().strip())
    return tags


def restart_and_check(srv, acked, refused):
    """SIGKILL, start again without the shim, let the recovered queue drain,
    and compare the Maildirs with what was acknowledged."""
    srv.kill9()
    srv.start()
    # Recovery rebuilt the queue from the segments; once no segment is left,
    # every recovered message is in its Maildir and recorded as delivered.
    srv.wait_spool_empty(timeout=60)
    delivered = set(delivered_tags(srv))
    assert not delivered & refused, (
        f"answered 452 yet delivered: {sorted(delivered & refused)}\n{srv.log_tail()}")
    assert acked <= delivered, (
        f"acknowledged but lost: {sorted(acked - delivered)}\n{srv.log_tail()}")
    assert delivered == acked, (
        f"delivered but never acknowledged: {sorted(delivered - acked)}\n{srv.log_tail()}")


@pytest.fixture
def relay_server(make_server):
    # 16 sessions from one address; the default per-IP limit is 50.
    return make_server(start=False, listeners=[relay("relay", "none")])


def test_every_nth_fsync_fails_under_concurrent_load(relay_server, monkeypatch):
    srv = relay_server
    # A batch appended to the open segment costs one matching call (its
    # fdatasync), one that starts a new segment two (and the queue
    # folder's fsync); a refused one costs another (the truncation is
    # synced, or the folder after the new file is removed) and makes the
    # next batch start a new segment; a local delivery costs one (its state
    # record). Every fourth call failing refuses a good share of the
    # batches and lets the rest through.
    start_with_faults(srv, monkeypatch, EVERY=4)
    acked, refused = load(srv, "nth", sessions=16, per_session=10)
    # The fault really fired, and did not stop everything.
    assert refused, f"no message was answered 452: the shim never fired\n{srv.log_tail()}"
    assert acked, f"no message was acknowledged\n{srv.log_tail()}"
    assert "fsync_fault: " in srv.log_text()
    assert srv.alive()
    restart_and_check(srv, acked, refused)


def test_failing_fsync_refuses_every_batch_then_recovers(relay_server, monkeypatch,
                                                         tmp_path):
    srv = relay_server
    control = tmp_path / "fail-fsync"
    start_with_faults(srv, monkeypatch, CONTROL=control)
    before, refused_before = load(srv, "before", sessions=8, per_session=3)
    assert not refused_before
    control.touch()
    try:
        acked_during, during = load(srv, "during", sessions=8, per_session=3)
    finally:
        control.unlink()
    # While the disk refuses every fsync, nothing is acknowledged.
    assert not acked_during, f"250 while every fsync failed: {sorted(acked_during)}"
    assert len(during) == 24
    # The spool is not poisoned: the next batches are stored again.
    after, refused_after = load(srv, "after", sessions=8, per_session=3)
    assert not refused_after, f"still refused after the disk recovered: {sorted(refused_after)}"
    assert srv.alive()
    restart_and_check(srv, before | after, during)
