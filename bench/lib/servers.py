"""The processes the benchmark starts: a private Postfix instance, postern,
smtp-sink, a black-hole smarthost and openssl s_server.

Everything started is written to <work>/started ("pid N" or "postfix DIR"),
so bench/run.sh's EXIT trap can stop it even if this Python process dies.
Every wait here is bounded.
"""

import os
import pathlib
import shutil
import signal
import socket
import subprocess
import time

LOOPBACK = "127.0.0.1"
_ports_given = set()


class BenchError(RuntimeError):
    pass


def free_port():
    """A loopback port nobody listens on, never the same one twice."""
    for _ in range(100):
        with socket.socket() as s:
            s.bind((LOOPBACK, 0))
            port = s.getsockname()[1]
        if port not in _ports_given:
            _ports_given.add(port)
            return port
    raise BenchError("no free loopback port")


def wait_port(port, proc=None, timeout=20.0, what="server"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise BenchError(f"{what} exited with status {proc.returncode} before listening")
        try:
            with socket.create_connection((LOOPBACK, port), timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    raise BenchError(f"{what} did not listen on {LOOPBACK}:{port} within {timeout:.0f}s")


def tail(path, lines=15):
    try:
        return "\n".join(pathlib.Path(path).read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


class Registry:
    """Remembers what was started, in memory and in <work>/started."""

    def __init__(self, work):
        self.path = pathlib.Path(work) / "started"
        self.path.touch()

    def add(self, kind, value):
        with self.path.open("a") as f:
            f.write(f"{kind} {value}\n")


def stop_process(proc, timeout=20.0, before_kill=None):
    """SIGTERM, wait, then SIGKILL. `before_kill` runs after SIGTERM (e.g.
    to release a peer the process is blocked on)."""
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    if before_kill:
        before_kill()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


def spawn(registry, argv, log_path, **kw):
    log = open(log_path, "ab")
    proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, **kw)
    log.close()
    registry.add("pid", f"{proc.pid} {os.path.basename(argv[0])[:15]}")
    return proc


class BlackHole:
    """A smarthost that takes TCP connections into its backlog and never
    answers: postern's delivery workers wait on its banner, so queued mail
    stays queued (delivery held) without any per-message retry work."""

    def __init__(self):
        self.port = free_port()
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((LOOPBACK, self.port))
        self.sock.listen(64)

    def close(self):
        # Pending connections are reset, which frees the blocked workers.
        if self.sock is not None:
            self.sock.close()
            self.sock = None


class SmtpSink:
    """Postfix's smtp-sink: speaks SMTP, stores nothing."""

    def __init__(self, registry, work, port=None, max_messages=None, name="sink"):
        self.port = port or free_port()
        argv = ["smtp-sink", "-u", "nobody"]
        if max_messages:
            argv += ["-M", str(max_messages)]
        argv += [f"{LOOPBACK}:{self.port}", "1024"]
        self.log = pathlib.Path(work) / f"{name}.log"
        self.proc = spawn(registry, argv, self.log)
        self._wait_listen()

    @staticmethod
    def reserve():
        """A port for a sink started later (its address goes into a
        configuration first)."""
        return free_port()

    def _wait_listen(self):
        # Looks at the listening socket instead of connecting, so that no
        # probe session shows up in the sink's counts.
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            out = subprocess.run(["ss", "-Htln", f"sport = :{self.port}"],
                                 capture_output=True, text=True, timeout=10).stdout
            if out.strip():
                return
            if self.proc.poll() is not None:
                raise BenchError(f"smtp-sink exited: {tail(self.log)}")
            time.sleep(0.05)
        raise BenchError("smtp-sink did not listen")

    def wait_exit(self, timeout):
        """True when the sink ended by itself (it had all -M messages)."""
        try:
            self.proc.wait(timeout=timeout)
            return True
        except subprocess.TimeoutExpired:
            return False

    def stop(self):
        stop_process(self.proc, timeout=5)


class Postfix:
    """A private Postfix instance: its own config, queue and data
    directories and its own loopback port. Root may start Postfix with
    `postfix -c DIR` for any DIR (the alternate_config_directories check
    only applies to unprivileged users), so no default main.cf is needed."""

    SERVICES = """\
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
virtual   unix  -       n       n       -       -       virtual
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
"""

    def __init__(self, registry, work, name, mode, sink_port=None, process_limit=256,
                 milter=None, transports=None, sasl=None):
        """mode: "hold" (accepted mail goes to the hold queue), "relay"
        (everything to [127.0.0.1]:sink_port), "local" (virtual Maildirs) or
        "transport" (each domain of `transports`, {domain: "host:port"}, to
        its own nexthop: one destination each, as MX delivery would make).
        sasl: (dovecot auth socket, cert, key): the listener becomes a
        submission port as the seed's set-up has it: STARTTLS required,
        AUTH through Dovecot (smtpd_sasl_type = dovecot), only
        authenticated clients may send."""
        self.root = pathlib.Path(work) / name
        self.conf = self.root / "conf"
        self.queue = self.root / "queue"
        self.data = self.root / "data"
        self.vmail = self.root / "vmail"
        for d in (self.conf, self.queue, self.data, self.vmail):
            d.mkdir(parents=True, exist_ok=True)
        shutil.chown(self.data, "postfix")
        shutil.chown(self.vmail, "nobody", "nogroup")
        self.port = free_port()
        self.log = self.root / "maillog"
        # smtpd and cleanup process limits raised from 100 so that 200
        # concurrent clients each get an smtpd, as they each get a session
        # in postern; everything else is Postfix's default.
        (self.conf / "master.cf").write_text(
            f"{LOOPBACK}:{self.port} inet n - n - {process_limit} smtpd\n" + self.SERVICES)
        main = [
            "compatibility_level = 3.6",
            f"queue_directory = {self.queue}",
            f"data_directory = {self.data}",
            "mail_owner = postfix",
            "setgid_group = postdrop",
            "myhostname = postfix.bench.test",
            "mydomain = bench.test",
            "mydestination =",
            f"inet_interfaces = {LOOPBACK}",
            "inet_protocols = ipv4",
            "mynetworks = 127.0.0.0/8",
            "relay_domains = relay.test",
            "smtpd_recipient_restrictions = permit_mynetworks, reject_unauth_destination",
            f"default_process_limit = {process_limit}",
            "alias_maps =",
            "alias_database =",
            "local_recipient_maps =",
            "smtputf8_enable = no",
            "biff = no",
            f"maillog_file = {self.log}",
            f"maillog_file_prefixes = {self.root}",
            f"syslog_name = postfix-bench-{name}",
        ]
        if mode == "hold":
            main.append("smtpd_data_restrictions = check_client_access static:HOLD")
        elif mode == "relay":
            main.append(f"relayhost = [{LOOPBACK}]:{sink_port}")
        elif mode == "transport":
            # Postfix's own defaults for destination concurrency and
            # timeouts stay as shipped: that is what is compared.
            entries = ", ".join(f"{d}=smtp:[{hp.rsplit(':', 1)[0]}]:{hp.rsplit(':', 1)[1]}"
                                for d, hp in sorted(transports.items()))
            main += [f"transport_maps = inline:{{ {entries} }}",
                     f"relay_domains = {', '.join(sorted(transports))}"]
        elif mode == "local":
            main += [
                "virtual_mailbox_domains = local.test",
                f"virtual_mailbox_base = {self.vmail}",
                "virtual_mailbox_maps = inline:{ user@local.test=local.test/user/ }",
                "virtual_uid_maps = static:65534",
                "virtual_gid_maps = static:65534",
            ]
        else:
            raise ValueError(mode)
        if sasl:
            auth_socket, cert, key = sasl
            main += [
                f"smtpd_tls_cert_file = {cert}",
                f"smtpd_tls_key_file = {key}",
                "smtpd_tls_security_level = encrypt",
                "smtpd_tls_auth_only = yes",
                "smtpd_sasl_auth_enable = yes",
                "smtpd_sasl_type = dovecot",
                f"smtpd_sasl_path = {auth_socket}",
                "smtpd_recipient_restrictions = permit_sasl_authenticated, reject",
                "smtpd_relay_restrictions = permit_sasl_authenticated, reject",
            ]
        if milter:
            # A failing milter must show as failed messages, not as unsigned
            # mail counted as signed.
            main += [f"smtpd_milters = unix:{milter}", "milter_default_action = tempfail"]
        (self.conf / "main.cf").write_text("\n".join(main) + "\n")
        self.maildir_new = self.vmail / "local.test" / "user" / "new"
        self.started = False

    def _postfix(self, *args, timeout=60):
        # Postfix prints its diagnostics only to a terminal or the log file.
        return subprocess.run(["postfix", "-c", str(self.conf), *args],
                              capture_output=True, text=True, timeout=timeout)

    def start(self, registry):
        r = self._postfix("check")
        if r.returncode != 0:
            raise BenchError(f"postfix -c {self.conf} check failed:\n{r.stderr}\n{tail(self.log)}")
        registry.add("postfix", self.conf)
        r = self._postfix("start")
        if r.returncode != 0:
            raise BenchError(f"postfix -c {self.conf} start failed:\n{r.stderr}\n{tail(self.log)}")
        self.started = True
        wait_port(self.port, what="postfix smtpd")

    def master_pid(self):
        try:
            return int((self.queue / "pid" / "master.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def count(self, sub):
        d = self.queue / sub
        n = 0
        for _root, _dirs, files in os.walk(d):
            n += len(files)
        return n

    def stop(self):
        if not self.started:
            return
        pid = self.master_pid()
        self._postfix("stop")
        deadline = time.monotonic() + 20
        while pid and time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.1)
        else:
            if pid:
                self._postfix("abort")
        self.started = False


class Postern:
    """postern with a generated configuration: a plaintext relay listener
    (127.0.0.0/8 may relay), optionally an implicit-TLS listener."""

    def __init__(self, binary, work, name, users_file, cert, key, smarthost=None,
                 unsafe=False, tls=False, held=False, dkim=(), delivery=(), submission=False,
                 extra=(), extra_limits=(), relay_networks=True, inbound=()):
        """dkim: (domain, selector, key file) per [[dkim]] table; extra: lines
        appended at the end (whole tables, e.g. [state]); extra_limits: more
        [limits] keys. Without relay_networks the clients on 127.0.0.1 are the
        world: their mail meets the [inbound] checks (lines in `inbound`)."""
        self.binary = binary
        self.root = pathlib.Path(work) / name
        self.data = self.root / "data"
        self.data.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(users_file, self.root / "users")
        self.port = free_port()
        self.tls_port = free_port() if tls else None
        # STARTTLS required, AUTH before MAIL: the port 587 of SPEC §1.1.
        self.submission_port = free_port() if submission else None
        self.log = self.root / "postern.log"
        self.config = self.root / "postern.toml"
        self.maildir_new = self.data / "mail" / "local.test" / "user" / "new"
        lines = [
            'hostname = "postern.bench.test"',
            f'data_dir = "{self.data}"',
            'local_domains = ["local.test"]',
            'relay_networks = ["127.0.0.0/8"]' if relay_networks else "relay_networks = []",
            # Run as root, postern drops to `user` (docs/service.md); the
            # benchmark measures the server, not the privilege drop.
            *(['user = "root"'] if os.geteuid() == 0 else []),
            "",
            "[tls]",
            f'cert = "{cert}"',
            f'key = "{key}"',
            "",
            "[auth]",
            f'users_file = "{self.root / "users"}"',
            "",
            "[[listener]]",
            f'address = "{LOOPBACK}:{self.port}"',
            'role = "relay"',
            'tls = "none"',
        ]
        if tls:
            lines += ["", "[[listener]]", f'address = "{LOOPBACK}:{self.tls_port}"',
                      'role = "submission"', 'tls = "implicit"']
        if submission:
            lines += ["", "[[listener]]", f'address = "{LOOPBACK}:{self.submission_port}"',
                      'role = "submission"', 'tls = "starttls-required"']
        # Sessions: 10,000 idle sessions (plus TLS ones) all come from
        # 127.0.0.1, so both the global and the per-IP bounds are raised.
        lines += ["", "[limits]", "max_sessions = 20000", "max_sessions_per_ip = 20000",
                  'idle_timeout = "10m"', *extra_limits, "", "[delivery]"]
        if smarthost:
            lines += [f'smarthost = "{LOOPBACK}:{smarthost}"', 'smarthost_tls = "none"']
        if held:
            # Every delivery worker waits on the black hole's banner, so the
            # queue is held: one connection per worker, all to it.
            lines += ["max_connections = 2", "max_connections_per_destination = 2",
                      'connect_timeout = "1h"', 'command_timeout = "1h"']
        lines += ['retry_initial = "1h"', 'retry_max = "1h"', *delivery]
        if unsafe:
            lines += ["", "[spool]", "unsafe_ack_before_fsync = true"]
        if inbound:
            lines += ["", "[inbound]", *inbound]
        for domain, selector, key_file in dkim:
            lines += ["", "[[dkim]]", f'domain = "{domain}"', f'selector = "{selector}"',
                      f'key = "{key_file}"']
        lines += list(extra)
        self.config.write_text("\n".join(lines) + "\n")
        self.proc = None
        self.on_stop = None

    def start(self, registry):
        r = subprocess.run([self.binary, "check", "--quiet", "--config", str(self.config)],
                           capture_output=True, text=True, timeout=60)
        if r.returncode != 0:
            raise BenchError(f"postern check failed:\n{r.stdout}{r.stderr}")
        self.proc = spawn(registry, [self.binary, "serve", "--config", str(self.config)],
                          self.log)
        try:
            wait_port(self.port, self.proc, what="postern")
        except BenchError as e:
            raise BenchError(f"{e}\n{tail(self.log)}") from None

    def queued(self):
        """How many `queued` events postern has logged."""
        n = 0
        with open(self.log, "rb") as f:
            for line in f:
                if b"queued id=" in line:
                    n += 1
        return n

    def stop(self):
        stop_process(self.proc, timeout=20, before_kill=self.on_stop)


class UnboundServer:
    """Debian's unbound as an authoritative-only server on loopback for the
    inbound row: local-data answers from C, so the DNS server is not what
    is measured (and postern's libunbound caches the answers anyway)."""

    def __init__(self, registry, work, records):
        self.root = pathlib.Path(work) / "unbound"
        self.root.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.log = self.root / "unbound.log"
        zones = sorted({name.split(" ", 1)[0].rstrip(".").split(".", 1)[-1]
                        for name in records})
        lines = ["server:", "  interface: 127.0.0.1", f"  port: {self.port}",
                 "  do-daemonize: no", '  username: ""', '  chroot: ""',
                 f'  directory: "{self.root}"', '  pidfile: ""', "  use-syslog: no",
                 "  do-ip6: no", "  num-threads: 1", '  module-config: "iterator"',
                 "  access-control: 127.0.0.0/8 allow"]
        lines += [f'  local-zone: "{z}." static' for z in zones]
        lines += [f"  local-data: '{r}'" for r in records]
        lines += ["remote-control:", "  control-enable: no"]
        self.config = self.root / "unbound.conf"
        self.config.write_text("\n".join(lines) + "\n")
        binary = shutil.which("unbound") or "/usr/sbin/unbound"
        self.proc = spawn(registry, [binary, "-d", "-c", str(self.config)], self.log)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise BenchError(f"unbound exited with {self.proc.returncode}\n{tail(self.log)}")
            r = subprocess.run(["ss", "-Hlun", f"sport = :{self.port}"], capture_output=True,
                               text=True, timeout=10)
            if r.stdout.strip():
                return
            time.sleep(0.05)
        raise BenchError(f"unbound did not listen on udp {self.port}\n{tail(self.log)}")

    def stop(self):
        stop_process(self.proc, timeout=10)


class OpenDkim:
    """OpenDKIM as a milter on a unix socket, signing mail from 127.0.0.1
    (its default InternalHosts) for one domain, as Postfix sites run it."""

    def __init__(self, registry, work, domain, selector, key_file):
        self.root = pathlib.Path(work) / "opendkim"
        self.root.mkdir(parents=True, exist_ok=True)
        self.root.chmod(0o755)
        self.socket = self.root / "opendkim.sock"
        self.log = self.root / "opendkim.log"
        conf = self.root / "opendkim.conf"
        conf.write_text("\n".join([
            f"Socket local:{self.socket}",
            "UMask 000",  # Postfix's smtpd (user postfix) connects to it
            f"Domain {domain}",
            f"Selector {selector}",
            f"KeyFile {key_file}",
            "Mode s",
            "Canonicalization relaxed/relaxed",
            "SignatureAlgorithm rsa-sha256",
            "Syslog no",
            "RequireSafeKeys no",
            f"PidFile {self.root / 'opendkim.pid'}",
        ]) + "\n")
        self.proc = spawn(registry, ["opendkim", "-f", "-x", str(conf)], self.log)
        deadline = time.monotonic() + 20
        while not self.socket.exists():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise BenchError(f"opendkim did not open {self.socket}:\n{tail(self.log)}")
            time.sleep(0.05)

    def stop(self):
        stop_process(self.proc)


class SServer:
    """openssl s_server on the same certificate and key as postern."""

    def __init__(self, registry, work, cert, key):
        self.port = free_port()
        self.log = pathlib.Path(work) / "s_server.log"
        # -www: answers only HTTP GETs and never reads stdin; s_time without
        # -www just completes the handshake and closes.
        self.proc = spawn(registry, ["openssl", "s_server", "-accept", f"{LOOPBACK}:{self.port}",
                                     "-cert", str(cert), "-key", str(key), "-www", "-quiet"],
                          self.log)
        wait_port(self.port, self.proc, what="openssl s_server")

    def stop(self):
        stop_process(self.proc, timeout=5)


class DovecotAuth:
    """Dovecot 2.3 as Postfix's SASL server only (no IMAP, no mail): its
    own configuration, base_dir and log in the work directory, a
    passwd-file with one user, the verified-credential cache on
    (auth_cache_size), and an auth socket for Postfix's smtpd."""

    def __init__(self, registry, work, user, password, scheme="SHA512-CRYPT"):
        import pwd
        self.root = pathlib.Path(work) / "dovecot"
        self.root.mkdir(parents=True, exist_ok=True)
        self.root.chmod(0o755)
        run, state = self.root / "run", self.root / "state"
        run.mkdir(mode=0o755, exist_ok=True)
        state.mkdir(mode=0o755, exist_ok=True)
        self.log = self.root / "dovecot.log"
        self.socket = run / "auth-postfix"
        empty = self.root / "empty.conf"
        empty.write_text("")
        r = subprocess.run(["doveadm", "-c", str(empty), "pw", "-s", scheme, "-p", password],
                           capture_output=True, text=True, timeout=60)
        if r.returncode != 0:
            raise BenchError(f"doveadm pw -s {scheme} failed: {r.stderr}")
        passwd = self.root / "passwd"
        passwd.write_text(f"{user}:{r.stdout.strip()}::::::\n")
        passwd.chmod(0o644)

        def existing(*names):
            for n in names:
                try:
                    pwd.getpwnam(n)
                    return n
                except KeyError:
                    continue
            raise BenchError(f"none of the users {names} exists")

        internal = existing("dovecot", "nobody")
        login = existing("dovenull", "nobody")
        conf = self.root / "dovecot.conf"
        conf.write_text(f"""instance_name = postern-bench-{os.getpid()}
base_dir = {run}
state_dir = {state}
log_path = {self.log}
info_log_path = {self.log}
protocols =
listen = 127.0.0.1
ssl = no
auth_mechanisms = plain login
default_internal_user = {internal}
default_internal_group = {internal}
default_login_user = {login}
# Dovecot's cache of verified credentials, as a tuned site has it.
auth_cache_size = 10M
auth_cache_ttl = 1 hour
auth_cache_negative_ttl = 1 hour
passdb {{
  driver = passwd-file
  args = username_format=%u {passwd}
}}
userdb {{
  driver = static
  args = uid=65534 gid=65534 home=/nonexistent
}}
service auth {{
  unix_listener auth-postfix {{
    mode = 0666
  }}
}}
service stats {{
  unix_listener stats-reader {{
    mode = 0600
  }}
  unix_listener stats-writer {{
    mode = 0666
  }}
}}
""")
        self.proc = spawn(registry, ["dovecot", "-F", "-c", str(conf)], self.log,
                          start_new_session=True)
        deadline = time.monotonic() + 20
        while not self.socket.is_socket():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise BenchError(f"dovecot did not open {self.socket}:\n{tail(self.log)}")
            time.sleep(0.05)

    def stop(self):
        stop_process(self.proc)
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)  # auth children that outlived it
        except (ProcessLookupError, PermissionError):
            pass
