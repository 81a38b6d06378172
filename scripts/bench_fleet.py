#!/usr/bin/python3
"""Fleet benchmark driver (scripts/bench-fleet.sh runs it; not a test).

N compute nodes, each a root provider created as nova-compute creates it and a
real `gpu-agent run` daemon, against the production-shaped Placement of
scripts/placement-prod.sh (uwsgi workers on MariaDB). Phases: cold start (first
deployment), steady state, a restart of the whole fleet with and without splay,
a Placement outage and recovery, then allocation candidates at H hosts (pool
model, per-device model, VCPU-only). Requests are counted from Placement's own
request log; the driver's own requests carry a request id of their own and are
left out. Prints markdown for BENCHMARKS.md and writes results.json.
"""
import argparse
import concurrent.futures
import http.client
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import time
import urllib.parse
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
DRIVER_REQ = "req-0000beef-0000-4000-8000-"  # + 12 hex digits: the driver's own requests
MV = "1.36"
LOG_RE = re.compile(
    r'^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+) \d+ INFO placement\.requestlog \[(\S+) [^]]*\] \S+ '
    r'"(\w+) (\S+)" status: (\d+)')


def say(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


class Placement:
    def __init__(self, url):
        u = urllib.parse.urlparse(url)
        self.host, self.port = u.hostname, u.port
        self.n = 0

    def call(self, method, path, body=None, mv=MV, timeout=600, raw=False):
        self.n += 1
        c = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        headers = {"X-Auth-Token": "admin", "OpenStack-API-Version": "placement " + mv,
                   "Accept": "application/json",
                   "X-Openstack-Request-Id": DRIVER_REQ + "%012x" % (self.n % (1 << 48))}
        data = None
        if body is not None:
            data = json.dumps(body)
            headers["Content-Type"] = "application/json"
        try:
            c.request(method, path, data, headers)
            r = c.getresponse()
            text = r.read()
        finally:
            c.close()
        if r.status >= 400:
            raise RuntimeError(f"{method} {path}: {r.status} {text[:300]!r}")
        if raw:
            return text
        return json.loads(text) if text else None


def make_compute_node(p, name):
    """What nova-compute does for a new compute node: the root provider named by
    its hypervisor hostname, its VCPU/MEMORY_MB/DISK_GB inventory and its traits."""
    rp = p.call("POST", "/resource_providers", {"name": name, "uuid": str(uuid.uuid4())})
    inv = {"VCPU": {"total": 128, "allocation_ratio": 4.0, "max_unit": 128},
           "MEMORY_MB": {"total": 1048576, "reserved": 512, "max_unit": 1048576},
           "DISK_GB": {"total": 10000, "max_unit": 10000}}
    r = p.call("PUT", f"/resource_providers/{rp['uuid']}/inventories",
               {"resource_provider_generation": rp["generation"], "inventories": inv})
    p.call("PUT", f"/resource_providers/{rp['uuid']}/traits",
           {"resource_provider_generation": r["resource_provider_generation"],
            "traits": ["COMPUTE_NET_ATTACH_INTERFACE", "COMPUTE_VOLUME_ATTACH", "HW_CPU_X86_AVX2"]})
    return rp["uuid"]


def read_log(path):
    out = []
    with open(path, errors="replace") as f:
        for line in f:
            m = LOG_RE.match(line)
            if not m or m.group(2).startswith(DRIVER_REQ):
                continue
            ts = time.mktime(time.strptime(m.group(1)[:19], "%Y-%m-%d %H:%M:%S")) + float("0" + m.group(1)[19:])
            out.append((ts, m.group(3), m.group(4), int(m.group(5))))
    return out


def cpu_seconds(pids):
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
        except OSError:
            pass
    return total


def children(pid):
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                        out.append(int(d))
            except OSError:
                pass
    return out


class Fleet:
    def __init__(self, a, state, url):
        self.a, self.state, self.url = a, state, url
        self.p = Placement(url)
        self.procs = []
        self.log = os.path.join(state, "placement", "placement.log")

    def placement_pids(self):
        pids = []
        for name in ("uwsgi.pid", "mariadb.pid"):
            try:
                pid = int(open(os.path.join(self.state, "placement", name)).read())
                pids += [pid] + children(pid)
            except (OSError, ValueError):
                pass
        return pids

    def write_configs(self, roots):
        """roots: root uuid -> node index. Each node gets nova's compute_id file
        (nova 2023.1+ writes the compute node's UUID under its state_path) unless
        --no-compute-id (nova before 2023.1: none, so the agent looks it up by name)."""
        a = self.a
        uuid_of = {i: u for u, i in roots.items()}
        for i in range(a.nodes):
            d = os.path.join(self.state, "nodes", "%04d" % i)
            os.makedirs(os.path.join(d, "nova"), exist_ok=True)
            if a.compute_id:
                with open(os.path.join(d, "nova", "compute_id"), "w") as f:
                    f.write(uuid_of[i])
            with open(os.path.join(d, "gpu-agent.conf"), "w") as f:
                f.write(f"""[agent]
state_dir = {d}
nova_compute_id = {d}/nova/compute_id
libvirt_uri = none
interval = {a.interval}
jitter = 0.1
retry_min = {a.interval / 60:.3f}
retry_max = {a.interval}
usage_refresh = {a.interval * 5}
[placement]
auth_type = admin_token
token = admin
endpoint_override = {self.url}
timeout = 30
""")

    def start(self, splay, env_extra=None):
        env = dict(os.environ)
        env.pop("INVOCATION_ID", None)
        env.update(env_extra or {})
        self.procs = []
        for i in range(self.a.nodes):
            d = os.path.join(self.state, "nodes", "%04d" % i)
            err = open(os.path.join(d, "agent.log"), "a")
            self.procs.append(subprocess.Popen(
                [self.a.agent, "--config", os.path.join(d, "gpu-agent.conf"), "run", "--fixture", self.a.fixture,
                 "--hostname", "fleet-%04d" % i, "--pci-ids", os.path.join(ROOT, "tests/data/pci.ids"),
                 "--interval", str(self.a.interval), "--splay", str(splay)],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err, env=env))
            err.close()

    def stop(self):
        for pr in self.procs:
            if pr.poll() is None:
                pr.send_signal(signal.SIGTERM)
        for pr in self.procs:
            try:
                pr.wait(timeout=60)
            except subprocess.TimeoutExpired:
                pr.kill()
                pr.wait()
        self.procs = []

    def operator_errors(self):
        warn = err = 0
        for i in range(self.a.nodes):
            with open(os.path.join(self.state, "nodes", "%04d" % i, "agent.log"), errors="replace") as f:
                for line in f:
                    warn += " WARNING " in line
                    err += " ERROR " in line
        return warn, err

    def pools_correct(self, gpus):
        """Every node has one pool child with total = gpus (read with the driver's request id)."""
        rps = self.p.call("GET", "/resource_providers")["resource_providers"]
        roots = {r["uuid"] for r in rps if r["name"].startswith("fleet-") and not r["parent_provider_uuid"]}
        kids = [r for r in rps if r["parent_provider_uuid"] in roots]
        ok = 0
        for k in kids:
            inv = self.p.call("GET", f"/resource_providers/{k['uuid']}/inventories")["inventories"]
            ok += any(v["total"] == gpus for c, v in inv.items() if c.startswith("CUSTOM_"))
        return ok, len(roots)


def window(reqs, t0, t1):
    return [r for r in reqs if t0 <= r[0] < t1]


def rate_stats(reqs, t0, t1, bucket):
    n = max(1, int((t1 - t0) / bucket))
    counts = [0] * n
    for r in reqs:
        i = int((r[0] - t0) / bucket)
        if 0 <= i < n:
            counts[i] += 1
    return max(counts) / bucket, counts


UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def kind_of(method, path):
    """GET /resource_providers?in_tree=, PUT /resource_providers/{uuid}/traits, ..."""
    u = urllib.parse.urlparse(path)
    p = UUID_RE.sub("{uuid}", u.path)
    p = re.sub(r"^/traits/CUSTOM_\w+", "/traits/CUSTOM_*", p)
    p = re.sub(r"^/resource_classes/CUSTOM_\w+", "/resource_classes/CUSTOM_*", p)
    q = "&".join(sorted(k + "=" for k in urllib.parse.parse_qs(u.query)))
    return f"{method} {p}" + (f"?{q}" if q else "")


def summarise(reqs):
    writes = sum(1 for r in reqs if r[1] != "GET")
    by, kinds = {}, {}
    for r in reqs:
        by[r[3]] = by.get(r[3], 0) + 1
        k = kind_of(r[1], r[2])
        kinds[k] = kinds.get(k, 0) + 1
    return {"requests": len(reqs), "writes": writes, "409": by.get(409, 0),
            "5xx": sum(v for k, v in by.items() if k >= 500), "by_status": by, "by_kind": kinds}


def first_pass_kinds(reqs):
    """Requests of the cold start by kind (GET ?name=, POST /resource_providers, ...)."""
    kinds = {}
    for r in reqs:
        k = kind_of(r[1], r[2]) + (" %d" % r[3] if r[3] >= 400 else "")
        kinds[k] = kinds.get(k, 0) + 1
    return kinds


def converged_nodes(reqs, roots):
    """Nodes (by root uuid) that had a 200 answer to GET ?in_tree=<root>."""
    seen = set()
    for r in reqs:
        if r[1] == "GET" and r[3] == 200 and "in_tree=" in r[2]:
            u = urllib.parse.parse_qs(urllib.parse.urlparse(r[2]).query).get("in_tree", [""])[0]
            if u in roots:
                seen.add(u)
    return seen


def time_all_converged(reqs, roots, t0):
    """When every root had its first 200 GET ?in_tree= after t0 (None if some never did)."""
    first = {}
    for r in reqs:
        if r[0] < t0 or r[1] != "GET" or r[3] != 200 or "in_tree=" not in r[2]:
            continue
        u = urllib.parse.parse_qs(urllib.parse.urlparse(r[2]).query).get("in_tree", [""])[0]
        if u in roots and u not in first:
            first[u] = r[0]
    return (max(first.values()) - t0) if len(first) == len(roots) else None


def fleet_phases(a, fl, results):
    p = fl.p
    say(f"seeding {a.nodes} compute nodes as nova-compute would")
    roots = {}
    with concurrent.futures.ThreadPoolExecutor(a.workers) as ex:
        for i, u in enumerate(ex.map(lambda i: make_compute_node(p, "fleet-%04d" % i), range(a.nodes))):
            roots[u] = i
    fl.write_configs(roots)
    I, N = a.interval, a.nodes
    bucket = I / 5

    # 1. Cold start: first deployment, every daemon started at the same moment
    # (--cold-splay auto: as systemd starts them, INVOCATION_ID set, no state.json yet).
    say(f"cold start: {N} daemons, splay {a.cold_splay}")
    auto = a.cold_splay == "auto"
    # auto on a first deployment: half an interval per first-pass request (4 with compute_id, 5 without)
    window_s = (2 if a.compute_id else 2.5) * I if auto else float(a.cold_splay)
    cpu0 = cpu_seconds(fl.placement_pids())
    t0 = time.time()
    fl.start(a.cold_splay, {"INVOCATION_ID": "bench"} if auto else {})
    deadline = t0 + window_s + 6 * I
    while time.time() < deadline:
        time.sleep(I / 2)
        reqs = window(read_log(fl.log), t0, time.time() + 1)
        if len(converged_nodes(reqs, roots)) == N and time.time() > t0 + window_s + 2 * I:
            break
    t1 = time.time()
    cpu1 = cpu_seconds(fl.placement_pids())
    reqs = window(read_log(fl.log), t0, t1)
    writes = [r for r in reqs if r[1] != "GET" and r[3] < 300]
    ok, nroots = fl.pools_correct(a.gpus)
    cold = summarise(reqs)
    cold.update({"converge_s": (max(r[0] for r in writes) - t0) if writes else None, "pools_ok": ok,
                 "roots": nroots, "cpu_s": cpu1 - cpu0, "per_node": len(reqs) / N,
                 "peak_rps": rate_stats(reqs, t0, t1, bucket)[0], "splay": a.cold_splay,
                 "peak_interval_rps": rate_stats(reqs, t0, t1, I)[0],
                 "first_pass_kinds": first_pass_kinds(reqs)})
    if cold["converge_s"] is not None:
        cold["converge_intervals"] = cold["converge_s"] / I
    results["cold"] = cold
    say(f"cold: {cold}")

    # 2. Steady state.
    time.sleep(2 * I)
    say(f"steady state for {a.steady_intervals} intervals")
    cpu0, t0 = cpu_seconds(fl.placement_pids()), time.time()
    time.sleep(a.steady_intervals * I)
    t1, cpu1 = time.time(), cpu_seconds(fl.placement_pids())
    reqs = window(read_log(fl.log), t0, t1)
    st = summarise(reqs)
    intervals = (t1 - t0) / I
    st.update({"seconds": t1 - t0, "per_node_interval": len(reqs) / N / intervals,
               "writes_per_node_interval": st["writes"] / N / intervals, "rps": len(reqs) / (t1 - t0),
               "cpu_s": cpu1 - cpu0, "cpu_per_node_interval_ms": 1000 * (cpu1 - cpu0) / N / intervals,
               "cpu_core_share": (cpu1 - cpu0) / (t1 - t0),
               "peak_rps": rate_stats(reqs, t0, t1, bucket)[0]})
    results["steady"] = st
    steady_rps = st["rps"]
    cold["peak_vs_steady"] = cold["peak_rps"] / steady_rps
    cold["peak_interval_vs_steady"] = cold["peak_interval_rps"] / steady_rps
    say(f"steady: {st}")

    # 3. The whole fleet restarted at once (a rollout, a power-on): no splay, then auto.
    for label, splay, env in (("restart_no_splay", "0", {}), ("restart_auto_splay", "auto", {"INVOCATION_ID": "bench"})):
        fl.stop()
        time.sleep(I)
        say(f"{label}: {N} daemons at once, --splay {splay}")
        cpu0, t0 = cpu_seconds(fl.placement_pids()), time.time()
        fl.start(splay, env)
        end = t0 + 4 * I
        time.sleep(end - time.time())
        t1, cpu1 = time.time(), cpu_seconds(fl.placement_pids())
        reqs = window(read_log(fl.log), t0, t1)
        r = summarise(reqs)
        peak, _ = rate_stats(reqs, t0, t1, bucket)
        r.update({"converge_s": time_all_converged(reqs, roots, t0), "peak_rps": peak,
                  "peak_vs_steady": peak / steady_rps, "per_node": len(reqs) / N, "cpu_s": cpu1 - cpu0,
                  "peak_interval_rps": rate_stats(reqs, t0, t1, I)[0],
                  "peak_interval_vs_steady": rate_stats(reqs, t0, t1, I)[0] / steady_rps})
        results[label] = r
        say(f"{label}: {r}")

    # 4. Placement outage: the API (uwsgi) down for --outage seconds, MariaDB up.
    if a.outage <= 0:
        fl.stop()
        results["agent_log_warnings"], results["agent_log_errors"] = fl.operator_errors()
        return
    time.sleep(2 * I)
    say(f"outage: Placement's API stopped for {a.outage} s")
    port = open(os.path.join(fl.state, "placement", "port")).read().strip()
    subprocess.run([os.path.join(HERE, "placement-prod.sh"), "stop-api", os.path.join(fl.state, "placement")],
                   check=True)
    t_down = time.time()
    time.sleep(a.outage)
    subprocess.run([os.path.join(HERE, "placement-prod.sh"), "start", os.path.join(fl.state, "placement"), port],
                   check=True, stdout=subprocess.DEVNULL)
    t_up = time.time()  # answering GET / again (the app loads before the port is served)
    cpu0 = cpu_seconds(fl.placement_pids())
    time.sleep(4 * I)
    t1, cpu1 = time.time(), cpu_seconds(fl.placement_pids())
    reqs = window(read_log(fl.log), t_up - 5, t1)
    o = summarise(reqs)
    peak, _ = rate_stats(reqs, t_up - 5, t1, bucket)
    o.update({"down_s": t_up - t_down, "converge_s": time_all_converged(reqs, roots, t_up - 5),
              "peak_rps": peak, "peak_vs_steady": peak / steady_rps, "per_node": len(reqs) / N,
              "peak_interval_vs_steady": rate_stats(reqs, t_up - 5, t1, I)[0] / steady_rps,
              "cpu_s": cpu1 - cpu0})
    results["outage"] = o
    say(f"outage: {o}")
    fl.stop()
    results["agent_log_warnings"], results["agent_log_errors"] = fl.operator_errors()


def seed_candidates(p, state, hosts, gpus):
    """H pool-model hosts (root + one child with total = max_unit = gpus) and H per-device hosts
    (root + gpus children of total 1). One template compute node and the two resource classes go
    through the API; the hosts are then inserted with SQL into the same tables, rows as the API
    writes them (uuid, name, generation, root and parent; inventories copied from the template
    root), in one transaction: the API would need ~24,000 requests for 1,000 hosts of each."""
    make_compute_node(p, "cand-template")
    p.call("PUT", "/resource_classes/CUSTOM_PGPU_CAND_POOL", mv="1.7", raw=True)
    p.call("PUT", "/resource_classes/CUSTOM_PCI_CAND_DEV", mv="1.7", raw=True)
    cols = "resource_provider_id,resource_class_id,total,reserved,min_unit,max_unit,step_size,allocation_ratio,created_at"
    sql = ["SET @tpl := (SELECT id FROM resource_providers WHERE name='cand-template');",
           "SET @pool := (SELECT id FROM resource_classes WHERE name='CUSTOM_PGPU_CAND_POOL');",
           "SET @dev := (SELECT id FROM resource_classes WHERE name='CUSTOM_PCI_CAND_DEV');",
           "START TRANSACTION;"]

    def root(name):
        sql.append(f"INSERT INTO resource_providers (uuid,name,generation,created_at) "
                   f"VALUES ('{uuid.uuid4()}','{name}',1,NOW()); SET @r := LAST_INSERT_ID();"
                   f"UPDATE resource_providers SET root_provider_id=@r WHERE id=@r;"
                   f"INSERT INTO inventories ({cols}) SELECT @r,resource_class_id,total,reserved,min_unit,max_unit,"
                   f"step_size,allocation_ratio,NOW() FROM inventories WHERE resource_provider_id=@tpl;")

    def child(name, rc, total):
        sql.append(f"INSERT INTO resource_providers (uuid,name,generation,root_provider_id,parent_provider_id,"
                   f"created_at) VALUES ('{uuid.uuid4()}','{name}',1,@r,@r,NOW()); SET @c := LAST_INSERT_ID();"
                   f"INSERT INTO inventories ({cols}) VALUES (@c,{rc},{total},0,1,{total},1,1.0,NOW());")

    for i in range(hosts):
        root("cand-pool-%04d" % i)
        child("cand-pool-%04d:gpu" % i, "@pool", gpus)
    for i in range(hosts):
        root("cand-dev-%04d" % i)
        for g in range(gpus):
            child("cand-dev-%04d_0000:%02x:00.0" % (i, g), "@dev", 1)
    sql.append("COMMIT;")
    sock = os.path.join(state, "placement", "mysql.sock")
    subprocess.run(["mariadb", "--no-defaults", f"--socket={sock}", "-u", "root", "placement"],
                   input="\n".join(sql), text=True, check=True)
    # Through the API: one host of each model as Placement sees it.
    rps = p.call("GET", "/resource_providers?name=cand-dev-0000")["resource_providers"]
    tree = p.call("GET", f"/resource_providers?in_tree={rps[0]['uuid']}")["resource_providers"]
    inv = p.call("GET", f"/resource_providers/{tree[-1]['uuid']}/inventories")["inventories"]
    return {"dev_tree_size": len(tree), "dev_child_inventory": inv}


def candidates_query(kind, n):
    base = "DISK_GB:10,MEMORY_MB:1024,VCPU:1"
    if kind == "vcpu":
        q = "resources=" + base
    elif kind == "pool":
        q = f"resources=CUSTOM_PGPU_CAND_POOL:{n}," + base
    else:
        q = "resources=" + base + "".join(f"&resources{g}=CUSTOM_PCI_CAND_DEV:1" for g in range(1, n + 1))
        q += "&group_policy=isolate"
    return "/allocation_candidates?" + q + "&limit=1000"


def run_candidates(p, sizes, timeout, label, results, kinds=("vcpu", "pool", "dev")):
    rows = []
    for kind in kinds:
        for n in ([1] if kind == "vcpu" else sizes):
            path = candidates_query(kind, n)
            times, body = [], None
            try:
                t = time.time()
                body = p.call("GET", path, timeout=timeout, raw=True)  # warm-up
                warm = time.time() - t
                for _ in range(3 if warm < 10 else 0):  # a slow query: the one run is the figure
                    t = time.time()
                    body = p.call("GET", path, timeout=timeout, raw=True)
                    times.append(time.time() - t)
                times = times or [warm]
            except (OSError, RuntimeError) as e:
                rows.append({"placement": label, "kind": kind, "gpus": n, "error": str(e)[:120]})
                say(f"{label} {kind} {n}: {e}")
                if kind == "dev":
                    break
                continue
            d = json.loads(body)
            hosts = set()
            for ar in d["allocation_requests"]:
                for rp in ar["allocations"]:
                    s = d["provider_summaries"].get(rp, {})
                    hosts.add(s.get("root_provider_uuid", rp))
            row = {"placement": label, "kind": kind, "gpus": n, "median_s": statistics.median(times),
                   "candidates": len(d["allocation_requests"]), "hosts": len(hosts), "bytes": len(body)}
            rows.append(row)
            say(f"{row}")
    results.setdefault("candidates", []).extend(rows)


def sid_placement(a, state, results):
    """Per-device candidates on Debian unstable's Placement (scripts/debian-root.sh sid) with
    max_allocation_candidates and the breadth-first strategy, on a copy of the same database."""
    pdir = os.path.join(state, "placement")
    sock = os.path.join(pdir, "mysql.sock")
    sdir = os.path.join(state, "sid")
    os.makedirs(sdir, exist_ok=True)
    sh = f"mariadb --no-defaults --socket={sock} -u root"
    subprocess.run(f"{sh} -e 'DROP DATABASE IF EXISTS placement_sid; CREATE DATABASE placement_sid' && "
                   f"mariadb-dump --no-defaults --socket={sock} -u root placement | {sh} placement_sid",
                   shell=True, check=True)
    port = subprocess.run([sys.executable, "-c", "import socket; s=socket.socket(); s.bind(('127.0.0.1',0)); "
                           "print(s.getsockname()[1])"], capture_output=True, text=True).stdout.strip()
    with open(os.path.join(sdir, "placement.conf"), "w") as f:
        f.write(f"""[DEFAULT]
debug = false
use_stderr = true
[api]
auth_strategy = noauth2
[placement_database]
connection = mysql+pymysql://root@localhost/placement_sid?unix_socket={sock}&charset=utf8
[placement]
max_allocation_candidates = {a.sid_max_candidates}
allocation_candidates_generation_strategy = breadth-first
""")
    dr = os.path.join(HERE, "debian-root.sh")
    subprocess.run([dr, "ensure", "sid"], check=True, stdout=subprocess.DEVNULL)
    # Debian unstable ships the WSGI module (placement.wsgi.api), not the placement-api
    # script: serve it with wsgiref, one request at a time (enough for timing queries).
    with open(os.path.join(sdir, "serve.py"), "w") as f:
        f.write("import sys\nfrom wsgiref.simple_server import make_server\n"
                "port = int(sys.argv.pop(1))  # oslo.config parses sys.argv on import\n"
                "from placement.wsgi.api import application\n"
                "make_server('127.0.0.1', port, application).serve_forever()\n")
    inner = (f"placement-manage --config-file {sdir}/placement.conf db sync > {sdir}/db-sync.log 2>&1 && "
             f"OS_PLACEMENT_CONFIG_DIR={sdir} exec python3 {sdir}/serve.py {port} > {sdir}/placement.log 2>&1")
    ver = subprocess.run([dr, "run", "sid", "--", "dpkg-query", "-W", "-f", "${Version}", "python3-placement"],
                         capture_output=True, text=True).stdout.strip()
    proc = subprocess.Popen([dr, "run", "sid", "--bind", state, "--", "sh", "-c", inner],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        p = Placement(f"http://127.0.0.1:{port}")
        for _ in range(1200):
            try:
                p.call("GET", "/", timeout=5)
                break
            except (OSError, RuntimeError):
                if proc.poll() is not None:
                    raise RuntimeError(f"sid placement exited; see {sdir}")
                time.sleep(0.5)
        results["sid_placement_version"] = ver
        run_candidates(p, a.sizes, a.timeout, f"sid {ver}", results)
    finally:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        proc.wait()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--agent", required=True)
    ap.add_argument("--state", required=True)
    ap.add_argument("--url", required=True)
    ap.add_argument("--nodes", type=int, default=200)
    ap.add_argument("--interval", type=float, default=10)
    ap.add_argument("--cold-splay", default=None, help="seconds, or auto (as under systemd)")
    ap.add_argument("--steady-intervals", type=int, default=6)
    ap.add_argument("--outage", type=float, default=120)
    ap.add_argument("--gpus", type=int, default=8)
    ap.add_argument("--fixture", default=os.path.join(ROOT, "tests/data/hosts/a100-8x-passthrough.sysfs.txt"))
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--cand-hosts", type=int, default=1000)
    ap.add_argument("--sizes", default="1,2,4,8")
    ap.add_argument("--timeout", type=float, default=120)
    ap.add_argument("--sid-max-candidates", type=int, default=1000)
    ap.add_argument("--phases", default="fleet,candidates,sid")
    ap.add_argument("--no-compute-id", dest="compute_id", action="store_false",
                    help="no nova compute_id file (nova before 2023.1): the agents look their node up by name")
    a = ap.parse_args()
    a.sizes = [int(s) for s in a.sizes.split(",")]
    if a.cold_splay is None:
        a.cold_splay = "auto"
    phases = set(a.phases.split(","))
    results = {"nodes": a.nodes, "interval": a.interval, "workers": a.workers, "nproc": os.cpu_count(),
               "started": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())}
    fl = Fleet(a, a.state, a.url)
    out = os.path.join(a.state, "results.json")
    try:
        if "fleet" in phases:
            fleet_phases(a, fl, results)
        if "candidates" in phases:
            say(f"seeding {a.cand_hosts} pool hosts and {a.cand_hosts} per-device hosts of {a.gpus} GPUs")
            t = time.time()
            results["cand_check"] = seed_candidates(fl.p, a.state, a.cand_hosts, a.gpus)
            results["cand_seed_s"] = time.time() - t
            run_candidates(fl.p, a.sizes, a.timeout, "bookworm 8.0.0", results)
        if "sid" in phases:
            sid_placement(a, a.state, results)
    finally:
        fl.stop()
        with open(out, "w") as f:
            json.dump(results, f, indent=1, sort_keys=True)
        say(f"results in {out}")
    print(json.dumps(results, indent=1, sort_keys=True))


if __name__ == "__main__":
    main()
