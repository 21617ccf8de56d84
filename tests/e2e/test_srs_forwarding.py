"""Forwarding with SRS (SPEC §1.9, docs/addresses.md), with real peers: an
alias forwards to a remote aiosmtpd receiver; the envelope sender it
arrives with is an SRS0 address that pyspf evaluates as "pass" for our
server on the fake-DNS zone, the original's DKIM signature (dkimpy) still
verifies, a bounce to that address goes back to the original sender, and a
tampered one is refused. Also the smarthost sender map, against a provider
(a second postern) that refuses senders its account does not own."""

import base64
import os
import smtplib
import subprocess

import dkim
import dns.resolver
import pytest
import spf

from postern_harness import relay, submission
from smtp_clients import message, smtp

REMOTE = "127.0.0.61"  # this file's receiver address (others use .2, .31, .4x)
# origin.test's DKIM key, made with openssl (the original sender signs).
ORIGIN_KEY = subprocess.run(["openssl", "genrsa", "2048"], capture_output=True, check=True,
                            timeout=60).stdout


def dkim_txt():
    der = subprocess.run(["openssl", "rsa", "-pubout", "-outform", "DER"], input=ORIGIN_KEY,
                         capture_output=True, check=True, timeout=60).stdout
    return "v=DKIM1; k=rsa; p=" + base64.b64encode(der).decode()


def signed_message(sender, to, subject):
    pem = ORIGIN_KEY
    raw = message(sender, to, subject=subject, body="Forward me, signature intact.\r\n").encode()
    sig = dkim.sign(raw, b"s1", b"origin.test", pem,
                    include_headers=[b"from", b"to", b"subject", b"date", b"message-id"])
    return sig + raw


@pytest.fixture
def world(make_server, mail_world):
    zone = [
        "remote.test MX 10 mx.remote.test",
        f"mx.remote.test A {REMOTE}",
        "origin.test MX 10 mx.remote.test",
        # Our server sends from loopback; the original sender's domain does
        # not authorise it, ours does.
        'origin.test TXT "v=spf1 ip4:192.0.2.1 -all"',
        'example.test TXT "v=spf1 ip4:127.0.0.0/8 -all"',
        "s1._domainkey.origin.test TXT " + " ".join(
            f'"{dkim_txt()[i:i + 200]}"' for i in range(0, len(dkim_txt()), 200)),
    ]
    mail = mail_world(zone, receivers={REMOTE: "none"}, prefix="srs")
    receiver = mail.receiver()
    dns_port = mail.dns_port
    resolver = dns.resolver.Resolver(configure=False)
    resolver.nameservers = ["127.0.0.1"]
    resolver.port = dns_port
    saved = dns.resolver.default_resolver
    dns.resolver.default_resolver = resolver  # pyspf and dkimpy ask the fake zone
    srv = make_server(start=False, listeners=[relay("mx", "none")],
                      local_domains=("example.test",))
    secret = srv.dir / "srs.key"
    secret.write_text("e2e-srs-secret-0123456789abcdef\n")
    os.chmod(secret, 0o600)
    (srv.dir / "aliases").write_text("fwd@example.test: carol@remote.test, alice@example.test\n")
    srv.extra_toml = mail.delivery_toml() + "\n".join([
        "", "[addresses]", f'aliases_file = "{srv.dir / "aliases"}"',
        f'srs_secret_file = "{secret}"', ""])
    srv.write_config()
    srv.start()
    yield srv, receiver
    dns.resolver.default_resolver = saved


def test_forwarded_mail_passes_spf_keeps_dkim_and_bounces_return(world):
    srv, receiver = world
    original = signed_message("orig@origin.test", "fwd@example.test", "forwarded")
    assert dkim.verify(original)  # the fake zone publishes the key
    with smtp(srv.port("mx")) as c:
        c.sendmail("orig@origin.test", ["fwd@example.test"], original)
    [got] = receiver.wait_for_messages(1, srv)
    assert got["rcpt_tos"] == ["carol@remote.test"]
    srs_sender = got["mail_from"]
    assert srs_sender.startswith("SRS0=") and srs_sender.endswith("=origin.test=orig@example.test")
    # SPF at the destination: our IP for the SRS sender passes; the
    # original sender would have failed.
    assert spf.check2(i="127.0.0.1", s=srs_sender, h="mx.example.test")[0] == "pass"
    assert spf.check2(i="127.0.0.1", s="orig@origin.test", h="mx.example.test")[0] == "fail"
    # The signature survives: nothing signed was changed.
    assert dkim.verify(got["data"].encode())
    # The local copy keeps the original sender.
    [local] = srv.wait_for_maildir("alice@example.test", 1)
    assert b"Return-Path: <orig@origin.test>" in local

    # The destination bounces: the bounce reaches the original sender.
    with smtp(srv.port("mx")) as c:
        c.sendmail("", [srs_sender], "Subject: Undelivered Mail\r\n\r\nbounce\r\n")
    msgs = receiver.wait_for_messages(2, srv)
    assert msgs[1]["rcpt_tos"] == ["orig@origin.test"] and msgs[1]["mail_from"] in ("", "<>")

    # Forged or altered SRS addresses are refused.
    local, domain = srs_sender.split("@")
    parts = local.split("=")
    parts[1] = "AAAA" if parts[1] != "AAAA" else "BBBB"
    tampered = "=".join(parts) + "@" + domain
    other_user = local.rsplit("=", 1)[0] + "=mallory@" + domain
    for bad in (tampered, other_user):
        with smtp(srv.port("mx")) as c:
            with pytest.raises(smtplib.SMTPRecipientsRefused) as e:
                c.sendmail("", [bad], "Subject: x\r\n\r\nx\r\n")
        code, text = e.value.recipients[bad]
        assert code == 550 and text.startswith(b"5.1.1"), text


def provider(make_server):
    users = {"account@provider.test": "provider-account-password-1"}
    return make_server(listeners=[submission("sub", "starttls-required")],
                       hostname="smtp.provider.test", local_domains=("provider.test",),
                       users=users)


def test_smarthost_sender_map(make_server):
    prov = provider(make_server)
    snd = make_server(start=False, listeners=[relay("mx", "none")],
                      local_domains=("example.test",), relay_networks=("127.0.0.0/8",))
    snd.extra_toml = "\n".join([
        "", "[delivery]", f'smarthost = "127.0.0.1:{prov.port("sub")}"',
        'smarthost_tls = "starttls"', 'smarthost_user = "account@provider.test"',
        'smarthost_password = "provider-account-password-1"',
        f'smarthost_ca_file = "{prov.cert}"', 'retry_initial = "1s"', "",
        "[addresses]", "smarthost_rewrite_from = true", "",
        "[addresses.smarthost_senders]", '"@example.test" = "account@provider.test"', ""])
    snd.write_config()
    snd.start()
    # The provider's own user receives it: it is local there.
    with smtp(snd.port("mx")) as c:
        c.sendmail("alice@example.test", ["account@provider.test"],
                   message("alice@example.test", "account@provider.test", subject="via provider"))
    [raw] = prov.wait_for_maildir("account@provider.test", 1)
    assert b"Return-Path: <account@provider.test>" in raw
    assert b"From: <account@provider.test>" in raw
    assert "reason=smarthost_senders" in snd.log_text()
