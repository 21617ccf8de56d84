"""Runs the real `postern` binary for end-to-end tests.

A Server owns a temporary directory with its configuration, certificate,
users file, data_dir and log. Ports are free loopback ports chosen at
construction and kept across restarts. Typical use (through the
`postern_server` fixture in tests/e2e/conftest.py):

    srv = Server(listeners=[relay("mx", "starttls"), submission("sub")])
    srv.start()
    ... talk to srv.port("sub") ...
    srv.wait_for_maildir("alice@example.test", 1)
    srv.stop()

Delivery is asynchronous: tests poll the Maildir with a deadline.
"""

import atexit
import dataclasses
import os
import pathlib
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import certs

REPO = pathlib.Path(__file__).resolve().parent.parent.parent
POSTERN = os.environ.get("POSTERN_BIN", str(REPO / "build" / "postern"))

HOSTNAME = "mx.example.test"
DOMAIN = "example.test"
# Test users and their passwords; argon2id makes creating them slow-ish, so
# each users file is made once per test process and copied.
USERS = {
    "alice@example.test": "alice-correct-horse-1",
    "bob@example.test": "bob-battery-staple-2",
}

def _slowdown():
    """Sanitizer builds are about three times slower: deadlines for things
    that must happen scale with this (waits still return as soon as they
    do). POSTERN_TEST_SLOWDOWN overrides the detection."""
    if "POSTERN_TEST_SLOWDOWN" in os.environ:
        return float(os.environ["POSTERN_TEST_SLOWDOWN"])
    try:
        linked = subprocess.run(["ldd", POSTERN], capture_output=True, text=True, timeout=10)
        return 3.0 if "libasan" in linked.stdout or "libtsan" in linked.stdout else 1.0
    except (OSError, subprocess.SubprocessError):
        return 1.0


SLOW = _slowdown()


@dataclasses.dataclass
class Listener:
    name: str
    role: str
    tls: str
    insecure: bool = False
    host: str = "127.0.0.1"
    port: int = 0


def relay(name="relay", tls="starttls"):
    return Listener(name, "relay", tls)


def submission(name="submission", tls="starttls-required", insecure=False):
    return Listener(name, "submission", tls, insecure)


def standard_listeners():
    """One listener per role x TLS mode the tests use."""
    return [
        relay("relay", "starttls"),
        relay("relay_plain", "none"),
        submission("submission", "starttls-required"),
        submission("smtps", "implicit"),
        submission("submission_plain", "none", insecure=True),
    ]


_handed_out = set()


def free_port(host="127.0.0.1"):
    """A port that was free a moment ago (bind port 0, then release: the
    small race with other processes is accepted). The kernel may offer the
    same port again right after its release, so a port is handed out once
    per test process."""
    for _ in range(100):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind((host, 0))
            port = s.getsockname()[1]
        if port not in _handed_out:
            _handed_out.add(port)
            return port
    raise RuntimeError("no fresh free port found")


