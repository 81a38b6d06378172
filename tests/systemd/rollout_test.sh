#!/usr/bin/env bash
# The rollout under a real systemd (CTest systemd_rollout, LABELS integration;systemd).
# This machine's PID 1 is not systemd, so the test boots one: a Debian 12 root
# (scripts/debian-root.sh ensure bookworm, cached) under an overlay that is thrown away
# afterwards, booted with systemd-nspawn (the host's network: Placement on 127.0.0.1 is
# reachable), and the gpu_agent Ansible role applied into it for real through an nsenter
# connection (tests/systemd/connection_plugins/nsenter.py). As root:
#   1. the .deb from this build (scripts/package.sh --from-build), a real Placement on
#      127.0.0.1 with the fixture host's compute node provider
#   2. the role installs the package, stages the config, runs doctor, puts it in place and
#      starts gpu-agent.service; the second run changes nothing
#   3. under the real unit: active and ready with its STATUS= line (`systemctl status`);
#      the sandbox (gpu-agent user, no capabilities, no new privileges, seccomp) still sees
#      /sys; the pool reaches Placement; kill -9 restarts it; a config error (exit 2) stays
#      down; `systemctl reload` re-reads the config (same pid, new trait in Placement);
#      `systemd-analyze security` online at or under the offline score; `systemctl stop`
#      while a Placement request hangs
#   4. a host that fails doctor changes no live file and loses no restart: the next good
#      run restarts the daemon with the new arguments
#   5. upgrades keep the config and state and restart the daemon once: a newer .deb whose
#      sample config changed, by plain `dpkg -i` (no conffile prompt) and by the role; the
#      nova snippet carries no agent version
#   6. `dpkg --purge` removes what the package owns and nothing else; the role's
#      `gpu_agent_state: absent` removes what it installed
#   7. the same .deb on Debian 13 (trixie root): installs, runs with the packaged unit and
#      no /etc/default/gpu-agent (no warning about GPU_AGENT_ARGS); a start-up splay does
#      not hold `systemctl start`, nor does WatchdogSec=3s kill it during a 600 s splay; logs once that it found no GPU in /sys, reaches Placement;
#      reads nova's /var/lib/nova/compute_id (as Debian's nova leaves it) under the sandbox.
# Usage: rollout_test.sh --root REPO --build-dir DIR [--deb FILE] [--suites "bookworm trixie"] [--keep]
set -euo pipefail

ROOT='' BUILD='' DEB=${GPU_AGENT_DEB:-} KEEP=0 SUITES="bookworm trixie"
while [ $# -gt 0 ]; do
  case $1 in
    --root) ROOT=$2; shift 2 ;;
    --build-dir) BUILD=$2; shift 2 ;;
    --deb) DEB=$2; shift 2 ;;
    --suites) SUITES=$2; shift 2 ;;
    --keep) KEEP=1; shift ;;
    *) echo "usage: $0 --root REPO --build-dir DIR [--deb FILE] [--suites LIST] [--keep]" >&2; exit 2 ;;
  esac
done
[ -n "$ROOT" ] || { echo "--root is required" >&2; exit 2; }
ROOT=$(cd "$ROOT" && pwd)
[ -z "$DEB" ] || DEB=$(realpath "$DEB")

fail() { echo "FAIL $*"; exit 1; }
ok() { echo "ok   $*"; }
[ "$(id -u)" -eq 0 ] || fail "needs root (overlay mounts, systemd-nspawn, nsenter)"
for t in systemd-nspawn nsenter ansible-playbook dpkg-deb cpack curl jq python3 systemd-analyze mmdebstrap; do
  command -v "$t" > /dev/null || fail "$t is not installed: run scripts/install-deps.sh"
done

TMP=$(mktemp -d /var/tmp/gpu-agent-systemd.XXXXXX)
chmod 0755 "$TMP"
export PLACEMENT_SERVER_WATCH_PID=$$ ANSIBLE_NOCOLOR=1 ANSIBLE_FORCE_COLOR=0
export ANSIBLE_LOCAL_TEMP=$TMP/ansible-local ANSIBLE_ROLES_PATH=$ROOT/ansible/roles
export ANSIBLE_CONNECTION_PLUGINS=$ROOT/tests/systemd/connection_plugins
export ANSIBLE_HOST_KEY_CHECKING=False ANSIBLE_RETRY_FILES_ENABLED=False
NSPAWNS=() MOUNTS=() CT_PID='' CT_NAME=''

