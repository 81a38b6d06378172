#!/usr/bin/env bash
# A production-shaped Placement for benchmarks: Debian's placement (python3-placement)
# served by uwsgi (uwsgi-plugin-python3) with several worker processes, on
# MariaDB (Debian's mariadb-server, started here without systemd, listening only
# on a private unix socket under STATE_DIR) through python3-pymysql. noauth2,
# 127.0.0.1. The SQLite launcher (scripts/placement-server.sh) stays the one the
# tests use.
#
# Usage: scripts/placement-prod.sh start|stop|status STATE_DIR [PORT]
#   start   idempotent: creates the database on first use (mariadb-install-db,
#           CREATE DATABASE placement, placement-manage db sync), starts mariadbd
#           and uwsgi, prints the base URL once GET / answers.
#   stop    stops only the processes whose pids are in STATE_DIR (uwsgi, then mariadbd).
#   stop-api  stops only uwsgi (an API outage; the database stays up).
#   status  "running URL pid UWSGI_PID" (exit 0) or "stopped" (exit 3).
#   PORT    0 (default): a free port chosen by the OS.
# Environment:
#   PLACEMENT_PROD_WORKERS=N   uwsgi worker processes (default 4)
#   PLACEMENT_PROD_RESET=1     start from an empty database
#   PLACEMENT_PROD_HARAKIRI=S  uwsgi kills a worker whose request runs over S seconds
#                              (default 300: a runaway allocation-candidates query
#                              must not keep a worker busy after its client gave up)
#   PLACEMENT_PROD_INSTALL=1   apt-get install what is missing (mariadb-server,
#                              python3-pymysql, uwsgi-plugin-python3, python3-placement)
# Files in STATE_DIR: mysql/ (datadir), mysql.sock, mariadb.pid, mariadb.log,
# placement.conf, uwsgi.pid, placement.log (uwsgi and Placement's request log:
# one "placement.requestlog" line per request, with its time), url.
set -euo pipefail

# shellcheck source=lib/placement.sh
. "$(dirname "$0")/lib/placement.sh"
placement_args placement-prod "start|stop|stop-api|status" "$@"
WORKERS=${PLACEMENT_PROD_WORKERS:-4}
[[ $WORKERS =~ ^[1-9][0-9]*$ ]] || die "PLACEMENT_PROD_WORKERS must be a positive number, not '$WORKERS'"
PY=/usr/bin/python3
API=/usr/bin/placement-api
MANAGE=/usr/bin/placement-manage
PIDF=$DIR/uwsgi.pid
WATCHF=$DIR/watch.pid  # service.sh's name; no watcher is started here
DBPIDF=$DIR/mariadb.pid
SOCK=$DIR/mysql.sock
LOG=$DIR/placement.log
# shellcheck source=lib/service.sh
. "$(dirname "$0")/lib/service.sh"

uwsgi_alive() { pid_is "$PIDF" "placement-prod $DIR" uWSGI; }
mariadb_alive() { pid_is "$DBPIDF" mariadbd "$DIR"; }

need_packages() {
  local missing=()
  [ -x /usr/sbin/mariadbd ] || missing+=(mariadb-server)
  "$PY" -c 'import pymysql' 2>/dev/null || missing+=(python3-pymysql)
  [ -f /usr/lib/uwsgi/plugins/python3_plugin.so ] || missing+=(uwsgi-plugin-python3)
  { [ -f "$API" ] && [ -f "$MANAGE" ]; } || missing+=(python3-placement)
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "${PLACEMENT_PROD_INSTALL:-0}" = 1 ]; then
    # No daemons started by the packages: policy-rc.d refuses, we start our own.
    DEBIAN_FRONTEND=noninteractive RUNLEVEL=1 apt-get install -y --no-install-recommends "${missing[@]}" >&2 ||
      die "apt-get install ${missing[*]} failed"
  else
    die "missing ${missing[*]}: apt-get install ${missing[*]} (or PLACEMENT_PROD_INSTALL=1)"
  fi
}

free_port() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

do_stop() {
  stop_pid_file "$PIDF" "placement-prod $DIR" uWSGI
  stop_pid_file "$DBPIDF" mariadbd "$DIR"
  rm -f "$DIR/url" "$DIR/port"
}

