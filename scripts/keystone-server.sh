#!/usr/bin/env bash
# A REAL OpenStack Keystone (Debian 12 python3-keystone, Zed) on 127.0.0.1 for the
# integration tests, plus a Placement (python3-placement) that validates tokens
# against it. SQLite, fernet tokens, no apache/uwsgi/memcached, nothing under /etc:
# everything lives in the state directories given on the command line.
#
# Usage:
#   scripts/keystone-server.sh start  KS_STATE [PORT]     start (or reuse) keystone, print its URL
#   scripts/keystone-server.sh stop   KS_STATE [--purge]  stop it; --purge also deletes DB, keys, env
#   scripts/keystone-server.sh status KS_STATE            print the URL, exit 0 if it answers, else 3
#   scripts/keystone-server.sh placement-start  KS_STATE PL_STATE [PORT]
#                     placement with [api] auth_strategy = keystone, registered in the catalog
#   scripts/keystone-server.sh placement-stop   PL_STATE [--purge]   (--purge deletes its DB)
#   scripts/keystone-server.sh placement-status PL_STATE
#   scripts/keystone-server.sh set-placement-endpoint KS_STATE URL
#                     (re)point the catalog's placement public+internal endpoints at URL,
#                     e.g. the https URL of scripts/tls-proxy.sh in front of placement
#
# PORT defaults to 0: the OS picks a free port (safe for parallel test runs).
# start/placement-start are idempotent: when the server already runs with the same
# configuration (and port, if one is given) they only print the URL (0.1-0.3 s).
# Measured on an idle 2-core box: keystone from nothing 10.3-14.6 s, restart on an existing
# KS_STATE (no DB setup) 4.4-6.4 s, placement-start 3.5-4.8 s; 2-3x that under heavy load.
# stop/placement-stop kill only the PID recorded in the state directory, and only if
# that PID is still the keystone/placement process.
#
# Settings are sticky: an UNSET variable means "as at the last start in this state dir"
# (kept in STATE/settings), so a plain `start` never undoes an earlier choice; set it
# (even to "") to change it. A changed setting restarts the server; the DB stays.
# Environment (start):
#   KEYSTONE_TOKEN_EXPIRATION   [token] expiration in seconds (default 3600)
#   KEYSTONE_PUBLIC_URL         e.g. https://127.0.0.1:8443 when scripts/tls-proxy.sh fronts
#                               keystone on that (pre-chosen) port: becomes [DEFAULT]
#                               public_endpoint (version discovery links then say https), the
#                               PUBLIC identity endpoint and OS_AUTH_URL. Internal and admin stay
#                               on plain http, which is what placement validates tokens against.
#   KEYSTONE_ADMIN_PASSWORD     default: the one in KS_STATE/keystone.env, else admin-secret
#   PLACEMENT_SERVICE_PASSWORD  default: the one in KS_STATE/keystone.env, else placement-secret
#   KEYSTONE_RESET=1            wipe the DB, keys and sticky settings first
# Environment (placement-start):
#   PLACEMENT_ENDPOINT_URL      URL to register in the catalog instead of placement's own http
#                               URL (e.g. the TLS front's); "none" leaves the catalog alone.
#                               The catalog is written when placement (re)starts or when this
#                               is set; a no-op start leaves it (and set-placement-endpoint's
#                               choice) alone.
#   PLACEMENT_TOKEN_CACHE_TIME  keystonemiddleware token_cache_time (default -1 = no cache, so a
#                               revoked token is refused at once; the library default 300 keeps
#                               accepting it for 5 minutes)
#   PLACEMENT_RESET=1           wipe placement's DB first
#
# What keystone holds after start (domain Default, region RegionOne):
#   project admin, user admin (role admin)           from keystone-manage bootstrap
#   identity service, endpoints public/internal/admin = URL/v3 (public = KEYSTONE_PUBLIC_URL/v3)
#   project service; user placement with role admin on it (placement's Zed policies need admin)
#   an application credential of user placement, created by that user itself
# Files in KS_STATE:
#   url           http://127.0.0.1:PORT (plain http, no /v3; what placement validates against)
#   keystone.env  KEY=VALUE, shell-sourceable, mode 600:
#                 KEYSTONE_URL KEYSTONE_PUBLIC_BASE_URL KEYSTONE_INTERNAL_AUTH_URL OS_AUTH_URL
#                 OS_IDENTITY_API_VERSION OS_REGION_NAME REGION OS_USER_DOMAIN_NAME
#                 OS_PROJECT_DOMAIN_NAME TOKEN_EXPIRATION ADMIN_USERNAME ADMIN_PASSWORD
#                 ADMIN_PROJECT_NAME ADMIN_PROJECT_ID SERVICE_PROJECT_NAME SERVICE_PROJECT_ID
#                 PLACEMENT_USERNAME PLACEMENT_USER_ID PLACEMENT_PASSWORD
#                 APPCRED_ID APPCRED_NAME APPCRED_SECRET
#                 (OS_AUTH_URL is the PUBLIC one: https when KEYSTONE_PUBLIC_URL is set)
#   placement-password.conf, placement-appcred.conf   nova.conf-style [placement] sections
#                 for the agent (mode 600); clouds.yaml (test-admin, test-placement, test-appcred)
#   port, settings, keystone.conf, keystone.sqlite, fernet-keys/, credential-keys/,
#   keystone.pid, keystone.log, manage*.log
# Files in PL_STATE: url, port, settings, placement.conf, placement.sqlite, placement.pid,
#   placement.log, db-sync.log, keystone_state (which KS_STATE it trusts)
#
# Facts this script relies on (verified on Debian 12):
# * /usr/bin/python3, never a python3 from PATH (a pyenv python cannot see dist-packages).
# * keystone-wsgi-public / placement-api read config ONLY from $OS_{KEYSTONE,PLACEMENT}_CONFIG_DIR;
#   keystone-manage / placement-manage need --config-file (else they use /etc silently).
# * fernet_setup/credential_setup default to a 'keystone' system user that only the `keystone`
#   package creates: pass --keystone-user/--keystone-group.
# * Without [cache] backend = dogpile.cache.memory every authenticated request costs 0.3-0.5 s.
#   That cache does not see changes made by another process (keystone-manage) while the
#   server runs, so everything after bootstrap is done over the REST API.
# * keystonemiddleware validates tokens through the INTERNAL identity endpoint of the catalog;
#   without one every placement request is a 500 (EndpointNotFound).
# * keystone-manage prints a harmless eventlet AttributeError traceback at exit (exit code 0).
set -Eeuo pipefail
# an unexpected failure says where, instead of exiting silently
trap 'echo "keystone-server: failed (exit $?) at line $LINENO: $BASH_COMMAND" >&2' ERR

