"""`postern sendmail` and the binary invoked as `sendmail` (SPEC §3): what
PHP's mail(), cron and scripts do, end to end into a Maildir."""

import getpass
import os
import subprocess

import pytest

import postern_harness as harness

POSTERN = harness.POSTERN
ALICE = "alice@example.test"
BOB = "bob@example.test"

# What PHP's mail() hands to `sendmail -t -i`: LF line ends, To: and
# Subject:, no Date:, no Message-ID:, no From: unless the script adds one.
PHP_MESSAGE = (
    "To: Alice <alice@example.test>\n"
    "Subject: Your order\n"
    "MIME-Version: 1.0\n"
    "Content-Type: text/plain; charset=UTF-8\n"
    "\n"
    "Thank you for your order.\n"
    ".\n"
    "A lone dot above did not end the message.\n"
)


def sendmail(srv, *args, message=PHP_MESSAGE, program=None, env=None, timeout=60):
    argv = [program] if program else [POSTERN, "sendmail"]
    full_env = dict(os.environ)
    if env is not None:
        full_env.update(env)
    else:
        argv += ["--config", str(srv.config_path)]
    return subprocess.run(argv + list(args), input=message.encode(), capture_output=True,
                          timeout=timeout * harness.SLOW, env=full_env)


def headers_of(raw):
    head = raw.split(b"\n\n", 1)[0]
    return head.decode(errors="replace")


def test_php_style_message_is_delivered_with_date_and_message_id(make_server):
    srv = make_server()
    r = sendmail(srv, "-t", "-i", "-f", "shop@example.test")
    assert r.returncode == 0, r.stderr
    assert r.stdout == b"" and r.stderr == b""
    [raw] = srv.wait_for_maildir(ALICE, 1)
    head = headers_of(raw)
    assert "Return-Path: <shop@example.test>" in head
    assert f"Received: from local (uid {os.getuid()})" in head
    assert "(postern sendmail)" in head
    assert head.count("\nDate: ") == 1
    assert head.count("\nMessage-ID: <") == 1 and "@mx.example.test>" in head
    assert "\nFrom: shop@example.test\n" in head
    assert "Subject: Your order" in head
    body = raw.split(b"\n\n", 1)[1]
    assert body == b"Thank you for your order.\n.\nA lone dot above did not end the message.\n"
    assert "origin=sendmail" in srv.log_text()


def test_recipients_as_arguments_and_bcc_under_minus_t(make_server):
    srv = make_server()
    # Without -t the headers name nobody: only the arguments count, and the
    # message is left as it is (apart from what a submission adds).
    msg = "To: someone@elsewhere.test\nBcc: carol@elsewhere.test\nSubject: args\n\nHi\n"
    r = sendmail(srv, "-oi", "-f", "app@example.test", ALICE, BOB, message=msg)
    assert r.returncode == 0, r.stderr
    [to_alice] = srv.wait_for_maildir(ALICE, 1)
    [to_bob] = srv.wait_for_maildir(BOB, 1)
    assert b"Subject: args" in to_alice and b"Subject: args" in to_bob

    # -t: Bcc: recipients get it, and nobody sees the Bcc: line.
    msg = (f"From: Shop <app@example.test>\nTo: {ALICE}\nBcc: {BOB}\n"
           "Subject: blind\n\nHi\n")
    r = sendmail(srv, "-t", message=msg)
    assert r.returncode == 0, r.stderr
    alice_mail = srv.wait_for_maildir(ALICE, 2)[-1]
    bob_mail = srv.wait_for_maildir(BOB, 2)[-1]
    for raw in (alice_mail, bob_mail):
        assert b"Subject: blind" in raw
        assert b"Bcc:" not in headers_of(raw).encode()
        assert b"From: Shop <app@example.test>" in raw
    # The default envelope sender: the login name at the configured hostname.
    assert f"Return-Path: <{getpass.getuser()}@mx.example.test>".encode() in alice_mail


def test_full_name_for_an_added_from(make_server):
    srv = make_server()
    r = sendmail(srv, "-F", "Web Shop", "-fshop@example.test", ALICE,
                 message="Subject: named\n\nx\n")
    assert r.returncode == 0, r.stderr
    [raw] = srv.wait_for_maildir(ALICE, 1)
    assert "\nFrom: Web Shop <shop@example.test>\n" in headers_of(raw)


def test_invoked_through_a_link_named_sendmail(make_server, tmp_path):
    srv = make_server()
    link = tmp_path / "sendmail"
    link.symlink_to(POSTERN)
    # As applications call it: no --config, the configuration from the
    # environment; flags they commonly pass.
    r = sendmail(srv, "-t", "-i", "-odi", "-oem", program=str(link),
                 env={"POSTERN_CONFIG": str(srv.config_path)})
    assert r.returncode == 0, r.stderr
    [raw] = srv.wait_for_maildir(ALICE, 1)
    assert b"Subject: Your order" in raw
    usage = subprocess.run([str(link), "--help"], capture_output=True, text=True, timeout=30)
    assert usage.returncode == 0 and "usage: sendmail" in usage.stdout


def test_server_down_is_a_temporary_failure(make_server):
    srv = make_server(start=False)
    r = sendmail(srv, "-t", "-i")
    assert r.returncode == 75, (r.stdout, r.stderr)
    err = r.stderr.decode()
    assert "does not seem to be running" in err and "control.sock" in err
    assert "not sent" in err


def test_unknown_local_recipient_is_refused(make_server):
    srv = make_server()
    r = sendmail(srv, "nobody@example.test", ALICE, message="Subject: x\n\ny\n")
    assert r.returncode == 67, r.stderr
    assert b"nobody@example.test" in r.stderr and b"User unknown" in r.stderr
    # Nothing was queued, not even for the good recipient.
    srv.assert_maildir_stays(ALICE, 0, wait=0.5)
    assert not srv.spool_segments()


@pytest.mark.parametrize("args,message", [
    ((), "Subject: nobody to send to\n\nx\n"),  # no recipients, no -t
    (("-t",), "Subject: no To: either\n\nx\n"),
    (("-bs",), "x"),
    (("-bp",), "x"),
    (("-X",), "x"),
])
def test_usage_errors_exit_64(make_server, args, message):
    srv = make_server(start=False)
    r = sendmail(srv, *args, message=message)
    assert r.returncode == 64, (args, r.stderr)
    assert r.stderr.startswith(b"sendmail: ")


def test_oversized_message_is_refused(make_server):
    srv = make_server(limits={"max_message_size": 2000})
    r = sendmail(srv, ALICE, message="Subject: big\n\n" + "x" * 3000 + "\n")
    assert r.returncode == 65, r.stderr
    assert b"maximum message size" in r.stderr
