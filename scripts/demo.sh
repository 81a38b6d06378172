#!/usr/bin/env bash
# The main job on an embedded default, from nothing:
#   1. build gpu-agent,
#   2. show the GPU inventory of a bundled fixture host (8x A100 SXM4) and of this machine,
#   3. start a real OpenStack Placement on 127.0.0.1 (Debian's python3-placement, SQLite, noauth2),
#      create the compute node provider as nova-compute would,
#   4. report the fixture host's GPU pool to it (dry run, then for real, then once more: no writes),
#   5. print the provider tree placement now holds,
#   6. write nova's [pci] lines, 7. the 1x/2x/4x/8x flavors sized from placement, and ask
#      placement for candidates as nova's scheduler would for each.
# Usage: scripts/demo.sh [--keep] [FIXTURE]
#   --keep   leave Placement running afterwards (stop it with: scripts/placement-server.sh stop .state/placement)
set -euo pipefail
cd "$(dirname "$0")/.."
KEEP=0
if [ "${1:-}" = "--keep" ]; then KEEP=1; shift; fi
FIXTURE=${1:-tests/data/hosts/a100-8x-passthrough.sysfs.txt}
STATE=${GPU_AGENT_DEMO_STATE:-.state}

scripts/install-deps.sh >/dev/null
echo "== building gpu-agent"
GPU_AGENT_TARGETS=gpu-agent scripts/build.sh >/dev/null
BIN=${GPU_AGENT_BUILD_DIR:-build}/agent/gpu-agent

say() { printf '\n$ %s\n' "$*"; }

echo
echo "== 1. The bundled fixture host"
say gpu-agent inventory --fixture "$FIXTURE"
"$BIN" inventory --fixture "$FIXTURE"

echo
echo "== 2. This machine (/sys)"
say gpu-agent inventory
"$BIN" inventory

echo
echo "== 3. A real Placement on 127.0.0.1"
mkdir -p "$STATE"
URL=$(scripts/placement-server.sh start "$STATE/placement" 0)
[ "$KEEP" = 1 ] || trap 'scripts/placement-server.sh stop "$STATE/placement" >/dev/null' EXIT
echo "Placement: $URL (log: $STATE/placement/placement.log)"
HOST=$(sed -n 's/^@hostname //p' "$FIXTURE" | head -1)
HOST=${HOST:-demo-compute-0}
P=(-s -H 'X-Auth-Token: admin' -H 'OpenStack-API-Version: placement 1.39' -H 'Content-Type: application/json')
ROOT=$(curl "${P[@]}" "$URL/resource_providers?name=$HOST" | jq -r '.resource_providers[0].uuid // empty')
if [ -z "$ROOT" ]; then
  # what nova-compute does when it starts: the compute node provider with its inventory
  ROOT=$(cat /proc/sys/kernel/random/uuid)
  curl "${P[@]}" -o /dev/null -X POST "$URL/resource_providers" -d "{\"name\":\"$HOST\",\"uuid\":\"$ROOT\"}"
  curl "${P[@]}" -o /dev/null -X PUT "$URL/resource_providers/$ROOT/inventories" -d '{"resource_provider_generation":0,
    "inventories":{"VCPU":{"total":128,"max_unit":128,"allocation_ratio":4.0},
      "MEMORY_MB":{"total":1048576,"max_unit":1048576,"reserved":4096},"DISK_GB":{"total":7000,"max_unit":7000}}}'
  echo "created compute node provider $HOST ($ROOT), as nova-compute would"
fi

CONF=$STATE/demo.conf
cat > "$CONF" <<EOF
# written by scripts/demo.sh: a lab Placement with noauth2
[agent]
state_dir = $STATE/agent
libvirt_uri = none
host_traits = CUSTOM_SHARE_GPU_DEMO_HOST_LEVEL3
[placement]
auth_type = admin_token
token = admin
endpoint_override = $URL
EOF

echo
echo "== 4. Report the fixture host's GPUs to Placement (config: $CONF)"
say gpu-agent --config "$CONF" report --dry-run --fixture "$FIXTURE"
"$BIN" --config "$CONF" report --dry-run --fixture "$FIXTURE"
say gpu-agent --config "$CONF" report --once --fixture "$FIXTURE"
"$BIN" --config "$CONF" report --once --fixture "$FIXTURE"
say gpu-agent --config "$CONF" report --once --fixture "$FIXTURE"  "  # again: nothing to change"
"$BIN" --config "$CONF" report --once --fixture "$FIXTURE"

echo
echo "== 5. What Placement holds now"
say curl "$URL/resource_providers?in_tree=$ROOT"
for rp in $(curl "${P[@]}" "$URL/resource_providers?in_tree=$ROOT" | jq -r '.resource_providers[].uuid'); do
  name=$(curl "${P[@]}" "$URL/resource_providers/$rp" | jq -r .name)
  echo "provider $name ($rp)"
  echo "  traits:      $(curl "${P[@]}" "$URL/resource_providers/$rp/traits" | jq -c .traits)"
  echo "  inventories: $(curl "${P[@]}" "$URL/resource_providers/$rp/inventories" | jq -c '.inventories | map_values({total, reserved, max_unit})')"
done

echo
echo "== 6. nova's [pci] lines for this pool (nova-compute and nova-api)"
say gpu-agent --config "$CONF" nova-config --fixture "$FIXTURE"
"$BIN" --config "$CONF" nova-config --fixture "$FIXTURE"

echo
echo "== 7. The 1x/2x/4x/8x flavors, sized from the compute node's inventory in Placement"
say gpu-agent --config "$CONF" flavors --fixture "$FIXTURE" --from-placement -o "$STATE/create-gpu-flavors.sh"
"$BIN" --config "$CONF" flavors --fixture "$FIXTURE" --from-placement -o "$STATE/create-gpu-flavors.sh"
echo "(run it with admin credentials: bash $STATE/create-gpu-flavors.sh; it creates the traits, then the flavors)"
"$BIN" --config "$CONF" flavors --fixture "$FIXTURE" --from-placement --format json > "$STATE/flavors.json"
echo
echo "Each flavor, as the allocation candidates query nova's scheduler sends for it:"
jq -r '.flavors[] | [.name, .vcpus, .ram, .ephemeral + .disk,
        ([.extra_specs | to_entries[] | select(.key | startswith("resources:")) | "\(.key[10:]):\(.value)"] | join(",")),
        ([.extra_specs | to_entries[] | select(.key | startswith("trait:")) | .key[6:]] | join(","))] | @tsv' \
  "$STATE/flavors.json" |
while IFS=$'\t' read -r name vcpus ram disk res traits; do
  q="resources=$res,VCPU:$vcpus,MEMORY_MB:$ram,DISK_GB:$disk${traits:+&required=$traits}&limit=1000"
  n=$(curl "${P[@]}" "$URL/allocation_candidates?$q" | jq '.allocation_requests | length')
  printf '  %-28s %s -> %s candidate host(s)\n' "$name" "$q" "$n"
done
if [ "$KEEP" = 1 ]; then
  echo; echo "Placement keeps running at $URL; stop it with: scripts/placement-server.sh stop $STATE/placement"
fi
