"""`postern send`: one controlled test message through a real postern.

- the submission port with STARTTLS and AUTH (the harness's self-signed
  certificate trusted with --ca-file): the message lands in the Maildir with
  its encoded subject, custom header, body and attachments that decode
  byte-identical (Python's email package), the queue id printed is the one
  postern logged, and -v shows no password nor its base64;
- the same certificate without --ca-file: certificate_self_signed, nothing
  sent (an untrusted certificate is reported, never ignored);
- a relay port refusing a foreign recipient: relay_denied, exit 8, the
  probe's diagnosis; a wrong password: auth_failed, exit 7;
- a preset (ses:eu-west-1) resolved through a test DNS server to a postern
  on 127.0.0.x:587 with a certificate for the SES name: no internet needed;
- usage errors exit 2.
"""

import base64
import email
import email.policy
import json
import os
import re
import subprocess

import pytest

import certs
from fake_dns import FakeDns
from postern_harness import POSTERN, SLOW, Listener

ALICE = "alice@example.test"
BOB = "bob@example.test"
STEP = f"{5 * SLOW:g}s"


def send(*args, password=None, env=None):
    return subprocess.run([POSTERN, "send", "--timeout", STEP, *args],
                          input=(password or "") + "\n", capture_output=True, text=True,
                          timeout=60 * SLOW, env=env)


def submission_args(server):
    return ["--server", f"127.0.0.1:{server.port('submission')}", "--ca-file", str(server.cert),
            "--user", ALICE, "--password-stdin", "--from", ALICE]


def logged_queue_id(server, text):
    server.wait_for_log(f"queued id={text}")
    return text


def test_message_lands_with_subject_header_body_and_attachments(shared_server, tmp_path):
    binary = tmp_path / "blob.bin"
    binary.write_bytes(os.urandom(5000) + b"\r\n.\r\n\x00\xff")
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(b"%PDF-1.4\n" + bytes(range(256)) * 4)
    body = tmp_path / "body.txt"
    body.write_text("first line\n.a line starting with a dot\nlast line\n")
    subject = "Grüße from postern send ✓"
    password = shared_server.users[ALICE]
    result = send(*submission_args(shared_server), "--to", BOB, "--subject", subject,
                  "--header", "X-Campaign: e2e-send", "--body-file", str(body),
                  "--attach", str(binary), "--attach", str(pdf), "-v", password=password)
    out = result.stdout + result.stderr
    assert result.returncode == 0, out

    # The queue id printed is the one postern logged, and the final reply is shown.
    match = re.search(r"^Queued as (\S+)$", result.stdout, re.M)
    assert match, out
    queue_id = match.group(1)
    shared_server.wait_for_log(f"queued id={queue_id} ")
    assert re.search(rf"^Server: 250 .*{queue_id}", result.stdout, re.M), out

    # -v: the AUTH line is masked; neither the password nor its base64 anywhere.
    assert "C: AUTH PLAIN ****" in out, out
    plain = base64.b64encode(f"\0{ALICE}\0{password}".encode()).decode()
    assert password not in out and plain not in out
    assert base64.b64encode(password.encode()).decode() not in out

    shared_server.wait_for_maildir(BOB, 1)
    [raw] = [m for m in shared_server.maildir_messages(BOB)
             if b"X-Campaign: e2e-send" in m]
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert msg["Subject"] == subject
    assert msg["X-Campaign"] == "e2e-send"
    assert msg["From"] == ALICE and msg["To"] == BOB
    assert msg["Date"] and msg["Message-ID"].endswith("@example.test>")
    assert msg["MIME-Version"] == "1.0"
    assert msg.get_content_type() == "multipart/mixed"
    parts = list(msg.iter_parts())
    assert parts[0].get_content().replace("\r\n", "\n") == body.read_text()
    attachments = {p.get_filename(): p for p in msg.iter_attachments()}
    assert attachments["blob.bin"].get_content_type() == "application/octet-stream"
    assert attachments["blob.bin"].get_content() == binary.read_bytes()
    assert attachments["report.pdf"].get_content_type() == "application/pdf"
    assert attachments["report.pdf"].get_content() == pdf.read_bytes()


def test_json_and_several_recipients(shared_server):
    result = send(*submission_args(shared_server), "--to", BOB, "--to", ALICE, "--subject",
                  "json", "--body", "hello", "--json", password=shared_server.users[ALICE])
    assert result.returncode == 0, result.stdout + result.stderr
    doc = json.loads(result.stdout)
    assert doc["schema"] == 1 and doc["command"] == "send" and doc["ok"] is True, doc
    assert doc["steps"][-1]["stage"] == "data" and doc["exit_status"] == 0
    assert doc["server_reply"].startswith("250"), doc
    shared_server.wait_for_log(f"queued id={doc['queue_id']} ")
    for rcpt in (BOB, ALICE):
        assert any(b"Subject: json" in m for m in shared_server.wait_for_maildir(rcpt, 1)), rcpt


