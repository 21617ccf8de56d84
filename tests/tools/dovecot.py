"""Runs a real Dovecot 2.3 (Debian dovecot-core, -imapd, -lmtpd) for tests.

Everything lives in one temporary directory: the configuration, base_dir
(sockets, pid file), state_dir, the log, and the passwd-file. No system path
is read or written, so it runs beside a system Dovecot (which the tests do
not need and scripts/install-deps.sh keeps stopped).

    dc = Dovecot(mail_root=srv.data_dir / "mail",
                 users={"carol@example.test": "pw"})
    dc.start()
    ... dc.auth_socket, dc.userdb_socket, dc.lmtp_socket, dc.imap_port ...
    dc.imap_messages("carol@example.test")   # [(flags, bytes)] via imaplib
    dc.stop()

Dovecot never touches mail as root, so mail belongs to `mail_user`
(default nobody); postern's tests run as root, so a test that lets Dovecot
read what postern wrote calls own_mail_tree() first. Dovecot's own helper
processes run as the package's unprivileged users (dovecot, dovenull), or
`nobody` when the package did not create them.
"""

import imaplib
import os
import pathlib
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
DOVEADM = shutil.which("doveadm") or "/usr/bin/doveadm"


def available():
    return os.path.exists(DOVECOT) and os.path.exists(DOVEADM)


def _existing_user(*names):
    for name in names:
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    raise RuntimeError(f"none of the users {names} exists")


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def password_hash(scheme, password):
    """`doveadm pw` as an operator would run it; scheme SHA512-CRYPT or
    ARGON2ID. Needs no configuration (-c /dev/null would be refused for some
    schemes, so an empty temporary file is used)."""
    with tempfile.NamedTemporaryFile("w", suffix=".conf") as empty:
        out = subprocess.run([DOVEADM, "-c", empty.name, "pw", "-s", scheme, "-p", password],
                             capture_output=True, text=True, timeout=60, check=True)
    return out.stdout.strip()


