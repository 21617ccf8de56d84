"""Identity and addresses (SPEC §1.9, docs/addresses.md) end to end with
smtplib and `postern sendmail`: local parts without case, plus-addressing,
postmaster, aliases (two users, chains, once each), catch-all, header From
ownership on submission, sendmail's bare names and -t bounces, `postern
addresses show` and the lints of `postern check`."""

import os
import smtplib
import subprocess
import time

import pytest

import postern_harness as harness
from postern_harness import POSTERN, SLOW, relay, submission
from smtp_clients import message, smtp, smtp_starttls

ALICE = "alice@example.test"
BOB = "bob@example.test"
ALICE_PASSWORD = harness.USERS[ALICE]

ALIASES = """\
# team addresses
info@example.test:  alice@example.test, bob@example.test
team@example.test:  info@example.test, Bob@Example.test    # bob twice: one copy
root:               alice@example.test                     # bare name: default domain
sales@other.test:   alice@example.test
@other.test:        bob@example.test                       # catch-all
"""


def make(make_server, aliases=ALIASES, extra=""):
    srv = make_server(start=False, listeners=[relay("mx", "none"),
                                              submission("sub", "starttls-required")],
                      local_domains=("example.test", "other.test"))
    (srv.dir / "aliases").write_text(aliases)
    srv.extra_toml = (f'\n[addresses]\naliases_file = "{srv.dir / "aliases"}"\n'
                      'default_domain = "example.test"\n' + extra)
    srv.write_config()
    srv.start()
    return srv


@pytest.fixture
def srv(make_server):
    return make(make_server)


def deliver(srv, rcpts, sender="someone@sender.test"):
    with smtp(srv.port("mx")) as c:
        c.sendmail(sender, rcpts, message(sender, rcpts[0], subject="to " + ",".join(rcpts)))


def test_case_and_plus_addressing(srv):
    deliver(srv, ["Alice@example.test", "ALICE+x@EXAMPLE.test", "alice+tag@example.test"])
    # One mailbox, lowercase on disk; the three RCPTs are one recipient.
    [raw] = srv.wait_for_maildir(ALICE, 1)
    assert b"Subject: to Alice@example.test" in raw
    srv.assert_maildir_stays(ALICE, 1, wait=0.5)
    assert not (srv.data_dir / "mail" / "example.test" / "Alice").exists()
    # AUTH names without case too.
    client = smtp_starttls(srv.port("sub"), cafile=srv.cert)
    client.login("ALICE@Example.TEST", ALICE_PASSWORD)
    client.sendmail("alice+out@example.test", [BOB], message(ALICE, BOB, subject="from ALICE"))
    client.quit()
    assert b"Subject: from ALICE" in srv.wait_for_maildir(BOB, 1)[0]


def test_postmaster_of_every_local_domain(srv):
    with smtp(srv.port("mx")) as c:
        c.ehlo()
        code, _ = c.docmd("MAIL FROM:<x@sender.test>")
        assert code == 250
        for rcpt in ("<Postmaster>", "<POSTMASTER>", "<postmaster@example.test>",
                     "<PostMaster@other.test>"):
            code, text = c.docmd("RCPT TO:" + rcpt)
            assert code == 250, (rcpt, text)
        code, _ = c.docmd("DATA")
        assert code == 354
        c.send(b"Subject: to the postmaster\r\n\r\nhi\r\n.\r\n")
        code, _ = c.getreply()
        assert code == 250
    # The first user by default, once (all four are the same mailbox).
    [raw] = srv.wait_for_maildir(ALICE, 1)
    assert b"to the postmaster" in raw
    srv.assert_maildir_stays(ALICE, 1, wait=0.5)


def test_aliases_deliver_once_to_each(srv):
    deliver(srv, ["info@example.test"])
    assert len(srv.wait_for_maildir(ALICE, 1)) == 1
    assert len(srv.wait_for_maildir(BOB, 1)) == 1
    deliver(srv, ["team@example.test", "info@example.test"])
    srv.wait_for_maildir(ALICE, 2)
    srv.wait_for_maildir(BOB, 2)
    srv.assert_maildir_stays(ALICE, 2, wait=0.5)
    srv.assert_maildir_stays(BOB, 2, wait=0.1)


def test_catch_all_only_for_unknown_names(srv):
    deliver(srv, ["sales@other.test"])
    assert b"to sales@other.test" in srv.wait_for_maildir(ALICE, 1)[0]
    deliver(srv, ["anything@other.test"])
    assert b"to anything@other.test" in srv.wait_for_maildir(BOB, 1)[0]
    srv.assert_maildir_stays(ALICE, 1, wait=0.3)
    # example.test has no catch-all: unknown names are still refused.
    with smtp(srv.port("mx")) as c:
        with pytest.raises(smtplib.SMTPRecipientsRefused) as e:
            c.sendmail("x@sender.test", ["nobody@example.test"], "Subject: x\r\n\r\nx\r\n")
    code, text = e.value.recipients["nobody@example.test"]
    assert code == 550 and text.startswith(b"5.1.1")


