"""Headers the server adds (SPEC §1.1, §1.2): a Received trace header naming
the listener, TLS version and cipher, and the authenticated user; for
submission Date: and Message-ID: when missing (RFC 6409 §8), never twice."""

import base64
import email.parser
import email.policy
import email.utils

from dialogue import Dialogue, client_context

ALICE = "alice@example.test"
BOB = "bob@example.test"


def parse(raw):
    return email.parser.BytesParser(policy=email.policy.compat32).parsebytes(raw)


def unfold(value):
    return " ".join(str(value).split())


def submit_over_tls(srv, body, implicit=False):
    """Submits `body` (headers + text, CRLF) as alice; returns (version, cipher)."""
    pw = srv.users[ALICE]
    if implicit:
        d = Dialogue(srv.port("smtps"), implicit_tls=True, context=client_context(srv.cert))
        d.expect("220")
    else:
        d = Dialogue(srv.port("submission"), context=client_context(srv.cert))
        d.expect("220")
        d.ehlo()
        d.starttls()
    with d:
        d.ehlo()
        d.cmd("AUTH PLAIN " + base64.b64encode(f"\0{ALICE}\0{pw}".encode()).decode(), "235")
        d.cmd(f"MAIL FROM:<{ALICE}>", "250")
        d.cmd(f"RCPT TO:<{BOB}>", "250")
        d.cmd("DATA", "354")
        d.send(body + "\r\n.\r\n")
        d.expect("250 2.0.0")
        version, cipher = d.sock.version(), d.sock.cipher()[0]
        d.quit()
    return version, cipher


def test_submission_adds_received_date_message_id(server):
    listener = server.listener("submission")
    version, cipher = submit_over_tls(server, "Subject: bare\r\n\r\nno date, no id\r\n")
    [raw] = server.wait_for_maildir(BOB, 1)
    msg = parse(raw)
    received = [unfold(r) for r in msg.get_all("Received", [])]
    assert len(received) == 1, received
    r = received[0]
    assert f"{listener.host}:{listener.port}" in r, r
    assert version in r, f"{version} not in {r}"
    assert cipher in r, f"{cipher} not in {r}"
    assert ALICE in r, r
    assert server.hostname in r, r
    assert len(msg.get_all("Date", [])) == 1, raw
    assert len(msg.get_all("Message-ID", [])) == 1, raw
    assert "@" in msg["Message-ID"] and msg["Message-ID"].strip().startswith("<"), raw
    assert email.utils.parsedate_to_datetime(msg["Date"]) is not None
    # Trace first: Return-Path and Delivered-To from the Maildir writer,
    # then Received before the client's own headers.
    names = [line.split(b":", 1)[0] for line in raw.split(b"\n\n", 1)[0].split(b"\n")
             if line and not line[:1].isspace()]
    assert names[:3] == [b"Return-Path", b"Delivered-To", b"Received"], names


def test_submission_keeps_existing_date_and_message_id(server):
    body = ("Date: Mon, 1 Jan 2024 10:00:00 +0000\r\n"
            "Message-ID: <keep-me-1@client.test>\r\n"
            "Subject: complete\r\n\r\nall there\r\n")
    submit_over_tls(server, body, implicit=True)
    [raw] = server.wait_for_maildir(BOB, 1)
    msg = parse(raw)
    assert msg.get_all("Date") == ["Mon, 1 Jan 2024 10:00:00 +0000"], raw
    assert msg.get_all("Message-ID") == ["<keep-me-1@client.test>"], raw


def test_header_names_are_case_insensitive(server):
    body = ("date: Mon, 1 Jan 2024 10:00:00 +0000\r\n"
            "message-id: <lower-1@client.test>\r\n"
            "Subject: lowercase\r\n\r\nx\r\n")
    submit_over_tls(server, body)
    [raw] = server.wait_for_maildir(BOB, 1)
    msg = parse(raw)
    assert len(msg.get_all("Date")) == 1 and len(msg.get_all("Message-ID")) == 1, raw


def test_relay_received_without_tls(server):
    listener = server.listener("relay_plain")
    with Dialogue(listener.port) as d:
        d.expect("220")
        d.cmd("EHLO mx.remote.test", "250")
        d.cmd("MAIL FROM:<sender@remote.test>", "250")
        d.cmd(f"RCPT TO:<{BOB}>", "250")
        d.cmd("DATA", "354")
        d.send("Subject: inbound\r\n\r\nhello\r\n.\r\n")
        d.expect("250")
        d.quit()
    [raw] = server.wait_for_maildir(BOB, 1)
    received = [unfold(r) for r in parse(raw).get_all("Received", [])]
    assert len(received) == 1, received
    assert "mx.remote.test" in received[0] and "127.0.0.1" in received[0], received
    assert f"{listener.port}" in received[0], received
    assert "TLSv1" not in received[0], received
