"""The systemd unit (packaging/systemd/postern.service) and the sd_notify
datagrams (SPEC §1.11): `systemd-analyze verify` accepts the unit (skipped
where systemd is not installed), and a server started with a fake
NOTIFY_SOCKET sends READY=1 once it listens, RELOADING=1 then READY=1
around a SIGHUP reload, and STOPPING=1 on SIGTERM."""

import os
import pathlib
import shutil
import signal
import socket
import subprocess

import pytest

from postern_harness import POSTERN, REPO, SLOW, relay

UNIT = REPO / "packaging" / "systemd" / "postern.service"


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd is not installed")
def test_systemd_analyze_verify(tmp_path):
    # verify checks that the commands exist: point them at the built binary.
    unit = tmp_path / "postern.service"
    unit.write_text(UNIT.read_text().replace("/usr/sbin/postern", POSTERN))
    man = pathlib.Path(POSTERN).parent / "man"
    env = dict(os.environ)
    if (man / "postern.8").exists():
        # Documentation=man:postern(8) is checked too, against the built pages.
        (tmp_path / "man8").mkdir()
        (tmp_path / "man5").mkdir()
        shutil.copy(man / "postern.8", tmp_path / "man8")
        shutil.copy(man / "postern.toml.5", tmp_path / "man5")
        env["MANPATH"] = str(tmp_path)
        args = []
    else:
        args = ["--man=no"]
    r = subprocess.run(["systemd-analyze", "verify", *args, str(unit)], capture_output=True,
                       text=True, timeout=60, env=env)
    assert r.returncode == 0 and "postern.service" not in r.stderr, r.stdout + r.stderr


def test_unit_declares_notify_reload_and_hardening():
    text = UNIT.read_text()
    for line in ("Type=notify", "ExecReload=/usr/sbin/postern reload", "NoNewPrivileges=yes",
                 "ProtectSystem=strict", "ReadWritePaths=/var/lib/postern", "PrivateTmp=yes",
                 "LimitNOFILE="):
        assert line in text, line


class NotifySocket:
    def __init__(self, directory):
        self.path = str(pathlib.Path(directory) / "notify.sock")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.sock.settimeout(15 * SLOW)

    def next(self):
        return self.sock.recv(4096).decode()

    def close(self):
        self.sock.close()


def test_notify_ready_reloading_stopping(make_server, tmp_path):
    notify = NotifySocket(tmp_path)
    try:
        srv = make_server(start=False, listeners=[relay("relay", "none")])
        srv.start(env={"NOTIFY_SOCKET": notify.path})
        ready = notify.next()
        assert ready.startswith("READY=1\n") and "STATUS=" in ready, ready
        srv.proc.send_signal(signal.SIGHUP)
        reloading = notify.next()
        assert reloading.startswith("RELOADING=1\nMONOTONIC_USEC="), reloading
        assert int(reloading.split("MONOTONIC_USEC=")[1].strip()) > 0
        assert notify.next().startswith("READY=1\n")
        srv.proc.send_signal(signal.SIGTERM)
        assert notify.next() == "STOPPING=1\n"
        assert srv.proc.wait(10 * SLOW) == 0
        srv.expect_dead = True  # stopped here, cleanly: nothing for teardown to do
    finally:
        notify.close()
