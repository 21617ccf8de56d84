"""Misbehaving SMTP servers for delivery and probe tests, in-process on
loopback (the one home of such fakes: the well-behaved receiver is
smtp_receiver.py).

    peer = BadPeer("127.0.0.51", port, mode="tarpit")   # port 0: any free one
    ...
    peer.port            # the port it listens on
    peer.accepted        # connections accepted so far
    peer.max_open        # most connections open at the same time
    peer.open_now()      # connections open now
    peer.stop()

Modes:
- "tarpit": accepts the TCP connection and never says anything (spam traps
  and overloaded servers do this);
- "trickle": sends "220" and then one byte of " slow" every `interval`
  seconds, never ending the line;
- "endless": sends "220 " and then 'x' without end, never a line break;
- "greet": sends `greeting` (e.g. a 421 of a busy server) and then nothing,
  keeping the connection open;
- "hangup": sends `greeting` and closes the connection.
Whatever the client sends is read and dropped.
"""

import select
import socket
import threading
import time


class BadPeer:
    def __init__(self, host, port=0, mode="tarpit", interval=0.5,
                 greeting=b"220 mx.example.net ESMTP\r\n"):
        assert mode in ("tarpit", "trickle", "endless", "greet", "hangup")
        self.mode = mode
        self.interval = interval
        self.greeting = greeting
        self.accepted = 0
        self.max_open = 0
        self._open = set()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind((host, port))
        self._listener.listen(128)
        self.port = self._listener.getsockname()[1]
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def open_now(self):
        with self._lock:
            return len(self._open)

    def _run(self):
        last_write = 0.0
        while not self._stopping.is_set():
            with self._lock:
                conns = list(self._open)
            readable, _, _ = select.select([self._listener] + conns, [], [], 0.05)
            for s in readable:
                if s is self._listener:
                    conn, _ = self._listener.accept()
                    conn.setblocking(False)
                    with self._lock:
                        self._open.add(conn)
                        self.accepted += 1
                        self.max_open = max(self.max_open, len(self._open))
                    if self.mode == "trickle":
                        self._send(conn, b"220")
                    elif self.mode == "endless":
                        self._send(conn, b"220 ")
                    elif self.mode in ("greet", "hangup"):
                        conn.setblocking(True)
                        self._send(conn, self.greeting)
                        conn.setblocking(False)
                        if self.mode == "hangup":
                            self._close(conn)
                    continue
                try:
                    data = s.recv(65536)
                except OSError:
                    data = b""
                if not data:
                    self._close(s)
            now = time.monotonic()
            if self.mode in ("trickle", "endless") and now - last_write >= self.interval:
                last_write = now
                chunk = b" " if self.mode == "trickle" else b"x" * 4096
                with self._lock:
                    conns = list(self._open)
                for c in conns:
                    self._send(c, chunk)

    def _send(self, conn, data):
        try:
            conn.send(data)
        except OSError:
            self._close(conn)

    def _close(self, conn):
        with self._lock:
            self._open.discard(conn)
        conn.close()

    def stop(self):
        self._stopping.set()
        self._thread.join(10)
        with self._lock:
            for c in self._open:
                c.close()
            self._open.clear()
        self._listener.close()
