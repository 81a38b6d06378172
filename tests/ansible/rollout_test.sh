#!/usr/bin/env bash
# The Ansible rollout, for real, on this machine (CTest ansible_rollout,
# LABELS integration;ansible). As root:
#   1. ansible-lint (production profile) and --syntax-check: the role, site.yml,
#      gpu-flavors.yml; systemd-analyze security on the unit (exposure <= 2.0)
#   2. the .deb from CPack (this build's gpu-agent; or --deb FILE)
#   3. a real Placement and nova-api on 127.0.0.1 (scripts/*-server.sh); the
#      fixture host's compute node provider created as nova-compute would
#   4. ansible/site.yml (connection: local) installs the package, writes the
#      config, runs doctor, starts the daemon (systemd when PID 1 is systemd,
#      else start-stop-daemon), writes the nova [pci] snippet, generates the
#      flavors from placement and creates them in nova-api
#   5. checks: the package (no conffile) and the config, the daemon as gpu-agent, the pool
#      provider in placement, the snippet, `openstack flavor show`
#   6. the second run changes nothing; a config change reloads the daemon
#      (SIGHUP) and placement follows; a host that is not ready fails at doctor
#      with doctor's advice
#   7. gpu_agent_state=absent removes the package and the role's files; then
#      everything installed or started is removed again (trap), leaving the
#      machine as found.
# Usage: rollout_test.sh --root REPO --build-dir DIR [--deb FILE] [--keep]
set -euo pipefail

ROOT='' BUILD='' DEB=${GPU_AGENT_DEB:-} KEEP=0
while [ $# -gt 0 ]; do
  case $1 in
    --root) ROOT=$2; shift 2 ;;
    --build-dir) BUILD=$2; shift 2 ;;
    --deb) DEB=$2; shift 2 ;;
    --keep) KEEP=1; shift ;;
    *) echo "usage: $0 --root REPO --build-dir DIR [--deb FILE] [--keep]" >&2; exit 2 ;;
  esac
done
[ -n "$ROOT" ] || { echo "--root is required" >&2; exit 2; }
ROOT=$(cd "$ROOT" && pwd)
[ -z "$BUILD" ] || BUILD=$(cd "$BUILD" && pwd)
[ -z "$DEB" ] || DEB=$(realpath "$DEB")

fail() { echo "FAIL $*"; exit 1; }
ok() { echo "ok   $*"; }
[ "$(id -u)" -eq 0 ] || fail "needs root (dpkg -i, a system user, /etc)"
for t in ansible-playbook ansible-lint dpkg-deb cpack start-stop-daemon curl jq openstack promtool; do
  command -v "$t" > /dev/null || fail "$t is not installed: run scripts/install-deps.sh"
done

# One rollout at a time on this machine: the package, the user and
# /etc/gpu-agent are global.
exec 9> /run/lock/gpu-agent-rollout-test.lock
flock -w 900 9 || fail "another rollout test holds /run/lock/gpu-agent-rollout-test.lock"

if dpkg-query -W -f='${Status}' gpu-agent 2> /dev/null | grep -q 'install ok installed'; then
  fail "the gpu-agent package is already installed here; this test installs and removes it, so it will not run"
fi
had_user=0; getent passwd gpu-agent > /dev/null && had_user=1
had_group=0; getent group gpu-agent > /dev/null && had_group=1
had_nova_dir=0; [ -d /etc/nova ] && had_nova_dir=1
had_confd=0; [ -d /etc/nova/nova.conf.d ] && had_confd=1
[ -e /etc/nova/nova.conf.d/50-gpu-agent-pci.conf ] && fail "/etc/nova/nova.conf.d/50-gpu-agent-pci.conf exists; not overwriting it"

