"""`postern probe`: one real failing setup per diagnosis (SPEC §3.1), each
checked through `--json` (stage, diagnosis) and the exit status, plus the
working path with a masked -v transcript.

Setups, all on loopback:
- the standard postern listeners (STARTTLS submission, implicit-TLS
  submission, STARTTLS relay) with the harness's self-signed certificate,
  trusted with --ca-file where the certificate is not the point;
- more servers with an expired certificate, a wrong-name certificate and one
  issued by a private CA (untrusted, then trusted with --ca-file);
- tests/tools/fake_dns.py for a name that does not exist;
- a port nobody listens on (refused), a listener whose accept queue is full
  (timeout, see test_connect_timeout), and raw listeners that stay silent or
  greet with 421.
"""

import base64
import json
import socket
import subprocess
import time

import pytest

import certs
from bad_peers import BadPeer
from fake_dns import FakeDns
from postern_harness import POSTERN, SLOW, free_port, submission

ALICE = "alice@example.test"

# Per-step timeout handed to the probe: short, since every failing setup
# fails fast except the two that wait on purpose (silence, timeout).
STEP = f"{2 * SLOW:g}s"


def probe(*args, password=None):
    result = subprocess.run([POSTERN, "probe", *args], input=(password or "") + "\n",
                            capture_output=True, text=True, timeout=60 * SLOW)
    return result


def probe_json(*args, password=None):
    result = probe(*args, "--json", "--timeout", STEP, password=password)
    try:
        doc = json.loads(result.stdout)
    except json.JSONDecodeError:
        pytest.fail(f"not JSON (exit {result.returncode}):\n{result.stdout}\n{result.stderr}")
    assert doc["schema"] == 1 and doc["command"] == "probe", doc
    return result.returncode, doc


def assert_failed(status, doc, stage, diagnosis, exit_status):
    assert (doc["failed_stage"], doc["diagnosis"]) == (stage, diagnosis), json.dumps(doc, indent=1)
    assert status == exit_status, json.dumps(doc, indent=1)
    assert doc["ok"] is False and doc["exit_status"] == exit_status
    assert doc["steps"][-1]["stage"] == stage and doc["steps"][-1]["ok"] is False
    assert doc["explanation"] and doc["advice"]


def target(server, listener):
    return f"127.0.0.1:{server.port(listener)}"


# -- the working path ---------------------------------------------------------

def test_happy_path_with_auth_mail_rcpt_and_masked_transcript(shared_server):
    password = shared_server.users[ALICE]
    result = probe(target(shared_server, "submission"), "--tls", "starttls",
                   "--ca-file", str(shared_server.cert), "--user", ALICE, "--password-stdin",
                   "--from", ALICE, "--to", "bob@example.test", "-v", "--timeout", STEP,
                   password=password)
    out = result.stdout + result.stderr
    assert result.returncode == 0, out
    assert "OK: 127.0.0.1:" in out and "STARTTLS" in out, out
    assert "C: AUTH PLAIN ****" in out, out
    secret = base64.b64encode(f"\0{ALICE}\0{password}".encode()).decode()
    assert password not in out and secret not in out, out
    for step in ("dns", "connect", "banner", "ehlo", "tls", "certificate", "auth", "mail",
                 "rcpt"):
        assert f"  {step}" in out, out

    status, doc = probe_json(target(shared_server, "submission"), "--ca-file",
                             str(shared_server.cert), "--user", ALICE, "--password-stdin",
                             password=password)
    assert status == 0 and doc["ok"] and doc["diagnosis"] == "ok", doc
    assert doc["failed_stage"] is None
    assert doc["tls"]["found"] == "starttls" and doc["tls"]["version"].startswith("TLSv1."), doc
    assert doc["certificate"]["trusted"] and doc["certificate"]["name_matches"], doc
    assert {"PLAIN", "LOGIN"} <= set(doc["auth_mechanisms"]), doc
    assert doc["auth_mechanisms_before_tls"] == [], doc
    assert password not in json.dumps(doc)


def test_auto_finds_implicit_tls(shared_server):
    status, doc = probe_json(target(shared_server, "smtps"), "--tls", "auto", "--ca-file",
                             str(shared_server.cert))
    assert status == 0, doc
    assert doc["tls"]["found"] == "implicit", doc
    assert [s["stage"] for s in doc["steps"]][:5] == ["dns", "connect", "tls", "certificate",
                                                     "banner"], doc


# -- dns and connect ----------------------------------------------------------

