"""End-to-end tests of `postern check` against the real binary.

Every folder in configs/ is one broken (or good) configuration, in the
chasquid style:
  postern.toml   the configuration
  expected.txt   substrings the output must contain, one per line
  status         the exit status `postern check` must return
  certs          optional: which certificate to create next to the config
                 (good, self-signed, expired, mismatch, garbage); made at run
                 time with the openssl CLI, so no key is ever committed
  users, afile   plain files the configuration refers to
The folder is copied to a temporary directory first, because relative paths
in a configuration resolve against its own directory.
"""

import os
import pathlib
import shutil
import subprocess
import tomllib

import pytest

HERE = pathlib.Path(__file__).resolve().parent
CASES = sorted(p.name for p in (HERE / "configs").iterdir() if p.is_dir())
POSTERN = os.environ.get("POSTERN_BIN", str(HERE.parent.parent / "build" / "postern"))
HOSTNAME = "mail.example.com"

CA_CONFIG = """\
[ca]
default_ca = ca_default
[ca_default]
dir = .
database = index.txt
serial = serial
new_certs_dir = .
default_md = sha256
policy = policy_any
copy_extensions = copy
unique_subject = no
[policy_any]
commonName = supplied
"""


def openssl(cwd, *args):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def ec_key_args():
    return ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]


def make_ca_signed(workdir, cert, key, startdate=None, enddate=None):
    """A leaf for HOSTNAME signed by a throw-away CA; fullchain order."""
    ca = workdir / "ca"
    ca.mkdir()
    (ca / "index.txt").write_text("")
    (ca / "serial").write_text("1000\n")
    (ca / "ca.cnf").write_text(CA_CONFIG)
    openssl(ca, "req", "-x509", *ec_key_args(), "-keyout", "ca.key", "-out", "ca.pem",
            "-subj", "/CN=postern test CA", "-days", "30")
    openssl(ca, "req", "-new", *ec_key_args(), "-keyout", str(key), "-out", "leaf.csr",
            "-subj", f"/CN={HOSTNAME}", "-addext", f"subjectAltName=DNS:{HOSTNAME}")
    dates = ["-days", "90"]
    if startdate:
        dates = ["-startdate", startdate, "-enddate", enddate]
    openssl(ca, "ca", "-batch", "-config", "ca.cnf", "-cert", "ca.pem", "-keyfile", "ca.key",
            "-in", "leaf.csr", "-out", "leaf.pem", "-notext", *dates)
    cert.write_text((ca / "leaf.pem").read_text() + (ca / "ca.pem").read_text())


def make_self_signed(workdir, cert, key):
    openssl(workdir, "req", "-x509", *ec_key_args(), "-keyout", str(key), "-out", str(cert),
            "-subj", f"/CN={HOSTNAME}", "-addext", f"subjectAltName=DNS:{HOSTNAME}",
            "-days", "90")


def make_certs(kind, workdir):
    cert, key = workdir / "cert.pem", workdir / "key.pem"
    scratch = workdir / "scratch"
    scratch.mkdir()
    if kind == "good":
        make_ca_signed(scratch, cert, key)
    elif kind == "self-signed":
        make_self_signed(scratch, cert, key)
    elif kind == "expired":
        make_ca_signed(scratch, cert, key, "20200101000000Z", "20200201000000Z")
    elif kind == "mismatch":
        make_ca_signed(scratch, cert, scratch / "right.key")
        make_self_signed(scratch, scratch / "other.pem", key)
    elif kind == "garbage":
        cert.write_text("-----BEGIN CERTIFICATE-----\nthis is not a certificate\n"
                        "-----END CERTIFICATE-----\n")
        make_self_signed(scratch, scratch / "unused.pem", key)
    else:
        raise ValueError(f"unknown certs kind {kind!r}")
    shutil.rmtree(scratch)


def run_check(*args, cwd=None):
    return subprocess.run([POSTERN, "check", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=60)


def prepare(case, tmp_path):
    src = HERE / "configs" / case
    workdir = tmp_path / case
    shutil.copytree(src, workdir)
    certs = workdir / "certs"
    if certs.exists():
        make_certs(certs.read_text().strip(), workdir)
    return src, workdir


@pytest.mark.parametrize("case", CASES)
def test_config_case(case, tmp_path):
    src, workdir = prepare(case, tmp_path)
    result = run_check("--config", str(workdir / "postern.toml"))
    output = result.stdout + result.stderr
    expected_status = int((src / "status").read_text())
    context = f"\n--- postern check output ({case}) ---\n{output}"
    assert result.returncode == expected_status, context
    for line in (src / "expected.txt").read_text().splitlines():
        if line.strip():
            assert line in output, f"missing: {line!r}{context}"
    # Every problem comes with a fix.
    problems = [l for l in output.splitlines() if ": error: " in l or ": warning: " in l]
    fixes = [l for l in output.splitlines() if l.startswith("    fix: ")]
    assert len(fixes) == len(problems), context


def test_quiet_good_config_prints_nothing(tmp_path):
    _, workdir = prepare("good", tmp_path)
    result = run_check("--quiet", "--config", str(workdir / "postern.toml"))
    assert result.returncode == 0
    assert result.stdout == ""


def test_quiet_still_prints_errors(tmp_path):
    _, workdir = prepare("open_relay", tmp_path)
    result = run_check("--quiet", "--config", str(workdir / "postern.toml"))
    assert result.returncode == 1
    assert "open relay" in result.stdout
    assert "postern check:" not in result.stdout


def test_unreadable_file_exits_2(tmp_path):
    result = run_check("--config", str(tmp_path / "does-not-exist.toml"))
    assert result.returncode == 2, result.stdout
    assert "cannot read the configuration file" in result.stdout


def test_embedded_default_first_start(tmp_path):
    result = run_check(cwd=tmp_path)
    assert result.returncode == 0, result.stdout
    assert "embedded default" in result.stdout
    for address in ("127.0.0.1:2025", "127.0.0.1:2587", "127.0.0.1:2465", "127.0.0.1:2525"):
        assert address in result.stdout
    assert "configuration OK (4 listeners)" in result.stdout
    # check looks, it does not create: the data dir appears on `serve`.
    assert not (tmp_path / "postern-data").exists()


def test_print_default_is_a_working_configuration(tmp_path):
    result = run_check("--print-default")
    assert result.returncode == 0
    parsed = tomllib.loads(result.stdout)
    assert parsed["hostname"] == "localhost"
    assert [l["address"] for l in parsed["listener"]] == [
        "127.0.0.1:2025", "127.0.0.1:2587", "127.0.0.1:2465", "127.0.0.1:2525"]
    conf = tmp_path / "postern.toml"
    conf.write_text(result.stdout)
    # Saved as a file it passes as it is (issue 18): the certificate under
    # data_dir is generated on the first start, and check says so.
    checked = run_check("--config", str(conf))
    assert checked.returncode == 0, checked.stdout
    assert "will generate a self-signed pair on the first start" in checked.stdout
    # A certificate elsewhere is the operator's: missing, it is an error.
    elsewhere = tmp_path / "elsewhere.toml"
    elsewhere.write_text(result.stdout.replace(f'cert = "{parsed["tls"]["cert"]}"',
                                               f'cert = "{tmp_path}/nowhere/cert.pem"'))
    checked = run_check("--config", str(elsewhere))
    assert checked.returncode == 1, checked.stdout
    assert "cannot be used: no such file" in checked.stdout
