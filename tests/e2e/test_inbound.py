"""Inbound trust (SPEC §1.8, docs/inbound.md) end to end: messages signed
by dkimpy (Debian python3-dkim) arrive from 127.0.0.1 on a relay listener;
SPF, DKIM keys, DMARC records and DNS blocklists are served by
tests/tools/fake_dns.py; the Authentication-Results field of the delivered
message is read with python3-authres.

Covers: the DKIM cases of issue 14 (valid RSA, valid Ed25519, body and
signed header tampered, key missing, revoked, 512-bit, expired x=, l= with
appended content, two signatures one bad), the DMARC fixtures (aligned,
unaligned, subdomain, sp=, pct=0) with dmarc_policy tag and enforce (550,
.Junk/new, 451), forged Authentication-Results removed, DNS blocklists
(IPv4 and IPv6 nibble names; a list that times out does not block), and
the defaults with no resolver reachable (fails fast, temperror/none).
"""

import base64
import email
import pathlib
import smtplib
import subprocess
import time
import uuid

import authres
import dkim
import nacl.signing
import pytest
from cryptography.hazmat.primitives import serialization

from fake_dns import FakeDns
from postern_harness import HOSTNAME, SLOW, Listener, free_port, relay
from smtp_clients import smtp

RCPT = "bob@example.test"


def txt_line(name, record):
    """A fake_dns TXT line, the record cut into strings of at most 200."""
    parts = [record[i:i + 200] for i in range(0, len(record), 200)] or [""]
    return f"{name} TXT " + " ".join(f'"{p}"' for p in parts)


def rsa_key(workdir, name, bits):
    path = workdir / f"{name}.pem"
    subprocess.run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt",
                    f"rsa_keygen_bits:{bits}", "-out", str(path)],
                   check=True, capture_output=True, timeout=60)
    pem = path.read_bytes()
    key = serialization.load_pem_private_key(pem, password=None)
    der = key.public_key().public_bytes(serialization.Encoding.DER,
                                        serialization.PublicFormat.SubjectPublicKeyInfo)
    return pem, "v=DKIM1; k=rsa; p=" + base64.b64encode(der).decode()


def ed_key():
    sk = nacl.signing.SigningKey.generate()
    return (base64.b64encode(bytes(sk)),
            "v=DKIM1; k=ed25519; p=" + base64.b64encode(bytes(sk.verify_key)).decode())


class Keys:
    def __init__(self, workdir):
        self.rsa, self.rsa_record = rsa_key(workdir, "rsa", 2048)
        self.other, self.other_record = rsa_key(workdir, "other", 2048)
        self.small, self.small_record = rsa_key(workdir, "small", 512)
        self.ed, self.ed_record = ed_key()


def zone(keys):
    lines = [
        # SPF: 127.0.0.1 may send for these.
        'sender.test TXT "v=spf1 ip4:127.0.0.1 -all"',
        'unrelated.test TXT "v=spf1 ip4:127.0.0.1 -all"',
        'softfail.test TXT "v=spf1 ~all"',
        # DMARC records.
        '_dmarc.sender.test TXT "v=DMARC1; p=reject"',
        '_dmarc.unaligned.test TXT "v=DMARC1; p=none"',
        '_dmarc.spdomain.test TXT "v=DMARC1; p=none; sp=reject"',
        '_dmarc.pct.test TXT "v=DMARC1; p=reject; pct=0"',
        '_dmarc.reject.test TXT "v=DMARC1; p=reject"',
        '_dmarc.quarantine.test TXT "v=DMARC1; p=quarantine"',
        "_dmarc.broken.test SERVFAIL",
        # DKIM keys of sender.test.
        txt_line("rsa._domainkey.sender.test", keys.rsa_record),
        txt_line("ed._domainkey.sender.test", keys.ed_record),
        txt_line("small._domainkey.sender.test", keys.small_record),
        txt_line("revoked._domainkey.sender.test", "v=DKIM1; k=rsa; p="),
        # "mismatch" publishes another key than the one that signs.
        txt_line("mismatch._domainkey.sender.test", keys.other_record),
        # DNS blocklist entries for 127.0.0.1 and ::1 (RFC 5782 §2.1, §2.4).
        "1.0.0.127.bl.test A 127.0.0.2",
        '1.0.0.127.bl.test TXT "listed for testing, see https://bl.test/127.0.0.1"',
        "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.bl.test A 127.0.0.4",
    ]
    return "\n".join(lines)


def make_message(sender_header, subject, body="Hello from the inbound tests.\r\n", extra=()):
    headers = [f"From: <{sender_header}>", f"To: <{RCPT}>", f"Subject: {subject}",
               "Date: Mon, 07 Dec 2026 19:00:00 +0000",
               f"Message-ID: <{uuid.uuid4().hex}@client.test>", *extra]
    return ("\r\n".join(headers) + "\r\n\r\n" + body).encode()


