#!/usr/bin/python3
"""A tiny authoritative DNS server for tests (like chasquid's), on loopback.

Zone lines, one record each (names case-insensitive, '#' comments):

    example.test  MX 10 mx1.example.test
    mx1.example.test A 127.0.0.2
    v6.test       AAAA ::1
    nullmx.test   MX 0 .
    broken.test   SERVFAIL         (every question about the name)
    slow.test     TIMEOUT          (never answered)
    sel._domainkey.example.test TXT "v=DKIM1; k=rsa; " "p=MIIB..."
                                   (one TXT record; each quoted string is one
                                   character-string of at most 255 octets, so
                                   a test can serve a record split well or
                                   badly; an unquoted word is one string)
    10.2.0.192.in-addr.arpa PTR mail.example.test   (reverse DNS)

Unknown names answer NXDOMAIN; a known name without a record of the asked
type answers NOERROR with no data (as does a name that only has names below
it). Answers carry TTL 0, so a resolver does not keep them: a test that edits
the zone sees the change on the next lookup. Negative answers carry an SOA
with TTL and MINIMUM 0 in the authority section (RFC 2308 §5), for the same
reason: without one, a resolver such as unbound keeps them for a few
seconds. The zone file is re-read when
its modification time or size changes (write a new file and rename it over
the old one, so no half-written zone is ever read). No recursion, ever: names
outside the zone are NXDOMAIN.

    fake_dns.py --zone FILE [--port 0] [--address 127.0.0.1] [--query-log FILE]

prints the port it listens on (UDP and TCP, the same number) and serves until
killed. --query-log appends one line "name TYPE" per question received, so a
test in another language can count the lookups.

In-process use:

    dns = FakeDns("example.test MX 10 mx.example.test\\n...")   # or a dict:
    dns = FakeDns({"example.test": ["MX 10 mx.example.test"],
                   "mx.example.test": "A 127.0.0.2"})
    port = dns.start()
    dns.set_zone(...)                  # replace the records
    dns.query_count("example.test", "MX")
    dns.stop()
"""

import argparse
import ipaddress
import os
import shlex
import socket
import socketserver
import struct
import sys
import threading

from dnslib import AAAA, MX, PTR, QTYPE, RCODE, RR, SOA, TXT, A, DNSLabel, DNSRecord

# Kinds a zone line may have. A, AAAA, MX, PTR and TXT are served; SERVFAIL and
# TIMEOUT make every question about the name fail.
KINDS = {"A": 1, "AAAA": 1, "MX": 2, "PTR": 1, "TXT": None, "SERVFAIL": 0, "TIMEOUT": 0}

# Largest UDP reply without EDNS (RFC 1035 §4.2.1); a longer answer is sent
# with TC set and nothing else, and the client asks again over TCP.
UDP_LIMIT = 512


def _check_value(kind, args, where):
    if kind == "A":
        ipaddress.IPv4Address(args[0])
    elif kind == "AAAA":
        ipaddress.IPv6Address(args[0])
    elif kind == "MX":
        pref = int(args[0])
        if not 0 <= pref <= 65535:
            raise ValueError(f"{where}: MX preference {pref} out of range")