def test_header_from_must_be_owned(srv):
    client = smtp_starttls(srv.port("sub"), cafile=srv.cert)
    client.login(ALICE, ALICE_PASSWORD)
    forged = message(BOB, "someone@remote.test", subject="forged")
    with pytest.raises(smtplib.SMTPDataError) as e:
        client.sendmail(ALICE, [BOB], forged)
    assert e.value.smtp_code == 550
    assert e.value.smtp_error.startswith(b"5.7.1 <bob@example.test>: From address not owned")
    # An alias naming alice is hers to send as, and so is a +tag form.
    client.sendmail(ALICE, [BOB], message("info@example.test", BOB, subject="as info"))
    client.sendmail(ALICE, [BOB], message("alice+news@example.test", BOB, subject="as tag"))
    client.quit()
    got = srv.wait_for_maildir(BOB, 2)
    assert any(b"Subject: as info" in m for m in got)
    assert not any(b"Subject: forged" in m for m in got)
    assert "From address not owned by user" in srv.log_text()


def sendmail(srv, *args, msg="Subject: cron\n\nreport\n"):
    return subprocess.run([POSTERN, "sendmail", "--config", str(srv.config_path), *args],
                          input=msg.encode(), capture_output=True, timeout=60 * SLOW)


def test_sendmail_bare_name_reaches_the_alias_target(srv):
    r = sendmail(srv, "root", msg="Subject: Cron <root@host> run-parts\n\nall good\n")
    assert r.returncode == 0, r.stderr
    [raw] = srv.wait_for_maildir(ALICE, 1)
    assert b"all good" in raw
    assert not (srv.data_dir / "mail" / "example.test" / "root").exists()


def test_sendmail_t_bounces_only_the_unknown_recipient(srv):
    msg = ("From: alice@example.test\nTo: bob@example.test\nCc: gone@example.test, info@example.test\n"
           "Subject: web form\n\nhello\n")
    r = sendmail(srv, "-t", "-f", ALICE, msg=msg)
    assert r.returncode == 0, r.stderr
    assert b"Subject: web form" in srv.wait_for_maildir(BOB, 1)[0]
    mails = srv.wait_for_maildir(ALICE, 2)  # info@ copy and the bounce
    bounce = [m for m in mails if b"multipart/report" in m]
    assert len(bounce) == 1, mails
    assert b"Final-Recipient: rfc822; gone@example.test" in bounce[0]
    assert b"Status: 5.1.1" in bounce[0]
    srv.assert_maildir_stays(BOB, 1, wait=0.3)
    # Without -t an unknown recipient still refuses the message (exit 67).
    r = sendmail(srv, "gone", BOB)
    assert r.returncode == 67, r.stderr


def test_addresses_show_and_sendmail_bv(srv):
    r = subprocess.run([POSTERN, "addresses", "show", "--config", str(srv.config_path),
                        "team@example.test", "BOB+x@example.test"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    assert "team@example.test: delivered (alias)" in r.stdout
    assert "mailbox alice@example.test" in r.stdout and "mailbox bob@example.test" in r.stdout
    assert "info@example.test: alias (" in r.stdout
    assert "plus-tag of bob@example.test" in r.stdout
    r = subprocess.run([POSTERN, "addresses", "show", "--config", str(srv.config_path),
                        "nobody@example.test"], capture_output=True, text=True, timeout=30)
    assert r.returncode == 67 and "550 5.1.1" in r.stdout
    r = sendmail(srv, "-bv", "root")
    assert r.returncode == 0, r.stderr
    assert b"root@example.test: delivered (alias)" in r.stdout
    assert b"mailbox alice@example.test" in r.stdout


def test_aliases_reload_when_the_file_changes(srv):
    path = srv.dir / "aliases"
    tmp = srv.dir / "aliases.new"
    tmp.write_text(ALIASES + "new@example.test: bob@example.test\n")
    os.replace(tmp, path)
    deadline = time.monotonic() + 10 * SLOW
    while True:
        try:
            deliver(srv, ["new@example.test"])
            break
        except smtplib.SMTPRecipientsRefused:
            assert time.monotonic() < deadline, srv.log_tail()
            time.sleep(0.3)
    assert b"to new@example.test" in srv.wait_for_maildir(BOB, 1)[0]
    # A loop is refused whole; the previous aliases stay.
    tmp.write_text(ALIASES + "a@example.test: b@example.test\nb@example.test: a@example.test\n")
    os.replace(tmp, path)
    srv.wait_for_log("keeping the previous aliases")
    deliver(srv, ["new@example.test"])
    srv.wait_for_maildir(BOB, 2)


def check(srv):
    return subprocess.run([POSTERN, "check", "--config", str(srv.config_path)],
                          capture_output=True, text=True, timeout=30)


def test_check_lints(make_server):
    srv = make_server(start=False, local_domains=("example.test",))
    (srv.dir / "aliases").write_text(
        "a@example.test: b@example.test\n"
        "b@example.test: a@example.test\n"
        "x@example.test: ghost@example.test\n"
        "@elsewhere.test: alice@example.test\n")
    secret = srv.dir / "srs.key"
    secret.write_text("a-long-enough-random-test-secret\n")
    os.chmod(secret, 0o644)
    srv.extra_toml = (f'\n[addresses]\naliases_file = "{srv.dir / "aliases"}"\n'
                      f'srs_secret_file = "{secret}"\n')
    srv.write_config()
    r = check(srv)
    assert r.returncode != 0
    out = r.stdout
    assert "aliases:1" in out and "alias loop" in out
    assert "ghost@example.test" in out
    assert "elsewhere.test" in out and "not in local_domains" in out
    assert "readable by other users" in out and "chmod 600" in out
    # The server refuses to start with a loop.
    with pytest.raises(RuntimeError):
        srv.start(timeout=5)
    # A missing secret is an error too.
    secret.unlink()
    (srv.dir / "aliases").write_text("")
    r = check(srv)
    assert r.returncode != 0 and "cannot read the SRS secret file" in r.stdout
