#!/usr/bin/env bash
# Installs the Debian 12 packages postern needs, only those missing.
#   scripts/install-deps.sh          build and run
#   scripts/install-deps.sh --test   also what the test suite uses
set -euo pipefail

packages=(build-essential cmake ninja-build pkg-config
          libasio-dev libssl-dev libtomlplusplus-dev libcli11-dev libspdlog-dev libfmt-dev
          libsodium-dev libunbound-dev libidn2-dev nlohmann-json3-dev openssl
          libpsl-dev publicsuffix  # DMARC's organizational domain
          libhiredis-dev  # [state] url: shared counters in Redis
          pandoc)
if [[ "${1:-}" == "--test" ]]; then
  packages+=(libgtest-dev libgmock-dev libbenchmark-dev python3 python3-pytest swaks
             python3-dnslib python3-aiosmtpd clang-format iproute2 fail2ban
             testssl.sh prometheus systemd man-db debhelper dpkg-dev lintian
             python3-dkim opendkim opendkim-tools python3-spf python3-authres
             clang libclang-rt-14-dev  # clang + libFuzzer runtime: tests/fuzz/run.sh
             dovecot-core dovecot-imapd dovecot-lmtpd
             redis-server)  # the two-node tests share one (tests/e2e/test_shared_limits.py)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Test peers whose Debian packages start (and enable) a system service on
# install. The tests start their own instances with their own
# configuration in a temporary directory (tests/tools/dovecot.py,
# test_metrics.py's promtool, bench/run.sh's opendkim, fail2ban-regex); a
# system instance would only hold ports and sockets (Dovecot 143/993,
# Prometheus 9090, Redis 6379) and run a daemon nobody asked for.
declare -A peer_units=(
  [dovecot-core]="dovecot.service dovecot.socket"
  [prometheus]="prometheus.service"
  [opendkim]="opendkim.service"
  [fail2ban]="fail2ban.service"
  [redis-server]="redis-server.service"
)

if ((${#missing[@]})); then
  echo "installing: ${missing[*]}"
  SUDO=""; [[ $(id -u) -eq 0 ]] || SUDO="sudo"
  $SUDO apt-get update -qq
  # policy-rc.d (Debian's invoke-rc.d policy, also honoured by
  # deb-systemd-invoke) answering 101 keeps the maintainer scripts from
  # starting any service during this install. Only when there is none
  # already (a container image usually has its own); removed afterwards.
  policy=/usr/sbin/policy-rc.d
  made_policy=""
  if [[ ! -e $policy ]]; then
    printf '#!/bin/sh\n# installed by postern scripts/install-deps.sh for one apt-get run\nexit 101\n' |
      $SUDO tee "$policy" >/dev/null
    $SUDO chmod 0755 "$policy"
    made_policy=1
    trap '$SUDO rm -f "$policy"' EXIT
  fi
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
  if [[ -n $made_policy ]]; then
    $SUDO rm -f "$policy"
    trap - EXIT
  fi
  # Not started now, and not at the next boot either: disabled, but only
  # the ones just installed (an operator's own Dovecot is left alone).
  if command -v systemctl >/dev/null && [[ -d /run/systemd/system ]]; then
    for p in "${missing[@]}"; do
      units="${peer_units[$p]:-}"
      [[ -n $units ]] || continue
      # shellcheck disable=SC2086
      $SUDO systemctl disable --now $units 2>/dev/null || true
    done
  fi
fi
