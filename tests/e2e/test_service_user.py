"""Running as a real service (SPEC §1.11), as root: postern binds a port
below 1024, reads its key, then every thread runs as the service user
(`nobody` here, with a data_dir it owns); a message submitted is delivered
into a Maildir owned by that user; `postern queue` and `postern user` work
for root and for the service user; a user that does not exist, or staying
root without saying so, is an error of `postern check`."""

import os
import pathlib
import pwd
import smtplib
import ssl
import subprocess
import time

import pytest

from postern_harness import POSTERN, SLOW, Listener, relay, submission
from smtp_clients import message

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root (binds port 25, setuid)")

SERVICE_USER = "nobody"
BOB = "bob@example.test"
ALICE = "alice@example.test"
# An address of its own, so port 25 does not meet another test's listener.
HOST = "127.0.0.83"


def thread_uids(pid):
    """(real, effective, saved, fs) uid of every thread, from /proc."""
    uids = {}
    for task in pathlib.Path(f"/proc/{pid}/task").iterdir():
        for line in (task / "status").read_text().splitlines():
            if line.startswith("Uid:"):
                uids[task.name] = tuple(int(x) for x in line.split()[1:])
    return uids


def as_user(*args, user=SERVICE_USER, input=None):
    return subprocess.run(["setpriv", f"--reuid={user}", f"--regid={pwd.getpwnam(user).pw_gid}",
                           "--clear-groups", *args], capture_output=True, text=True,
                          input=input, timeout=60 * SLOW)


def prepare_for(srv, user):
    """What an administrator does: the service user can reach the data
    directory, and reads the key through its group (docs/service.md)."""
    entry = pwd.getpwnam(user)
    os.chmod(srv.dir, 0o755)
    os.chown(srv.key, 0, entry.pw_gid)
    os.chmod(srv.key, 0o640)
    os.chmod(srv.key.parent, 0o755)
    os.chown(srv.users_file, entry.pw_uid, entry.pw_gid)


@pytest.fixture
def service(make_server):
    srv = make_server(start=False, user=SERVICE_USER,
                      listeners=[Listener("smtp", "relay", "starttls", host=HOST, port=25),
                                 Listener("smtps", "submission", "implicit", host=HOST, port=465)])
    prepare_for(srv, SERVICE_USER)
    srv.start()
    return srv


def test_every_thread_runs_as_the_service_user_and_mail_flows(service):
    srv = service
    uid = pwd.getpwnam(SERVICE_USER).pw_uid
    uids = thread_uids(srv.proc.pid)
    assert len(uids) > 1, uids  # event loops, spool, delivery workers
    assert all(u == (uid, uid, uid, uid) for u in uids.values()), uids
    ps = subprocess.run(["ps", "-L", "-o", "user=", "-p", str(srv.proc.pid)], capture_output=True,
                        text=True).stdout.split()
    assert ps and set(ps) == {SERVICE_USER}, ps
    srv.wait_for_log("privileges")

    # Port 25, relay to a local user; and 465 with AUTH.
    client = smtplib.SMTP(HOST, 25, local_hostname="client.test", timeout=15 * SLOW)
    client.sendmail("someone@elsewhere.test", [BOB], message("someone@elsewhere.test", BOB,
                                                              subject="via 25"))
    client.quit()
    ctx = ssl.create_default_context(cafile=str(srv.cert))
    ctx.check_hostname = False
    client = smtplib.SMTP_SSL(HOST, 465, local_hostname="client.test", context=ctx,
                              timeout=15 * SLOW)
    client.login(ALICE, srv.users[ALICE])
    client.sendmail(ALICE, [BOB], message(ALICE, BOB, subject="via 465"))
    client.quit()
    delivered = srv.wait_for_maildir(BOB, 2)
    assert any(b"Subject: via 25" in m for m in delivered)
    folder = srv.maildir(BOB)
    for f in folder.iterdir():
        assert f.stat().st_uid == uid, f
    assert (srv.data_dir / "control.sock").stat().st_uid == uid

    # The tools, for root and for the service user.
    for runner in (lambda *a: subprocess.run(list(a), capture_output=True, text=True,
                                             timeout=60 * SLOW), as_user):
        listed = runner(POSTERN, "queue", "list", "--config", str(srv.config_path))
        assert listed.returncode == 0, listed.stdout + listed.stderr
        flushed = runner(POSTERN, "queue", "flush", "--config", str(srv.config_path))
        assert flushed.returncode == 0, flushed.stdout + flushed.stderr
        users = runner(POSTERN, "user", "list", "--config", str(srv.config_path))
        assert users.returncode == 0 and ALICE in users.stdout, users.stdout + users.stderr
        sent = runner(POSTERN, "sendmail", "--config", str(srv.config_path), BOB)
        assert sent.returncode == 0, sent.stderr
    srv.wait_for_maildir(BOB, 4)

    # root adds a user; the server, no longer root, still reads the file.
    added = subprocess.run([POSTERN, "user", "add", "carol@example.test", "--config",
                            str(srv.config_path), "--password-stdin"], input="carol-pass-3\n",
                           capture_output=True, text=True, timeout=60 * SLOW)
    assert added.returncode == 0, added.stderr
    assert srv.users_file.stat().st_uid == uid
    client = smtplib.SMTP_SSL(HOST, 465, local_hostname="client.test", context=ctx,
                              timeout=15 * SLOW)
    # The server notices the changed file within seconds.
    deadline = time.monotonic() + 10 * SLOW
    while True:
        try:
            client.login("carol@example.test", "carol-pass-3")
            break
        except smtplib.SMTPAuthenticationError:
            assert time.monotonic() < deadline, srv.log_tail()
            time.sleep(0.5)
    client.quit()


def check(config_path):
    return subprocess.run([POSTERN, "check", "--config", str(config_path)], capture_output=True,
                          text=True, timeout=60 * SLOW)


def test_unknown_user_is_an_error(make_server):
    srv = make_server(start=False, user="no-such-user-postern-e2e",
                      listeners=[relay("relay", "none")])
    result = check(srv.config_path)
    assert result.returncode == 1, result.stdout
    assert "no-such-user-postern-e2e" in result.stdout and "useradd" in result.stdout
    with pytest.raises(RuntimeError):
        srv.start()


def test_staying_root_needs_saying_so(make_server):
    try:
        pwd.getpwnam("postern")
        pytest.skip("a user postern exists here: the default applies")
    except KeyError:
        pass
    srv = make_server(start=False, user="", listeners=[relay("relay", "none")])
    result = check(srv.config_path)
    assert result.returncode == 1, result.stdout
    assert 'user = "root"' in result.stdout and "postern" in result.stdout, result.stdout
