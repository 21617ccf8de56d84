"""Authenticated submission load: `clients` processes, each sending its
share of `messages`, every message on a new connection with EHLO, STARTTLS,
EHLO, AUTH PLAIN, MAIL, RCPT, DATA (4 KiB), QUIT, as PHP mailers and cron
jobs do. Prints one JSON line: {"seconds": s, "sent": n, "errors": [...]}.
Processes, not threads: the client's TLS and Python must not be what is
measured on a small machine (it still costs CPU there; see README)."""

import argparse
import json
import multiprocessing
import smtplib
import ssl
import time


def worker(args, count, out):
    ctx = ssl.create_default_context(cafile=args.cafile)
    ctx.check_hostname = False
    body = ("From: {0}\r\nTo: {1}\r\nSubject: bench\r\n\r\n".format(args.sender, args.rcpt) +
            ("x" * 76 + "\r\n") * 52)
    sent, errors = 0, []
    for _ in range(count):
        try:
            with smtplib.SMTP(args.host, args.port, timeout=args.timeout) as s:
                s.starttls(context=ctx)
                s.login(args.user, args.password)
                s.sendmail(args.sender, [args.rcpt], body)
            sent += 1
        except (OSError, smtplib.SMTPException) as e:
            errors.append(f"{type(e).__name__}: {e}"[:200])
    out.put((sent, errors[:5]))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--clients", type=int, default=10)
    ap.add_argument("--messages", type=int, required=True)
    ap.add_argument("--user", required=True)
    ap.add_argument("--password", required=True)
    ap.add_argument("--sender", required=True)
    ap.add_argument("--rcpt", required=True)
    ap.add_argument("--cafile", required=True)
    ap.add_argument("--timeout", type=float, default=60)
    args = ap.parse_args()
    shares = [args.messages // args.clients + (1 if i < args.messages % args.clients else 0)
              for i in range(args.clients)]
    out = multiprocessing.Queue()
    procs = [multiprocessing.Process(target=worker, args=(args, n, out)) for n in shares]
    t0 = time.monotonic()
    for p in procs:
        p.start()
    results = [out.get(timeout=args.timeout * max(1, max(shares))) for _ in procs]
    for p in procs:
        p.join(args.timeout)
    dt = time.monotonic() - t0
    sent = sum(r[0] for r in results)
    errors = [e for r in results for e in r[1]]
    print(json.dumps({"seconds": dt, "sent": sent, "errors": errors[:5]}), flush=True)


if __name__ == "__main__":
    main()
