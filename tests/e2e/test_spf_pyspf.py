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
