#!/usr/bin/env bash
# Observability figures for BENCHMARKS.md: what keeping the pools' `used`
# fresh costs in Placement requests ([agent] usage_refresh), what writing
# status.json and the metrics file after every pass costs in time, and the
# metrics file's size, for the bundled 8x A100 host against a real local
# Placement. Requests are counted from Placement's own request log.
# Usage: scripts/bench-observability.sh [PASSES]   (default 300)
set -euo pipefail
cd "$(dirname "$0")/.."
PASSES=${1:-300}
scripts/install-deps.sh >/dev/null
GPU_AGENT_TARGETS=gpu-agent scripts/build.sh >/dev/null
BIN=$PWD/${GPU_AGENT_BUILD_DIR:-build}/agent/gpu-agent
FIXTURE=tests/data/hosts/a100-8x-passthrough.sysfs.txt
WORK=$(mktemp -d /tmp/gpu-agent-bench-obs.XXXXXX)
trap 'scripts/placement-server.sh stop "$WORK/placement" >/dev/null 2>&1; rm -rf "$WORK"' EXIT

URL=$(scripts/placement-server.sh start "$WORK/placement" 0)
PLOG=$WORK/placement/placement.log
requests_logged() { grep -c 'placement.requestlog' "$PLOG" || true; }
usages_logged() { grep 'placement.requestlog' "$PLOG" | grep -c '/usages' || true; }
P=(-s -H 'X-Auth-Token: admin' -H 'OpenStack-API-Version: placement 1.39' -H 'Content-Type: application/json')
ROOT=$(cat /proc/sys/kernel/random/uuid)
curl "${P[@]}" -o /dev/null -X POST "$URL/resource_providers" -d "{\"name\":\"gpu-a100-0\",\"uuid\":\"$ROOT\"}"
conf() {  # conf USAGE_REFRESH: a config file, printed path
  cat > "$WORK/agent-$1.conf" <<CONF
[agent]
state_dir = $WORK/state
libvirt_uri = none
usage_refresh = $1
[placement]
auth_type = admin_token
token = admin
endpoint_override = $URL
CONF
  echo "$WORK/agent-$1.conf"
}
now() { date +%s.%N; }
echo "# Observability benchmark: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "# Placement $(dpkg-query -W -f='${Version}' python3-placement) (wsgiref, SQLite) on 127.0.0.1; $PASSES passes per run"
"$BIN" --config "$(conf 0)" report --once --fixture "$FIXTURE" 2>/dev/null  # the pool exists from here on

# run LABEL INTERVAL USAGE_REFRESH [--metrics-file F]: PASSES passes back to back
run() {
  local label=$1 interval=$2 refresh=$3; shift 3
  local before usages t0 t1
  before=$(requests_logged); usages=$(usages_logged)
  t0=$(now)
  "$BIN" --config "$(conf "$refresh")" run --fixture "$FIXTURE" --max-passes "$PASSES" --interval "$interval" "$@" \
    2> "$WORK/daemon.log"
  t1=$(now)
  local n=$(( $(requests_logged) - before )) u=$(( $(usages_logged) - usages ))
  # every run resumes from state.json (the pool exists): all its passes are steady state
  echo "$label: $n requests in $PASSES passes ($(echo "scale=3; $n / $PASSES" | bc) per pass), $u of them usages GETs;" \
       "$(echo "scale=2; ($t1 - $t0) * 1000 / $PASSES" | bc) ms per pass (interval $interval s included)"
}
run "usage_refresh = 0 (off: usages only on full reads)" 0.001 0
run "usage_refresh = 1 s at a 0.1 s interval (like the default 300 s at 60 s: about 1 in 4)" 0.1 1
run "usage_refresh = 0.001 s (usages read every pass)" 0.001 0.001

# The files after every pass: status.json always, the metrics file when asked.
run "no metrics file (status.json only)" 0.001 0
run "with --metrics-file (status.json + metrics, both fsynced)" 0.001 0 --metrics-file "$WORK/gpu_agent.prom"
echo "metrics file: $(wc -c < "$WORK/gpu_agent.prom") bytes, $(grep -c '^gpu_agent_' "$WORK/gpu_agent.prom") samples," \
     "$(grep -c '^# TYPE' "$WORK/gpu_agent.prom") families; status.json: $(wc -c < "$WORK/state/status.json") bytes"
promtool check metrics < "$WORK/gpu_agent.prom" && echo "promtool check metrics: ok"
t0=$(now); for _ in $(seq 1 100); do "$BIN" --config "$(conf 0)" status > /dev/null || true; done; t1=$(now)
echo "gpu-agent status: $(echo "scale=1; ($t1 - $t0) * 1000 / 100" | bc) ms per run (process start included)"