def sign(raw, selector, key, algorithm=b"rsa-sha256", length=False):
    sig = dkim.sign(raw, selector.encode(), b"sender.test", key,
                    signature_algorithm=algorithm, include_headers=[b"from", b"to", b"subject"],
                    length=length)
    return sig + raw


def sign_expired(raw, key):
    """A signature with t= two hours ago and x= an hour ago (dkimpy has no
    x= option: its header generation is given the tag)."""
    then = int(time.time()) - 7200
    original_gen, original_time = dkim.DKIM.gen_header, dkim.time.time

    def gen_header(self, fields, *args):
        fields = list(fields)
        fields.insert(len(fields) - 3, (b"x", str(then + 3600).encode()))
        return original_gen(self, fields, *args)

    dkim.DKIM.gen_header = gen_header
    dkim.time.time = lambda: then
    try:
        return sign(raw, "rsa", key)
    finally:
        dkim.DKIM.gen_header = original_gen
        dkim.time.time = original_time


class World:
    def __init__(self, make_server, workdir):
        self.keys = Keys(workdir)
        self.dns = FakeDns(zone(self.keys))
        port = self.dns.start()
        delivery = {"resolver": f"127.0.0.1:{port}"}
        self.tag = make_server(listeners=[relay("mx", "none")], delivery=delivery, inbound={})
        self.enforce = make_server(listeners=[relay("mx", "none")], delivery=delivery,
                                   inbound={"dmarc_policy": "enforce"})

    def send(self, server, raw, mail_from="alice@sender.test"):
        with smtp(server.port("mx")) as c:
            c.sendmail(mail_from, [RCPT], raw)

    def delivered(self, server, subject, folder="new"):
        """The delivered message with this subject (new/ or .Junk/new/)."""
        base = server.data_dir / "mail" / "example.test" / "bob"
        where = base / (".Junk/new" if folder == "junk" else "new")
        deadline = time.monotonic() + 15 * SLOW
        needle = f"Subject: {subject}".encode()
        while time.monotonic() < deadline:
            if where.is_dir():
                for p in where.iterdir():
                    data = p.read_bytes()
                    if needle in data:
                        return data
            time.sleep(0.05)
        raise AssertionError(f"no message {subject!r} in {where}\n{server.log_tail()}")

    def results(self, server, subject, folder="new"):
        data = self.delivered(server, subject, folder)
        msg = email.message_from_bytes(data)
        fields = msg.get_all("Authentication-Results") or []
        assert fields, data[:2000]
        ours = authres.parse("Authentication-Results: " + " ".join(fields[0].split()))
        assert ours.authserv_id == HOSTNAME
        out = {}
        for r in ours.results:
            out.setdefault(r.method, []).append(r.result)
        return out, data, fields


@pytest.fixture(scope="module")
def world(make_module_server, tmp_path_factory):
    w = World(make_module_server, tmp_path_factory.mktemp("inbound"))
    yield w
    w.dns.stop()


def subject():
    return "inbound " + uuid.uuid4().hex[:12]


# ---- the header -------------------------------------------------------------------

def test_header_on_top_above_received(world):
    s = subject()
    world.send(world.tag, make_message("alice@sender.test", s))
    data = world.delivered(world.tag, s)
    headers = data.split(b"\n\n", 1)[0].split(b"\n")
    names = [h.split(b":", 1)[0] for h in headers if h and h[:1] not in (b" ", b"\t")]
    # Maildir adds Return-Path and Delivered-To; then ours, then our Received.
    assert names[:4] == [b"Return-Path", b"Delivered-To", b"Authentication-Results",
                         b"Received"], names


def test_forged_results_with_our_id_are_removed(world):
    s = subject()
    forged = (f"Authentication-Results: {HOSTNAME}; dkim=pass header.d=bank.test",
              f"Authentication-Results: other.example; spf=pass smtp.mailfrom=x@y.test")
    world.send(world.tag, make_message("alice@sender.test", s, extra=forged))
    results, data, fields = world.results(world.tag, s)
    assert b"header.d=bank.test" not in data
    assert b"other.example; spf=pass" in data  # someone else's stays
    assert len(fields) == 2


# ---- SPF ------------------------------------------------------------------------------

def test_spf_pass_and_softfail(world):
    s = subject()
    world.send(world.tag, make_message("alice@sender.test", s))
    assert world.results(world.tag, s)[0]["spf"] == ["pass"]
    s = subject()
    world.send(world.tag, make_message("alice@softfail.test", s), mail_from="a@softfail.test")
    assert world.results(world.tag, s)[0]["spf"] == ["softfail"]


