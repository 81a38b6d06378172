#!/usr/bin/env bash
# A whole nova on 127.0.0.1 for the end-to-end tests and the boot demo:
# RabbitMQ (Debian's rabbitmq-server, private epmd, no systemd), Placement
# (scripts/placement-server.sh), a Glance/Neutron stub (tests/e2e), nova-api
# (no keystone: "X-Auth-Token: USER:PROJECT"), nova-conductor, nova-scheduler
# (PciPassthroughFilter on) and one nova-compute per compute host, each with its
# own `host` name and the fake virt driver tests/e2e/gpu_agent_fake_virt.py
# reporting the PCI devices of a sysfs fixture host. SQLite for the API DB, cell0
# and cell1. Debian's python3-nova: Zed on Debian 12; 2025.1 and the newest inside
# a root of scripts/debian-root.sh (scripts/release-env.sh run RELEASE -- ...).
# Each service starts as its nova release does: Zed's and 2025.1's conductor,
# scheduler and computes monkey patch with eventlet; nova 34's run in native
# threading (its own default); the API never uses eventlet.
#
# Usage: scripts/nova-stack.sh start|stop|status STATE_DIR
#        scripts/nova-stack.sh stop-compute|start-compute STATE_DIR HOST
#        scripts/nova-stack.sh --help
#   start   starts everything on free loopback ports; prints STATE_DIR/env
#           (NOVA_URL PLACEMENT_URL STUB_URL IMAGE_ID TRANSPORT_URL
#           COMPUTE_HOSTS, and COMPUTE_RP_<n> per host) once every compute
#           host's provider is in placement and mapped to cell1. Refuses to
#           start over a running stack. On failure: log tail, stop, exit 1.
#   stop    SIGTERM to the processes whose pids this script recorded in
#           STATE_DIR/pids (after checking each cmdline), SIGKILL after a
#           timeout; idempotent. Never touches anything else.
#   status  one line per process: "NAME running PID" or "NAME stopped";
#           exit 0 when all run, 3 otherwise.
#   stop-compute HOST   stops HOST's nova-compute only (SIGTERM, SIGKILL after
#           20 s), as for an evacuation (force the service down in nova's API
#           after) or a restart; idempotent.
#   start-compute HOST  starts HOST's nova-compute again with the same
#           configuration and fixture (its log is appended to); refuses when it
#           runs. Returns once the process runs: wait for nova's service state.
# Configuration the caller installs BEFORE start (as on a real deployment):
#   STATE_DIR/nova.conf.d/*.conf         read by nova-api, conductor, scheduler
#                                        (e.g. `gpu-agent nova-config --role api`)
#   STATE_DIR/compute/HOST/nova.conf.d/*.conf   read by HOST's nova-compute
#                                        (e.g. `gpu-agent nova-config --role compute`)
# Environment:
#   NOVA_STACK_COMPUTES="HOST=FIXTURE ..."  compute hosts and their fixtures
#       (default: gpu-a100-0=tests/data/hosts/a100-8x-passthrough.sysfs.txt).
#       The fake driver re-reads FIXTURE on every periodic update.
#   NOVA_STACK_UPDATE_INTERVAL  nova-compute update_resources_interval, s (10)
#   NOVA_STACK_WATCH_PID=PID    stop the whole stack when process PID exits
#   NOVA_STACK_DEBUG=true       nova debug logging
# Logs: STATE_DIR/logs/*.log, placement's in STATE_DIR/placement/placement.log.
# Needs: scripts/install-deps.sh (python3-nova, python3-placement, rabbitmq-server).
set -euo pipefail

ME=nova-stack
usage() { sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; }
case ${1:-} in -h|--help|help) usage; exit 0 ;; esac
[ $# -ge 2 ] || { usage >&2; exit 2; }
CMD=$1
case $CMD in
  start|stop|status) [ $# -eq 2 ] || { usage >&2; exit 2; } ;;
  stop-compute|start-compute) [ $# -eq 3 ] || { usage >&2; exit 2; } ;;
  *) usage >&2; exit 2 ;;
