"""The fail2ban filter shipped in packaging/fail2ban, run by Debian's
fail2ban-regex over the log of a real run (tests/tools/log_traffic.py): it
matches each AUTH failure, relay attempt and unknown-user RCPT, with the
client's address as the host to ban, and none of the lines of successful
sessions; in postern's stderr format and as syslog lines."""

import pathlib
import re
import shutil
import subprocess

import pytest

import log_traffic
import postern_harness as harness

FILTER = harness.REPO / "packaging" / "fail2ban" / "filter.d" / "postern.conf"
JAIL = harness.REPO / "packaging" / "fail2ban" / "jail.d" / "postern.conf"

pytestmark = pytest.mark.skipif(shutil.which("fail2ban-regex") is None,
                                reason="fail2ban-regex not installed (Debian package fail2ban)")


def fail2ban_regex(log_file, tmp_path):
    # fail2ban resolves the filter's `before = common.conf` next to it: give
    # it Debian's common.conf beside a copy of ours.
    filter_dir = tmp_path / "filter.d"
    filter_dir.mkdir(exist_ok=True)
    shutil.copy(FILTER, filter_dir / "postern.conf")
    shutil.copy("/etc/fail2ban/filter.d/common.conf", filter_dir / "common.conf")
    r = subprocess.run(["fail2ban-regex", "--print-all-matched", "--print-all-missed",
                        str(log_file), str(filter_dir / "postern.conf")],
                       capture_output=True, text=True, timeout=120 * harness.SLOW)
    assert r.returncode == 0, r.stdout + r.stderr
    m = re.search(r"^Lines: (\d+) lines, (\d+) ignored, (\d+) matched, (\d+) missed", r.stdout,
                  re.M)
    assert m, r.stdout
    matched_section = r.stdout.split("|- Matched line(s):", 1)
    matched = []
    if len(matched_section) == 2:
        for line in matched_section[1].splitlines()[1:]:
            if not line.startswith("|  "):
                break
            matched.append(line[3:])
    return int(m.group(3)), matched, r.stdout


def check(log_file, expected, tmp_path):
    failures = expected.auth_failures + expected.relay_denied + expected.unknown_user
    count, matched, output = fail2ban_regex(log_file, tmp_path)
    assert count == failures, output
    assert len(matched) == failures, output
    for line in matched:
        assert "result=failed" in line or " reject " in line, line
        assert "client=127.0.0.1" in line, line
    # Nothing from a successful session.
    for line in matched:
        for good in ("result=ok", " queued ", " delivered ", " connect ", " helo "):
            assert good not in line, line


def test_filter_matches_failures_only(make_server, tmp_path):
    srv = make_server()
    expected = log_traffic.produce(srv)
    assert srv.stop() == 0  # the whole log is written
    srv.expect_dead = True
    text = srv.log_text()
    # The run has the success lines the filter must leave alone.
    assert "result=ok" in text and " queued " in text and " delivered " in text
    check(srv.log_path, expected, tmp_path)

    # The same events as syslog writes them (log.target = "syslog").
    syslog = tmp_path / "mail.log"
    lines = []
    for line in text.splitlines():
        m = re.match(r"^\d{4}-\d\d-\d\dT(\d\d:\d\d:\d\d)\.\d+[+-]\d\d:\d\d (?:info|warning|error) "
                     r"(.*)$", line)
        if m:
            lines.append(f"Dec  7 {m.group(1)} mx postern[4242]: {m.group(2)}")
    syslog.write_text("\n".join(lines) + "\n")
    check(syslog, expected, tmp_path)

    # As the journal hands them over (backend = systemd): a syslog-style
    # prefix around postern's whole stderr line, its own stamp included.
    journal = tmp_path / "journal.log"
    lines = [f"Dec  7 {line[11:19]} mx postern[4242]: {line}" for line in text.splitlines()
             if re.match(r"^\d{4}-\d\d-\d\dT", line)]
    journal.write_text("\n".join(lines) + "\n")
    check(journal, expected, tmp_path)


def test_jail_example_names_the_filter():
    text = JAIL.read_text()
    assert re.search(r"^filter\s*=\s*postern$", text, re.M)
    assert re.search(r"^\[postern\]$", text, re.M)
