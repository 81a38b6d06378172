#!/usr/bin/env bash
# Fleet benchmark: N real `gpu-agent run` daemons against a production-shaped
# Placement (uwsgi workers on MariaDB). Figures for BENCHMARKS.md ("Fleet"); not a test.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() {
  cat <<'EOF'
Usage: scripts/bench-fleet.sh [--nodes N] [--interval S] [--cold-splay auto|S] [--outage S]
                              [--workers W] [--cand-hosts H] [--sizes 1,2,4,8] [--phases LIST]
                              [--no-compute-id] [--keep]

Starts scripts/placement-prod.sh (MariaDB on a private socket, Placement under
uwsgi with W workers; fresh state under a mktemp dir) and then, as
scripts/bench_fleet.py describes:
  fleet       N compute nodes, each a root provider created as nova-compute
              does (VCPU, MEMORY_MB, DISK_GB, traits) and its own `gpu-agent run`
              (the 8x A100 fixture, --interval S, retry_max S, usage_refresh 5 S,
              nova's compute_id file naming its root, as nova 2023.1+ writes it):
              cold start of all N at once (a first deployment: no state.json;
              --cold-splay, default auto under INVOCATION_ID), steady state
              (requests and Placement CPU per node per interval), the whole fleet
              restarted at once without splay and with `--splay auto` under
              INVOCATION_ID (what systemd sets), and a Placement API outage of
              --outage seconds then recovery (converge time, peak rate vs steady).
  candidates  H pool-model hosts (one child, total = max_unit = 8) and H
              per-device hosts (8 children of total 1) beside the fleet, then
              GET /allocation_candidates (limit=1000) for a VCPU-only request,
              the pool model and the per-device model at each size.
  sid         the per-device and VCPU-only queries again on Debian unstable's
              Placement (scripts/debian-root.sh ensure sid) on a copy of the
              database, with [placement] max_allocation_candidates = 1000 and
              allocation_candidates_generation_strategy = breadth-first.
Requests are counted from Placement's own request log. A short interval makes
the load of a bigger fleet at the normal one: N nodes every S seconds send what
N x 60/S nodes send every 60 s. Installs what it needs (apt-get: mariadb-server,
python3-pymysql, uwsgi-plugin-python3, python3-placement) and builds gpu-agent
when build/agent/gpu-agent is missing (or set AGENT=/path/to/gpu-agent).
Output: JSON on stdout, and results.json in the state dir.

  --nodes N        daemons (default 200)
  --interval S     seconds between passes (default 10)
  --cold-splay X   the cold start's `run --splay`: auto (as systemd starts it:
                   2 intervals on a first deployment, 2.5 with --no-compute-id;
                   the default) or seconds
  --outage S       seconds the API is down (default 120; 0 skips that phase)
  --workers W      uwsgi worker processes (default 4)
  --cand-hosts H   hosts per model for the candidates (default 1000)
  --sizes LIST     GPUs per request for the candidates (default 1,2,4,8)
  --phases LIST    which of fleet,candidates,sid (default all three)
  --no-compute-id  no compute_id file (nova before 2023.1): lookups by name
  --keep           leave Placement running and its state dir in place
EOF
}

die() { echo "bench-fleet: $*" >&2; exit 1; }

