"""`postern serve` without --config runs the embedded default (SPEC §2):
loopback listeners on 2025/2587/2465/2525, data under ./postern-data, a
self-signed certificate and a first user whose password is printed once.
Real clients can use it straight away."""

import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import pathlib

import pytest

import postern_harness as harness
from smtp_clients import message, smtp, swaks

PORTS = (2025, 2587, 2465, 2525)


def ports_free():
    for port in PORTS:
        with socket.socket() as s:
            # Like the server: a port in TIME_WAIT from an earlier run is free.
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                return False
    return True


class DefaultServer:
    def __init__(self, cwd):
        self.cwd = self.dir = cwd
        self.out = cwd / "serve.out"
        self.proc = None
        self.keep = False

    def log_tail(self, lines=60):
        return f"--- serve output ({self.out}) ---\n" + "\n".join(self.text().splitlines()[-lines:])

    def start(self):
        with open(self.out, "ab") as out:
            self.proc = subprocess.Popen([harness.POSTERN, "serve"], cwd=self.cwd,
                                         stdin=subprocess.DEVNULL, stdout=out,
                                         stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 20 * harness.SLOW
        while not set(PORTS) <= harness._listening_ports():
            assert self.proc.poll() is None, f"serve exited {self.proc.returncode}\n{self.text()}"
            assert time.monotonic() < deadline, f"default listeners not ready\n{self.text()}"
            time.sleep(0.05)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                return self.proc.wait(10 * harness.SLOW)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
                return "killed"
        return self.proc.returncode if self.proc else None

    def text(self):
        return self.out.read_text(errors="replace") if self.out.exists() else ""


@pytest.fixture
def default_server():
    if not ports_free():
        pytest.skip("ports 2025/2587/2465/2525 are busy; the embedded default needs them")
    srv = DefaultServer(pathlib.Path(tempfile.mkdtemp(prefix="postern-e2e-default-")))
    harness.LIVE.append(srv)  # log tail and kept folder on failure (conftest)
    try:
        srv.start()
        yield srv
    finally:
        status = srv.stop()
        harness.LIVE.remove(srv)
        if not srv.keep:
            shutil.rmtree(srv.dir, ignore_errors=True)
    if status != 0:
        pytest.fail(f"serve exit status {status}\n{srv.log_tail()}", pytrace=False)


def credentials(text):
    user = re.search(r"user:\s*(\S+@\S+)", text)
    password = re.search(r"password:\s*(\S+)", text)
    assert user and password, f"no first user printed:\n{text}"
    return user.group(1), password.group(1)


def wait_for_mail(folder, count, timeout=20):
    deadline = time.monotonic() + timeout * harness.SLOW
    while True:
        files = sorted(folder.iterdir()) if folder.is_dir() else []
        if len(files) >= count:
            return [f.read_bytes() for f in files]
        assert time.monotonic() < deadline, f"{len(files)} message(s) in {folder}"
        time.sleep(0.05)


def test_embedded_default_first_start_and_real_clients(default_server):
    srv = default_server
    user, password = credentials(srv.text())
    local, domain = user.split("@")
    assert domain == "localhost"
    maildir = srv.cwd / "postern-data" / "mail" / "localhost" / local / "new"

    result = swaks("--server", "127.0.0.1:2587", "-tls", "--auth-user", user,
                   "--auth-password", password, "--from", user, "--to", user,
                   "--header", "Subject: default via swaks")
    assert result.returncode == 0, result.stdout + result.stderr + srv.text()
    wait_for_mail(maildir, 1)

    client = smtp(2465, implicit_tls=True)
    try:
        client.login(user, password)
        client.sendmail(user, [user], message(user, user, subject="default via 2465"))
    finally:
        client.quit()
    messages = wait_for_mail(maildir, 2)
    assert any(b"default via swaks" in m for m in messages)
    assert any(b"default via 2465" in m for m in messages)

    # The relay port accepts mail for the local domain without AUTH.
    client = smtp(2025)
    try:
        client.ehlo()
        assert not client.has_extn("auth")
        client.sendmail("someone@remote.test", [user],
                        message("someone@remote.test", user, subject="default via 2025"))
    finally:
        client.quit()
    wait_for_mail(maildir, 3)

    # Submission on 2525 requires STARTTLS before AUTH, like 2587.
    client = smtp(2525)
    try:
        client.ehlo()
        assert client.has_extn("starttls") and not client.has_extn("auth")
    finally:
        client.quit()

    # The password is shown once: a second start prints none.
    assert srv.stop() == 0, srv.text()
    printed = srv.text()
    srv.start()
    again = srv.text()[len(printed):]
    assert password not in again and "password:" not in again, again
