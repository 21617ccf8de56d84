#!/usr/bin/env bash
# Deterministic instruction counts for the SMTP engine, so that a
# regression shows without a noisy clock (bench/README.md, "Micro-benchmarks
# and instruction counts").
#
# Builds bench/micro/session_instructions.cpp in Release, runs it under
# `valgrind --tool=callgrind` for 1 and for 100 messages of 4 KiB, and
# prints the instructions per message, (Ir(100) - Ir(1)) / 99 so that the
# start-up cancels out: once for a whole session per message (banner, EHLO,
# MAIL/RCPT/DATA pipelined, the message, commit acknowledged, 250, QUIT)
# and once for the DATA decoder alone. The 100-message session run is made
# twice and must give the same count. Then the functions with the highest
# inclusive cost in the 100-message session run.
#
#   bench/callgrind_session.sh [BUILD_DIR]   (default: build-microbench)
#   TOP=40 bench/callgrind_session.sh        (functions listed; default 25)
#   KEEP=dir bench/callgrind_session.sh      (keep the callgrind.out files)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build-microbench}
top=${TOP:-25}

scripts/install-deps.sh
if ! command -v valgrind >/dev/null || ! command -v callgrind_annotate >/dev/null; then
  echo "installing valgrind"
  SUDO=""
  [[ $(id -u) -eq 0 ]] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends valgrind
fi

cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DPOSTERN_TESTS=OFF \
  -DPOSTERN_BENCH=ON >/dev/null
cmake --build "$build" --target postern_session_instructions >/dev/null
driver="$build/bench/micro/postern_session_instructions"

work=${KEEP:-$(mktemp -d)}
mkdir -p "$work"
[[ -n ${KEEP:-} ]] || trap 'rm -rf "$work"' EXIT

# The driver runs from inside $work as ./driver with an empty environment:
# the dynamic linker's work and the stack layout depend on the environment,
# the program path and the folder, which would move the counts by a few
# instructions from one shell to another.
cp "$driver" "$work/driver"

# run MODE N TAG: one callgrind run; prints its total instruction count.
run() {
  local out="callgrind.$1.$2.$3.out"
  if ! (cd "$work" && env -i "$(command -v valgrind)" --tool=callgrind \
    --callgrind-out-file="$out" ./driver "$2" "$1" >"$1.$2.$3.stdout" 2>"$1.$2.$3.log"); then
    echo "callgrind run of 'driver $2 $1' failed:" >&2
    cat "$work/$1.$2.$3.log" >&2
    exit 1
  fi
  awk '/^totals:/ { print $2; found = 1 } END { if (!found) exit 1 }' "$work/$out"
}

commit=$(git rev-parse --short HEAD)
git diff --quiet HEAD -- src bench/micro || commit="$commit+local changes"
echo "postern instructions per 4 KiB message (callgrind Ir), commit $commit, $(date -u +%F)"
echo "$(valgrind --version), $(g++ --version | head -1), Release (-O3)"
echo
printf '%-34s %14s %14s %16s\n' "" "Ir, 1 message" "Ir, 100" "Ir per message"
for mode in session decoder; do
  one=$(run "$mode" 1 a)
  hundred=$(run "$mode" 100 a)
  per=$(((hundred - one) / 99))
  label="whole session ($mode)"
  [[ $mode == decoder ]] && label="DATA decoder alone ($mode)"
  printf '%-34s %14d %14d %16d\n' "$label" "$one" "$hundred" "$per"
  if [[ $mode == session ]]; then session_hundred=$hundred; fi
done
again=$(run session 100 b)
echo
if [[ $again == "$session_hundred" ]]; then
  echo "repeat of the 100-message session run: $again, identical (deterministic)"
else
  echo "repeat of the 100-message session run: $again, differs from $session_hundred:" \
    "the count is not deterministic, find the source (clock, randomness, environment)" >&2
  exit 1
fi
# annotate OPTIONS: the function table of the 100-message session run, the
# object file names dropped and long C++ names cut.
annotate() {
  callgrind_annotate "$@" "$work/callgrind.session.100.a.out" 2>/dev/null |
    awk -v top="$top" '
      /^-+$/ { dashes++; next }
      dashes >= 4 && NF > 0 && !/PROGRAM TOTALS|file:function/ && shown < top { print; shown++ }' |
    sed -E 's/ \[[^]]*\]$//; s/\?\?\?://' | cut -c1-150
}
echo
echo "Top $top functions by inclusive cost (session, 100 messages):"
annotate --inclusive=yes
echo
echo "Top $top functions by own (exclusive) cost (session, 100 messages):"
annotate --inclusive=no
