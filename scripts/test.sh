#!/usr/bin/env bash
# Builds handoff and runs the whole test suite (README's test command).
#   scripts/test.sh [build-dir]
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD="${1:-build}"
scripts/install-deps.sh
cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release
cmake --build "$BUILD" -j2
# A test that hangs fails at --timeout, unless it sets a timeout of its own.
ctest --test-dir "$BUILD" --output-on-failure --no-tests=error --timeout 600 -j2
