"""`postern dns --check` against fake DNS zones (SPEC §1.7, docs/dns.md).

Each zone has exactly one seeded mistake and the check must name it (by its
JSON code and in the text); the correct zone exits 0. The port-25 egress test
runs against a loopback port that accepts the connection and never says a
word, as a provider's interception filter does, and must report the block
and print the smarthost set-up; a port that greets with 220 is "open".
"""

import base64
import json
import os
import subprocess
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tools"))

from bad_peers import BadPeer  # noqa: E402
from fake_dns import FakeDns  # noqa: E402
from postern_harness import POSTERN  # noqa: E402

DOMAIN = "example.test"
HOST = "mail.example.test"
# A public address: unbound answers the reverse zones of private and
# documentation ranges (RFC 6761 §6.1, RFC 5737) itself, never asking the
# fake DNS.
ADDRESS = "93.184.216.34"
REVERSE = "34.216.184.93.in-addr.arpa"


def dkim_value(key_file):
    """The TXT value for a key, computed with openssl, not with postern:
    RSA publishes the SubjectPublicKeyInfo (RFC 6376 §3.6.1), Ed25519 the
    raw 32-octet key (RFC 8463 §4)."""
    der = subprocess.run(["openssl", "pkey", "-in", str(key_file), "-pubout", "-outform", "DER"],
                         check=True, capture_output=True).stdout
    text = subprocess.run(["openssl", "pkey", "-in", str(key_file), "-noout", "-text"],
                          check=True, capture_output=True, text=True).stdout
    if "ED25519" in text.upper():
        return "v=DKIM1; k=ed25519; p=" + base64.b64encode(der[-32:]).decode()
    return "v=DKIM1; k=rsa; p=" + base64.b64encode(der).decode()


def txt(value):
    """A zone TXT line, split in 255-octet strings as a zone file would be."""
    parts = [value[i:i + 255] for i in range(0, len(value), 255)] or [""]
    return "TXT " + " ".join('"' + p.replace("\\", "\\\\").replace('"', '\\"') + '"'
                             for p in parts)


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    d = tmp_path_factory.mktemp("dns")
    keys = {}
    for selector, algorithm in (("rsa1", ["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"]),
                                ("ed1", ["-algorithm", "ED25519"])):
        path = d / f"{selector}.pem"
        subprocess.run(["openssl", "genpkey", *algorithm, "-out", str(path)], check=True,
                       capture_output=True)
        os.chmod(path, 0o600)
        keys[selector] = (path, dkim_value(path))
    config = d / "postern.toml"
    dkim_tables = "".join(
        f'\n[[dkim]]\ndomain = "{DOMAIN}"\nselector = "{s}"\nkey = "{p}"\n'
        for s, (p, _) in keys.items())
    config.write_text(f'''hostname = "{HOST}"
data_dir = "{d / 'data'}"
local_domains = ["{DOMAIN}"]

[[listener]]
address = "127.0.0.1:2525"
role = "relay"
tls = "none"
{dkim_tables}''')
    dns = FakeDns()
    port = dns.start()
    yield {"config": config, "dns": dns, "port": port, "keys": keys, "dir": d}
    dns.stop()


def good_zone(setup):
    zone = {
        DOMAIN: ["MX 10 " + HOST, txt("v=spf1 mx -all")],
        HOST: "A " + ADDRESS,
        "_dmarc." + DOMAIN: txt(f"v=DMARC1; p=quarantine; rua=mailto:postmaster@{DOMAIN}"),
        REVERSE: "PTR " + HOST,
    }
    for selector, (_, value) in setup["keys"].items():
        zone[f"{selector}._domainkey.{DOMAIN}"] = txt(value)
    return zone


def run_dns(setup, *extra, check_timeout="3s", timeout=30):
    cmd = [POSTERN, "dns", DOMAIN, "--config", str(setup["config"]), "--check",
           "--resolver", f"127.0.0.1:{setup['port']}", "--address", ADDRESS,
           "--timeout", check_timeout, *extra]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)


