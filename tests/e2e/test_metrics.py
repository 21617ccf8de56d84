"""[metrics] address (SPEC §1.6, §1.11): Prometheus text exposition on that
address only. A scrape passes `promtool check metrics` (Debian package
prometheus) and its counters equal what the test did: sessions, TLS
handshakes, AUTH successes and failures, accepted and rejected messages,
deliveries and their latency."""

import shutil
import smtplib
import socket
import subprocess
import time
import urllib.error
import urllib.request

import pytest

from postern_harness import SLOW, free_port, relay, submission
from smtp_clients import message, smtp, smtp_starttls

ALICE = "alice@example.test"
BOB = "bob@example.test"


@pytest.fixture
def metrics_server(make_server):
    port = free_port()
    srv = make_server(listeners=[relay("relay", "none"), submission("submission")],
                      extra_toml=f'\n[metrics]\naddress = "127.0.0.1:{port}"\n')
    srv.metrics_port = port
    return srv


def scrape(port, path="/metrics"):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10 * SLOW) as r:
        assert r.status == 200
        assert r.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        return r.read().decode()


def samples(text):
    """{'name{labels}': value} of every sample line."""
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            key, value = line.rsplit(" ", 1)
            out[key] = float(value)
    return out


def test_counters_equal_what_was_sent_and_promtool_accepts(metrics_server):
    srv = metrics_server
    sub = f"127.0.0.1:{srv.port('submission')}"
    rel = f"127.0.0.1:{srv.port('relay')}"
    # Two authenticated messages, one wrong password.
    client = smtp_starttls(srv.port("submission"), cafile=srv.cert)
    client.login(ALICE, srv.users[ALICE])
    client.sendmail(ALICE, [BOB], message(ALICE, BOB, subject="one"))
    client.sendmail(ALICE, [BOB], message(ALICE, BOB, subject="two"))
    client.quit()
    client = smtp_starttls(srv.port("submission"), cafile=srv.cert)
    client.user, client.password = ALICE, "wrong password"
    with pytest.raises(smtplib.SMTPAuthenticationError):
        client.auth("PLAIN", client.auth_plain)  # one attempt (login() tries every mechanism)
    client.close()
    # On the relay port: one accepted message, one relay attempt refused,
    # one unknown local user refused.
    client = smtp(srv.port("relay"))
    client.ehlo()
    client.sendmail("someone@elsewhere.test", [BOB], message("someone@elsewhere.test", BOB))
    client.mail("someone@elsewhere.test")
    code, _ = client.rcpt("victim@elsewhere.test")
    assert code == 554
    client.rset()
    client.mail("someone@elsewhere.test")
    code, _ = client.rcpt("nobody@example.test")
    assert code == 550
    client.quit()
    srv.wait_for_maildir(BOB, 3)
    srv.wait_for_log("delivered", timeout=10)

    # Deliveries are counted after their result is recorded: poll briefly.
    deadline = time.monotonic() + 10 * SLOW
    while True:
        text = scrape(srv.metrics_port)
        s = samples(text)
        if s.get('postern_deliveries_total{result="delivered",destination="local"}') == 3:
            break
        assert time.monotonic() < deadline, text
        time.sleep(0.1)

    assert s[f'postern_sessions_total{{listener="{sub}",role="submission"}}'] == 2
    assert s[f'postern_sessions_total{{listener="{rel}",role="relay"}}'] == 1
    assert s[f'postern_tls_handshakes_total{{listener="{sub}",result="ok"}}'] == 2
    assert s['postern_auth_total{result="success"}'] == 1
    assert s['postern_auth_total{result="failure"}'] == 1
    assert s[f'postern_messages_accepted_total{{listener="{sub}"}}'] == 2
    assert s[f'postern_messages_accepted_total{{listener="{rel}"}}'] == 1
    assert s['postern_messages_rejected_total{reason="relay_denied"}'] == 1
    assert s['postern_messages_rejected_total{reason="unknown_user"}'] == 1
    assert s['postern_delivery_latency_seconds_count{destination="local"}'] == 3
    assert s['postern_delivery_latency_seconds_bucket{destination="local",le="+Inf"}'] == 3
    assert s["postern_queue_messages"] == 0
    assert f'postern_sessions_active{{listener="{sub}"}}' in s

    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool is not installed (Debian package prometheus)")
    checked = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True,
                             text=True, timeout=30)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_serves_nothing_else(metrics_server):
    port = metrics_server.metrics_port
    for path in ("/", "/metrics/x", "/../etc/passwd"):
        with pytest.raises(urllib.error.HTTPError) as e:
            scrape(port, path)
        assert e.value.code == 404
    req = urllib.request.Request(f"http://127.0.0.1:{port}/metrics", data=b"x", method="POST")
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(req, timeout=10)
    assert e.value.code == 405
    # SMTP spoken to it, and a head that never ends, get 400 and a close.
    with socket.create_connection(("127.0.0.1", port), timeout=10) as c:
        c.sendall(b"EHLO client.test\r\n\r\n")
        assert c.recv(100).startswith(b"HTTP/1.1 400 ")
    with socket.create_connection(("127.0.0.1", port), timeout=20) as c:
        c.sendall(b"GET /metrics HTTP/1.1\r\n" + b"X: " + b"a" * 9000)
        assert c.recv(100).startswith(b"HTTP/1.1 431 ")
    # Bound to the configured address only.
    listening = subprocess.run(["ss", "-Hltn", f"sport = :{port}"], capture_output=True,
                               text=True).stdout
    local = [row.split()[3] for row in listening.splitlines()]
    assert local == [f"127.0.0.1:{port}"], listening
