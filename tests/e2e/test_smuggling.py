"""SMTP smuggling (SPEC §1.2): only <CR><LF>.<CR><LF> ends DATA. A bare LF
or bare CR around a dot never ends a message, so a smuggled second
transaction stays inside the first message's body, and no bare CR reaches
the Maildir (which holds LF line endings only)."""

import pytest

from dialogue import Dialogue

ALICE = "alice@example.test"
BOB = "bob@example.test"

VARIANTS = {
    "lf-dot-lf": b"\n.\n",
    "lf-dot-crlf": b"\n.\r\n",
    "crlf-dot-lf": b"\r\n.\n",
    "cr-dot-crlf": b"\r.\r\n",
    "crlf-dot-cr": b"\r\n.\r",
}

SMUGGLED = (b"MAIL FROM:<evil@remote.test>\r\n"
            b"RCPT TO:<" + BOB.encode() + b">\r\n"
            b"DATA\r\n"
            b"From: <ceo@example.test>\r\n"
            b"Subject: smuggled\r\n"
            b"\r\n"
            b"smuggled body\r\n")


@pytest.mark.parametrize("name", list(VARIANTS))
@pytest.mark.parametrize("split", [False, True], ids=["one-write", "split-write"])
def test_smuggled_transaction_stays_in_body(shared_server, name, split):
    before = len(shared_server.maildir_messages(ALICE))
    marker = f"carrier {name} {split}"
    with Dialogue(shared_server.port("relay_plain")) as d:
        d.expect("220")
        d.ehlo()
        d.cmd("MAIL FROM:<sender@remote.test>", "250")
        d.cmd(f"RCPT TO:<{ALICE}>", "250")
        d.cmd("DATA", "354")
        head = f"Subject: {marker}\r\n\r\nhello".encode() + VARIANTS[name]
        if split:
            d.send(head)
            d.expect_nothing(wait=0.3)
            d.send(SMUGGLED + b"\r\n.\r\n")
        else:
            d.send(head + SMUGGLED + b"\r\n.\r\n")
        d.expect("250 2.0.0 Ok: queued as")
        # Nothing else was executed: no replies to smuggled commands follow.
        d.expect_nothing(wait=0.5)
        d.cmd("NOOP", "250 2.0.0")
        d.quit()
    messages = shared_server.wait_for_maildir(ALICE, before + 1)
    shared_server.assert_maildir_stays(ALICE, before + 1, wait=0.5)
    delivered = messages[-1]
    assert marker.encode() in delivered, delivered
    assert b"MAIL FROM:<evil@remote.test>" in delivered, delivered
    assert b"smuggled body" in delivered, delivered
    assert b"\r" not in delivered, delivered
    assert shared_server.maildir_messages(BOB) == []
