#!/usr/bin/python3
"""A receiving SMTP server for outbound delivery tests, built on aiosmtpd.

    smtp_receiver.py --host 127.0.0.2 --port 2525 --out DIR
                     [--tls none|starttls|implicit --cert C --key K]
                     [--auth USER:PASSWORD] [--ehlo-only-plain] [--delay SECONDS]
                     [--rcpt-script FILE]

Each accepted message is written to DIR/msg-<n>.json with the envelope, the
data, whether the session was encrypted and who authenticated. Every new
connection appends a line to DIR/connections. --delay makes it wait that long
before it answers the end of each message's data (a slow destination). With
--rcpt-script (JSON: address -> list of replies, the last one repeating;
addresses not listed get 250), RCPT is answered from the script and each RCPT
appends the address to DIR/rcpt-calls. Prints "ready" on stdout once it
listens; runs until killed.
"""

import argparse
import asyncio
import base64
import itertools
import json
import os
import pathlib
import ssl
import sys

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult


class Handler:
    def __init__(self, out, delay=0.0, rcpt_script=None):
        self.out = out
        self.delay = delay
        self.counter = itertools.count(1)
        self.script = {k: list(v) for k, v in (rcpt_script or {}).items()}

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        with open(self.out / "rcpt-calls", "a") as f:
            f.write(address + "\n")
        replies = self.script.get(address, ["250 2.1.5 ok"])
        reply = replies.pop(0) if len(replies) > 1 else replies[0]
        if reply.startswith("250"):
            envelope.rcpt_tos.append(address)
            envelope.rcpt_options.extend(rcpt_options)
        return reply

    async def handle_DATA(self, server, session, envelope):
        if self.delay:
            await asyncio.sleep(self.delay)
        n = next(self.counter)
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "mail_options": envelope.mail_options,
            "tls": session.ssl is not None,
            "auth": session.auth_data.login.decode() if session.auth_data else None,
            "data": envelope.content.decode("utf-8", "replace"),
            # The octets as received, for checks that must see every one
            # (a DKIM signature over an 8-bit body).
            "data_b64": base64.b64encode(envelope.original_content or b"").decode(),
        }
        tmp = self.out / f".msg-{n}.tmp"
        tmp.write_text(json.dumps(record))
        os.rename(tmp, self.out / f"msg-{n}.json")
        return "250 2.0.0 accepted"


class CountingSMTP(SMTP):
    def connection_made(self, transport):
        with open(self.event_handler.out / "connections", "a") as f:
            f.write("connect\n")
        super().connection_made(transport)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--tls", default="none", choices=["none", "starttls", "implicit"])
    p.add_argument("--cert")
    p.add_argument("--key")
    p.add_argument("--auth")
    p.add_argument("--delay", type=float, default=0.0)
    p.add_argument("--rcpt-script")
    args = p.parse_args()

    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    script = json.loads(pathlib.Path(args.rcpt_script).read_text()) if args.rcpt_script else None
    handler = Handler(out, args.delay, script)

    context = None
    if args.tls != "none":
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(args.cert, args.key)

    user, password = (args.auth.split(":", 1) if args.auth else (None, None))

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = (auth_data.login.decode() == user and auth_data.password.decode() == password)
        return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)

    smtp_kwargs = {}
    if user:
        # aiosmtpd does not count implicit TLS as TLS for auth_require_tls;
        # the connection is encrypted from the first byte anyway.
        smtp_kwargs.update(authenticator=authenticator, auth_required=True,
                           auth_require_tls=args.tls != "implicit")
    else:
        smtp_kwargs.update(auth_require_tls=False)

    class Ctl(Controller):
        def factory(self):
            return CountingSMTP(self.handler, hostname="receiver.test",
                                tls_context=context if args.tls == "starttls" else None,
                                require_starttls=False, **smtp_kwargs)

    controller = Ctl(handler, hostname=args.host, port=args.port,
                     ssl_context=context if args.tls == "implicit" else None,
                     ready_timeout=10)
    controller.start()
    print("ready", flush=True)
    try:
        asyncio.run(asyncio.Event().wait())
    except KeyboardInterrupt:
        pass
    finally:
        controller.stop()


if __name__ == "__main__":
    sys.exit(main())
