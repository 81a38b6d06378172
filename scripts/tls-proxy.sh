#!/usr/bin/env bash
# A TLS front on 127.0.0.1 for a plain-HTTP service on loopback (Placement or
# Keystone in the integration tests), with stunnel4 and the test certificates
# of scripts/make-test-certs.sh. stunnel terminates TLS and forwards raw TCP,
# so the backend sees ordinary HTTP and adds no X-Forwarded-* headers.
#
# Usage:
#   scripts/tls-proxy.sh start  STATE_DIR BACKEND_URL [LISTEN_PORT]
#   scripts/tls-proxy.sh stop   STATE_DIR [--purge]
#   scripts/tls-proxy.sh status STATE_DIR
#
#   BACKEND_URL  http://127.0.0.1:PORT (a path is ignored), 127.0.0.1:PORT or PORT.
#                Only 127.0.0.1 / localhost backends are accepted.
#   LISTEN_PORT  default 0: pick a free port. stunnel cannot report a port the OS
#                chose, so the script finds a free one first (and retries with
#                another if stunnel then loses it to someone else).
#
# start is idempotent: if the proxy is already up for the same backend (and port,
# when one is given) it only prints the URL. It prints https://127.0.0.1:PORT and
# writes into STATE_DIR:
#   url        https://127.0.0.1:PORT          port     PORT
#   ca_file    path of the CA that verifies it  backend  127.0.0.1:BACKEND_PORT
#   tls.env    KEY=VALUE: TLS_URL, TLS_PORT, TLS_BACKEND, TLS_CA_FILE, TLS_WRONG_CA_FILE
#   stunnel.conf, stunnel.pid, stunnel.log
# The certificate (SAN IP:127.0.0.1, DNS:localhost) lives in $TLS_CERT_DIR,
# default STATE_DIR/certs. Point several proxies at one TLS_CERT_DIR so a single
# ca.pem verifies them all.
#
# stop kills only the PID in STATE_DIR/stunnel.pid (and only if it is stunnel);
# --purge also deletes STATE_DIR/certs. status prints the URL and exits 0 when
# the proxy answers, else exits 3.
set -Eeuo pipefail
# an unexpected failure says where, instead of exiting silently
trap 'echo "tls-proxy: failed (exit $?) at line $LINENO: $BASH_COMMAND" >&2' ERR

die() { echo "tls-proxy: $*" >&2; exit 1; }
usage() {
  echo "usage: $0 start STATE_DIR BACKEND_URL [LISTEN_PORT] | stop STATE_DIR [--purge] | status STATE_DIR" >&2
  exit 2
}
[ $# -ge 2 ] || usage
CMD=$1
if [ "$CMD" = start ]; then mkdir -p "$2"; fi
if [ -d "$2" ]; then DIR=$(cd "$2" && pwd); else DIR=$2; fi
HERE=$(cd "$(dirname "$0")" && pwd)
STUNNEL=/usr/bin/stunnel4
PIDF=$DIR/stunnel.pid

# ---- process helpers: only ever touch the PID recorded in STATE_DIR ----------
ours() {  # the pid file names a live stunnel process
  local pid
  pid=$(cat "$PIDF" 2>/dev/null) || return 1
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -q stunnel
}
# running PID: alive and not a zombie. A killed server is reparented to init, which
# may reap it only a second later; kill -0 succeeds on a zombie until then.
running() {
  local state
  state=$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null) || return 1
  [ -n "$state" ] && [ "$state" != Z ]
}
stop_ours() {
  local pid
  if ours; then
    pid=$(cat "$PIDF")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do running "$pid" || break; sleep 0.1; done
    if running "$pid"; then kill -9 "$pid" 2>/dev/null || true; fi
  fi
  rm -f "$PIDF" "$DIR/url" "$DIR/port"
}
# curl exit code of a verified HTTPS request to the proxy (0 = HTTP answer).
probe() {
  local rc=0
  curl -s -o /dev/null --max-time 5 --cacert "$1" "https://127.0.0.1:$2/" || rc=$?
  echo "$rc"
}
# The TLS handshake succeeded: an HTTP answer (0), or the backend closed an
# empty connection (52, 56) because it is not up (yet).
tls_up() { case $(probe "$1" "$2") in 0|52|56) return 0 ;; *) return 1 ;; esac; }

