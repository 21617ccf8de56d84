#!/usr/bin/env bash
# Installs the Debian 12 packages postern needs, only those missing.
#   scripts/install-deps.sh          build and run
#   scripts/install-deps.sh --test   also what the test suite uses
set -euo pipefail

packages=(build-essential cmake ninja-build pkg-config
          libasio-dev libssl-dev libtomlplusplus-dev libcli11-dev libspdlog-dev libfmt-dev
          libsodium-dev libunbound-dev libidn2-dev nlohmann-json3-dev openssl
          libpsl-dev publicsuffix  # DMARC's organizational domain
          pandoc)
if [[ "${1:-}" == "--test" ]]; then
  packages+=(libgtest-dev libgmock-dev libbenchmark-dev python3 python3-pytest swaks
             python3-dnslib python3-aiosmtpd clang-format iproute2 fail2ban
             testssl.sh prometheus systemd man-db debhelper dpkg-dev lintian
             python3-dkim opendkim opendkim-tools python3-spf python3-authres
             clang libclang-rt-14-dev  # clang + libFuzzer runtime: tests/fuzz/run.sh
             dovecot-core dovecot-imapd dovecot-lmtpd)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}"
  SUDO=""; [[ $(id -u) -eq 0 ]] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
  # The Dovecot tests start their own instances (tests/tools/dovecot.py);
  # the system instance the package starts on a systemd machine would only
  # hold ports 143/993 and /run/dovecot, as the Postfix one would hold 25
  # (bench/run.sh). Only when we just installed it: an operator's own
  # Dovecot is left alone.
  if [[ " ${missing[*]} " == *" dovecot-core "* ]] && command -v systemctl >/dev/null &&
     [[ -d /run/systemd/system ]]; then
    $SUDO systemctl disable --now dovecot.service dovecot.socket 2>/dev/null || true
  fi
fi
