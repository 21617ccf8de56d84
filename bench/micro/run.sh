#!/usr/bin/env bash
# Builds the Google Benchmark micro-benchmarks in Release and runs them
# (bench/README.md, "Micro-benchmarks and instruction counts"). Not part of
# CI: clock figures depend on the machine and its load.
#
#   bench/micro/run.sh                      5 repetitions, medians only
#   bench/micro/run.sh --benchmark_filter=DotDecoder   (any benchmark flags)
#   BUILD=dir bench/micro/run.sh            (default build-microbench)
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${BUILD:-build-microbench}

scripts/install-deps.sh --test
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DPOSTERN_TESTS=OFF \
  -DPOSTERN_BENCH=ON >/dev/null
cmake --build "$build" --target postern_micro_bench >/dev/null

args=("$@")
if ((${#args[@]} == 0)); then
  args=(--benchmark_repetitions=5 --benchmark_report_aggregates_only=true)
fi
echo "commit $(git rev-parse --short HEAD), $(date -u +%F), load average $(cut -d' ' -f1-3 /proc/loadavg)"
exec "$build/bench/micro/postern_micro_bench" "${args[@]}"
