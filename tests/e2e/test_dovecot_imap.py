"""Dovecot reads the Maildirs postern writes (SPEC §1.11/§1.12, issue 17).

A real Dovecot 2.3 (tests/tools/dovecot.py) with its own configuration in a
temporary directory, `mail_location = maildir:<postern data_dir>/mail/%d/%n`
and a passwd-file, serves over IMAP what postern delivered; Python's imaplib
fetches every message byte-identical to the file postern wrote.

The Junk folder: nothing in postern files mail into `.Junk/` yet, so the
test moves one message postern delivered into the Maildir++ subfolder
`.Junk/new/` by hand (as a filter would) and reads it from IMAP's "Junk".
"""

import shutil

import pytest

import dovecot
from postern_harness import USERS
from smtp_clients import message, smtp_starttls

pytestmark = pytest.mark.skipif(not dovecot.available(),
                                reason="Dovecot (dovecot-core, dovecot-imapd) is not installed")

ALICE = "alice@example.test"
BOB = "bob@example.test"


def on_the_wire(maildir_file):
    """What IMAP must send for a Maildir file: the Maildir convention is
    LF line endings on disk (postern writes them so), and IMAP sends
    messages with CRLF (RFC 3501 §2.2, §4.3). Nothing else may change."""
    assert b"\r" not in maildir_file
    return maildir_file.replace(b"\n", b"\r\n")


@pytest.fixture
def imap_server(server):
    # Set-up B of docs/dovecot.md: one password for both servers. Dovecot's
    # passwd-file gets bob's argon2id hash from postern's users file.
    hashes = {}
    for line in server.users_file.read_text().splitlines():
        if line.startswith(BOB + ":"):
            hashes[BOB] = "{ARGON2ID}" + line.split(":", 1)[1]
    assert hashes, "bob is not in postern's users file"
    dc = dovecot.Dovecot(mail_root=server.data_dir / "mail", users={BOB: USERS[BOB]},
                         hashes=hashes)
    yield dc
    dc.stop()
    if not dc.keep:
        dc.cleanup()


def test_imap_reads_our_maildir_byte_identical(server, imap_server):
    bodies = [
        "Plain text.\r\n",
        # 8-bit UTF-8, a leading dot that was dot-stuffed on the wire, a
        # line of 900 octets and no trailing empty line issues.
        "Gr\u00fc\u00dfe aus K\u00f6ln.\r\n.leading dot\r\n" + "x" * 900 + "\r\n",
        "This one ends up in Junk.\r\n",
    ]
    with smtp_starttls(server.port("submission")) as c:
        c.login(ALICE, USERS[ALICE])
        for i, body in enumerate(bodies):
            c.sendmail(ALICE, [BOB], message(ALICE, BOB, subject=f"imap {i}", body=body)
                       .encode("utf-8"))
    written = server.wait_for_maildir(BOB, len(bodies))
    assert len(written) == len(bodies)

    # By hand: the last message goes into the Maildir++ folder .Junk.
    maildir = server.maildir(BOB).parent
    junk = maildir / ".Junk"
    for sub in ("cur", "new", "tmp"):
        (junk / sub).mkdir(parents=True, exist_ok=True)
    newest = sorted((maildir / "new").iterdir(), key=lambda p: (p.stat().st_mtime_ns, p.name))[-1]
    assert newest.read_bytes() == written[-1]
    shutil.move(str(newest), str(junk / "new" / newest.name))

    imap_server.own_mail_tree()
    imap_server.start()
    try:
        inbox = imap_server.imap_messages(BOB, "INBOX")
        assert sorted(body for _, body in inbox) == sorted(map(on_the_wire, written[:-1])), \
            imap_server.log_tail()
        for raw in written[:-1]:
            assert b"Received: " in raw  # postern's trace header is part of what Dovecot shows
        client = imap_server.imap(BOB)
        try:
            status, folders = client.list()
            assert status == "OK"
            assert any(b'"Junk"' in f or f.endswith(b" Junk") for f in folders), folders
        finally:
            client.logout()
        junk_messages = imap_server.imap_messages(BOB, "Junk")
        assert [body for _, body in junk_messages] == [on_the_wire(written[-1])]
    except Exception:
        imap_server.keep = True
        print(imap_server.log_tail())
        raise
