"""Relay role: mail for local users is accepted and delivered, everything
else is refused at RCPT, never an open relay (SPEC §1.1, §1.5)."""

import pytest

from dialogue import Dialogue
from postern_harness import relay
from smtp_clients import message, smtp

ALICE = "alice@example.test"


def open_transaction(port):
    d = Dialogue(port)
    d.expect("220")
    d.ehlo("mx.remote.test")
    d.cmd("MAIL FROM:<sender@remote.test>", "250 2.1.0")
    return d


def test_delivery_to_local_user(shared_server):
    client = smtp(shared_server.port("relay"))
    try:
        client.ehlo()
        client.sendmail("sender@remote.test", [ALICE],
                        message("sender@remote.test", ALICE, subject="inbound",
                                body="line one\r\nline two\r\n"))
    finally:
        client.quit()
    [delivered] = shared_server.wait_for_maildir(ALICE, 1)
    # Maildir holds LF line endings, with Return-Path and Delivered-To first.
    assert b"\r" not in delivered, delivered[:300]
    head = delivered.split(b"\n\n", 1)[0]
    assert head.startswith(b"Return-Path: <sender@remote.test>\n"), head
    assert f"Delivered-To: {ALICE}".encode() in head, head
    assert b"Subject: inbound" in head
    assert delivered.endswith(b"line one\nline two\n"), delivered[-80:]


def test_unknown_local_user_refused_at_rcpt(shared_server):
    with open_transaction(shared_server.port("relay")) as d:
        reply = d.cmd("RCPT TO:<nobody@example.test>", "550 5.1.1")
        assert "nobody@example.test" in reply.text and "User unknown" in reply.text, reply
        d.quit()


def test_local_domain_is_case_insensitive(shared_server):
    with open_transaction(shared_server.port("relay")) as d:
        d.cmd("RCPT TO:<alice@EXAMPLE.Test>", "250 2.1.5")
        d.quit()


@pytest.mark.parametrize("recipient", [
    "friend@remote.test",
    "a%remote.test@example.test",         # percent hack: old sendmail routing
    "@x.test,@y.test:a@remote.test",      # source route (RFC 5321 §4.1.1.3 / Appendix C)
    "@x.test,@y.test:alice@example.test",  # source route ending at a local user
    '"a@remote.test"@example.test',       # quoted local part hiding an address
    "remote.test!a@example.test",         # UUCP bang path
])
def test_relay_denied(shared_server, recipient):
    with open_transaction(shared_server.port("relay")) as d:
        reply = d.cmd(f"RCPT TO:<{recipient}>", "554 5.7.1")
        assert "Relay access denied" in reply.text, reply
        d.quit()


def test_relay_denied_on_plaintext_relay_too(shared_server):
    with open_transaction(shared_server.port("relay_plain")) as d:
        d.cmd("RCPT TO:<friend@remote.test>", "554 5.7.1")
        d.quit()


def test_relay_denied_even_after_starttls(shared_server):
    with Dialogue(shared_server.port("relay")) as d:
        d.expect("220")
        d.ehlo()
        d.starttls()
        d.ehlo()
        d.cmd("MAIL FROM:<sender@remote.test>", "250")
        d.cmd("RCPT TO:<friend@remote.test>", "554 5.7.1")
        d.quit()


def test_relay_networks_client_may_relay(make_server):
    srv = make_server(listeners=[relay("relay", "starttls")], relay_networks=["127.0.0.1/32"])
    with open_transaction(srv.port("relay")) as d:
        d.cmd("RCPT TO:<friend@remote.test>", "250 2.1.5")
        d.cmd("RCPT TO:<alice@example.test>", "250 2.1.5")
        d.cmd("RCPT TO:<nobody@example.test>", "550 5.1.1")
        d.cmd("DATA", "354")
        d.send("Subject: relayed\r\n\r\nto a remote domain\r\n.\r\n")
        d.expect("250 2.0.0 Ok: queued as")
        d.quit()
    # The local copy is delivered; the remote one stays queued (remote
    # delivery is not part of this test).
    [delivered] = srv.wait_for_maildir(ALICE, 1)
    assert b"to a remote domain" in delivered
