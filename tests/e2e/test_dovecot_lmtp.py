"""Local delivery by LMTP to a real Dovecot 2.3 (SPEC §1.12):
`[delivery] local = "lmtp:unix:PATH"` and `"lmtp:HOST:PORT"`.

postern keeps its own users file here (backend "file"), so that it accepts
a recipient Dovecot does not know and Dovecot's own LMTP refusal (5xx for
that recipient only) is what postern must act on. What Dovecot stored is
read back with imaplib.
"""

import email
import re
import tempfile
import time

import pytest

import dovecot
from postern_harness import SLOW, relay
from smtp_clients import message, smtp

pytestmark = pytest.mark.skipif(not dovecot.available(),
                                reason="Dovecot (dovecot-core, dovecot-lmtpd, dovecot-imapd) "
                                       "is not installed")

CAROL = "carol@example.test"
DAVE = "dave@example.test"
FRANK = "frank@example.test"  # postern knows him, Dovecot does not
DOVECOT_USERS = {CAROL: "carol-imap-1", DAVE: "dave-imap-2"}
POSTERN_USERS = {CAROL: "c", DAVE: "d", FRANK: "f"}

# Headers Dovecot's LMTP adds in front of what it was given: Return-Path,
# maybe Delivered-To, and its own Received ("... with LMTP ...").
DOVECOT_HEADERS = re.compile(
    rb"\A(?:(?:Return-Path|Delivered-To): .*\r\n)+"
    rb"Received: [^\r]*\r\n(?:[ \t][^\r]*\r\n)*")


@pytest.fixture
def dc():
    mail = tempfile.mkdtemp(prefix="dovecot-mail-")
    d = dovecot.Dovecot(mail_root=mail, users=DOVECOT_USERS)
    d.own_mail_tree()
    d.start()
    yield d
    d.cleanup()


def lmtp_server(make_server, dc, target):
    return make_server(listeners=[relay("relay", "none")], users=POSTERN_USERS,
                       delivery={"local": target, "retry_initial": "1s", "retry_max": "2s"})


def as_stored_by_postern(fetched):
    """The message without the headers Dovecot's LMTP put in front."""
    m = DOVECOT_HEADERS.match(fetched)
    assert m and b"with LMTP" in m.group(0), fetched[:300]
    return fetched[m.end():]


def send(port, sender, recipients, subject, body="Hello.\r\n"):
    data = message(sender, recipients, subject=subject, body=body).encode()
    with smtp(port) as c:
        c.ehlo()
        refused = c.sendmail(sender, recipients, data)
    assert not refused, refused
    return data


def imap_subjects(dc, user):
    return [email.message_from_bytes(body)["Subject"] for _, body in dc.imap_messages(user)]


@pytest.mark.parametrize("kind", ["unix", "tcp"])
def test_lmtp_several_recipients_byte_identical(make_server, dc, kind):
    target = f"lmtp:unix:{dc.lmtp_socket}" if kind == "unix" else f"lmtp:127.0.0.1:{dc.lmtp_port}"
    srv = lmtp_server(make_server, dc, target)
    body = "Gr\u00fc\u00dfe.\r\n.leading dot\r\n" + "y" * 990 + "\r\n"
    sent = send(srv.port("relay"), "someone@remote.example", [CAROL, DAVE], "via lmtp", body)
    for user in (CAROL, DAVE):
        [(_, fetched)] = dc.wait_imap_messages(user, 1, timeout=15 * SLOW)
        stored = as_stored_by_postern(fetched)
        # postern's own trace header, then exactly what the client sent.
        assert stored.startswith(b"Received: from client.test"), stored[:200]
        assert stored.endswith(sent), (stored[-300:], sent[-300:])
    log = srv.log_text()
    assert "delivered id=" in log and f"mailbox={target}" in log
    assert "Maildir" not in str(list((srv.data_dir).glob("mail/*")))


def test_lmtp_reuses_connections(make_server, dc):
    srv = lmtp_server(make_server, dc, f"lmtp:unix:{dc.lmtp_socket}")
    with smtp(srv.port("relay")) as c:
        c.ehlo()
        for i in range(6):
            c.sendmail("someone@remote.example", [CAROL],
                       message("someone@remote.example", CAROL, subject=f"burst {i}").encode())
    subjects = [s for _, b in dc.wait_imap_messages(CAROL, 6, timeout=20 * SLOW)
                for s in [email.message_from_bytes(b)["Subject"]]]
    assert sorted(subjects) == [f"burst {i}" for i in range(6)]
    # Dovecot logs each LMTP connection; six messages took fewer.
    connections = len(re.findall(r"lmtp\(\d+\): Info: Connect from local", dc.log_text()))
    assert 1 <= connections < 6, dc.log_tail()


