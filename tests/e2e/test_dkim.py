"""DKIM signing of outgoing mail (SPEC §1.7, docs/dkim.md), end to end:
keys made by `postern dkim keygen`, their TXT records served by
tests/tools/fake_dns.py, a message submitted on the submission port (or
through `postern sendmail`, or by a relay_networks client) delivered by MX
to an aiosmtpd receiver (the mail_world fixture, tests/tools/mail_world.py),
and dkimpy verifying what arrived against the DNS.
"""

import base64
import os
import re
import shutil
import signal
import stat
import subprocess

import pytest

import dkim_check
from postern_harness import POSTERN, SLOW, relay, submission
from smtp_clients import smtp, smtp_starttls, swaks

ALICE = "alice@example.test"
PASSWORD = "alice-correct-horse-1"
RCPT = "bob@dest.test"
HOST = "127.0.0.45"  # this file's receiver address (see test_outbound_mx.py)


class World:
    """Keys, a fake DNS with their records and the MX of dest.test, a
    receiver (the shared mail_world), and a postern signing with the keys."""

    def __init__(self, make_server, mail_world, keys):
        zone = ["dest.test MX 10 mx.dest.test", f"mx.dest.test A {HOST}"]
        self.keygen_output = {}
        self.mail = mail_world([], receivers={HOST: "none"}, prefix="dkim")
        self.workdir = self.mail.workdir
        dkim_tables = []
        for domain, selector, algorithm in keys:
            path = self.workdir / f"{domain}.{selector}.pem"
            out, line = dkim_check.keygen(domain, selector, path, algorithm)
            self.keygen_output[selector] = out
            zone.append(line)
            dkim_tables += ["[[dkim]]", f'domain = "{domain}"', f'selector = "{selector}"',
                            f'key = "{path}"', ""]
        self.zone = zone
        self.mail.set_zone(zone)
        self.dns = self.mail.dns
        self.dns_port = self.mail.dns_port
        self.receiver = self.mail.receiver()
        extra = self.mail.delivery_toml('connect_timeout = "5s"') + "\n" + "\n".join(dkim_tables)
        self.server = make_server(listeners=[submission("sub"), relay("mx", "none")],
                                  local_domains=("example.test",),
                                  relay_networks=("127.0.0.0/8",), extra_toml=extra)

    def submit(self, raw, sender=ALICE):
        with smtp_starttls(self.server.port("sub")) as c:
            c.login(ALICE, PASSWORD)
            c.sendmail(sender, [RCPT], raw)

    def relay_in(self, raw, sender=ALICE):
        with smtp(self.server.port("mx")) as c:
            c.sendmail(sender, [RCPT], raw)

    def received(self, count):
        got = self.receiver.wait_for_messages(count, self.server)
        return [base64.b64decode(m["data_b64"]) for m in got]

    def verify(self, raw):
        return dkim_check.verify_all(raw, self.dns_port)


@pytest.fixture
def world(make_server, mail_world):
    return lambda keys: World(make_server, mail_world, keys)


def message(subject="dkim", body="Hello.\r\n", extra=()):
    headers = [f"From: Alice <{ALICE}>", f"To: <{RCPT}>", f"Subject: {subject}", *extra]
    return ("\r\n".join(headers) + "\r\n\r\n" + body).encode()


@pytest.mark.parametrize("keys,expected", [
    ([("example.test", "r1", "rsa")], [("r1", "rsa-sha256")]),
    ([("example.test", "e1", "ed25519")], [("e1", "ed25519-sha256")]),
    ([("example.test", "r1", "rsa"), ("example.test", "e1", "ed25519")],
     [("r1", "rsa-sha256"), ("e1", "ed25519-sha256")]),
], ids=["rsa", "ed25519", "both"])
def test_submitted_message_verifies_with_dkimpy(world, keys, expected):
    w = world(keys)
    w.submit(message())
    raw = w.received(1)[0]
    assert w.verify(raw) == [(s, a, True) for s, a in expected]
    head = raw.split(b"\r\n\r\n", 1)[0].decode()
    assert "c=relaxed/relaxed" in head and re.search(r"[ \t]t=\d+;", head), head
    assert not re.search(r"[ \t;]l=", head), head
    # From is over-signed: listed once more than it occurs.
    assert "h=from:from:to:subject:date:message-id" in head.replace("\r\n\t", "")
    selectors = ",".join(s for s, _ in expected)
    assert f"dkim=example.test/{selectors}" in w.server.log_text()