# -- the containers --------------------------------------------------------------------
boot() {  # boot NAME SUITE: an overlay over the cached root, booted; sets CT_PID and CT_NAME
  local name=$1 suite=$2 lower dir nspawn i
  lower=$("$ROOT/scripts/debian-root.sh" ensure "$suite") || fail "scripts/debian-root.sh ensure $suite"
  dir=$TMP/ct-$name
  mkdir -p "$dir/upper" "$dir/work" "$dir/root"
  mount -t overlay overlay -o "lowerdir=$lower,upperdir=$dir/upper,workdir=$dir/work" "$dir/root" ||
    fail "overlay mount over $lower"
  MOUNTS+=("$dir/root")
  CT_NAME=gpuagent-$name-$$
  # Debian 13's systemd wants the unified cgroup hierarchy in the container on this host.
  SYSTEMD_NSPAWN_UNIFIED_HIERARCHY=1 setsid systemd-nspawn -D "$dir/root" -M "$CT_NAME" --register=no --keep-unit \
    --console=pipe -b < /dev/null > "$dir/console.log" 2>&1 &
  nspawn=$!
  NSPAWNS+=("$nspawn")
  CT_PID=''
  for i in $(seq 1 100); do
    for c in $(pgrep -P "$nspawn" || true); do
      [ "$(awk '/^NSpid:/ { print $NF }' "/proc/$c/status" 2> /dev/null)" = 1 ] && CT_PID=$c
    done
    [ -n "$CT_PID" ] && break
    kill -0 "$nspawn" 2> /dev/null || { cat "$dir/console.log"; fail "systemd-nspawn $suite exited"; }
    sleep 0.2
  done
  [ -n "$CT_PID" ] || fail "no PID 1 in the $suite container after 20 s"
  local state='' end=$((SECONDS + 90))
  # PID 1's bus appears a moment after it starts; then --wait waits for the boot to end.
  while [ $SECONDS -lt $end ]; do
    state=$(timeout 90 nsenter -t "$CT_PID" -a -r -w -- systemctl is-system-running --wait 2>&1 || true)
    case $state in running | degraded | maintenance | stopping) break ;; esac
    sleep 0.2
  done
  [ "$state" = running ] || { inct systemctl --failed --no-pager || true; fail "$suite container: systemd is '$state', not running"; }
  ok "$suite: booted $CT_NAME (systemd $(inct systemctl --version | sed -n '1s/^systemd \([0-9]*\).*/\1/p'), PID 1 = host pid $CT_PID) in $i x 0.2 s + boot"
}

# inct CMD...: run CMD in the container (its PID 1's namespaces and root), clean environment
inct() {
  nsenter -t "$CT_PID" -a -r -w -- env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 SYSTEMD_PAGER= "$@"
}

halt_container() {  # the container booted last: an orderly poweroff, then SIGKILL after 20 s
  local nspawn=${NSPAWNS[-1]} i
  kill -TERM "$nspawn" 2> /dev/null || true
  for i in $(seq 1 100); do kill -0 "$nspawn" 2> /dev/null || break; sleep 0.2; done
  kill -KILL "$nspawn" 2> /dev/null || true
  wait "$nspawn" 2> /dev/null || true
  umount "${MOUNTS[-1]}" 2> /dev/null || umount -l "${MOUNTS[-1]}" 2> /dev/null || true
  unset 'NSPAWNS[-1]' 'MOUNTS[-1]'
}

