#!/usr/bin/env bash
# End-to-end check of the authenticated test stack, with curl only:
#   keystone (scripts/keystone-server.sh start), behind a TLS front of its own
#   placement with auth_strategy=keystone (scripts/keystone-server.sh placement-start)
#   a TLS front for placement (scripts/tls-proxy.sh), advertised in the catalog
# Everything runs on 127.0.0.1 in a fresh temporary directory and is stopped at the
# end, whatever happens (trap).
#
# Usage: scripts/verify-auth-stack.sh [--keep]
#   --keep   leave the servers running and print the state directory
# Env: VERIFY_TOKEN_EXPIRATION  keystone token lifetime for this run, seconds (default 20).
#      The expired-token check waits until a token obtained at the start of the checks
#      is past its expires_at, so this bounds the run time (the other checks overlap it).
#
# Prints one PASS/FAIL line per check, a few timing lines ("time ..."), and finally
# "N passed, M failed". Exits 1 if any check failed.
# Measured (2-core box, 34 checks): ~40 s idle (stack up ~17 s, checks ~22 s of which ~16 s
# is waiting for the token to expire, teardown <1 s); 65-75 s while compilers ran alongside.
set -uo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
KEEP=0
case ${1:-} in
  --keep) KEEP=1 ;;
  "") ;;
  *) echo "usage: $0 [--keep]" >&2; exit 2 ;;
esac
EXPIRATION=${VERIFY_TOKEN_EXPIRATION:-20}
for tool in curl jq openssl; do
  command -v "$tool" >/dev/null || { echo "verify-auth-stack: $tool missing (scripts/install-deps.sh)" >&2; exit 1; }
done

W=$(mktemp -d /tmp/gpu-agent-auth-stack.XXXXXX)
KSD=$W/keystone PLD=$W/placement TKD=$W/tls-keystone TPD=$W/tls-placement CERTS=$W/certs

STEP_PGID=
# step OUT CMD...: run CMD in a process group of its own, stdout to the file OUT.
# If the run is interrupted mid-start, cleanup can then stop that start script and
# whatever it spawned (keystone-manage, a half-started server) by that group's id.
step() {
  local out=$1 rc=0
  shift
  setsid "$@" > "$out" &
  STEP_PGID=$!
  wait "$STEP_PGID" || rc=$?
  STEP_PGID=
  return "$rc"
}

