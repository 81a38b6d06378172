# shellcheck shell=bash
# Shared by the Placement launchers, placement-server.sh (SQLite, wsgiref: the tests)
# and placement-prod.sh (MariaDB, uwsgi: the benchmarks): their command line and
# placement.conf (the readiness probe, answers, is service.sh's).

# placement_args NAME COMMANDS ARG...: the command line COMMAND STATE_DIR [PORT] into
# CMD, DIR (created, absolute), PORT (0, the default, lets the OS pick) and HOST
# (127.0.0.1); die and usage speak as NAME and list COMMANDS.
placement_args() {
  PLACEMENT_SCRIPT_NAME=$1 PLACEMENT_SCRIPT_COMMANDS=$2
  shift 2
  [ $# -ge 2 ] || usage
  # shellcheck disable=SC2034  # read by the sourcing script
  CMD=$1 PORT=${3:-0} HOST=127.0.0.1
  mkdir -p "$2"
  DIR=$(cd "$2" && pwd)
}

die() { echo "$PLACEMENT_SCRIPT_NAME: $*" >&2; exit 1; }
usage() { die "usage: $0 $PLACEMENT_SCRIPT_COMMANDS STATE_DIR [PORT]"; }

# write_placement_conf DATABASE_LINE...: DIR/placement.conf for noauth2 (send
# "X-Auth-Token: admin"), logging to stderr, with these [placement_database] lines.
write_placement_conf() {
  {
    printf '[DEFAULT]\ndebug = false\nuse_stderr = true\n[api]\nauth_strategy = noauth2\n[placement_database]\n'
    printf '%s\n' "$@"
  } > "$DIR/placement.conf"
}
