"""Each listener keeps its purpose: role x TLS mode, checked with a raw
dialogue, smtplib and `openssl s_client` (SPEC §1.1)."""

import smtplib
import ssl

import pytest

from dialogue import Dialogue, client_context
from postern_harness import HOSTNAME
from smtp_clients import s_client, smtp, smtp_starttls


def test_relay_starttls_offers_starttls_and_never_auth(shared_server):
    with Dialogue(shared_server.port("relay")) as d:
        d.expect(f"220 {HOSTNAME} ESMTP postern")
        ehlo = d.ehlo()
        for keyword in ("PIPELINING", "SIZE", "8BITMIME", "ENHANCEDSTATUSCODES", "SMTPUTF8",
                        "CHUNKING", "DSN", "STARTTLS"):
            assert keyword in ehlo.keywords(), ehlo
        assert "AUTH" not in ehlo.keywords(), ehlo
        d.cmd("AUTH PLAIN AGFsaWNlQGV4YW1wbGUudGVzdABwdw==", "503 5.5.1")
        d.starttls()
        ehlo = d.ehlo()
        assert "STARTTLS" not in ehlo.keywords(), ehlo
        assert "AUTH" not in ehlo.keywords(), ehlo
        d.cmd("AUTH PLAIN AGFsaWNlQGV4YW1wbGUudGVzdABwdw==", "503 5.5.1")
        d.quit()


def test_relay_starttls_is_optional(shared_server):
    with Dialogue(shared_server.port("relay")) as d:
        d.expect("220")
        d.ehlo()
        d.cmd("MAIL FROM:<someone@remote.test>", "250 2.1.0")
        d.cmd("RCPT TO:<alice@example.test>", "250 2.1.5")
        d.quit()


def test_relay_starttls_with_openssl_s_client(shared_server):
    result = s_client(shared_server.port("relay"), starttls=True,
                      data=b"EHLO client.test\r\nQUIT\r\n")
    out = result.stdout
    assert "BEGIN CERTIFICATE" in out, out + result.stderr
    assert "TLSv1.3" in out or "TLSv1.2" in out, out
    assert "221 2.0.0" in out, out
    # After the handshake the EHLO answer no longer offers STARTTLS.
    after = out.split("---\n")[-1]
    assert "250-STARTTLS" not in after and "250 STARTTLS" not in after, out


def test_submission_requires_starttls_before_anything(shared_server):
    with Dialogue(shared_server.port("submission")) as d:
        d.expect("220")
        ehlo = d.ehlo()
        assert "STARTTLS" in ehlo.keywords(), ehlo
        assert "AUTH" not in ehlo.keywords(), ehlo
        d.cmd("AUTH PLAIN AGFsaWNlQGV4YW1wbGUudGVzdABwdw==",
              "530 5.7.0 Must issue a STARTTLS command first")
        d.cmd("MAIL FROM:<alice@example.test>", "530 5.7.0 Must issue a STARTTLS")
        d.cmd("RCPT TO:<bob@example.test>", "530 5.7.0 Must issue a STARTTLS")
        d.cmd("DATA", "530 5.7.0 Must issue a STARTTLS")
        d.cmd("NOOP", "250")
        d.starttls()
        ehlo = d.ehlo()
        assert ehlo.has("AUTH PLAIN LOGIN") or ("PLAIN" in ehlo.text and "LOGIN" in ehlo.text), \
            ehlo
        assert "STARTTLS" not in ehlo.keywords(), ehlo
        d.quit()


def test_submission_starttls_with_smtplib_and_verified_certificate(shared_server):
    client = smtp_starttls(shared_server.port("submission"), cafile=shared_server.cert)
    try:
        assert client.has_extn("auth")
        client.login("alice@example.test", shared_server.users["alice@example.test"])
    finally:
        client.quit()


def test_implicit_tls_handshake_before_banner(shared_server):
    port = shared_server.port("smtps")
    with Dialogue(port, implicit_tls=True, context=client_context(shared_server.cert)) as d:
        d.expect(f"220 {HOSTNAME}")
        ehlo = d.ehlo()
        assert "STARTTLS" not in ehlo.keywords(), ehlo
        assert ehlo.has("AUTH"), ehlo
        d.cmd("STARTTLS", "5")
        d.quit()
    client = smtp(port, implicit_tls=True, cafile=shared_server.cert)
    try:
        client.ehlo()
        assert not client.has_extn("starttls")
        client.login("alice@example.test", shared_server.users["alice@example.test"])
    finally:
        client.quit()


def test_implicit_tls_with_openssl_s_client(shared_server):
    result = s_client(shared_server.port("smtps"), data=b"EHLO client.test\r\nQUIT\r\n")
    out = result.stdout
    assert "BEGIN CERTIFICATE" in out, out + result.stderr
    assert f"220 {HOSTNAME}" in out, out
    assert "AUTH" in out and "221 2.0.0" in out, out


def test_implicit_tls_port_sends_no_plaintext_banner(shared_server):
    # A plaintext client on an implicit-TLS port hears nothing: the server
    # waits for a ClientHello.
    with Dialogue(shared_server.port("smtps"), timeout=2) as d:
        d.expect_nothing(wait=1.0)


def test_plaintext_client_cannot_speak_to_implicit_port(shared_server):
    with pytest.raises((smtplib.SMTPServerDisconnected, TimeoutError, OSError)):
        client = smtplib.SMTP("127.0.0.1", shared_server.port("smtps"), timeout=2)
        client.quit()


def test_relay_without_tls_offers_neither_starttls_nor_auth(shared_server):
    with Dialogue(shared_server.port("relay_plain")) as d:
        d.expect("220")
        ehlo = d.ehlo()
        assert "STARTTLS" not in ehlo.keywords(), ehlo
        assert "AUTH" not in ehlo.keywords(), ehlo
        d.cmd("STARTTLS", "5")
        d.cmd("MAIL FROM:<x@remote.test>", "250")
        d.cmd("RCPT TO:<bob@example.test>", "250")
        d.quit()


def test_insecure_submission_allows_auth_in_plaintext(shared_server):
    port = shared_server.port("submission_plain")
    client = smtp(port)
    try:
        client.ehlo()
        assert client.has_extn("auth")
        assert not client.has_extn("starttls")
        client.login("alice@example.test", shared_server.users["alice@example.test"])
        client.sendmail("alice@example.test", ["bob@example.test"],
                        "Subject: plain\r\n\r\nsent without TLS\r\n")
    finally:
        client.quit()
    messages = shared_server.wait_for_maildir("bob@example.test", 1)
    assert any(b"sent without TLS" in m for m in messages)


def test_helo_answers_with_hostname(shared_server):
    with Dialogue(shared_server.port("relay")) as d:
        d.expect("220")
        d.cmd("HELO client.test", f"250 {HOSTNAME}")
        d.quit()


def test_tls_client_hello_on_starttls_port_is_not_answered_as_smtp(shared_server):
    # An implicit-TLS client on a STARTTLS port must fail its handshake, not hang.
    ctx = client_context()
    with pytest.raises((ssl.SSLError, OSError)):
        import socket
        with socket.create_connection(("127.0.0.1", shared_server.port("submission")),
                                      timeout=5) as raw:
            with ctx.wrap_socket(raw, server_hostname="localhost"):
                pass