cleanup() {
  if [ -n "$STEP_PGID" ]; then   # interrupted during a start: end it first
    kill -TERM -- "-$STEP_PGID" 2>/dev/null
    wait "$STEP_PGID" 2>/dev/null
  fi
  if [ "$KEEP" = 1 ]; then
    echo "left running; state in $W (stop: scripts/tls-proxy.sh stop DIR; scripts/keystone-server.sh placement-stop|stop DIR)"
    return
  fi
  "$HERE/tls-proxy.sh" stop "$TPD" >/dev/null 2>&1
  "$HERE/tls-proxy.sh" stop "$TKD" >/dev/null 2>&1
  "$HERE/keystone-server.sh" placement-stop "$PLD" >/dev/null 2>&1
  "$HERE/keystone-server.sh" stop "$KSD" >/dev/null 2>&1
  rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

PASSED=0 FAILED=0
pass() { PASSED=$((PASSED + 1)); echo "PASS $*"; }
fail() { FAILED=$((FAILED + 1)); echo "FAIL $*"; }
# check NAME WANT GOT
check() { if [ "$3" = "$2" ]; then pass "$1 ($3)"; else fail "$1 (got '$3', want '$2')"; fi; }
summary() { echo "$PASSED passed, $FAILED failed"; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
T_ALL=$(now)

# ---- bring the stack up ----------------------------------------------------------
free_port() {
  /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
# keystone's TLS port is chosen first: keystone must know its public https URL
KTLS_PORT=$(free_port)

T=$(now)
step "$W/out" env KEYSTONE_TOKEN_EXPIRATION="$EXPIRATION" KEYSTONE_PUBLIC_URL="https://127.0.0.1:$KTLS_PORT" \
  "$HERE/keystone-server.sh" start "$KSD" || { fail "keystone start"; summary; exit 1; }
KURL=$(cat "$W/out")
echo "time keystone cold start (db_sync, keys, bootstrap, provisioning): $(since "$T") s  [$KURL]"

T=$(now)
step "$W/out" env TLS_CERT_DIR="$CERTS" "$HERE/tls-proxy.sh" start "$TKD" "$KURL" "$KTLS_PORT" \
  || { fail "TLS front for keystone"; summary; exit 1; }
KTLS_URL=$(cat "$W/out")
echo "time TLS front for keystone (incl. test certificates): $(since "$T") s  [$KTLS_URL]"

T=$(now)
step "$W/out" env PLACEMENT_ENDPOINT_URL=none "$HERE/keystone-server.sh" placement-start "$KSD" "$PLD" \
  || { fail "placement (auth_strategy=keystone) start"; summary; exit 1; }
PURL=$(cat "$W/out")
echo "time placement with keystone auth (db sync, start): $(since "$T") s  [$PURL]"

T=$(now)
step "$W/out" env TLS_CERT_DIR="$CERTS" "$HERE/tls-proxy.sh" start "$TPD" "$PURL" \
  || { fail "TLS front for placement"; summary; exit 1; }
TURL=$(cat "$W/out")
"$HERE/keystone-server.sh" set-placement-endpoint "$KSD" "$TURL" >/dev/null \
  || { fail "set-placement-endpoint"; summary; exit 1; }
echo "time TLS front for placement + catalog entry: $(since "$T") s  [$TURL]"
echo "time whole stack up: $(since "$T_ALL") s"

set -a
# shellcheck disable=SC1091
. "$KSD/keystone.env"
set +a
CA=$CERTS/ca.pem
WRONG_CA=$CERTS/wrong-ca.pem
PV='OpenStack-API-Version: placement 1.39'
TLS_PORT=${TURL##*:}

# ---- helpers ---------------------------------------------------------------------
# HTTP status of a request (000 when there was no HTTP answer)
code() { curl -s -o /dev/null -w '%{http_code}' --max-time 30 "$@"; }
# curl's exit code for a request (0 ok, 60 certificate not trusted / name mismatch, ...)
curl_rc() { local rc=0; curl -s -o /dev/null --max-time 30 "$@" || rc=$?; echo "$rc"; }
# gettoken BODY: sets ST (HTTP status) and TOK; the response body goes to $W/token.json.
# Goes to OS_AUTH_URL, i.e. through keystone's TLS front, verified with the test CA.
gettoken() {
  local hdr
  hdr=$(curl -s --max-time 30 --cacert "$CA" -D - -o "$W/token.json" -H 'Content-Type: application/json' \
        -d "$1" "$OS_AUTH_URL/auth/tokens" | tr -d '\r')
  ST=$(sed -n '1s#^HTTP/[0-9.]* \([0-9]*\).*#\1#p' <<<"$hdr")
  TOK=$(sed -n 's/^[Xx]-[Ss]ubject-[Tt]oken: //p' <<<"$hdr")
}
PW_AUTH=$(jq -nc --arg u "$PLACEMENT_USERNAME" --arg p "$PLACEMENT_PASSWORD" \
  '{auth: {identity: {methods: ["password"], password: {user: {name: $u, domain: {name: "Default"}, password: $p}}},
    scope: {project: {name: "service", domain: {name: "Default"}}}}}')
AC_AUTH=$(jq -nc --arg i "$APPCRED_ID" --arg s "$APPCRED_SECRET" \
  '{auth: {identity: {methods: ["application_credential"], application_credential: {id: $i, secret: $s}}}}')
rps() { code -H "$PV" "$@"; }   # rps [curl args] URL

# ---- checks ----------------------------------------------------------------------
T_CHECKS=$(now)

# A token for the expiry check, taken first so the other checks overlap its lifetime.
gettoken "$AC_AUTH"
T_EXP=$TOK
EXPIRES_AT=$(jq -r '.token.expires_at // empty' "$W/token.json")
check "token for the expiry check works before expiry (expires_at $EXPIRES_AT)" 200 \
  "$(rps -H "X-Auth-Token: $T_EXP" "$PURL/resource_providers")"

# keystone
T=$(now)
again=$("$HERE/keystone-server.sh" start "$KSD" 2>/dev/null)
check "keystone start again is a no-op (same URL, $(since "$T") s)" "$KURL" "$again"
T=$(now)
again=$("$HERE/keystone-server.sh" placement-start "$KSD" "$PLD" 2>/dev/null)
check "placement-start again is a no-op (same URL, $(since "$T") s; catalog kept)" "$PURL" "$again"
check "keystone status" "$KURL" "$("$HERE/keystone-server.sh" status "$KSD" 2>/dev/null)"
check "placement-status" "$PURL" "$("$HERE/keystone-server.sh" placement-status "$PLD" 2>/dev/null)"
check "keystone.env is mode 600" 600 "$(stat -c %a "$KSD/keystone.env")"
check "OS_AUTH_URL is keystone's https front" "$KTLS_URL/v3" "$OS_AUTH_URL"
check "keystone version document over https links to https (public_endpoint)" "$KTLS_URL/v3/" \
  "$(curl -s --max-time 30 --cacert "$CA" "$OS_AUTH_URL" | jq -r '.version.links[0].href')"

gettoken "$PW_AUTH"
T_PW=$TOK
check "password token (user placement, project service)" 201 "$ST"
check "password token has role admin on service" admin \
  "$(jq -r '[.token.roles[].name] | map(select(. == "admin")) | .[0]' "$W/token.json")"
for ifc in public internal; do
  check "catalog: placement $ifc endpoint is the https front" "$TURL" \
    "$(jq -r --arg i "$ifc" '.token.catalog[] | select(.type == "placement") | .endpoints[]
        | select(.interface == $i and .region_id == "RegionOne") | .url' "$W/token.json")"
done
check "catalog: identity public endpoint is https" "$KTLS_URL/v3" \
  "$(jq -r '.token.catalog[] | select(.type == "identity") | .endpoints[] | select(.interface == "public") | .url' "$W/token.json")"
check "catalog: identity internal endpoint is plain http" "$KURL/v3" \
  "$(jq -r '.token.catalog[] | select(.type == "identity") | .endpoints[] | select(.interface == "internal") | .url' "$W/token.json")"

gettoken "$AC_AUTH"
T_AC=$TOK
check "application credential token" 201 "$ST"
check "application credential token is scoped to project service" "$SERVICE_PROJECT_ID" \
  "$(jq -r .token.project.id "$W/token.json")"
gettoken "$(jq -c '.auth.identity.application_credential.secret = "wrong"' <<<"$AC_AUTH")"
check "application credential with a wrong secret" 401 "$ST"
gettoken "$(jq -c '.auth.identity.password.user.password = "wrong"' <<<"$PW_AUTH")"
check "password token with a wrong password" 401 "$ST"

# placement behind keystonemiddleware (plain http)
check "placement GET /resource_providers, password token" 200 "$(rps -H "X-Auth-Token: $T_PW" "$PURL/resource_providers")"
check "placement GET /resource_providers, app-cred token" 200 "$(rps -H "X-Auth-Token: $T_AC" "$PURL/resource_providers")"
check "placement GET /resource_providers, bogus token" 401 "$(rps -H "X-Auth-Token: bogus" "$PURL/resource_providers")"
check "placement GET /resource_providers, no token" 401 "$(rps "$PURL/resource_providers")"
check "placement 401 names keystone in WWW-Authenticate" "Keystone uri=\"$KTLS_URL/v3\"" \
  "$(curl -s -D - -o /dev/null --max-time 30 -H "$PV" -H 'X-Auth-Token: bogus' "$PURL/resource_providers" \
     | tr -d '\r' | sed -n 's/^[Ww][Ww][Ww]-[Aa]uthenticate: //p')"

# revocation: DELETE /v3/auth/tokens with X-Auth-Token = X-Subject-Token = the token
check "revoke the password token" 204 \
  "$(code --cacert "$CA" -X DELETE -H "X-Auth-Token: $T_AC" -H "X-Subject-Token: $T_PW" "$OS_AUTH_URL/auth/tokens")"
check "placement refuses the revoked token" 401 "$(rps -H "X-Auth-Token: $T_PW" "$PURL/resource_providers")"
check "placement still accepts the app-cred token" 200 "$(rps -H "X-Auth-Token: $T_AC" "$PURL/resource_providers")"

# TLS front of placement
check "https, right CA: GET /resource_providers with token" 200 \
  "$(rps --cacert "$CA" -H "X-Auth-Token: $T_AC" "$TURL/resource_providers")"
check "https://localhost (SAN DNS), right CA" 200 \
  "$(rps --cacert "$CA" -H "X-Auth-Token: $T_AC" "https://localhost:$TLS_PORT/resource_providers")"
check "https with wrong-ca.pem is refused (curl exit code)" 60 "$(curl_rc --cacert "$WRONG_CA" "$TURL/")"
check "https with only the system CAs is refused (curl exit code)" 60 "$(curl_rc "$TURL/")"
check "https to a host name not in the SAN is refused (curl exit code)" 60 \
  "$(curl_rc --cacert "$CA" --resolve "placement.test.invalid:$TLS_PORT:127.0.0.1" "https://placement.test.invalid:$TLS_PORT/")"
check "https, right CA, bogus token" 401 "$(rps --cacert "$CA" -H "X-Auth-Token: bogus" "$TURL/resource_providers")"

# expiry
echo "time checks so far: $(since "$T_CHECKS") s"
if [ -n "$EXPIRES_AT" ]; then
  WAIT=$(( $(date -d "$EXPIRES_AT" +%s) - $(date +%s) + 2 ))
  if [ "$WAIT" -gt 0 ]; then
    echo "waiting ${WAIT} s for the token to expire (keystone [token] expiration = $EXPIRATION s)"
    for ((i = 0; i < WAIT; i++)); do sleep 1; done   # short sleeps: an interrupt is handled at once
  fi
fi
check "placement refuses the expired token" 401 "$(rps -H "X-Auth-Token: $T_EXP" "$PURL/resource_providers")"
gettoken "$AC_AUTH"
check "a new token after the expiry works (placement renewed its own service token)" 200 \
  "$(rps -H "X-Auth-Token: $TOK" "$PURL/resource_providers")"

echo "time checks: $(since "$T_CHECKS") s; whole run: $(since "$T_ALL") s (before teardown)"
summary
[ "$FAILED" = 0 ]
