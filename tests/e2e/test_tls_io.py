"""TLS I/O of a session: postern's own TLS socket (src/net/tls_socket.cpp,
OpenSSL on the socket's descriptor) and the connection's watchdog
(src/net/connection.cpp), seen from real clients.

Covers what the other TLS tests do not: timeouts while TLS waits for the
peer (idle after the handshake, and no ClientHello at all), large messages
both ways through TLS records in pieces, the log line for a plaintext client
on a TLS port, and close_notify at QUIT."""

import base64
import hashlib
import os
import smtplib
import socket
import ssl
import time

from dialogue import Dialogue, client_context
from postern_harness import SLOW, relay, submission

ALICE = "alice@example.test"
BOB = "bob@example.test"


def tls_server(make_server, **kw):
    return make_server(listeners=[submission("smtps", "implicit"),
                                  submission("submission", "starttls-required"),
                                  relay("relay", "starttls")], **kw)


def assert_421_after_idle_timeout(d):
    """Waits on an established (TLS) session `d` with idle_timeout 2s: the
    server must send 421 4.4.2, readable, so through the TLS session, and
    close within bounds."""
    started = time.monotonic()
    replies = d.expect_closed(timeout=15 * SLOW)
    waited = time.monotonic() - started
    assert replies and replies[-1].first.startswith("421 4.4.2"), replies
    assert 1.5 <= waited <= 10 * SLOW, f"closed after {waited:.1f}s for idle_timeout 2s"


def test_idle_tls_session_gets_421_inside_tls_then_close(make_server):
    srv = tls_server(make_server, limits={"idle_timeout": "2s"})
    with Dialogue(srv.port("smtps"), implicit_tls=True, context=client_context(srv.cert),
                  timeout=15 * SLOW) as d:
        d.expect("220")
        d.ehlo()
        assert_421_after_idle_timeout(d)


def test_idle_after_starttls_times_out_the_same_way(make_server):
    srv = tls_server(make_server, limits={"idle_timeout": "2s"})
    with Dialogue(srv.port("submission"), context=client_context(srv.cert),
                  timeout=15 * SLOW) as d:
        d.expect("220")
        d.ehlo()
        d.starttls()
        d.ehlo()
        assert_421_after_idle_timeout(d)


def test_client_that_never_sends_a_client_hello_is_dropped(make_server):
    # The handshake is bounded by the idle timeout when that is shorter
    # than the 30 s handshake limit.
    srv = tls_server(make_server, limits={"idle_timeout": "2s"})
    with socket.create_connection(("127.0.0.1", srv.port("smtps")), timeout=15 * SLOW) as s:
        started = time.monotonic()
        assert s.recv(1) == b"", "the server sent something before any ClientHello"
        waited = time.monotonic() - started
    assert 1.5 <= waited <= 10 * SLOW, f"dropped after {waited:.1f}s for idle_timeout 2s"
    srv.wait_for_log("result=failed")


def test_plaintext_on_the_tls_port_is_logged_with_a_hint(make_server):
    srv = tls_server(make_server)
    with socket.create_connection(("127.0.0.1", srv.port("smtps")), timeout=10 * SLOW) as s:
        s.sendall(b"EHLO client.test\r\n")
        # The server gives up on the handshake and closes (with a reset,
        # as our EHLO is still unread in its socket).
        data = b""
        try:
            while chunk := s.recv(4096):
                data += chunk
        except ConnectionResetError:
            pass
        assert b"250" not in data
    srv.wait_for_log("the client spoke plaintext to a TLS port")
    [line] = [x for x in srv.log_text().splitlines() if "spoke plaintext to a TLS port" in x]
    assert "tls session=" in line and "result=failed" in line, line
    assert "wrong version number" in line or "http request" in line or "packet length" in line, \
        line


def random_body(octets):
    """About `octets` of base64 lines of random bytes, so that no
    repetition hides a lost or doubled TLS record."""
    return base64.encodebytes(os.urandom(octets * 3 // 4)).replace(b"\n", b"\r\n")


def test_large_messages_through_tls_arrive_byte_identical(make_server):
    srv = tls_server(make_server)
    bodies = [random_body(n) for n in (100, 70_000, 3_000_000)]
    context = client_context(srv.cert)
    with smtplib.SMTP_SSL("127.0.0.1", srv.port("smtps"), context=context,
                          timeout=60 * SLOW) as client:
        client.login(ALICE, srv.users[ALICE])
        for i, body in enumerate(bodies):
            msg = (f"From: {ALICE}\r\nTo: {BOB}\r\nSubject: big {i}\r\n\r\n").encode() + body
            refused = client.sendmail(ALICE, [BOB], msg)
            assert refused == {}
    delivered = srv.wait_for_maildir(BOB, len(bodies), timeout=60)
    want = sorted(hashlib.sha256(b.replace(b"\r\n", b"\n")).hexdigest() for b in bodies)
    got = sorted(hashlib.sha256(raw.split(b"\n\n", 1)[1]).hexdigest() for raw in delivered)
    assert got == want


def test_quit_over_tls_ends_with_close_notify(make_server):
    srv = tls_server(make_server)
    context = client_context(srv.cert)
    raw = socket.create_connection(("127.0.0.1", srv.port("smtps")), timeout=10 * SLOW)
    with context.wrap_socket(raw, server_hostname="localhost") as s:
        f = s.makefile("rb")
        assert f.readline().startswith(b"220")
        s.sendall(b"QUIT\r\n")
        assert f.readline().startswith(b"221")
        # A clean TLS end: the server's close_notify reads as end of stream,
        # not as an SSLEOFError (a connection cut without it).
        assert s.recv(1) == b""