esac
mkdir -p "$2"
DIR=$(cd "$2" && pwd)
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
E2E=$ROOT/tests/e2e
PY=/usr/bin/python3
PIDS=$DIR/pids
LOGS=$DIR/logs
# nova-api runs without eventlet; the other services need its monkey patching
# (with OS_NOVA_DISABLE_EVENTLET_PATCHING=1, which callers like CTest may set,
# the conductor never answers RPC)
unset OS_NOVA_DISABLE_EVENTLET_PATCHING
# no __pycache__ in the source tree from the modules in tests/e2e
export PYTHONDONTWRITEBYTECODE=1
T0=$(date +%s%N)
say() { printf '%s [%5.1fs] %s\n' "$ME" "$(( ($(date +%s%N) - T0) / 1000000 ))e-3" "$*" >&2; }

running() {  # alive and not a zombie
  local state
  kill -0 "$1" 2>/dev/null || return 1
  state=$(sed 's/^.*) \(.\).*/\1/' "/proc/$1/stat" 2>/dev/null) || return 1
  [ "$state" != Z ]
}
# our pid file NAME names a live process whose cmdline contains $2
ours() {
  local f=$PIDS/$1.pid pid
  [ -f "$f" ] || return 1
  pid=$(cat "$f")
  [ -n "$pid" ] && running "$pid" || return 1
  tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$2"
}
marker() {  # what the cmdline of each of our processes contains
  case $1 in
    epmd) echo "epmd -port" ;;
    rabbitmq) echo "/usr/lib/rabbitmq/bin/rabbitmq-server" ;;
    watch) echo "nova-stack-watch $DIR" ;;
    *) echo "$DIR" ;;
  esac
}
names() {  # NAME of every PIDS/NAME.pid, sorted
  local f
  for f in "$PIDS"/*.pid; do
    [ -e "$f" ] || continue
    f=${f##*/}
    echo "${f%.pid}"
  done
}

