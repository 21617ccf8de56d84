"""`postern user add|passwd|del|list` against a real users file, and the
running server picking up the change (SPEC §1.3, §3)."""

import os
import smtplib
import ssl
import stat
import subprocess
import time

import pytest

import postern_harness as harness

POSTERN = harness.POSTERN


def user(*args, password=None, cwd=None):
    return subprocess.run([POSTERN, "user", *args], input=password, capture_output=True,
                          text=True, timeout=60, cwd=cwd)


@pytest.fixture
def users_file(tmp_path):
    return tmp_path / "users"


def test_add_list_passwd_del(users_file):
    r = user("add", "alice@example.test", "--users-file", str(users_file), "--password-stdin",
             password="first secret\n")
    assert r.returncode == 0, r.stderr
    assert "alice@example.test added" in r.stdout
    line = [l for l in users_file.read_text().splitlines() if l.startswith("alice@")][0]
    assert line.startswith("alice@example.test:$argon2id$v=19$"), line
    assert stat.S_IMODE(os.stat(users_file).st_mode) == 0o640

    r = user("list", "--users-file", str(users_file))
    assert r.returncode == 0 and r.stdout.split() == ["alice@example.test"]

    before = users_file.read_text()
    r = user("passwd", "alice@example.test", "--users-file", str(users_file), "--password-stdin",
             password="second secret\n")
    assert r.returncode == 0, r.stderr
    assert users_file.read_text() != before

    r = user("del", "alice@example.test", "--users-file", str(users_file))
    assert r.returncode == 0, r.stderr
    assert user("list", "--users-file", str(users_file)).stdout.strip() == ""


def test_refusals_have_exit_status_and_say_what_to_do(users_file):
    assert user("add", "bob@example.test", "--users-file", str(users_file), "--password-stdin",
                password="pw\n").returncode == 0
    dup = user("add", "bob@example.test", "--users-file", str(users_file), "--password-stdin",
               password="pw\n")
    assert dup.returncode == 1
    assert "already exists" in dup.stderr and "passwd" in dup.stderr
    missing = user("del", "nobody@example.test", "--users-file", str(users_file))
    assert missing.returncode == 1 and "no user" in missing.stderr
    nopass = user("passwd", "nobody@example.test", "--users-file", str(users_file),
                  "--password-stdin", password="pw\n")
    assert nopass.returncode == 1
    bad = user("add", "not-an-address", "--users-file", str(users_file), "--password-stdin",
               password="pw\n")
    assert bad.returncode != 0
    # Without a terminal and without --password-stdin there is nobody to ask.
    noterm = user("add", "carol@example.test", "--users-file", str(users_file), password="")
    assert noterm.returncode == 2 and "--password-stdin" in noterm.stderr


def test_passwords_never_printed(users_file):
    secret = "Tr0ub4dor&3-never-shown"
    outputs = []
    for args in (("add", "dave@example.test"), ("passwd", "dave@example.test")):
        r = user(*args, "--users-file", str(users_file), "--password-stdin",
                 password=secret + "\n")
        assert r.returncode == 0, r.stderr
        outputs.append(r.stdout + r.stderr)
    assert all(secret not in o for o in outputs)
    assert secret not in users_file.read_text()


def test_generate_prints_password_once_and_it_works(users_file):
    r = user("add", "erin@example.test", "--users-file", str(users_file), "--generate")
    assert r.returncode == 0, r.stderr
    password = r.stdout.split("password:")[1].split()[0]
    assert len(password) == 20


def test_running_server_picks_up_a_new_user(make_server):
    server = make_server(users={"alice@example.test": "alice-pw"})
    r = user("add", "newbie@example.test", "--users-file", str(server.users_file),
             "--password-stdin", password="newbie-pw\n")
    assert r.returncode == 0, r.stderr
    port = server.port("submission")
    deadline = time.monotonic() + 15 * harness.SLOW
    while True:
        try:
            with smtplib.SMTP("127.0.0.1", port, timeout=10) as c:
                c.starttls(context=ssl._create_unverified_context())
                c.login("newbie@example.test", "newbie-pw")
            break
        except smtplib.SMTPAuthenticationError:
            # The server polls the users file every few seconds.
            assert time.monotonic() < deadline, "the server never picked up the new user"
            time.sleep(0.5)
