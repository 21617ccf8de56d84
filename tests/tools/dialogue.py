"""A raw SMTP dialogue over a socket, for protocol edge cases that smtplib
smooths over (pipelining, bare CR/LF, STARTTLS injection, garbage).

Tests read like the transcript they check:

    d = Dialogue(port)
    d.expect("220")                     # S: 220 host ESMTP postern
    d.cmd("EHLO client.test", "250")    # C: EHLO ...  S: 250-...
    d.send(b"MAIL FROM:<a@b>\\r\\nRCPT TO:<c@d>\\r\\n")
    d.expect("250 2.1.0"); d.expect("250 2.1.5")

Every read has a deadline, so a silent server fails the test instead of
hanging it.
"""

import dataclasses
import socket
import ssl
import time

DEFAULT_TIMEOUT = 10.0


class DialogueError(AssertionError):
    pass


@dataclasses.dataclass
class Reply:
    code: int
    lines: list  # text of each line after "250-" / "250 "

    @property
    def text(self):
        return "\n".join(self.lines)

    @property
    def first(self):
        """The first line as "250 text" (the continuation dash dropped)."""
        return f"{self.code} {self.lines[0]}" if self.lines else str(self.code)

    def keywords(self):
        """EHLO keywords (upper case), without the greeting line."""
        return [line.split(" ", 1)[0].upper() for line in self.lines[1:]]

    def has(self, keyword_line):
        """True when a line (after the greeting) starts with keyword_line,
        compared case-insensitively: has("AUTH PLAIN")."""
        return any(line.upper().startswith(keyword_line.upper()) for line in self.lines[1:])

    def __str__(self):
        return "\n".join(f"{self.code}{'-' if i + 1 < len(self.lines) else ' '}{line}"
                         for i, line in enumerate(self.lines))


def client_context(cafile=None):
    """A TLS client context: verifying against `cafile` when given (the test
    server's self-signed certificate), otherwise accepting any certificate."""
    if cafile:
        ctx = ssl.create_default_context(cafile=str(cafile))
    else:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    return ctx


class Dialogue:
    def __init__(self, port, host="127.0.0.1", implicit_tls=False, timeout=DEFAULT_TIMEOUT,
                 context=None, server_hostname="localhost", source=None):
        self.host, self.port, self.timeout = host, port, timeout
        self.context = context or client_context()
        self.server_hostname = server_hostname
        self.buf = b""
        self.transcript = []
        # `source`: a local address to connect from, e.g. "127.0.0.2" to be
        # a different client IP on loopback (all of 127.0.0.0/8 is local).
        self.sock = socket.create_connection((host, port), timeout=timeout,
                                             source_address=(source, 0) if source else None)
        self.tls = False
        if implicit_tls:
            self.upgrade()

    # -- sending ------------------------------------------------------------
    def send(self, data):
        """Sends bytes exactly as given (str is encoded as UTF-8, no CRLF added)."""
        if isinstance(data, str):
            data = data.encode()
        self.transcript.append(f"C: {data[:200]!r}{'...' if len(data) > 200 else ''}")
        self.sock.settimeout(self.timeout)
        self.sock.sendall(data)

    def cmd(self, line, expect=None, timeout=None):
        """Sends one command line with CRLF; with `expect`, reads and checks
        the reply and returns it."""
        self.send(line + "\r\n")
        if expect is not None:
            return self.expect(expect, timeout=timeout)
        return None

    # -- receiving ----------------------------------------------------------
    def _recv(self, deadline):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise socket.timeout()
        self.sock.settimeout(remaining)
        try:
            chunk = self.sock.recv(65536)
        except ConnectionResetError:
            chunk = b""
        if not chunk:
            raise EOFError()
        self.buf += chunk

    def _line(self, deadline):
        while b"\n" not in self.buf:
            self._recv(deadline)
        line, self.buf = self.buf.split(b"\n", 1)
        return line.rstrip(b"\r").decode("utf-8", "replace")

    def read_reply(self, timeout=None):
        """Reads one complete (possibly multi-line) reply."""
        deadline = time.monotonic() + (timeout or self.timeout)
        lines, code = [], None
        try:
            while True:
                line = self._line(deadline)
                if len(line) < 3 or not line[:3].isdigit():
                    raise DialogueError(f"not an SMTP reply line: {line!r}\n{self.dump()}")
                code = int(line[:3])
                lines.append(line[4:])
                if len(line) == 3 or line[3] == " ":
                    break
                if line[3] != "-":
                    raise DialogueError(f"bad reply separator: {line!r}\n{self.dump()}")
        except socket.timeout:
            raise DialogueError(f"no complete reply within {timeout or self.timeout}s "
                                f"(partial: {lines} {self.buf!r})\n{self.dump()}") from None
        except EOFError:
            raise DialogueError(f"connection closed while waiting for a reply "
                                f"(partial: {lines})\n{self.dump()}") from None
        reply = Reply(code, lines)
        self.transcript.append("S: " + str(reply).replace("\n", "\nS: "))
        return reply

    def expect(self, prefix, timeout=None):
        """Reads a reply whose first line starts with `prefix`, e.g. "250",
        "550 5.1.1" or "221 2.0.0 Bye"."""
        reply = self.read_reply(timeout)
        if not reply.first.startswith(prefix):
            raise DialogueError(f"expected {prefix!r}, got:\n{reply}\n{self.dump()}")
        return reply

    def expect_nothing(self, wait=1.0):
        """Asserts that the server sends nothing (and keeps the connection
        open) for `wait` seconds."""
        deadline = time.monotonic() + wait
        try:
            while True:
                self._recv(deadline)
                if self.buf:
                    raise DialogueError(f"unexpected bytes from the server: {self.buf!r}\n"
                                        f"{self.dump()}")
        except socket.timeout:
            return
        except EOFError:
            raise DialogueError(f"server closed the connection\n{self.dump()}") from None

    def expect_closed(self, timeout=None):
        """Asserts that the server closes the connection (after any replies,
        which are returned as a list)."""
        deadline = time.monotonic() + (timeout or self.timeout)
        replies = []
        while True:
            if self.buf:
                replies.append(self.read_reply(deadline - time.monotonic()))
                continue
            try:
                self._recv(deadline)
            except EOFError:
                return replies
            except (ConnectionResetError, BrokenPipeError):
                return replies
            except ssl.SSLError:
                return replies
            except socket.timeout:
                raise DialogueError(f"connection still open after {timeout or self.timeout}s"
                                    f"\n{self.dump()}") from None

    # -- TLS ----------------------------------------------------------------
    def upgrade(self):
        """TLS handshake on the current socket. Bytes the server sent before
        the handshake must have been consumed already."""
        if self.buf:
            raise DialogueError(f"unread plaintext before the TLS handshake: {self.buf!r}")
        self.sock.settimeout(self.timeout)
        self.sock = self.context.wrap_socket(self.sock, server_hostname=self.server_hostname)
        self.tls = True
        self.transcript.append(f"-- TLS {self.sock.version()} {self.sock.cipher()[0]}")

    def starttls(self):
        self.cmd("STARTTLS", "220")
        self.upgrade()

    def ehlo(self, name="client.test"):
        return self.cmd(f"EHLO {name}", "250")

    def quit(self):
        self.cmd("QUIT", "221")
        self.close()

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def dump(self):
        return "--- transcript ---\n" + "\n".join(self.transcript[-40:])

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
