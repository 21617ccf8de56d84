"""The operator's command line, the same for every subcommand
(docs/command-line.md): where the configuration is found ($POSTERN_CONFIG,
/etc/postern/postern.toml), exit status 2 and one sentence for every usage
mistake, --version, `mailq` as a link name, `postern config`, a saved
`--print-default` that passes `check`, an empty --password-stdin refused
before anything is tried, and log lines with their UTC offset, the client
on every session line and the queue id in the Received header."""

import os
import pathlib
import re
import shutil
import subprocess

import pytest

import postern_harness as harness
from smtp_clients import message, smtp

POSTERN = harness.POSTERN
ALICE = "alice@example.test"


def run(*args, env=None, cwd=None, stdin=None, exe=POSTERN, timeout=60):
    full_env = {k: v for k, v in os.environ.items() if k != "POSTERN_CONFIG"}
    full_env.update(env or {})
    return subprocess.run([exe, *args], input=stdin, capture_output=True, text=True,
                          env=full_env, cwd=cwd, timeout=timeout * harness.SLOW)


# -- where the configuration is found ------------------------------------------

def test_every_subcommand_finds_the_configuration_through_POSTERN_CONFIG(make_server, tmp_path):
    srv = make_server(start=False)
    env = {"POSTERN_CONFIG": str(srv.config_path)}
    # check: names where the file came from.
    r = run("check", env=env, cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    assert f"$POSTERN_CONFIG ({srv.config_path})" in r.stdout
    # serve: the listeners of that file answer, and it says which file.
    with open(srv.log_path, "ab") as log:
        proc = subprocess.Popen([POSTERN, "serve"], cwd=tmp_path, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True,
                                env={**os.environ, **env})
    srv.proc = proc  # the fixture stops it
    srv.starts = 1
    deadline_ok = False
    import time
    deadline = time.monotonic() + 10 * harness.SLOW
    while time.monotonic() < deadline:
        if all(harness._is_listening(l.host, l.port, harness._listening_sockets())
               for l in srv.listeners):
            deadline_ok = True
            break
        time.sleep(0.05)
    assert deadline_ok, srv.log_tail()
    assert f"configuration: $POSTERN_CONFIG ({srv.config_path})" in srv.log_text()
    # sendmail: queues with that server; queue list sees the same spool.
    r = run("sendmail", ALICE, env=env, cwd=tmp_path,
            stdin=f"From: root@example.test\nTo: {ALICE}\nSubject: via env\n\nhello\n")
    assert r.returncode == 0, r.stderr
    delivered = srv.wait_for_maildir(ALICE, 1)[0].decode()
    # Its Received header names the queue id of its log lines.
    queue_id = re.search(r" queued id=(\S+) origin=sendmail ", srv.log_text()).group(1)
    assert f"(postern sendmail) id {queue_id};" in delivered, delivered
    r = run("queue", "list", env=env, cwd=tmp_path)
    assert r.returncode == 0 and "The queue is empty." in r.stdout, r.stdout + r.stderr
    # user: the users file of that configuration.
    r = run("user", "list", env=env, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert sorted(r.stdout.split()) == sorted(harness.USERS)
    assert str(srv.users_file) in r.stderr and "$POSTERN_CONFIG" in r.stderr
    # config: the same file's settings.
    r = run("config", env=env, cwd=tmp_path)
    assert r.returncode == 0 and f'data_dir = "{srv.data_dir}"' in r.stdout, r.stdout
    # --config still wins over the environment.
    other = tmp_path / "other.toml"
    other.write_text(srv.config_text().replace(str(srv.data_dir), str(tmp_path / "otherdata")))
    r = run("config", "--config", str(other), env=env, cwd=tmp_path)
    assert f'data_dir = "{tmp_path / "otherdata"}"' in r.stdout, r.stdout


UNSHARE = shutil.which("unshare")


@pytest.mark.skipif(os.geteuid() != 0 or UNSHARE is None,
                    reason="needs root and unshare for a private /etc/postern")
def test_etc_postern_is_found_by_every_subcommand(make_server, tmp_path):
    """/etc/postern/postern.toml, in a private mount namespace so the real
    /etc/postern (and other tests) never see the file."""
    srv = make_server(start=False)
    etc = tmp_path / "etc-postern"
    etc.mkdir()
    shutil.copy(srv.config_path, etc / "postern.toml")
    created = not pathlib.Path("/etc/postern").exists()
    if created:
        os.makedirs("/etc/postern")
    try:
        script = (f"mount --bind {etc} /etc/postern && "
                  f"{POSTERN} check && {POSTERN} config -n && "
                  f"{POSTERN} user list && {POSTERN} queue list")
        r = subprocess.run([UNSHARE, "-m", "sh", "-c", script], capture_output=True, text=True,
                           cwd=tmp_path, timeout=60 * harness.SLOW,
                           env={k: v for k, v in os.environ.items() if k != "POSTERN_CONFIG"})
    finally:
        if created:
            os.rmdir("/etc/postern")
    if r.returncode != 0 and "mount" in r.stderr and "permission" in r.stderr.lower():
        pytest.skip("mount namespaces are not allowed here: " + r.stderr)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "checking /etc/postern/postern.toml" in r.stdout
    assert f'data_dir = "{srv.data_dir}"' in r.stdout
    assert "users file" in r.stderr and "/etc/postern/postern.toml" in r.stderr
    assert "The queue is empty" in r.stdout


def test_queue_list_without_configuration_or_spool_says_so(tmp_path):
    if pathlib.Path("/etc/postern/postern.toml").exists():
        pytest.skip("/etc/postern/postern.toml exists on this machine")
    r = run("queue", "list", cwd=tmp_path)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "no configuration found" in r.stderr and "no spool at" in r.stderr
    assert "empty" not in r.stdout
    r = run(cwd=tmp_path, exe=str(link(tmp_path, "mailq")))
    assert r.returncode == 1 and "no configuration found" in r.stderr


# -- usage errors ----------------------------------------------------------------

# (arguments, words the sentence must contain). Each exits 2 (sendmail: 64,
# sysexits' EX_USAGE) with one sentence naming the mistake, never CLI11's
# own words.
USAGE_MISTAKES = [
    (["frob"], "postern: unknown subcommand frob"),
    ([], "postern: a subcommand is missing"),
    (["--frob"], "postern: unknown option --frob"),
    (["serve", "--config"], "postern serve: the option --config needs a value"),
    (["serve", "extra"], "postern serve: unexpected argument extra"),
    (["check", "--frob"], "postern check: unknown option --frob"),
    (["config", "extra"], "postern config: unexpected argument extra"),
    (["user"], "postern user: a subcommand is missing"),
    (["user", "frob"], "postern user: unknown subcommand frob"),
    (["user", "add"], "postern user add: the address argument is missing"),
    (["user", "list", "--frob"], "postern user list: unknown option --frob"),
    (["queue"], "postern queue: a subcommand is missing"),
    (["queue", "frob"], "postern queue: unknown subcommand frob"),
    (["queue", "show"], "postern queue show: the id argument is missing"),
    (["queue", "show", "A", "B"], "postern queue show: too many id arguments"),
    (["queue", "list", "--frob"], "postern queue list: unknown option --frob"),
    (["queue", "delete"], "postern queue delete: name the messages"),
    (["queue", "delete", "--all", "--sender", "a@b"], "cannot be combined"),
    (["probe"], "postern probe: name what to probe"),
    (["probe", "--tls", "frob", "h"], "postern probe: invalid value for --tls"),
    (["probe", "-4", "-6", "h"], "postern probe: --ipv4 and --ipv6 cannot be used together"),
    (["probe", "h", "--timeout"], "postern probe: the option --timeout needs a value"),
    (["send", "--frob"], "postern send: unknown option --frob"),
    (["log"], "postern log: a subcommand is missing"),
    (["log", "frob"], "postern log: unknown subcommand frob"),
    (["log", "summary", "a", "b"], "postern log summary: unexpected argument b"),
]


@pytest.mark.parametrize("args,sentence", USAGE_MISTAKES, ids=lambda v: " ".join(v)
                         if isinstance(v, list) else None)
def test_usage_mistake_exits_2_with_a_sentence(args, sentence, tmp_path):
    r = run(*args, cwd=tmp_path)
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    assert sentence in r.stderr, r.stderr
    for cli11 in ("A subcommand is required", "The following argument", "Run with --help",
                  "is required"):
        assert cli11 not in r.stderr, r.stderr


def test_sendmail_usage_mistake_is_ex_usage(tmp_path):
    r = run("sendmail", "-X", cwd=tmp_path)
    assert r.returncode == 64, r.stderr
    r = run(cwd=tmp_path, exe=str(link(tmp_path, "sendmail")), stdin="")
    assert r.returncode in (64, 75, 78), r.stderr  # no recipients / no server; never 10x


def test_version_and_help():
    r = run("--version")
    assert r.returncode == 0 and re.fullmatch(r"postern \d+\.\d+\.\d+\n", r.stdout), r.stdout
    r = run("queue", "--help")
    assert r.returncode == 0 and "delete" in r.stdout


# -- link names -----------------------------------------------------------------

def link(tmp_path, name):
    path = tmp_path / "bin" / name
    path.parent.mkdir(exist_ok=True)
    if not path.exists():
        path.symlink_to(POSTERN)
    return path


def test_mailq_as_a_link_name(make_server, tmp_path):
    srv = make_server()
    folder = srv.data_dir / "mail" / "example.test"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "alice").write_text("blocks delivery\n")
    with smtp(srv.port("relay_plain")) as client:
        client.sendmail("x@elsewhere.test", [ALICE], message("x@elsewhere.test", ALICE))
    srv.wait_for_log(" deferred id=")
    mailq = link(tmp_path, "mailq")
    r = run("--config", str(srv.config_path), exe=str(mailq))
    assert r.returncode == 0, r.stderr
    assert "<x@elsewhere.test>" in r.stdout and ALICE in r.stdout, r.stdout
    r = run("--config", str(srv.config_path), "--json", exe=str(mailq))
    assert r.returncode == 0 and '"sender":"x@elsewhere.test"' in r.stdout


# -- postern config ------------------------------------------------------------------

def test_config_prints_the_effective_settings_without_secrets(make_server, tmp_path):
    srv = make_server(start=False, extra_toml="\n".join([
        "", "[delivery]", 'smarthost = "smtp.provider.test:587"',
        'smarthost_user = "apikey"', 'smarthost_password = "pa55-secret-value"', ""]))
    r = run("config", "--config", str(srv.config_path))
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert f"# found through --config {srv.config_path}" in out
    assert 'hostname = "mx.example.test"' in out
    assert 'smarthost = "smtp.provider.test:587"' in out
    assert "max_recipients = 100  # default" in out
    assert "pa55-secret-value" not in out and "(set; not shown)" in out
    n = run("config", "-n", "--config", str(srv.config_path)).stdout
    assert "# default" not in n and "[limits]" not in n and "smarthost = " in n
    # What it prints is a configuration postern loads.
    saved = tmp_path / "effective.toml"
    saved.write_text(out)
    assert run("check", "--config", str(saved), "-q").returncode == 0, \
        run("check", "--config", str(saved)).stdout


def _settings(printed):
    """A printout without the lines that say where it came from and which
    values were defaults: what two printouts of one configuration share."""
    out = []
    for line in printed.splitlines():
        if line.startswith(("# found through", "# postern effective", "# keys marked")):
            continue
        out.append(line.removesuffix("  # default"))
    return "\n".join(out)


def test_config_prints_every_section_and_loads_back_to_the_same(make_server, tmp_path):
    """Issue 18: every section, [[dkim]] and [addresses] included; saved, the
    printout passes `postern check` and prints the same settings again."""
    key = tmp_path / "example.test.s1.pem"
    keygen = run("dkim", "keygen", "example.test", "--selector", "s1", "--algorithm",
                 "ed25519", "--key", str(key))
    assert keygen.returncode == 0, keygen.stderr
    aliases = tmp_path / "aliases"
    aliases.write_text("postmaster: alice@example.test\n")
    srv = make_server(start=False, auth={"backend": "file"},
                      delivery={"retry_max": "30m", "local": "maildir"},
                      extra_toml="\n".join([
                          "", "[metrics]", 'address = "127.0.0.1:9325"', "",
                          "[addresses]", f'aliases_file = "{aliases}"',
                          'recipient_delimiter = "+-"', "",
                          "[[dkim]]", 'domain = "example.test"', 'selector = "s1"',
                          f'key = "{key}"', ""]))
    printed = run("config", "--config", str(srv.config_path))
    assert printed.returncode == 0, printed.stderr
    out = printed.stdout
    for expected in ['[[dkim]]\ndomain   = "example.test"\nselector = "s1"',
                     f'aliases_file = "{aliases}"', 'recipient_delimiter = "+-"',
                     'backend = "file"', 'local = "maildir"', 'retry_max = "1800s"',
                     'address = "127.0.0.1:9325"', "unsafe_ack_before_fsync = false"]:
        assert expected in out, out
    assert "PRIVATE KEY" not in out
    saved = tmp_path / "effective.toml"
    saved.write_text(out)
    check = run("check", "--config", str(saved))
    assert check.returncode == 0, check.stdout + check.stderr
    again = run("config", "--config", str(saved))
    assert again.returncode == 0, again.stderr
    assert _settings(again.stdout) == _settings(out)


# -- a starting configuration that works --------------------------------------------

def test_saved_print_default_passes_check_and_starts(tmp_path, make_server):
    workdir = tmp_path / "work"
    workdir.mkdir()
    r = run("check", "--print-default", cwd=workdir)
    assert r.returncode == 0
    saved = tmp_path / "etc" / "postern.toml"
    saved.parent.mkdir()
    saved.write_text(r.stdout)
    assert f'data_dir      = "{workdir}/postern-data"' in r.stdout, r.stdout
    # Checked from elsewhere: absolute paths, certificate generated on start.
    r = run("check", "--config", str(saved), cwd=tmp_path)
    assert r.returncode == 0, r.stdout
    assert "will generate a self-signed pair on the first start" in r.stdout
    assert "certbot" in r.stdout  # the fix names how to get a real one
    # It starts as it is (on free ports here), creating the certificate.
    text = r.stdout and saved.read_text()
    for port in (2025, 2587, 2465, 2525):
        text = text.replace(f"127.0.0.1:{port}", f"127.0.0.1:{harness.free_port()}")
    saved.write_text(text)
    ports = [int(p) for p in re.findall(r'address = "127\.0\.0\.1:(\d+)"', text)]
    log = tmp_path / "serve.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([POSTERN, "serve", "--config", str(saved)], cwd=tmp_path,
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        import time
        deadline = time.monotonic() + 15 * harness.SLOW
        while not all(("127.0.0.1", p) in harness._listening_sockets() for p in ports):
            assert proc.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.05)
    finally:
        proc.terminate()
        proc.wait(10)
    assert (workdir / "postern-data" / "tls" / "cert.pem").exists(), log.read_text()
    assert "created a self-signed certificate" in log.read_text()
    r = run("check", "--config", str(saved), cwd=tmp_path)
    assert r.returncode == 0 and "will generate" not in r.stdout, r.stdout


