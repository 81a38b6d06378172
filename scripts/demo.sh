#!/usr/bin/env bash
# The main job on an embedded default: build gpu-agent, then show the GPU
# inventory of a bundled fixture host (8x A100 passthrough) and of this machine.
# Usage: scripts/demo.sh [FIXTURE]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh >/dev/null
GPU_AGENT_TARGETS=gpu-agent scripts/build.sh >/dev/null
BIN=${GPU_AGENT_BUILD_DIR:-build}/agent/gpu-agent
FIXTURE=${1:-tests/data/hosts/a100-8x-passthrough.sysfs.txt}
[ -f "$FIXTURE" ] || FIXTURE=tests/data/hosts/h100-passthrough-guest.sysfs.txt

echo "== Bundled fixture host: $FIXTURE"
echo "\$ gpu-agent inventory --fixture $FIXTURE"
"$BIN" inventory --fixture "$FIXTURE"
echo
echo "== This machine (/sys)"
echo "\$ gpu-agent inventory"
"$BIN" inventory