stop_group() {  # stop_group TIMEOUT_S NAME...: SIGTERM together, then SIGKILL
  local t=$1 n pid; shift
  local -A live=()
  for n in "$@"; do
    [ -f "$PIDS/$n.pid" ] || continue
    if ours "$n" "$(marker "$n")"; then
      pid=$(cat "$PIDS/$n.pid"); kill "$pid" 2>/dev/null || true; live[$n]=$pid
    else
      rm -f "$PIDS/$n.pid"
    fi
  done
  for _ in $(seq 1 $(( t * 10 ))); do
    for n in "${!live[@]}"; do
      running "${live[$n]}" || { rm -f "$PIDS/$n.pid"; unset "live[$n]"; }
    done
    [ ${#live[@]} -eq 0 ] && return 0
    sleep 0.1
  done
  for n in "${!live[@]}"; do
    say "$n (${live[$n]}) still running after ${t}s: SIGKILL"
    kill -9 "${live[$n]}" 2>/dev/null || true
    rm -f "$PIDS/$n.pid"
  done
}

do_stop() {
  local n services=()
  for n in $(names); do
    case $n in nova-*|stub) services+=("$n") ;; esac
  done
  # oslo.service's graceful stop takes ~4 s per service: all at once
  [ ${#services[@]} -eq 0 ] || stop_group 20 "${services[@]}"
  if [ -d "$DIR/placement" ]; then "$HERE/placement-server.sh" stop "$DIR/placement" >/dev/null 2>&1 || true; fi
  stop_group 30 rabbitmq   # the wrapper stops beam cleanly on SIGTERM
  stop_group 5 epmd
  if [ "${NOVA_STACK_IN_WATCHER:-0}" = 1 ]; then rm -f "$PIDS/watch.pid"; else stop_group 2 watch; fi
  rm -f "$DIR/env"
}

do_status() {
  local n all=0 any=0
  for n in $(names); do
    any=1
    if ours "$n" "$(marker "$n")"; then echo "$n running $(cat "$PIDS/$n.pid")"; else echo "$n stopped"; all=3; fi
  done
  if [ -d "$DIR/placement" ]; then "$HERE/placement-server.sh" status "$DIR/placement" | sed 's/^/placement /' || all=3; fi
  [ $any = 1 ] || { echo "stopped"; return 3; }
  return $all
}

fail() {
  say "$*"
  do_stop
  exit 1
}
tail_fail() {  # tail_fail LOG MESSAGE
  [ -f "$1" ] && { echo "--- last lines of $1:" >&2; tail -n 40 "$1" >&2; }
  fail "$2"
}

bg() {  # bg NAME CMD...: start in the background, pid and log under STATE_DIR
  local name=$1; shift
  if [ "${BG_APPEND:-0}" = 1 ]; then
    nohup "$@" >> "$LOGS/$name.log" 2>&1 < /dev/null &
  else
    nohup "$@" > "$LOGS/$name.log" 2>&1 < /dev/null &
  fi
  echo $! > "$PIDS/$name.pid"
}
alive_or_fail() { ours "$1" "$(marker "$1")" || tail_fail "$LOGS/$1.log" "$1 exited"; }
freeport() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_line() {  # wait_line NAME SED_EXPR TIMEOUT_S: first match of sed -n EXPR in NAME's log
  local v i
  for i in $(seq 1 $(( $3 * 10 ))); do
    alive_or_fail "$1"
    v=$(sed -n "$2" "$LOGS/$1.log" | head -n 1)
    [ -n "$v" ] && { echo "$v"; return 0; }
    sleep 0.1
  done
  tail_fail "$LOGS/$1.log" "$1: nothing after $3 s"
}
manage() {  # nova-manage without nova-common; BEGIN IMMEDIATE like the services
  PYTHONPATH=$E2E${PYTHONPATH:+:$PYTHONPATH} "$PY" -c 'import sys; from nova.cmd.manage import main
import gpu_agent_sqlite
sys.argv[0] = "nova-manage"; sys.exit(main())' \
    --config-file "$DIR/nova.conf" --config-dir "$DIR/nova.conf.d" "$@"
}

launch_compute() {  # launch_compute HOST: its nova-compute, configured by do_start
  local c=$DIR/compute/$1
  # Zed imports compute_driver only as nova.virt.<name>: register ours there
  # after nova.cmd's monkey patching, before main()
  GPU_AGENT_FAKE_FIXTURE=$(cat "$c/fixture") PYTHONPATH=$E2E${PYTHONPATH:+:$PYTHONPATH} \
    bg "nova-compute-$1" "$PY" -c "import sys; sys.argv[0] = 'nova-compute'
from nova.cmd.compute import main
import gpu_agent_fake_virt; sys.modules['nova.virt.gpu_agent_fake_virt'] = gpu_agent_fake_virt
import gpu_agent_sqlite
main()" --config-file "$c/nova-compute.conf" --config-dir "$c/nova.conf.d"
}

compute_host() {  # the HOST argument: a compute host of this stack
  [[ $1 =~ ^[A-Za-z0-9._-]+$ && -f $DIR/compute/$1/nova-compute.conf ]] ||
    { say "$1 is not a compute host of the stack in $DIR (see $DIR/env: COMPUTE_HOSTS)"; exit 2; }
}

do_stop_compute() {
  compute_host "$1"
  stop_group 20 "nova-compute-$1"
  say "nova-compute-$1 stopped"
}

do_start_compute() {
  compute_host "$1"
  [ -f "$DIR/env" ] || { say "the stack in $DIR is not running: scripts/nova-stack.sh start $DIR"; exit 1; }
  if ours "nova-compute-$1" "$(marker "nova-compute-$1")"; then
    say "nova-compute-$1 is running: scripts/nova-stack.sh stop-compute $DIR $1 first"; exit 1
  fi
  unset OS_NOVA_DISABLE_EVENTLET_PATCHING
  BG_APPEND=1 launch_compute "$1"
  sleep 0.5
  alive_or_fail_compute "nova-compute-$1"
  say "nova-compute-$1 started (pid $(cat "$PIDS/nova-compute-$1.pid"))"
}
alive_or_fail_compute() {  # unlike alive_or_fail, never stops the whole stack
  ours "$1" "$(marker "$1")" && return 0
  echo "--- last lines of $LOGS/$1.log:" >&2; tail -n 40 "$LOGS/$1.log" >&2
  say "$1 exited"; exit 1
}

do_start() {
  local missing=()
  NOVA_DIR=$("$PY" -c 'import importlib.util as u, os; print(os.path.dirname(u.find_spec("nova").origin))' 2>/dev/null) ||
    missing+=(python3-nova)
  "$PY" -c 'import importlib.util as u, sys; sys.exit(u.find_spec("placement") is None)' 2>/dev/null || missing+=(python3-placement)
  [ -x /usr/lib/rabbitmq/bin/rabbitmq-server ] || missing+=(rabbitmq-server)
  command -v curl >/dev/null || missing+=(curl)
  if [ ${#missing[@]} -gt 0 ]; then
    say "${missing[*]} missing: run scripts/install-deps.sh (in a Debian root of scripts/debian-root.sh: its preset lacks them)"
    exit 1
  fi
  local n
  for n in $(names); do
    ours "$n" "$(marker "$n")" && { say "$n is running: scripts/nova-stack.sh stop $DIR first"; exit 1; }
    rm -f "$PIDS/$n.pid"
  done
  mkdir -p "$PIDS" "$LOGS" "$DIR/nova.conf.d" "$DIR/lock" "$DIR/state"
  local uri=${NOVA_STACK_UPDATE_INTERVAL:-10} debug=${NOVA_STACK_DEBUG:-false}
  local computes=${NOVA_STACK_COMPUTES:-gpu-a100-0=$ROOT/tests/data/hosts/a100-8x-passthrough.sysfs.txt}
  local hosts=() fixtures=() h f
  for n in $computes; do
    h=${n%%=*}; f=${n#*=}
    [[ -n $h && $h != "$n" && -f $f ]] || fail "NOVA_STACK_COMPUTES: '$n' is not HOST=FIXTURE_FILE"
    hosts+=("$h"); fixtures+=("$(cd "$(dirname "$f")" && pwd)/$(basename "$f")")
  done

  # -- RabbitMQ on its own epmd, in the foreground of its wrapper, no systemd
  local rmq_port epmd_port dist_port R=$DIR/rabbit
  rmq_port=$(freeport); epmd_port=$(freeport); dist_port=$(freeport)
  rm -rf "$R"; mkdir -p "$R/home" "$R/mnesia" "$R/log"
  : > "$R/rabbitmq-env.conf"    # not /etc/rabbitmq/rabbitmq-env.conf
  echo '[].' > "$R/enabled_plugins"
  printf 'listeners.tcp.1 = 127.0.0.1:%s\nloopback_users = none\n' "$rmq_port" > "$R/rabbitmq.conf"
  bg epmd /usr/bin/epmd -port "$epmd_port" -address 127.0.0.1
  # /usr/sbin/rabbitmq-server su's to user rabbitmq; lib/.../rabbitmq-server runs
  # beam under a shell that turns SIGTERM into a clean shutdown
  HOME=$R/home ERL_EPMD_PORT=$epmd_port RABBITMQ_CONF_ENV_FILE=$R/rabbitmq-env.conf \
  RABBITMQ_CONFIG_FILE=$R/rabbitmq.conf RABBITMQ_ENABLED_PLUGINS_FILE=$R/enabled_plugins \
  RABBITMQ_MNESIA_BASE=$R/mnesia RABBITMQ_LOG_BASE=$R/log RABBITMQ_NODENAME=gpuagent$rmq_port@localhost \
  RABBITMQ_DIST_PORT=$dist_port RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-start_epmd false" \
    bg rabbitmq /usr/lib/rabbitmq/bin/rabbitmq-server
  local transport=rabbit://guest:guest@127.0.0.1:$rmq_port/
  say "rabbitmq starting on $rmq_port"

  if [ -n "${NOVA_STACK_WATCH_PID:-}" ]; then
    local w=$NOVA_STACK_WATCH_PID
    nohup bash -c "exec -a 'nova-stack-watch $DIR' bash -c 'while kill -0 $w 2>/dev/null; do sleep 1; done; NOVA_STACK_IN_WATCHER=1 \"$0\" stop \"$DIR\"'" \
      > "$LOGS/watch.log" 2>&1 < /dev/null &
    echo $! > "$PIDS/watch.pid"
  fi

  # -- the image/network stub; placement's port (it starts after the DB setup
  # has been launched: both take seconds, in parallel)
  local placement_port placement_url stub_url image_id
  bg stub "$PY" "$E2E/stub_image_network.py" 0 "$DIR"
  stub_url=$(wait_line stub 's#^listening \(http://.*\)$#\1#p' 10)
  image_id=$(wait_line stub 's#^image \(.*\)$#\1#p' 10)
  placement_port=$(freeport)
  placement_url=http://127.0.0.1:$placement_port

  # -- configuration. The API's paste pipeline "keystone" (the default
  # [api] auth_strategy; nova 34 has no other) authenticates with the project's
  # loopback-only noauth filter (tests/e2e/gpu_agent_noauth_token.py): nova 34
  # dropped noauth2, and from 2025.1 nova's policies want roles noauth2 never set
  cat > "$DIR/api-paste.ini" <<'EOF'
[composite:osapi_compute]
use = call:nova.api.openstack.urlmap:urlmap_factory
/: oscomputeversions
/v2.1: oscomputeversion_v2
/v2.1/+: openstack_compute_api_v21
[composite:openstack_compute_api_v21]
use = call:nova.api.auth:pipeline_factory_v21
keystone = compute_req_id faultwrap request_log sizelimit gpu_agent_noauth osapi_compute_app_v21
[filter:request_log]
paste.filter_factory = nova.api.openstack.requestlog:RequestLog.factory
[filter:compute_req_id]
paste.filter_factory = nova.api.compute_req_id:ComputeReqIdMiddleware.factory
[filter:faultwrap]
paste.filter_factory = nova.api.openstack:FaultWrapper.factory
[filter:gpu_agent_noauth]
paste.filter_factory = gpu_agent_noauth_token:noauth_factory
[filter:sizelimit]
paste.filter_factory = oslo_middleware:RequestBodySizeLimiter.factory
[app:osapi_compute_app_v21]
paste.app_factory = nova.api.openstack.compute:APIRouterV21.factory
[pipeline:oscomputeversions]
pipeline = faultwrap request_log oscomputeversionapp
[pipeline:oscomputeversion_v2]
pipeline = compute_req_id faultwrap request_log oscomputeversionapp_v2
[app:oscomputeversionapp]
paste.app_factory = nova.api.openstack.compute.versions:Versions.factory
[app:oscomputeversionapp_v2]
paste.app_factory = nova.api.openstack.compute.versions:VersionsV2.factory
EOF
  common() {  # common STATE LOCK EXTRA_DEFAULT_LINES
    cat <<EOF
[DEFAULT]
debug = $debug
use_stderr = true
transport_url = $transport
my_ip = 127.0.0.1
state_path = $1
$3
[oslo_concurrency]
lock_path = $2
[placement]
auth_type = admin_token
token = admin
endpoint = $placement_url
endpoint_override = $placement_url
[glance]
api_servers = $stub_url
[neutron]
auth_type = admin_token
token = admin
endpoint = $stub_url
endpoint_override = $stub_url
[cinder]
os_region_name = RegionOne
[vnc]
enabled = false
[oslo_messaging_notifications]
driver = noop
EOF
  }
  # AvailabilityZoneFilter went in 2024.1 (placement's AZ prefilter does its job)
  local filters=ComputeFilter,AvailabilityZoneFilter,ComputeCapabilitiesFilter,ImagePropertiesFilter
  [ -f "$NOVA_DIR/scheduler/filters/availability_zone_filter.py" ] || filters=${filters/AvailabilityZoneFilter,/}
  filters+=,ServerGroupAntiAffinityFilter,ServerGroupAffinityFilter,PciPassthroughFilter
  { common "$DIR/state" "$DIR/lock" ""; cat <<EOF
[wsgi]
api_paste_config = $DIR/api-paste.ini
[api_database]
connection = sqlite:///$DIR/nova_api.sqlite?timeout=60
[database]
connection = sqlite:///$DIR/nova_cell1.sqlite?timeout=60
[conductor]
workers = 1
[scheduler]
workers = 1
discover_hosts_in_cells_interval = 5
[quota]
# flavors sized to whole GPU hosts exceed nova's default quotas (20 cores)
instances = -1
cores = -1
ram = -1
[filter_scheduler]
enabled_filters = $filters
EOF
  } > "$DIR/nova.conf"
  local i c
  for i in "${!hosts[@]}"; do
    c=$DIR/compute/${hosts[$i]}
    mkdir -p "$c/nova.conf.d" "$c/state/instances" "$c/lock"
    # no [database]: nova-compute reaches the DB through the conductor
    { common "$c/state" "$c/lock" "host = ${hosts[$i]}
compute_driver = gpu_agent_fake_virt.FixtureGPUDriver
update_resources_interval = $uri
heal_instance_info_cache_interval = -1
instances_path = $c/state/instances"
    } > "$c/nova-compute.conf"
    echo "${fixtures[$i]}" > "$c/fixture"
  done

  # -- databases and cells (fresh every start), while placement starts
  rm -f "$DIR"/nova_api.sqlite "$DIR"/nova_cell0.sqlite "$DIR"/nova_cell1.sqlite
  # api_db sync, map_cell0, create_cell cell1, db sync: one process, one nova import
  "$PY" "$E2E/nova_db_setup.py" "sqlite:///$DIR/nova_cell0.sqlite?timeout=60" \
    --wal "$DIR/nova_api.sqlite" --wal "$DIR/nova_cell0.sqlite" --wal "$DIR/nova_cell1.sqlite" -- \
    --config-file "$DIR/nova.conf" --config-dir "$DIR/nova.conf.d" > "$LOGS/db-sync.log" 2>&1 &
  local dbpid=$!
  local got
  got=$(PLACEMENT_SERVER_RESET=1 "$HERE/placement-server.sh" start "$DIR/placement" "$placement_port" 2>"$LOGS/placement-start.log") ||
    { wait $dbpid || true; tail_fail "$LOGS/placement-start.log" "placement did not start"; }
  [ "$got" = "$placement_url" ] || { wait $dbpid || true; fail "placement answered at $got, not $placement_url"; }
  say "placement at $placement_url"
  wait $dbpid || tail_fail "$LOGS/db-sync.log" "nova db setup failed"
  say "nova api db, cell0 and cell1 ready"
  # the API needs no message bus to start: before rabbit is up. The launcher of
  # scripts/nova-api-server.sh, reading nova.conf.d/ too; tests/e2e on the path
  # for the paste filter gpu_agent_noauth_token and gpu_agent_sqlite
  OS_NOVA_DISABLE_EVENTLET_PATCHING=1 PYTHONPATH=$E2E${PYTHONPATH:+:$PYTHONPATH} \
    bg nova-api "$PY" "$HERE/nova_api_wsgi.py" --conf-d --preload gpu_agent_sqlite "$DIR"

  for _ in $(seq 1 300); do
    (echo > "/dev/tcp/127.0.0.1/$rmq_port") 2>/dev/null && break
    alive_or_fail rabbitmq
    sleep 0.1
  done
  (echo > "/dev/tcp/127.0.0.1/$rmq_port") 2>/dev/null || tail_fail "$LOGS/rabbitmq.log" "rabbitmq does not listen"
  say "rabbitmq up"

  # -- nova services
  local svc
  for svc in conductor scheduler; do
    # gpu_agent_sqlite: BEGIN IMMEDIATE, so that processes sharing the SQLite
    # files wait for each other instead of failing with "database is locked"
    PYTHONPATH=$E2E${PYTHONPATH:+:$PYTHONPATH} \
      bg "nova-$svc" "$PY" -c "import sys; sys.argv[0] = 'nova-$svc'; from nova.cmd.$svc import main
import gpu_agent_sqlite
main()" --config-file "$DIR/nova.conf" --config-dir "$DIR/nova.conf.d"
  done
  for i in "${!hosts[@]}"; do launch_compute "${hosts[$i]}"; done
  local api
  api=$(wait_line nova-api 's#^Available at \(http://[^/]*\)/$#\1#p' 90)
  local nova_url=$api/v2.1
  say "nova-api at $nova_url"

  # -- every compute's root provider in placement, then map the hosts to cell1
  local rps=() rp
  for i in "${!hosts[@]}"; do
    rp=
    for _ in $(seq 1 300); do
      for n in nova-conductor nova-scheduler "nova-compute-${hosts[$i]}"; do alive_or_fail "$n"; done
      rp=$(curl -sf -H 'X-Auth-Token: admin' -H 'OpenStack-API-Version: placement 1.39' \
             "$placement_url/resource_providers?name=${hosts[$i]}" |
           grep -o '"uuid": *"[0-9a-f-]*"' | head -n 1 | sed 's/.*"\([0-9a-f-]*\)"$/\1/') || rp=
      [ -n "$rp" ] && break
      sleep 0.4
    done
    [ -n "$rp" ] || tail_fail "$LOGS/nova-compute-${hosts[$i]}.log" "${hosts[$i]}'s provider never appeared in placement"
    rps+=("$rp")
    say "compute ${hosts[$i]}: provider $rp"
  done
  local mapped=
  for _ in 1 2 3; do  # idempotent; retried should the shared SQLite still be busy
    if manage cell_v2 discover_hosts --verbose >> "$LOGS/db-sync.log" 2>&1; then mapped=1; break; fi
    sleep 1
  done
  [ -n "$mapped" ] || tail_fail "$LOGS/db-sync.log" "discover_hosts failed"
  say "hosts mapped to cell1; stack up"

  {
    echo "NOVA_URL=$nova_url"
    echo "PLACEMENT_URL=$placement_url"
    echo "STUB_URL=$stub_url"
    echo "IMAGE_ID=$image_id"
    echo "TRANSPORT_URL=$transport"
    echo "CELL1_DB=$DIR/nova_cell1.sqlite"
    echo "COMPUTE_HOSTS=\"${hosts[*]}\""
    for i in "${!hosts[@]}"; do echo "COMPUTE_RP_$i=${rps[$i]}"; done
  } > "$DIR/env"
  cat "$DIR/env"
}

case $CMD in
  start) do_start ;;
  stop) do_stop ;;
  status) do_status ;;
  stop-compute) do_stop_compute "$3" ;;
  start-compute) do_start_compute "$3" ;;
esac