def test_changes_in_transit_fail_verification(world):
    w = world([("example.test", "e1", "ed25519")])
    w.submit(message(subject="Invoice", body="Pay 10 EUR.\r\n"))
    raw = w.received(1)[0]
    assert w.verify(raw) == [("e1", "ed25519-sha256", True)]
    assert w.verify(raw.replace(b"Pay 10 EUR", b"Pay 99 EUR")) == [("e1", "ed25519-sha256", False)]
    assert w.verify(raw.replace(b"Subject: Invoice", b"Subject: Invoice!")) == [
        ("e1", "ed25519-sha256", False)]
    assert w.verify(b"From: mallory@example.test\r\n" + raw) == [("e1", "ed25519-sha256", False)]


def test_swaks_submission_and_sendmail_verify(world):
    w = world([("example.test", "r1", "rsa"), ("example.test", "e1", "ed25519")])
    out = swaks("--server", f"127.0.0.1:{w.server.port('sub')}", "--tls", "--auth", "PLAIN",
                "--auth-user", ALICE, "--auth-password", PASSWORD, "--from", ALICE, "--to", RCPT,
                "--header", "Subject: from swaks", "--body", "swaks body")
    assert out.returncode == 0, out.stdout
    sent = subprocess.run([POSTERN, "sendmail", "--config", str(w.server.config_path), "-t",
                           "-f", ALICE],
                          input=(f"From: {ALICE}\nTo: {RCPT}\nSubject: from sendmail\n\n"
                                 "LF line ends, as PHP writes them.\n").encode(),
                          capture_output=True, timeout=60 * SLOW)
    assert sent.returncode == 0, sent.stderr
    for raw in w.received(2):
        assert w.verify(raw) == [("r1", "rsa-sha256", True), ("e1", "ed25519-sha256", True)], raw


# Messages that have tripped DKIM signers. Each goes through the relay
# listener as a relay_networks client (smtplib adds the final CRLF and
# dot-stuffs; postern may add Date and Message-ID only on submission).
LONG = "x" * 996
CORPUS = {
    "plain": message(),
    "folded subject": message(extra=["X-A: 1"], subject="a long subject\r\n\tfolded once\r\n  twice"),
    "folded to": (f"From: {ALICE}\r\nTo: <{RCPT}>,\r\n\t<other@dest.test>\r\nSubject: f\r\n\r\nx\r\n").encode(),
    "trailing white space in headers": (f"From: {ALICE}  \r\nSubject: s \t \r\n\r\nbody\r\n").encode(),
    "trailing white space in body": message(body="one  \r\ntwo\t\r\nthree \t \r\n"),
    "tabs": message(body="a\tb\t\tc\r\n\tindented\r\n"),
    "empty lines at the end": message(body="text\r\n\r\n\r\n\r\n"),
    "only empty lines": message(body="\r\n\r\n\r\n"),
    "empty body": message(body=""),
    "no final CRLF": message(body="last line without CRLF"),
    "8-bit body": message(body="Gr\u00fc\u00dfe, caf\u00e9 \u2013 \u65e5\u672c\r\n"),
    "latin-1 body": message(body="").rstrip(b"\r\n") + b"\r\n\r\ncaf\xe9 na\xefve\r\n",
    "8-bit header": f"From: J\u00f6rg <{ALICE}>\r\nSubject: caf\u00e9\r\n\r\nx\r\n".encode(),
    "998-octet lines": message(body=f"{LONG}ab\r\n{'y' * 998}\r\n"),
    "long header": message(extra=["X-Long: " + "h" * 990]),
    "multipart": message(
        extra=["MIME-Version: 1.0", 'Content-Type: multipart/mixed; boundary="b1"'],
        body=("--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\npart one \r\n"
              "--b1\r\nContent-Type: application/octet-stream\r\n"
              "Content-Transfer-Encoding: base64\r\n\r\nAAECAwQF\r\n--b1--\r\n")),
    "leading dots": message(body=".\r\n..\r\n.hidden\r\n"),
    "white space only lines": message(body="a\r\n \r\n\t\r\nb\r\n  \r\n"),
    "no From": (f"To: <{RCPT}>\r\nSubject: nobody\r\n\r\nwho sent this?\r\n").encode(),
    "lower-case names": (f"from: {ALICE}\r\nsubject: lower\r\n\r\nx\r\n").encode(),
    "list headers": message(extra=["List-Id: <list.example.test>",
                                   "List-Unsubscribe: <mailto:u@example.test>",
                                   "Reply-To: list@example.test", "Cc: c@dest.test"]),
    "two subjects": message(extra=["Subject: second"]),
    "quoted-printable": message(
        extra=["MIME-Version: 1.0", "Content-Type: text/plain; charset=utf-8",
               "Content-Transfer-Encoding: quoted-printable"],
        body="soft =\r\nbreak, caf=C3=A9, trailing=20\r\n=3D\r\n"),
    "body of many lines": message(body="".join(f"line {i}  \r\n" for i in range(2000))),
}