case $CMD in
stop)
  stop_ours
  rm -f "$DIR/backend" "$DIR/ca_file" "$DIR/tls.env"
  if [ "${3:-}" = --purge ]; then
    rm -rf "$DIR/certs" "$DIR/stunnel.conf" "$DIR/stunnel.log"
  fi
  exit 0
  ;;
status)
  if ours && [ -f "$DIR/url" ] && tls_up "$(cat "$DIR/ca_file")" "$(cat "$DIR/port")"; then
    cat "$DIR/url"
    exit 0
  fi
  echo "tls-proxy: not running in $DIR" >&2
  exit 3
  ;;
start) ;;
*) usage ;;
esac

[ $# -ge 3 ] || usage
[ -x "$STUNNEL" ] || die "stunnel4 missing (scripts/install-deps.sh)"
command -v curl >/dev/null || die "curl missing (scripts/install-deps.sh)"

# BACKEND_URL -> HOST:PORT (loopback only)
B=${3#http://}
B=${B%%/*}
case $B in
  https://*) die "the backend must be plain http: $3" ;;
  *:*) BHOST=${B%:*}; BPORT=${B##*:} ;;
  *) BHOST=127.0.0.1; BPORT=$B ;;
esac
case $BHOST in 127.0.0.1|localhost) BHOST=127.0.0.1 ;; *) die "backend must be on 127.0.0.1, not $BHOST" ;; esac
[[ $BPORT =~ ^[0-9]+$ ]] || die "bad backend port in $3"
BACKEND=$BHOST:$BPORT
PORT=${4:-0}
[[ $PORT =~ ^[0-9]+$ ]] || die "bad listen port $PORT"

CERTS=${TLS_CERT_DIR:-$DIR/certs}
"$HERE/make-test-certs.sh" "$CERTS"
CERTS=$(cd "$CERTS" && pwd)
CA=$CERTS/ca.pem

# Already up for the same backend (and port, if one was asked for): no-op.
if ours && [ -f "$DIR/url" ] && [ "$(cat "$DIR/backend" 2>/dev/null)" = "$BACKEND" ] \
   && [ "$(cat "$DIR/ca_file" 2>/dev/null)" = "$CA" ] \
   && { [ "$PORT" = 0 ] || [ "$PORT" = "$(cat "$DIR/port")" ]; } \
   && tls_up "$CA" "$(cat "$DIR/port")"; then
  cat "$DIR/url"
  exit 0
fi
stop_ours

free_port() {
  /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# One attempt: write the config, start stunnel, wait until TLS answers.
# Returns 1 if stunnel exited (e.g. the port was taken), dies on a timeout.
try_start() {
  local port=$1
  cat > "$DIR/stunnel.conf" <<EOF
; written by scripts/tls-proxy.sh
; run in the foreground: the script backgrounds it and records stunnel's own PID
foreground = yes
; log to stderr (STATE_DIR/stunnel.log), no syslog, no pid file of its own
syslog = no
debug = notice
pid =

[https]
accept = 127.0.0.1:$port
connect = $BACKEND
cert = $CERTS/server.pem
key = $CERTS/server.key
EOF
  nohup "$STUNNEL" "$DIR/stunnel.conf" > "$DIR/stunnel.log" 2>&1 < /dev/null &
  echo $! > "$PIDF"
  for _ in $(seq 1 300); do
    ours || { rm -f "$PIDF"; return 1; }
    if tls_up "$CA" "$port"; then return 0; fi
    sleep 0.1
  done
  stop_ours
  die "timed out waiting for stunnel on 127.0.0.1:$port; see $DIR/stunnel.log"
}

started=
for _ in 1 2 3; do
  P=$PORT
  [ "$P" != 0 ] || P=$(free_port)
  if try_start "$P"; then started=$P; break; fi
  [ "$PORT" = 0 ] || break   # a fixed port that fails will not get better
done
if [ -z "$started" ]; then
  tail -n 5 "$DIR/stunnel.log" >&2
  die "stunnel did not start"
fi

URL=https://127.0.0.1:$started
echo "$started" > "$DIR/port"
echo "$URL" > "$DIR/url"
echo "$BACKEND" > "$DIR/backend"
echo "$CA" > "$DIR/ca_file"
cat > "$DIR/tls.env" <<EOF
TLS_URL=$URL
TLS_PORT=$started
TLS_BACKEND=$BACKEND
TLS_CA_FILE=$CA
TLS_WRONG_CA_FILE=$CERTS/wrong-ca.pem
EOF
echo "$URL"
