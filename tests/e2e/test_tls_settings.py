"""TLS settings of today (issue 17): TLS 1.2 with forward-secret AEAD ciphers
only and TLS 1.3, the server's cipher order, as in Mozilla's "intermediate"
profile. `openssl s_client` is the peer; testssl.sh (Debian `testssl.sh`)
reviews the whole handshake surface when it is installed."""

import json
import shutil
import subprocess

import pytest

from postern_harness import SLOW, submission
from smtp_clients import s_client


@pytest.fixture(scope="module")
def server(make_module_server):
    return make_module_server(listeners=[submission("smtps", "implicit"),
                                         submission("submission", "starttls-required")])


def handshake(port, *extra, starttls=False):
    r = s_client(port, starttls=starttls, extra=("-brief", *extra))
    return r.returncode == 0 and "CONNECTION ESTABLISHED" in r.stderr, r.stderr


@pytest.mark.parametrize("cipher", ["ECDHE-ECDSA-AES128-SHA256", "ECDHE-ECDSA-AES256-SHA384",
                                    "ECDHE-ECDSA-AES128-SHA", "ECDHE-ECDSA-AES128-CCM8",
                                    "AES128-GCM-SHA256"])
def test_cbc_ccm8_and_static_rsa_ciphers_are_refused(server, cipher):
    for port, starttls in ((server.port("smtps"), False), (server.port("submission"), True)):
        ok, err = handshake(port, "-tls1_2", "-cipher", cipher, starttls=starttls)
        assert not ok, f"{cipher} was accepted on port {port}:\n{err}"
        assert "alert handshake failure" in err or "no cipher" in err, err


def test_aead_ciphers_are_accepted_in_tls12(server):
    for cipher in ("ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES256-GCM-SHA384",
                   "ECDHE-ECDSA-CHACHA20-POLY1305"):
        ok, err = handshake(server.port("smtps"), "-tls1_2", "-cipher", cipher)
        assert ok, err
        assert f"Ciphersuite: {cipher}" in err, err


def test_server_order_wins(server):
    ok, err = handshake(server.port("smtps"), "-tls1_2", "-cipher",
                        "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-ECDSA-AES128-GCM-SHA256")
    assert ok, err
    assert "Ciphersuite: ECDHE-ECDSA-AES128-GCM-SHA256" in err, err


def test_tls13_suites_without_ccm(server):
    ok, err = handshake(server.port("smtps"), "-tls1_3")
    assert ok and "Protocol version: TLSv1.3" in err, err
    ok, err = handshake(server.port("smtps"), "-tls1_3", "-ciphersuites", "TLS_AES_128_CCM_SHA256")
    assert not ok, err


@pytest.mark.skipif(shutil.which("testssl") is None and shutil.which("testssl.sh") is None,
                    reason="testssl.sh is not installed (Debian package testssl.sh)")
def test_testssl_finds_nothing_to_flag(server, tmp_path):
    tool = shutil.which("testssl") or shutil.which("testssl.sh")
    report = tmp_path / "testssl.json"
    # Protocols, cipher categories, server preference and LUCKY13 (the CBC
    # timing attack that flagged the old settings): about 30 s.
    subprocess.run([tool, "--quiet", "--color", "0", "--warnings", "off", "--jsonfile",
                    str(report), "-p", "-s", "-P", "-L", f"127.0.0.1:{server.port('smtps')}"],
                   capture_output=True, timeout=300 * SLOW, check=False)
    findings = {e["id"]: e for e in json.loads(report.read_text())}
    for protocol in ("SSLv2", "SSLv3", "TLS1", "TLS1_1"):
        assert findings[protocol]["finding"] == "not offered", findings[protocol]
    assert findings["TLS1_2"]["finding"] == "offered"
    assert findings["TLS1_3"]["finding"].startswith("offered")
    for category in ("NULL", "aNULL", "EXPORT", "LOW", "3DES_IDEA", "AVERAGE"):
        assert findings[f"cipherlist_{category}"]["finding"] == "not offered", category
    assert findings["cipher_order"]["finding"] == "server"
    assert findings["LUCKY13"]["finding"] == "not vulnerable"
    flagged = [e for e in findings.values() if e["severity"] in ("MEDIUM", "HIGH", "CRITICAL")]
    assert not flagged, flagged