TMP=$(mktemp -d /tmp/gpu-agent-rollout.XXXXXX)
chmod 0755 "$TMP"
export PLACEMENT_SERVER_WATCH_PID=$$ NOVA_API_SERVER_WATCH_PID=$$
export OS_NOVA_DISABLE_EVENTLET_PATCHING=1 ANSIBLE_NOCOLOR=1 ANSIBLE_FORCE_COLOR=0
export ANSIBLE_LOCAL_TEMP=$TMP/ansible-local ANSIBLE_REMOTE_TEMP=$TMP/ansible-remote
for v in $(env | sed -n 's/^\(OS_[A-Z_]*\)=.*/\1/p'); do
  [ "$v" = OS_NOVA_DISABLE_EVENTLET_PATCHING ] || unset "$v"
done

cleanup() {
  local rc=$?
  if [ "$KEEP" = 1 ]; then echo "kept: $TMP (placement, nova-api, the package)"; return; fi
  set +e
  # dpkg's prerm stops the daemon (systemd or start-stop-daemon pid file)
  if dpkg-query -W -f='${Status}' gpu-agent 2> /dev/null | grep -q 'installed'; then
    dpkg --purge gpu-agent > "$TMP/purge.log" 2>&1 || cat "$TMP/purge.log"
  fi
  start-stop-daemon --stop --quiet --oknodo --retry TERM/10/KILL/5 --pidfile /run/gpu-agent.pid \
    --exec /usr/bin/gpu-agent > /dev/null 2>&1
  rm -f /run/gpu-agent.pid /etc/default/gpu-agent /var/cache/apt/archives/gpu-agent_*.deb
  rm -rf /var/log/gpu-agent /var/lib/gpu-agent /etc/gpu-agent /run/gpu-agent
  [ "$(readlink /var/lib/prometheus/node-exporter/gpu_agent.prom 2> /dev/null)" != /run/gpu-agent/gpu_agent.prom ] ||
    rm -f /var/lib/prometheus/node-exporter/gpu_agent.prom
  rm -f /etc/nova/nova.conf.d/50-gpu-agent-pci.conf
  [ "$had_confd" = 1 ] || rmdir /etc/nova/nova.conf.d 2> /dev/null
  [ "$had_nova_dir" = 1 ] || rmdir /etc/nova 2> /dev/null
  [ "$had_user" = 1 ] || userdel gpu-agent 2> /dev/null
  [ "$had_group" = 1 ] || groupdel gpu-agent 2> /dev/null
  "$ROOT/scripts/nova-api-server.sh" stop "$TMP/nova" > /dev/null 2>&1
  "$ROOT/scripts/placement-server.sh" stop "$TMP/placement" > /dev/null 2>&1
  if [ $rc -ne 0 ]; then
    for f in "$TMP"/run*.log /var/log/gpu-agent/gpu-agent.log "$TMP/placement/placement.log"; do
      [ -f "$f" ] && { echo "--- tail of $f"; tail -n 40 "$f"; }
    done
  fi
  rm -rf "$TMP"
}
trap cleanup EXIT

t0=$SECONDS
# nova-api takes ~10 s to start: in the background while the rest is prepared
"$ROOT/scripts/nova-api-server.sh" start "$TMP/nova" > "$TMP/nova.url" 2> "$TMP/nova.err" &
nova_pid=$!

# -- 1. lint ---------------------------------------------------------------------
cd "$ROOT/ansible"
ansible-lint --offline -p site.yml gpu-flavors.yml roles/gpu_agent > "$TMP/lint.log" 2>&1 ||
  { cat "$TMP/lint.log"; fail "ansible-lint"; }
ok "ansible-lint: role, site.yml and gpu-flavors.yml pass (production profile)"
printf -- '---\ngpu_agent_traits: []\ngpu_agent_flavors: []\n' > "$TMP/empty-flavors.yml"
for pb in site.yml gpu-flavors.yml; do
  ansible-playbook --syntax-check -i "$ROOT/ansible/inventory.example.ini" "$pb" \
    -e gpu_agent_flavor_vars="$TMP/empty-flavors.yml" > "$TMP/syntax.log" 2>&1 ||
    { cat "$TMP/syntax.log"; fail "ansible-playbook --syntax-check $pb"; }
