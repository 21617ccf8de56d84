"""DKIM helpers for end-to-end tests: keys made by `postern dkim keygen`,
their TXT records served by fake_dns.py, and dkimpy (Debian python3-dkim)
verifying what a receiver got, asking that fake DNS over the wire."""

import re
import subprocess

import dkim
from dnslib import QTYPE, DNSRecord

from postern_harness import POSTERN, SLOW


def keygen(domain, selector, key_path, algorithm="rsa", bits=None):
    """Runs `postern dkim keygen`; returns (stdout, zone line for fake_dns)."""
    args = [POSTERN, "dkim", "keygen", domain, "--selector", selector, "--algorithm", algorithm,
            "--key", str(key_path)]
    if bits:
        args += ["--bits", str(bits)]
    out = subprocess.run(args, capture_output=True, text=True, timeout=60 * SLOW)
    assert out.returncode == 0, out.stderr
    return out.stdout, fake_dns_line(out.stdout)


def fake_dns_line(keygen_output):
    """The zone-file line keygen printed, as a fake_dns.py zone line:
    `NAME. 3600 IN TXT ( "a" "b" )` -> `NAME TXT "a" "b"`."""
    m = re.search(r"^\s*(\S+)\. 3600 IN TXT \( (.*) \)$", keygen_output, re.M)
    assert m, keygen_output
    return f"{m.group(1)} TXT {m.group(2)}"


def txt_lookup(dns_port):
    """A dkimpy dnsfunc asking fake_dns on 127.0.0.1:dns_port (TCP, since an
    RSA record does not fit a plain UDP answer)."""

    def lookup(name, timeout=5):
        if isinstance(name, bytes):
            name = name.decode()
        q = DNSRecord.question(name.rstrip("."), "TXT")
        reply = DNSRecord.parse(q.send("127.0.0.1", dns_port, tcp=True, timeout=timeout))
        for rr in reply.rr:
            if rr.rtype == QTYPE.TXT:
                return b"".join(rr.rdata.data)
        return None

    return lookup


def verify_all(raw, dns_port):
    """Verifies every DKIM-Signature of `raw` (bytes) with dkimpy; returns
    [(selector, algorithm, passed)] top first."""
    results = []
    d = dkim.DKIM(raw)
    count = sum(1 for name, _ in d.headers if name.lower() == b"dkim-signature")
    for i in range(count):
        try:
            ok = d.verify(idx=i, dnsfunc=txt_lookup(dns_port))
        except dkim.DKIMException:
            ok = False
        results.append((d.selector.decode(), d.signature_fields[b"a"].decode(), bool(ok)))
    return results
