"""Receiving SMTP servers for delivery tests: tests/tools/smtp_receiver.py
(aiosmtpd) in a process of its own, one per loopback address, and a port
number free on several addresses at once (the sender's `remote_port`)."""

import json
import pathlib
import select
import socket
import subprocess
import sys
import time

import certs
import postern_harness as harness
from postern_harness import SLOW

RECEIVER_SCRIPT = pathlib.Path(__file__).resolve().parent / "smtp_receiver.py"


def port_free_on(hosts):
    """A port that is free on every one of `hosts`."""
    for _ in range(50):
        port = harness.free_port(hosts[0])
        ok = True
        for host in hosts[1:]:
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
                try:
                    s.bind((host, port))
                except OSError:
                    ok = False
        if ok:
            return port
    raise RuntimeError(f"no port free on all of {hosts}")


class Receiver:
    """One smtp_receiver.py process; messages and connections are read back
    from the files it writes."""

    def __init__(self, workdir, host, port, tls="none", delay=0.0, rcpt_script=None):
        """delay: seconds before answering each message's data (a slow
        destination); rcpt_script: {address: [replies]} answers RCPT (the last
        reply repeats; others get 250), see smtp_receiver.py."""
        self.host = host
        self.port = port
        self.out = pathlib.Path(workdir) / f"recv-{host}"
        args = [sys.executable, str(RECEIVER_SCRIPT), "--host", host, "--port", str(port),
                "--out", str(self.out), "--tls", tls]
        if delay:
            args += ["--delay", str(delay)]
        if rcpt_script is not None:
            script = pathlib.Path(workdir) / f"rcpt-script-{host}.json"
            script.write_text(json.dumps(rcpt_script))
            args += ["--rcpt-script", str(script)]
        if tls != "none":
            cert, key = certs.self_signed(pathlib.Path(workdir) / f"tls-{host}",
                                          names=("receiver.test", host))
            args += ["--cert", str(cert), "--key", str(key)]
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 15 * SLOW
        seen = b""
        while b"ready" not in seen:
            left = deadline - time.monotonic()
            if left <= 0 or self.proc.poll() is not None:
                self.stop()
                raise RuntimeError(f"receiver on {host}:{port} did not start: {seen!r}")
            ready, _, _ = select.select([self.proc.stdout], [], [], left)
            if ready:
                seen += self.proc.stdout.read1(4096)
        # aiosmtpd's Controller connects once itself to check that it is up;
        # that connection is not one of postern's.
        self.baseline = self._connection_lines()

    def messages(self):
        files = sorted(self.out.glob("msg-*.json"), key=lambda p: int(p.stem.split("-")[1]))
        return [json.loads(p.read_text()) for p in files]

    def rcpt_calls(self, address):
        """How many times RCPT TO named `address`."""
        try:
            return (self.out / "rcpt-calls").read_text().splitlines().count(address)
        except FileNotFoundError:
            return 0

    def connections(self):
        """Connections made since the receiver was ready."""
        return self._connection_lines() - self.baseline

    def _connection_lines(self):
        try:
            return len((self.out / "connections").read_text().splitlines())
        except FileNotFoundError:
            return 0

    def wait_for_messages(self, count, sender_server, timeout=20.0):
        deadline = time.monotonic() + timeout * SLOW
        while len(self.messages()) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"receiver {self.host}: {len(self.messages())} message(s), "
                                     f"wanted {count}\n{sender_server.log_tail()}")
            time.sleep(0.05)
        return self.messages()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        if self.proc.stdout:
            self.proc.stdout.close()


