"""One server per data_dir (docs/delivery.md "One server per data_dir"): a
second `postern serve` on a live data_dir exits non-zero, names the running
server's pid, and leaves every byte of the data_dir as it was."""

import hashlib
import os
import stat
import subprocess
import time

import pytest

import postern_harness as harness
from fake_dns import FakeDns
from postern_harness import POSTERN, SLOW, relay
from smtp_clients import message, smtp

SENDER = "alice@example.test"


def tree_digest(root):
    """A digest of every file's name, size and bytes under `root` (the lock
    file itself included), and of every directory's name."""
    h = hashlib.sha256()
    for folder, dirs, files in sorted(os.walk(root)):
        dirs.sort()
        h.update(f"d {os.path.relpath(folder, root)}\n".encode())
        for name in sorted(files):
            path = os.path.join(folder, name)
            if not stat.S_ISREG(os.lstat(path).st_mode):
                h.update(f"s {name}\n".encode())  # the control socket
                continue
            with open(path, "rb") as f:
                data = f.read()
            h.update(f"f {name} {len(data)}\n".encode())
            h.update(data)
    return h.hexdigest()


@pytest.fixture
def dns():
    server = FakeDns("remote.test SERVFAIL\n")
    port = server.start()
    yield port
    server.stop()


def test_second_server_on_a_live_data_dir_changes_nothing(make_server, dns):
    # Mail for a remote domain stays queued: its DNS fails, and the retry
    # is an hour away, so the first server leaves its spool alone.
    first = make_server(listeners=[relay("mx", "none")], relay_networks=("127.0.0.0/8",),
                        extra_toml=f'\n[delivery]\nresolver = "127.0.0.1:{dns}"\n'
                                   'retry_initial = "1h"\nconnect_timeout = "1s"\n')
    with smtp(first.port("mx")) as client:
        for i in range(3):
            client.sendmail(SENDER, ["bob@remote.test"],
                            message(SENDER, ["bob@remote.test"], subject=f"held {i}"))
        client.sendmail(SENDER, ["bob@example.test"],
                        message(SENDER, ["bob@example.test"], subject="local"))
    first.wait_for_maildir("bob@example.test", 1)
    first.wait_for_log("deferred id=", timeout=20)
    time.sleep(0.5 * SLOW)  # the deferral's record lands after its log line
    before = tree_digest(first.data_dir)

    # The same configuration, so the same data_dir, with listeners on ports
    # of its own (the first server holds its ports; we want the lock to
    # refuse, not the bind).
    second = harness.Server(listeners=[relay("mx", "none")], relay_networks=("127.0.0.0/8",),
                            extra_toml=first.extra_toml)
    try:
        second.config_path.write_text(second.config_text().replace(
            str(second.data_dir), str(first.data_dir)))
        started = time.monotonic()
        result = subprocess.run([POSTERN, "serve", "--config", str(second.config_path)],
                                capture_output=True, text=True, timeout=30 * SLOW)
        elapsed = time.monotonic() - started
    finally:
        second.cleanup()

    assert result.returncode != 0, result
    assert f"pid {first.proc.pid}" in result.stderr, result.stderr
    assert "in use by another postern serve" in result.stderr, result.stderr
    assert elapsed < 10 * SLOW
    # It never got as far as the spool: no recovery, no listener, no log.
    assert "resumed=" not in result.stderr and "listen" not in result.stderr, result.stderr
    assert tree_digest(first.data_dir) == before

    # The first server is unaffected and still delivers.
    with smtp(first.port("mx")) as client:
        client.sendmail(SENDER, ["bob@example.test"],
                        message(SENDER, ["bob@example.test"], subject="after"))
    first.wait_for_maildir("bob@example.test", 2)


def test_lock_is_released_when_the_server_dies(make_server):
    server = make_server(listeners=[relay("mx", "none")])
    server.kill9()
    # flock goes with the process: a restart after a crash is not refused.
    server.start()
    with smtp(server.port("mx")) as client:
        client.sendmail(SENDER, ["bob@example.test"],
                        message(SENDER, ["bob@example.test"], subject="after crash"))
    server.wait_for_maildir("bob@example.test", 1)
    lock = server.data_dir / "postern.lock"
    assert lock.read_text().strip() == str(server.proc.pid)
