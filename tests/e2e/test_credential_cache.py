"""The credential cache (SPEC §1.10, docs/limits.md "Credential cache"):
a client that logs in for every message costs one argon2id hash, not one
per login; a wrong password is still checked and refused; a password
changed with `postern user passwd` takes effect at the next login."""

import base64
import smtplib
import subprocess
import time
import urllib.request

import pytest

from postern_harness import POSTERN, SLOW, free_port, submission
from smtp_clients import message, smtp_starttls

ALICE = "alice@example.test"
BOB = "bob@example.test"


@pytest.fixture
def server(make_server):
    port = free_port()
    srv = make_server(listeners=[submission("submission")],
                      extra_toml=f'\n[metrics]\naddress = "127.0.0.1:{port}"\n')
    srv.metrics_port = port
    return srv


def checks(srv):
    """{'hash': n, 'cache': n} from postern_auth_password_checks_total."""
    with urllib.request.urlopen(f"http://127.0.0.1:{srv.metrics_port}/metrics",
                                timeout=10 * SLOW) as r:
        text = r.read().decode()
    out = {"hash": 0, "cache": 0}
    for line in text.splitlines():
        if line.startswith("postern_auth_password_checks_total{"):
            key, value = line.rsplit(" ", 1)
            out[key.split('how="')[1].split('"')[0]] = int(float(value))
    return out


def send_one(srv, password, subject):
    client = smtp_starttls(srv.port("submission"), cafile=srv.cert)
    try:
        client.login(ALICE, password)
        client.sendmail(ALICE, [BOB], message(ALICE, BOB, subject=subject))
    finally:
        client.quit()


def test_ten_logins_cost_one_hash_and_wrong_password_is_still_checked(server):
    for i in range(10):
        send_one(server, server.users[ALICE], f"message {i}")
    assert checks(server) == {"hash": 1, "cache": 9}
    server.wait_for_maildir(BOB, count=10)

    # One AUTH PLAIN by hand: smtplib's login() would try LOGIN after a
    # refused PLAIN, a second check.
    client = smtp_starttls(server.port("submission"), cafile=server.cert)
    client.ehlo()
    wrong = base64.b64encode(f"\0{ALICE}\0{server.users[ALICE]}-not".encode()).decode()
    code, _ = client.docmd("AUTH", "PLAIN " + wrong)
    assert code == 535
    client.quit()
    assert checks(server) == {"hash": 2, "cache": 9}
    # The owner's cached login survives someone else's wrong guess.
    send_one(server, server.users[ALICE], "after the guess")
    assert checks(server) == {"hash": 2, "cache": 10}
    log = server.log_text()
    assert server.users[ALICE] not in log


def test_password_change_takes_effect_at_the_next_login(server):
    send_one(server, server.users[ALICE], "before")
    send_one(server, server.users[ALICE], "cached")
    assert checks(server)["cache"] == 1
    r = subprocess.run([POSTERN, "user", "passwd", ALICE, "--users-file", str(server.users_file),
                        "--password-stdin"], input="a-brand-new-password\n",
                       capture_output=True, text=True, timeout=60 * SLOW)
    assert r.returncode == 0, r.stderr
    # The users file is polled every 2 s; the old password stops working
    # with the first poll after the change, cached or not.
    deadline = time.monotonic() + 10 * SLOW
    while True:
        client = smtp_starttls(server.port("submission"), cafile=server.cert)
        try:
            client.login(ALICE, server.users[ALICE])
            still_good = True
        except smtplib.SMTPAuthenticationError as e:
            assert e.smtp_code == 535
            still_good = False
        client.quit()
        if not still_good:
            break
        assert time.monotonic() < deadline, "old password still accepted 10 s after passwd"
        time.sleep(0.5)
    send_one(server, "a-brand-new-password", "after")
    server.wait_for_maildir(BOB, count=3)
