#!/usr/bin/env python3
"""Measures what idle sessions cost a running postern: opens N connections
(optionally completing a TLS handshake on each), waits until every one has
its 220 banner, then reads the server's resident memory (VmRSS) and prints one
JSON line:

  {"sessions": N, "held": H, "errors": E, "rss_before_kib": ..,
   "rss_after_kib": .., "rss_before": .., "rss_after": .., "per_session_bytes": ..}

per_session_bytes = (rss_after - rss_before) / held. Everything is closed
before it exits. Used by bench/run.sh (measurement 6); works on its own too:

  /usr/bin/python3 bench/idle_sessions.py --host 127.0.0.1 --port 2025 \
      --pid $(pgrep -f 'postern serve') --sessions 10000 [--tls] [--hold 5]

The server's limits must allow that many sessions from one address
([limits] max_sessions and max_sessions_per_ip), and this process needs a
file descriptor per session: the soft limit is raised to the hard one.
"""
import argparse
import json
import resource
import selectors
import socket
import ssl
import sys
import time


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for pid {pid}")


def raise_fd_limit(needed):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    if hard < needed + 64:
        sys.exit(f"idle_sessions: need {needed + 64} file descriptors, the hard limit is {hard}")


def open_sessions(host, port, count, use_tls, timeout):
    """Connects `count` sessions one after the other (bounded by `timeout`
    each), then collects their banners with one selector. Returns the open
    sockets that greeted with 220 and the number of failures."""
    context = None
    if use_tls:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False  # the bench certificate is self-signed
        context.verify_mode = ssl.CERT_NONE
    sockets, errors = [], 0
    for _ in range(count):
        try:
            s = socket.create_connection((host, port), timeout=timeout)
            if context is not None:
                s = context.wrap_socket(s, server_hostname=host)  # full handshake
            sockets.append(s)
        except OSError:
            errors += 1
    banners = {s: b"" for s in sockets}
    selector = selectors.DefaultSelector()
    for s in sockets:
        s.setblocking(False)
        selector.register(s, selectors.EVENT_READ)
    deadline = time.monotonic() + timeout + count / 500
    waiting = len(sockets)
    while waiting and time.monotonic() < deadline:
        for key, _ in selector.select(timeout=0.5):
            s = key.fileobj
            try:
                data = s.recv(512)
            except (ssl.SSLWantReadError, BlockingIOError):
                continue
            except OSError:
                data = b""
            banners[s] += data
            if not data or b"\r\n" in banners[s]:
                selector.unregister(s)
                waiting -= 1
    selector.close()
    greeted = [s for s in sockets if banners[s].startswith(b"220")]
    for s in sockets:
        if s not in greeted:
            s.close()
    return greeted, errors + (len(sockets) - len(greeted))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--pid", type=int, required=True, help="the postern serve process")
    ap.add_argument("--sessions", type=int, default=10000)
    ap.add_argument("--tls", action="store_true", help="implicit TLS: handshake on each")
    ap.add_argument("--hold", type=float, default=2.0,
                    help="seconds to wait after the last banner before reading RSS")
    ap.add_argument("--timeout", type=float, default=10.0, help="per connection")
    args = ap.parse_args()

    raise_fd_limit(args.sessions)
    before = rss_kib(args.pid)
    sessions, errors = open_sessions(args.host, args.port, args.sessions, args.tls, args.timeout)
    time.sleep(args.hold)  # let the server settle (buffers released after the greeting)
    after = rss_kib(args.pid)
    held = len(sessions)
    for s in sessions:
        s.close()
    print(json.dumps({
        "sessions": args.sessions, "held": held, "errors": errors,
        "tls": args.tls,
        "rss_before_kib": before, "rss_after_kib": after,
        "rss_before": before, "rss_after": after,
        "per_session_bytes": round((after - before) * 1024 / held) if held else None,
    }))
    return 0 if held == args.sessions else 1


if __name__ == "__main__":
    sys.exit(main())
