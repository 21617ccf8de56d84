"""The queue survives a SIGKILL in the middle of retries, and a recipient that
already succeeded is never delivered to twice (SPEC §1.4, §1.5)."""

import postern_harness as harness
from fake_dns import FakeDns
from postern_harness import Listener, free_port, relay
from smtp_clients import message, smtp

LOCAL = "alice@example.test"
REMOTE = "bob@remote.test"


def test_sigkill_during_retries_loses_nothing_and_delivers_once(make_server):
    port = free_port("127.0.0.2")
    dns = FakeDns("remote.test MX 10 mx.remote.test\nmx.remote.test A 127.0.0.2\n")
    dns_port = dns.start()
    try:
        # The remote side: a second postern on 127.0.0.2, not started yet, so
        # the first attempts are refused and the message waits for retries.
        receiver = make_server(start=False,
                               listeners=[Listener("mx", "relay", "none", host="127.0.0.2",
                                                   port=port)],
                               hostname="mx.remote.test", local_domains=("remote.test",),
                               users={REMOTE: "bob-password-1"})
        extra = "\n".join([
            "",
            "[delivery]",
            f'resolver = "127.0.0.1:{dns_port}"',
            f"remote_port = {port}",
            'retry_initial = "1s"',
            'retry_max = "2s"',
            "",
        ])
        sender = make_server(listeners=[relay("mx", "none")], local_domains=("example.test",),
                             relay_networks=("127.0.0.0/8",), extra_toml=extra)
        with smtp(sender.port("mx")) as client:
            client.sendmail(LOCAL, [LOCAL, REMOTE], message(LOCAL, REMOTE, subject="twice?"))

        # The local copy goes at once; the remote one is deferred and retried.
        sender.wait_for_maildir(LOCAL, 1)
        sender.wait_for_log("deferred", timeout=10 * harness.SLOW)
        sender.kill9()
        sender.restart()

        receiver.start()
        delivered = receiver.wait_for_maildir(REMOTE, 1, timeout=20 * harness.SLOW)
        assert b"twice?" in delivered[0]
        # Exactly once on each side, also after the restart resumed the queue.
        receiver.assert_maildir_stays(REMOTE, 1, wait=3)
        sender.assert_maildir_stays(LOCAL, 1, wait=1)
    finally:
        dns.stop()
