"""STARTTLS (RFC 3207 §4.2, SPEC §1.2): bytes pipelined after STARTTLS are
discarded (CVE-2011-0411 class), and the session starts afresh inside TLS."""

import base64

from dialogue import Dialogue
from postern_harness import submission

ALICE = "alice@example.test"


def test_commands_injected_after_starttls_are_not_executed(shared_server):
    with Dialogue(shared_server.port("submission")) as d:
        d.expect("220")
        d.ehlo()
        d.send("STARTTLS\r\nNOOP\r\nMAIL FROM:<alice@example.test>\r\n")
        d.expect("220 2.0.0")
        d.upgrade()
        # A vulnerable server would answer the injected NOOP (and MAIL) now,
        # inside TLS, as if the client had sent them protected.
        d.expect_nothing(wait=1.0)
        ehlo = d.ehlo()
        assert ehlo.has("AUTH"), ehlo
        d.expect_nothing(wait=0.5)
        d.quit()


def test_injection_on_relay_listener(shared_server):
    with Dialogue(shared_server.port("relay")) as d:
        d.expect("220")
        d.ehlo()
        d.send("STARTTLS\r\nRSET\r\n")
        d.expect("220 2.0.0")
        d.upgrade()
        d.expect_nothing(wait=1.0)
        d.ehlo()
        d.cmd("NOOP", "250 2.0.0")
        d.quit()


def test_starttls_resets_transaction(shared_server):
    # Relay: a MAIL before STARTTLS is forgotten; after the upgrade the
    # client must EHLO again before anything else.
    with Dialogue(shared_server.port("relay")) as d:
        d.expect("220")
        d.ehlo()
        d.cmd("MAIL FROM:<sender@remote.test>", "250")
        d.starttls()
        d.cmd(f"RCPT TO:<{ALICE}>", "503 5.5.1")
        d.cmd("MAIL FROM:<sender@remote.test>", "503 5.5.1")
        d.ehlo()
        d.cmd(f"RCPT TO:<{ALICE}>", "503 5.5.1")  # the old MAIL is gone
        d.cmd("MAIL FROM:<sender@remote.test>", "250")
        d.cmd(f"RCPT TO:<{ALICE}>", "250")
        d.quit()


def test_auth_before_starttls_does_not_survive_it(make_server):
    # A submission listener with optional STARTTLS and insecure = true lets
    # a client AUTH in plaintext first; the upgrade must forget that AUTH.
    srv = make_server(listeners=[submission("sub", "starttls", insecure=True)])
    pw = srv.users[ALICE]
    with Dialogue(srv.port("sub")) as d:
        d.expect("220")
        assert d.ehlo().has("AUTH")
        d.cmd("AUTH PLAIN " + base64.b64encode(f"\0{ALICE}\0{pw}".encode()).decode(),
              "235 2.7.0")
        d.starttls()
        d.cmd(f"MAIL FROM:<{ALICE}>", "503 5.5.1")  # no EHLO yet after STARTTLS
        d.ehlo()
        d.cmd(f"MAIL FROM:<{ALICE}>", "530 5.7.0 Authentication required")
        d.quit()


def test_second_starttls_refused(shared_server):
    with Dialogue(shared_server.port("relay")) as d:
        d.expect("220")
        d.ehlo()
        d.starttls()
        d.ehlo()
        d.cmd("STARTTLS", "503 5.5.1")
        d.quit()