def test_null_sender_checks_helo(world):
    # The HELO name client.test has no SPF record: none, and the
    # header says which identity was checked.
    s = subject()
    world.send(world.tag, make_message("alice@sender.test", s), mail_from="")
    results, data, fields = world.results(world.tag, s)
    assert results["spf"] == ["none"]
    assert "client.test" in fields[0]


# ---- DKIM -----------------------------------------------------------------------------

def dkim_of(world, raw):
    s = raw.split(b"Subject: ", 1)[1].split(b"\r\n", 1)[0].decode()
    world.send(world.tag, raw)
    return world.results(world.tag, s)[0]["dkim"]


def test_dkim_valid_rsa(world):
    assert dkim_of(world, sign(make_message("alice@sender.test", subject()), "rsa",
                               world.keys.rsa)) == ["pass"]


def test_dkim_valid_ed25519(world):
    assert dkim_of(world, sign(make_message("alice@sender.test", subject()), "ed",
                               world.keys.ed, algorithm=b"ed25519-sha256")) == ["pass"]


def test_dkim_body_tampered(world):
    raw = sign(make_message("alice@sender.test", subject()), "rsa", world.keys.rsa)
    assert dkim_of(world, raw.replace(b"Hello from", b"Hullo from")) == ["fail"]


def test_dkim_signed_header_tampered(world):
    raw = sign(make_message("alice@sender.test", subject()), "rsa", world.keys.rsa)
    raw = raw.replace(b"To: <bob@example.test>", b"To:  <Bob@example.test>")
    assert dkim_of(world, raw) == ["fail"]


def test_dkim_key_missing(world):
    raw = sign(make_message("alice@sender.test", subject()), "nokey", world.keys.rsa)
    assert dkim_of(world, raw) == ["permerror"]


def test_dkim_key_revoked(world):
    raw = sign(make_message("alice@sender.test", subject()), "revoked", world.keys.rsa)
    assert dkim_of(world, raw) == ["permerror"]


def test_dkim_512_bit_key_does_not_pass(world):
    raw = sign(make_message("alice@sender.test", subject()), "small", world.keys.small)
    assert dkim_of(world, raw) == ["permerror"]


def test_dkim_expired(world):
    raw = sign_expired(make_message("alice@sender.test", subject()), world.keys.rsa)
    assert b" x=" in raw or b";x=" in raw or b"\tx=" in raw
    assert dkim_of(world, raw) == ["fail"]


def test_dkim_length_with_appended_content(world):
    raw = sign(make_message("alice@sender.test", subject()), "rsa", world.keys.rsa, length=True)
    # l= as signed still verifies, but never as a pass of the whole body.
    assert dkim_of(world, raw + b"Appended by someone else.\r\n") == ["policy"]


def test_dkim_two_signatures_one_bad(world):
    raw = make_message("alice@sender.test", subject())
    raw = sign(raw, "rsa", world.keys.rsa)
    raw = sign(raw, "mismatch", world.keys.rsa)  # the published key is another one
    assert sorted(dkim_of(world, raw)) == ["fail", "pass"]


def test_dkim_rsa_sha1_does_not_pass(world):
    raw = sign(make_message("alice@sender.test", subject()), "rsa", world.keys.rsa,
               algorithm=b"rsa-sha1")
    assert dkim_of(world, raw) == ["permerror"]


# ---- DMARC ----------------------------------------------------------------------------

@pytest.mark.parametrize("from_header,mail_from,signed,expected", [
    ("alice@sender.test", "alice@sender.test", False, "pass"),        # SPF aligned
    ("alice@sender.test", "bounce@unrelated.test", True, "pass"),     # DKIM aligned
    ("alice@unaligned.test", "alice@sender.test", False, "fail"),     # neither aligned
    ("alice@news.sender.test", "alice@sender.test", False, "pass"),   # subdomain, relaxed
    ("alice@sub.spdomain.test", "bounce@unrelated.test", False, "fail"),  # sp=reject
    ("alice@pct.test", "bounce@unrelated.test", False, "fail"),       # pct=0
    ("alice@nodmarc.test", "alice@sender.test", False, "none"),
], ids=["spf-aligned", "dkim-aligned", "unaligned", "subdomain", "sp", "pct0", "no-record"])
def test_dmarc_tag(world, from_header, mail_from, signed, expected):
    s = subject()
    raw = make_message(from_header, s)
    if signed:
        raw = sign(raw, "rsa", world.keys.rsa)
    world.send(world.tag, raw, mail_from=mail_from)
    assert world.results(world.tag, s)[0]["dmarc"] == [expected]