PY=/usr/bin/python3
HOST=127.0.0.1
REGION=RegionOne

die() { echo "keystone-server: $*" >&2; exit 1; }
usage() { sed -n '/^# Usage:/,/^# PORT defaults/p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }

# ---- processes: only the PID recorded in a state dir, and only if it is what we started
# pid_ours PIDFILE PATTERN: the PID is alive and its command line contains PATTERN
pid_ours() {
  local pid
  pid=$(cat "$1" 2>/dev/null) || return 1
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -q -- "$2"
}
# running PID: alive and not a zombie. A killed server is reparented to init, which
# may reap it only a second later; kill -0 succeeds on a zombie until then.
running() {
  local state
  state=$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null) || return 1
  [ -n "$state" ] && [ "$state" != Z ]
}
# stop_pid PIDFILE PATTERN: TERM, wait up to 5 s, then KILL; removes the pid file
stop_pid() {
  local pid
  if pid_ours "$1" "$2"; then
    pid=$(cat "$1")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do running "$pid" || break; sleep 0.1; done
    if running "$pid"; then kill -9 "$pid" 2>/dev/null || true; fi
  fi
  rm -f "$1"
}
# wait_listening LOG PIDFILE PATTERN PATH: wait for the wsgiref launcher's
# "Available at http://localhost:PORT/" line and for PATH to answer; prints the port.
# Up to 180 s: on a loaded 2-core box the Python imports alone can take 20-40 s.
wait_listening() {
  local port
  for _ in $(seq 1 1800); do
    pid_ours "$2" "$3" || return 1
    port=$(sed -n 's#^Available at http://[^:]*:\([0-9]*\)/.*#\1#p' "$1" | head -1)
    if [ -n "$port" ] && curl -sf -o /dev/null --max-time 5 "http://$HOST:$port$4"; then
      echo "$port"
      return 0
    fi
    sleep 0.1
  done
  return 1
}
# env_get FILE KEY: a value from a KEY=VALUE file (empty if absent)
env_get() {
  [ -f "$1" ] || return 0
  sed -n "s/^$2=//p" "$1" | head -1
}
need_tools() {
  command -v curl >/dev/null || die "curl missing (scripts/install-deps.sh)"
  command -v jq >/dev/null || die "jq missing (scripts/install-deps.sh)"
}

