"""The set-up of the delivery tests that need slow or broken peers
(test_delivery_async.py, test_delivery_scheduling.py): a fake DNS
(fake_dns.py) for the *.test domains, receivers (receivers.py, aiosmtpd,
optionally taking `delay` seconds per message) and broken peers
(bad_peers.py) on their own 127.0.0.x addresses, all on one port number,
and sending posterns whose [delivery] goes there. mail_world.py is the
simpler world of the tests that need only healthy receivers."""

import pathlib
import shutil
import tempfile
import time

from bad_peers import BadPeer
from fake_dns import FakeDns
from postern_harness import SLOW, relay
from receivers import Receiver, port_free_on
from smtp_clients import message, smtp


class SlowWorld:
    def __init__(self, make_server, zone, hosts, prefix, delivery=()):
        """zone: fake_dns zone text. hosts: every address a peer may take
        (the port must be free on all of them). delivery: [delivery] lines
        every sender of this world gets before its own."""
        self.make_server = make_server
        self.delivery = list(delivery)
        self.workdir = pathlib.Path(tempfile.mkdtemp(prefix=f"postern-{prefix}-"))
        self.started = []
        self.port = port_free_on(list(hosts))
        self.dns = FakeDns(zone)
        self.dns_port = self.dns.start()
        self.started.append(self.dns)

    def receiver(self, host, delay=0.0):
        r = Receiver(self.workdir, host, self.port, delay=delay)
        self.started.append(r)
        return r

    def bad_peer(self, host, mode):
        p = BadPeer(host, self.port, mode)
        self.started.append(p)
        return p

    def sender(self, delivery=()):
        """A postern relaying for 127.0.0.0/8 whose deliveries go to this
        world; `delivery` lines are added to its [delivery] table."""
        extra = "\n".join([
            "",
            "[delivery]",
            f'resolver = "127.0.0.1:{self.dns_port}"',
            f"remote_port = {self.port}",
            'connect_timeout = "5s"',
            *self.delivery,
            *delivery,
            "",
        ])
        return self.make_server(listeners=[relay("mx", "none")], local_domains=("example.test",),
                                relay_networks=("127.0.0.0/8",), extra_toml=extra)

    def stop(self):
        for thing in reversed(self.started):
            thing.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)


def send(server, sender, recipients, subject, count=1):
    """`count` rounds of one message to each of `recipients` (a list), one
    transaction per message, subjects numbered by round."""
    with smtp(server.port("mx")) as client:
        for i in range(count):
            for r in recipients:
                client.sendmail(sender, [r], message(sender, [r], subject=f"{subject} {i}"))


def wait_until(what, predicate, timeout, server):
    """Polls `predicate` for `timeout` seconds (times SLOW); fails with the
    server's log tail."""
    deadline = time.monotonic() + timeout * SLOW
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout * SLOW:.0f}s\n{server.log_tail()}")
        time.sleep(0.05)
