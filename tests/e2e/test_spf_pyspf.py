"""postern's SPF evaluator against pyspf (Debian python3-spf), the reference
implementation of RFC 7208, on the same zones served by tests/tools/fake_dns.py.

postern evaluates through `postern dns --check --json` (its SPF finding
carries the check_host() result for the server's address); pyspf asks the
same fake DNS through dnspython. Both must give the same result for every
zone: mechanisms, macros, include/redirect, the lookup and void limits,
syntax errors.
"""

import json
import os
import subprocess
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tools"))

import dns.resolver  # noqa: E402
import spf  # noqa: E402

from fake_dns import FakeDns  # noqa: E402
from postern_harness import POSTERN  # noqa: E402

# pyspf 2.0.14 calls dnspython's deprecated query().
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

DOMAIN = "example.test"
HOST = "mail.example.test"
ADDRESS = "93.184.216.34"

# The records every zone has; each case adds the SPF record and what it needs.
BASE = {
    DOMAIN: ["MX 10 " + HOST],
    HOST: "A " + ADDRESS,
}


def includes(n):
    zone = {f"i{i}.o.test": f'TXT "v=spf1 ip4:198.51.100.{i} -all"' for i in range(n)}
    record = "v=spf1 " + " ".join(f"include:i{i}.o.test" for i in range(n))
    return record, zone


CASES = [
    ("ip4 pass", f"v=spf1 ip4:{ADDRESS} -all", {}),
    ("ip4 cidr", "v=spf1 ip4:93.184.0.0/16 -all", {}),
    ("ip4 fail", "v=spf1 ip4:198.51.100.1 -all", {}),
    ("softfail", "v=spf1 ip4:198.51.100.1 ~all", {}),
    ("neutral default", "v=spf1 ip4:198.51.100.1", {}),
    ("a", "v=spf1 a:mail.example.test -all", {}),
    ("a cidr", "v=spf1 a:near.example.test/24 -all", {"near.example.test": "A 93.184.216.1"}),
    ("mx", "v=spf1 mx -all", {}),
    ("include pass", "v=spf1 include:_spf.other.test -all",
     {"_spf.other.test": f'TXT "v=spf1 ip4:{ADDRESS} -all"'}),
    ("include no match", "v=spf1 include:_spf.other.test ~all",
     {"_spf.other.test": 'TXT "v=spf1 ip4:198.51.100.0/24 -all"'}),
    ("include none", "v=spf1 include:nothing.other.test -all", {"nothing.other.test": "A 127.0.0.1"}),
    ("redirect", "v=spf1 redirect=_spf.other.test",
     {"_spf.other.test": 'TXT "v=spf1 ip4:198.51.100.0/24 ?all"'}),
    ("exists macro", "v=spf1 exists:%{i}._ip.%{d} -all", {f"{ADDRESS}._ip.{DOMAIN}": "A 127.0.0.2"}),
    ("exists local-part", "v=spf1 exists:%{l}.%{o}._u.other.test -all",
     {f"postmaster.{DOMAIN}._u.other.test": "A 127.0.0.2"}),
    ("ptr", "v=spf1 ptr -all", {"34.216.184.93.in-addr.arpa": "PTR " + HOST}),
    ("syntax error", "v=spf1 ip4:93.184.216 -all", {}),
    ("unknown mechanism", "v=spf1 foo:bar -all", {}),
    ("ten lookups", includes(10)[0] + f" ip4:{ADDRESS} -all", includes(10)[1]),
    ("eleven lookups", includes(11)[0] + f" ip4:{ADDRESS} -all", includes(11)[1]),
    ("void lookups", f"v=spf1 a:n1.other.test a:n2.other.test a:n3.other.test ip4:{ADDRESS} -all",
     {}),
    ("two records", None, {DOMAIN: ["MX 10 " + HOST, 'TXT "v=spf1 mx -all"', 'TXT "v=spf1 -all"']}),
    ("no record", None, {}),
    # Added with the inbound checks (issue 14): at least 30 in all.
    ("temperror", "v=spf1 include:broken.other.test -all", {"broken.other.test": "SERVFAIL"}),
    ("include chain", "v=spf1 include:a.other.test -all",
     {"a.other.test": 'TXT "v=spf1 include:b.other.test -all"',
      "b.other.test": f'TXT "v=spf1 ip4:{ADDRESS} -all"'}),
    ("redirect fail", "v=spf1 redirect=_spf.other.test", {"_spf.other.test": 'TXT "v=spf1 -all"'}),
    ("redirect to nothing", "v=spf1 redirect=nothing.other.test", {}),
    ("include loop", f"v=spf1 include:{DOMAIN} -all", {}),
    ("macro ir v", "v=spf1 exists:%{ir}.%{v}._spf.%{d} -all",
     {f"34.216.184.93.in-addr._spf.{DOMAIN}": "A 127.0.0.2"}),
    ("macro h", "v=spf1 exists:%{h}._h.other.test -all", {f"{HOST}._h.other.test": "A 127.0.0.2"}),
    ("macro transformers", "v=spf1 exists:%{d2r}.%{l1r-}._t.other.test -all",
     {"test.example.postmaster._t.other.test": "A 127.0.0.2"}),
    ("exp", "v=spf1 -all exp=explain.other.test",
     {"explain.other.test": 'TXT "%{i} is not one of %{d}\'s servers"'}),
    ("ptr other domain", "v=spf1 ptr:other.test -all",
     {"34.216.184.93.in-addr.arpa": "PTR " + HOST}),
    ("mx cidr", "v=spf1 mx/24 -all", {HOST: "A 93.184.216.200"}),
    ("two voids allowed", f"v=spf1 a:n1.other.test a:n2.other.test ip4:{ADDRESS} -all", {}),
    ("neutral qualifier", f"v=spf1 ?ip4:{ADDRESS} -all", {}),
    ("plus all", "v=spf1 +all", {}),
    ("exists void softfail", "v=spf1 exists:nothing.other.test ~all", {}),
    ("ip6 only, v4 client", "v=spf1 ip6:2001:db8::/32 -all", {}),
    ("a with AAAA only", "v=spf1 a:v6.other.test -all", {"v6.other.test": "AAAA 2001:db8::25"}),
    ("include temperror after match", f"v=spf1 ip4:{ADDRESS} include:broken.other.test -all",
     {"broken.other.test": "SERVFAIL"}),
]


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    d = tmp_path_factory.mktemp("spf")
    config = d / "postern.toml"
    config.write_text(f'''hostname = "{HOST}"
data_dir = "{d / 'data'}"
local_domains = ["{DOMAIN}"]

[[listener]]
address = "127.0.0.1:2525"
role = "relay"
tls = "none"
''')
    fake = FakeDns()
    port = fake.start()
    resolver = dns.resolver.Resolver(configure=False)
    resolver.nameservers = ["127.0.0.1"]
    resolver.port = port
    saved = dns.resolver.default_resolver
    dns.resolver.default_resolver = resolver
    yield {"config": config, "dns": fake, "port": port}
    dns.resolver.default_resolver = saved
    fake.stop()


