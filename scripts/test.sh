#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The README's test command: installs dependencies, builds everything (CUDA too when the
# toolkit is present) and runs every test with ctest. GPU tests skip cleanly without a GPU.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
build=${CONTINUO_BUILD_DIR:-build}
jobs=$(nproc)
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo
ninja -C "$build" -j "$jobs"
ctest --test-dir "$build" --output-on-failure -j "$jobs" --timeout 1200 "$@"
