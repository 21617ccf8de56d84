"""Direct delivery to MX hosts (SPEC §1.5, docs/delivery.md): preference
order, falling back to the next host, implicit MX, opportunistic STARTTLS,
`tls = "required"` globally and per domain, connection reuse, null MX.

The world is on loopback: tests/tools/fake_dns.py answers for the *.test
domains, and tests/tools/smtp_receiver.py (aiosmtpd) processes play the MX
hosts, each on its own 127.0.0.x address and all on one port, which is the
sender's `[delivery] remote_port`."""

import email
import email.policy
import json
import subprocess
import time

import pytest

from postern_harness import POSTERN, SLOW, relay
from smtp_clients import message, smtp

SENDER = "alice@example.test"

# Addresses of this file only (other e2e files use 127.0.0.2 and 127.0.0.31),
# so runs in parallel with them cannot take each other's listeners.
HOST_A = "127.0.0.41"
HOST_B = "127.0.0.42"
HOST_C = "127.0.0.43"


@pytest.fixture
def world(make_server, mail_world):
    """world(zone, receivers={host: tls}, delivery=[toml lines]) ->
    (sender postern, {host: Receiver}, remote port)."""

    def make(zone, receivers, delivery=(), hosts=(HOST_A, HOST_B, HOST_C)):
        w = mail_world(zone, receivers=receivers, hosts=list(hosts), prefix="mx")
        extra = w.delivery_toml('retry_max = "2s"', 'connect_timeout = "5s"', *delivery)
        sender = make_server(listeners=[relay("mx", "none")], local_domains=("example.test",),
                             relay_networks=("127.0.0.0/8",), extra_toml=extra)
        return sender, w.receivers, w.port

    return make


def send(server, recipients, subject, count=1):
    if isinstance(recipients, str):
        recipients = [recipients]
    with smtp(server.port("mx")) as client:
        for i in range(count):
            client.sendmail(SENDER, recipients,
                            message(SENDER, recipients, subject=f"{subject} {i}"))


def queue_list(server):
    result = subprocess.run([POSTERN, "queue", "list", "--config", str(server.config_path),
                             "--json"], capture_output=True, text=True, timeout=30 * SLOW)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def wait_for_queued_reply(server, address, fragment, timeout=20.0):
    """Waits until `address` is pending in the queue after at least one
    attempt, with `fragment` in its last reply; returns that recipient."""
    deadline = time.monotonic() + timeout * SLOW
    last = None
    while True:
        for m in queue_list(server):
            for r in m["recipients"]:
                if r["address"] == address:
                    last = r
                    if r["attempts"] >= 1 and fragment in r.get("last_reply", ""):
                        return r
        if time.monotonic() > deadline:
            raise AssertionError(f"{address}: never pending with {fragment!r}; last seen {last}\n"
                                 f"{server.log_tail()}")
        time.sleep(0.2)


def test_lowest_preference_mx_gets_the_message(world):
    zone = "\n".join([
        "pref.test MX 20 mx2.pref.test",
        "pref.test MX 10 mx1.pref.test",
        f"mx1.pref.test A {HOST_A}",
        f"mx2.pref.test A {HOST_B}",
    ])
    sender, rx, _ = world(zone, {HOST_A: "none", HOST_B: "none"})
    send(sender, "bob@pref.test", "preference")
    got = rx[HOST_A].wait_for_messages(1, sender)
    assert got[0]["rcpt_tos"] == ["bob@pref.test"]
    assert got[0]["mail_from"] == SENDER
    assert "preference 0" in got[0]["data"]
    sender.wait_spool_empty()
    time.sleep(0.5 * SLOW)
    assert rx[HOST_B].messages() == []
    assert rx[HOST_B].connections() == 0
    assert len(rx[HOST_A].messages()) == 1


def test_refused_first_mx_falls_back_to_the_next(world):
    zone = "\n".join([
        "fall.test MX 10 mx1.fall.test",
        "fall.test MX 20 mx2.fall.test",
        f"mx1.fall.test A {HOST_A}",
        f"mx2.fall.test A {HOST_B}",
    ])
    # Nothing listens on HOST_A: the connection is refused.
    sender, rx, port = world(zone, {HOST_B: "none"})
    send(sender, "bob@fall.test", "fallback")
    got = rx[HOST_B].wait_for_messages(1, sender)
    assert got[0]["rcpt_tos"] == ["bob@fall.test"]
    sender.wait_spool_empty()
    log = sender.log_text()
    assert f"mx1.fall.test[{HOST_A}]:{port}" in log, sender.log_tail()
    assert "delivered" in log
    # Delivered on the first attempt, by falling back, not on a retry.
    assert "deferred" not in log, sender.log_tail()
    assert len(rx[HOST_B].messages()) == 1


def test_domain_without_mx_uses_its_address(world):
    zone = f"implicit.test A {HOST_C}\n"
    sender, rx, _ = world(zone, {HOST_C: "none"})
    send(sender, "carol@implicit.test", "implicit")
    got = rx[HOST_C].wait_for_messages(1, sender)
    assert got[0]["rcpt_tos"] == ["carol@implicit.test"]
    assert "implicit 0" in got[0]["data"]
    sender.wait_spool_empty()


