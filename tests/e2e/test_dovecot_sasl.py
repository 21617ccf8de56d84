"""Dovecot as the user database (SPEC §1.12): `[auth] backend = "dovecot"`.

A real Dovecot 2.3 (tests/tools/dovecot.py: own configuration in a temporary
directory, passwd-file users with SHA512-CRYPT and ARGON2ID hashes, the
auth-client and auth-userdb sockets) checks the credentials of submission
clients and says which local recipients exist. Users of postern's own users
file count for nothing in this set-up.
"""

import base64
import smtplib
import tempfile

import pytest

import dovecot
from postern_harness import USERS, relay, submission
from smtp_clients import message, smtp, smtp_starttls, swaks

pytestmark = pytest.mark.skipif(not dovecot.available(),
                                reason="Dovecot (dovecot-core) is not installed")

CAROL = "carol@example.test"  # SHA512-CRYPT in Dovecot's passwd-file
DAVE = "dave@example.test"    # ARGON2ID
ERIN = "erin@example.test"    # only ever asked about while Dovecot is down
DOVECOT_USERS = {CAROL: "carol-dovecot-pw-1", DAVE: "dave-dovecot-pw-2",
                 ERIN: "erin-dovecot-pw-3"}
ALICE = "alice@example.test"  # in postern's users file only


@pytest.fixture(scope="module")
def dc():
    mail = tempfile.mkdtemp(prefix="dovecot-mail-")
    d = dovecot.Dovecot(mail_root=mail, users=DOVECOT_USERS)
    d.start()
    yield d
    d.cleanup()


@pytest.fixture(scope="module")
def srv(make_module_server, dc):
    return make_module_server(
        listeners=[relay("relay", "none"), submission("submission")],
        auth={"backend": "dovecot", "dovecot_auth_socket": str(dc.auth_socket)})


def auth(client, mechanism, user, password):
    client.user, client.password = user, password
    return client.auth(mechanism, getattr(client, f"auth_{mechanism.lower()}"),
                       initial_response_ok=(mechanism == "PLAIN"))


@pytest.mark.parametrize("mechanism,user", [("PLAIN", CAROL), ("LOGIN", DAVE)])
def test_smtplib_login_with_dovecot_user(srv, mechanism, user):
    with smtp_starttls(srv.port("submission")) as c:
        code, text = auth(c, mechanism, user, DOVECOT_USERS[user])
        assert code == 235 and text.startswith(b"2.7.0"), (code, text)
        c.sendmail(user, [CAROL], message(user, CAROL, subject=f"dovecot {mechanism}"))
    delivered = srv.wait_for_maildir(CAROL, 1)
    assert any(f"Subject: dovecot {mechanism}".encode() in m for m in delivered)
    assert f'result=ok method={mechanism} user="{user}"' in srv.log_text()


@pytest.mark.parametrize("mechanism", ["PLAIN", "LOGIN"])
def test_swaks_with_dovecot_user(srv, mechanism):
    result = swaks("--server", f"127.0.0.1:{srv.port('submission')}", "-tls",
                   "--auth", mechanism, "--auth-user", DAVE,
                   "--auth-password", DOVECOT_USERS[DAVE],
                   "--from", DAVE, "--to", CAROL, "--header", f"Subject: swaks {mechanism}")
    out = result.stdout + result.stderr
    assert result.returncode == 0, out
    assert "235 2.7.0" in out and "250 2.0.0 Ok: queued as" in out, out


@pytest.mark.parametrize("user,password", [
    (CAROL, "wrong-password"),          # known to Dovecot, wrong password
    ("nobody@example.test", "x"),       # unknown to Dovecot
    (ALICE, USERS[ALICE]),              # only in postern's users file
])
def test_refused_credentials_get_535(srv, user, password):
    with smtp_starttls(srv.port("submission")) as c:
        with pytest.raises(smtplib.SMTPAuthenticationError) as e:
            auth(c, "PLAIN", user, password)
        assert e.value.smtp_code == 535, e.value
        assert e.value.smtp_error.startswith(b"5.7.8")


def test_sender_ownership_uses_dovecots_user_name(srv):
    # Dovecot's passwd-file matches the name case-insensitively and answers
    # user=carol@example.test: that name, not the typed one, owns senders.
    with smtp_starttls(srv.port("submission")) as c:
        code, _ = auth(c, "PLAIN", CAROL.upper(), DOVECOT_USERS[CAROL])
        assert code == 235
        assert c.mail(f"<{CAROL}>")[0] == 250
        c.rset()
        code, text = c.mail(f"<{DAVE}>")
        assert code == 553, (code, text)
    assert f'result=ok method=PLAIN user="{CAROL}"' in srv.log_text()


def test_rcpt_checked_against_dovecot(srv):
    with smtp(srv.port("relay")) as c:
        c.ehlo()
        assert c.mail("<someone@remote.example>")[0] == 250
        assert c.rcpt(f"<{DAVE}>")[0] == 250
        code, text = c.rcpt("<nobody@example.test>")
        assert code == 550 and text.startswith(b"5.1.1"), (code, text)
        assert c.rcpt(f"<{CAROL}>")[0] == 250
        # Both known recipients in one transaction.
        code, _ = c.data(message("someone@remote.example", [DAVE, CAROL], subject="two")
                         .encode())
        assert code == 250
    for user in (DAVE, CAROL):
        assert any(b"Subject: two" in m for m in srv.wait_for_maildir(user, 1))


def test_dovecot_down_454_and_451_then_back(srv, dc):
    dc.stop()
    try:
        with smtp_starttls(srv.port("submission")) as c:
            code, text = auth_code(c, "PLAIN", CAROL, DOVECOT_USERS[CAROL])
            assert code == 454 and text.startswith(b"4.7.0"), (code, text)
            code, text = auth_code(c, "LOGIN", DAVE, DOVECOT_USERS[DAVE])
            assert code == 454, (code, text)
        with smtp(srv.port("relay")) as c:
            c.ehlo()
            assert c.mail("<someone@remote.example>")[0] == 250
            # Never asked before, so not cached: Dovecot must answer, and
            # cannot. 451, never a wrong 550.
            code, text = c.rcpt(f"<{ERIN}>")
            assert code == 451 and text.startswith(b"4.3.0"), (code, text)
            code, text = c.rcpt("<never-seen@example.test>")
            assert code == 451, (code, text)
        log = srv.log_text()
        assert "what=auth" in log and 'action="answered 454"' in log
        assert "what=userdb" in log and 'action="answered 451"' in log
    finally:
        dc.start()
    # Back: the same questions get their real answers.
    with smtp_starttls(srv.port("submission")) as c:
        assert auth(c, "PLAIN", CAROL, DOVECOT_USERS[CAROL])[0] == 235
    with smtp(srv.port("relay")) as c:
        c.ehlo()
        assert c.mail("<someone@remote.example>")[0] == 250
        assert c.rcpt(f"<{ERIN}>")[0] == 250
        assert c.rcpt("<never-seen@example.test>")[0] == 550


def auth_code(client, mechanism, user, password):
    """AUTH without smtplib's exception for every non-235 reply."""
    if mechanism == "PLAIN":
        blob = base64.b64encode(f"\0{user}\0{password}".encode()).decode()
        return client.docmd("AUTH", f"PLAIN {blob}")
    code, text = client.docmd("AUTH", "LOGIN")
    assert code == 334, (code, text)
    code, text = client.docmd(base64.b64encode(user.encode()).decode())
    assert code == 334, (code, text)
    return client.docmd(base64.b64encode(password.encode()).decode())
