"""`postern probe HOST` without a port: the scan of 587, 465, 2525 and 25 and
its recommendation, against a real postern with different listener sets.

The scan uses the fixed ports, so each test binds postern on its own
loopback address (127.0.0.71 and up, used by no other e2e file) on the real
port numbers (the tests run as root), with a certificate for that address
trusted through --ca-file so the rows show the TLS mode and not a
certificate problem. Ports with no listener on that address are refused.
"""

import json
import subprocess

import pytest

import certs
from fake_dns import FakeDns
from postern_harness import POSTERN, SLOW, Listener

STEP = f"{4 * SLOW:g}s"


def start(make_server, address, listeners):
    server = make_server(start=False, listeners=[
        Listener(name, role, tls, host=address, port=port) for name, role, tls, port in listeners])
    server.cert, server.key = certs.self_signed(server.dir / "scan-tls",
                                                names=["localhost", address])
    server.write_config()
    server.start()
    return server


def scan(address, server=None, json_output=True):
    args = [POSTERN, "probe", address, "--timeout", STEP]
    if server is not None:
        args += ["--ca-file", str(server.cert)]
    if json_output:
        args.append("--json")
    result = subprocess.run(args, capture_output=True, text=True, timeout=120 * SLOW)
    if not json_output:
        return result.returncode, result.stdout
    try:
        doc = json.loads(result.stdout)
    except json.JSONDecodeError:
        pytest.fail(f"not JSON (exit {result.returncode}):\n{result.stdout}\n{result.stderr}")
    assert doc["schema"] == 1 and doc["command"] == "probe" and doc["host"] == address, doc
    assert [p["port"] for p in doc["ports"]] == [587, 465, 2525, 25], doc
    assert doc["exit_status"] == result.returncode, doc
    return result.returncode, doc


def start_fake_dns(zone):
    dns = FakeDns(zone)
    return dns, dns.start()  # start() picks another port when the TCP twin is taken


def rows(doc):
    return {p["port"]: p for p in doc["ports"]}


def reachable_ports(doc):
    return sorted(p["port"] for p in doc["ports"] if p["reachable"])


def table_row(text, port):
    for line in text.splitlines():
        if line.split()[:1] == [str(port)]:
            return line.split()
    pytest.fail(f"no row for {port}:\n{text}")


def test_only_465_recommends_implicit_tls(make_server):
    address = "127.0.0.71"
    server = start(make_server, address, [("smtps", "submission", "implicit", 465)])
    status, doc = scan(address, server)
    assert status == 0, doc
    assert reachable_ports(doc) == [465], doc
    assert rows(doc)[465]["tls"]["found"] == "implicit" and rows(doc)[465]["ok"], doc
    assert rows(doc)[587]["diagnosis"] == "connect_refused", doc
    rec = doc["recommendation"]
    assert (rec["port"], rec["tls"]) == (465, "implicit"), rec
    assert "implicit TLS" in rec["reason"] and "587: connect_refused" in rec["reason"], rec

    status, text = scan(address, server, json_output=False)
    assert status == 0, text
    assert "Recommendation: port 465 with --tls implicit." in text, text
    row = table_row(text, 465)
    assert row[1:3] == ["yes", "implicit"] and row[3].startswith("TLSv1"), text
    assert table_row(text, 587)[1] == "no", text


def test_587_with_starttls_wins(make_server):
    address = "127.0.0.72"
    server = start(make_server, address, [
        ("submission", "submission", "starttls-required", 587),
        ("smtps", "submission", "implicit", 465),
        ("alt", "submission", "starttls-required", 2525),
        ("mx", "relay", "starttls", 25)])
    status, doc = scan(address, server)
    assert status == 0, doc
    assert reachable_ports(doc) == [25, 465, 587, 2525], doc
    rec = doc["recommendation"]
    assert (rec["port"], rec["tls"], rec["relay_port"]) == (587, "starttls", 25), rec
    assert "standard submission port" in rec["reason"], rec
    r587 = rows(doc)[587]
    assert r587["tls"]["found"] == "starttls" and r587["certificate"]["trusted"], r587
    # AUTH is only offered after STARTTLS on a submission port.
    assert r587["auth_mechanisms"] == ["PLAIN", "LOGIN"], r587

    status, text = scan(address, server, json_output=False)
    assert "Recommendation: port 587 with --tls starttls." in text, text
    row = table_row(text, 587)
    assert row[1:3] == ["yes", "starttls"] and "PLAIN" in row and "ok" in row, text