done
ok "ansible-playbook --syntax-check site.yml gpu-flavors.yml"
if command -v systemd-analyze > /dev/null; then
  score=$(systemd-analyze security --offline=true --threshold=20 "$ROOT/etc/gpu-agent.service" 2>&1 |
          sed -n 's/.*Overall exposure level for gpu-agent.service: \([0-9.]*\).*/\1/p')
  { [ -n "$score" ] && awk "BEGIN { exit !($score <= 2.0) }"; } || fail "systemd-analyze security: exposure '$score' > 2.0"
  ok "systemd-analyze security --offline=true etc/gpu-agent.service: exposure $score"
fi

# -- 2. the package --------------------------------------------------------------
if [ -z "$DEB" ]; then
  [[ -n $BUILD && -f $BUILD/CPackConfig.cmake ]] || fail "give --build-dir (with CPackConfig.cmake) or --deb"
  DEB=$("$ROOT/scripts/package.sh" --from-build "$BUILD" --out "$TMP/deb") || fail "scripts/package.sh --from-build $BUILD"
fi
dpkg-deb --field "$DEB" Depends | grep -q libpci3 || fail "$DEB: Depends lacks libpci3 (dpkg-shlibdeps did not run?)"
dpkg-deb --field "$DEB" Depends | grep -q libssl3 || fail "$DEB: Depends lacks libssl3 (dpkg-shlibdeps did not run?)"
dpkg-deb --field "$DEB" Depends | grep -q libsystemd0 || fail "$DEB: Depends lacks libsystemd0 (dlopen()ed for sd_notify)"
# The config is the role's, not a dpkg conffile (an unattended upgrade must never
# stop at a conffile prompt): the package ships the sample in /usr/share.
dpkg-deb --contents "$DEB" > "$TMP/deb.contents"
dpkg-deb --ctrl-tarfile "$DEB" | tar -t > "$TMP/deb.control"
grep -q conffiles "$TMP/deb.control" && fail "$DEB has conffiles"
grep -q ' ./usr/share/gpu-agent/gpu-agent.conf$' "$TMP/deb.contents" ||
  fail "$DEB lacks the sample /usr/share/gpu-agent/gpu-agent.conf"
ok "package $(basename "$DEB"): Depends $(dpkg-deb --field "$DEB" Depends | cut -c1-80)...; no conffile"

# -- 3. services -------------------------------------------------------------------
PURL=$("$ROOT/scripts/placement-server.sh" start "$TMP/placement")
pl() {  # pl METHOD PATH [BODY]
  curl -sS -f -X "$1" -H 'X-Auth-Token: admin' -H 'OpenStack-API-Version: placement 1.39' \
    -H 'Content-Type: application/json' ${3:+-d "$3"} "$PURL$2"
}
FIXTURE=$ROOT/tests/data/hosts/a100-8x-passthrough.sysfs.txt
NODE=$(sed -n 's/^@hostname //p' "$FIXTURE")
CN=$(pl POST /resource_providers "{\"name\": \"$NODE\"}" | jq -r .uuid)
pl PUT "/resource_providers/$CN/inventories" '{"resource_provider_generation": 0, "inventories": {
  "VCPU": {"total": 96, "reserved": 16, "max_unit": 96},
  "MEMORY_MB": {"total": 1048576, "reserved": 65536, "max_unit": 1048576},
  "DISK_GB": {"total": 7000, "max_unit": 7000}}}' > /dev/null
ok "placement $PURL with compute node $NODE ($CN), as nova-compute creates it"
wait "$nova_pid" || { cat "$TMP/nova.err"; fail "nova-api did not start"; }
NURL=$(tail -n 1 "$TMP/nova.url")
ok "nova-api $NURL (services up in $((SECONDS - t0)) s)"

cat > "$TMP/clouds.yaml" <<YAML
# The lab has no keystone: admin_token auth with one endpoint per cloud entry
# (OSC's placement commands take the auth plugin's endpoint, not
# placement_endpoint_override), noauth2 tokens.
clouds:
  gpu-lab:
    auth_type: admin_token
    auth: {token: "admin:admin", endpoint: "$NURL"}
    compute_api_version: "2.92"
  gpu-lab-placement:
    auth_type: admin_token
    auth: {token: admin, endpoint: "$PURL"}
