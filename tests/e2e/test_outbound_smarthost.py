"""Outbound delivery through a smarthost: a sending postern relays to a
second postern that plays the provider (submission listener, a user, its
own self-signed certificate trusted through smarthost_ca_file)."""

import re
import time

import postern_harness as harness
from postern_harness import SLOW, free_port, submission, relay
from smtp_clients import message, smtp

RELAY_USER = "alice@example.test"
RELAY_PASSWORD = harness.USERS[RELAY_USER]
RECIPIENT = "bob@remote.test"


def provider(make_server, tls):
    """The receiving postern: remote.test is local there, and it takes
    submissions from alice (the sending server's credentials)."""
    users = dict(harness.USERS)
    users[RECIPIENT] = "bob-provider-password-3"
    return make_server(listeners=[submission("sub", tls)],
                       hostname="smarthost.remote.test",
                       local_domains=("remote.test", "example.test"), users=users)


def sender(make_server, provider_server, port, tls, fallback_ports=()):
    extra = "\n".join([
        "",
        "[delivery]",
        f'smarthost = "127.0.0.1:{port}"',
        f'smarthost_tls = "{tls}"',
        f'smarthost_user = "{RELAY_USER}"',
        f'smarthost_password = "{RELAY_PASSWORD}"',
        f'smarthost_ca_file = "{provider_server.cert}"',
        f"fallback_ports = [{', '.join(str(p) for p in fallback_ports)}]",
        'retry_initial = "1s"',
        "",
    ])
    return make_server(listeners=[relay("mx", "none")], local_domains=("example.test",),
                       relay_networks=("127.0.0.0/8",), extra_toml=extra)


def send(server, count=1, subject="via smarthost"):
    with smtp(server.port("mx")) as client:
        for i in range(count):
            client.sendmail(RELAY_USER, [RECIPIENT],
                            message(RELAY_USER, RECIPIENT, subject=f"{subject} {i}"))


def connects(server, listener):
    port = server.port(listener)
    return len(re.findall(rf"\bconnect session=\S+ client=\S+ listener=\S+:{port}\b",
                          server.log_text()))


def test_smarthost_starttls_with_auth(make_server):
    prov = provider(make_server, "starttls-required")
    snd = sender(make_server, prov, prov.port("sub"), "starttls")
    send(snd)
    messages = prov.wait_for_maildir(RECIPIENT, 1)
    assert b"via smarthost 0" in messages[0]
    snd.wait_for_log("tls_outbound")
    log = snd.log_text()
    assert "trust=Trusted" in log
    assert "auth_outbound" in log and "result=ok" in log
    assert RELAY_PASSWORD not in log
    assert "delivered" in log


def test_smarthost_implicit_tls_with_auth(make_server):
    prov = provider(make_server, "implicit")
    snd = sender(make_server, prov, prov.port("sub"), "implicit")
    send(snd)
    prov.wait_for_maildir(RECIPIENT, 1)
    assert "trust=Trusted" in snd.log_text()


def test_refused_port_falls_back_to_the_next(make_server):
    prov = provider(make_server, "starttls-required")
    closed = free_port()
    snd = sender(make_server, prov, closed, "starttls", fallback_ports=[prov.port("sub")])
    send(snd)
    prov.wait_for_maildir(RECIPIENT, 1)
    log = snd.log_text()
    assert "trying fallback port" in log
    assert f":{closed}" in log


def test_consecutive_messages_share_connections(make_server):
    prov = provider(make_server, "starttls-required")
    snd = sender(make_server, prov, prov.port("sub"), "starttls")
    count = 6
    send(snd, count)
    prov.wait_for_maildir(RECIPIENT, count)
    # The runner has two delivery threads; with reuse, six messages need
    # at most two sessions (and never one each).
    assert connects(prov, "sub") < count, prov.log_tail()


def test_wrong_credentials_keep_the_message_queued(make_server):
    prov = provider(make_server, "starttls-required")
    snd = sender(make_server, prov, prov.port("sub"), "starttls")
    text = snd.config_path.read_text().replace(RELAY_PASSWORD, "not-the-password")
    snd.config_path.write_text(text)
    snd.restart()
    send(snd)
    snd.wait_for_log("auth_outbound", timeout=15)
    snd.wait_for_log("deferred", timeout=15)
    time.sleep(0.5 * SLOW)
    assert prov.maildir_messages(RECIPIENT) == []
    assert "not-the-password" not in snd.log_text()