def test_enforce_reject_is_550_naming_the_domain(world):
    with pytest.raises(smtplib.SMTPDataError) as e:
        world.send(world.enforce, make_message("alice@reject.test", subject()),
                   mail_from="bounce@unrelated.test")
    assert e.value.smtp_code == 550
    assert b"5.7.1" in e.value.smtp_error and b"reject.test" in e.value.smtp_error


def test_enforce_sp_reject_applies_to_subdomains(world):
    with pytest.raises(smtplib.SMTPDataError) as e:
        world.send(world.enforce, make_message("alice@sub.spdomain.test", subject()),
                   mail_from="bounce@unrelated.test")
    assert e.value.smtp_code == 550


def test_enforce_quarantine_lands_in_junk(world):
    s = subject()
    world.send(world.enforce, make_message("alice@quarantine.test", s),
               mail_from="bounce@unrelated.test")
    results, _, _ = world.results(world.enforce, s, folder="junk")
    assert results["dmarc"] == ["fail"]
    assert (world.enforce.data_dir / "mail/example.test/bob/.Junk/maildirfolder").exists()
    assert s.encode() not in b"".join(world.enforce.maildir_messages(RCPT))


def test_enforce_pct0_is_one_step_milder(world):
    # p=reject with pct=0: never rejected; quarantined instead (RFC 7489 §6.6.4).
    s = subject()
    world.send(world.enforce, make_message("alice@pct.test", s), mail_from="bounce@unrelated.test")
    world.delivered(world.enforce, s, folder="junk")


def test_enforce_dns_trouble_is_451(world):
    with pytest.raises(smtplib.SMTPDataError) as e:
        world.send(world.enforce, make_message("alice@broken.test", subject()),
                   mail_from="bounce@unrelated.test")
    assert e.value.smtp_code == 451
    assert b"4.7.0" in e.value.smtp_error


def test_enforce_passes_aligned_mail(world):
    s = subject()
    world.send(world.enforce, sign(make_message("alice@sender.test", s), "ed", world.keys.ed,
                                   algorithm=b"ed25519-sha256"))
    assert world.results(world.enforce, s)[0]["dmarc"] == ["pass"]


# ---- DNS blocklists -------------------------------------------------------------------

def test_dnsbl_listed_client_gets_554(world, make_server):
    port = world.dns.port
    v6 = Listener("mx6", "relay", "none", host="::1", port=free_port())
    srv = make_server(listeners=[relay("mx", "none"), v6],
                      delivery={"resolver": f"127.0.0.1:{port}"}, inbound={"dnsbl": ["bl.test"]})
    for host, name in (("127.0.0.1", "mx"), ("::1", "mx6")):
        c = smtplib.SMTP(host, srv.port(name), local_hostname="client.test", timeout=15 * SLOW)
        try:
            c.ehlo()
            code, text = c.mail("alice@sender.test")
            assert code == 554, (code, text)
            assert b"5.7.1" in text and b"bl.test" in text
            if host == "127.0.0.1":
                assert b"listed for testing" in text
            code, _ = c.rcpt(RCPT)
            assert code >= 500
        finally:
            c.quit()
    srv.wait_for_log("result=listed")


def test_dnsbl_list_that_times_out_does_not_block(make_server, tmp_path):
    slow = FakeDns("1.0.0.127.slow.test TIMEOUT")
    port = slow.start()
    try:
        srv = make_server(listeners=[relay("mx", "none")], delivery={"resolver": f"127.0.0.1:{port}"},
                          inbound={"spf": False, "dkim": False, "dmarc": False,
                                   "dnsbl": ["slow.test"]})
        started = time.monotonic()
        with smtp(srv.port("mx")) as c:
            c.sendmail("alice@sender.test", [RCPT], make_message("alice@sender.test", "slow list"))
        assert time.monotonic() - started < 8 * SLOW
        srv.wait_for_maildir(RCPT, 1)
        srv.wait_for_log("result=failed")
    finally:
        slow.stop()


# ---- defaults, no resolver --------------------------------------------------------------

def test_defaults_without_reachable_dns_fail_fast(make_server):
    # inbound={} keeps postern's defaults (spf, dkim, dmarc on); the resolver
    # is a loopback port where nothing answers.
    srv = make_server(listeners=[relay("mx", "none")], inbound={},
                      delivery={"resolver": "127.0.0.1:9"})
    started = time.monotonic()
    with smtp(srv.port("mx")) as c:
        c.sendmail("alice@sender.test", [RCPT], make_message("alice@sender.test", "no dns"))
    took = time.monotonic() - started
    messages = srv.wait_for_maildir(RCPT, 1)
    assert took < 12 * SLOW, took
    ar = email.message_from_bytes(messages[0])["Authentication-Results"]
    assert "spf=temperror" in ar, ar