def test_awkward_corpus_verifies_with_dkimpy(world):
    assert len(CORPUS) >= 20
    w = world([("example.test", "r1", "rsa"), ("example.test", "e1", "ed25519")])
    names = list(CORPUS)
    with smtp(w.server.port("mx")) as c:
        for name in names:
            c.sendmail(ALICE, [RCPT], CORPUS[name])
    got = w.received(len(names))
    by_subject = {}
    failures = []
    for raw in got:
        results = w.verify(raw)
        if results != [("r1", "rsa-sha256", True), ("e1", "ed25519-sha256", True)]:
            failures.append((results, raw[:3000]))
        by_subject[raw] = results
    assert not failures, failures
    assert len(got) == len(names)


def test_two_from_fields_are_refused_with_a_clear_reply(world):
    w = world([("example.test", "e1", "ed25519")])
    # Both addresses are Alice's own, so the From ownership check (SPEC §1.9)
    # lets it through and the two fields themselves are what is refused.
    raw = (f"From: {ALICE}\r\nFrom: {ALICE}\r\nSubject: two\r\n\r\nx\r\n").encode()
    with smtp_starttls(w.server.port("sub")) as c:
        c.login(ALICE, PASSWORD)
        with pytest.raises(Exception) as e:
            c.sendmail(ALICE, [RCPT], raw)
    assert "550" in str(e.value) and "From:" in str(e.value), str(e.value)
    assert "5.6.0" in str(e.value)
    # The session goes on: the next message is accepted and signed.
    w.submit(message(subject="after"))
    assert w.verify(w.received(1)[0]) == [("e1", "ed25519-sha256", True)]


def test_sendmail_with_two_from_fields_exits_65(world):
    w = world([("example.test", "e1", "ed25519")])
    out = subprocess.run([POSTERN, "sendmail", "--config", str(w.server.config_path), "-t"],
                         input=(f"From: {ALICE}\nFrom: x@example.test\nTo: {RCPT}\n\nx\n").encode(),
                         capture_output=True, timeout=60 * SLOW)
    assert out.returncode == 65, out
    assert b"2 From: header fields" in out.stderr, out.stderr


def test_mail_from_other_domains_and_unsigned_clients_is_not_signed(world):
    w = world([("example.test", "e1", "ed25519")])
    w.relay_in((f"From: someone@elsewhere.test\r\nSubject: s\r\n\r\nx\r\n").encode(),
               sender="someone@elsewhere.test")
    raw = w.received(1)[0]
    assert b"DKIM-Signature" not in raw