NODES=200 INTERVAL=10 COLD_SPLAY=auto OUTAGE=120 WORKERS=4 CAND_HOSTS=1000 SIZES=1,2,4,8 PHASES=fleet,candidates,sid KEEP=0
COMPUTE_ID=()
while [ $# -gt 0 ]; do
  case $1 in
    --nodes) [ $# -ge 2 ] || die "--nodes needs a value"; NODES=$2; shift 2 ;;
    --interval) [ $# -ge 2 ] || die "--interval needs a value"; INTERVAL=$2; shift 2 ;;
    --cold-splay) [ $# -ge 2 ] || die "--cold-splay needs a value"; COLD_SPLAY=$2; shift 2 ;;
    --outage) [ $# -ge 2 ] || die "--outage needs a value"; OUTAGE=$2; shift 2 ;;
    --workers) [ $# -ge 2 ] || die "--workers needs a value"; WORKERS=$2; shift 2 ;;
    --cand-hosts) [ $# -ge 2 ] || die "--cand-hosts needs a value"; CAND_HOSTS=$2; shift 2 ;;
    --sizes) [ $# -ge 2 ] || die "--sizes needs a value"; SIZES=$2; shift 2 ;;
    --phases) [ $# -ge 2 ] || die "--phases needs a value"; PHASES=$2; shift 2 ;;
    --keep) KEEP=1; shift ;;
    --no-compute-id) COMPUTE_ID=(--no-compute-id); shift ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument: $1" ;;
  esac
done
[[ $NODES =~ ^[1-9][0-9]*$ ]] || die "--nodes must be a positive integer, not '$NODES'"
[[ $INTERVAL =~ ^[0-9]+(\.[0-9]+)?$ && $INTERVAL != 0 ]] || die "--interval must be positive seconds, not '$INTERVAL'"
[[ $COLD_SPLAY == auto || $COLD_SPLAY =~ ^[0-9]+(\.[0-9]+)?$ ]] || die "--cold-splay must be auto or seconds, not '$COLD_SPLAY'"
[[ $OUTAGE =~ ^[0-9]+$ ]] || die "--outage must be whole seconds, not '$OUTAGE'"
[[ $WORKERS =~ ^[1-9][0-9]*$ ]] || die "--workers must be a positive integer, not '$WORKERS'"
[[ $CAND_HOSTS =~ ^[1-9][0-9]*$ ]] || die "--cand-hosts must be a positive integer, not '$CAND_HOSTS'"
[[ $SIZES =~ ^[1-9][0-9]*(,[1-9][0-9]*)*$ ]] || die "--sizes must be like 1,2,4,8, not '$SIZES'"
[[ $PHASES =~ ^(fleet|candidates|sid)(,(fleet|candidates|sid))*$ ]] || die "--phases must name fleet, candidates or sid"

# 200 daemons and their logs: raise the open-files limit if it is low.
ulimit -n 65536 2>/dev/null || true

AGENT=${AGENT:-build/agent/gpu-agent}
if [ ! -x "$AGENT" ]; then
  echo "bench-fleet: building gpu-agent" >&2
  GPU_AGENT_TARGETS=gpu-agent scripts/build.sh >&2
fi
AGENT=$(cd "$(dirname "$AGENT")" && pwd)/$(basename "$AGENT")

WORK=$(mktemp -d /tmp/gpu-agent-bench-fleet.XXXXXX)
cleanup() {
  local rc=$?
  if [ "$KEEP" = 1 ]; then
    echo "bench-fleet: kept $WORK (stop: scripts/placement-prod.sh stop $WORK/placement)" >&2
  else
    scripts/placement-prod.sh stop "$WORK/placement" || true
    rm -rf "$WORK"
  fi
  exit "$rc"
}
trap cleanup EXIT INT TERM

URL=$(PLACEMENT_PROD_INSTALL=1 PLACEMENT_PROD_WORKERS=$WORKERS scripts/placement-prod.sh start "$WORK/placement")
echo "bench-fleet: Placement at $URL ($WORKERS uwsgi workers, MariaDB), state $WORK" >&2
/usr/bin/python3 scripts/bench_fleet.py --agent "$AGENT" --state "$WORK" --url "$URL" --nodes "$NODES" \
  --interval "$INTERVAL" --cold-splay "$COLD_SPLAY" --outage "$OUTAGE" --workers "$WORKERS" --cand-hosts "$CAND_HOSTS" --sizes "$SIZES" \
  --phases "$PHASES" "${COMPUTE_ID[@]}"
echo "bench-fleet: machine: $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), load average $(cut -d' ' -f1-3 /proc/loadavg)" >&2
