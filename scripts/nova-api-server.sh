#!/usr/bin/env bash
# nova's compute API (osapi_compute; Debian python3-nova 26.x = Zed) on
# 127.0.0.1 with noauth2 and SQLite API and main databases, for flavors and
# their extra specs in the integration tests and demos. Nothing else of nova
# runs (no conductor, scheduler, compute or message bus): booting fails.
#
# Usage: scripts/nova-api-server.sh start|stop|status STATE_DIR [PORT]
#        scripts/nova-api-server.sh --help
#   start   idempotent: prints the compute endpoint http://127.0.0.1:PORT/v2.1
#           once the API answers; a no-op when it is already running. On
#           failure prints the log tail and exits 1.
#   stop    stops only the server whose pid is in STATE_DIR/pid (after
#           checking that pid's cmdline); idempotent.
#   status  prints "running URL pid PID" (exit 0) or "stopped" (exit 3).
#   PORT    0 (default) lets the OS pick a free port.
# STATE_DIR holds api-paste.ini, nova.conf, nova_api.sqlite, nova.sqlite,
# db-sync.log, log, pid, port, url.
# Environment:
#   NOVA_API_SERVER_WATCH_PID=PID  stop the server when process PID exits
#   NOVA_API_SERVER_RESET=1        start from empty databases
#   NOVA_API_SERVER_PYTHON         another interpreter than /usr/bin/python3
#
# Auth is noauth2: "X-Auth-Token: admin:admin" (user:project) is admin;
# "bob:proj" is a member (403 on flavor-manage). A request WITHOUT a token
# gets a fake 204, not a 401. nova Zed goes up to compute microversion 2.93,
# but OSC 6.0/novaclient 18 only to 2.92:
#   openstack --os-auth-type admin_token --os-token admin:admin \
#     --os-endpoint "$(cat STATE_DIR/url)" --os-compute-api-version 2.92 flavor list
set -euo pipefail

ME=nova-api-server
die() { echo "$ME: $*" >&2; exit 1; }
usage() { sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; }

case ${1:-} in
  -h|--help|help) usage; exit 0 ;;
esac
[ $# -ge 2 ] || { usage >&2; exit 2; }
CMD=$1
case $CMD in start|stop|status) ;; *) usage >&2; exit 2 ;; esac
mkdir -p "$2"
DIR=$(cd "$2" && pwd)
PORT=${3:-0}
HOST=127.0.0.1
HERE=$(cd "$(dirname "$0")" && pwd)
SERVER=$HERE/nova_api_wsgi.py
# Debian's interpreter explicitly: a python3 earlier on PATH (pyenv, venv)
# cannot import Debian's dist-packages.
PY=${NOVA_API_SERVER_PYTHON:-/usr/bin/python3}
PIDF=$DIR/pid
WATCHF=$DIR/watch.pid
# shellcheck source=lib/service.sh
. "$(dirname "$0")/lib/service.sh"
LOG=$DIR/log
export OS_NOVA_DISABLE_EVENTLET_PATCHING=1



server_alive() { pid_is "$PIDF" nova_api_wsgi.py "$DIR"; }

# service.sh's answers asks GET / with the admin token: 200 = nova's versions
# document (without a token noauth2 would answer a fake 204).
TOKEN=admin:admin


do_stop() {
  stop_pid_file "$WATCHF" nova-api-server-watch
  stop_pid_file "$PIDF" nova_api_wsgi.py "$DIR"
  rm -f "$DIR/url" "$DIR/port"
}


fail_start() {
  echo "$ME: $*" >&2
  if [ -f "$LOG" ]; then
    echo "--- last lines of $LOG:" >&2
    tail -n 30 "$LOG" >&2
  fi
  do_stop
  exit 1
}

manage() {  # nova-manage without nova-common's /usr/bin/nova-manage
  "$PY" -c 'import sys; from nova.cmd.manage import main; sys.argv[0] = "nova-manage"; sys.exit(main())' \
    --config-file "$DIR/nova.conf" "$@"
}