def findings(result):
    out = json.loads(result.stdout)
    return out, [f for d in out["domains"] for f in d["findings"]]


def test_correct_zone_exits_0(setup):
    setup["dns"].set_zone(good_zone(setup))
    r = run_dns(setup, "--no-egress")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "everything matches" in r.stdout
    for kind in ("MX", "A", "SPF", "DKIM", "DMARC", "PTR"):
        assert f"ok    {kind}:" in r.stdout, r.stdout
    j = run_dns(setup, "--no-egress", "--json")
    out, found = findings(j)
    assert j.returncode == 0 and out["exit_status"] == 0
    assert sorted(f["code"] for f in found) == sorted(
        ["mx_ok", "address_ok", "spf_ok", "dkim_ok", "dkim_ok", "dmarc_ok", "ptr_ok"])
    # The records printed are the ones the correct zone holds.
    records = {(r["name"], r["type"]): r["value"] for r in out["domains"][0]["records"]}
    for selector, (_, value) in setup["keys"].items():
        assert records[(f"{selector}._domainkey.{DOMAIN}", "TXT")] == value
    assert records[(REVERSE, "PTR")] == HOST


def _key(setup, selector):
    return setup["keys"][selector][1]


def _p(value):
    return value.split("p=", 1)[1]


# (code, words in the text output, how the zone is broken)
MISTAKES = [
    ("spf_missing", "has no SPF record",
     lambda z, s: z.update({DOMAIN: ["MX 10 " + HOST, txt("google-site-verification=abc")]})),
    ("spf_multiple", "2 SPF records",
     lambda z, s: z[DOMAIN].append(txt("v=spf1 a -all"))),
    ("spf_too_many_lookups", "more than 10 DNS lookups",
     lambda z, s: (z.update({DOMAIN: ["MX 10 " + HOST, txt(
         "v=spf1 mx " + " ".join(f"include:i{i}.example.net" for i in range(10)) + " -all")]}),
         z.update({f"i{i}.example.net": txt(f"v=spf1 ip4:198.51.100.{i} -all")
                   for i in range(10)}))),
    ("spf_allows_everyone", "lets any address send",
     lambda z, s: z.update({DOMAIN: ["MX 10 " + HOST, txt("v=spf1 mx +all")]})),
    ("spf_not_covering", "does not cover this server's address 93.184.216.34",
     lambda z, s: (z.update({DOMAIN: ["MX 10 " + HOST,
                                      txt("v=spf1 include:_spf.provider.example -all")]}),
                   z.update({"_spf.provider.example": txt("v=spf1 ip4:198.51.100.0/24 -all")}))),
    ("dkim_missing", "no DKIM record at ed1._domainkey",
     lambda z, s: z.update({f"ed1._domainkey.{DOMAIN}": "A 127.0.0.1"})),
    ("dkim_split_wrongly", "quote characters",
     lambda z, s: z.update({f"rsa1._domainkey.{DOMAIN}": txt(
         _key(s, "rsa1")[:200] + '" "' + _key(s, "rsa1")[200:])})),
    ("dkim_split_wrongly", "separate TXT records",
     lambda z, s: z.update({f"rsa1._domainkey.{DOMAIN}": [txt(_key(s, "rsa1")[:255]),
                                                          txt(_key(s, "rsa1")[255:])]})),
    ("dkim_truncated", "cut short",
     lambda z, s: z.update({f"rsa1._domainkey.{DOMAIN}": txt(_key(s, "rsa1")[:255])})),
    ("dkim_key_mismatch", "does not match the key in",
     lambda z, s: z.update({f"ed1._domainkey.{DOMAIN}": txt(
         "v=DKIM1; k=ed25519; p=" + base64.b64encode(bytes(32)).decode())})),
    ("dmarc_missing", "no DMARC record",
     lambda z, s: z.pop("_dmarc." + DOMAIN)),
    ("dmarc_invalid", "p=block is not none, quarantine or reject",
     lambda z, s: z.update({"_dmarc." + DOMAIN: txt("v=DMARC1; p=block")})),
    ("ptr_missing", "has no PTR",
     lambda z, s: z.pop(REVERSE)),
    ("ptr_mismatch", "not mail.example.test",
     lambda z, s: z.update({REVERSE: "PTR host-10.cloud.example.net"})),
    ("ptr_not_confirmed", "does not resolve back to 93.184.216.34",
     lambda z, s: z.update({HOST: "A 93.184.216.99"})),
    ("mx_elsewhere", "points at mx.other.example.net",
     lambda z, s: z[DOMAIN].__setitem__(0, "MX 10 mx.other.example.net")),
]


