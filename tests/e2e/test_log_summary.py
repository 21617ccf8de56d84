"""`postern log summary` over the log of a real run: the counts it prints
equal what the test sent (tests/tools/log_traffic.py), from a file and from
standard input, in postern's stderr format and as syslog lines."""

import re
import subprocess

import log_traffic
import postern_harness as harness

POSTERN = harness.POSTERN


def summary(*args, stdin=None):
    r = subprocess.run([POSTERN, "log", "summary", *args], input=stdin, capture_output=True,
                       text=True, timeout=60 * harness.SLOW)
    assert r.returncode == 0, r.stderr
    return r.stdout


def total(report, label):
    m = re.search(rf"^\s*(\S+)\s+{re.escape(label)}\b", report, re.M)
    assert m, f"no {label!r} in\n{report}"
    return int(m.group(1))


def section(report, title):
    start = report.index(title + "\n")
    end = report.find("\n\n", start)
    rows = report[start:end if end >= 0 else None].splitlines()[2:]
    return rows


def counts_of(rows):
    """{name: count} from rows "  count  [size]  name"."""
    out = {}
    for row in rows:
        fields = row.split()
        if fields and fields[0].isdigit():
            out[fields[-1]] = int(fields[0])
    return out


def check(report, e):
    assert total(report, "received") == e.received, report
    assert total(report, "delivered") == e.delivered, report
    assert total(report, "deferred") == e.deferred, report
    assert total(report, "bounced") == 0, report
    assert total(report, "rejected") == e.rejected, report
    assert total(report, "AUTH failures") == e.auth_failures, report
    assert counts_of(section(report, "Senders by message count")) == e.senders, report
    assert counts_of(section(report, "Recipients by message count")) == e.recipients, report
    assert counts_of(section(report, "AUTH failures by client")) == {
        "127.0.0.1": e.auth_failures}, report
    reject_rows = section(report, "Message reject detail")
    assert sum(int(r.split()[0]) for r in reject_rows) == e.rejected, report
    assert any("Relay access denied" in r for r in reject_rows), report
    deferral_rows = section(report, "Message deferral detail")
    assert len(deferral_rows) == 1 and deferral_rows[0].split()[0] == "1", report
    # Every message was received in some hour of the day.
    per_hour = section(report, "Per-hour traffic")[1:]
    assert sum(int(r.split()[1]) for r in per_hour) == e.received, report


def test_summary_counts_equal_what_was_sent(make_server):
    srv = make_server()
    expected = log_traffic.produce(srv)
    assert srv.stop() == 0  # the whole log is written
    srv.expect_dead = True
    report = summary(str(srv.log_path))
    check(report, expected)
    # The same from standard input.
    assert summary(stdin=srv.log_text()) == report
    # And from a syslog file: the same events behind a syslog prefix.
    syslog = []
    for line in srv.log_text().splitlines():
        m = re.match(r"^\d{4}-\d\d-\d\dT(\d\d:\d\d:\d\d)\.\d+[+-]\d\d:\d\d (?:info|warning|error) "
                     r"(.*)$", line)
        if m:
            syslog.append(f"Dec  7 {m.group(1)} mx postern[4242]: {m.group(2)}")
        else:
            syslog.append(f"Dec  7 00:00:00 mx kernel: {line}")
    check(summary(stdin="\n".join(syslog) + "\n"), expected)


def test_unreadable_file_and_usage(tmp_path):
    r = subprocess.run([POSTERN, "log", "summary", str(tmp_path / "missing.log")],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 1 and "cannot read" in r.stderr
    r = subprocess.run([POSTERN, "log", "summary", "--top", "0"], capture_output=True, text=True,
                       timeout=30)
    assert r.returncode == 2 and "--top" in r.stderr