def start_fake_dns(zone):
    """FakeDns picks a free UDP port and binds TCP to the same number, which
    a client's ephemeral TCP port may hold at that moment: try again."""
    for attempt in range(5):
        dns = FakeDns(zone)
        try:
            return dns, dns.start()
        except OSError:
            dns.stop()
            if attempt == 4:
                raise
    raise AssertionError("unreachable")


def test_name_does_not_resolve():
    dns, port = start_fake_dns({"mail.example.test": "A 127.0.0.1"})
    try:
        status, doc = probe_json("nowhere.example.test:587", "--resolver", f"127.0.0.1:{port}")
    finally:
        dns.stop()
    assert_failed(status, doc, "dns", "name_not_found", 3)
    assert doc["addresses"] == [] and doc["address"] is None


def test_connection_refused():
    status, doc = probe_json(f"127.0.0.1:{free_port()}")
    assert_failed(status, doc, "connect", "connect_refused", 4)


def test_connect_timeout():
    """A listener with listen(0) whose one accept-queue slot is taken: Linux
    drops further SYNs while the queue is full (tcp_conn_request), so the
    probe's SYN goes unanswered exactly as behind a DROP firewall rule. This
    needs neither root, nor nftables/iptables, nor a network namespace, and
    it does not depend on the host's firewall."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    fillers = []
    try:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        port = listener.getsockname()[1]
        # Fill the queue: connections that complete but are never accepted.
        for _ in range(2):
            c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            c.setblocking(False)
            c.connect_ex(("127.0.0.1", port))
            fillers.append(c)
        time.sleep(0.2)
        start = time.monotonic()
        result = probe(f"127.0.0.1:{port}", "--json", "--timeout", "1s")
        took = time.monotonic() - start
    finally:
        for c in fillers:
            c.close()
        listener.close()
    doc = json.loads(result.stdout)
    assert_failed(result.returncode, doc, "connect", "connect_timeout", 4)
    assert 0.9 < took < 20 * SLOW, took
    assert "firewall" in doc["explanation"], doc


# -- banner ---------------------------------------------------------------------

def test_silent_server_is_a_banner_timeout():
    """--tls auto waits min(timeout, 3 s) for a greeting, then tries implicit
    TLS on a new connection; neither answers."""
    listener = BadPeer("127.0.0.1", mode="tarpit")
    try:
        start = time.monotonic()
        result = probe(f"127.0.0.1:{listener.port}", "--json", "--timeout", "1s")
        took = time.monotonic() - start
    finally:
        listener.stop()
    doc = json.loads(result.stdout)
    assert_failed(result.returncode, doc, "banner", "banner_timeout", 5)
    assert took < 10 * SLOW, took
    assert listener.accepted == 2, "a plaintext look, then an implicit-TLS attempt"


def test_busy_server_is_server_busy():
    listener = BadPeer("127.0.0.1", mode="greet",
                       greeting=b"421 4.7.0 mx.example.test too many connections, try later\r\n")
    try:
        status, doc = probe_json(f"127.0.0.1:{listener.port}")
    finally:
        listener.stop()
    assert_failed(status, doc, "banner", "server_busy", 5)
    assert doc["server_reply"].startswith("421 4.7.0"), doc


# -- TLS mode, both ways ----------------------------------------------------------

def test_implicit_tls_tried_on_a_starttls_port(shared_server):
    status, doc = probe_json(target(shared_server, "submission"), "--tls", "implicit")
    assert_failed(status, doc, "tls", "expects_plaintext", 5)
    assert doc["tls"]["found"] == "starttls", doc
    assert "--tls starttls" in doc["advice"], doc


def test_starttls_tried_on_an_implicit_tls_port(shared_server):
    result = probe(target(shared_server, "smtps"), "--tls", "starttls", "--json", "--timeout",
                   f"{SLOW:g}s")
    doc = json.loads(result.stdout)
    assert_failed(result.returncode, doc, "banner", "expects_implicit_tls", 5)
    assert doc["tls"]["found"] == "implicit", doc
    assert "--tls implicit" in doc["advice"], doc


# -- certificates ---------------------------------------------------------------

def test_self_signed_certificate(shared_server):
    status, doc = probe_json(target(shared_server, "submission"), "--tls", "starttls")
    assert_failed(status, doc, "certificate", "certificate_self_signed", 6)
    assert doc["certificate"]["self_signed"] and not doc["certificate"]["trusted"], doc


def _server_with_certificate(make_server, make_cert):
    server = make_server(start=False, listeners=[submission("submission")])
    server.cert, server.key = make_cert(server.dir / "tls")
    server.write_config()
    server.start()
    return server


def test_expired_certificate(make_server):
    # `postern serve` refuses an expired certificate at start-up, so the
    # server starts with one that expires a moment later.
    expiry = []

    def make_cert(directory):
        cert, key, end = certs.expiring(directory, 2 * SLOW)
        expiry.append(end)
        return cert, key

    server = _server_with_certificate(make_server, make_cert)
    time.sleep(max(0.0, expiry[0] + 1.1 - time.time()))
    status, doc = probe_json(target(server, "submission"), "--ca-file", str(server.cert))
    assert_failed(status, doc, "certificate", "certificate_expired", 6)
    assert doc["certificate"]["expired"], doc
    end = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(expiry[0]))
    assert doc["certificate"]["not_after"] == end, doc
    assert end in doc["explanation"], doc


def test_wrong_name_certificate_lists_the_names_it_covers(make_server):
    server = _server_with_certificate(make_server, certs.wrong_name)
    # Trusted on purpose (--ca-file), so the name is the only problem.
    status, doc = probe_json(target(server, "submission"), "--ca-file", str(server.cert))
    assert_failed(status, doc, "certificate", "certificate_name_mismatch", 6)
    assert doc["certificate"]["names"] == ["wrong.invalid"], doc
    assert not doc["certificate"]["name_matches"], doc
    assert "wrong.invalid" in doc["explanation"], doc


def test_private_ca_untrusted_then_trusted_with_ca_file(make_server, tmp_path):
    ca = certs.private_ca(tmp_path)
    server = _server_with_certificate(make_server, lambda d: certs.signed_by(ca, d))
    # The issuer is unknown to the system store: what a missing intermediate
    # certificate looks like too.
    status, doc = probe_json(target(server, "submission"))
    assert_failed(status, doc, "certificate", "certificate_untrusted", 6)
    assert not doc["certificate"]["self_signed"], doc
    assert doc["certificate"]["issuer"] == "CN=postern test CA", doc
    assert "issuer" in doc["certificate"]["verify_error"], doc
    assert "--ca-file" in doc["advice"], doc
    status, doc = probe_json(target(server, "submission"), "--ca-file", str(ca[0]))
    assert status == 0 and doc["certificate"]["trusted"], doc


# -- AUTH -----------------------------------------------------------------------

def test_auth_before_starttls(shared_server):
    status, doc = probe_json(target(shared_server, "submission"), "--tls", "none", "--user",
                             ALICE, "--password-stdin", password="whatever")
    assert_failed(status, doc, "auth", "auth_not_offered_before_tls", 7)
    assert "--tls starttls" in doc["advice"], doc


def test_sender_not_owned_is_553(shared_server):
    status, doc = probe_json(target(shared_server, "submission"), "--ca-file",
                             str(shared_server.cert), "--user", ALICE, "--password-stdin",
                             "--from", "bob@example.test", "--to", "bob@example.test",
                             password=shared_server.users[ALICE])
    assert_failed(status, doc, "mail", "sender_rejected", 8)
    assert doc["server_reply"].startswith("553"), doc
    assert doc["server_reply"] in doc["explanation"], doc


def test_relay_denied_is_554(shared_server):
    status, doc = probe_json(target(shared_server, "relay"), "--ca-file",
                             str(shared_server.cert), "--from", "someone@outside.test",
                             "--to", "someone@elsewhere.test")
    assert_failed(status, doc, "rcpt", "relay_denied", 8)
    assert doc["server_reply"].startswith("554 5.7.1"), doc
    assert "Relay access denied" in doc["explanation"], doc


def test_wrong_password_is_535(make_server):
    # Its own server: the failure counts against the client in the throttle.
    server = make_server(listeners=[submission("submission")])
    result = probe(target(server, "submission"), "--ca-file", str(server.cert), "--user", ALICE,
                   "--password-stdin", "--json", "-v", "--timeout", STEP,
                   password="not-the-password")
    doc = json.loads(result.stdout)
    assert_failed(result.returncode, doc, "auth", "auth_failed", 7)
    assert doc["server_reply"].startswith("535"), doc
    assert "PLAIN LOGIN" in doc["explanation"], doc
    # -v goes to stderr with --json; the wrong password is masked as well.
    assert "AUTH PLAIN ****" in result.stderr, result.stderr
    assert "not-the-password" not in result.stdout + result.stderr
