"""postern against Postfix on loopback, driven by Postfix's smtp-source.
Started by bench/run.sh (which installs, builds and raises ulimit -n); see
bench/README.md. Everything started here is stopped in the `finally`."""

import argparse
import datetime
import pathlib
import platform
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

import measure  # noqa: E402
import report  # noqa: E402
from servers import BenchError, Registry  # noqa: E402


def parse_args(argv):
    ap = argparse.ArgumentParser(prog="bench/run.sh",
                                 description="postern against Postfix on loopback")
    # Given by run.sh: the Release binary it built, and the repository.
    ap.add_argument("--postern", required=True, help=argparse.SUPPRESS)
    ap.add_argument("--root", type=pathlib.Path, required=True, help=argparse.SUPPRESS)
    ap.add_argument("--quick", action="store_true",
                    help="small counts, 1 repetition: checks that everything runs")
    ap.add_argument("--reps", type=int, help="repetitions per figure (default 3)")
    ap.add_argument("--only", help="comma-separated: " + ",".join(measure.ALL))
    ap.add_argument("--messages", type=int, help="messages per run (default 2000)")
    ap.add_argument("--results", type=pathlib.Path, help="markdown results file")
    ap.add_argument("--postfix-process-limit", type=int, default=256,
                    help="Postfix's smtpd and default_process_limit (default 256, so that "
                         "200 clients each get an smtpd; Postfix ships with 100, which is "
                         "measured too at c=200)")
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    ap.add_argument("--idle-script", type=pathlib.Path,
                    help="the idle-session tool (default bench/idle_sessions.py)")
    ap.add_argument("--auth-client", type=pathlib.Path,
                    help="load generator of the auth and redis rows (default: build-bench/"
                         "auth_client, built by run.sh from bench/lib/auth_client.cpp; "
                         "bench/lib/auth_client.py is the older Python one)")
    a = ap.parse_args(argv)
    quick = a.quick
    a.reps = a.reps or (1 if quick else 3)
    if a.reps < 1:
        ap.error("--reps must be at least 1")
    a.messages = a.messages or (200 if quick else 2000)
    a.messages_c1 = max(50, a.messages // 4)   # concurrency 1 is slow on both sides
    a.size = 4096
    a.concurrency = [1, 10, 50, 200]
    a.relay_concurrency = 10
    a.ceiling_concurrency = [10, 50]
    a.ceiling_factor = 1 if quick else 4        # smtp-sink is fast: longer runs
    a.tls_seconds = 3 if quick else 10
    a.tls_clients = 2                           # one s_time per core
    a.idle_plain = 1000 if quick else 10000
    a.idle_tls = 100 if quick else 1000
    a.timeout = 600                             # any single run or wait
    names = a.only.split(",") if a.only else list(measure.ALL)
    for n in names:
        if n not in measure.ALL:
            ap.error(f"unknown measurement {n!r}; known: {', '.join(measure.ALL)}")
    a.names = names
    a.auth_client = a.auth_client or a.root / "build-bench" / "auth_client"
    a.idle_script = a.idle_script or a.root / "bench" / "idle_sessions.py"
    a.results = a.results or a.root / "bench" / "results" / "latest.md"
    return a


def run(cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=30).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "?"


def machine():
    cpu = "?"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        debian = open("/etc/debian_version").read().strip()
    except OSError:
        debian = "?"
    return [
        f"- date: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC",
        f"- machine: {run(['nproc'])} cores, {cpu}; kernel {platform.release()}; "
        f"Debian {debian}",
        f"- Postfix {run(['postconf', '-d', '-h', 'mail_version'])}, "
        f"{run(['openssl', 'version'])}",
        f"- postern {run(['git', '-C', str(pathlib.Path(__file__).parents[2]), 'rev-parse', '--short', 'HEAD'])}"
        " (Release build)",
    ]


def make_credentials(a, work):
    cert, key = work / "cert.pem", work / "key.pem"
    # EC P-256, like the certificate postern generates for itself.
    r = subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:prime256v1", "-nodes", "-days", "30",
                        "-subj", "/CN=postern.bench.test", "-addext",
                        "subjectAltName=DNS:postern.bench.test,IP:127.0.0.1",
                        "-keyout", str(key), "-out", str(cert)],
                       capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        raise BenchError(f"openssl req failed: {r.stderr}")
    users = work / "users"
    r = subprocess.run([a.postern, "user", "add", measure.LOCAL_RCPT, "--users-file",
                        str(users), "--password-stdin"], input="bench-password\n",
                       capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        raise BenchError(f"postern user add failed: {r.stdout}{r.stderr}")
    return cert, key, users


def on_sigterm(_signo, _frame):
    # SIGTERM (e.g. from run.sh's trap) unwinds through the finally in main.
    raise KeyboardInterrupt()


def loadavg():
    try:
        return " ".join(open("/proc/loadavg").read().split()[:3])
    except OSError:
        return "?"


def main(argv):
    a = parse_args(argv)
    load_before = loadavg()
    signal.signal(signal.SIGTERM, on_sigterm)
    work = pathlib.Path(tempfile.mkdtemp(prefix="postern-bench-"))
    work.chmod(0o755)  # Postfix's unprivileged daemons walk into it
    print(f"work directory: {work}", flush=True)
    (a.root / "bench" / ".last-work").write_text(f"{work}\n")
    registry = Registry(work)
    ctx = None
    rows = []
    t0 = time.monotonic()
    status = 0
    try:
        cert, key, users = make_credentials(a, work)
        for name in a.names:
            print(f"== {name}", flush=True)
            ctx = measure.Context(a, registry, work, cert, key, users)
            try:
                rows += measure.ALL[name](ctx)
            finally:
                ctx.stop_all()
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        status = 130
    except BenchError as e:
        print(f"bench: {e}", file=sys.stderr)
        status = 1
    finally:
        if ctx:
            ctx.stop_all()
    elapsed = time.monotonic() - t0
    if rows:
        header = ["# postern vs Postfix — bench/run.sh", ""] + machine() + [
            f"- command: bench/run.sh {' '.join(argv[4:])}".rstrip(),
            f"- Postfix process limit (smtpd, default_process_limit): "
            f"{a.postfix_process_limit}",
            f"- wall time: {elapsed / 60:.1f} min; load average (1, 5, 15 min) "
            f"{load_before} before, {loadavg()} after",
        ] + (["- **interrupted or failed: partial results**"] if status else [])
        print()
        print(report.text_table(rows))
        for r in rows:
            for e in report.unique_errors(r):
                print(f"  error in {r.name}: {e}")
        a.results.parent.mkdir(parents=True, exist_ok=True)
        a.results.write_text(report.markdown(rows, header, a.reps))
        print(f"\nresults: {a.results}  (wall time {elapsed / 60:.1f} min)")
        if any(r.errors for r in rows) and status == 0:
            status = 1
    if not a.keep:
        subprocess.run(["rm", "-rf", str(work)], timeout=120)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
