"""Descriptors (issue 17): with a low descriptor limit (`ulimit -n`), postern
caps max_sessions so that the spool, deliveries and control keep theirs;
clients over the cap get 421 at once instead of a full descriptor table
that leaves everyone without a banner; `postern check` says that
max_sessions does not fit; the server keeps delivering meanwhile."""

import re
import socket
import subprocess

from postern_harness import POSTERN, SLOW, relay
from smtp_clients import message, smtp

LIMIT = ["prlimit", "--nofile=256:256", "--"]
BOB = "bob@example.test"


def test_max_sessions_capped_to_the_descriptor_limit(make_server):
    srv = make_server(start=False, listeners=[relay("relay", "none")],
                      limits={"max_sessions": 10000, "max_sessions_per_ip": 10000})
    checked = subprocess.run([*LIMIT, POSTERN, "check", "--config", str(srv.config_path)],
                             capture_output=True, text=True, timeout=60 * SLOW)
    assert "max_sessions = 10000 does not fit the descriptor limit" in checked.stdout, \
        checked.stdout
    assert "LimitNOFILE=" in checked.stdout

    srv.start(prefix=LIMIT)
    srv.wait_for_log("does not fit the descriptor limit")
    # The listeners listen (what start() waits for) just before the start
    # line is written.
    srv.wait_for_log(" start hostname=")
    effective = int(re.search(r"start .* nofile=256/256 max_sessions=(\d+)",
                              srv.log_text()).group(1))
    assert 50 < effective < 256, effective

    port = srv.port("relay")
    held = []
    try:
        for _ in range(effective):
            c = socket.create_connection(("127.0.0.1", port), timeout=10 * SLOW)
            held.append(c)
            assert c.recv(200).startswith(b"220 "), len(held)
        # Over the cap, and well past it: a prompt 421 each, never silence.
        for _ in range(40):
            with socket.create_connection(("127.0.0.1", port), timeout=10 * SLOW) as c:
                assert c.recv(200).startswith(b"421 "), "no 421 over the cap"
        # Deliveries still have their descriptors: a message from one of the
        # held sessions is stored and delivered into its Maildir.
        c = held.pop()
        c.sendall(b"EHLO client.test\r\nMAIL FROM:<someone@elsewhere.test>\r\n"
                  b"RCPT TO:<bob@example.test>\r\nDATA\r\n")
        c.sendall(message("someone@elsewhere.test", BOB).encode() + b"\r\n.\r\nQUIT\r\n")
        reply = b""
        while b"221 " not in reply:
            chunk = c.recv(4096)
            if not chunk:
                break
            reply += chunk
        assert b"250 2.0.0" in reply, reply
        c.close()
        srv.wait_for_maildir(BOB, 1)
        # A session left: a legitimate client gets its banner at once.
        client = smtp(port, timeout=10)
        client.quit()
    finally:
        for c in held:
            c.close()
    assert "Too many open files" not in srv.log_text()