@pytest.mark.parametrize("code,words,breakage", MISTAKES,
                         ids=[f"{m[0]}-{i}" for i, m in enumerate(MISTAKES)])
def test_seeded_mistake_is_named(setup, code, words, breakage):
    zone = good_zone(setup)
    zone[DOMAIN] = list(zone[DOMAIN])
    breakage(zone, setup)
    setup["dns"].set_zone(zone)
    j = run_dns(setup, "--no-egress", "--json")
    out, found = findings(j)
    failed = [f["code"] for f in found if f["status"] == "fail"]
    assert code in failed, json.dumps(found, indent=1)
    assert j.returncode == 3 and out["exit_status"] == 3
    t = run_dns(setup, "--no-egress")
    assert t.returncode == 3
    assert words in t.stdout, t.stdout
    assert "fix:" in t.stdout


def test_dmarc_none_is_advice_not_failure(setup):
    zone = good_zone(setup)
    zone["_dmarc." + DOMAIN] = txt(f"v=DMARC1; p=none; rua=mailto:postmaster@{DOMAIN}")
    setup["dns"].set_zone(zone)
    r = run_dns(setup, "--no-egress")
    assert r.returncode == 0, r.stdout
    assert "WARN  DMARC" in r.stdout and "p=quarantine" in r.stdout


def test_egress_blocked_prints_the_smarthost_recipe(setup):
    setup["dns"].set_zone(good_zone(setup))
    silent = BadPeer("127.0.0.1", mode="tarpit")
    try:
        r = run_dns(setup, "--egress-target", f"127.0.0.1:{silent.port}", check_timeout="1s")
        assert r.returncode == 4, r.stdout + r.stderr
        assert "BLOCKED" in r.stdout and "no SMTP greeting" in r.stdout
        assert '[delivery]' in r.stdout and 'smarthost = "' in r.stdout
        assert "fallback_ports" in r.stdout and "smtp.gmail.com (587 starttls" in r.stdout
        p = subprocess.run([POSTERN, "probe", "--egress", "--egress-target",
                            f"127.0.0.1:{silent.port}", "--timeout", "1s", "--json"],
                           capture_output=True, text=True, timeout=30)
        assert p.returncode == 4, p.stdout + p.stderr
        out = json.loads(p.stdout)
        assert out["blocked"] is True and out["outcome"] == "silent"
    finally:
        silent.stop()


def test_egress_open_when_a_server_greets(setup):
    setup["dns"].set_zone(good_zone(setup))
    greeting = BadPeer("127.0.0.1", mode="hangup")
    try:
        r = run_dns(setup, "--egress-target", f"127.0.0.1:{greeting.port}")
        assert r.returncode == 0, r.stdout + r.stderr
        assert "open (220 mx.example.net ESMTP)" in r.stdout
    finally:
        greeting.stop()


def test_not_a_local_domain_is_usage(setup):
    r = subprocess.run([POSTERN, "dns", "other.test", "--config", str(setup["config"])],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 2
    assert "not a local domain" in r.stderr