@pytest.mark.parametrize("name,record,extra", CASES, ids=[c[0] for c in CASES])
def test_same_result_as_pyspf(setup, name, record, extra):
    zone = {k: list(v) if isinstance(v, list) else v for k, v in BASE.items()}
    if record is not None:
        zone[DOMAIN] = zone[DOMAIN] + [f'TXT "{record}"']
    zone.update(extra)
    setup["dns"].set_zone(zone)

    expected, _ = spf.check2(i=ADDRESS, s=f"postmaster@{DOMAIN}", h=HOST, querytime=5)

    r = subprocess.run([POSTERN, "dns", DOMAIN, "--config", str(setup["config"]), "--check",
                        "--json", "--no-egress", "--resolver", f"127.0.0.1:{setup['port']}",
                        "--address", ADDRESS, "--timeout", "3s"],
                       capture_output=True, text=True, timeout=30)
    out = json.loads(r.stdout)
    spf_findings = [f for f in out["domains"][0]["findings"] if f["kind"] == "SPF"]
    assert len(spf_findings) == 1, spf_findings
    assert spf_findings[0]["spf_result"] == expected, (record, spf_findings[0])


# ---- the same zones through the server ------------------------------------------------
# A message arrives on a relay listener from 127.0.0.1 (or ::1), postern
# checks SPF on its own (asynchronous lookups on libunbound, the
# inbound checks of SPEC §1.8), and the spf= of the Authentication-Results
# field in the delivered message must equal pyspf's verdict for the same
# client address on the same zone. The zones are the ones above with the
# client's address in place of ADDRESS.

