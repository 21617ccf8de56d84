"""The set-up every outbound test shares: receiving SMTP servers
(receivers.py, aiosmtpd in their own processes) on loopback addresses, all
on one port, a fake DNS (fake_dns.py) whose zone sends the recipient
domains there, and the [delivery] lines that make a sending postern use
both. The e2e fixture `mail_world` (tests/e2e/conftest.py) builds one and
stops it after the test; the test makes its own postern with
`world.delivery_toml(...)` in its configuration."""

import pathlib
import shutil
import tempfile

from fake_dns import FakeDns
from receivers import Receiver, port_free_on


class MailWorld:
    def __init__(self, zone, receivers=None, hosts=None, rcpt_scripts=None, prefix="world"):
        """zone: fake_dns zone text (or a list of lines). receivers: {host:
        tls mode} to start now. hosts: every address that may get a
        receiver (the port must be free on all of them; default: those of
        `receivers`). rcpt_scripts: {host: {address: [replies]}}."""
        self.workdir = pathlib.Path(tempfile.mkdtemp(prefix=f"postern-{prefix}-"))
        receivers = dict(receivers or {})
        self.port = port_free_on(list(hosts or receivers) or ["127.0.0.1"])
        self.receivers = {}
        self.dns = None
        try:
            for host, tls in receivers.items():
                self.add_receiver(host, tls, (rcpt_scripts or {}).get(host))
            self.zone = zone if isinstance(zone, str) else "\n".join(zone)
            self.dns = FakeDns(self.zone)
            self.dns_port = self.dns.start()
        except BaseException:
            self.stop()
            raise

    def add_receiver(self, host, tls="none", rcpt_script=None):
        r = Receiver(self.workdir, host, self.port, tls, rcpt_script=rcpt_script)
        self.receivers[host] = r
        return r

    def receiver(self, host=None):
        """The receiver on `host`, or the only one."""
        if host is None:
            (only,) = self.receivers.values()
            return only
        return self.receivers[host]

    def set_zone(self, zone):
        self.zone = zone if isinstance(zone, str) else "\n".join(zone)
        self.dns.set_zone(self.zone)

    def delivery_toml(self, *extra, retry_initial="1s"):
        """A [delivery] table sending through this world, plus `extra` lines
        of it; as text to append to a configuration (extra_toml)."""
        return "\n".join(["", "[delivery]", f'resolver = "127.0.0.1:{self.dns_port}"',
                          f"remote_port = {self.port}", f'retry_initial = "{retry_initial}"',
                          *extra, ""])

    def stop(self):
        for r in self.receivers.values():
            r.stop()
        if self.dns:
            self.dns.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)
