#!/usr/bin/env bash
# Fuzzes every target in tests/fuzz with libFuzzer, ASan and UBSan.
#   tests/fuzz/run.sh [SECONDS] [TARGET...]
# SECONDS per target (default 300). Builds with clang into build-fuzz/ (set
# POSTERN_FUZZ_BUILD to change it). The seed corpus in tests/fuzz/corpus is
# read, never written: new inputs libFuzzer finds go to
# build-fuzz/fuzz-corpus/<target>, crashes to build-fuzz/fuzz-artifacts/.
# A crash ends the run with status 1 and names the input; turn it into a
# fix, a corpus entry and a unit test (STYLE.md habit 17).
set -euo pipefail

seconds="${1:-300}"
shift || true
root="$(cd "$(dirname "$0")/../.." && pwd)"
build="${POSTERN_FUZZ_BUILD:-$root/build-fuzz}"
jobs="${POSTERN_FUZZ_JOBS:-2}"

if [[ ! -f "$build/build.ninja" ]]; then
  # -O1 and line tables only: quick to build, still fast to run, and the
  # sanitizers' reports name file and line.
  launcher=()
  command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  CC=clang CXX=clang++ cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_CXX_FLAGS_RELEASE="-O1 -gline-tables-only" "${launcher[@]}" \
    -DPOSTERN_FUZZ=ON -DPOSTERN_TESTS=OFF -DPOSTERN_BENCH=OFF >/dev/null
fi

targets=("$@")
if ((${#targets[@]} == 0)); then
  for f in "$root"/tests/fuzz/*_fuzz.cpp; do
    n="$(basename "$f" .cpp)"
    targets+=("${n%_fuzz}")
  done
fi
cmake --build "$build" -j "$jobs" --target "${targets[@]/#/fuzz_}"

mkdir -p "$build/fuzz-artifacts"
status=0
summary=()
for t in "${targets[@]}"; do
  work="$build/fuzz-corpus/$t"
  mkdir -p "$work"
  log="$build/fuzz-artifacts/$t.log"
  echo "== $t: ${seconds}s"
  if "$build/fuzz_$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
      -print_final_stats=1 -artifact_prefix="$build/fuzz-artifacts/$t-" \
      "$work" "$root/tests/fuzz/corpus/$t" >"$log" 2>&1; then
    result="clean"
  else
    result="FOUND A CRASH (see $log)"
    status=1
  fi
  execs="$(grep -m1 'stat::number_of_executed_units' "$log" | awk '{print $2}')"
  corpus="$(find "$work" -type f | wc -l)"
  summary+=("$(printf '%-16s %12s execs  %6s inputs in corpus  %s' "$t" "${execs:-?}" "$corpus" "$result")")
done
printf '%s\n' "${summary[@]}"
exit "$status"
