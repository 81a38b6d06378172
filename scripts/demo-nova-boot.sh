#!/usr/bin/env bash
# See nova boot a GPU flavor, from a fresh clone (Debian 12, as root):
#   1. install the Debian packages (scripts/install-deps.sh) and build gpu-agent,
#   2. start a whole nova on 127.0.0.1 (scripts/nova-stack.sh: RabbitMQ, Placement,
#      nova-api, conductor, scheduler, two nova-computes on a fake virt driver that
#      reports the PCI devices of a real server shape: the zoo's HGX H100 8-GPU
#      server, tests/data/hosts/zoo/hgx-h100-8x-aspeed-nvswitch-pcistub.sysfs.txt,
#      with its H100s on vfio-pci as `gpu-agent inventory` advises, ASPEED BMC VGA
#      and NVSwitches included), with `gpu-agent nova-config` installed for the API
#      and the computes,
#   3. run `gpu-agent run` (the daemon) for each host with the DEFAULT config (no
#      [pool:*]: only the compute node name, the state dir and Placement) and create
#      the 1x/2x/4x/8x flavors with the `openstack` script of `gpu-agent flavors`,
#   4. boot the 4x flavor and print placement's provider tree with the allocations
#      and the PCI devices nova claimed for the server.
# Usage: scripts/demo-nova-boot.sh [--keep] [--explicit-pool]
#   --keep           leave nova, placement and the agents running (the script
#                    prints how to stop them)
#   --explicit-pool  the earlier demo instead: an A100 fixture host with a declared
#                    [pool:a100], a host trait, and a second host without the trait
# About 2-4 minutes (most of it nova's database setup and the openstack CLI).
set -euo pipefail
cd "$(dirname "$0")/.."
KEEP=()
EXPLICIT=0
for a in "$@"; do
  case $a in
    --keep) KEEP=(--keep) ;;
    --explicit-pool) EXPLICIT=1 ;;
    *) echo "demo-nova-boot.sh: unknown argument '$a' (use --keep, --explicit-pool)" >&2; exit 2 ;;
  esac
done
STATE=${GPU_AGENT_DEMO_STATE:-.state}/nova-boot
scripts/install-deps.sh >/dev/null
echo "== building gpu-agent"
GPU_AGENT_TARGETS=gpu-agent scripts/build.sh >/dev/null
BIN=${GPU_AGENT_BUILD_DIR:-build}/agent/gpu-agent
if [ -d "$STATE/stack/pids" ]; then scripts/nova-stack.sh stop "$STATE/stack" >/dev/null 2>&1 || true; fi
rm -rf "$STATE"
echo "== starting nova, placement and rabbitmq on 127.0.0.1 (state in $STATE)"
if [ $EXPLICIT = 1 ]; then
  exec /usr/bin/python3 tests/e2e/nova_boot_e2e.py --agent "$BIN" --root . --mode demo --state "$STATE" "${KEEP[@]}"
fi
exec /usr/bin/python3 tests/e2e/lifecycle_e2e.py --agent "$BIN" --root . --mode demo --state "$STATE" "${KEEP[@]}"
