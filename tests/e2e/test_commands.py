"""Small commands and pipelining (RFC 5321 §4.1, RFC 2920)."""

from dialogue import Dialogue

ALICE = "alice@example.test"


def relay_session(srv):
    d = Dialogue(srv.port("relay_plain"))
    d.expect("220")
    d.ehlo()
    return d


def test_vrfy_expn_help_noop_rset_unknown(shared_server):
    with relay_session(shared_server) as d:
        d.cmd(f"VRFY {ALICE}", "252 2.5.2")
        d.cmd("VRFY nobody@example.test", "252 2.5.2")  # discloses nothing
        d.cmd("EXPN staff", "502 5.5.1")
        d.cmd("HELP", "214 2.0.0")
        d.cmd("NOOP", "250 2.0.0 Ok")
        d.cmd("RSET", "250 2.0.0 Ok")
        d.cmd("FROB", "500 5.5.1")
        d.cmd("QUIT", "221 2.0.0 Bye")
        assert d.expect_closed() == []


def test_bad_sequence_and_syntax(shared_server):
    with relay_session(shared_server) as d:
        d.cmd(f"RCPT TO:<{ALICE}>", "503 5.5.1")
        d.cmd("DATA", "503 5.5.1")
        d.cmd("MAIL FROM:alice", "501")
        d.cmd("MAIL FROM:<sender@remote.test>", "250")
        d.cmd("MAIL FROM:<sender@remote.test>", "503 5.5.1")
        d.cmd("RCPT TO:<no-closing-bracket@example.test", "501")
        d.quit()


def test_mail_before_ehlo_is_bad_sequence(shared_server):
    with Dialogue(shared_server.port("relay_plain")) as d:
        d.expect("220")
        d.cmd("MAIL FROM:<sender@remote.test>", "503 5.5.1")
        d.quit()


def test_pipelined_transaction_replies_in_order(shared_server):
    before = len(shared_server.maildir_messages(ALICE))
    with relay_session(shared_server) as d:
        d.send("MAIL FROM:<sender@remote.test>\r\n"
               f"RCPT TO:<{ALICE}>\r\n"
               "RCPT TO:<nobody@example.test>\r\n"
               "RCPT TO:<friend@remote.test>\r\n"
               "DATA\r\n")
        d.expect("250 2.1.0")
        d.expect("250 2.1.5")
        d.expect("550 5.1.1")
        d.expect("554 5.7.1")
        d.expect("354")
        d.send("Subject: pipelined\r\n\r\nbody\r\n.\r\nNOOP\r\nRSET\r\nQUIT\r\n")
        d.expect("250 2.0.0 Ok: queued as")
        d.expect("250 2.0.0")
        d.expect("250 2.0.0")
        d.expect("221")
    messages = shared_server.wait_for_maildir(ALICE, before + 1)
    assert b"Subject: pipelined" in messages[-1]


def test_pipelined_data_without_valid_recipient(shared_server):
    with relay_session(shared_server) as d:
        d.send("MAIL FROM:<sender@remote.test>\r\n"
               "RCPT TO:<nobody@example.test>\r\n"
               "DATA\r\n")
        d.expect("250")
        d.expect("550 5.1.1")
        d.expect("5")  # 503 or 554: no valid recipients, and never 354
        d.cmd("NOOP", "250")  # the session did not treat following lines as data
        d.quit()


def test_lowercase_commands(shared_server):
    with Dialogue(shared_server.port("relay_plain")) as d:
        d.expect("220")
        d.cmd("ehlo client.test", "250")
        d.cmd("mail from:<sender@remote.test>", "250")
        d.cmd(f"rcpt to:<{ALICE}>", "250")
        d.cmd("rset", "250")
        d.cmd("quit", "221")