def parse_zone(zone):
    """Returns {name: [(KIND, [args...]), ...]} from zone text or a dict."""
    if isinstance(zone, dict):
        lines = []
        for name, values in zone.items():
            for value in [values] if isinstance(values, str) else values:
                lines.append(f"{name} {value}")
        zone = "\n".join(lines)
    records = {}
    for number, raw in enumerate(zone.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        parts = line.split()
        where = f"zone line {number} ({line!r})"
        if len(parts) < 2 or parts[1].upper() not in KINDS:
            raise ValueError(f"{where}: expected 'name TYPE value' with TYPE in {sorted(KINDS)}")
        kind = parts[1].upper()
        args = parts[2:]
        if kind == "TXT":
            # Quoted strings keep their spaces and semicolons.
            rest = raw.split("#", 1)[0].strip().split(None, 2)
            args = shlex.split(rest[2]) if len(rest) > 2 else []
            if any(len(a.encode()) > 255 for a in args):
                raise ValueError(f"{where}: a TXT string is longer than 255 octets; "
                                 "split it into several quoted strings")
        wanted = KINDS[kind]
        if wanted is not None and len(args) != wanted:
            raise ValueError(f"{where}: {kind} takes {wanted} value(s)")
        try:
            _check_value(kind, args, where)
        except ValueError as e:
            raise ValueError(f"{where}: {e}") from None
        name = parts[0].lower().rstrip(".")
        records.setdefault(name, []).append((kind, args))
    return records


def _is_loopback(address):
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


class FakeDns:
    def __init__(self, zone="", zone_file=None, address="127.0.0.1", port=0,
                 query_log=None):
        if not _is_loopback(address):
            raise ValueError("fake_dns serves on loopback only")
        self.zone_file = zone_file
        self.query_log = query_log
        self._stamp = None
        self.records = parse_zone(zone)
        self.address = address
        self.port = port
        self.queries = []  # (name, TYPE) per question, in arrival order
        self._lock = threading.Lock()
        self._servers = []
        self._reload()

    def _reload(self):
        if not self.zone_file:
            return
        try:
            st = os.stat(self.zone_file)
        except OSError:
            return
        stamp = (st.st_mtime_ns, st.st_size, st.st_ino)
        if stamp == self._stamp:
            return
        with open(self.zone_file) as f:
            text = f.read()
        try:
            self.records = parse_zone(text)
        except ValueError as e:
            if self._stamp is None:
                raise  # a bad zone at start-up is the test's bug: fail loudly
            # Mid-test, keep serving the last good zone and say why.
            print(f"fake_dns: {self.zone_file}: {e}", file=sys.stderr, flush=True)
        self._stamp = stamp

    def set_zone(self, zone):
        records = parse_zone(zone)
        with self._lock:
            self.records = records

    def query_count(self, name=None, qtype=None):
        """Questions received, optionally only those for a name and/or type."""
        with self._lock:
            return sum(1 for n, t in self.queries
                       if (name is None or n == name.lower().rstrip("."))
                       and (qtype is None or t == qtype.upper()))

    def reset_queries(self):
        with self._lock:
            self.queries.clear()

    def answer(self, data):
        """Returns the reply bytes for a query, or None to stay silent."""
        try:
            request = DNSRecord.parse(data)
        except Exception:  # not DNS: ignore, as a real server would
            return None
        with self._lock:
            self._reload()
            qname = str(request.q.qname).lower().rstrip(".")
            qtype = QTYPE.get(request.q.qtype, str(request.q.qtype))
            self.queries.append((qname, qtype))
            if self.query_log:
                with open(self.query_log, "a") as log:
                    log.write(f"{qname} {qtype}\n")
            reply = request.reply()  # authoritative answer, RD copied, RA set
            entries = self.records.get(qname)
            if entries is None and any(n.endswith("." + qname) for n in self.records):
                entries = []  # an empty non-terminal exists: NOERROR, no data
            if entries is None:
                reply.header.rcode = RCODE.NXDOMAIN
                self._add_soa(reply, qname)
                return reply.pack()
            kinds = {kind for kind, _ in entries}
            if "TIMEOUT" in kinds:
                return None
            if "SERVFAIL" in kinds:
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
                elif kind == "TXT":
                    rdata = TXT([a.encode() for a in args])
                elif kind == "PTR":
                    rdata = PTR(DNSLabel(args[0].rstrip(".")))
                else:
                    continue
                reply.add_answer(RR(request.q.qname, QTYPE.reverse[kind], rdata=rdata, ttl=0))
            if not reply.rr:
                self._add_soa(reply, qname)
            return reply.pack()

    @staticmethod
    def _add_soa(reply, qname):
        """An SOA for a negative answer, so that resolvers do not cache it."""
        apex = qname.rsplit(".", 1)[-1] or "."
        reply.add_auth(RR(apex, QTYPE.SOA, ttl=0,
                          rdata=SOA("ns.fake-dns.invalid", "hostmaster.fake-dns.invalid",
                                    (1, 3600, 600, 86400, 0))))

    @staticmethod
    def fit_udp(query, out):
        """The reply, or a truncated one (TC, no records) when it is too long."""
        limit = UDP_LIMIT
        try:
            for rr in DNSRecord.parse(query).ar:
                if rr.rtype == QTYPE.OPT:
                    limit = max(UDP_LIMIT, rr.rclass)  # EDNS payload size
        except Exception:
            pass
        if len(out) <= limit:
            return out
        reply = DNSRecord.parse(out)
        reply.rr, reply.auth, reply.ar = [], [], []
        reply.header.tc = 1
        return reply.pack()

    def start(self):
        fake = self

        class Udp(socketserver.BaseRequestHandler):
            def handle(self):
                data, sock = self.request
                out = fake.answer(data)
                if out is not None:
                    sock.sendto(fake.fit_udp(data, out), self.client_address)

        class Tcp(socketserver.BaseRequestHandler):
            def handle(self):
                self.request.settimeout(5)
                try:
                    while True:  # RFC 7766: several queries per connection
                        head = self._read(2)
                        if head is None:
                            return
                        (size,) = struct.unpack("!H", head)
                        data = self._read(size)
                        if data is None:
                            return
                        out = fake.answer(data)
                        if out is None:
                            return  # TIMEOUT: say nothing
                        self.request.sendall(struct.pack("!H", len(out)) + out)
                except OSError:
                    return

            def _read(self, size):
                data = b""
                while len(data) < size:
                    chunk = self.request.recv(size - len(data))
                    if not chunk:
                        return None
                    data += chunk
                return data

        family = socket.AF_INET6 if ":" in self.address else socket.AF_INET

        class UdpServer(socketserver.ThreadingUDPServer):
            address_family = family

        class TcpServer(socketserver.ThreadingTCPServer):
            address_family = family
            allow_reuse_address = True

        # UDP and TCP share one number. With port 0 the kernel picks a free
        # UDP port whose TCP twin a client connection may hold right now:
        # pick again (bounded) rather than fail the test.
        for attempt in range(20):
            udp = UdpServer((self.address, self.port), Udp)
            try:
                tcp = TcpServer((self.address, udp.server_address[1]), Tcp)
                break
            except OSError:
                udp.server_close()
                if self.port != 0 or attempt == 19:
                    raise
        self.port = udp.server_address[1]
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
    parser.add_argument("--zone", required=True, help="zone file, re-read when it changes")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port (printed)")
    parser.add_argument("--address", default="127.0.0.1", help="a loopback address")
    parser.add_argument("--query-log", help="append 'name TYPE' per question to this file")
    args = parser.parse_args()
    if not _is_loopback(args.address):
        sys.exit("fake_dns.py serves on loopback only")
    try:
        fake = FakeDns(zone_file=args.zone, address=args.address, port=args.port,
                       query_log=args.query_log)
    except ValueError as e:
        sys.exit(f"fake_dns.py: {args.zone}: {e}")
    port = fake.start()
    print(port, flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main()