do_start() {
  [ -f "$SERVER" ] || die "missing $SERVER"
  if [ ! -x "$PY" ] || ! "$PY" -c 'import nova' 2>/dev/null; then
    die "python3-nova is not installed ($PY cannot import nova): run scripts/install-deps.sh"
  fi
  if [ "${NOVA_API_SERVER_RESET:-0}" = 1 ]; then
    do_stop
    rm -f "$DIR/nova_api.sqlite" "$DIR/nova.sqlite" "$DIR/.db_synced"
  fi
  if server_alive && [ -f "$DIR/url" ] && answers "$(cat "$DIR/port")" "$TOKEN"; then
    cat "$DIR/url"
    return 0
  fi
  do_stop  # a stale or unresponsive server of ours

  # Trimmed from nova-common's api-paste.ini: the noauth2 v2.1 pipeline and
  # the version documents only.
  cat > "$DIR/api-paste.ini" <<'EOF'
[composite:osapi_compute]
use = call:nova.api.openstack.urlmap:urlmap_factory
/: oscomputeversions
/v2.1: oscomputeversion_v2
/v2.1/+: openstack_compute_api_v21

[composite:openstack_compute_api_v21]
use = call:nova.api.auth:pipeline_factory_v21
noauth2 = compute_req_id faultwrap request_log sizelimit noauth2 osapi_compute_app_v21

[filter:request_log]
paste.filter_factory = nova.api.openstack.requestlog:RequestLog.factory

[filter:compute_req_id]
paste.filter_factory = nova.api.compute_req_id:ComputeReqIdMiddleware.factory

[filter:faultwrap]
paste.filter_factory = nova.api.openstack:FaultWrapper.factory

[filter:noauth2]
paste.filter_factory = nova.api.openstack.auth:NoAuthMiddleware.factory

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

  cat > "$DIR/nova.conf" <<EOF
[DEFAULT]
host = gpu-agent-nova-api
debug = false
use_stderr = true
# never contacted for flavor operations; avoids the rabbit:// default
transport_url = fake://
[api]
auth_strategy = noauth2
[api_database]
connection = sqlite:///$DIR/nova_api.sqlite
[database]
connection = sqlite:///$DIR/nova.sqlite
[wsgi]
api_paste_config = $DIR/api-paste.ini
[oslo_concurrency]
lock_path = $DIR/lock
EOF

  # No cell mappings needed: the API registers its service row in
  # [database], and the minimum-compute check passes with no computes.
  if [ ! -f "$DIR/.db_synced" ]; then
    rm -f "$DIR/nova_api.sqlite" "$DIR/nova.sqlite"
    { manage api_db sync && manage db sync --local_cell; } > "$DIR/db-sync.log" 2>&1 || {
      tail -n 30 "$DIR/db-sync.log" >&2
      die "db sync failed, see $DIR/db-sync.log"
    }
    touch "$DIR/.db_synced"
  fi

  # All descriptors redirected: a caller reading our stdout (popen, $(...))
  # must see EOF when this script exits, not when the server does.
  nohup "$PY" "$SERVER" "$DIR" "$PORT" > "$LOG" 2>&1 < /dev/null &
  local pid=$!
  echo "$pid" > "$PIDF"

  local real=
  for _ in $(seq 1 600); do
    running "$pid" || { rm -f "$PIDF"; fail_start "nova-api exited"; }
    # nova_api_wsgi.py prints "Available at http://127.0.0.1:PORT/" once it listens.
    real=$(sed -n 's#^Available at http://[^:]*:\([0-9]*\)/.*#\1#p' "$LOG" | head -n 1)
    if [ -n "$real" ] && answers "$real" "$TOKEN"; then
      echo "$real" > "$DIR/port"
      echo "http://$HOST:$real/v2.1" > "$DIR/url"
      break
    fi
    sleep 0.1
  done
  [ -f "$DIR/url" ] || fail_start "nova-api did not answer within 60 s"

  if [ -n "${NOVA_API_SERVER_WATCH_PID:-}" ]; then start_watcher nova-api-server-watch "$NOVA_API_SERVER_WATCH_PID" "$pid"; fi
  cat "$DIR/url"
}

case $CMD in
  start) do_start ;;
  stop) do_stop ;;
  status) print_status server_alive ;;
esac
