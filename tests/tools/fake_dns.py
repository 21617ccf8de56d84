#!/usr/bin/python3
"""A tiny authoritative DNS server for tests (like chasquid's), on loopback.

Zone lines, one record each (names case-insensitive, '#' comments):

    example.test  MX 10 mx1.example.test
    mx1.example.test A 127.0.0.2
    v6.test       AAAA ::1
    nullmx.test   MX 0 .
    broken.test   SERVFAIL
    slow.test     TIMEOUT          (never answered)

Unknown names answer NXDOMAIN; a known name without a record of the asked
type answers NOERROR with no data. The zone file is re-read when it changes.

    fake_dns.py --zone FILE [--port 0] [--address 127.0.0.1]

prints the port it listens on (UDP and TCP) and serves until killed. It can
also be used in-process: `FakeDns(zone_text).start()` returns the port.
"""

import argparse
import os
import socket
import socketserver
import struct
import sys
import threading

from dnslib import AAAA, MX, QTYPE, RCODE, RR, A, DNSRecord, DNSLabel


def parse_zone(text):
    records = {}
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        parts = line.split()
        name = parts[0].lower().rstrip(".")
        records.setdefault(name, []).append((parts[1].upper(), parts[2:]))
    return records


class FakeDns:
    def __init__(self, zone_text="", zone_file=None, address="127.0.0.1", port=0):
        self.zone_file = zone_file
        self._mtime = None
        self.records = parse_zone(zone_text)
        self.address = address
        self.port = port
        self.queries = []
        self._lock = threading.Lock()
        self._servers = []

    def _reload(self):
        if not self.zone_file:
            return
        try:
            mtime = os.stat(self.zone_file).st_mtime_ns
        except OSError:
            return
        if mtime != self._mtime:
            with open(self.zone_file) as f:
                self.records = parse_zone(f.read())
            self._mtime = mtime

    def set_zone(self, zone_text):
        with self._lock:
            self.records = parse_zone(zone_text)

    def answer(self, data):
        """Returns the reply bytes for a query, or None to stay silent."""
        with self._lock:
            self._reload()
            request = DNSRecord.parse(data)
            qname = str(request.q.qname).lower().rstrip(".")
            qtype = QTYPE[request.q.qtype]
            self.queries.append((qname, qtype))
            if os.environ.get("FAKE_DNS_DEBUG"):
                print("query", qname, qtype, file=sys.stderr, flush=True)
            reply = request.reply()
            entries = self.records.get(qname)
            if entries is None and any(n.endswith("." + qname) for n in self.records):
                entries = []  # an empty non-terminal exists: NOERROR, no data
            if entries is None:
                reply.header.rcode = RCODE.NXDOMAIN
                return reply.pack()
            for kind, args in entries:
                if kind == "TIMEOUT":
                    return None
                if kind == "SERVFAIL":
                    reply.header.rcode = RCODE.SERVFAIL
                    return reply.pack()
            for kind, args in entries:
                if kind != qtype:
                    continue
                if kind == "A":
                    rdata = A(args[0])
                elif kind == "AAAA":
                    rdata = AAAA(args[0])
                elif kind == "MX":
                    target = args[1].rstrip(".")
                    rdata = MX(DNSLabel(target if target else "."), int(args[0]))
                else:
                    continue
                reply.add_answer(RR(request.q.qname, QTYPE.reverse[kind], rdata=rdata, ttl=1))
            return reply.pack()

    def start(self):
        fake = self

        class Udp(socketserver.BaseRequestHandler):
            def handle(self):
                data, sock = self.request
                out = fake.answer(data)
                if out is not None:
                    sock.sendto(out, self.client_address)

        class Tcp(socketserver.BaseRequestHandler):
            def handle(self):
                self.request.settimeout(5)
                head = self.request.recv(2)
                if len(head) < 2:
                    return
                (size,) = struct.unpack("!H", head)
                data = b""
                while len(data) < size:
                    chunk = self.request.recv(size - len(data))
                    if not chunk:
                        return
                    data += chunk
                out = fake.answer(data)
                if out is not None:
                    self.request.sendall(struct.pack("!H", len(out)) + out)

        udp = socketserver.ThreadingUDPServer((self.address, self.port), Udp)
        self.port = udp.server_address[1]
        tcp = socketserver.ThreadingTCPServer((self.address, self.port), Tcp,
                                              bind_and_activate=False)
        tcp.allow_reuse_address = True
        tcp.server_bind()
        tcp.server_activate()
        for server in (udp, tcp):
            server.daemon_threads = True
            threading.Thread(target=server.serve_forever, daemon=True).start()
            self._servers.append(server)
        return self.port

    def stop(self):
        for server in self._servers:
            server.shutdown()
            server.server_close()
        self._servers = []


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--zone", required=True)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--address", default="127.0.0.1")
    args = parser.parse_args()
    if not (args.address.startswith("127.") or args.address == "::1"):
        sys.exit("fake_dns.py serves on loopback only")
    fake = FakeDns(zone_file=args.zone, address=args.address, port=args.port)
    fake._reload()
    port = fake.start()
    print(port, flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main()