def test_starttls_is_used_when_offered_and_plaintext_otherwise(world):
    zone = "\n".join([
        "tls.test MX 10 mx.tls.test",
        f"mx.tls.test A {HOST_A}",
        "plain.test MX 10 mx.plain.test",
        f"mx.plain.test A {HOST_B}",
    ])
    sender, rx, _ = world(zone, {HOST_A: "starttls", HOST_B: "none"})
    send(sender, "bob@tls.test", "encrypted")
    got = rx[HOST_A].wait_for_messages(1, sender)
    assert got[0]["tls"] is True
    assert "encrypted 0" in got[0]["data"]
    sender.wait_for_log("tls_outbound")
    tls_lines = [l for l in sender.log_text().splitlines() if "tls_outbound" in l]
    # A self-signed certificate is still used in opportunistic mode.
    assert any("host=mx.tls.test" in l and "trust=Untrusted" in l and "version=TLS" in l
               for l in tls_lines), tls_lines

    send(sender, "carol@plain.test", "clear")
    got = rx[HOST_B].wait_for_messages(1, sender)
    assert got[0]["tls"] is False
    assert "clear 0" in got[0]["data"]
    sender.wait_spool_empty()
    assert not any("mx.plain.test" in l
                   for l in sender.log_text().splitlines() if "tls_outbound" in l)


def tls_required_zone():
    return "\n".join([
        "strict.test MX 10 mx.strict.test",
        f"mx.strict.test A {HOST_A}",
        "other.test MX 10 mx.other.test",
        f"mx.other.test A {HOST_B}",
        "loose.test MX 10 mx.loose.test",
        f"mx.loose.test A {HOST_A}",
    ])


def test_tls_required_keeps_mail_for_a_plaintext_receiver_queued(world):
    sender, rx, _ = world(tls_required_zone(), {HOST_A: "none", HOST_B: "starttls"},
                          delivery=['tls = "required"'])
    send(sender, "bob@strict.test", "must be encrypted")
    send(sender, "carol@other.test", "encrypted anyway")

    got = rx[HOST_B].wait_for_messages(1, sender)
    assert got[0]["tls"] is True and got[0]["rcpt_tos"] == ["carol@other.test"]

    rcpt = wait_for_queued_reply(sender, "bob@strict.test", "TLS")
    assert rcpt["state"] == "pending"
    # Retries (every second here) never send it in plaintext.
    time.sleep(2.5 * SLOW)
    assert rx[HOST_A].messages() == []
    rcpt = wait_for_queued_reply(sender, "bob@strict.test", "TLS")
    assert rcpt["state"] == "pending" and rcpt["attempts"] >= 2, rcpt


def test_tls_policy_per_domain(world):
    sender, rx, _ = world(tls_required_zone(), {HOST_A: "none", HOST_B: "starttls"},
                          delivery=["", "[delivery.tls_policy]", '"strict.test" = "required"'])
    send(sender, "bob@strict.test", "must be encrypted")
    # The same plaintext host takes mail for a domain without a policy, and
    # a STARTTLS host for a third domain is unaffected.
    send(sender, "dave@loose.test", "opportunistic")
    send(sender, "carol@other.test", "encrypted anyway")

    got = rx[HOST_B].wait_for_messages(1, sender)
    assert got[0]["tls"] is True and got[0]["rcpt_tos"] == ["carol@other.test"]
    got = rx[HOST_A].wait_for_messages(1, sender)
    assert got[0]["tls"] is False and got[0]["rcpt_tos"] == ["dave@loose.test"]

    rcpt = wait_for_queued_reply(sender, "bob@strict.test", "TLS")
    assert rcpt["state"] == "pending"
    time.sleep(2.5 * SLOW)
    assert [m["rcpt_tos"] for m in rx[HOST_A].messages()] == [["dave@loose.test"]]


def test_messages_to_one_destination_share_connections(world):
    zone = "\n".join([
        "reuse.test MX 10 mx.reuse.test",
        f"mx.reuse.test A {HOST_A}",
    ])
    sender, rx, _ = world(zone, {HOST_A: "none"})
    count = 5
    send(sender, "bob@reuse.test", "reuse", count=count)
    got = rx[HOST_A].wait_for_messages(count, sender)
    subjects = sorted(email.message_from_string(m["data"])["Subject"] for m in got)
    assert subjects == [f"reuse {i}" for i in range(count)]
    sender.wait_spool_empty()
    assert 1 <= rx[HOST_A].connections() < count, sender.log_tail()
    assert "reuse id=" in sender.log_text()


def test_null_mx_fails_at_once_and_bounces(world):
    zone = "\n".join([
        "nullmx.test MX 0 .",
        # A host that would take the mail if postern ignored the null MX.
        f"nullmx.test A {HOST_A}",
    ])
    sender, rx, _ = world(zone, {HOST_A: "none"})
    send(sender, "bob@nullmx.test", "nowhere")
    raw = sender.wait_for_maildir(SENDER, 1, timeout=20)[0]
    sender.wait_spool_empty()
    log = sender.log_text()
    failed = [l for l in log.splitlines()
              if "failed id=" in l and "to=<bob@nullmx.test>" in l]
    assert failed and "null MX" in failed[0], sender.log_tail()
    assert "deferred" not in log  # permanent at once, no retry
    assert rx[HOST_A].messages() == [] and rx[HOST_A].connections() == 0

    report = email.message_from_bytes(raw, policy=email.policy.default)
    assert report.get_content_type() == "multipart/report"
    assert not report.defects, report.defects
    rcpt = report.get_payload()[1].get_payload()[1]
    assert rcpt["Final-Recipient"] == "rfc822; bob@nullmx.test"
    assert rcpt["Action"] == "failed"
    assert rcpt["Status"] == "5.1.10"
    assert "null MX" in rcpt["Diagnostic-Code"]