def test_lmtp_5xx_for_one_recipient_bounces_only_that_one(make_server, dc):
    srv = lmtp_server(make_server, dc, f"lmtp:unix:{dc.lmtp_socket}")
    send(srv.port("relay"), CAROL, [DAVE, FRANK], "one unknown")
    [(_, to_dave)] = dc.wait_imap_messages(DAVE, 1, timeout=15 * SLOW)
    assert b"Subject: one unknown" in to_dave
    # The bounce (RFC 3464) for frank goes back to carol, through LMTP too.
    [(_, dsn)] = dc.wait_imap_messages(CAROL, 1, timeout=15 * SLOW)
    report = email.message_from_bytes(dsn)
    assert report.get_content_type() == "multipart/report", dsn[:500]
    assert report.get_param("report-type") == "delivery-status"
    text = dsn.decode(errors="replace")
    assert FRANK in text and "Action: failed" in text and "Status: 5." in text, text
    assert DAVE not in text.split("Content-Type: message/delivery-status", 1)[1].split(
        "Content-Type:", 1)[0], text
    log = srv.log_text()
    assert f"to=<{FRANK}>" in log and "bounce=" in log


def test_dovecot_down_messages_stay_queued_then_delivered_once(make_server, dc):
    srv = lmtp_server(make_server, dc, f"lmtp:unix:{dc.lmtp_socket}")
    dc.stop()
    for i in range(3):
        send(srv.port("relay"), "someone@remote.example", [CAROL, DAVE], f"while down {i}")
    srv.wait_for_log("deferred", timeout=10)
    time.sleep(2.5)  # a couple of retries against the missing socket
    assert srv.spool_segments(), "messages must stay queued while Dovecot is down"
    log = srv.log_text()
    assert "LMTP server unreachable" in log and "bounced" not in log
    dc.start()
    for user in (CAROL, DAVE):
        got = sorted(imap_subjects_wait(dc, user, 3))
        assert got == [f"while down {i}" for i in range(3)], got
    srv.wait_spool_empty(timeout=15)
    time.sleep(2.5)  # nothing is delivered a second time
    for user in (CAROL, DAVE):
        assert len(dc.imap_messages(user)) == 3


def imap_subjects_wait(dc, user, count):
    messages = dc.wait_imap_messages(user, count, timeout=20 * SLOW)
    return [email.message_from_bytes(body)["Subject"] for _, body in messages]


def test_lmtp_4xx_for_one_recipient_is_retried_alone(make_server):
    # Dave's mailbox is full: Dovecot answers 452 4.2.2 for him after the
    # data (quota_full_tempfail) and 250 for carol. Carol's copy is
    # delivered once; dave's is retried with backoff until he has room.
    mail = tempfile.mkdtemp(prefix="dovecot-mail-")
    dc = dovecot.Dovecot(mail_root=mail, users=DOVECOT_USERS, quota=True)
    dc.set_quota(DAVE, "100B")
    dc.own_mail_tree()
    dc.start()
    try:
        srv = lmtp_server(make_server, dc, f"lmtp:unix:{dc.lmtp_socket}")
        send(srv.port("relay"), "someone@remote.example", [CAROL, DAVE], "quota",
             body="z" * 400 + "\r\n")
        dc.wait_imap_messages(CAROL, 1, timeout=15 * SLOW)
        srv.wait_for_log(f"to=<{DAVE}> attempts=2", timeout=15)
        log = srv.log_text()
        assert "deferred id=" in log and "452 4.2.2" in log, log
        assert "bounced" not in log and "failed id=" not in log
        assert dc.imap_messages(DAVE) == []
        dc.set_quota(DAVE, "10M")
        [(_, to_dave)] = dc.wait_imap_messages(DAVE, 1, timeout=20 * SLOW)
        assert b"Subject: quota" in to_dave
        srv.wait_spool_empty(timeout=15)
        assert len(dc.imap_messages(CAROL)) == 1  # never sent to carol again
    finally:
        dc.cleanup()
