"""`postern probe --smarthost` probes the configuration's [delivery]
smarthost with its TLS mode, CA file and credentials, against a loopback
smarthost (a second postern with a submission listener and the user)."""

import os
import subprocess

import postern_harness as harness
from postern_harness import relay, submission

RELAY_USER = "alice@example.test"
RELAY_PASSWORD = harness.USERS[RELAY_USER]


def provider(make_server):
    return make_server(listeners=[submission("sub", "starttls-required")],
                       hostname="smarthost.remote.test",
                       local_domains=("remote.test", "example.test"))


def sending_config(make_server, prov, tmp_path, password=RELAY_PASSWORD, inline=False):
    password_file = tmp_path / "smarthost.password"
    password_file.write_text(password + "\n")
    credentials = (f'smarthost_password = "{password}"' if inline
                   else f'smarthost_password_file = "{password_file}"')
    extra = "\n".join(["", "[delivery]", f'smarthost = "127.0.0.1:{prov.port("sub")}"',
                       'smarthost_tls = "starttls"', f'smarthost_user = "{RELAY_USER}"',
                       credentials, f'smarthost_ca_file = "{prov.cert}"', ""])
    return make_server(start=False, listeners=[relay("mx", "none")], extra_toml=extra)


def probe(*args, env=None, stdin=None):
    full_env = {k: v for k, v in os.environ.items() if k != "POSTERN_CONFIG"}
    full_env.update(env or {})
    return subprocess.run([harness.POSTERN, "probe", *args], capture_output=True, text=True,
                          input=stdin, env=full_env, timeout=60 * harness.SLOW)


def test_probe_smarthost_with_the_configured_credentials(make_server, tmp_path):
    prov = provider(make_server)
    snd = sending_config(make_server, prov, tmp_path)
    r = probe("--config", str(snd.config_path), "--smarthost")
    assert r.returncode == 0, r.stdout + r.stderr
    assert f"the smarthost of --config {snd.config_path}" in r.stdout
    assert f"127.0.0.1:{prov.port('sub')}" in r.stdout and "starttls" in r.stdout
    prov.wait_for_log(f'auth session=')
    assert f'result=ok method=PLAIN user="{RELAY_USER}"' in prov.log_text() or \
        f'result=ok method=LOGIN user="{RELAY_USER}"' in prov.log_text(), prov.log_tail()
    # The same through $POSTERN_CONFIG, with an inline password.
    inline = sending_config(make_server, prov, tmp_path / "..", inline=True)
    r = probe("--smarthost", env={"POSTERN_CONFIG": str(inline.config_path)})
    assert r.returncode == 0, r.stdout + r.stderr
    assert RELAY_PASSWORD not in r.stdout + r.stderr


def test_probe_smarthost_reports_wrong_configured_credentials(make_server, tmp_path):
    prov = provider(make_server)
    snd = sending_config(make_server, prov, tmp_path, password="not-the-password")
    r = probe("--config", str(snd.config_path), "--smarthost")
    assert r.returncode == 7, r.stdout + r.stderr  # AUTH (docs/troubleshooting.md)
    assert "535" in r.stdout
    assert "not-the-password" not in r.stdout + r.stderr


def test_probe_smarthost_usage(make_server, tmp_path):
    srv = make_server(start=False)  # no smarthost configured
    r = probe("--config", str(srv.config_path), "--smarthost")
    assert r.returncode == 2 and "sets no [delivery] smarthost" in r.stderr
    r = probe("--config", str(srv.config_path), "127.0.0.1:25")
    assert r.returncode == 2 and "--config is used with --smarthost only" in r.stderr
