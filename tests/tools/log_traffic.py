"""Known traffic through a running postern, for tests that read its log
(fail2ban's filter, `postern log summary`): good mail, AUTH failures, relay
attempts, an unknown user and a deferral, with the counts a reader of the
log must find. The server needs harness.standard_listeners()."""

import dataclasses
import smtplib
import time

import postern_harness as harness
from smtp_clients import message, smtp

ALICE = "alice@example.test"
BOB = "bob@example.test"
SENDER1 = "one@elsewhere.test"
SENDER2 = "two@elsewhere.test"
SENDER3 = "three@elsewhere.test"


@dataclasses.dataclass
class Expected:
    received: int = 0
    delivered: int = 0
    deferred: int = 0
    rejected: int = 0
    relay_denied: int = 0
    unknown_user: int = 0
    auth_failures: int = 0
    auth_ok: int = 0
    senders: dict = dataclasses.field(default_factory=dict)     # address -> messages
    recipients: dict = dataclasses.field(default_factory=dict)  # address -> deliveries


def _relay_send(srv, sender, rcpts, subject, expected):
    with smtp(srv.port("relay_plain")) as client:
        client.sendmail(sender, rcpts, message(sender, rcpts, subject=subject))
    expected.received += 1
    expected.senders[sender] = expected.senders.get(sender, 0) + 1


def _deliveries(expected, rcpts):
    for r in rcpts:
        expected.delivered += 1
        expected.recipients[r] = expected.recipients.get(r, 0) + 1


def produce(srv):
    """Sends the traffic, waits until it is delivered (or deferred), and
    returns the Expected counts."""
    e = Expected()
    for i in range(3):
        _relay_send(srv, SENDER1, [ALICE], f"one {i}", e)
        _deliveries(e, [ALICE])
    for i in range(2):
        _relay_send(srv, SENDER2, [ALICE, BOB], f"two {i}", e)
        _deliveries(e, [ALICE, BOB])

    # Submission with AUTH (a success line), then two wrong passwords.
    with smtp(srv.port("submission_plain")) as client:
        client.login(ALICE, harness.USERS[ALICE])
        client.sendmail(ALICE, [BOB], message(ALICE, BOB, subject="submitted"))
    e.auth_ok += 1
    e.received += 1
    e.senders[ALICE] = e.senders.get(ALICE, 0) + 1
    _deliveries(e, [BOB])
    for _ in range(2):
        with smtp(srv.port("submission_plain")) as client:
            # One mechanism, one failure (login() would try PLAIN, then LOGIN).
            client.ehlo()
            client.user, client.password = ALICE, "wrong-password"
            try:
                client.auth("PLAIN", client.auth_plain)
                raise AssertionError("a wrong password was accepted")
            except smtplib.SMTPAuthenticationError:
                pass
        e.auth_failures += 1

    # Relay attempts and an unknown local user, refused at RCPT.
    with smtp(srv.port("relay_plain")) as client:
        client.ehlo()
        client.mail(SENDER3)
        for victim in ("victim@remote.test", "other@remote.test"):
            code, _ = client.rcpt(victim)
            assert code == 554, code
            e.relay_denied += 1
        code, _ = client.rcpt("nobody@example.test")
        assert code == 550, code
        e.unknown_user += 1
        client.rset()
    e.rejected = e.relay_denied + e.unknown_user

    srv.wait_for_maildir(ALICE, e.recipients[ALICE])
    srv.wait_for_maildir(BOB, e.recipients[BOB])

    # A deferral: bob's Maildir path is a plain file for a while, so
    # delivery fails transiently (retried a minute later, after the test).
    folder = srv.data_dir / "mail" / "example.test"
    blocked = folder / "bob"
    moved = folder / "bob.saved"
    blocked.rename(moved)
    blocked.write_text("blocks delivery\n")
    _relay_send(srv, SENDER3, [BOB], "deferred", e)
    e.deferred += 1
    deadline = time.monotonic() + 10 * harness.SLOW
    while " deferred id=" not in srv.log_text():
        assert time.monotonic() < deadline, srv.log_tail()
        time.sleep(0.05)
    return e