# -- passwords ----------------------------------------------------------------------

@pytest.mark.parametrize("command", [["probe", "127.0.0.1:{port}"],
                                     ["send", "--server", "127.0.0.1:{port}",
                                      "--from", "a@example.test", "--to", "b@example.test"]])
def test_empty_password_stdin_is_refused_before_any_attempt(command, make_server):
    srv = make_server()
    port = srv.port("submission_plain")
    args = [a.format(port=port) for a in command] + ["--user", ALICE, "--password-stdin",
                                                     "--tls", "none"]
    before = srv.log_text().count(" connect session=")
    r = run(*args, stdin="\n")
    assert r.returncode == 2, r.stdout + r.stderr
    assert "standard input holds no password" in r.stderr and "nothing was tried" in r.stderr
    assert srv.log_text().count(" connect session=") == before
    r = run("user", "add", "new@example.test", "--users-file", str(srv.users_file),
            "--password-stdin", stdin="")
    assert r.returncode == 2 and "empty password" in r.stderr


# -- logs ---------------------------------------------------------------------------

def test_log_lines_have_utc_offsets_clients_and_the_received_queue_id(make_server):
    srv = make_server()
    with smtp(srv.port("relay_plain")) as client:
        client.ehlo()
        client.mail("x@elsewhere.test")
        client.rcpt(ALICE)
        code, reply = client.data(message("x@elsewhere.test", ALICE).encode())
    assert code == 250, reply
    queue_id = re.search(rb"queued as (\S+)", reply).group(1).decode()
    delivered = srv.wait_for_maildir(ALICE, 1)[0].decode()
    received = re.split(r"\r?\n\r?\n", delivered)[0]
    assert re.search(rf"with ESMTP id {queue_id}\r?\n", received), received
    srv.wait_for_log(f"delivered id={queue_id}")
    # A TLS handshake that fails: plaintext to the implicit-TLS port.
    with smtp(srv.port("relay_plain")):
        pass
    import socket
    with socket.create_connection(("127.0.0.1", srv.port("smtps")), timeout=10) as s:
        s.sendall(b"EHLO plaintext.example\r\n")
        try:
            s.recv(100)
        except OSError:
            pass
    srv.wait_for_log("tls session=")
    lines = [l for l in srv.log_text().splitlines() if re.match(r"^\d{4}-\d\d-\d\dT", l)]
    assert lines
    for line in lines:
        assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d ", line), line
        if " session=" in line:
            assert re.search(r" client=[0-9a-f.:]+", line), line
    assert any(re.search(rf" queued id={queue_id} session=\S+ client=127\.0\.0\.1 ", l)
               for l in lines)
    assert any(" tls session=" in l and "result=failed" in l and "client=127.0.0.1" in l
               for l in lines), "\n".join(lines)