YAML
export OS_CLIENT_CONFIG_FILE=$TMP/clouds.yaml

cat > "$TMP/inventory.ini" <<INI
[gpu_compute]
localhost ansible_connection=local ansible_python_interpreter=/usr/bin/python3
[nova_compute:children]
gpu_compute
[nova_api:children]
gpu_compute
[all:vars]
# from the inventory, not -e: the flavor playbook must not override them
gpu_agent_cloud=gpu-lab
gpu_agent_placement_cloud=gpu-lab-placement
INI
cat > "$TMP/lab.yml" <<YAML
gpu_agent_deb: $DEB
gpu_agent_fixture: $FIXTURE
gpu_agent_placement_auth_type: admin_token
gpu_agent_placement_token: admin
gpu_agent_placement_endpoint_override: $PURL
gpu_agent_retry_max: 5
gpu_agent_host_traits: [CUSTOM_GPU_TENANT_GOLD]
gpu_agent_flavors_config:
  sizes: [1, 2, 4, 8]
  name_template: "gpu.{pool}.{n}x"
  required_traits: [CUSTOM_GPU_ROLLOUT_FLAVOR]
gpu_agent_nova_compute_services: []
gpu_agent_nova_api_services: []
gpu_agent_flavors_generate: true
gpu_agent_flavors_args: [--from-placement]
gpu_agent_flavor_vars: $TMP/gpu-flavors-vars.yml
YAML

play() {  # play LOG [ARGS...]: site.yml on this machine; prints the recap line
  local log=$1; shift
  ansible-playbook -i "$TMP/inventory.ini" "$ROOT/ansible/site.yml" -e @"$TMP/lab.yml" "$@" > "$log" 2>&1
}

# -- 4. first run ------------------------------------------------------------------
t1=$SECONDS
play "$TMP/run1.log" || { tail -n 60 "$TMP/run1.log"; fail "first ansible-playbook run"; }
ok "first run: $(grep -E '^localhost +:' "$TMP/run1.log" | tr -s ' ') ($((SECONDS - t1)) s)"

# -- 5. checks -------------------------------------------------------------------------
dpkg-query -W -f='${Status}' gpu-agent | grep -q 'install ok installed' || fail "package not installed"
[ -z "$(dpkg-query -W -f='${Conffiles}' gpu-agent)" ] || fail "the package registered conffiles"
[ "$(stat -c '%a %U:%G' /etc/gpu-agent/gpu-agent.conf)" = "640 root:gpu-agent" ] ||
  fail "/etc/gpu-agent/gpu-agent.conf is $(stat -c '%a %U:%G' /etc/gpu-agent/gpu-agent.conf)"
[ "$(stat -c '%U' /var/lib/gpu-agent)" = gpu-agent ] || fail "/var/lib/gpu-agent is not the service user's"
ok "package installed: config (the role's, no conffile) root:gpu-agent 0640, /var/lib/gpu-agent owned by gpu-agent"
if command -v systemd-analyze > /dev/null; then
  systemd-analyze verify /lib/systemd/system/gpu-agent.service > "$TMP/verify.log" 2>&1 ||
    { cat "$TMP/verify.log"; fail "systemd-analyze verify of the installed unit"; }
  [ ! -s "$TMP/verify.log" ] || { cat "$TMP/verify.log"; fail "systemd-analyze verify warns about the installed unit"; }
  ok "systemd-analyze verify /lib/systemd/system/gpu-agent.service: clean"
fi
if [ -d /run/systemd/system ]; then
  systemctl is-active --quiet gpu-agent.service || fail "gpu-agent.service is not active"
  pid=$(systemctl show -p MainPID --value gpu-agent.service)
  how="systemd (gpu-agent.service)"
