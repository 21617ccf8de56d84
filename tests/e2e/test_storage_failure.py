"""Storage failure answers 452 4.3.1 and never 250 (SPEC §1.4); the server
stays up and accepts mail again once storage is back."""

import os
import subprocess

import pytest

from dialogue import Dialogue
from postern_harness import relay

ALICE = "alice@example.test"


def try_send(srv, subject, body="body\r\n"):
    """One transaction; returns the reply to the end of data."""
    with Dialogue(srv.port("relay"), timeout=30) as d:
        d.expect("220")
        d.ehlo()
        d.cmd("MAIL FROM:<sender@remote.test>", "250")
        d.cmd(f"RCPT TO:<{ALICE}>", "250")
        d.cmd("DATA", "354")
        d.send(f"Subject: {subject}\r\n\r\n{body}\r\n.\r\n")
        reply = d.read_reply()
        d.cmd("QUIT", "221")
        return reply


def test_spool_replaced_by_a_file(make_server):
    srv = make_server(listeners=[relay("relay", "none")])
    assert try_send(srv, "first").first.startswith("250 2.0.0")
    srv.wait_for_maildir(ALICE, 1)
    srv.wait_spool_empty()
    spool = srv.data_dir / "spool"
    aside = srv.data_dir / "spool.aside"
    spool.rename(aside)
    spool.write_text("not a directory\n")
    try:
        for i in range(2):
            reply = try_send(srv, f"refused {i}")
            assert reply.first.startswith("452 4.3.1"), reply
        assert srv.alive()
    finally:
        spool.unlink()
        aside.rename(spool)
    reply = try_send(srv, "after repair")
    assert reply.first.startswith("250 2.0.0"), reply
    messages = srv.wait_for_maildir(ALICE, 2)
    srv.assert_maildir_stays(ALICE, 2, wait=1.0)
    assert b"after repair" in messages[-1]
    assert not any(b"refused" in m for m in messages)


def test_spool_removed_is_recreated(make_server):
    srv = make_server(listeners=[relay("relay", "none")])
    spool = srv.data_dir / "spool"
    subprocess.run(["rm", "-rf", str(spool)], check=True)
    reply = try_send(srv, "into a fresh spool")
    # Either the server recreates the folder and accepts, or it refuses
    # with 452; never 250 for a message it could not store.
    assert reply.first.startswith("250 2.0.0") or reply.first.startswith("452 4.3.1"), reply
    if reply.code == 250:
        srv.wait_for_maildir(ALICE, 1)
    else:
        assert try_send(srv, "second try").code in (250, 452)


@pytest.fixture
def small_tmpfs(tmp_path):
    mountpoint = tmp_path / "tmpfs"
    mountpoint.mkdir()
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mountpoint)],
                            capture_output=True, text=True)
    if result.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {result.stderr.strip()}")
    try:
        yield mountpoint
    finally:
        subprocess.run(["umount", "-l", str(mountpoint)], capture_output=True)


def fill(directory):
    """Fills the file system holding `directory`; returns the filler path."""
    filler = directory / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        block = b"\0" * 65536
        while block:
            try:
                os.write(fd, block)
            except OSError:
                block = block[: len(block) // 2]  # fill the last few bytes too
    finally:
        os.close(fd)
    return filler


def test_disk_full_answers_452(small_tmpfs, make_server):
    # small_tmpfs first: it is torn down last, after the server stopped.
    srv = make_server(start=False, listeners=[relay("relay", "none")])
    srv.data_dir = small_tmpfs / "data"
    srv.write_config()
    srv.start()
    assert try_send(srv, "fits").first.startswith("250 2.0.0")
    srv.wait_for_maildir(ALICE, 1)
    srv.wait_spool_empty()
    filler = fill(small_tmpfs)
    try:
        # Larger than the room the open segment has already written ahead
        # (1 MiB of zeros, src/spool/wal_spool.hpp kZeroAhead), which a smaller
        # message may still use, durably, on a full disk.
        reply = try_send(srv, "disk full", body="z" * 1_500_000)
        assert reply.first.startswith("452 4.3.1"), reply
        assert srv.alive()
    finally:
        os.unlink(filler)
    reply = try_send(srv, "space again", body="z" * 200_000)
    assert reply.first.startswith("250 2.0.0"), reply
    messages = srv.wait_for_maildir(ALICE, 2)
    assert not any(b"disk full" in m for m in messages)
