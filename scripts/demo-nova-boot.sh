#!/usr/bin/env bash
# See nova boot a GPU flavor, from a fresh clone (Debian 12, as root):
#   1. install the Debian packages (scripts/install-deps.sh) and build gpu-agent,
#   2. start a whole nova on 127.0.0.1 (scripts/nova-stack.sh: RabbitMQ, Placement,
#      nova-api, conductor, scheduler, two nova-computes on a fake virt driver that
#      reports the GPUs of a bundled fixture host: gpu-a100-8 with 8 A100s and the
#      host trait, gpu-a100-4 with 4 and without it), with `gpu-agent nova-config`
#      installed for the API and the computes,
#   3. run `gpu-agent run` (the daemon) for each host and create the trait and the
#      1x/2x/4x/8x flavors with the `openstack` script of `gpu-agent flavors`,
#   4. boot the 4x flavor and print placement's provider tree with the allocations
#      and the PCI devices nova claimed for the server.
# Usage: scripts/demo-nova-boot.sh [--keep]
#   --keep  leave nova, placement and the agents running (the script prints how to stop them)
# About 2-4 minutes (most of it nova's database setup and the openstack CLI).
set -euo pipefail
cd "$(dirname "$0")/.."
KEEP=()
[ "${1:-}" = "--keep" ] && KEEP=(--keep)
STATE=${GPU_AGENT_DEMO_STATE:-.state}/nova-boot
scripts/install-deps.sh >/dev/null
echo "== building gpu-agent"
GPU_AGENT_TARGETS=gpu-agent scripts/build.sh >/dev/null
BIN=${GPU_AGENT_BUILD_DIR:-build}/agent/gpu-agent
if [ -d "$STATE/stack/pids" ]; then scripts/nova-stack.sh stop "$STATE/stack" >/dev/null 2>&1 || true; fi
rm -rf "$STATE"
echo "== starting nova, placement and rabbitmq on 127.0.0.1 (state in $STATE)"
exec /usr/bin/python3 tests/e2e/nova_boot_e2e.py --agent "$BIN" --root . --mode demo --state "$STATE" "${KEEP[@]}"