def test_keygen_writes_a_private_key_and_prints_the_record(tmp_path):
    key = tmp_path / "dkim" / "example.test.s1.pem"
    out, line = dkim_check.keygen("Example.TEST", "s1", key)
    assert stat.S_IMODE(os.stat(key).st_mode) == 0o600
    assert "BEGIN PRIVATE KEY" in key.read_text()
    assert "s1._domainkey.example.test. 3600 IN TXT (" in out
    value = [l for l in out.splitlines() if l.strip().startswith("value:")][0].split("value:")[1]
    value = value.strip()
    assert value.startswith("v=DKIM1; k=rsa; p=MII") and '"' not in value
    strings = line.split(" TXT ", 1)[1]
    parts = [p for p in strings.split('"') if p.strip()]
    assert all(len(p) <= 255 for p in parts) and "".join(parts) == value
    # A second keygen does not overwrite it.
    again = subprocess.run([POSTERN, "dkim", "keygen", "example.test", "--selector", "s1",
                            "--key", str(key)], capture_output=True, text=True, timeout=60)
    assert again.returncode == 1 and "already exists" in again.stderr
    bad = subprocess.run([POSTERN, "dkim", "keygen", "example.test", "--selector", "s2",
                          "--bits", "512", "--key", str(tmp_path / "k")],
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "RFC 8301" in bad.stderr


def test_show_prints_the_records_again(world):
    w = world([("example.test", "r1", "rsa"), ("example.test", "e1", "ed25519")])
    out = subprocess.run([POSTERN, "dkim", "show", "example.test", "--config",
                          str(w.server.config_path)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    for selector in ("r1", "e1"):
        zone_line = [l for l in w.keygen_output[selector].splitlines() if " IN TXT " in l][0]
        assert zone_line in out.stdout, out.stdout
    none = subprocess.run([POSTERN, "dkim", "show", "other.test", "--config",
                           str(w.server.config_path)], capture_output=True, text=True, timeout=60)
    assert none.returncode == 1 and "no [[dkim]] entry for other.test" in none.stderr


def test_bad_keys_refuse_start_up_with_file_and_line(make_server, tmp_path):
    bad = tmp_path / "bad.pem"
    bad.write_text("not a key\n")
    bad.chmod(0o600)
    srv = make_server(start=False, extra_toml="\n".join([
        "", "[[dkim]]", 'domain = "example.test"', 'selector = "s1"', f'key = "{bad}"', "",
        "[[dkim]]", 'domain = "example.test"', 'selector = "s2"',
        f'key = "{tmp_path / "missing.pem"}"', ""]))
    out = subprocess.run([POSTERN, "serve", "--config", str(srv.config_path)],
                         capture_output=True, text=True, timeout=30 * SLOW)
    assert out.returncode != 0
    text = out.stdout + out.stderr
    lines = srv.config_path.read_text().splitlines()
    bad_line = next(i for i, l in enumerate(lines, 1) if str(bad) in l)
    missing_line = next(i for i, l in enumerate(lines, 1) if "missing.pem" in l)
    assert f"postern.toml:{bad_line}" in text and "not a PEM private key" in text, text
    assert f"postern.toml:{missing_line}" in text and "does not exist" in text, text
    assert "postern dkim keygen example.test --selector s2" in text, text


def test_check_lints_dkim_keys(make_server, tmp_path):
    weak = tmp_path / "weak.pem"
    subprocess.run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:1024",
                    "-out", str(weak)], check=True, capture_output=True, timeout=60)
    weak.chmod(0o644)
    ed = tmp_path / "ed.pem"
    dkim_check.keygen("other.test", "e1", ed, "ed25519")
    srv = make_server(start=False, extra_toml="\n".join([
        "", "[[dkim]]", 'domain = "example.test"', 'selector = "weak"', f'key = "{weak}"', "",
        "[[dkim]]", 'domain = "other.test"', 'selector = "e1"', f'key = "{ed}"', ""]))
    out = subprocess.run([POSTERN, "check", "--config", str(srv.config_path)],
                         capture_output=True, text=True, timeout=30 * SLOW)
    text = out.stdout
    assert out.returncode == 1, text
    assert "readable by every user" in text and f"chmod 600 {weak}" in text, text
    assert "RSA with 1024 bits" in text, text
    assert "other.test is not in local_domains" in text, text
    assert "other.test is signed with Ed25519 only" in text, text
    ec = tmp_path / "ec.pem"
    subprocess.run(["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
                    "-out", str(ec)], check=True, capture_output=True, timeout=60)
    small = tmp_path / "small.pem"
    subprocess.run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:512",
                    "-out", str(small)], check=True, capture_output=True, timeout=60)
    srv.extra_toml = "\n".join([
        "", "[[dkim]]", 'domain = "example.test"', 'selector = "ec"', f'key = "{ec}"', "",
        "[[dkim]]", 'domain = "example.test"', 'selector = "small"', f'key = "{small}"', ""])
    srv.write_config()
    out = subprocess.run([POSTERN, "check", "--config", str(srv.config_path)],
                         capture_output=True, text=True, timeout=30 * SLOW)
    assert out.returncode == 1
    assert "EC (ECDSA) key; DKIM signs with RSA or Ed25519" in out.stdout, out.stdout
    assert "512 bits" in out.stdout and "RFC 8301" in out.stdout, out.stdout


