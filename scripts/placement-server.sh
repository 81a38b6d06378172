#!/usr/bin/env bash
# A real OpenStack Placement API (Debian's python3-placement, wsgiref, SQLite,
# auth_strategy = noauth2) on 127.0.0.1, for the integration tests and demos.
#
# Usage: scripts/placement-server.sh start|stop|status STATE_DIR [PORT]
#   start   idempotent: prints the base URL (http://127.0.0.1:PORT) once the
#           server answers GET /; a no-op when it is already running.
#   stop    stops only the server whose pid is in STATE_DIR/pid; idempotent.
#   status  prints "running URL pid PID" (exit 0) or "stopped" (exit 3).
#   PORT    0 (default) lets the OS pick a free port.
# STATE_DIR holds placement.conf, placement.sqlite, pid, url, placement.log.
# Environment:
#   PLACEMENT_SERVER_WATCH_PID=PID  stop the server when process PID exits
#                                   (a test runner that crashed cannot leak it)
#   PLACEMENT_SERVER_RESET=1        start from an empty database
#   PLACEMENT_SERVER_PYTHON, PLACEMENT_SERVER_API, PLACEMENT_SERVER_MANAGE
#                                   other paths than Debian's (and tests)
#   PLACEMENT_SERVER_ROOT=NAME      run that release's Placement inside the Debian root
#                                   NAME (scripts/debian-root.sh: trixie = Placement 13,
#                                   sid = the newest); the root must be built
# Placement 16 (2026.2) and later ship no placement-api script: then the WSGI
# application runs under scripts/placement_wsgi.py (the standard library's wsgiref,
# as placement-api itself does).
#
# Auth is noauth2: send "X-Auth-Token: admin". No token gets 401 (except on
# GET /), "X-Auth-Token: user:project" for a non-admin user gets 403.
set -euo pipefail

# shellcheck source=lib/placement.sh
. "$(dirname "$0")/lib/placement.sh"
placement_args placement-server "start|stop|status" "$@"
# Debian's interpreter explicitly: a python3 earlier on PATH (pyenv, venv)
# cannot import Debian's dist-packages.
PY=${PLACEMENT_SERVER_PYTHON:-/usr/bin/python3}
API=${PLACEMENT_SERVER_API:-/usr/bin/placement-api}
MANAGE=${PLACEMENT_SERVER_MANAGE:-/usr/bin/placement-manage}
PIDF=$DIR/pid
WATCHF=$DIR/watch.pid
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT_NAME=${PLACEMENT_SERVER_ROOT:-}
ROOTDIR=
IN_ROOT=()
if [ -n "$ROOT_NAME" ]; then
  ROOTDIR=$("$HERE/debian-root.sh" path "$ROOT_NAME")
  [ -f "$ROOTDIR/.gpu-agent-root" ] || die "root $ROOT_NAME is not built: scripts/debian-root.sh ensure $ROOT_NAME"
  IN_ROOT=("$HERE/debian-root.sh" run "$ROOT_NAME" --bind "$DIR" --bind "$HERE" --)
fi
# shellcheck source=lib/service.sh
. "$(dirname "$0")/lib/service.sh"
LOG=$DIR/placement.log



# Our pid file names a live placement-api (or placement_wsgi.py) process.
server_alive() { pid_is "$PIDF" placement-api || pid_is "$PIDF" placement_wsgi; }



do_stop() {
  stop_pid_file "$WATCHF" placement-server-watch
  if pid_is "$PIDF" placement_wsgi; then stop_pid_file "$PIDF" placement_wsgi; else stop_pid_file "$PIDF" placement-api; fi
  rm -f "$DIR/url" "$DIR/port"
}


do_start() {
  if [ ! -x "$ROOTDIR$PY" ] || [ ! -f "$ROOTDIR$MANAGE" ] || ! "${IN_ROOT[@]}" "$PY" -c 'import placement' 2>/dev/null; then
    die "python3-placement is not installed${ROOT_NAME:+ in root $ROOT_NAME} (need $MANAGE and $PY able to import placement): run scripts/install-deps.sh"
  fi
  # placement-api where the release has it, else its WSGI application under our runner
  local server=("$PY" "$API" --host "$HOST" --port "$PORT")
  [ -f "$ROOTDIR$API" ] || server=("$PY" "$HERE/placement_wsgi.py" --host "$HOST" --port "$PORT")
  if [ "${PLACEMENT_SERVER_RESET:-0}" = 1 ]; then
    do_stop
    rm -f "$DIR/placement.sqlite"
  fi
  if server_alive && [ -f "$DIR/url" ] && answers "$(sed 's#.*:##' "$DIR/url")"; then
    cat "$DIR/url"
    return 0
  fi
  do_stop  # a stale or unresponsive server of ours

  write_placement_conf "connection = sqlite:///$DIR/placement.sqlite"
  # placement-manage reads only --config-file; placement-api reads only
  # $OS_PLACEMENT_CONFIG_DIR/placement.conf (its own arguments are ignored).
  if [ ! -s "$DIR/placement.sqlite" ]; then
    "${IN_ROOT[@]}" "$PY" "$MANAGE" --config-file "$DIR/placement.conf" db sync > "$DIR/db-sync.log" 2>&1 ||
      die "db sync failed, see $DIR/db-sync.log"
  fi

  # All descriptors redirected: a caller reading our stdout (popen) must see
  # EOF when this script exits, not when the server does.
  # Inside a root, every step of debian-root.sh run execs the next: $! is the server's pid.
  OS_PLACEMENT_CONFIG_DIR=$DIR nohup "${IN_ROOT[@]}" "${server[@]}" > "$LOG" 2>&1 < /dev/null &
  local pid=$!
  echo "$pid" > "$PIDF"

  local real=
  for _ in $(seq 1 300); do
    running "$pid" || { tail -n 20 "$LOG" >&2; rm -f "$PIDF"; die "placement (${server[*]}) exited; see $LOG"; }
    # wsgiref prints "Available at http://localhost:PORT/" once it listens.
    real=$(sed -n 's#^Available at http://[^:]*:\([0-9]*\)/.*#\1#p' "$LOG" | head -n 1)
    if [ -n "$real" ] && answers "$real"; then
      echo "$real" > "$DIR/port"
      echo "http://$HOST:$real" > "$DIR/url"
      break
    fi
    sleep 0.1
  done
  [ -f "$DIR/url" ] || { do_stop; die "placement did not answer within 30 s; see $LOG"; }

  if [ -n "${PLACEMENT_SERVER_WATCH_PID:-}" ]; then start_watcher placement-server-watch "$PLACEMENT_SERVER_WATCH_PID" "$pid"; fi
  cat "$DIR/url"
}

case $CMD in
  start) do_start ;;
  stop) do_stop ;;
  status) print_status server_alive ;;
  *) usage ;;
esac