start_mariadb() {
  mariadb_alive && return 0
  rm -f "$DBPIDF" "$SOCK"
  if [ ! -d "$DIR/mysql/mysql" ]; then
    mariadb-install-db --no-defaults --datadir="$DIR/mysql" --user="$(id -un)" \
        --auth-root-authentication-method=socket --skip-test-db > "$DIR/mariadb-install.log" 2>&1 ||
      die "mariadb-install-db failed; see $DIR/mariadb-install.log"
  fi
  # No TCP at all: the socket under STATE_DIR is the only way in.
  nohup /usr/sbin/mariadbd --no-defaults --datadir="$DIR/mysql" --socket="$SOCK" --skip-networking \
      --pid-file="$DIR/mariadbd.own.pid" --user="$(id -un)" --log-error="$DIR/mariadb.log" \
      --max-connections=500 --innodb-buffer-pool-size=256M --innodb-flush-log-at-trx-commit=2 \
      > /dev/null 2>&1 < /dev/null &
  echo $! > "$DBPIDF"
  for _ in $(seq 1 300); do
    running "$(cat "$DBPIDF")" || { tail -n 20 "$DIR/mariadb.log" >&2; die "mariadbd exited; see $DIR/mariadb.log"; }
    mariadb --no-defaults --socket="$SOCK" -u root -e 'SELECT 1' > /dev/null 2>&1 && return 0
    sleep 0.1
  done
  die "mariadbd did not answer within 30 s; see $DIR/mariadb.log"
}

do_start() {
  need_packages
  if [ "${PLACEMENT_PROD_RESET:-0}" = 1 ]; then
    do_stop
    rm -rf "$DIR/mysql"
  fi
  if uwsgi_alive && [ -f "$DIR/port" ] && answers "$(cat "$DIR/port")"; then
    cat "$DIR/url"
    return 0
  fi
  stop_pid_file "$PIDF" "placement-prod $DIR" uWSGI
  start_mariadb
  mariadb --no-defaults --socket="$SOCK" -u root -e 'CREATE DATABASE IF NOT EXISTS placement' ||
    die "cannot create the placement database"
  write_placement_conf "connection = mysql+pymysql://root@localhost/placement?unix_socket=$SOCK&charset=utf8" \
    "max_pool_size = 10" "max_overflow = 20"
  "$PY" "$MANAGE" --config-file "$DIR/placement.conf" db sync > "$DIR/db-sync.log" 2>&1 ||
    die "placement-manage db sync failed; see $DIR/db-sync.log"

  [ "$PORT" = 0 ] && PORT=$(free_port)
  # --disable-logging: uwsgi's own per-request lines off; Placement's request
  # log (placement.requestlog, with a timestamp) is the one the benchmarks read.
  # --http-socket closes every connection after the response: say so
  # (Connection: close), or clients reuse a dead keep-alive connection and a POST
  # on it fails with a reset (--http11-socket would keep idle connections on the
  # few workers instead).
  OS_PLACEMENT_CONFIG_DIR=$DIR nohup uwsgi --plugin python3 --http-socket "$HOST:$PORT" \
      --wsgi-file "$API" --master --processes "$WORKERS" --threads 1 \
      --add-header "Connection: close" --die-on-term --harakiri "${PLACEMENT_PROD_HARAKIRI:-300}" --disable-logging --need-app --listen 100 \
      --env "OS_PLACEMENT_CONFIG_DIR=$DIR" --procname-prefix-spaced "placement-prod $DIR" \
      --logto "$LOG" > /dev/null 2>&1 < /dev/null &
  echo $! > "$PIDF"
  for _ in $(seq 1 600); do
    running "$(cat "$PIDF")" || { tail -n 20 "$LOG" >&2; die "uwsgi exited; see $LOG"; }
    if answers "$PORT"; then
      echo "$PORT" > "$DIR/port"
      echo "http://$HOST:$PORT" > "$DIR/url"
      cat "$DIR/url"
      return 0
    fi
    sleep 0.1
  done
  do_stop
  die "placement under uwsgi did not answer within 60 s; see $LOG"
}

case $CMD in
  start) do_start ;;
  stop) do_stop ;;
  stop-api) stop_pid_file "$PIDF" "placement-prod $DIR" uWSGI; rm -f "$DIR/url" ;;
  status) print_status uwsgi_alive ;;
  *) usage ;;
esac