else
  pid=$(cat /run/gpu-agent.pid)
  how="start-stop-daemon (no systemd as PID 1; pid file /run/gpu-agent.pid)"
fi
[ "$(ps -o user= -p "$pid")" = gpu-agent ] || fail "the daemon (pid $pid) does not run as gpu-agent"
ok "daemon pid $pid runs as gpu-agent under $how"

POOL="$NODE:gpu-pool:CUSTOM_PGPU_10DE_20B2"
for _ in $(seq 1 30); do
  total=$(pl GET "/resource_providers?name=$(jq -rn --arg n "$POOL" '$n|@uri')" |
          jq -r '.resource_providers[0].uuid // empty' | while read -r u; do
            pl GET "/resource_providers/$u/inventories" | jq -r '.inventories.CUSTOM_PGPU_10DE_20B2.total'; done)
  [ "$total" = 8 ] && break
  sleep 1
done
[ "$total" = 8 ] || fail "placement has no pool provider $POOL with 8 GPUs"
pl GET "/resource_providers/$CN/traits" | jq -e '.traits | index("CUSTOM_GPU_TENANT_GOLD")' > /dev/null ||
  fail "host trait missing on the compute node"
ok "placement: $POOL with CUSTOM_PGPU_10DE_20B2 total 8, host trait on $NODE"

# Watching it: gpu-agent status, and the metrics where node_exporter reads them.
for _ in $(seq 1 20); do /usr/bin/gpu-agent status > "$TMP/status.txt" 2>&1 && break; sleep 1; done
/usr/bin/gpu-agent status > "$TMP/status.txt" 2>&1 || { cat "$TMP/status.txt"; fail "gpu-agent status is not healthy"; }
grep -q 'CUSTOM_PGPU_10DE_20B2 *8 *0 *8 *0 *0' "$TMP/status.txt" || { cat "$TMP/status.txt"; fail "gpu-agent status lacks the pool"; }
PROM=/run/gpu-agent/gpu_agent.prom
[ "$(stat -c '%a %U' "$PROM")" = "644 gpu-agent" ] || fail "$PROM is $(stat -c '%a %U' "$PROM")"
grep -q '^gpu_agent_pool_capacity_gpus{pool="10de_20b2",resource_class="CUSTOM_PGPU_10DE_20B2"} 8$' "$PROM" ||
  fail "$PROM lacks the pool's capacity"
promtool check metrics < "$PROM" || fail "promtool check metrics $PROM"
if [ -d /var/lib/prometheus/node-exporter ]; then
  [ "$(readlink /var/lib/prometheus/node-exporter/gpu_agent.prom)" = "$PROM" ] ||
    fail "no link to $PROM in node_exporter's textfile directory"
  ok "gpu-agent status: healthy; $PROM (0644, promtool clean) linked from /var/lib/prometheus/node-exporter"
else
  ok "gpu-agent status: healthy; $PROM (0644, promtool clean)"
fi

SNIP=/etc/nova/nova.conf.d/50-gpu-agent-pci.conf
{ grep -q '^device_spec = {"vendor_id": "10de", "product_id": "20b2"}' "$SNIP" && grep -q '^alias = ' "$SNIP"; } ||
  fail "$SNIP lacks device_spec/alias"
ok "$SNIP: device_spec and alias (role all: nova_compute and nova_api)"

O=(openstack --os-cloud gpu-lab)
for n in 1 2 4 8; do
  f=$("${O[@]}" flavor show "gpu.10de_20b2.${n}x" -f json) || fail "flavor gpu.10de_20b2.${n}x missing"
  echo "$f" | jq -e --arg n "$n" '.properties["resources:CUSTOM_PGPU_10DE_20B2"] == $n and
      .properties["trait:CUSTOM_GPU_TENANT_GOLD"] == "required" and
      .properties["trait:CUSTOM_GPU_ROLLOUT_FLAVOR"] == "required" and
      .properties["pci_passthrough:alias"] == "10de_20b2:\($n)"' > /dev/null ||
    fail "flavor gpu.10de_20b2.${n}x properties: $(echo "$f" | jq -c .properties)"
