"""Real SMTP clients for end-to-end tests: Python's smtplib, swaks and
`openssl s_client`, each with a deadline."""

import email.utils
import smtplib
import subprocess

from dialogue import client_context
from postern_harness import SLOW

CLIENT_NAME = "client.test"


def smtp(port, implicit_tls=False, cafile=None, timeout=15):
    """An smtplib client connected to 127.0.0.1:port (banner read). With a
    cafile the server certificate is verified against it, including its
    name (127.0.0.1 is in the test certificate's subjectAltName)."""
    if implicit_tls:
        return smtplib.SMTP_SSL("127.0.0.1", port, local_hostname=CLIENT_NAME,
                                timeout=timeout * SLOW, context=client_context(cafile))
    return smtplib.SMTP("127.0.0.1", port, local_hostname=CLIENT_NAME, timeout=timeout * SLOW)


def smtp_starttls(port, cafile=None, timeout=15):
    """An smtplib client after EHLO, STARTTLS and EHLO again."""
    client = smtp(port, timeout=timeout)
    client.ehlo()
    client.starttls(context=client_context(cafile))
    client.ehlo()
    return client


def message(sender, recipients, subject="test", body="Hello.\r\n", date=True,
            message_id=True, extra_headers=()):
    """A small RFC 5322 message with CRLF line endings."""
    if isinstance(recipients, str):
        recipients = [recipients]
    headers = [f"From: <{sender}>", f"To: {', '.join(f'<{r}>' for r in recipients)}",
               f"Subject: {subject}"]
    if date:
        headers.append(f"Date: {email.utils.formatdate(localtime=False)}")
    if message_id:
        headers.append(f"Message-ID: {email.utils.make_msgid(domain='client.test')}")
    headers += list(extra_headers)
    return "\r\n".join(headers) + "\r\n\r\n" + body


def swaks(*args, timeout=60):
    """Runs swaks; returns the CompletedProcess (text, stdout+stderr)."""
    return subprocess.run(["swaks", "--helo", CLIENT_NAME, "--timeout", str(int(20 * SLOW)),
                           *args],
                          capture_output=True, text=True, timeout=timeout * SLOW)


def s_client(port, starttls=False, data=b"QUIT\r\n", extra=(), timeout=30):
    """Runs `openssl s_client` against 127.0.0.1:port (optionally
    `-starttls smtp`), feeding `data` on stdin; returns the CompletedProcess
    with text output."""
    args = ["openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-servername", "localhost",
            "-ign_eof"]
    if starttls:
        args += ["-starttls", "smtp"]
    args += list(extra)
    result = subprocess.run(args, input=data, capture_output=True, timeout=timeout * SLOW)
    result.stdout = result.stdout.decode(errors="replace")
    result.stderr = result.stderr.decode(errors="replace")
    return result
