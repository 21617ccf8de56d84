"""Reload (SPEC §1.11): SIGHUP and `postern reload` apply a changed limit and
a new certificate at once, for new sessions, while a session opened before
completes its message; a broken file is refused whole with its file:line
errors and the server keeps serving with the old configuration; a changed
listener is reported as needing a restart."""

import signal
import subprocess

import certs
from postern_harness import POSTERN, SLOW, relay, submission
from smtp_clients import message, s_client, smtp, smtp_starttls

BOB = "bob@example.test"
ALICE = "alice@example.test"


def subject_seen(port):
    r = s_client(port, starttls=True)
    for line in r.stdout.splitlines():
        if line.startswith("subject="):
            return line
    raise AssertionError(r.stdout + r.stderr)


def size_advertised(port):
    client = smtp(port)
    code, text = client.ehlo()
    client.quit()
    for line in text.decode().splitlines():
        if line.startswith("SIZE "):
            return int(line.split()[1])
    raise AssertionError(text)


def reload_cli(srv):
    return subprocess.run([POSTERN, "reload", "--config", str(srv.config_path)],
                          capture_output=True, text=True, timeout=60 * SLOW)


def test_sighup_applies_limit_and_certificate_without_dropping_a_session(make_server):
    srv = make_server(listeners=[relay("relay", "starttls"), submission("submission")],
                      limits={"max_message_size": 100000})
    port = srv.port("relay")
    old_subject = subject_seen(port)
    assert size_advertised(port) == 100000

    # A session opened before the reload, inside TLS, mid-transaction.
    before = smtp_starttls(srv.port("submission"), cafile=srv.cert)
    before.login(ALICE, srv.users[ALICE])
    before.mail(ALICE, [f"SIZE={60000}"])
    before.rcpt(BOB)

    new_cert, new_key = certs.self_signed(srv.dir / "tls-new", names=["renewed.example.test"],
                                          stem="renewed")
    srv.cert, srv.key = new_cert, new_key
    srv.limits["max_message_size"] = 5000
    srv.write_config()
    srv.proc.send_signal(signal.SIGHUP)
    srv.wait_for_log("reload status=applied")

    # New sessions: the new certificate and the new limit.
    new_subject = subject_seen(port)
    assert new_subject != old_subject and "renewed.example.test" in new_subject, new_subject
    assert size_advertised(port) == 5000
    client = smtp(port)
    client.ehlo()
    code, _ = client.mail("someone@elsewhere.test", ["SIZE=60000"])
    assert code == 552
    client.quit()

    # The session from before completes its 60 kB message under its limits.
    body = "x" * 76 + "\r\n"
    code, _ = before.data(message(ALICE, BOB, subject="opened before", body=body * 780))
    assert code == 250
    before.quit()
    assert any(b"Subject: opened before" in m for m in srv.wait_for_maildir(BOB, 1))


def test_broken_file_is_refused_whole_and_the_server_keeps_serving(make_server):
    srv = make_server(listeners=[relay("relay", "none")], limits={"max_message_size": 100000})
    port = srv.port("relay")
    good = srv.config_path.read_text()
    broken = good.replace("max_message_size = 100000",
                          "max_message_size = 5000\nmax_sessions = \"lots\"")
    broken = broken.replace('role = "relay"', 'role = "relai"')
    srv.config_path.write_text(broken)

    srv.proc.send_signal(signal.SIGHUP)
    srv.wait_for_log("reload status=refused action=")
    log = srv.log_text()
    assert f"{srv.config_path}:" in log and "max_sessions" in log and "relai" in log
    # Nothing of it applied, not even the valid line.
    assert size_advertised(port) == 100000

    # `postern reload` says the same, with the lines, and exits 1.
    answer = reload_cli(srv)
    assert answer.returncode == 1, answer.stdout + answer.stderr
    assert f"{srv.config_path.name}:" in answer.stderr and "relai" in answer.stderr

    # Still serving: a message goes through.
    client = smtp(port)
    client.sendmail("someone@elsewhere.test", [BOB], message("someone@elsewhere.test", BOB))
    client.quit()
    srv.wait_for_maildir(BOB, 1)

    # Fixed, with a listener added: applied, and the listener needs a restart.
    srv.config_path.write_text(good.replace("max_message_size = 100000",
                                            "max_message_size = 7000") +
                               '\n[[listener]]\naddress = "127.0.0.1:1"\nrole = "relay"\n'
                               'tls = "none"\n')
    answer = reload_cli(srv)
    assert answer.returncode == 0, answer.stdout + answer.stderr
    assert "needs a restart: listener 127.0.0.1:1 added" in answer.stdout
    assert size_advertised(port) == 7000
