"""A throw-away redis-server (Debian's redis-server package) for tests and
the bench: its own config in a temp dir, loopback only, no persistence,
stopped by stop() (or at exit). kill() and start() again on the same port
simulate an outage and a return."""

import atexit
import pathlib
import shutil
import socket
import subprocess
import tempfile
import time

from postern_harness import SLOW, free_port

REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"


class RedisServer:
    def __init__(self, port=None):
        self.port = port or free_port()
        self.dir = pathlib.Path(tempfile.mkdtemp(prefix="postern-redis-"))
        self.conf = self.dir / "redis.conf"
        self.conf.write_text("\n".join([
            "bind 127.0.0.1",
            f"port {self.port}",
            f"dir {self.dir}",
            'save ""',
            "appendonly no",
            "daemonize no",
            "protected-mode yes",
            f"logfile {self.dir / 'redis.log'}",
            "",
        ]))
        self.proc = None
        atexit.register(self.stop)

    @property
    def url(self):
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout=10.0):
        self.proc = subprocess.Popen([REDIS_SERVER, str(self.conf)], stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     start_new_session=True)
        deadline = time.monotonic() + timeout * SLOW
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"redis-server exited with {self.proc.returncode}:\n"
                                   f"{self.log_text()}")
            if self.ping():
                return self
            time.sleep(0.05)
        self.kill()
        raise RuntimeError(f"redis-server did not answer PING within {timeout}s")

    def ping(self):
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                s.sendall(b"PING\r\n")
                return s.recv(64).startswith(b"+PONG")
        except OSError:
            return False

    def command(self, *args):
        """One command in RESP; returns the raw reply bytes (enough for tests)."""
        payload = f"*{len(args)}\r\n".encode()
        for a in args:
            a = str(a).encode()
            payload += f"${len(a)}\r\n".encode() + a + b"\r\n"
        with socket.create_connection(("127.0.0.1", self.port), timeout=5) as s:
            s.sendall(payload)
            return s.recv(65536)

    def kill(self):
        """SIGKILL: Redis is gone at once, as in a crash."""
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        shutil.rmtree(self.dir, ignore_errors=True)

    def log_text(self):
        try:
            return (self.dir / "redis.log").read_text(errors="replace")
        except FileNotFoundError:
            return ""
