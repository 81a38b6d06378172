# shellcheck shell=bash
# Shared by the service scripts (placement-server.sh, nova-api-server.sh): pid
# files that name only our own processes, stopping them, status, and a watcher
# that stops a server when the process that wanted it exits.
# The including script sets PIDF, WATCHF, DIR and HOST.

# answers PORT [TOKEN]: GET / on HOST:PORT (with X-Auth-Token: TOKEN when given)
# says 200, over bash's /dev/tcp: no curl needed, and fast enough to poll.
answers() {
  local port=$1 auth='' line=
  [ -z "${2:-}" ] || auth="X-Auth-Token: $2"$'\r\n'
  { exec 3<>"/dev/tcp/$HOST/$port"; } 2>/dev/null || return 1
  printf 'GET / HTTP/1.0\r\nHost: %s:%s\r\n%s\r\n' "$HOST" "$port" "$auth" >&3
  IFS= read -r -t 5 line <&3 || true
  exec 3<&- 3>&-
  [[ $line == HTTP/1.?" 200"* ]]
}

# Alive and not a zombie waiting for init to reap it.
running() {
  local state
  kill -0 "$1" 2>/dev/null || return 1
  state=$(sed 's/^.*) \(.\).*/\1/' "/proc/$1/stat" 2>/dev/null) || return 1
  [ "$state" != Z ]
}

# pid_is FILE PART...: the pid in FILE is alive and its cmdline contains every PART
# (not a recycled pid).
pid_is() {
  local file=$1 pid cmd
  shift
  [ -f "$file" ] || return 1
  pid=$(cat "$file")
  [ -n "$pid" ] && running "$pid" || return 1
  cmd=$(tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null) || return 1
  for want in "$@"; do [[ $cmd == *"$want"* ]] || return 1; done
}

# stop_pid_file FILE PART...: TERM (then KILL after 5 s) the pid in FILE if it is
# ours, and remove FILE either way.
stop_pid_file() {
  local file=$1 pid
  [ -f "$file" ] || return 0
  if pid_is "$@"; then
    pid=$(cat "$file")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do running "$pid" || break; sleep 0.1; done
    if running "$pid"; then kill -9 "$pid" 2>/dev/null || true; fi
  fi
  rm -f "$file"
}

# print_status ALIVE_CHECK...: "running URL pid PID" (exit 0) or "stopped" (exit 3).
print_status() {
  if "$@" && [ -f "$DIR/url" ]; then
    echo "running $(cat "$DIR/url") pid $(cat "$PIDF")"
    return 0
  fi
  echo "stopped"
  return 3
}

# start_watcher NAME WATCHED PID: stop PID when WATCHED exits (a test runner that
# crashed cannot leak the server). exec -a names the watcher so stop can recognise it.
start_watcher() {
  local name=$1 watched=$2 pid=$3
  nohup bash -c "exec -a $name bash -c 'while kill -0 $watched 2>/dev/null && kill -0 $pid 2>/dev/null; do sleep 0.5; done; kill $pid 2>/dev/null; true'" \
      > /dev/null 2>&1 < /dev/null &
  echo $! > "$WATCHF"
}
