#!/usr/bin/env bash
# postern against Postfix on loopback, measured with Postfix's smtp-source.
# One run: installs what is missing (Debian), builds postern in Release
# (build-bench/), measures, prints the table and writes
# bench/results/latest.md. Stops everything it started.
#
#   bench/run.sh                 full run: 3 repetitions (~15 min on 2 cores)
#   bench/run.sh --quick         small counts, 1 repetition (checks it all works)
#   bench/run.sh --reps 5 --only accept,relay
#   bench/run.sh --help          every option
#
# Needs root: apt-get, and Postfix instances run as root like a system one.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

for arg in "$@"; do
  if [[ "$arg" == "-h" || "$arg" == "--help" ]]; then
    exec /usr/bin/python3 -B bench/lib/bench.py --postern postern --root "$root" --help
  fi
done
if [[ $(id -u) -ne 0 ]]; then
  echo "bench/run.sh: run as root (it installs packages and starts Postfix)" >&2
  exit 2
fi

# --- packages -------------------------------------------------------------
scripts/install-deps.sh
wanted=(postfix openssl iproute2 python3 python3-dnslib opendkim dovecot-core redis-server
        unbound python3-dkim)
missing=()
for p in "${wanted[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}"
  # "No configuration": the package's own instance is neither configured
  # nor started, so nothing listens on port 25 because of us.
  echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# --- build ------------------------------------------------------------------
# No POSTERN_WERROR here: GCC 12 at -O3 gives a false -Wrestrict in
# std::string inside server_session.cpp; CI's -Werror builds are not -O3.
cmake -S "$root" -B "$root/build-bench" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DPOSTERN_TESTS=OFF -DPOSTERN_BENCH=OFF >/dev/null
ninja -C "$root/build-bench" -j"$(nproc)" postern >/dev/null
# The load generator of the authenticated-submission and Redis rows (the
# same for every server; bench/README.md says why it is not Python).
g++ -O2 -std=c++20 -o "$root/build-bench/auth_client" "$root/bench/lib/auth_client.cpp" \
  -lssl -lcrypto

# --- limits -------------------------------------------------------------------
# 10,000 idle sessions: postern holds one descriptor per session and the
# client one per connection.
# Containers may forbid raising the hard limit; the soft one goes up to it.
ulimit -Hn 65536 2>/dev/null || true
ulimit -n "$(ulimit -Hn)"
if [[ "$(ulimit -n)" != unlimited && "$(ulimit -n)" -lt 12000 ]]; then
  echo "bench/run.sh: warning: ulimit -n is $(ulimit -n); 10,000 idle sessions need about 10,100" >&2
fi

# --- run, and stop whatever is left on the way out ----------------------------
cleanup() {
  local rc=$?
  if [[ -n "${bench_pid:-}" ]] && kill -0 "$bench_pid" 2>/dev/null; then
    kill -TERM "$bench_pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$bench_pid" 2>/dev/null || break; sleep 0.2; done
  fi
  # What bench.py registered: normally already stopped, this is the net.
  local work
  work="$(cat "$root/bench/.last-work" 2>/dev/null || true)"
  if [[ -n "$work" && -f "$work/started" ]]; then
    # "pid N NAME": signalled only while /proc/N/comm is still NAME.
    ours() { [[ "$(cat "/proc/$1/comm" 2>/dev/null)" == "$2" ]]; }
    while read -r kind value name; do
      case "$kind" in
        pid) ! ours "$value" "$name" || kill -TERM "$value" 2>/dev/null || true ;;
        postfix) postfix -c "$value" stop >/dev/null 2>&1 || true ;;
      esac
    done <"$work/started"
    sleep 1
    while read -r kind value name; do
      if [[ "$kind" == pid ]] && ours "$value" "$name"; then kill -KILL "$value" 2>/dev/null || true; fi
    done <"$work/started"
    [[ "$work" == /tmp/postern-bench-* && " $* " != *" --keep "* ]] && rm -rf "$work"
  fi
  rm -f "$root/bench/.last-work"
  exit "$rc"
}
trap 'cleanup "$@"' EXIT
trap 'exit 130' INT TERM

/usr/bin/python3 -B bench/lib/bench.py --postern "$root/build-bench/postern" --root "$root" "$@" &
bench_pid=$!
wait "$bench_pid"
