"""Certificates for end-to-end tests, made at run time with the openssl CLI.

No key is ever committed: each test run creates its own. Every certificate is
EC P-256. The default one is self-signed for `localhost` and `127.0.0.1`, so a
client can verify it by trusting the certificate itself. The expired,
expiring and wrong-name variants, and leaves issued by a private CA, exist for
tests that check how clients and `postern probe` report certificate problems.
"""

import pathlib
import subprocess
import time

DEFAULT_NAMES = ("localhost", "127.0.0.1")

# `openssl ca` is the only way in OpenSSL 3.0 to give a certificate dates in
# the past; this minimal configuration lets it sign anything.
_CA_CONFIG = """\
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


def _openssl(cwd, *args):
    result = subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, text=True,
                            timeout=60)
    if result.returncode != 0:
        raise RuntimeError(f"openssl {' '.join(args)} failed:\n{result.stderr}")


def _san(names):
    parts = []
    for name in names:
        is_ip = all(c.isdigit() or c == "." for c in name) or ":" in name
        parts.append(("IP:" if is_ip else "DNS:") + name)
    return "subjectAltName=" + ",".join(parts)


_EC = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]


def self_signed(directory, names=DEFAULT_NAMES, stem="cert", days=30):
    """Writes <stem>.pem and <stem>.key into `directory`; returns (cert, key)."""
    directory = pathlib.Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    cert, key = directory / f"{stem}.pem", directory / f"{stem}.key"
    _openssl(directory, "req", "-x509", *_EC, "-keyout", str(key), "-out", str(cert),
             "-subj", f"/CN={names[0]}", "-addext", _san(names),
             "-addext", "basicConstraints=critical,CA:TRUE", "-days", str(days))
    key.chmod(0o600)
    return cert, key


def expired(directory, names=DEFAULT_NAMES, stem="expired"):
    """A self-signed certificate that expired in 2020; returns (cert, key)."""
    return _dated(directory, names, stem, "20200101000000Z", "20200201000000Z")


def expiring(directory, seconds, names=DEFAULT_NAMES, stem="expiring"):
    """A self-signed certificate valid from an hour ago until `seconds` from
    now: `postern serve` refuses to start with an expired certificate, so a
    test that needs a server presenting one starts it with this and waits.
    Returns (cert, key, expiry as a Unix time)."""
    now = time.time()
    fmt = "%Y%m%d%H%M%SZ"
    end = int(now + seconds) + 1
    cert, key = _dated(directory, names, stem, time.strftime(fmt, time.gmtime(now - 3600)),
                       time.strftime(fmt, time.gmtime(end)))
    return cert, key, end


def _dated(directory, names, stem, start, end):
    directory = pathlib.Path(directory)
    scratch = directory / f"{stem}-ca"
    scratch.mkdir(parents=True, exist_ok=True)
    (scratch / "index.txt").write_text("")
    (scratch / "serial").write_text("1000\n")
    (scratch / "ca.cnf").write_text(_CA_CONFIG)
    cert, key = directory / f"{stem}.pem", directory / f"{stem}.key"
    _openssl(scratch, "req", "-new", *_EC, "-keyout", str(key), "-out", "req.csr",
             "-subj", f"/CN={names[0]}", "-addext", _san(names))
    _openssl(scratch, "ca", "-batch", "-selfsign", "-config", "ca.cnf", "-keyfile", str(key),
             "-in", "req.csr", "-out", str(cert), "-notext",
             "-startdate", start, "-enddate", end)
    key.chmod(0o600)
    return cert, key


def private_ca(directory, stem="ca"):
    """A private certificate authority (CA:TRUE, keyCertSign) that nothing
    trusts unless told; returns (cert, key)."""
    directory = pathlib.Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    cert, key = directory / f"{stem}.pem", directory / f"{stem}.key"
    _openssl(directory, "req", "-x509", *_EC, "-keyout", str(key), "-out", str(cert),
             "-subj", "/CN=postern test CA",
             "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign", "-days", "30")
    key.chmod(0o600)
    return cert, key


def signed_by(ca, directory, names=DEFAULT_NAMES, stem="leaf", days=30):
    """A server certificate issued by `ca` (a (cert, key) pair from
    private_ca); the file holds the leaf only, as a server that forgets its
    intermediate would send it. Returns (cert, key)."""
    ca_cert, ca_key = ca
    directory = pathlib.Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    cert, key = directory / f"{stem}.pem", directory / f"{stem}.key"
    csr, ext = directory / f"{stem}.csr", directory / f"{stem}.ext"
    ext.write_text(_san(names) + "\nbasicConstraints=critical,CA:FALSE\n"
                   "extendedKeyUsage=serverAuth\n")
    _openssl(directory, "req", "-new", *_EC, "-keyout", str(key), "-out", str(csr),
             "-subj", f"/CN={names[0]}")
    _openssl(directory, "x509", "-req", "-in", str(csr), "-CA", str(ca_cert), "-CAkey",
             str(ca_key), "-set_serial", str(int(time.time() * 1000)), "-days", str(days),
             "-extfile", str(ext), "-out", str(cert))
    key.chmod(0o600)
    return cert, key


def wrong_name(directory, stem="wrongname"):
    """A valid self-signed certificate for a name nobody connects to."""
    return self_signed(directory, names=("wrong.invalid",), stem=stem)
