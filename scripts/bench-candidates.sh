#!/usr/bin/env bash
# GET /allocation_candidates for 1..8-GPU flavors: the pool model (one child
# provider per GPU model per host, total = max_unit = G) against nova's
# per-device model (one child per GPU, total 1), side by side in one run on the
# same private Placement. Figures for BENCHMARKS.md; see --help.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() {
  cat <<'EOF'
Usage: scripts/bench-candidates.sh [--hosts N] [--gpus G] [--sizes 1,2,4,8]
                                   [--timeout S] [--mem-limit MB] [--keep]

Measures what the placement model (ARCHITECTURE.md) rests on: placement never
splits one resource class of one request group across providers, so with one
provider per GPU (nova's per-device model) an N-GPU flavor needs N numbered
request groups with group_policy=isolate, which placement enumerates as
permutations (G!/(G-N)! per host) before it applies nova's limit=1000. The
agent's pool model reports one child per GPU model per host with total=G,
max_unit=G, so an N-GPU flavor is one unnumbered group.

It starts a private Placement (scripts/placement-server.sh, fresh state under
a mktemp dir, an OS-chosen free port), seeds N hosts of each model (distinct
resource classes, so neither model answers the other's queries):
  pool:       bench-pool-NNN (VCPU 128, MEMORY_MB 1048576, DISK_GB 10000)
              + child bench-pool-NNN:gpu-pool:CUSTOM_PGPU_BENCH_POOL (total=G, max_unit=G)
  per-device: bench-dev-NNN (same) + G children bench-dev-NNN_0000:XX:00.0
              with CUSTOM_PCI_BENCH_DEV total=1, max_unit=1
then sends, as nova's scheduler would (limit=1000), for each size n:
  pool:       resources=CUSTOM_PGPU_BENCH_POOL:n,DISK_GB:10,MEMORY_MB:1024,VCPU:1&limit=1000
  per-device: resources=DISK_GB:10,MEMORY_MB:1024,VCPU:1&resources1=CUSTOM_PCI_BENCH_DEV:1
              &...&resources{n}=CUSTOM_PCI_BENCH_DEV:1&group_policy=isolate&limit=1000
all pool sizes first, then per-device sizes in increasing order, one request
each (after one untimed warm-up request). It prints a markdown table: wall
time, allocation requests returned, distinct hosts among them (shows the limit
dropping hosts), response bytes and placement's peak RSS, then the machine.

Placement serves one request at a time and keeps computing after the client
gives up, so once a query exceeds the timeout the larger sizes are not run
and the server is stopped.

  --hosts N      hosts per model (default 50)
  --gpus G       GPUs per host (default 8)
  --sizes LIST   GPUs per flavor, comma-separated (default 1,2,4,8)
  --timeout S    client timeout per query in seconds (default 300)
  --mem-limit MB address-space limit (ulimit -v) for the placement process,
                 so a runaway enumeration cannot take the machine's memory
                 (default 8192; 0 = none)
  --keep         leave placement running (with its data) and print its URL
EOF
}

die() { echo "bench-candidates: $*" >&2; exit 1; }

HOSTS=50 GPUS=8 SIZES=1,2,4,8 TIMEOUT=300 MEM_LIMIT=8192 KEEP=0
while [ $# -gt 0 ]; do
  case $1 in
    --hosts) [ $# -ge 2 ] || die "--hosts needs a value"; HOSTS=$2; shift 2 ;;
    --gpus) [ $# -ge 2 ] || die "--gpus needs a value"; GPUS=$2; shift 2 ;;
    --sizes) [ $# -ge 2 ] || die "--sizes needs a value"; SIZES=$2; shift 2 ;;
    --timeout) [ $# -ge 2 ] || die "--timeout needs a value"; TIMEOUT=$2; shift 2 ;;
    --mem-limit) [ $# -ge 2 ] || die "--mem-limit needs a value"; MEM_LIMIT=$2; shift 2 ;;
    --keep) KEEP=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument: $1" ;;
  esac
done
[[ $HOSTS =~ ^[1-9][0-9]*$ ]] || die "--hosts must be a positive integer, not '$HOSTS'"
[[ $GPUS =~ ^[1-9][0-9]*$ && $GPUS -le 200 ]] || die "--gpus must be 1..200, not '$GPUS'"
[[ $SIZES =~ ^[1-9][0-9]*(,[1-9][0-9]*)*$ ]] || die "--sizes must be like 1,2,4,8, not '$SIZES'"
[[ $TIMEOUT =~ ^[0-9]+(\.[0-9]+)?$ && $TIMEOUT != 0 ]] || die "--timeout must be a positive number of seconds, not '$TIMEOUT'"
[[ $MEM_LIMIT =~ ^[0-9]+$ ]] || die "--mem-limit must be a number of MB, not '$MEM_LIMIT'"

PY=/usr/bin/python3  # Debian's: stdlib only, same interpreter as placement
[ -x "$PY" ] || die "$PY not found"

WORK=$(mktemp -d /tmp/gpu-agent-bench-candidates.XXXXXX)
STATE=$WORK/placement
cleanup() {
  local rc=$?
  if [ "$KEEP" = 1 ] && [ -f "$STATE/url" ]; then
    echo "placement kept running: $(cat "$STATE/url") (state $STATE)" >&2
    echo "stop it with: scripts/placement-server.sh stop $STATE && rm -rf $WORK" >&2
  else
    scripts/placement-server.sh stop "$STATE" >/dev/null 2>&1 || true
    rm -rf "$WORK"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

echo "starting placement in $STATE ..." >&2
# Without --keep the server dies with this script even if the trap cannot run.
if [ "$KEEP" = 1 ]; then unset PLACEMENT_SERVER_WATCH_PID; else export PLACEMENT_SERVER_WATCH_PID=$$; fi
if ! URL=$( (if [ "$MEM_LIMIT" != 0 ]; then ulimit -v $((MEM_LIMIT * 1024)); fi
             PLACEMENT_SERVER_RESET=1 scripts/placement-server.sh start "$STATE" 0) ); then
  echo "--- last lines of $STATE/placement.log:" >&2
  tail -n 20 "$STATE/placement.log" >&2 2>/dev/null || echo "(no log)" >&2
  [ -f "$STATE/db-sync.log" ] && { echo "--- $STATE/db-sync.log:" >&2; tail -n 20 "$STATE/db-sync.log" >&2; }
  die "placement did not start"
fi
PID=$(cat "$STATE/pid")
echo "placement at $URL (pid $PID)" >&2

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
set +e
"$PY" - "$URL" "$PID" "$HOSTS" "$GPUS" "$SIZES" "$TIMEOUT" <<'PYEOF'
import json, math, sys, time, urllib.error, urllib.request

url, pid, hosts, gpus, sizes, timeout = sys.argv[1:7]
pid, hosts, gpus, timeout = int(pid), int(hosts), int(gpus), float(timeout)
sizes = sorted({int(s) for s in sizes.split(",")})
POOL_RC, DEV_RC = "CUSTOM_PGPU_BENCH_POOL", "CUSTOM_PCI_BENCH_DEV"
HEADERS = {"X-Auth-Token": "admin", "OpenStack-API-Version": "placement 1.39",
           "Accept": "application/json", "Content-Type": "application/json"}
# No proxy: a http_proxy in the environment must not catch 127.0.0.1.
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

def log(msg):
    print(msg, file=sys.stderr, flush=True)

def call(method, path, body=None, timeout=60):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url + path, data=data, method=method, headers=HEADERS)
    try:
        with opener.open(req, timeout=timeout) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()

def must(method, path, body=None, ok=(200, 201, 204)):
    status, raw = call(method, path, body)
    if status not in ok:
        sys.exit(f"bench-candidates: {method} {path} answered {status}: {raw[:500].decode(errors='replace')}")
    return json.loads(raw) if raw else None

def rss_mib():
    vals = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                k, _, v = line.partition(":")
                if k in ("VmRSS", "VmHWM"):
                    vals[k] = int(v.split()[0]) / 1024
    except OSError:
        pass
    return vals.get("VmHWM")

BASE = {"VCPU": 128, "MEMORY_MB": 1048576, "DISK_GB": 10000}

def inventory(rp, generation, invs):
    body = {"resource_provider_generation": generation,
            "inventories": {rc: {"total": t, "max_unit": m, "allocation_ratio": 1.0}
                            for rc, (t, m) in invs.items()}}
    must("PUT", f"/resource_providers/{rp}/inventories", body)

def provider(name, parent=None):
    body = {"name": name}
    if parent:
        body["parent_provider_uuid"] = parent
    return must("POST", "/resource_providers", body)["uuid"]

t0 = time.monotonic()
for rc in (POOL_RC, DEV_RC):
    must("PUT", f"/resource_classes/{rc}")
host_of = {}  # provider uuid -> (model, host index)
width = max(3, len(str(hosts)))
for h in range(hosts):
    name = f"bench-pool-{h:0{width}d}"
    root = provider(name)
    inventory(root, 0, {rc: (t, t) for rc, t in BASE.items()})
    child = provider(f"{name}:gpu-pool:{POOL_RC}", root)
    inventory(child, 0, {POOL_RC: (gpus, gpus)})
    host_of[root] = host_of[child] = ("pool", h)

    name = f"bench-dev-{h:0{width}d}"
    root = provider(name)
    inventory(root, 0, {rc: (t, t) for rc, t in BASE.items()})
    host_of[root] = ("per-device", h)
    for g in range(gpus):
        child = provider(f"{name}_0000:{0x10 + g:02X}:00.0", root)
        inventory(child, 0, {DEV_RC: (1, 1)})
        host_of[child] = ("per-device", h)
    if (h + 1) % 10 == 0 or h + 1 == hosts:
        log(f"seeded {h + 1}/{hosts} hosts per model ({time.monotonic() - t0:.1f} s)")
seed_s = time.monotonic() - t0
providers = len(host_of)

COMMON = "DISK_GB:10,MEMORY_MB:1024,VCPU:1"
def query(model, n):
    if model == "pool":
        return f"resources={POOL_RC}:{n},{COMMON}&limit=1000"
    groups = "".join(f"&resources{i}={DEV_RC}:1" for i in range(1, n + 1))
    return f"resources={COMMON}{groups}&group_policy=isolate&limit=1000"

def expected(model, n):
    if n > gpus:
        return 0
    per_host = 1 if model == "pool" else math.perm(gpus, n)
    return hosts * per_host

# Untimed: the first request pays for lazy imports and cold caches.
call("GET", "/allocation_candidates?" + query("pool", 1).replace("limit=1000", "limit=1"))

rows = []
busy = None  # (model, n) of a query that exceeded the timeout
for model in ("pool", "per-device"):
    for n in sizes:
        path = "/allocation_candidates?" + query(model, n)
        if busy:
            why = ("not run: smaller size already exceeded the timeout" if busy[0] == model
                   else f"not run: placement still busy with {busy[0]} {busy[1]}x")
            rows.append((model, n, why, "", "", "", ""))
            continue
        log(f"{model} {n}x: GET {path}")
        start = time.monotonic()
        try:
            status, raw = call("GET", path, timeout=timeout)
        except (TimeoutError, OSError) as e:  # socket timeout, possibly wrapped in URLError
            elapsed = time.monotonic() - start
            reason = getattr(e, "reason", e)
            if isinstance(reason, TimeoutError) or "timed out" in str(e):
                busy = (model, n)
                rows.append((model, n, f"> {timeout:g} s (not finished)", "", "", "", f"{rss_mib() or 0:.0f}"))
                log(f"  timed out after {elapsed:.1f} s")
                continue
            rows.append((model, n, f"failed after {elapsed:.1f} s: {e}", "", "", "", ""))
            log(f"  failed: {e}")
            continue
        elapsed = time.monotonic() - start
        rss = rss_mib()
        if status != 200:
            msg = raw[:300].decode(errors="replace").replace("|", "/").replace("\n", " ")
            rows.append((model, n, f"{elapsed:.3f} (HTTP {status}: {msg})", "", "", f"{len(raw):,}", f"{rss or 0:.0f}"))
            log(f"  HTTP {status} in {elapsed:.3f} s: {msg}")
            continue
        doc = json.loads(raw)
        reqs = doc["allocation_requests"]
        seen = set()
        for ar in reqs:
            owners = {host_of.get(rp) for rp in ar["allocations"]}
            if len(owners) != 1 or None in owners or next(iter(owners))[0] != model:
                sys.exit(f"bench-candidates: unexpected candidate for {model} {n}x: {ar}")
            seen.add(next(iter(owners))[1])
        exp = expected(model, n)
        cand = f"{len(reqs):,}" if len(reqs) == exp else f"{len(reqs):,} (of {exp:,})"
        rows.append((model, n, f"{elapsed:.3f}", cand, f"{len(seen)} of {hosts}",
                     f"{len(raw):,}", f"{rss or 0:.0f}"))
        log(f"  {elapsed:.3f} s, {len(reqs)} candidates, {len(seen)} hosts, {len(raw)} bytes")

print(f"{hosts} hosts x {gpus} GPUs per model ({providers} providers, seeded in {seed_s:.1f} s), "
      f"client timeout {timeout:g} s, microversion 1.39, limit=1000.\n")
print("| model | GPUs per flavor | time (s) | candidates | hosts seen | response bytes | placement peak RSS (MiB) |")
print("|---|---|---|---|---|---|---|")
for r in rows:
    print("| " + " | ".join(str(c) for c in r) + " |")
print("\n\"(of N)\": N candidates exist (hosts x G!/(G-n)! for per-device), limit=1000 returned fewer.")
print("Peak RSS is placement's VmHWM after the query (it only grows).")
sys.exit(3 if busy else 0)
PYEOF
rc=$?
set -e
[ "$rc" = 0 ] || [ "$rc" = 3 ] || die "benchmark failed (exit $rc); placement log: $STATE/placement.log"
if [ "$rc" = 3 ] && [ "$KEEP" != 1 ]; then
  # It is still computing the abandoned query: free the CPU now.
  scripts/placement-server.sh stop "$STATE" >/dev/null 2>&1 || true
fi
echo
echo "Placement: $(dpkg-query -W python3-placement 2>/dev/null | tr '\t' ' ' || echo 'python3-placement not from dpkg')"
echo "CPU: $(nproc) x $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)," \
     "$(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo)"
echo "Load average: $LOAD_BEFORE at start, $(cut -d' ' -f1-3 /proc/loadavg) at end"
echo "Date: $(date -u '+%Y-%m-%d %H:%M UTC')"