def test_untrusted_certificate_is_reported_and_nothing_sent(shared_server):
    result = send("--server", f"127.0.0.1:{shared_server.port('submission')}", "--user", ALICE,
                  "--password-stdin", "--from", ALICE, "--to", BOB, "--subject", "untrusted",
                  "--json", password=shared_server.users[ALICE])
    doc = json.loads(result.stdout)
    assert result.returncode == 6, doc
    assert (doc["failed_stage"], doc["diagnosis"]) == ("certificate", "certificate_self_signed")
    assert not any(s["stage"] in ("auth", "data") for s in doc["steps"]), doc
    assert shared_server.users[ALICE] not in result.stdout + result.stderr


def test_relay_denied_exits_8_with_the_diagnosis(shared_server):
    result = send("--server", f"127.0.0.1:{shared_server.port('relay')}", "--ca-file",
                  str(shared_server.cert), "--from", "someone@outside.test", "--to",
                  "someone@elsewhere.test")
    out = result.stdout + result.stderr
    assert result.returncode == 8, out
    assert "Diagnosis: relay_denied (at rcpt)" in result.stdout, out
    assert "554 5.7.1" in result.stdout, out
    assert "Queued as" not in result.stdout


def test_wrong_password_exits_7_and_is_not_printed(shared_server):
    env = dict(os.environ, SEND_TEST_PASSWORD="not-the-password-4711")
    result = send("--server", f"127.0.0.1:{shared_server.port('submission')}", "--ca-file",
                  str(shared_server.cert), "--user", ALICE, "--password-env",
                  "SEND_TEST_PASSWORD", "--from", ALICE, "--to", BOB, "-v", "--json", env=env)
    doc = json.loads(result.stdout)
    assert result.returncode == 7, doc
    assert (doc["failed_stage"], doc["diagnosis"]) == ("auth", "auth_failed"), doc
    out = result.stdout + result.stderr
    assert "not-the-password-4711" not in out
    assert base64.b64encode(b"not-the-password-4711").decode() not in out


def start_fake_dns(zone):
    dns = FakeDns(zone)
    return dns, dns.start()  # start() picks another port when the TCP twin is taken


def test_preset_resolves_to_its_host_and_first_port(make_server):
    ses = "email-smtp.eu-west-1.amazonaws.com"
    address = "127.0.0.61"
    server = make_server(start=False, listeners=[
        Listener("submission", "submission", "starttls-required", host=address, port=587)])
    server.cert, server.key = certs.self_signed(server.dir / "ses-tls", names=[ses])
    server.write_config()
    server.start()
    dns, port = start_fake_dns({ses: f"A {address}"})
    try:
        result = send("--server", "ses:eu-west-1", "--resolver", f"127.0.0.1:{port}",
                      "--ca-file", str(server.cert), "--user", ALICE, "--password-stdin",
                      "--from", ALICE, "--to", BOB, "--subject", "via preset", "--json",
                      password=server.users[ALICE])
    finally:
        dns.stop()
    doc = json.loads(result.stdout)
    assert result.returncode == 0, (doc, result.stderr)
    assert (doc["host"], doc["port"], doc["address"]) == (ses, 587, address), doc
    assert doc["tls"]["found"] == "starttls", doc
    server.wait_for_maildir(BOB, 1)


@pytest.mark.parametrize("args, message", [
    (["--server", "ses", "--from", ALICE, "--to", BOB], "needs a region"),
    (["--server", "ses:mars", "--from", ALICE, "--to", BOB], "not an AWS region"),
    (["--server", "127.0.0.1:1", "--from", ALICE, "--to", BOB, "--header", "no colon"],
     "Name: value"),
    (["--server", "127.0.0.1:1", "--from", ALICE], "--to"),
    (["--server", "127.0.0.1:1", "--from", ALICE, "--to", BOB, "--password-stdin"],
     "need --user"),
    (["--server", "127.0.0.1:1", "--from", ALICE, "--to", BOB, "--tls", "ssl"], "--tls"),
])
def test_usage_errors_exit_2(args, message):
    result = send(*args)
    assert result.returncode == 2, result.stdout + result.stderr
    assert message in result.stderr, result.stderr
