"""Dovecot as the user database and the mailbox writer (SPEC §1.12):
`[auth] backend = "dovecot"` and `[delivery] local = "lmtp:unix:..."`.

A real Dovecot 2.3 (tests/tools/dovecot.py: own configuration in a temporary
directory, passwd-file users with SHA512-CRYPT and ARGON2ID hashes, the
auth-client, auth-userdb and lmtp sockets) checks the credentials of
submission clients, says which local recipients exist, and stores what
postern delivers by LMTP; imaplib reads it back. Users of postern's own users
file count for nothing in this set-up.
"""

import base64
import email
import smtplib
import tempfile
import time

import pytest

import dovecot
from postern_harness import SLOW, USERS, relay, submission
from dialogue import client_context
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
    d.own_mail_tree()
    d.start()
    yield d
    d.cleanup()


@pytest.fixture(scope="module")
def srv(make_module_server, dc):
    return make_module_server(
        listeners=[relay("relay", "none"), submission("submission")],
        auth={"backend": "dovecot", "dovecot_auth_socket": str(dc.auth_socket)},
        delivery={"local": f"lmtp:unix:{dc.lmtp_socket}", "retry_initial": "1s",
                  "retry_max": "2s"})


def wait_for_subjects(dc, user, subjects, timeout=20):
    """Waits until `user`'s INBOX holds a message with each subject; returns
    {subject: [message bytes, ...]}."""
    deadline = time.monotonic() + timeout * SLOW
    while True:
        found = {}
        for _, body in dc.imap_messages(user):
            found.setdefault(email.message_from_bytes(body)["Subject"], []).append(body)
        if all(s in found for s in subjects):
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"{user}: subjects {sorted(found)}, wanted {subjects}\n"
                                 f"{dc.log_tail()}")
        time.sleep(0.1)


def auth(client, mechanism, user, password):
    client.user, client.password = user, password
    return client.auth(mechanism, getattr(client, f"auth_{mechanism.lower()}"),
                       initial_response_ok=(mechanism == "PLAIN"))


@pytest.mark.parametrize("mechanism,user", [("PLAIN", CAROL), ("LOGIN", DAVE)])
def test_smtplib_login_with_dovecot_user(srv, dc, mechanism, user):
    sent = message(user, CAROL, subject=f"dovecot {mechanism}").encode()
    with smtp_starttls(srv.port("submission")) as c:
        code, text = auth(c, mechanism, user, DOVECOT_USERS[user])
        assert code == 235 and text.startswith(b"2.7.0"), (code, text)
        c.sendmail(user, [CAROL], sent)
    # In through LMTP, out through IMAP: what the client sent is the end of
    # what Dovecot stored, after Dovecot's and postern's trace headers.
    [fetched] = wait_for_subjects(dc, CAROL, [f"dovecot {mechanism}"])[f"dovecot {mechanism}"]
    assert fetched.endswith(sent), fetched
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


def starttls_from(port, source):
    """smtplib after STARTTLS, connecting from `source` (a 127.0.0.x)."""
    c = smtplib.SMTP("127.0.0.1", port, local_hostname="client.test", timeout=60 * SLOW,
                     source_address=(source, 0))
    c.ehlo()
    c.starttls(context=client_context())
    c.ehlo()
    return c


# Each refusal comes from its own client address: Dovecot delays further
# answers to an address that keeps failing (its auth penalty, up to 15 s),
# as postern's own throttle does, and postern passes the client's address
# on (rip=), so one address would make the later tests wait.
@pytest.mark.parametrize("user,password,source", [
    (CAROL, "wrong-password", "127.0.0.2"),      # known to Dovecot, wrong password
    ("nobody@example.test", "x", "127.0.0.3"),   # unknown to Dovecot
    (ALICE, USERS[ALICE], "127.0.0.4"),          # only in postern's users file
])
def test_refused_credentials_get_535(srv, user, password, source):
    with starttls_from(srv.port("submission"), source) as c:
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


def test_rcpt_checked_against_dovecot(srv, dc):
    with smtp(srv.port("relay")) as c:
        c.ehlo()
        assert c.mail("<someone@remote.example>")[0] == 250
        assert c.rcpt(f"<{DAVE}>")[0] == 250
        code, text = c.rcpt("<nobody@example.test>")
        assert code == 550 and text.startswith(b"5.1.1"), (code, text)
        assert c.rcpt(f"<{CAROL}>")[0] == 250
        # Both known recipients in one transaction.
        sent = message("someone@remote.example", [DAVE, CAROL], subject="two").encode()
        code, _ = c.data(sent)
        assert code == 250
    for user in (DAVE, CAROL):
        [fetched] = wait_for_subjects(dc, user, ["two"])["two"]
        assert fetched.endswith(sent)


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
            # Cached a moment ago (positive answers live 60 s): accepted,
            # and the message waits in the queue for LMTP.
            assert c.rcpt(f"<{DAVE}>")[0] == 250
            code, _ = c.data(message("someone@remote.example", DAVE,
                                     subject="queued while down").encode())
            assert code == 250
        srv.wait_for_log("LMTP server unreachable")
        time.sleep(2.5)  # retries against the missing socket
        assert srv.spool_segments(), "the message must stay queued while Dovecot is down"
        log = srv.log_text()
        assert "what=auth" in log and 'action="answered 454"' in log
        assert "what=userdb" in log and 'action="answered 451"' in log
        assert "bounced" not in log
    finally:
        dc.start()
    wait_for_subjects(dc, DAVE, ["queued while down"])
    srv.wait_spool_empty()
    time.sleep(2.5)
    assert len(wait_for_subjects(dc, DAVE, ["queued while down"])["queued while down"]) == 1
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
