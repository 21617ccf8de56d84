#!/usr/bin/env bash
# Builds postern twice (normal, and with AddressSanitizer +
# UndefinedBehaviorSanitizer), warnings as errors, and runs every unit and
# end-to-end test against both builds.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --test

jobs=$(nproc)
status=0
for variant in normal sanitize; do
  dir=build
  flags=(-DPOSTERN_WERROR=ON)
  if [[ $variant == sanitize ]]; then
    dir=build-asan
    flags+=(-DPOSTERN_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug)
  fi
  echo "=== $variant build ($dir)"
  cmake -S . -B "$dir" -G Ninja "${flags[@]}" >/dev/null
  cmake --build "$dir" -j "$jobs"
  echo "=== $variant tests"
  # Sanitizer reports fail the test that triggered them.
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  ctest --test-dir "$dir" --output-on-failure -j "$jobs" --timeout 300 || status=1
done
exit $status
