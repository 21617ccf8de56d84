"""CHUNKING (RFC 3030): BDAT chunks are taken as counted octets, so the
bytes inside them (dots, lone CRs or LFs, text that looks like commands)
are message content, and the message is delivered intact."""

from dialogue import Dialogue

ALICE = "alice@example.test"


def expect_chunk_ack(d, chunk_size, total):
    """RFC 3030 §4.2 leaves it open whether "<n> octets received" counts the
    chunk or the message so far; either is a correct acknowledgement."""
    reply = d.expect("250 2.0.0")
    n = int(reply.lines[0].split()[1])
    assert reply.lines[0].endswith("octets received") and n in (chunk_size, total), reply
    return reply


def bdat_session(srv):
    d = Dialogue(srv.port("relay_plain"))
    d.expect("220")
    assert "CHUNKING" in d.ehlo().keywords()
    d.cmd("MAIL FROM:<sender@remote.test>", "250")
    d.cmd(f"RCPT TO:<{ALICE}>", "250")
    return d


def test_bdat_chunks_delivered_intact(shared_server):
    before = len(shared_server.maildir_messages(ALICE))
    chunks = [b"Subject: chunked\r\n\r\nfirst line\r\n",
              b".a line starting with a dot\r\nQUIT\r\n.\r\n",
              b"last line\r\n"]
    with bdat_session(shared_server) as d:
        total = 0
        for chunk in chunks[:-1]:
            d.send(f"BDAT {len(chunk)}\r\n".encode() + chunk)
            total += len(chunk)
            expect_chunk_ack(d, len(chunk), total)
        d.send(f"BDAT {len(chunks[-1])} LAST\r\n".encode() + chunks[-1])
        d.expect("250 2.0.0 Ok: queued as")
        d.quit()
    [*_, delivered] = shared_server.wait_for_maildir(ALICE, before + 1)
    body = delivered.split(b"\n\n", 1)[1]
    # No dot-unstuffing in BDAT: the dot line and the lone "." are content.
    assert body == b"first line\n.a line starting with a dot\nQUIT\n.\nlast line\n", body


def test_bdat_pipelined_and_empty_last(shared_server):
    before = len(shared_server.maildir_messages(ALICE))
    part1 = b"Subject: pipelined chunks\r\n\r\n"
    part2 = b"body\r\n"
    with bdat_session(shared_server) as d:
        d.send(f"BDAT {len(part1)}\r\n".encode() + part1 +
               f"BDAT {len(part2)}\r\n".encode() + part2 + b"BDAT 0 LAST\r\n")
        expect_chunk_ack(d, len(part1), len(part1))
        expect_chunk_ack(d, len(part2), len(part1) + len(part2))
        d.expect("250 2.0.0 Ok: queued as")
        d.quit()
    [*_, delivered] = shared_server.wait_for_maildir(ALICE, before + 1)
    assert delivered.endswith(b"\n\nbody\n"), delivered


def test_data_after_bdat_is_bad_sequence(shared_server):
    with bdat_session(shared_server) as d:
        d.send(b"BDAT 5\r\nhello")
        expect_chunk_ack(d, 5, 5)
        d.cmd("DATA", "503 5.5.1")
        d.quit()