def test_587_closed_and_2525_open_recommends_2525(make_server):
    address = "127.0.0.73"
    server = start(make_server, address, [("alt", "submission", "starttls-required", 2525)])
    status, doc = scan(address, server)
    assert status == 0, doc
    assert reachable_ports(doc) == [2525], doc
    rec = doc["recommendation"]
    assert (rec["port"], rec["tls"]) == (2525, "starttls"), rec
    assert "587 is blocked" in rec["reason"] and "587: connect_refused" in rec["reason"], rec


def test_only_25_is_relay_not_submission(make_server):
    address = "127.0.0.74"
    server = start(make_server, address, [("mx", "relay", "starttls", 25)])
    status, doc = scan(address, server)
    rec = doc["recommendation"]
    assert rec["port"] is None and rec["tls"] is None and rec["relay_port"] == 25, rec
    assert "server-to-server relay" in rec["reason"], rec
    assert "blocked by most ISPs and clouds" in rec["reason"], rec
    assert status == 4, doc  # the other ports: connect refused
    assert reachable_ports(doc) == [25], doc

    status, text = scan(address, server, json_output=False)
    assert status == 4
    assert "Recommendation: none. " in text and "relay" in text, text


def test_certificate_problem_is_reported_in_the_recommendation(make_server):
    address = "127.0.0.75"
    start(make_server, address, [("submission", "submission", "starttls-required", 587)])
    status, doc = scan(address)  # the self-signed certificate is not trusted
    rec = doc["recommendation"]
    assert rec["port"] == 587, rec
    assert "certificate is not accepted (certificate_self_signed)" in rec["reason"], rec
    assert rows(doc)[587]["diagnosis"] == "certificate_self_signed", doc
    assert status == 6, doc  # recommended, but the path does not fully work


def test_nothing_open_exits_non_zero():
    address = "127.0.0.76"
    status, doc = scan(address)
    assert status == 4, doc
    assert reachable_ports(doc) == [], doc
    assert all(p["diagnosis"] == "connect_refused" for p in doc["ports"]), doc
    rec = doc["recommendation"]
    assert rec["port"] is None and rec["relay_port"] is None, rec
    assert "No port is usable" in rec["reason"] and "connect_refused" in rec["reason"], rec

    status, text = scan(address, json_output=False)
    assert status == 4 and "Recommendation: none." in text, text


def test_preset_scans_its_documented_ports_each_with_its_tls_mode(make_server):
    """ses:eu-west-1 through a test resolver to 127.0.0.77, where only SES's
    alternative ports answer: 2587 (STARTTLS) and 2465 (implicit TLS)."""
    ses = "email-smtp.eu-west-1.amazonaws.com"
    address = "127.0.0.77"
    server = make_server(start=False, listeners=[
        Listener("alt", "submission", "starttls-required", host=address, port=2587),
        Listener("alt_tls", "submission", "implicit", host=address, port=2465)])
    server.cert, server.key = certs.self_signed(server.dir / "ses-tls", names=[ses])
    server.write_config()
    server.start()
    dns, port = start_fake_dns({ses: f"A {address}"})
    try:
        result = subprocess.run(
            [POSTERN, "probe", "ses:eu-west-1", "--resolver", f"127.0.0.1:{port}", "--ca-file",
             str(server.cert), "--timeout", STEP, "--json"],
            capture_output=True, text=True, timeout=120 * SLOW)
    finally:
        dns.stop()
    doc = json.loads(result.stdout)
    assert result.returncode == 0, doc
    assert doc["host"] == ses, doc
    assert [p["port"] for p in doc["ports"]] == [587, 2587, 465, 2465, 25], doc
    assert reachable_ports(doc) == [2465, 2587], doc
    assert rows(doc)[2465]["tls"]["found"] == "implicit", doc
    # Walked with the documented mode, not found by --tls auto: no wait for
    # a banner on the implicit port, no plaintext first try.
    assert [s["stage"] for s in rows(doc)[2465]["steps"]][:3] == ["dns", "connect", "tls"], doc
    rec = doc["recommendation"]
    assert (rec["port"], rec["tls"]) == (2587, "starttls"), rec
    assert "587: connect_refused" in rec["reason"], rec