SERVER_IP = "127.0.0.1"
SUBSTITUTE = {
    ADDRESS: SERVER_IP,
    "93.184.0.0/16": "127.0.0.0/16",
    "93.184.216.1": "127.0.0.2",
    "93.184.216.200": "127.0.0.200",
    "34.216.184.93.in-addr": "1.0.0.127.in-addr",
}

CASES6 = [
    ("ip6 pass", "v=spf1 ip6:::1 -all", {}),
    ("ip6 cidr fail", "v=spf1 ip6:2001:db8::/32 -all", {}),
    ("aaaa pass", "v=spf1 a:v6.other.test/128 -all", {"v6.other.test": "AAAA ::1"}),
    ("ip4 only, v6 client", f"v=spf1 ip4:{ADDRESS} ~all", {}),
]


def substituted(value):
    if isinstance(value, list):
        return [substituted(v) for v in value]
    if value is None:
        return None
    for old, new in SUBSTITUTE.items():
        value = value.replace(old, new)
    return value


@pytest.fixture(scope="module")
def relay_server(setup, make_module_server):
    from postern_harness import Listener, free_port, relay
    srv = make_module_server(
        listeners=[relay("mx", "none"),
                   Listener("mx6", "relay", "none", host="::1", port=free_port())],
        delivery={"resolver": f"127.0.0.1:{setup['port']}"},
        inbound={"dkim": False, "dmarc": False})
    return srv


def server_verdict(setup, srv, client_ip, listener, record, extra):
    import email
    import smtplib
    import time
    import uuid

    import authres

    zone = {k: substituted(list(v) if isinstance(v, list) else v) for k, v in BASE.items()}
    if record is not None:
        zone[DOMAIN] = zone[DOMAIN] + [f'TXT "{substituted(record)}"']
    zone.update({substituted(k): substituted(v) for k, v in extra.items()})
    setup["dns"].set_zone(zone)
    expected, _ = spf.check2(i=client_ip, s=f"postmaster@{DOMAIN}", h=HOST, querytime=5)

    subject = uuid.uuid4().hex
    raw = (f"From: <postmaster@{DOMAIN}>\r\nTo: <bob@{DOMAIN}>\r\nSubject: {subject}\r\n\r\n"
           "spf\r\n").encode()
    with smtplib.SMTP(client_ip, srv.port(listener), local_hostname=HOST, timeout=30) as c:
        c.sendmail(f"postmaster@{DOMAIN}", [f"bob@{DOMAIN}"], raw)
    folder = srv.data_dir / "mail" / DOMAIN / "bob" / "new"
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        for p in folder.iterdir() if folder.is_dir() else []:
            data = p.read_bytes()
            if subject.encode() in data:
                field = email.message_from_bytes(data)["Authentication-Results"]
                parsed = authres.parse("Authentication-Results: " + " ".join(field.split()))
                got = [r.result for r in parsed.results if r.method == "spf"]
                return expected, got, field
        time.sleep(0.05)
    raise AssertionError(f"message {subject} not delivered\n{srv.log_tail()}")


# The reverse names of 127.0.0.1 and ::1 are answered by libunbound itself
# (RFC 6761 §6.3 localhost zones): the ptr cases only run through the CLI.
SERVER_CASES = [c for c in CASES if not c[0].startswith("ptr")]


@pytest.mark.parametrize("name,record,extra", SERVER_CASES, ids=[c[0] for c in SERVER_CASES])
def test_server_verdict_same_as_pyspf(setup, relay_server, name, record, extra):
    expected, got, field = server_verdict(setup, relay_server, SERVER_IP, "mx", record, extra)
    assert got == [expected], (record, field)


@pytest.mark.parametrize("name,record,extra", CASES6, ids=[c[0] for c in CASES6])
def test_server_verdict_same_as_pyspf_ipv6(setup, relay_server, name, record, extra):
    expected, got, field = server_verdict(setup, relay_server, "::1", "mx6", record, extra)
    assert got == [expected], (record, field)
