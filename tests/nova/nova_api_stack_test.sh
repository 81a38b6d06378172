#!/usr/bin/env bash
# Integration test (CTest "nova_api_stack", labels integration;nova): the real
# nova-api (scripts/nova-api-server.sh) and placement (scripts/placement-server.sh)
# on 127.0.0.1, OSC against nova-api, and nova's own flavor -> placement query
# code (tests/nova/nova_flavor_query.py) against both.
#
# Usage: tests/nova/nova_api_stack_test.sh      (needs scripts/install-deps.sh)
# Exit 0 on success; every started server is stopped on every exit path.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
NOVA_SERVER=$ROOT/scripts/nova-api-server.sh
PLACEMENT_SERVER=$ROOT/scripts/placement-server.sh
QUERY=$HERE/nova_flavor_query.py
PY=/usr/bin/python3

# OSC must see only our command-line auth, not a developer's clouds.yaml/env.
for v in $(compgen -e | grep '^OS_' || true); do unset "$v"; done
export OS_NOVA_DISABLE_EVENTLET_PATCHING=1
# the servers die with this script even if the trap cannot run (SIGKILL)
export NOVA_API_SERVER_WATCH_PID=$$ PLACEMENT_SERVER_WATCH_PID=$$

T0=$(date +%s%N)
# seconds since START (date +%s%N), one decimal
since() { local d=$((($(date +%s%N) - $1) / 100000000)); echo "$((d / 10)).$((d % 10))"; }
TMP=$(mktemp -d "${TMPDIR:-/tmp}/nova-api-stack.XXXXXX")
NOVA_DIR=$TMP/nova
PLACEMENT_DIR=$TMP/placement
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  "$NOVA_SERVER" stop "$NOVA_DIR" >/dev/null 2>&1 || true
  "$PLACEMENT_SERVER" stop "$PLACEMENT_DIR" >/dev/null 2>&1 || true
  if [ "$rc" -ne 0 ] && [ -n "${KEEP_TMP:-}" ]; then
    echo "kept $TMP" >&2
  else
    rm -rf "$TMP"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

N=0
ok() { N=$((N + 1)); printf 'ok %d - %s\n' "$N" "$*"; }
fail() {
  printf 'not ok - %s\n' "$*" >&2
  for f in "$NOVA_DIR/log" "$PLACEMENT_DIR/placement.log"; do
    [ -f "$f" ] && { echo "--- tail $f" >&2; tail -n 15 "$f" >&2; }
  done
  exit 1
}
# jqtest JSON FILTER MESSAGE: FILTER must be true on JSON
jqtest() { jq -e "$2" <<<"$1" >/dev/null || { echo "$1" >&2; fail "$3"; }; }

for tool in openstack jq curl; do
  command -v "$tool" >/dev/null || fail "$tool missing: run scripts/install-deps.sh"
done

