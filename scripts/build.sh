#!/usr/bin/env bash
# Configure and build into ./build (or $GPU_AGENT_BUILD_DIR). Extra arguments go to cmake.
# Set GPU_AGENT_WERROR=0 to let warnings pass (CI and scripts/test.sh keep them errors).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${GPU_AGENT_BUILD_DIR:-build}
cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DGPU_AGENT_WERROR="${GPU_AGENT_WERROR:-1}" "$@" >/dev/null
# GPU_AGENT_TARGETS="gpu-agent" builds just those targets (space-separated).
targets=()
for t in ${GPU_AGENT_TARGETS:-}; do targets+=(--target "$t"); done
cmake --build "$BUILD" -j"$(nproc)" "${targets[@]}"
