"""Submission AUTH (SPEC §1.3) and the sender rules of role submission
(SPEC §1.1), with smtplib, swaks and raw dialogues."""

import base64
import smtplib

import pytest

from dialogue import Dialogue
from smtp_clients import message, smtp_starttls, swaks

ALICE = "alice@example.test"
BOB = "bob@example.test"


def b64(text):
    return base64.b64encode(text.encode()).decode()


@pytest.mark.parametrize("mechanism", ["PLAIN", "LOGIN"])
def test_smtplib_login_and_send(server, mechanism):
    client = smtp_starttls(server.port("submission"), cafile=server.cert)
    try:
        client.user, client.password = ALICE, server.users[ALICE]
        code, text = client.auth(mechanism,
                                 getattr(client, f"auth_{mechanism.lower()}"),
                                 initial_response_ok=(mechanism == "PLAIN"))
        assert code == 235 and text.startswith(b"2.7.0"), (code, text)
        client.sendmail(ALICE, [BOB], message(ALICE, BOB, subject=f"via {mechanism}"))
    finally:
        client.quit()
    [delivered] = server.wait_for_maildir(BOB, 1)
    assert f"Subject: via {mechanism}".encode() in delivered


@pytest.mark.parametrize("mechanism", ["PLAIN", "LOGIN"])
def test_swaks_submission_happy_path(server, mechanism):
    result = swaks("--server", f"127.0.0.1:{server.port('submission')}", "-tls",
                   "--auth", mechanism, "--auth-user", ALICE,
                   "--auth-password", server.users[ALICE],
                   "--from", ALICE, "--to", BOB, "--header", f"Subject: swaks {mechanism}")
    out = result.stdout + result.stderr
    assert result.returncode == 0, out
    assert "235 2.7.0" in out and "250 2.0.0 Ok: queued as" in out, out
    [delivered] = server.wait_for_maildir(BOB, 1)
    assert f"Subject: swaks {mechanism}".encode() in delivered


def test_swaks_implicit_tls(server):
    result = swaks("--server", f"127.0.0.1:{server.port('smtps')}", "--tls-on-connect",
                   "--auth", "PLAIN", "--auth-user", BOB, "--auth-password", server.users[BOB],
                   "--from", BOB, "--to", ALICE)
    assert result.returncode == 0, result.stdout + result.stderr
    server.wait_for_maildir(ALICE, 1)


def test_login_prompts_and_wrong_password(server):
    with Dialogue(server.port("submission")) as d:
        d.expect("220")
        d.ehlo()
        d.starttls()
        d.ehlo()
        d.cmd("AUTH LOGIN", "334 VXNlcm5hbWU6")
        d.cmd(b64(ALICE), "334 UGFzc3dvcmQ6")
        d.cmd(b64("not the password"), "535 5.7.8 Authentication credentials invalid")
        # The session goes on: a correct AUTH PLAIN still works.
        d.cmd("AUTH PLAIN " + b64(f"\0{ALICE}\0{server.users[ALICE]}"), "235 2.7.0")
        d.quit()


def test_wrong_password_with_smtplib(server):
    client = smtp_starttls(server.port("submission"))
    try:
        with pytest.raises(smtplib.SMTPAuthenticationError) as err:
            client.login(ALICE, "wrong")
        assert err.value.smtp_code == 535
    finally:
        client.quit()


def test_unknown_user_is_just_invalid_credentials(server):
    with Dialogue(server.port("submission")) as d:
        d.expect("220")
        d.ehlo()
        d.starttls()
        d.ehlo()
        d.cmd("AUTH PLAIN " + b64("\0nobody@example.test\0whatever"), "535 5.7.8")
        d.quit()


def test_mail_without_auth_is_refused(server):
    with Dialogue(server.port("submission")) as d:
        d.expect("220")
        d.ehlo()
        d.starttls()
        d.ehlo()
        d.cmd(f"MAIL FROM:<{ALICE}>", "530 5.7.0 Authentication required")
        d.quit()


def test_sender_must_be_owned_by_user(server):
    client = smtp_starttls(server.port("submission"))
    try:
        client.login(ALICE, server.users[ALICE])
        code, text = client.mail(BOB)
        assert code == 553 and b"5.7.1" in text, (code, text)
        code, text = client.mail("ceo@elsewhere.test")
        assert code == 553, (code, text)
        code, text = client.mail(ALICE)
        assert code == 250, (code, text)
    finally:
        client.quit()


def test_null_sender_accepted_after_auth(server):
    with Dialogue(server.port("submission")) as d:
        d.expect("220")
        d.ehlo()
        d.starttls()
        d.ehlo()
        d.cmd("AUTH PLAIN " + b64(f"\0{ALICE}\0{server.users[ALICE]}"), "235")
        d.cmd("MAIL FROM:<>", "250 2.1.0")
        d.cmd(f"RCPT TO:<{BOB}>", "250 2.1.5")
        d.cmd("DATA", "354")
        d.send("Subject: auto-reply\r\n\r\nI am away.\r\n.\r\n")
        d.expect("250 2.0.0 Ok: queued as")
        d.quit()
    [delivered] = server.wait_for_maildir(BOB, 1)
    assert b"I am away." in delivered
    assert b"Return-Path: <>" in delivered


def test_any_recipient_after_auth(server):
    # Submission relays for its users: a remote recipient is accepted (it is
    # queued for remote delivery, which these tests do not wait for).
    client = smtp_starttls(server.port("submission"))
    try:
        client.login(ALICE, server.users[ALICE])
        assert client.mail(ALICE)[0] == 250
        assert client.rcpt("friend@remote.test")[0] == 250
    finally:
        client.quit()


def test_password_never_logged(server):
    client = smtp_starttls(server.port("submission"))
    try:
        client.login(ALICE, server.users[ALICE])
    finally:
        client.quit()
    client = smtp_starttls(server.port("submission"))
    try:
        with pytest.raises(smtplib.SMTPAuthenticationError):
            client.login(BOB, "a-wrong-password-xyzzy")
    finally:
        client.quit()
    server.wait_for_log("auth")
    log = server.log_text()
    assert server.users[ALICE] not in log
    assert "a-wrong-password-xyzzy" not in log
    assert b64(f"\0{ALICE}\0{server.users[ALICE]}") not in log