# --- both servers, started in parallel ----------------------------------------
"$PLACEMENT_SERVER" start "$PLACEMENT_DIR" > "$TMP/placement.url" 2> "$TMP/placement.err" &
PLACEMENT_START=$!
NOVA_URL=$("$NOVA_SERVER" start "$NOVA_DIR") || fail "nova-api-server.sh start"
[[ $NOVA_URL =~ ^http://127\.0\.0\.1:[0-9]+/v2\.1$ ]] || fail "start printed $NOVA_URL"
[ "$(cat "$NOVA_DIR/url")" = "$NOVA_URL" ] || fail "DIR/url differs from the printed URL"
NOVA_PID=$(cat "$NOVA_DIR/pid")
ok "nova-api started at $NOVA_URL (pid $NOVA_PID, $(since "$T0") s)"

AGAIN=$("$NOVA_SERVER" start "$NOVA_DIR") || fail "second start failed"
{ [ "$AGAIN" = "$NOVA_URL" ] && [ "$(cat "$NOVA_DIR/pid")" = "$NOVA_PID" ]; } ||
  fail "second start is not idempotent: $AGAIN pid $(cat "$NOVA_DIR/pid")"
"$NOVA_SERVER" status "$NOVA_DIR" | grep -q "^running $NOVA_URL pid $NOVA_PID$" || fail "status"
ok "start again is a no-op; status says running"

code=$(curl -s -o /dev/null -w '%{http_code}' "$NOVA_URL/flavors")
[ "$code" = 204 ] || fail "no token: expected nova's fake 204, got $code"
code=$(curl -s -o /dev/null -w '%{http_code}' -H 'X-Auth-Token: admin:admin' "$NOVA_URL/flavors")
[ "$code" = 200 ] || fail "admin:admin token: expected 200, got $code"
ok "noauth2: no token -> 204, admin:admin -> 200"

wait "$PLACEMENT_START" || { cat "$TMP/placement.err" >&2; fail "placement-server.sh start"; }
PLACEMENT_URL=$(cat "$TMP/placement.url")
ok "placement started at $PLACEMENT_URL"

# --- flavors through OSC ----------------------------------------------------------
O=(openstack --os-auth-type admin_token --os-token admin:admin --os-endpoint "$NOVA_URL"
   --os-compute-api-version 2.92)
FLAVOR=gpu.test.10de_20b2.2x
# flavor create's exit code is 0 even when setting the properties fails:
# trust only flavor show.
"${O[@]}" flavor create "$FLAVOR" --vcpus 4 --ram 4096 --disk 10 \
  --property resources:CUSTOM_PGPU_10DE_20B2=2 --property trait:CUSTOM_X=required \
  --property pci_passthrough:alias=10de_20b2:2 -f json > "$TMP/create.json" ||
  fail "openstack flavor create"
SHOW=$("${O[@]}" flavor show "$FLAVOR" -f json) || fail "openstack flavor show"
jqtest "$SHOW" '.properties == {"resources:CUSTOM_PGPU_10DE_20B2": "2",
  "trait:CUSTOM_X": "required", "pci_passthrough:alias": "10de_20b2:2"}
  and .vcpus == 4 and .ram == 4096 and .disk == 10' "flavor show lists the properties"
ok "flavor create + show: 3 properties"

if "${O[@]}" flavor set "$FLAVOR" --property trait:CUSTOM_X=preferred > "$TMP/set.out" 2>&1; then
  fail "flavor set trait:CUSTOM_X=preferred succeeded"
fi
grep -q "'preferred' is not one of: required, forbidden" "$TMP/set.out" ||
  { cat "$TMP/set.out" >&2; fail "unexpected flavor set error"; }
SHOW=$("${O[@]}" flavor show "$FLAVOR" -f json) || fail "openstack flavor show"
jqtest "$SHOW" '.properties["trait:CUSTOM_X"] == "required"' "rejected value left the flavor alone"
ok "flavor set trait:CUSTOM_X=preferred rejected by nova's validators (2.86+)"

# --- placement: one GPU host with the trait, one without --------------------------
P=(curl -sf -H 'X-Auth-Token: admin' -H 'OpenStack-API-Version: placement 1.39'
   -H 'Content-Type: application/json' -H 'Accept: application/json')
put() { "${P[@]}" -X PUT -d "${2:-}" "$PLACEMENT_URL$1" > /dev/null || fail "PUT $1"; }
rp() {  # rp NAME [PARENT_UUID] -> uuid
  local body
  if [ -n "${2:-}" ]; then
    body=$(printf '{"name": "%s", "parent_provider_uuid": "%s"}' "$1" "$2")
  else
    body=$(printf '{"name": "%s"}' "$1")
  fi
  "${P[@]}" -X POST -d "$body" "$PLACEMENT_URL/resource_providers" | jq -r .uuid ||
    fail "POST /resource_providers $1"
}
inventory() {  # inventory UUID JSON_INVENTORIES
  put "/resource_providers/$1/inventories" \
    "{\"resource_provider_generation\": $(gen "$1"), \"inventories\": $2}"
}
gen() { "${P[@]}" "$PLACEMENT_URL/resource_providers/$1" | jq .generation; }
put /resource_classes/CUSTOM_PGPU_10DE_20B2
put /traits/CUSTOM_X
HOSTINV='{"VCPU": {"total": 32}, "MEMORY_MB": {"total": 131072}, "DISK_GB": {"total": 1000}}'
for h in gpu-stack-host-0 gpu-stack-host-1; do
  root=$(rp "$h")
  child=$(rp "${h}_pgpu_10de_20b2" "$root")
  inventory "$root" "$HOSTINV"
  inventory "$child" '{"CUSTOM_PGPU_10DE_20B2": {"total": 4, "max_unit": 4}}'
  if [ "$h" = gpu-stack-host-0 ]; then
    put "/resource_providers/$root/traits" \
      "{\"resource_provider_generation\": $(gen "$root"), \"traits\": [\"CUSTOM_X\"]}"
  fi
done
ok "placement: 2 hosts with 4 x CUSTOM_PGPU_10DE_20B2 each, CUSTOM_X on gpu-stack-host-0 only"

# --- nova's query from the flavor in nova-api, against placement ------------------
QT0=$(date +%s%N)
OUT=$("$PY" "$QUERY" --nova-url "$NOVA_URL" --flavor "$FLAVOR" --placement "$PLACEMENT_URL") ||
  { qrc=$?; echo "$OUT" >&2; fail "nova_flavor_query.py --nova-url exited $qrc"; }
QT=$(since "$QT0")
QS=$(jq -r '.flavors[0].querystring' <<<"$OUT")
# nova's to_querystring(): urlencoded, ':' -> %3A and ',' -> %2C, keys sorted
[[ $QS == *"resources=CUSTOM_PGPU_10DE_20B2%3A2%2C"* ]] || fail "querystring $QS: no resources=CUSTOM_PGPU_10DE_20B2%3A2"
[[ $QS == *"required=CUSTOM_X"* ]] || fail "querystring $QS: no required=CUSTOM_X"
[ "$QS" = "limit=1000&required=CUSTOM_X&resources=CUSTOM_PGPU_10DE_20B2%3A2%2CDISK_GB%3A10%2CMEMORY_MB%3A4096%2CVCPU%3A4" ] ||
  fail "querystring changed: $QS"
jqtest "$OUT" '.flavors | length == 1 and .[0].name == "'"$FLAVOR"'" and .[0].valid == true
  and .[0].pci_requests == [{"alias_name": "10de_20b2", "count": 2, "resolved": false,
                             "spec": null, "numa_policy": null}]
  and .[0].candidate_hosts == ["gpu-stack-host-0"] and .[0].candidates == 1' \
  "--nova-url --placement result"
ok "nova_flavor_query.py --nova-url: $QS -> [gpu-stack-host-0] (${QT} s)"

# --- a batch file: 2x and 8x valid, one invalid ------------------------------------
cat > "$TMP/flavors.json" <<'EOF'
{"flavors": [
  {"name": "gpu.2x", "vcpus": 4, "ram": 4096, "disk": 10,
   "extra_specs": {"resources:CUSTOM_PGPU_10DE_20B2": "2", "trait:CUSTOM_X": "required"}},
  {"name": "gpu.8x", "vcpus": 4, "ram": 4096, "disk": 10,
   "extra_specs": {"resources:CUSTOM_PGPU_10DE_20B2": "8", "trait:CUSTOM_X": "required"}},
  {"name": "gpu.bad", "vcpus": 4, "ram": 4096, "disk": 10,
   "extra_specs": {"resources:CUSTOM_PGPU_10DE_20B2": "2", "trait:CUSTOM_X": "preferred"}}
]}
EOF
set +e
OUT=$("$PY" "$QUERY" "$TMP/flavors.json" --placement "$PLACEMENT_URL" 2> "$TMP/query.err")
rc=$?
set -e
[ "$rc" = 1 ] || { echo "$OUT" >&2; cat "$TMP/query.err" >&2; fail "one invalid flavor: expected exit 1, got $rc"; }
jqtest "$OUT" '[.flavors[] | select(.valid | not) | .name] == ["gpu.bad"]' "exactly gpu.bad is invalid"
jqtest "$OUT" '.flavors[2].error | test("trait:CUSTOM_X=preferred: .*not one of: required, forbidden")' \
  "gpu.bad's error names the extra spec"
jqtest "$OUT" '.flavors[0] | .candidate_hosts == ["gpu-stack-host-0"] and .candidates == 1' "2x -> gpu-stack-host-0"
jqtest "$OUT" '.flavors[1] | .candidate_hosts == [] and .candidates == 0' "8x -> no candidate"
jqtest "$OUT" '.flavors[2] | has("candidate_hosts") | not' "invalid flavor not sent to placement"
ok "batch: gpu.2x -> [gpu-stack-host-0], gpu.8x -> [], gpu.bad invalid (exit 1)"

# --- stop --------------------------------------------------------------------------
"$NOVA_SERVER" stop "$NOVA_DIR" || fail "nova-api-server.sh stop"
for _ in $(seq 1 20); do kill -0 "$NOVA_PID" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$NOVA_PID" 2>/dev/null && ! grep -q Z "/proc/$NOVA_PID/stat" 2>/dev/null; then
  fail "nova-api pid $NOVA_PID still running after stop"
fi
[ ! -e "$NOVA_DIR/pid" ] || fail "pid file left behind"
set +e
"$NOVA_SERVER" status "$NOVA_DIR" > "$TMP/status.out"
rc=$?
set -e
{ [ "$rc" = 3 ] && grep -qx stopped "$TMP/status.out"; } || fail "status after stop: rc $rc $(cat "$TMP/status.out")"
"$NOVA_SERVER" stop "$NOVA_DIR" || fail "second stop is not idempotent"
ok "nova-api stopped, pid $NOVA_PID gone; status says stopped"

echo "# all $N passed in $(since "$T0") s"
