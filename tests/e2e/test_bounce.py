"""Bounces and retries through the real outbound path (SPEC §1.5): a receiver
that refuses a recipient with 5xx makes postern return an RFC 3464 report to
the local sender's Maildir; mail from the null sender is never bounced; a
receiver that says 4xx first and 250 later gets the message on the retry.

The receiver (tests/tools/smtp_receiver.py, aiosmtpd) is on its own
127.0.0.x address, answering RCPT from a script; the fake DNS points the
recipient domain's MX at it (the shared mail_world fixture)."""

import base64
import email
import email.policy
import time

import pytest

import postern_harness as harness
from postern_harness import relay
from smtp_clients import message, smtp

SENDER = "alice@example.test"
GOOD = "bob@remote.test"
UNKNOWN = "nobody@remote.test"
LATER = "later@remote.test"
REFUSAL = "550 5.1.1 <nobody@remote.test>: Recipient address rejected: User unknown"


@pytest.fixture
def world(make_server, mail_world):
    """Makes (sender postern, receiver) for a RCPT script; the receiver
    listens on 127.0.0.31 and the fake DNS sends remote.test there."""

    def make(script, delivery=()):
        host = "127.0.0.31"
        w = mail_world(["remote.test MX 10 mx.remote.test", f"mx.remote.test A {host}"],
                       receivers={host: "none"}, rcpt_scripts={host: script}, prefix="bounce")
        sender = make_server(listeners=[relay("mx", "none")], local_domains=("example.test",),
                             relay_networks=("127.0.0.0/8",),
                             extra_toml=w.delivery_toml('retry_max = "2s"', *delivery))
        return sender, w.receiver()

    return make


def mail_files(server):
    root = server.data_dir / "mail"
    return [p for p in root.rglob("*") if p.is_file()] if root.is_dir() else []


def test_5xx_bounces_to_the_local_senders_maildir(world):
    sender, receiver = world({UNKNOWN: [REFUSAL]})
    original = message(SENDER, [GOOD, UNKNOWN], subject="quarterly numbers")
    with smtp(sender.port("mx")) as client:
        client.sendmail(SENDER, [GOOD, UNKNOWN], original)

    raw = sender.wait_for_maildir(SENDER, 1, timeout=20)[0]
    sender.wait_for_log("bounced id=")
    sender.assert_maildir_stays(SENDER, 1, wait=1)
    sender.wait_spool_empty()

    # The good recipient got it once; the refused one was not retried.
    assert len(receiver.messages()) == 1
    assert receiver.messages()[0]["rcpt_tos"] == [GOOD]
    assert receiver.rcpt_calls(UNKNOWN) == 1

    assert raw.startswith(b"Return-Path: <>\n"), raw[:200]
    report = email.message_from_bytes(raw, policy=email.policy.default)
    assert report.get_content_type() == "multipart/report"
    assert report.get_param("report-type") == "delivery-status"
    assert report["To"].addresses[0].addr_spec == SENDER
    assert report["From"] == "Mail Delivery System <MAILER-DAEMON@mx.example.test>"
    assert report["Subject"] == "Undelivered Mail Returned to Sender"
    assert report["Auto-Submitted"] == "auto-replied"
    assert report["Date"] and report["Message-ID"]
    assert not report.defects, report.defects

    parts = report.get_payload()
    assert [p.get_content_type() for p in parts] == [
        "text/plain", "message/delivery-status", "message/rfc822"]
    assert all(not p.defects for p in parts)
    text = parts[0].get_content()
    assert f"<{UNKNOWN}>" in text and GOOD not in text
    assert "550 5.1.1" in text

    # message/delivery-status: a per-message block, then one per recipient.
    blocks = parts[1].get_payload()
    assert blocks[0]["Reporting-MTA"] == "dns; mx.example.test"
    assert blocks[0]["Arrival-Date"]
    assert len(blocks) == 2
    rcpt = blocks[1]
    assert rcpt["Final-Recipient"] == f"rfc822; {UNKNOWN}"
    assert rcpt["Action"] == "failed"
    assert rcpt["Status"] == "5.1.1"
    assert rcpt["Remote-MTA"] == "dns; mx.remote.test"
    assert rcpt["Diagnostic-Code"] == f"smtp; {REFUSAL}"

    returned = parts[2].get_payload()[0]
    assert returned["Subject"] == "quarterly numbers"

    log = sender.log_text()
    assert f"to=<{UNKNOWN}>" in log and f"bounce=<{SENDER}>" in log


def test_null_sender_is_never_bounced(world):
    sender, receiver = world({UNKNOWN: [REFUSAL]})
    with smtp(sender.port("mx")) as client:
        client.sendmail("<>", [UNKNOWN], message("MAILER-DAEMON@elsewhere.test", [UNKNOWN],
                                                   subject="a bounce itself"))
    sender.wait_for_log('bounce=none reason="null sender"', timeout=20)
    sender.wait_spool_empty()
    time.sleep(1 * harness.SLOW)
    assert "bounced id=" not in sender.log_text()
    assert mail_files(sender) == []
    assert receiver.rcpt_calls(UNKNOWN) == 1


def test_4xx_then_250_is_delivered_on_retry(world):
    sender, receiver = world({LATER: ["451 4.3.0 try again later", "250 2.1.5 ok"]})
    with smtp(sender.port("mx")) as client:
        client.sendmail(SENDER, [LATER], message(SENDER, [LATER], subject="patience"))

    sender.wait_for_log("deferred", timeout=20)
    got = receiver.wait_for_messages(1, sender)[0]
    sender.wait_spool_empty()
    assert got["mail_from"] == SENDER and got["rcpt_tos"] == [LATER]
    assert b"patience" in base64.b64decode(got["data_b64"])
    assert receiver.rcpt_calls(LATER) == 2
    time.sleep(0.5 * harness.SLOW)
    assert len(receiver.messages()) == 1
    assert mail_files(sender) == []  # no bounce


def test_4xx_until_the_queue_lifetime_ends_bounces_with_447(world):
    sender, receiver = world({LATER: ["451 4.3.0 try again later"]},
                             delivery=['max_queue_lifetime = "3s"'])
    with smtp(sender.port("mx")) as client:
        client.sendmail(SENDER, [LATER], message(SENDER, [LATER], subject="too slow"))

    raw = sender.wait_for_maildir(SENDER, 1, timeout=20)[0]
    sender.wait_spool_empty()
    assert receiver.rcpt_calls(LATER) >= 2  # retried before giving up
    report = email.message_from_bytes(raw, policy=email.policy.default)
    assert not report.defects
    rcpt = report.get_payload()[1].get_payload()[1]
    assert rcpt["Final-Recipient"] == f"rfc822; {LATER}"
    assert rcpt["Action"] == "failed"
    assert rcpt["Status"] == "4.4.7"
    assert "message expired in the queue after" in rcpt["Diagnostic-Code"]
    assert "last error: 451 4.3.0 try again later" in rcpt["Diagnostic-Code"]