def _listening_sockets():
    """(address, port) of every socket in LISTEN state, from /proc (no
    connection is made, so readiness checks do not create sessions that count
    against limits). IPv4 addresses are dotted quads; IPv6 ones are reported
    as "v6", enough to tell them apart from the v4 listeners of other tests
    that share a port number on another 127.0.0.x address."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                next(f)
                for row in f:
                    fields = row.split()
                    if fields[3] != "0A":
                        continue
                    hex_ip, hex_port = fields[1].rsplit(":", 1)
                    if len(hex_ip) == 8:  # little-endian IPv4
                        ip = ".".join(str(int(hex_ip[i:i + 2], 16)) for i in (6, 4, 2, 0))
                    else:
                        ip = "v6"
                    found.add((ip, int(hex_port, 16)))
        except OSError:
            pass
    return found


def _listening_ports():
    """Port numbers in LISTEN state on any address."""
    return {port for _, port in _listening_sockets()}


def _is_listening(host, port, sockets):
    if ":" in host:
        return ("v6", port) in sockets
    return (host, port) in sockets or ("0.0.0.0", port) in sockets


# Every Server not yet cleaned up; the conftest hook prints their log tails
# when a test fails.
LIVE = []

_users_cache = {}
_users_cache_dir = None


def make_users_file(path, users):
    """Creates a users file with `postern user add --password-stdin`."""
    global _users_cache_dir
    key = tuple(sorted(users.items()))
    if key not in _users_cache:
        if _users_cache_dir is None:
            _users_cache_dir = tempfile.mkdtemp(prefix="postern-e2e-users-")
            atexit.register(shutil.rmtree, _users_cache_dir, True)
        cached = pathlib.Path(_users_cache_dir) / f"users-{len(_users_cache)}"
        for address, password in users.items():
            result = subprocess.run(
                [POSTERN, "user", "add", address, "--users-file", str(cached),
                 "--password-stdin"],
                input=password + "\n", capture_output=True, text=True, timeout=60 * SLOW)
            if result.returncode != 0:
                raise RuntimeError(f"postern user add {address} failed "
                                   f"({result.returncode}):\n{result.stdout}{result.stderr}")
        _users_cache[key] = cached
    shutil.copyfile(_users_cache[key], path)
    os.chmod(path, 0o600)


def _toml_value(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def _host_port(host, port):
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


class Server:
    def __init__(self, listeners=None, hostname=HOSTNAME, local_domains=(DOMAIN,),
                 relay_networks=(), limits=None, users=None, extra_toml="", workdir=None,
                 user=None, auth=None, delivery=None, inbound=None):
        self.dir = pathlib.Path(workdir or tempfile.mkdtemp(prefix="postern-e2e-"))
        self.keep = False
        self.hostname = hostname
        self.listeners = list(listeners or standard_listeners())
        for listener in self.listeners:
            if not listener.port:
                listener.port = free_port(listener.host)
        self.users = dict(USERS if users is None else users)
        self.data_dir = self.dir / "data"
        self.config_path = self.dir / "postern.toml"
        self.log_path = self.dir / "server.log"
        self.cert, self.key = certs.self_signed(self.dir / "tls")
        self.users_file = self.dir / "users"
        make_users_file(self.users_file, self.users)
        self.local_domains = list(local_domains)
        self.relay_networks = list(relay_networks)
        self.limits = dict(limits or {})
        self.extra_toml = extra_toml
        # The top-level `user`. Started as root, postern refuses to stay root
        # unless told so; tests that are not about the service user run as
        # whoever runs them.
        self.user = user if user is not None else ("root" if os.geteuid() == 0 else "")
        # More keys for [auth] and [delivery] ({"backend": "dovecot"}): TOML
        # allows a table once, so they cannot go into extra_toml.
        self.auth = dict(auth or {})
        self.delivery = dict(delivery or {})
        # [inbound] (SPEC §1.8). SPF, DKIM and DMARC are on by default in
        # postern, but most tests send from 127.0.0.1 on a relay listener
        # with no DNS for their domains and compare what is delivered:
        # they get the checks off unless they ask (inbound={...} is written
        # as given; inbound={} keeps postern's defaults).
        self.inbound = (dict(spf=False, dkim=False, dmarc=False) if inbound is None
                        else dict(inbound))
        self.proc = None
        self.starts = 0
        self.expect_dead = False  # set by kill9(): teardown does not complain
        LIVE.append(self)
        self.write_config()

    # -- configuration ------------------------------------------------------
    def config_text(self):
        lines = [
            f"hostname = {_toml_value(self.hostname)}",
            f"data_dir = {_toml_value(str(self.data_dir))}",
            f"local_domains = {_toml_value(self.local_domains)}",
            f"relay_networks = {_toml_value(self.relay_networks)}",
        ]
        if self.user:
            lines.append(f"user = {_toml_value(self.user)}")
        lines += [
            "",
            "[tls]",
            f"cert = {_toml_value(str(self.cert))}",
            f"key = {_toml_value(str(self.key))}",
            "",
            "[auth]",
            f"users_file = {_toml_value(str(self.users_file))}",
        ]
        lines += [f"{k} = {_toml_value(v)}" for k, v in self.auth.items()]
        lines.append("")
        if self.delivery:
            lines.append("[delivery]")
            lines += [f"{k} = {_toml_value(v)}" for k, v in self.delivery.items()]
            lines.append("")
        for l in self.listeners:
            lines += ["[[listener]]",
                      f"address = {_toml_value(_host_port(l.host, l.port))}",
                      f"role = {_toml_value(l.role)}",
                      f"tls = {_toml_value(l.tls)}"]
            if l.insecure:
                lines.append("insecure = true")
            lines.append("")
        if self.inbound:
            lines.append("[inbound]")
            lines += [f"{k} = {_toml_value(v)}" for k, v in self.inbound.items()]
            lines.append("")
        if self.limits:
            lines.append("[limits]")
            lines += [f"{k} = {_toml_value(v)}" for k, v in self.limits.items()]
            lines.append("")
        lines += ["[log]", 'target = "stderr"', ""]
        return "\n".join(lines) + self.extra_toml

    def write_config(self):
        self.config_path.write_text(self.config_text())

    def listener(self, name):
        for l in self.listeners:
            if l.name == name:
                return l
        raise KeyError(f"no listener named {name!r}")

    def port(self, name):
        return self.listener(name).port

    # -- process ------------------------------------------------------------
    def start(self, timeout=10.0, env=None, prefix=()):
        """Starts `postern serve` and waits until every listener listens.
        `env`: variables added to the server's environment; `prefix`: a
        command that runs it (e.g. `prlimit --nofile=256:256 --`)."""
        assert self.proc is None or self.proc.poll() is not None, "already running"
        self.starts += 1
        self.expect_dead = False
        with open(self.log_path, "ab") as log:
            log.write(f"=== harness: start #{self.starts} ===\n".encode())
            log.flush()
            self.proc = subprocess.Popen(
                [*prefix, POSTERN, "serve", "--config", str(self.config_path)],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, cwd=self.dir,
                start_new_session=True, env={**os.environ, **(env or {})})
        deadline = time.monotonic() + timeout * SLOW
        wanted = {(l.host, l.port) for l in self.listeners}
        while True:
            if self.proc.poll() is not None:
                self.expect_dead = True  # reported here; teardown need not repeat it
                raise RuntimeError(f"postern serve exited with {self.proc.returncode} "
                                   f"during start-up\n{self.log_tail()}")
            sockets = _listening_sockets()
            if all(_is_listening(host, port, sockets) for host, port in wanted):
                return self
            if time.monotonic() > deadline:
                self.kill9()
                raise RuntimeError(f"postern serve: listeners {sorted(wanted)} not ready "
                                   f"after {timeout * SLOW:.0f}s\n{self.log_tail()}")
            time.sleep(0.05)

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout=10.0):
        """SIGTERM, then SIGKILL after `timeout`; returns the exit status."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout * SLOW)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
                with open(self.log_path, "ab") as log:
                    log.write(b"=== harness: no exit after SIGTERM, sent SIGKILL ===\n")
                return "killed"
        return self.proc.returncode

    def kill9(self):
        """SIGKILL, as a crash or power loss would."""
        if self.alive():
            self.proc.kill()
        self.proc.wait(10)
        self.expect_dead = True
        with open(self.log_path, "ab") as log:
            log.write(b"=== harness: SIGKILL ===\n")

    def restart(self):
        if self.alive():
            self.stop()
        return self.start()

    # -- observation --------------------------------------------------------
    def log_text(self):
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def log_tail(self, lines=60):
        tail = self.log_text().splitlines()[-lines:]
        return f"--- postern log tail ({self.log_path}) ---\n" + "\n".join(tail)

    def wait_for_log(self, text, timeout=10.0):
        deadline = time.monotonic() + timeout * SLOW
        while text not in self.log_text():
            if time.monotonic() > deadline:
                raise AssertionError(f"log never showed {text!r}\n{self.log_tail()}")
            time.sleep(0.05)

    def maildir(self, address):
        local, domain = address.rsplit("@", 1)
        return self.data_dir / "mail" / domain.lower() / local / "new"

    def maildir_messages(self, address):
        """Bytes of every message in new/, oldest first."""
        folder = self.maildir(address)
        if not folder.is_dir():
            return []
        files = sorted(folder.iterdir(), key=lambda p: (p.stat().st_mtime_ns, p.name))
        return [p.read_bytes() for p in files if p.is_file()]

    def wait_for_maildir(self, address, count=1, timeout=15.0):
        """Waits until at least `count` messages are in new/; returns them all."""
        deadline = time.monotonic() + timeout * SLOW
        while True:
            messages = self.maildir_messages(address)
            if len(messages) >= count:
                return messages
            if time.monotonic() > deadline:
                raise AssertionError(f"{address}: {len(messages)} message(s) in "
                                     f"{self.maildir(address)} after {timeout * SLOW:.0f}s, "
                                     f"wanted {count}\n{self.log_tail()}")
            time.sleep(0.05)

    def assert_maildir_stays(self, address, count, wait=1.0):
        """Asserts that exactly `count` messages are there and stay so."""
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            n = len(self.maildir_messages(address))
            assert n == count, (f"{address}: {n} message(s), expected {count}\n"
                                f"{self.log_tail()}")
            time.sleep(0.1)

    def finish(self):
        """Stops the server; returns a description of anything wrong with
        how it ended (crashed during the test, unclean exit), or None."""
        if self.proc is None:
            return None
        if self.proc.poll() is not None and not self.expect_dead:
            return f"postern serve died during the test with status {self.proc.returncode}"
        status = self.stop()
        if not self.expect_dead and status != 0:
            return f"postern serve did not exit cleanly on SIGTERM: status {status}"
        return None

    def spool_segments(self):
        queue = self.data_dir / "spool" / "queue"
        return sorted(queue.glob("*.seg")) if queue.is_dir() else []

    def wait_spool_empty(self, timeout=15.0):
        """Waits until no queue segment is left (everything delivered and
        its result recorded), so a test can tamper with the spool safely."""
        deadline = time.monotonic() + timeout * SLOW
        while self.spool_segments():
            if time.monotonic() > deadline:
                raise AssertionError(f"spool not empty: {self.spool_segments()}\n"
                                     f"{self.log_tail()}")
            time.sleep(0.05)

    def cleanup(self):
        if self in LIVE:
            LIVE.remove(self)
        if not self.keep:
            shutil.rmtree(self.dir, ignore_errors=True)