class Dovecot:
    def __init__(self, mail_root, users, schemes=("SHA512-CRYPT", "ARGON2ID"),
                 mail_user="nobody", workdir=None, hashes=None, quota=False):
        """users: {"user@domain": password}; the hash scheme of each user
        cycles through `schemes`, so two users cover both. hashes:
        {"user@domain": "{SCHEME}hash"} written as given instead (e.g. the
        argon2id hash from postern's users file). quota: Dovecot's quota
        plugin with a full mailbox answered 452 4.2.2 (quota_full_tempfail);
        set_quota(user, "100B") limits one user."""
        self.hashes = dict(hashes or {})
        self.quota = quota
        self.quotas = {}
        self.dir = pathlib.Path(workdir or tempfile.mkdtemp(prefix="dovecot-e2e-"))
        # Dovecot's auth process runs unprivileged and must read the
        # passwd-file; the login processes enter base_dir/login.
        os.chmod(self.dir, 0o755)
        self.keep = False
        self.mail_root = pathlib.Path(mail_root)
        self.users = dict(users)
        self.base_dir = self.dir / "run"
        self.state_dir = self.dir / "state"
        self.log_path = self.dir / "dovecot.log"
        self.conf_path = self.dir / "dovecot.conf"
        self.passwd_path = self.dir / "passwd"
        self.imap_port = _free_port()
        self.lmtp_port = _free_port()  # LMTP over TCP too, on loopback
        self.auth_socket = self.base_dir / "auth-client"
        self.userdb_socket = self.base_dir / "auth-userdb"
        self.lmtp_socket = self.base_dir / "lmtp"
        # Dovecot refuses mail access as root ("Mail access not allowed for
        # root"): mail belongs to this unprivileged user.
        self.mail_user = pwd.getpwnam(_existing_user(mail_user))
        self.proc = None
        self.state_dir.mkdir(mode=0o755)
        self.base_dir.mkdir(mode=0o755)
        self.schemes = schemes
        self.hashed = {}
        self._write_passwd()
        self.conf_path.write_text(self.config_text())

    def set_quota(self, user, storage):
        """Sets a user's mailbox quota ("100B", "10M"); Dovecot rereads the
        passwd-file when it changes."""
        self.quotas[user] = storage
        self._write_passwd()

    def _write_passwd(self):
        schemes = self.schemes
        lines = []
        for i, (user, password) in enumerate(self.users.items()):
            scheme = schemes[i % len(schemes)]
            # user:password:uid:gid:(gecos):home:(shell):extra fields
            if user not in self.hashed:
                self.hashed[user] = self.hashes.get(user) or password_hash(scheme, password)
            extra = f"userdb_quota_rule=*:storage={self.quotas[user]}" if user in self.quotas else ""
            lines.append(f"{user}:{self.hashed[user]}::::::{extra}")
        tmp = self.passwd_path.with_suffix(".tmp")
        tmp.write_text("\n".join(lines) + "\n")
        os.chmod(tmp, 0o644)
        os.replace(tmp, self.passwd_path)

    def config_text(self):
        internal = _existing_user("dovecot", "nobody")
        login = _existing_user("dovenull", "nobody")
        return f"""# Written by tests/tools/dovecot.py
instance_name = postern-test-{os.getpid()}-{self.imap_port}
base_dir = {self.base_dir}
state_dir = {self.state_dir}
log_path = {self.log_path}
info_log_path = {self.log_path}
debug_log_path = {self.log_path}
protocols = imap lmtp
listen = 127.0.0.1
ssl = no
auth_mechanisms = plain login
auth_verbose = yes
default_internal_user = {internal}
default_internal_group = {internal}
default_login_user = {login}
mail_uid = {self.mail_user.pw_uid}
mail_gid = {self.mail_user.pw_gid}
first_valid_uid = 1
first_valid_gid = 1
mail_fsync = always
lmtp_save_to_detail_mailbox = no
# No index files beside the Maildirs: postern's tree stays as postern made it.
mail_location = maildir:{self.mail_root}/%d/%n:INDEX=MEMORY
{self._quota_text()}namespace inbox {{
  inbox = yes
  separator = .
}}
passdb {{
  driver = passwd-file
  args = username_format=%u {self.passwd_path}
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {self.passwd_path}
}}
service auth {{
  unix_listener auth-client {{
    mode = 0666
  }}
  unix_listener auth-userdb {{
    mode = 0666
  }}
}}
service lmtp {{
  unix_listener lmtp {{
    mode = 0666
  }}
  inet_listener lmtp {{
    address = 127.0.0.1
    port = {self.lmtp_port}
  }}
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.imap_port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service pop3-login {{
  inet_listener pop3 {{
    port = 0
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
"""

    def own_mail_tree(self):
        """Hands the mail tree to the mail user, as an operator does when
        postern (run as root in these tests) wrote it and Dovecot reads it."""
        uid, gid = self.mail_user.pw_uid, self.mail_user.pw_gid
        self.mail_root.mkdir(parents=True, exist_ok=True)
        os.chown(self.mail_root, uid, gid)
        for top, dirs, files in os.walk(self.mail_root):
            for name in dirs + files:
                os.chown(os.path.join(top, name), uid, gid)
        # The test directories above it are 0700 (mkdtemp): the mail user
        # must be able to pass through them.
        for parent in self.mail_root.resolve().parents:
            if parent == pathlib.Path(tempfile.gettempdir()) or parent == pathlib.Path("/"):
                break
            os.chmod(parent, os.stat(parent).st_mode | 0o011)

    def _quota_text(self):
        if not self.quota:
            return ""
        # A full mailbox is a temporary failure (452 4.2.2), as an operator
        # who wants mail kept until the user makes room configures it.
        return """mail_plugins = $mail_plugins quota
quota_full_tempfail = yes
plugin {
  quota = maildir:User quota
}
"""

    # -- process ------------------------------------------------------------
    def start(self, timeout=20.0):
        """Starts Dovecot in the foreground and waits for its sockets and
        the IMAP port."""
        assert self.proc is None or self.proc.poll() is not None, "already running"
        with open(self.log_path, "ab") as log:
            log.write(b"=== dovecot.py: start ===\n")
            log.flush()
            self.proc = subprocess.Popen([DOVECOT, "-F", "-c", str(self.conf_path)],
                                         stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"dovecot exited with {self.proc.returncode} during "
                                   f"start-up\n{self.log_tail()}")
            if self._ready():
                return self
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"dovecot not ready after {timeout:.0f}s\n{self.log_tail()}")
            time.sleep(0.05)

    def _ready(self):
        for path in (self.auth_socket, self.userdb_socket, self.lmtp_socket):
            if not path.is_socket():
                return False
        try:
            with socket.create_connection(("127.0.0.1", self.imap_port), timeout=1):
                return True
        except OSError:
            return False

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout=10.0):
        """SIGTERM to the master (it stops its children), SIGKILL to the
        whole process group after `timeout`. Waits until the sockets are
        gone so that a test can count on "Dovecot is down"."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
        # Children in the same session that outlived the master.
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        for path in (self.auth_socket, self.userdb_socket, self.lmtp_socket):
            try:
                path.unlink()
            except FileNotFoundError:
                pass

    def cleanup(self):
        self.stop()
        if not self.keep:
            shutil.rmtree(self.dir, ignore_errors=True)

    def log_text(self):
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def log_tail(self, lines=40):
        tail = self.log_text().splitlines()[-lines:]
        return f"--- dovecot log tail ({self.log_path}) ---\n" + "\n".join(tail)

    # -- IMAP ---------------------------------------------------------------
    def imap(self, user):
        client = imaplib.IMAP4("127.0.0.1", self.imap_port, timeout=15)
        client.login(user, self.users[user])
        return client

    def imap_messages(self, user, mailbox="INBOX"):
        """Every message of `mailbox` as (flags, RFC822 bytes), in UID
        order, read with imaplib."""
        client = self.imap(user)
        try:
            status, _ = client.select(mailbox, readonly=True)
            assert status == "OK", f"SELECT {mailbox}: {status}"
            status, data = client.uid("SEARCH", None, "ALL")
            assert status == "OK"
            messages = []
            for uid in data[0].split():
                status, parts = client.uid("FETCH", uid, "(FLAGS BODY.PEEK[])")
                assert status == "OK", f"FETCH {uid}: {status}"
                meta, body = parts[0]
                messages.append((meta.decode(), body))
            return messages
        finally:
            client.logout()

    def wait_imap_messages(self, user, count, mailbox="INBOX", timeout=15.0):
        deadline = time.monotonic() + timeout
        while True:
            messages = self.imap_messages(user, mailbox)
            if len(messages) >= count:
                return messages
            if time.monotonic() > deadline:
                raise AssertionError(f"{user} {mailbox}: {len(messages)} message(s) after "
                                     f"{timeout:.0f}s, wanted {count}\n{self.log_tail()}")
            time.sleep(0.1)