# ---- keystone REST helpers (curl + jq) -----------------------------------------
# password_auth USER PASSWORD PROJECT: a token request body, project-scoped, domain Default
password_auth() {
  jq -nc --arg u "$1" --arg p "$2" --arg pr "$3" '{auth: {identity: {methods: ["password"],
    password: {user: {name: $u, domain: {id: "default"}, password: $p}}},
    scope: {project: {name: $pr, domain: {id: "default"}}}}}'
}
appcred_auth() {
  jq -nc --arg i "$1" --arg s "$2" '{auth: {identity: {methods: ["application_credential"],
    application_credential: {id: $i, secret: $s}}}}'
}
# get_token V3_URL BODY: prints the X-Subject-Token (empty on failure)
get_token() {
  curl -s --max-time 30 -D - -o /dev/null -H 'Content-Type: application/json' -d "$2" "$1/auth/tokens" \
    | tr -d '\r' | sed -n 's/^[Xx]-[Ss]ubject-[Tt]oken: //p'
}
# api METHOD PATH [JSON]: needs KS (…/v3) and TOKEN; fails on HTTP errors
api() {
  if [ $# -ge 3 ]; then
    curl -sf --max-time 30 -X "$1" -H "X-Auth-Token: $TOKEN" -H 'Content-Type: application/json' -d "$3" "$KS$2"
  else
    curl -sf --max-time 30 -X "$1" -H "X-Auth-Token: $TOKEN" "$KS$2"
  fi
}
# ensure_endpoint SERVICE_ID INTERFACE URL: create it, or PATCH its URL if it differs
ensure_endpoint() {
  local ep
  ep=$(api GET "/endpoints?service_id=$1&interface=$2&region_id=$REGION" | jq -c '.endpoints[0] // empty')
  if [ -z "$ep" ]; then
    api POST /endpoints "$(jq -nc --arg s "$1" --arg i "$2" --arg u "$3" --arg r "$REGION" \
      '{endpoint: {service_id: $s, interface: $i, url: $u, region_id: $r, enabled: true}}')" >/dev/null
  elif [ "$(jq -r .url <<<"$ep")" != "$3" ]; then
    api PATCH "/endpoints/$(jq -r .id <<<"$ep")" "$(jq -nc --arg u "$3" '{endpoint: {url: $u}}')" >/dev/null
  fi
}
# ensure_service TYPE NAME DESCRIPTION: prints the service id
ensure_service() {
  local sid
  sid=$(api GET "/services?type=$1" | jq -r '.services[0].id // empty')
  if [ -z "$sid" ]; then
    sid=$(api POST /services "$(jq -nc --arg t "$1" --arg n "$2" --arg d "$3" \
      '{service: {type: $t, name: $n, description: $d, enabled: true}}')" | jq -r .service.id)
  fi
  echo "$sid"
}

# ================================ keystone ======================================
ks_conf() {  # the whole keystone.conf for $DIR
  cat <<EOF
# written by scripts/keystone-server.sh; read through OS_KEYSTONE_CONFIG_DIR
[DEFAULT]
debug = false
use_stderr = true
${PUBLIC_URL:+public_endpoint = $PUBLIC_URL}

[database]
connection = sqlite:///$DIR/keystone.sqlite

[token]
provider = fernet
expiration = $EXPIRATION

[fernet_tokens]
key_repository = $DIR/fernet-keys

[fernet_receipts]
key_repository = $DIR/fernet-keys

[credential]
key_repository = $DIR/credential-keys

[identity]
# bcrypt's minimum cost: each password check is ~0.25 s cheaper than the default 12
password_hash_rounds = 4

[cache]
# in-process cache: ~10 ms per authenticated request instead of 0.3-0.5 s.
# API writes (revocations included) invalidate it at once.
enabled = true
backend = dogpile.cache.memory
EOF
}

ks_start() {
  [ $# -ge 1 ] || usage
  mkdir -p "$1"
  DIR=$(cd "$1" && pwd)
  local port=${2:-0} PIDF=$DIR/keystone.pid
  [[ $port =~ ^[0-9]+$ ]] || die "bad port $port"
  { [ -x /usr/bin/keystone-wsgi-public ] && [ -x /usr/bin/keystone-manage ]; } \
    || die "python3-keystone missing (scripts/install-deps.sh)"
  need_tools
  local env_file=$DIR/keystone.env settings=$DIR/settings

  if [ "${KEYSTONE_RESET:-0}" = 1 ]; then
    stop_pid "$PIDF" keystone-wsgi-public
    rm -rf "$DIR/keystone.sqlite" "$DIR/fernet-keys" "$DIR/credential-keys" "$DIR/.initialised" \
           "$DIR/.bootstrapped" "$DIR/.provisioned" "$DIR/url" "$DIR/port" "$env_file" "$settings"
  fi
  # sticky settings: the environment if set, else the last start's, else the default
  if [ -n "${KEYSTONE_TOKEN_EXPIRATION+set}" ]; then EXPIRATION=$KEYSTONE_TOKEN_EXPIRATION
  else EXPIRATION=$(env_get "$settings" TOKEN_EXPIRATION); fi
  if [ -n "${KEYSTONE_PUBLIC_URL+set}" ]; then PUBLIC_URL=$KEYSTONE_PUBLIC_URL
  else PUBLIC_URL=$(env_get "$settings" PUBLIC_URL); fi
  EXPIRATION=${EXPIRATION:-3600}
  PUBLIC_URL=${PUBLIC_URL%/}
  [[ $EXPIRATION =~ ^[0-9]+$ ]] || die "KEYSTONE_TOKEN_EXPIRATION must be a number of seconds"
  if [ -n "$PUBLIC_URL" ]; then
    [[ $PUBLIC_URL =~ ^https?://(127\.0\.0\.1|localhost):[0-9]+$ ]] \
      || die "KEYSTONE_PUBLIC_URL must be http(s)://127.0.0.1:PORT: $PUBLIC_URL"
  fi
  printf 'TOKEN_EXPIRATION=%s\nPUBLIC_URL=%s\n' "$EXPIRATION" "$PUBLIC_URL" > "$settings"
  local admin_pw=${KEYSTONE_ADMIN_PASSWORD:-$(env_get "$env_file" ADMIN_PASSWORD)}
  local svc_pw=${PLACEMENT_SERVICE_PASSWORD:-$(env_get "$env_file" PLACEMENT_PASSWORD)}
  admin_pw=${admin_pw:-admin-secret}
  svc_pw=${svc_pw:-placement-secret}

  local conf
  conf=$(ks_conf)
  # Already running with this config, provisioned and answering: nothing to do.
  if pid_ours "$PIDF" keystone-wsgi-public && [ -f "$DIR/.provisioned" ] && [ -f "$DIR/url" ] \
     && [ "$(cat "$DIR/keystone.conf" 2>/dev/null)" = "$conf" ] \
     && { [ "$port" = 0 ] || [ "$port" = "$(cat "$DIR/port")" ]; } \
     && curl -sf -o /dev/null --max-time 5 "$(cat "$DIR/url")/v3"; then
    cat "$DIR/url"
    return 0
  fi
  stop_pid "$PIDF" keystone-wsgi-public
  rm -f "$DIR/url" "$DIR/port" "$DIR/.provisioned"
  printf '%s\n' "$conf" > "$DIR/keystone.conf"

  local KM=("$PY" /usr/bin/keystone-manage --config-file "$DIR/keystone.conf")
  local owner=(--keystone-user "$(id -un)" --keystone-group "$(id -gn)")
  if [ ! -f "$DIR/.initialised" ] || [ ! -f "$DIR/keystone.sqlite" ]; then
    # Fresh state. The three steps are independent and each is ~2.5 s of Python
    # imports, so they run in parallel.
    rm -rf "$DIR/keystone.sqlite" "$DIR/fernet-keys" "$DIR/credential-keys" "$DIR/.bootstrapped"
    local f1 f2
    "${KM[@]}" fernet_setup "${owner[@]}" > "$DIR/manage-fernet.log" 2>&1 & f1=$!
    "${KM[@]}" credential_setup "${owner[@]}" > "$DIR/manage-credential.log" 2>&1 & f2=$!
    "${KM[@]}" db_sync > "$DIR/manage.log" 2>&1 || { wait; die "keystone-manage db_sync failed, see $DIR/manage.log"; }
    wait "$f1" || die "keystone-manage fernet_setup failed, see $DIR/manage-fernet.log"
    wait "$f2" || die "keystone-manage credential_setup failed, see $DIR/manage-credential.log"
    touch "$DIR/.initialised"
  fi

  # keystone-wsgi-public is pbr's wsgiref launcher (single-threaded, HTTP/1.0);
  # nohup execs python, so $! is the server itself.
  OS_KEYSTONE_CONFIG_DIR=$DIR nohup "$PY" /usr/bin/keystone-wsgi-public --host "$HOST" --port "$port" \
    > "$DIR/keystone.log" 2>&1 < /dev/null &
  echo $! > "$PIDF"

  # Bootstrap (once per DB) while the server starts. No endpoint URLs: with port 0
  # the URL is not known yet; the catalog is written over REST below.
  local bs=
  if [ ! -f "$DIR/.bootstrapped" ]; then
    "${KM[@]}" bootstrap --bootstrap-password "$admin_pw" --bootstrap-username admin \
      --bootstrap-project-name admin --bootstrap-role-name admin \
      --bootstrap-region-id "$REGION" >> "$DIR/manage.log" 2>&1 & bs=$!
  fi
  local real
  if ! real=$(wait_listening "$DIR/keystone.log" "$PIDF" keystone-wsgi-public /v3); then
    tail -n 20 "$DIR/keystone.log" >&2
    stop_pid "$PIDF" keystone-wsgi-public
    [ -z "$bs" ] || wait "$bs" || true
    die "keystone did not come up; see $DIR/keystone.log"
  fi
  if [ -n "$bs" ]; then
    wait "$bs" || die "keystone-manage bootstrap failed, see $DIR/manage.log"
    touch "$DIR/.bootstrapped"
  fi
  local url=http://$HOST:$real pub=${PUBLIC_URL:-http://$HOST:$real}
  echo "$real" > "$DIR/port"

  # ---- provisioning over REST; every step is find-or-create --------------------
  KS=$url/v3
  TOKEN=$(get_token "$KS" "$(password_auth admin "$admin_pw" admin)")
  [ -n "$TOKEN" ] || die "no admin token from $KS (an old DB with another KEYSTONE_ADMIN_PASSWORD? try KEYSTONE_RESET=1)"

  local sid ifc
  sid=$(ensure_service identity keystone "Identity")
  for ifc in public internal admin; do
    if [ "$ifc" = public ]; then ensure_endpoint "$sid" "$ifc" "$pub/v3"; else ensure_endpoint "$sid" "$ifc" "$url/v3"; fi
  done

  local admin_project_id service_project_id user_id admin_role_id
  admin_project_id=$(api GET '/projects?name=admin&domain_id=default' | jq -r '.projects[0].id')
  service_project_id=$(api GET '/projects?name=service&domain_id=default' | jq -r '.projects[0].id // empty')
  [ -n "$service_project_id" ] || service_project_id=$(api POST /projects \
    '{"project": {"name": "service", "domain_id": "default", "description": "Service project"}}' | jq -r .project.id)
  user_id=$(api GET '/users?name=placement&domain_id=default' | jq -r '.users[0].id // empty')
  [ -n "$user_id" ] || user_id=$(api POST /users "$(jq -nc --arg p "$svc_pw" \
    '{user: {name: "placement", domain_id: "default", password: $p}}')" | jq -r .user.id)
  admin_role_id=$(api GET '/roles?name=admin' | jq -r '.roles[0].id')
  api PUT "/projects/$service_project_id/users/$user_id/roles/$admin_role_id" >/dev/null \
    || die "cannot give placement the admin role on project service"

  # Application credential: reuse the recorded one while it still authenticates,
  # else let the placement user create one (a user may only create its own; it
  # carries the user's roles on the token's project, here service).
  local ac_id ac_name ac_secret ac
  ac_id=$(env_get "$env_file" APPCRED_ID)
  ac_name=$(env_get "$env_file" APPCRED_NAME)
  ac_secret=$(env_get "$env_file" APPCRED_SECRET)
  if [ -z "$ac_id" ] || [ -z "$(get_token "$KS" "$(appcred_auth "$ac_id" "$ac_secret")")" ]; then
    local ptoken
    ptoken=$(get_token "$KS" "$(password_auth placement "$svc_pw" service)")
    [ -n "$ptoken" ] || die "cannot authenticate as placement (another PLACEMENT_SERVICE_PASSWORD? try KEYSTONE_RESET=1)"
    ac_name=gpu-agent-test-$(date +%s%N)
    ac=$(curl -sf --max-time 30 -X POST -H "X-Auth-Token: $ptoken" -H 'Content-Type: application/json' \
      -d "$(jq -nc --arg n "$ac_name" '{application_credential: {name: $n, description: "GPU agent integration tests"}}')" \
      "$KS/users/$user_id/application_credentials") || die "creating the application credential failed"
    ac_id=$(jq -r .application_credential.id <<<"$ac")
    ac_secret=$(jq -r .application_credential.secret <<<"$ac")
  fi

  # ---- outputs (secrets: mode 600) ---------------------------------------------
  local old_umask
  old_umask=$(umask)
  umask 077
  cat > "$env_file.tmp" <<EOF
KEYSTONE_URL=$url
KEYSTONE_PUBLIC_BASE_URL=$pub
KEYSTONE_INTERNAL_AUTH_URL=$url/v3
OS_AUTH_URL=$pub/v3
OS_IDENTITY_API_VERSION=3
OS_REGION_NAME=$REGION
REGION=$REGION
OS_USER_DOMAIN_NAME=Default
OS_PROJECT_DOMAIN_NAME=Default
TOKEN_EXPIRATION=$EXPIRATION
ADMIN_USERNAME=admin
ADMIN_PASSWORD=$admin_pw
ADMIN_PROJECT_NAME=admin
ADMIN_PROJECT_ID=$admin_project_id
SERVICE_PROJECT_NAME=service
SERVICE_PROJECT_ID=$service_project_id
PLACEMENT_USERNAME=placement
PLACEMENT_USER_ID=$user_id
PLACEMENT_PASSWORD=$svc_pw
APPCRED_ID=$ac_id
APPCRED_NAME=$ac_name
APPCRED_SECRET=$ac_secret
EOF
  mv -f "$env_file.tmp" "$env_file"
  chmod 600 "$env_file"

  # nova.conf-style [placement] sections, the way the agent reads them
  cat > "$DIR/placement-password.conf" <<EOF
[placement]
auth_type = password
auth_url = $pub/v3
username = placement
password = $svc_pw
user_domain_name = Default
project_name = service
project_domain_name = Default
region_name = $REGION
EOF
  cat > "$DIR/placement-appcred.conf" <<EOF
[placement]
auth_type = v3applicationcredential
auth_url = $pub/v3
application_credential_id = $ac_id
application_credential_secret = $ac_secret
region_name = $REGION
EOF
  cat > "$DIR/clouds.yaml" <<EOF
clouds:
  test-admin:
    auth: {auth_url: "$pub/v3", username: admin, password: "$admin_pw", project_name: admin,
           user_domain_name: Default, project_domain_name: Default}
    region_name: $REGION
    identity_api_version: 3
  test-placement:
    auth: {auth_url: "$pub/v3", username: placement, password: "$svc_pw", project_name: service,
           user_domain_name: Default, project_domain_name: Default}
    region_name: $REGION
    identity_api_version: 3
  test-appcred:
    auth_type: v3applicationcredential
    auth: {auth_url: "$pub/v3", application_credential_id: "$ac_id", application_credential_secret: "$ac_secret"}
    region_name: $REGION
    identity_api_version: 3
EOF
  chmod 600 "$DIR/placement-password.conf" "$DIR/placement-appcred.conf" "$DIR/clouds.yaml"
  umask "$old_umask"

  touch "$DIR/.provisioned"
  echo "$url" > "$DIR/url"
  echo "$url"
}

ks_stop() {
  [ $# -ge 1 ] || usage
  local dir=$1
  [ -d "$dir" ] || return 0
  stop_pid "$dir/keystone.pid" keystone-wsgi-public
  rm -f "$dir/url" "$dir/port" "$dir/.provisioned"
  if [ "${2:-}" = --purge ]; then
    rm -rf "$dir/keystone.sqlite" "$dir/fernet-keys" "$dir/credential-keys" "$dir/.initialised" \
           "$dir/.bootstrapped" "$dir/keystone.env" "$dir/keystone.env.tmp" "$dir/clouds.yaml" \
           "$dir/placement-password.conf" "$dir/placement-appcred.conf" "$dir/keystone.conf" \
           "$dir"/manage*.log "$dir/keystone.log" "$dir/settings"
    rmdir "$dir" 2>/dev/null || true
  fi
}

ks_status() {
  [ $# -ge 1 ] || usage
  if pid_ours "$1/keystone.pid" keystone-wsgi-public && [ -f "$1/url" ] \
     && curl -sf -o /dev/null --max-time 5 "$(cat "$1/url")/v3"; then
    cat "$1/url"
    return 0
  fi
  echo "keystone-server: keystone not running in $1" >&2
  return 3
}

# set_placement_endpoint KS_STATE URL: service "placement" (type placement) with
# public and internal endpoints in RegionOne at URL; existing ones are PATCHed.
set_placement_endpoint() {
  [ $# -eq 2 ] || usage
  local kdir=$1 purl=${2%/}
  need_tools
  [[ $purl =~ ^https?://(127\.0\.0\.1|localhost)(:[0-9]+)?(/.*)?$ ]] || die "placement URL must be on 127.0.0.1: $purl"
  { [ -f "$kdir/keystone.env" ] && [ -f "$kdir/url" ]; } || die "keystone is not running in $kdir"
  KS=$(cat "$kdir/url")/v3
  TOKEN=$(get_token "$KS" "$(password_auth admin "$(env_get "$kdir/keystone.env" ADMIN_PASSWORD)" admin)")
  [ -n "$TOKEN" ] || die "no admin token from $KS"
  local sid
  sid=$(ensure_service placement placement "Placement API")
  ensure_endpoint "$sid" public "$purl"
  ensure_endpoint "$sid" internal "$purl"
  echo "$purl"
}

# ================================ placement =====================================
pl_start() {
  [ $# -ge 2 ] || usage
  [ -d "$1" ] || die "no keystone state directory $1"
  local kdir
  kdir=$(cd "$1" && pwd)
  mkdir -p "$2"
  local dir port=${3:-0}
  dir=$(cd "$2" && pwd)
  local PIDF=$dir/placement.pid
  [[ $port =~ ^[0-9]+$ ]] || die "bad port $port"
  { [ -x /usr/bin/placement-api ] && [ -x /usr/bin/placement-manage ]; } \
    || die "python3-placement missing (scripts/install-deps.sh)"
  "$PY" -c 'import keystonemiddleware' 2>/dev/null || die "python3-keystonemiddleware missing"
  need_tools
  ks_status "$kdir" >/dev/null 2>&1 || die "keystone is not running in $kdir (keystone-server.sh start $kdir)"
  local kurl kpub svc_pw
  kurl=$(cat "$kdir/url")
  kpub=$(env_get "$kdir/keystone.env" KEYSTONE_PUBLIC_BASE_URL)
  svc_pw=$(env_get "$kdir/keystone.env" PLACEMENT_PASSWORD)

  local settings=$dir/settings cache_time endpoint
  if [ "${PLACEMENT_RESET:-0}" = 1 ]; then
    stop_pid "$PIDF" placement-api
    rm -f "$dir/placement.sqlite" "$dir/.db_synced" "$dir/url" "$dir/port" "$settings"
  fi
  # sticky settings, as for keystone
  if [ -n "${PLACEMENT_TOKEN_CACHE_TIME+set}" ]; then cache_time=$PLACEMENT_TOKEN_CACHE_TIME
  else cache_time=$(env_get "$settings" TOKEN_CACHE_TIME); fi
  if [ -n "${PLACEMENT_ENDPOINT_URL+set}" ]; then endpoint=$PLACEMENT_ENDPOINT_URL
  else endpoint=$(env_get "$settings" ENDPOINT_URL); fi
  cache_time=${cache_time:--1}
  [[ $cache_time =~ ^-?[0-9]+$ ]] || die "PLACEMENT_TOKEN_CACHE_TIME must be a number"
  printf 'TOKEN_CACHE_TIME=%s\nENDPOINT_URL=%s\n' "$cache_time" "$endpoint" > "$settings"

  local conf
  conf=$(cat <<EOF
# written by scripts/keystone-server.sh; read through OS_PLACEMENT_CONFIG_DIR
[DEFAULT]
debug = false
use_stderr = true

[api]
auth_strategy = keystone

[placement_database]
connection = sqlite:///$dir/placement.sqlite

[keystone_authtoken]
# what 401 answers advertise in WWW-Authenticate: the public identity URL
www_authenticate_uri = ${kpub:-$kurl}/v3
# placement's own service credentials; tokens are validated through the INTERNAL
# identity endpoint of the catalog (plain http even when keystone is behind TLS)
auth_url = $kurl/v3
auth_type = password
username = placement
password = $svc_pw
user_domain_name = Default
project_name = service
project_domain_name = Default
region_name = $REGION
# only silences a deprecation warning
service_token_roles_required = true
# no memcached: in-process cache. -1 = never cache a validation, so a revoked
# token is refused at once (the default 300 accepts it for another 5 minutes)
token_cache_time = $cache_time
EOF
)
  if pid_ours "$PIDF" placement-api && [ -f "$dir/url" ] \
     && [ "$(cat "$dir/placement.conf" 2>/dev/null)" = "$conf" ] \
     && { [ "$port" = 0 ] || [ "$port" = "$(cat "$dir/port")" ]; } \
     && curl -sf -o /dev/null --max-time 5 "$(cat "$dir/url")/"; then
    # already running with this config: touch the catalog only if asked to
    if [ -z "${PLACEMENT_ENDPOINT_URL+set}" ]; then
      cat "$dir/url"
      return 0
    fi
  else
    stop_pid "$PIDF" placement-api
    rm -f "$dir/url" "$dir/port"
    (umask 077; printf '%s\n' "$conf" > "$dir/placement.conf")
    if [ ! -f "$dir/.db_synced" ] || [ ! -f "$dir/placement.sqlite" ]; then
      "$PY" /usr/bin/placement-manage --config-file "$dir/placement.conf" db sync > "$dir/db-sync.log" 2>&1 \
        || die "placement-manage db sync failed, see $dir/db-sync.log"
      touch "$dir/.db_synced"
    fi
    OS_PLACEMENT_CONFIG_DIR=$dir nohup "$PY" /usr/bin/placement-api --host "$HOST" --port "$port" \
      > "$dir/placement.log" 2>&1 < /dev/null &
    echo $! > "$PIDF"
    local real
    # GET / is the one path placement serves without a token
    if ! real=$(wait_listening "$dir/placement.log" "$PIDF" placement-api /); then
      tail -n 20 "$dir/placement.log" >&2
      stop_pid "$PIDF" placement-api
      die "placement did not come up; see $dir/placement.log"
    fi
    echo "$real" > "$dir/port"
    echo "http://$HOST:$real" > "$dir/url"
    echo "$kdir" > "$dir/keystone_state"
  fi

  local ep=${endpoint:-$(cat "$dir/url")}
  if [ "$ep" != none ]; then
    set_placement_endpoint "$kdir" "$ep" >/dev/null
  fi
  cat "$dir/url"
}

pl_stop() {
  [ $# -ge 1 ] || usage
  local dir=$1
  [ -d "$dir" ] || return 0
  stop_pid "$dir/placement.pid" placement-api
  rm -f "$dir/url" "$dir/port"
  if [ "${2:-}" = --purge ]; then
    rm -f "$dir/placement.sqlite" "$dir/.db_synced" "$dir/placement.conf" "$dir/placement.log" \
          "$dir/db-sync.log" "$dir/keystone_state" "$dir/settings"
    rmdir "$dir" 2>/dev/null || true
  fi
}

pl_status() {
  [ $# -ge 1 ] || usage
  if pid_ours "$1/placement.pid" placement-api && [ -f "$1/url" ] \
     && curl -sf -o /dev/null --max-time 5 "$(cat "$1/url")/"; then
    cat "$1/url"
    return 0
  fi
  echo "keystone-server: placement not running in $1" >&2
  return 3
}

[ $# -ge 1 ] || usage
CMD=$1
shift
case $CMD in
  start) ks_start "$@" ;;
  stop) ks_stop "$@" ;;
  status) ks_status "$@" || exit $? ;;
  placement-start) pl_start "$@" ;;
  placement-stop) pl_stop "$@" ;;
  placement-status) pl_status "$@" || exit $? ;;
  set-placement-endpoint) set_placement_endpoint "$@" ;;
  -h|--help|help) usage ;;
  *) usage ;;
esac