done
f8=$("${O[@]}" flavor show gpu.10de_20b2.8x -f json)
[ "$(echo "$f8" | jq .vcpus)" = 80 ] || fail "the 8x flavor should take the host's 80 free vCPUs: $(echo "$f8" | jq -c .)"
pl GET /traits/CUSTOM_GPU_ROLLOUT_FLAVOR > /dev/null ||
  fail "the flavor playbook did not create trait CUSTOM_GPU_ROLLOUT_FLAVOR in placement"
ok "nova-api: flavors gpu.10de_20b2.{1,2,4,8}x with resources, traits and alias; 8x = 80 vCPUs (sized from placement); trait CUSTOM_GPU_ROLLOUT_FLAVOR created in placement"

# -- 6. idempotence, reload, doctor ------------------------------------------------
play "$TMP/run2.log" || { tail -n 60 "$TMP/run2.log"; fail "second run"; }
recap=$(grep -E '^localhost +:' "$TMP/run2.log" | tr -s ' ')
echo "$recap" | grep -q 'changed=0 ' || { grep -B3 '^changed:' "$TMP/run2.log" | head -40; fail "second run changed something: $recap"; }
ok "second run: $recap"

play "$TMP/run3.log" -e '{"gpu_agent_host_traits": ["CUSTOM_GPU_TENANT_GOLD", "CUSTOM_GPU_ROLLOUT_TEST"]}' ||
  { tail -n 60 "$TMP/run3.log"; fail "third run (new host trait)"; }
grep -q 'RUNNING HANDLER \[gpu_agent : Reload' "$TMP/run3.log" || fail "the config change did not reload the daemon"
[ "$(cat /run/gpu-agent.pid 2> /dev/null || systemctl show -p MainPID --value gpu-agent.service)" = "$pid" ] ||
  fail "the daemon was restarted, not reloaded"
for _ in $(seq 1 20); do
  pl GET "/resource_providers/$CN/traits" | jq -e '.traits | index("CUSTOM_GPU_ROLLOUT_TEST")' > /dev/null && break
  sleep 1
done
pl GET "/resource_providers/$CN/traits" | jq -e '.traits | index("CUSTOM_GPU_ROLLOUT_TEST")' > /dev/null ||
  fail "after the reload the new host trait did not reach placement"
ok "a new host trait: config changed, the daemon got SIGHUP (same pid $pid) and put it on $NODE in placement"

play "$TMP/run4.log" -e gpu_agent_fixture="$ROOT/tests/data/hosts/h100-passthrough-guest.sysfs.txt" \
  -e gpu_agent_flavors_generate=false && fail "a host that is not ready passed doctor"
{ grep -q 'IOMMU is off' "$TMP/run4.log" && grep -q 'Ask gpu-agent doctor' "$TMP/run4.log"; } ||
  { tail -n 30 "$TMP/run4.log"; fail "the failure is not doctor's advice"; }
ok "a host that is not ready (IOMMU off): the play stops at doctor with its advice"

# -- 7. removal by the role ------------------------------------------------------------
play "$TMP/run5.log" -e gpu_agent_state=absent -e gpu_agent_flavors_generate=false ||
  { tail -n 40 "$TMP/run5.log"; fail "gpu_agent_state=absent"; }
dpkg-query -W -f='${Status}' gpu-agent 2> /dev/null | grep -q 'installed' && fail "state=absent left the package"
for f in /etc/default/gpu-agent /etc/gpu-agent /var/lib/gpu-agent /etc/nova/nova.conf.d/50-gpu-agent-pci.conf \
         /var/cache/apt/archives/"$(basename "$DEB")"; do
  [ ! -e "$f" ] || fail "state=absent left $f"
done
[ -f /run/gpu-agent.pid ] && fail "state=absent left the daemon's pid file"
ok "gpu_agent_state=absent: package purged, daemon stopped, the role's files and the nova snippet removed"

echo "all checks passed in $((SECONDS - t0)) s"