def test_reload_rotates_the_signing_key_and_refuses_a_broken_one(world):
    """SPEC §1.11: a reload swaps the [[dkim]] keys. The operator publishes
    the new selector's record, replaces the key file and names the new
    selector; the next message is signed with the new key. A key file that
    no longer loads refuses the whole reload and the key in use keeps
    signing."""
    w = world([("example.test", "e1", "ed25519")])
    srv = w.server
    w.submit(message(subject="before the rotation"))
    assert w.verify(w.received(1)[0]) == [("e1", "ed25519-sha256", True)]

    fresh = w.workdir / "fresh.pem"
    _, record = dkim_check.keygen("example.test", "e2", fresh, "ed25519")
    w.mail.set_zone(w.zone + [record])
    key_path = w.workdir / "example.test.e1.pem"
    shutil.copy(fresh, key_path)
    srv.extra_toml = srv.extra_toml.replace('selector = "e1"', 'selector = "e2"')
    srv.write_config()
    answer = subprocess.run([POSTERN, "reload", "--config", str(srv.config_path)],
                            capture_output=True, text=True, timeout=60 * SLOW)
    assert answer.returncode == 0, answer.stdout + answer.stderr
    assert "needs a restart" not in answer.stdout, answer.stdout
    assert "dkim_keys=1" in srv.log_text()
    w.submit(message(subject="after the rotation"))
    raw = w.received(2)[1]
    assert b"after the rotation" in raw
    assert w.verify(raw) == [("e2", "ed25519-sha256", True)]

    key_path.write_text("-----BEGIN PRIVATE KEY-----\nbroken\n-----END PRIVATE KEY-----\n")
    answer = subprocess.run([POSTERN, "reload", "--config", str(srv.config_path)],
                            capture_output=True, text=True, timeout=60 * SLOW)
    assert answer.returncode == 1, answer.stdout + answer.stderr
    assert str(key_path) in answer.stdout + answer.stderr
    # `postern reload` checks the file before asking; SIGHUP goes straight
    # to the server, which refuses it itself.
    srv.proc.send_signal(signal.SIGHUP)
    srv.wait_for_log("reload status=refused")
    assert str(key_path) in srv.log_text()
    w.submit(message(subject="after the refused reload"))
    raw = w.received(3)[2]
    assert b"after the refused reload" in raw
    assert w.verify(raw) == [("e2", "ed25519-sha256", True)]
