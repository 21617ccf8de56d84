"""Authenticated submission in a few calls, for the limit tests: log in with
AUTH PLAIN on a plaintext submission listener (insecure = true, loopback)
and send messages, returning the replies that matter."""

import base64

from dialogue import Dialogue


def plain(user, password):
    return base64.b64encode(f"\0{user}\0{password}".encode()).decode()


def login(port, user, password, source=None, timeout=30):
    """An open Dialogue after EHLO and AUTH; returns (dialogue, auth reply)."""
    d = Dialogue(port, source=source, timeout=timeout)
    d.expect("220")
    d.ehlo()
    reply = d.cmd("AUTH PLAIN " + plain(user, password), "")
    return d, reply


def auth_reply(port, user, password, source=None):
    """One AUTH on a fresh connection; the reply."""
    d, reply = login(port, user, password, source=source)
    with d:
        d.cmd("QUIT")
    return reply


def send(port, user, password, recipients=None, subject="limits", source=None):
    """Logs in and sends one message; returns the first refusal (a Reply) or
    the final 250. Recipients default to the sender itself."""
    recipients = recipients or [user]
    d, reply = login(port, user, password, source=source)
    with d:
        if reply.code != 235:
            return reply
        r = d.cmd(f"MAIL FROM:<{user}>", "")
        if r.code != 250:
            d.cmd("QUIT")
            return r
        accepted = 0
        for rcpt in recipients:
            r = d.cmd(f"RCPT TO:<{rcpt}>", "")
            if r.code != 250:
                d.cmd("QUIT")
                return r
            accepted += 1
        d.cmd("DATA", "354")
        d.send(f"From: <{user}>\r\nTo: <{recipients[0]}>\r\nSubject: {subject}\r\n\r\n"
               "Hello.\r\n.\r\n")
        r = d.read_reply()
        d.cmd("QUIT")
        return r
