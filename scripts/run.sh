#!/usr/bin/env bash
# Builds postern and starts it on its embedded default (loopback only):
# relay 2025, submission 2587 (STARTTLS required), implicit TLS 2465,
# alternate submission 2525, data in ./postern-data.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake -S . -B build-release -G Ninja -DCMAKE_BUILD_TYPE=Release -DPOSTERN_TESTS=OFF >/dev/null
cmake --build build-release --target postern
exec build-release/postern serve "$@"
