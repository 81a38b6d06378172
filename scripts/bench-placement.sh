#!/usr/bin/env bash
# Placement figures for BENCHMARKS.md: requests and wall time of a cold start
# and of steady-state passes for the bundled 8x A100 host against a real local
# Placement, and the daemon's RSS over 1,000 passes. Requests are counted twice:
# by the agent, and independently from Placement's own request log.
# Usage: scripts/bench-placement.sh [PASSES]   (default 1000)
set -euo pipefail
cd "$(dirname "$0")/.."
PASSES=${1:-1000}
scripts/install-deps.sh >/dev/null
GPU_AGENT_TARGETS=gpu-agent scripts/build.sh >/dev/null
BIN=$PWD/${GPU_AGENT_BUILD_DIR:-build}/agent/gpu-agent
FIXTURE=tests/data/hosts/a100-8x-passthrough.sysfs.txt
WORK=$(mktemp -d /tmp/gpu-agent-bench.XXXXXX)
trap 'scripts/placement-server.sh stop "$WORK/placement" >/dev/null 2>&1; rm -rf "$WORK"' EXIT

URL=$(scripts/placement-server.sh start "$WORK/placement" 0)
PLOG=$WORK/placement/placement.log
# one placement.requestlog line per request (the wsgiref access line is not counted)
requests_logged() { grep -c 'placement.requestlog' "$PLOG" || true; }
P=(-s -H 'X-Auth-Token: admin' -H 'OpenStack-API-Version: placement 1.39' -H 'Content-Type: application/json')
ROOT=$(cat /proc/sys/kernel/random/uuid)
curl "${P[@]}" -o /dev/null -X POST "$URL/resource_providers" -d "{\"name\":\"gpu-a100-0\",\"uuid\":\"$ROOT\"}"
cat > "$WORK/agent.conf" <<EOF
[agent]
state_dir = $WORK/state
libvirt_uri = none
host_traits = CUSTOM_SHARE_GPU_XXX_HOST_LEVEL3
[placement]
auth_type = admin_token
token = admin
endpoint_override = $URL
EOF

now() { date +%s.%N; }
echo "# Placement benchmark: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "# Placement $(dpkg-query -W -f='${Version}' python3-placement) (wsgiref, SQLite) on 127.0.0.1"

before=$(requests_logged)
t0=$(now)
out=$("$BIN" --config "$WORK/agent.conf" report --once --fixture "$FIXTURE" 2>&1 | tail -1)
t1=$(now)
after=$(requests_logged)
echo "cold start (report --once, empty placement): $(echo "$out" | grep -o '[0-9]* request(s), [0-9]* write(s)'), placement logged $((after - before)), $(printf '%.0f' "$(echo "($t1 - $t0) * 1000" | bc)") ms"

before=$(requests_logged)
t0=$(now)
out=$("$BIN" --config "$WORK/agent.conf" report --once --fixture "$FIXTURE" 2>&1 | tail -1)
t1=$(now)
after=$(requests_logged)
echo "fresh process, nothing to change (report --once): $(echo "$out" | grep -o '[0-9]* request(s), [0-9]* write(s)'), placement logged $((after - before)), $(printf '%.0f' "$(echo "($t1 - $t0) * 1000" | bc)") ms"

# The daemon: PASSES passes back to back, RSS sampled while it runs.
before=$(requests_logged)
t0=$(now)
"$BIN" --config "$WORK/agent.conf" run --fixture "$FIXTURE" --max-passes "$PASSES" --interval 0.001 -v \
  2> "$WORK/daemon.log" &
pid=$!
samples=()
while kill -0 "$pid" 2>/dev/null; do
  rss=$(awk '/^VmRSS/ {print $2}' "/proc/$pid/status" 2>/dev/null || true)
  [ -n "$rss" ] && samples+=("$rss")
  sleep 0.2
done
wait "$pid"
t1=$(now)
after=$(requests_logged)
passes=$(grep -c 'pass done' "$WORK/daemon.log" || true)
one=$(grep -c 'pass done: no changes (1 request(s))' "$WORK/daemon.log" || true)
writes=$(grep -c ' INFO \(create\|set\|delete\|host traits\)' "$WORK/daemon.log" || true)
first=${samples[1]:-${samples[0]:-0}}
last=${samples[-1]:-0}
max=$(printf '%s\n' "${samples[@]}" | sort -n | tail -1)
total_ms=$(echo "($t1 - $t0) * 1000" | bc)
echo "daemon: $passes passes in $(printf '%.0f' "$total_ms") ms ($(echo "scale=2; $total_ms / $passes" | bc) ms/pass incl. placement);" \
     "$one of them answered with 1 request; placement logged $((after - before)) requests; $writes writes"
echo "daemon RSS: first sample ${first} kB, last ${last} kB, max ${max} kB over ${#samples[@]} samples"