cleanup() {
  local rc=$?
  set +e
  if [ "$KEEP" = 1 ] && [ ${#NSPAWNS[@]} -gt 0 ]; then
    echo "kept: $TMP; container $CT_NAME (nsenter -t $CT_PID -a -r -w bash), placement $TMP/placement"
    return
  fi
  if [ $rc -ne 0 ] && [ -n "$CT_PID" ] && kill -0 "$CT_PID" 2> /dev/null; then
    echo "--- journal of gpu-agent.service in $CT_NAME"
    inct journalctl -u gpu-agent.service --no-pager -n 40 -o short-monotonic 2> /dev/null
    for f in "$TMP"/run*.log; do [ -f "$f" ] && { echo "--- tail of $f"; tail -n 30 "$f"; }; done
  fi
  while [ ${#NSPAWNS[@]} -gt 0 ]; do halt_container; done
  "$ROOT/scripts/placement-server.sh" stop "$TMP/placement" > /dev/null 2>&1
  [ -z "${HANG_PID:-}" ] || kill "$HANG_PID" 2> /dev/null
  rm -rf "$TMP"
}
trap cleanup EXIT

unit() {  # unit PROPERTY: gpu-agent.service's property in the container
  inct systemctl show -p "$1" --value gpu-agent.service
}
wait_for() {  # wait_for SECONDS CMD...: until CMD succeeds
  local end=$((SECONDS + $1))
  shift
  until "$@"; do [ $SECONDS -lt $end ] || return 1; sleep 0.5; done
}
pkg_version() { inct dpkg-query -W -f "\${Version}" gpu-agent; }
unit_is() { [ "$(unit ActiveState)/$(unit SubState)" = "$1" ]; }
starts_since() {  # starts_since TIME: daemon starts logged since the container's TIME
  inct journalctl -u gpu-agent.service --since "@$1" -o cat --no-pager | grep -c ' running; config ' || true
}
journal_has() { inct journalctl -u gpu-agent.service -o cat --no-pager | grep -q -- "$1"; }

t0=$SECONDS
# -- 1. the package and Placement ---------------------------------------------------------
if [ -z "$DEB" ]; then
  [ -n "$BUILD" ] || fail "give --build-dir (a configured build with gpu-agent built) or --deb"
  DEB=$("$ROOT/scripts/package.sh" --from-build "$BUILD" --out "$TMP/deb") || fail "scripts/package.sh --from-build $BUILD"
fi
VERSION=$(dpkg-deb --field "$DEB" Version)
[ "$VERSION" = "$(cat "$ROOT/VERSION")" ] || fail "$DEB is version $VERSION, VERSION says $(cat "$ROOT/VERSION")"
dpkg-deb --contents "$DEB" > "$TMP/deb.contents"
dpkg-deb --ctrl-tarfile "$DEB" | tar -t > "$TMP/deb.control"
grep -q conffiles "$TMP/deb.control" && fail "$DEB has conffiles: the config must not be one"
grep -q ' ./usr/share/gpu-agent/gpu-agent.conf$' "$TMP/deb.contents" || fail "$DEB lacks /usr/share/gpu-agent/gpu-agent.conf"
grep -q ' ./etc/' "$TMP/deb.contents" && fail "$DEB ships files in /etc"
ok "package $(basename "$DEB"): version $VERSION from VERSION, sample config in /usr/share/gpu-agent, no conffile"

# Newer packages of the same binary: version +rolloutN, the sample config changed (the
# case that made dpkg stop at a conffile prompt), for the upgrades.
newer() {  # newer N: prints the path of the package VERSION+rolloutN
  local d=$TMP/newer$1
  dpkg-deb -R "$DEB" "$d"
  sed -i "s/^Version: .*/Version: $VERSION+rollout$1/" "$d/DEBIAN/control"
  echo "# changed in $VERSION+rollout$1" >> "$d/usr/share/gpu-agent/gpu-agent.conf"
  (cd "$d" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | sort -z | xargs -0 md5sum > DEBIAN/md5sums)
  dpkg-deb --root-owner-group -Zgzip -b "$d" "$TMP/gpu-agent_$VERSION+rollout$1.deb" > /dev/null
  rm -rf "$d"
  echo "$TMP/gpu-agent_$VERSION+rollout$1.deb"
}
DEB2=$(newer 1)
DEB3=$(newer 2)

PURL=$("$ROOT/scripts/placement-server.sh" start "$TMP/placement")
pl() {  # pl METHOD PATH [BODY]
  curl -sS -f -X "$1" -H 'X-Auth-Token: admin' -H 'OpenStack-API-Version: placement 1.39' \
    -H 'Content-Type: application/json' ${3:+-d "$3"} "$PURL$2"
}
compute_node() {  # compute_node NAME: the provider nova-compute would create; prints its uuid
  local u
  u=$(pl POST /resource_providers "{\"name\": \"$1\"}" | jq -r .uuid)
  pl PUT "/resource_providers/$u/inventories" '{"resource_provider_generation": 0, "inventories": {
    "VCPU": {"total": 96, "reserved": 16, "max_unit": 96},
    "MEMORY_MB": {"total": 1048576, "reserved": 65536, "max_unit": 1048576}}}' > /dev/null
  echo "$u"
}
pool_total() {  # pool_total PROVIDER_NAME RC
  local u
  u=$(pl GET "/resource_providers?name=$(jq -rn --arg n "$1" '$n|@uri')" | jq -r '.resource_providers[0].uuid // empty')
  [ -n "$u" ] && pl GET "/resource_providers/$u/inventories" | jq -r ".inventories.$2.total"
}
has_trait() { pl GET "/resource_providers/$1/traits" | jq -e --arg t "$2" '.traits | index($t)' > /dev/null; }
FIXTURE=$ROOT/tests/data/hosts/a100-8x-passthrough.sysfs.txt
NODE=$(sed -n 's/^@hostname //p' "$FIXTURE")
CN=$(compute_node "$NODE")
ok "placement $PURL with compute node $NODE"

# -- 2. the role into a booted Debian 12 ---------------------------------------------------
boot bookworm bookworm
# What is on the root before the package: purge must leave exactly this (plus the role's files).
files() {
  inct find / -xdev \( -path /proc -o -path /sys -o -path /dev -o -path /run -o -path /tmp -o -path /var/tmp \
    -o -path /var/log -o -path /var/cache -o -path /var/lib/dpkg -o -path /var/lib/apt -o -path /var/lib/systemd \
    -o -path /root \) -prune -o -print | sort
}
files > "$TMP/files.before"

cat > "$TMP/inventory.ini" <<INI
[gpu_compute]
ct ansible_connection=nsenter ansible_host=$CT_PID ansible_python_interpreter=/usr/bin/python3
[nova_compute:children]
gpu_compute
INI
cat > "$TMP/play.yml" <<'YAML'
---
- name: gpu-agent in the container
  hosts: gpu_compute
  gather_facts: false
  roles:
    - role: gpu_agent
YAML
lab() {  # lab DEB [RUN_ARGS_JSON]: the role's variables
  cat > "$TMP/lab.yml" <<YAML
gpu_agent_deb: $1
gpu_agent_fixture: $FIXTURE
gpu_agent_placement_auth_type: admin_token
gpu_agent_placement_token: admin
gpu_agent_placement_endpoint_override: $PURL
gpu_agent_retry_max: 5
gpu_agent_host_traits: [CUSTOM_GPU_TENANT_GOLD]
gpu_agent_run_args: ${2:-[]}
# No start-up splay here (auto is one interval under systemd): every restart below would
# wait up to a minute for its first pass. Debian 13's part checks the splay under systemd.
gpu_agent_splay: 0
gpu_agent_nova_compute_services: []
gpu_agent_nova_api_services: []
YAML
}
play() {  # play LOG [ARGS...]
  local log=$1
  shift
  ansible-playbook -i "$TMP/inventory.ini" "$TMP/play.yml" -e @"$TMP/lab.yml" "$@" > "$log" 2>&1
}
recap() { grep -E '^ct +:' "$1" | tr -s ' '; }
changed_tasks() { grep -B1 -E '^changed: ' "$1" | sed -n 's/^TASK \[\(.*\)\].*/\1/p' | paste -sd ';'; }

lab "$DEB"
t1=$SECONDS
play "$TMP/run1.log" || { tail -n 40 "$TMP/run1.log"; fail "first run of the role"; }
ok "role, first run: $(recap "$TMP/run1.log") ($((SECONDS - t1)) s)"
play "$TMP/run2.log" || { tail -n 40 "$TMP/run2.log"; fail "second run of the role"; }
recap "$TMP/run2.log" | grep -q 'changed=0 ' ||
  fail "the second run changed: $(changed_tasks "$TMP/run2.log") ($(recap "$TMP/run2.log"))"
ok "role, second run: $(recap "$TMP/run2.log")"

# -- 3. the unit under a real systemd ------------------------------------------------------
unit_is active/running || fail "gpu-agent.service is $(unit ActiveState)/$(unit SubState)"
[ "$(unit Type)" = notify ] || fail "Type is $(unit Type)"
STATUS=$(unit StatusText)
[[ $STATUS == *"8/8 GPUs in pool 10de_20b2"* ]] || fail "STATUS= is '$STATUS'"
inct systemctl status gpu-agent.service --no-pager -n 0 > "$TMP/status.txt" 2>&1 || true
if ! grep -q 'Active: active (running)' "$TMP/status.txt" || ! grep -qF "Status: \"$STATUS\"" "$TMP/status.txt"; then
  cat "$TMP/status.txt"
  fail "systemctl status does not show the agent ready with its status line"
fi
ok "systemctl status gpu-agent: active (running) after READY=1, Status: \"$STATUS\""

PID=$(unit MainPID)
inct cat "/proc/$PID/status" > "$TMP/proc-status"
uid=$(awk '/^Uid:/ { print $2 }' "$TMP/proc-status")
[ "$uid" = "$(inct id -u gpu-agent)" ] || fail "the daemon runs as uid $uid, not gpu-agent"
grep -q '^CapEff:[[:space:]]*0000000000000000$' "$TMP/proc-status" || fail "the daemon has capabilities: $(grep CapEff "$TMP/proc-status")"
grep -q '^NoNewPrivs:[[:space:]]*1$' "$TMP/proc-status" || fail "NoNewPrivs is not set"
grep -q '^Seccomp:[[:space:]]*2$' "$TMP/proc-status" || fail "no seccomp filter"
host_pci=$(find /sys/bus/pci/devices/ -mindepth 1 -maxdepth 1 | wc -l)
seen_pci=$(inct sh -c "ls /proc/$PID/root/sys/bus/pci/devices | wc -l")
{ [ "$host_pci" -gt 0 ] && [ "$seen_pci" = "$host_pci" ]; } || fail "the sandbox sees $seen_pci PCI devices in /sys, the host $host_pci"
ok "sandbox: pid $PID as gpu-agent, no capabilities, NoNewPrivs, seccomp; sees /sys ($seen_pci PCI devices, as the host)"

POOL="$NODE:gpu-pool:CUSTOM_PGPU_10DE_20B2"
pool_is_8() { [ "$(pool_total "$POOL" CUSTOM_PGPU_10DE_20B2)" = 8 ]; }
wait_for 20 pool_is_8 || fail "placement has no pool $POOL with 8 GPUs"
has_trait "$CN" CUSTOM_GPU_TENANT_GOLD || fail "host trait missing on $NODE"
inct gpu-agent status > "$TMP/agent-status.txt" 2>&1 || { cat "$TMP/agent-status.txt"; fail "gpu-agent status is not healthy"; }
ok "placement: $POOL total 8, host trait on $NODE; gpu-agent status exits 0"

score() { sed -n 's/.*Overall exposure level for gpu-agent.service: \([0-9.]*\).*/\1/p'; }
offline=$(systemd-analyze security --offline=true --threshold=100 "$ROOT/etc/gpu-agent.service" 2>&1 | score)
online=$(inct systemd-analyze security --threshold=100 gpu-agent.service 2>&1 | score)
{ [ -n "$offline" ] && [ -n "$online" ] && awk "BEGIN { exit !($online <= $offline) }"; } ||
  fail "systemd-analyze security: online '$online' above offline '$offline'"
ok "systemd-analyze security: online $online <= offline $offline"

inct sh -c "kill -9 $PID"
wait_for 30 sh -c "[ \"\$(nsenter -t $CT_PID -a -r -w -- systemctl show -p MainPID --value gpu-agent.service)\" != $PID ] &&
  nsenter -t $CT_PID -a -r -w -- systemctl is-active --quiet gpu-agent.service" ||
  fail "no restart after kill -9 ($(unit ActiveState)/$(unit SubState))"
[ "$(unit NRestarts)" = 1 ] || fail "NRestarts is $(unit NRestarts) after one kill"
PID=$(unit MainPID)
ok "kill -9: restarted by systemd (Restart=on-failure) as pid $PID, NRestarts 1"

CONF=/etc/gpu-agent/gpu-agent.conf
inct cp -p "$CONF" /root/good.conf
inct sh -c "sed -i 's/^host_traits = .*/&, CUSTOM_GPU_RELOADED/' $CONF"
inct systemctl reload gpu-agent.service
wait_for 20 has_trait "$CN" CUSTOM_GPU_RELOADED || fail "systemctl reload: the new trait did not reach placement"
[ "$(unit MainPID)" = "$PID" ] || fail "systemctl reload restarted the daemon"
journal_has 'SIGHUP: configuration reloaded' || fail "no reload in the journal"
ok "systemctl reload: config re-read by pid $PID (SIGHUP), CUSTOM_GPU_RELOADED on $NODE in placement"

inct sh -c "printf '[agent]\ninterval = soon\n' >> $CONF"
inct systemctl reset-failed gpu-agent.service
inct systemctl restart gpu-agent.service > /dev/null 2>&1 && fail "a bad config started"
[ "$(unit ExecMainStatus)" = 2 ] || fail "exit status $(unit ExecMainStatus), not 2, with a bad config"
unit_is failed/failed || fail "with exit 2 the unit is $(unit ActiveState)/$(unit SubState): it must stay down"
journal_has "$CONF:.*interval" || fail "the journal does not name the file and key"
sleep 11  # RestartSec=10s: a restart would have happened by now
unit_is failed/failed || fail "the unit came back after exit 2"
ok "bad config: exit 2, failed and still down after RestartSec, the journal names $CONF and the key"
inct cp -p /root/good.conf "$CONF"
inct systemctl reset-failed gpu-agent.service
inct systemctl start gpu-agent.service || fail "no start after the config was fixed"

# systemctl stop while a Placement request hangs: SIGTERM must end it well before
# TimeoutStopSec (60 s, then SIGKILL).
python3 -c '
import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(16)
print(s.getsockname()[1], flush=True)
conns = []
while True:
    c, _ = s.accept(); conns.append(c)
' > "$TMP/hang.port" &
HANG_PID=$!
wait_for 10 test -s "$TMP/hang.port" || fail "the hanging listener did not start"
HURL="http://127.0.0.1:$(cat "$TMP/hang.port")"
inct sh -c "sed -i 's|^endpoint_override = .*|endpoint_override = $HURL|' $CONF"
inct systemctl reload gpu-agent.service
sleep 2
s0=$(date +%s.%N)
inct systemctl stop gpu-agent.service
stop_s=$(awk -v a="$s0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
# SIGTERM cancels the request in flight: a few seconds, not the request timeout (30 s).
stop_limit=${GPU_AGENT_STOP_LIMIT:-5}
awk "BEGIN { exit !($stop_s <= $stop_limit) }" || fail "systemctl stop took $stop_s s while a request hung (limit $stop_limit s)"
[ "$(unit Result)" = success ] || fail "stop ended with Result=$(unit Result) (SIGKILL?)"
kill "$HANG_PID"; HANG_PID=''
ok "systemctl stop while a Placement request hangs: $stop_s s (limit $stop_limit s), clean exit"
inct cp -p /root/good.conf "$CONF"
inct systemctl start gpu-agent.service || fail "no start after the stop"

# -- 4. a failed check loses no restart ----------------------------------------------------
PID=$(unit MainPID)
sum() { inct sha256sum "$CONF" /etc/default/gpu-agent /var/lib/gpu-agent/fixture.sysfs.txt | awk '{ print $1 }' | paste -sd,; }
before=$(sum)
lab "$DEB" '["--verbose"]'
play "$TMP/run3.log" -e gpu_agent_fixture="$ROOT/tests/data/hosts/h100-passthrough-guest.sysfs.txt" &&
  fail "a host that is not ready passed doctor"
grep -q 'IOMMU is off' "$TMP/run3.log" || { tail -n 30 "$TMP/run3.log"; fail "the failure is not doctor's advice"; }
[ "$(sum)" = "$before" ] || fail "a failed doctor changed live files"
[ "$(unit MainPID)" = "$PID" ] || fail "a failed doctor restarted the daemon"
play "$TMP/run4.log" || { tail -n 40 "$TMP/run4.log"; fail "the run after the fix"; }
grep -q 'RUNNING HANDLER \[gpu_agent : Restart gpu-agent under systemd\]' "$TMP/run4.log" ||
  fail "the new arguments did not restart the daemon: $(changed_tasks "$TMP/run4.log")"
PID=$(unit MainPID)
inct cat "/proc/$PID/cmdline" | tr '\0' ' ' | grep -q -- '--verbose' || fail "the daemon runs without the new argument"
ok "doctor failed (IOMMU off): no live file changed, same pid; the next good run restarted it with --verbose (pid $PID)"

# -- 5. upgrades ---------------------------------------------------------------------------
SNIP=/etc/nova/nova.conf.d/50-gpu-agent-pci.conf
inct grep -q '^device_spec = ' "$SNIP" || fail "$SNIP has no device_spec"
inct grep -qF "$VERSION" "$SNIP" && fail "$SNIP carries the agent version: every upgrade would restart nova"
inct touch /var/lib/gpu-agent/rollout-sentinel
before=$(sum)
inct sh -c 'cat > /root/newer.deb' < "$DEB2"
since=$(($(inct date +%s) + 1))  # journalctl --since takes whole seconds: none of the earlier ones
sleep 2
inct sh -c 'dpkg -i /root/newer.deb < /dev/null' > "$TMP/dpkg-upgrade.log" 2>&1 ||
  { cat "$TMP/dpkg-upgrade.log"; fail "dpkg -i of a newer package without a terminal"; }
[ "$(pkg_version)" = "$VERSION+rollout1" ] || fail "the upgrade did not install"
[ "$(sum)" = "$before" ] || fail "the upgrade changed the config, /etc/default/gpu-agent or the capture"
inct test -e /var/lib/gpu-agent/rollout-sentinel -a -e /var/lib/gpu-agent/state.json || fail "the upgrade lost the state directory"
wait_for 20 unit_is active/running || fail "not running after the upgrade"
[ "$(starts_since "$since")" = 1 ] || fail "dpkg -i: $(starts_since "$since") starts, want 1"
ok "unattended upgrade (dpkg -i, no terminal, sample changed): no prompt, config and state kept, one restart"

lab "$DEB3" '["--verbose"]'
since=$(($(inct date +%s) + 1))  # journalctl --since takes whole seconds: none of the earlier ones
sleep 2
play "$TMP/run5.log" || { tail -n 40 "$TMP/run5.log"; fail "the upgrade through the role"; }
[ "$(pkg_version)" = "$VERSION+rollout2" ] || fail "the role did not upgrade"
[ "$(sum)" = "$before" ] || fail "the role's upgrade changed the config"
wait_for 20 unit_is active/running || fail "not running after the role's upgrade"
[ "$(starts_since "$since")" = 1 ] || fail "the role's upgrade: $(starts_since "$since") starts, want 1"
grep -A2 'TASK \[gpu_agent : Install the nova \[pci\] snippet\]' "$TMP/run5.log" | grep -q '^ok: ' ||
  fail "the upgrade changed the nova snippet (nova would restart)"
ok "upgrade through the role: $(recap "$TMP/run5.log"); one restart, nova snippet unchanged"

# -- 6. purge, then the role's removal -----------------------------------------------------
inct dpkg --purge gpu-agent > "$TMP/purge.log" 2>&1 || { cat "$TMP/purge.log"; fail "dpkg --purge"; }
files > "$TMP/files.purged"
inct sh -c 'grep -lx gpu-agent /proc/[0-9]*/comm' 2> /dev/null && fail "a gpu-agent process survived the purge"
# Left: the role's files (its staging dir went with /var/lib/gpu-agent), nova's directory.
printf '%s\n' /etc/default/gpu-agent /etc/nova /etc/nova/nova.conf.d "$SNIP" | sort > "$TMP/files.role"
# useradd's backups (/etc/passwd- ...) come with the user, which stays.
comm -13 "$TMP/files.before" "$TMP/files.purged" | grep -v -E '^/etc/(passwd|group|shadow|gshadow)-$' > "$TMP/files.added"
comm -23 "$TMP/files.before" "$TMP/files.purged" > "$TMP/files.removed"
diff "$TMP/files.role" "$TMP/files.added" > /dev/null || fail "after purge, files besides the role's: $(diff "$TMP/files.role" "$TMP/files.added" | paste -sd' ')"
[ ! -s "$TMP/files.removed" ] || fail "purge removed files it does not own: $(paste -sd' ' "$TMP/files.removed")"
ok "dpkg --purge: the package's files, config, state and unit gone; left only the role's $(paste -sd' ' "$TMP/files.role")"

# The role again (package, config, daemon), then its removal.
play "$TMP/run6.log" || { tail -n 40 "$TMP/run6.log"; fail "the role after the purge"; }
unit_is active/running || fail "not running after the role reinstalled it"
play "$TMP/run7.log" -e gpu_agent_state=absent || { tail -n 40 "$TMP/run7.log"; fail "the role with gpu_agent_state=absent"; }
inct sh -c 'grep -lx gpu-agent /proc/[0-9]*/comm' 2> /dev/null && fail "a gpu-agent process survived state=absent"
files > "$TMP/files.absent"
printf '%s\n' /etc/nova /etc/nova/nova.conf.d > "$TMP/files.role"
comm -13 "$TMP/files.before" "$TMP/files.absent" | grep -v -E '^/etc/(passwd|group|shadow|gshadow)-$' > "$TMP/files.added"
diff "$TMP/files.role" "$TMP/files.added" > /dev/null || fail "after state=absent, left: $(paste -sd' ' "$TMP/files.added")"
ok "role gpu_agent_state=absent (after the role reinstalled it): $(recap "$TMP/run7.log"); nothing of the agent or the role left"
halt_container

# -- 7. the same .deb on Debian 13 --------------------------------------------------------
for suite in $SUITES; do
  [ "$suite" != bookworm ] || continue
  boot "$suite" "$suite"
  node=rollout-$suite
  node_uuid=$(compute_node "$node")
  inct sh -c 'cat > /root/gpu-agent.deb' < "$DEB"
  inct sh -c 'dpkg -i /root/gpu-agent.deb < /dev/null' > "$TMP/dpkg-$suite.log" 2>&1 ||
    { cat "$TMP/dpkg-$suite.log"; fail "$suite: dpkg -i $(basename "$DEB")"; }
  inct systemd-analyze verify gpu-agent.service > "$TMP/verify-$suite.log" 2>&1 ||
    { cat "$TMP/verify-$suite.log"; fail "$suite: systemd-analyze verify"; }
  [ ! -s "$TMP/verify-$suite.log" ] || { cat "$TMP/verify-$suite.log"; fail "$suite: systemd-analyze verify warns"; }
  config() {  # config SPLAY
    inct sh -c "printf '[agent]\ncompute_node_name = $node\ninterval = 1\nsplay = $1\n[placement]\nauth_type = admin_token\ntoken = admin\nendpoint_override = $PURL\n' > $CONF"
  }
  inct test ! -e /etc/default/gpu-agent || fail "$suite: /etc/default/gpu-agent exists before the test wrote it"
  # A start-up splay must not hold `systemctl start` (Type=notify): READY=1 comes before it.
  config 600
  s0=$SECONDS
  inct systemctl enable --now gpu-agent.service > /dev/null 2>&1 || fail "$suite: systemctl enable --now gpu-agent"
  [ $((SECONDS - s0)) -lt 10 ] || fail "$suite: systemctl start took $((SECONDS - s0)) s with a 600 s splay"
  [ "$(unit StatusText)" = "first pass within 600 s (start-up splay)" ] || fail "$suite: STATUS= during the splay is '$(unit StatusText)'"
  unit_is active/running || fail "$suite: not active during the splay"
  ok "$suite: with [agent] splay = 600, systemctl start returns in $((SECONDS - s0)) s: active, Status: \"$(unit StatusText)\""
  # ... and systemd's watchdog does not kill it during the splay: WATCHDOG=1 every WatchdogSec/2 while it waits.
  inct sh -c 'mkdir -p /etc/systemd/system/gpu-agent.service.d &&
    printf "[Service]\nWatchdogSec=3s\n" > /etc/systemd/system/gpu-agent.service.d/watchdog.conf && systemctl daemon-reload'
  inct systemctl restart gpu-agent.service || fail "$suite: systemctl restart gpu-agent (WatchdogSec=3s)"
  pid0=$(unit MainPID) restarts0=$(unit NRestarts)
  sleep 9
  { [ "$(unit MainPID)" = "$pid0" ] && [ "$(unit NRestarts)" = "$restarts0" ] && unit_is active/running; } ||
    fail "$suite: WatchdogSec=3s during a 600 s splay: pid $pid0 -> $(unit MainPID), restarts $restarts0 -> $(unit NRestarts), $(unit ActiveState)/$(unit SubState); $(inct journalctl -u gpu-agent.service -o cat --no-pager | tail -5)"
  journal_has 'Watchdog timeout' && fail "$suite: systemd logged a watchdog timeout"
  ok "$suite: WatchdogSec=3s with [agent] splay = 600: the same pid after 9 s, no restart, Status: \"$(unit StatusText)\""
  inct sh -c 'rm -r /etc/systemd/system/gpu-agent.service.d && systemctl daemon-reload'
  # nova 2023.1+'s identity file as Debian's nova leaves it: /var/lib/nova 0755 nova:nova
  # (nova-common's postinst), compute_id 0644 (nova-compute runs as nova under systemd's
  # default UMask 0022). Under its unit (User=gpu-agent, PrivateUsers=yes, ProtectSystem=strict,
  # ProtectHome=yes) the agent reads it and finds the compute node by it, not by name.
  inct sh -c "id nova > /dev/null 2>&1 || useradd --system --home-dir /var/lib/nova --no-create-home nova
    install -d -o nova -g nova -m 0755 /var/lib/nova
    printf %s $node_uuid > /var/lib/nova/compute_id
    chown nova:nova /var/lib/nova/compute_id && chmod 0644 /var/lib/nova/compute_id" ||
    fail "$suite: writing nova's compute_id as nova would"
  config 0
  inct systemctl restart gpu-agent.service || fail "$suite: systemctl restart gpu-agent"
  passes() { inct cat /var/lib/gpu-agent/status.json 2> /dev/null | jq -r '.passes // 0' || echo 0; }
  three_passes() { [ "$(passes)" -ge 3 ]; }
  wait_for 30 three_passes || fail "$suite: $(passes) passes in 30 s at interval 1"
  unit_is active/running || fail "$suite: gpu-agent.service is $(unit ActiveState)/$(unit SubState)"
  inct cat /var/lib/gpu-agent/status.json | jq -e --arg n "$node" '.last_pass.result == "ok" and .compute_node == $n' > /dev/null ||
    fail "$suite: the last pass did not reach Placement: $(inct cat /var/lib/gpu-agent/status.json | jq -c .last_pass)"
  inct journalctl -b -o cat --no-pager | grep -i 'GPU_AGENT_ARGS' && fail "$suite: systemd warns about GPU_AGENT_ARGS"
  n=$(inct journalctl -u gpu-agent.service -o cat --no-pager | grep -c 'no GPU found in /sys/bus/pci/devices' || true)
  [ "$n" = 1 ] || fail "$suite: 'no GPU found' logged $n times, want once"
  journal_has "reading its tree by nova's compute_id $node_uuid (/var/lib/nova/compute_id)" ||
    fail "$suite: the compute node was not found by nova's compute_id: $(inct journalctl -u gpu-agent.service -o cat --no-pager | grep -i -m3 -E 'compute_id|by name')"
  journal_has 'up by name' && fail "$suite: looked the compute node up by name beside nova's compute_id"
  [ -n "$(unit StatusText)" ] || fail "$suite: no STATUS= line"
  online=$(inct systemd-analyze security --threshold=100 gpu-agent.service 2>&1 | score)
  awk "BEGIN { exit !($online <= $offline) }" || fail "$suite: security exposure $online above offline $offline"
  rc=0
  inct gpu-agent status > "$TMP/agent-status-$suite.txt" 2>&1 || rc=$?
  ok "$suite: $(basename "$DEB") installs (Depends resolve), runs under the unit without /etc/default/gpu-agent and no GPU_AGENT_ARGS warning; 'no GPU found in /sys' once in $(passes) passes, each reaching Placement; the compute node found by nova's /var/lib/nova/compute_id (0644 nova:nova in 0755 nova:nova) under the sandbox; Status: \"$(unit StatusText)\"; exposure $online; gpu-agent status exit $rc"
  halt_container
done

echo "all checks passed in $((SECONDS - t0)) s"
