#!/usr/bin/python3
"""`nova boot` end to end: real nova (api, conductor, scheduler, two computes),
Placement and RabbitMQ on 127.0.0.1 (scripts/nova-stack.sh), the agent's daemon
for each compute host, its nova config and its generated flavors.

  gpu-a100-8  8 A100s (tests/data/hosts/a100-8x-passthrough.sysfs.txt), host trait
  gpu-a100-4  the same host with 4 of its A100s removed, NO host trait
Each nova-compute runs the fake virt driver tests/e2e/gpu_agent_fake_virt.py,
which reports exactly its fixture's PCI devices; `gpu-agent nova-config` output
is installed for the API (--role api) and for each compute (--role compute)
before the services start; `gpu-agent run` reports each host's pool; the
`openstack` script of `gpu-agent flavors --from-placement` creates the trait and
the 1x/2x/4x/8x flavors. Then (modes):

  smoke  one 1x server ACTIVE, placement and nova's PCI claim agree, delete frees both
  ci     smoke, plus: 1x+2x+4x ACTIVE, the next 2x gets "No valid host" although
         gpu-a100-4 has 4 free GPUs (it lacks the trait); 8x alone ACTIVE, then
         1x "No valid host"; deletes free placement and PCI claims; agent's
         providers/traits and a foreign trait survive nova's periodic updates
  full   ci, plus: a GPU removed from the fixture under a running 4x server (the
         agent's next pass and nova's next periodic update): the server stays
         ACTIVE, a 4x no longer fits, a 2x does; 1x boots until the pool is full
         (boots per minute); the agent's placement requests per pass
  demo   boot the 4x flavor, print the provider tree with allocations and the
         PCI claims; --keep leaves everything running
At every step placement's usage of each pool equals the devices nova's PCI
tracker claimed on that host (cell1's pci_devices), per server too. Where this
nova's code puts OWNER_NOVA on its roots and its scheduler requires it (nova 34,
2026.2: run inside its root, scripts/release-env.sh run newest -- ...), every
root carries it whenever the agent's providers are checked, and every
allocation-candidates query of the scheduler (placement's log) asked for it.

Usage: nova_boot_e2e.py --agent BIN --root REPO [--mode smoke|ci|full|demo]
                        [--state DIR] [--keep]
Exit 0 when every check holds, 1 at the first failure (service log tails printed).
"""
import argparse
import ctypes
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

PY = "/usr/bin/python3"
TRAIT = "CUSTOM_GPU_TENANT_GOLD"
FOREIGN = "CUSTOM_OPERATOR_RACK_R12"
RC = "CUSTOM_PGPU_A100"
GPUS = ["0000:07:00.0", "0000:0f:00.0", "0000:47:00.0", "0000:4e:00.0",
        "0000:87:00.0", "0000:90:00.0", "0000:b7:00.0", "0000:bd:00.0"]
HOST8, HOST4 = "gpu-a100-8", "gpu-a100-4"
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from itest import T0, Fail, check, log, run  # noqa: E402  (tests/support)


def http(method, url, body=None, headers=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers=dict(headers or {}))
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            raw = r.read()
            return r.status, (json.loads(raw) if raw else None)
    except urllib.error.HTTPError as e:
        raw = e.read()
        try:
            return e.code, json.loads(raw)
        except ValueError:
            return e.code, raw.decode(errors="replace")


def die_with_parent():
    # the agent daemons must not outlive this test, even if it is SIGKILLed
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class Stack:
    def __init__(self, env, rc=RC):
        self.rc = rc
        self.placement = env["PLACEMENT_URL"]
        self.nova = env["NOVA_URL"]
        self.image = env["IMAGE_ID"]
        self.cell1 = env["CELL1_DB"]

    def P(self, method, path, body=None, ok=(200, 201, 204)):
        st, b = http(method, self.placement + path, body,
                     {"X-Auth-Token": "admin", "OpenStack-API-Version": "placement 1.39"})
        if ok and st not in ok:
            raise Fail("placement %s %s -> %d %s" % (method, path, st, str(b)[:400]))
        return b

    def N(self, method, path, body=None, ok=(200, 202, 204)):
        st, b = http(method, self.nova + path, body,
                     {"X-Auth-Token": "admin:admin", "OpenStack-API-Version": "compute 2.92"})
        if ok and st not in ok:
            raise Fail("nova %s %s -> %d %s" % (method, path, st, str(b)[:400]))
        return st, b

    def osc_env(self, env):
        """ENV plus what the generated flavors script needs to reach this stack
        with the openstack CLI: no keystone, so admin tokens and endpoints."""
        osc = shutil.which("openstack") or "/usr/bin/openstack"
        # OSC 8 (2026.x) builds an identity v3 client for every `flavor create`
        # (for --project); without a catalog it would find nova's v2.1 at
        # --os-endpoint and refuse ("Service requires API version '3'"): name
        # v3 at an endpoint that answers version discovery. It is never called.
        return dict(env, GPU_AGENT_PYTHON=PY, OS_IDENTITY_ENDPOINT_OVERRIDE=self.nova,
                    GPU_AGENT_OPENSTACK_PLACEMENT="%s --os-auth-type admin_token --os-token admin --os-endpoint %s"
                    % (osc, self.placement),
                    GPU_AGENT_OPENSTACK_COMPUTE="%s --os-auth-type admin_token --os-token admin:admin --os-endpoint %s"
                    " --os-compute-api-version 2.92 --os-identity-api-version 3" % (osc, self.nova))

    # -- placement views
    def providers(self):
        return {p["name"]: p for p in self.P("GET", "/resource_providers")["resource_providers"]}

    def pool(self, host):
        """The agent's pool provider of self.rc under HOST's compute node, or None."""
        rps = self.providers()
        root = rps.get(host)
        if not root:
            return None
        for p in rps.values():
            if p["root_provider_uuid"] == root["uuid"] and p["uuid"] != root["uuid"]:
                inv = self.P("GET", "/resource_providers/%s/inventories" % p["uuid"])["inventories"]
                if self.rc in inv:
                    return dict(p, inventory=inv[self.rc])
        return None

    def usage(self, rp_uuid):
        return self.P("GET", "/resource_providers/%s/usages" % rp_uuid)["usages"].get(self.rc, 0)

    def traits(self, rp_uuid):
        return set(self.P("GET", "/resource_providers/%s/traits" % rp_uuid)["traits"])

    def allocations(self, consumer):
        a = self.P("GET", "/allocations/" + consumer)["allocations"]
        return {rp: v["resources"] for rp, v in a.items()}

    # -- nova's PCI tracker (cell1 DB): what nova-compute claimed
    def pci_claims(self):
        """{host: {address: instance_uuid}} of allocated/claimed devices."""
        db = sqlite3.connect("file:%s?mode=ro" % self.cell1, uri=True, timeout=30)
        try:
            rows = db.execute(
                "SELECT cn.host, pd.address, pd.status, pd.instance_uuid FROM pci_devices pd "
                "JOIN compute_nodes cn ON cn.id = pd.compute_node_id "
                "WHERE pd.deleted = 0 AND cn.deleted = 0").fetchall()
        finally:
            db.close()
        out = {}
        for host, addr, status, inst in rows:
            out.setdefault(host, {})
            if status in ("allocated", "claimed"):
                out[host][addr] = inst
        return out

    def pci_devices(self, host):
        db = sqlite3.connect("file:%s?mode=ro" % self.cell1, uri=True, timeout=30)
        try:
            return db.execute(
                "SELECT pd.address, pd.status FROM pci_devices pd JOIN compute_nodes cn ON cn.id = pd.compute_node_id "
                "WHERE pd.deleted = 0 AND cn.deleted = 0 AND cn.host = ?", (host,)).fetchall()
        finally:
            db.close()

    # -- servers
    def flavor_id(self, name):
        st, b = self.N("GET", "/flavors/detail?is_public=None")
        for f in b["flavors"]:
            if f["name"] == name:
                return f["id"]
        raise Fail("no flavor " + name)

    def boot(self, name, flavor):
        st, b = self.N("POST", "/servers", {"server": {
            "name": name, "imageRef": self.image, "flavorRef": self.flavor_id(flavor), "networks": "none"}})
        return b["server"]["id"]

    def wait(self, sid, want=("ACTIVE", "ERROR"), timeout=180):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            st, b = self.N("GET", "/servers/" + sid, ok=None)
            if st == 404:
                return "DELETED", None
            if b["server"]["status"] in want:
                return b["server"]["status"], b["server"]
            time.sleep(0.25)
        raise Fail("server %s still %s after %d s" % (sid, b["server"]["status"], timeout))

    def delete(self, sid):
        self.N("DELETE", "/servers/" + sid)
        self.wait(sid, want=(), timeout=120)


def nova_source_has(relpath, text):
    """Whether this nova's file RELPATH (under the nova package) contains TEXT:
    what the release does, read from its code rather than its version."""
    p = subprocess.run([PY, "-c", "import importlib.util as u; print(u.find_spec('nova').origin)"],
                       capture_output=True, text=True, check=True)
    with open(os.path.join(os.path.dirname(p.stdout.strip()), relpath), encoding="utf-8") as f:
        return text in f.read()


def derive_fixture(src, dst, drop):
    """SRC without every line that names one of the addresses in DROP."""
    with open(src, encoding="utf-8") as f:
        lines = [l for l in f if not any(a in l for a in drop)]
    tmp = dst + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.writelines(lines)
    os.replace(tmp, dst)  # the fake driver and the agent never see half a file


def agent_conf(path, host, state, placement, trait):
    with open(path, "w", encoding="utf-8") as f:
        f.write("[agent]\ncompute_node_name = %s\nstate_dir = %s\ndefault_pools = false\nretry_max = 2\n%s"
                "[placement]\nauth_type = admin_token\ntoken = admin\nendpoint_override = %s\n"
                "[pool:a100]\nresource_class = %s\nmatch = 10de:20b2\n"
                "[flavors]\nname_template = gpu.{pool}.{n}x\n"
                % (host, state, ("host_traits = %s\n" % TRAIT) if trait else "", placement, RC))
    os.makedirs(state, exist_ok=True)
    return path


class Test:
    def __init__(self, args):
        self.args = args
        self.root = os.path.abspath(args.root)
        self.agent = os.path.abspath(args.agent)
        self.stack_sh = os.path.join(self.root, "scripts", "nova-stack.sh")
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
        self.env.pop("PYTHONPATH", None)
        self.tmp = os.path.abspath(args.state) if args.state else tempfile.mkdtemp(prefix="nova-boot-e2e.")
        os.makedirs(self.tmp, exist_ok=True)
        self.state = os.path.join(self.tmp, "stack")
        self.agents = {}
        self.servers = {}
        self.figures = {}
        # nova 34 (2026.2): nova-compute puts OWNER_NOVA on its root provider and
        # the scheduler requires it there (root_required) once every compute has it
        self.owner_nova = nova_source_has("compute/resource_tracker.py", "os_traits.OWNER_NOVA")
        self.owner_filter = nova_source_has("scheduler/request_filter.py", "def owner_nova_filter")

    # ---------------------------------------------------------------- set-up
    def setup(self, hosts):
        src = os.path.join(self.root, "tests", "data", "hosts", "a100-8x-passthrough.sysfs.txt")
        self.fx = {HOST8: os.path.join(self.tmp, HOST8 + ".sysfs.txt"), HOST4: os.path.join(self.tmp, HOST4 + ".sysfs.txt")}
        derive_fixture(src, self.fx[HOST8], [])
        derive_fixture(src, self.fx[HOST4], GPUS[4:])
        self.hosts = hosts
        self.conf = {}
        for h in hosts:
            # placement's URL is not known yet: nova-config does not need it
            self.conf[h] = agent_conf(os.path.join(self.tmp, h + ".conf"), h, os.path.join(self.tmp, "agent-" + h),
                                      "http://127.0.0.1:9", h == HOST8)
        # nova-config output installed for the API and each compute, before they start
        os.makedirs(os.path.join(self.state, "nova.conf.d"), exist_ok=True)
        run([self.agent, "--config", self.conf[HOST8], "nova-config", "--fixture", self.fx[HOST8], "--role", "api",
             "--format", "ini", "-o", os.path.join(self.state, "nova.conf.d", "50-gpu-agent-pci.conf")], env=self.env)
        for h in hosts:
            d = os.path.join(self.state, "compute", h, "nova.conf.d")
            os.makedirs(d, exist_ok=True)
            run([self.agent, "--config", self.conf[h], "nova-config", "--fixture", self.fx[h], "--role", "compute",
                 "--format", "ini", "-o", os.path.join(d, "50-gpu-agent-pci.conf")], env=self.env)
        check(True, "gpu-agent nova-config installed for nova-api/conductor/scheduler and for %s" % ", ".join(hosts))

        t = time.monotonic()
        senv = dict(self.env, NOVA_STACK_COMPUTES=" ".join("%s=%s" % (h, self.fx[h]) for h in hosts),
                    NOVA_STACK_UPDATE_INTERVAL="10")
        if not self.args.keep:
            senv["NOVA_STACK_WATCH_PID"] = str(os.getpid())
        self.started = True
        p = subprocess.run(["bash", self.stack_sh, "start", self.state], env=senv, stdout=subprocess.PIPE, text=True)
        if p.returncode != 0:
            raise Fail("scripts/nova-stack.sh start failed")
        env = dict(l.split("=", 1) for l in p.stdout.splitlines() if "=" in l)
        self.s = Stack(env)
        self.figures["stack_up_s"] = time.monotonic() - t
        log("     stack up in %.1f s: nova %s, placement %s" % (time.monotonic() - t, self.s.nova, self.s.placement))

        # an operator's trait on the compute node before the agent runs: must survive everything
        root = self.s.providers()[HOST8]
        self.s.P("PUT", "/traits/" + FOREIGN)
        self.s.P("PUT", "/resource_providers/%s/traits" % root["uuid"], {
            "resource_provider_generation": root["generation"], "traits": sorted(self.s.traits(root["uuid"]) | {FOREIGN})})

        for h in hosts:
            agent_conf(self.conf[h], h, os.path.join(self.tmp, "agent-" + h), self.s.placement, h == HOST8)
            logf = open(os.path.join(self.tmp, "agent-%s.log" % h), "w")
            self.agents[h] = subprocess.Popen(
                [self.agent, "--config", self.conf[h], "run", "--fixture", self.fx[h], "--interval", "3", "-v"],
                stdout=logf, stderr=subprocess.STDOUT, env=self.env,
                preexec_fn=None if self.args.keep else die_with_parent)
        self.pools = {}
        for h in hosts:
            want = 8 if h == HOST8 else 4
            self.pools[h] = self.until(lambda: self.pool_with_total(h, want), 60,
                                       "%s: the agent's pool of %d %s under nova's compute node" % (h, want, RC))
        check(TRAIT in self.s.traits(self.s.providers()[HOST8]["uuid"]), "%s carries the host trait %s" % (HOST8, TRAIT))
        if HOST4 in hosts:
            check(TRAIT not in self.s.traits(self.s.providers()[HOST4]["uuid"]), "%s does not" % HOST4)

        # flavors sized from placement, created by the generated openstack script
        script = os.path.join(self.tmp, "flavors.sh")
        run([self.agent, "--config", self.conf[HOST8], "flavors", "--fixture", self.fx[HOST8], "--from-placement",
             "-o", script], env=self.env)
        t = time.monotonic()
        r = run(["bash", script], env=self.s.osc_env(self.env))
        self.figures["flavor_script_s"] = time.monotonic() - t
        check(r.stdout.count(": created") == 4, "the generated openstack script created 4 flavors")
        self.s.P("GET", "/traits/" + TRAIT, ok=(204,))
        self.flavors = {}
        st, b = self.s.N("GET", "/flavors/detail?is_public=None")
        for f in b["flavors"]:
            m = re.match(r"gpu\.a100\.(\d)x$", f["name"])
            if m:
                st, spec = self.s.N("GET", "/flavors/%s/os-extra_specs" % f["id"])
                self.flavors[int(m.group(1))] = (f["name"], spec["extra_specs"])
        check(sorted(self.flavors) == [1, 2, 4, 8] and all(
            s["resources:" + RC] == str(n) and s["trait:" + TRAIT] == "required" and
            s["pci_passthrough:alias"] == "a100:%d" % n for n, (_, s) in self.flavors.items()),
            "flavors gpu.a100.{1,2,4,8}x: resources:%s=N, trait:%s=required, pci_passthrough:alias=a100:N" % (RC, TRAIT))

    def pool_with_total(self, host, total):
        p = self.s.pool(host)
        return p if p and p["inventory"]["total"] == total else None

    def until(self, fn, timeout, what):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            v = fn()
            if v:
                check(True, what)
                return v
            time.sleep(0.5)
        raise Fail("timed out (%d s): %s" % (timeout, what))

    # ---------------------------------------------------------------- checks
    def agree(self, what):
        """placement usage on each pool == devices nova claimed on that host; per server too."""
        claims = self.s.pci_claims()
        for h in self.hosts:
            pool = self.s.pool(h)
            used = self.s.usage(pool["uuid"])
            claimed = len(claims.get(h, {}))
            if used != claimed:
                raise Fail("%s: %s pool usage %d but nova claimed %d PCI devices %s" % (what, h, used, claimed,
                                                                                      sorted(claims.get(h, {}))))
        for name, (sid, n) in self.servers.items():
            a = self.s.allocations(sid)
            on_pool = sum(r.get(RC, 0) for r in a.values())
            devs = [addr for host in claims.values() for addr, inst in host.items() if inst == sid]
            if on_pool != n or len(devs) != n:
                raise Fail("%s: server %s (%dx): %d GPUs in placement, %d PCI devices claimed %s"
                           % (what, name, n, on_pool, len(devs), devs))
        log("ok   placement and nova's PCI claims agree (%s): %s" % (what, ", ".join(
            "%s %d/%d" % (h, self.s.usage(self.s.pool(h)["uuid"]), self.s.pool(h)["inventory"]["total"])
            for h in self.hosts)))

    def boot(self, name, n, expect="ACTIVE"):
        t = time.monotonic()
        sid = self.s.boot(name, self.flavors[n][0])
        status, srv = self.s.wait(sid)
        dt = time.monotonic() - t
        fault = ((srv or {}).get("fault") or {}).get("message", "")
        host = (srv or {}).get("OS-EXT-SRV-ATTR:host")
        if expect == "ACTIVE":
            check(status == "ACTIVE" and host == HOST8, "%s (%dx) ACTIVE on %s in %.1f s" % (name, n, host, dt))
            self.servers[name] = (sid, n)
        else:
            check(status == "ERROR" and "No valid host" in fault and self.s.allocations(sid) == {},
                  "%s (%dx) -> %s: %s (no allocations)" % (name, n, status, fault))
            self.s.delete(sid)
        return sid, dt

    def delete(self, name):
        sid, n = self.servers.pop(name)
        self.s.delete(sid)
        # nova frees them a moment after the server leaves the API (2025.1 more slowly)
        self.until(lambda: self.s.allocations(sid) == {} and
                   all(sid not in h.values() for h in self.s.pci_claims().values()), 30,
                   "deleted %s: its placement allocations and PCI claims are gone" % name)

    def owned_intact(self, what):
        rps = self.s.providers()
        for h in self.hosts:
            pool = self.s.pool(h)
            check(pool is not None and pool["parent_provider_uuid"] == rps[h]["uuid"] and
                  "CUSTOM_GPU_AGENT_MANAGED" in self.s.traits(pool["uuid"]),
                  "%s: %s's pool provider, its parent and marker trait intact" % (what, h))
        t = self.s.traits(rps[HOST8]["uuid"])
        check({TRAIT, FOREIGN, "COMPUTE_NODE"} <= t,
              "%s: %s root keeps the agent's %s, the operator's %s and nova's COMPUTE_NODE"
              % (what, HOST8, TRAIT, FOREIGN))
        if self.owner_nova:
            check(all("OWNER_NOVA" in self.s.traits(rps[h]["uuid"]) for h in self.hosts),
                  "%s: nova's OWNER_NOVA on every compute root (%s), kept by the agent" % (what, ", ".join(self.hosts)))

    def scheduler_asked_owner_nova(self):
        """nova 34's scheduler asked placement for OWNER_NOVA roots on every boot."""
        with open(os.path.join(self.state, "placement", "placement.log"), encoding="utf-8", errors="replace") as f:
            asks = [l for l in f if "placement.requestlog" in l and "GET /allocation_candidates?" in l]
        check(asks and all("root_required=OWNER_NOVA" in l for l in asks),
              "the scheduler's %d allocation candidate queries all had root_required=OWNER_NOVA "
              "(and found the agent's pools under those roots)" % len(asks))

    def periodic_runs(self, host):
        with open(os.path.join(self.state, "logs", "nova-compute-%s.log" % host), encoding="utf-8",
                  errors="replace") as f:
            return sum(1 for l in f if "gpu_agent_fake_virt: periodic:" in l)

    # ---------------------------------------------------------------- scenarios
    def smoke(self):
        t_first = time.monotonic()
        self.boot("vm-1x", 1)
        self.figures["first_active_s"] = time.monotonic() - T0
        self.agree("one 1x server")
        self.delete("vm-1x")
        self.agree("after delete")
        return t_first

    def fill(self):
        self.boot("a-1x", 1)
        self.agree("1x")
        self.boot("a-2x", 2)
        self.agree("1x+2x")
        self.boot("a-4x", 4)
        self.agree("1x+2x+4x")
        # 1 GPU left on gpu-a100-8, 4 free on gpu-a100-4 which lacks the trait
        self.boot("a-2x-full", 2, expect="ERROR")
        self.agree("after No valid host")
        for n in ("a-1x", "a-2x", "a-4x"):
            self.delete(n)
        self.agree("all deleted")
        self.boot("b-8x", 8)
        self.agree("8x")
        self.boot("b-1x-full", 1, expect="ERROR")
        self.delete("b-8x")
        self.agree("8x deleted")

    def periodic(self):
        n0 = {h: self.periodic_runs(h) for h in self.hosts}
        self.boot("p-4x", 4)
        # two update_available_resource periods (10 s) on every host with a server in place;
        # waited for, not slept for: on a loaded machine a period can slip
        deadline = time.monotonic() + 120
        while True:
            n1 = {h: self.periodic_runs(h) for h in self.hosts}
            if all(n1[h] >= n0[h] + 2 for h in self.hosts) or time.monotonic() > deadline:
                break
            time.sleep(1)
        check(all(n1[h] >= n0[h] + 2 for h in self.hosts),
              "nova-compute's periodic update ran meanwhile (%s)" % ", ".join(
                  "%s %d->%d" % (h, n0[h], n1[h]) for h in self.hosts))
        self.owned_intact("after nova's periodic updates")
        self.agree("after periodic updates")
        self.delete("p-4x")

    def gpu_removed(self):
        sid, dt = self.boot("r-4x", 4)
        mine = sorted(a for a, inst in self.s.pci_claims()[HOST8].items() if inst == sid)
        gone = mine[0]
        log("     removing %s (claimed by r-4x) from %s's fixture" % (gone, HOST8))
        n0 = self.periodic_runs(HOST8)
        derive_fixture(self.fx[HOST8], self.fx[HOST8], [gone])
        pool = self.until(lambda: self.pool_with_total(HOST8, 7), 30,
                          "the agent's next pass: %s pool total 8 -> 7 (4 in use)" % HOST8)
        self.until(lambda: self.periodic_runs(HOST8) >= n0 + 2, 40, "nova-compute ran two periodic updates since")
        st, b = self.s.N("GET", "/servers/" + sid)
        check(b["server"]["status"] == "ACTIVE", "r-4x still ACTIVE after its GPU %s disappeared" % gone)
        check(self.s.usage(pool["uuid"]) == 4 and len(self.s.allocations(sid)) == 2,
              "r-4x keeps its allocations (pool usage 4 of 7)")
        self.boot("r-4x-nofit", 4, expect="ERROR")
        self.boot("r-2x", 2)
        self.agree("GPU removed, 4x + 2x running")
        self.boot("r-2x-nofit", 2, expect="ERROR")
        self.delete("r-4x")
        self.delete("r-2x")
        check(self.s.usage(pool["uuid"]) == 0, "everything deleted: pool usage 0")
        derive_fixture(os.path.join(self.root, "tests", "data", "hosts", "a100-8x-passthrough.sysfs.txt"),
                       self.fx[HOST8], [])
        self.until(lambda: self.pool_with_total(HOST8, 8), 30, "GPU back in the fixture: pool total 8 again")

    def rate(self):
        t = time.monotonic()
        for i in range(8):
            self.boot("f-1x-%d" % i, 1)
        dt = time.monotonic() - t
        self.boot("f-1x-full", 1, expect="ERROR")
        self.agree("pool full of 1x servers")
        self.figures["boots_per_min_1x"] = 8 * 60.0 / dt
        self.figures["eight_1x_s"] = dt
        log("     8 x 1x ACTIVE in %.1f s: %.1f boots/min" % (dt, 8 * 60.0 / dt))
        for i in range(8):
            self.delete("f-1x-%d" % i)

    def requests_per_pass(self):
        """From each agent's -v log: how many passes sent how many placement requests."""
        out = {}
        for h in self.hosts:
            with open(os.path.join(self.tmp, "agent-%s.log" % h), encoding="utf-8", errors="replace") as f:
                for line in f:
                    m = re.search(r"pass done: (.*)\((\d+) requests?(?:\(s\))?\)", line)
                    if m:
                        key = "%s: %s requests" % ("no changes" if "no changes" in m.group(1) else "changes", m.group(2))
                        out.setdefault(h, {}).setdefault(key, 0)
                        out[h][key] += 1
        for h, counts in out.items():
            log("     agent %s, passes by placement requests: %s" % (h, ", ".join(
                "%d x %s" % (n, k) for k, n in sorted(counts.items(), key=lambda kv: -kv[1]))))
        return out

    def demo(self):
        log("     booting flavor %s: %s" % (self.flavors[4][0], json.dumps(self.flavors[4][1], sort_keys=True)))
        self.boot("demo-4x", 4)
        self.agree("demo")
        rps = self.s.providers()
        names = {p["uuid"]: n for n, p in rps.items()}
        claims = self.s.pci_claims()
        print("\nProvider tree in placement (allocations per server):")
        for h in self.hosts:
            root = rps[h]
            kids = [p for p in rps.values() if p["parent_provider_uuid"] == root["uuid"]]
            for p, indent in [(root, "")] + [(k, "  └─ ") for k in kids]:
                inv = self.s.P("GET", "/resource_providers/%s/inventories" % p["uuid"])["inventories"]
                use = self.s.P("GET", "/resource_providers/%s/usages" % p["uuid"])["usages"]
                print("%s%s  %s" % (indent, names[p["uuid"]], ", ".join(
                    "%s %d/%d" % (rc, use.get(rc, 0), i["total"] - i["reserved"]) for rc, i in sorted(inv.items()))))
                tr = self.s.traits(p["uuid"])
                nova = sorted(t for t in tr if not t.startswith("CUSTOM_"))
                print("%s    traits: %s%s" % (" " * len(indent), " ".join(sorted(t for t in tr if t.startswith("CUSTOM_"))),
                                             " + %d of nova's (%s, ...)" % (len(nova), nova[0]) if nova else ""))
        for name, (sid, n) in self.servers.items():
            print("server %s (%s): %s" % (name, sid, json.dumps({names[r]: v for r, v in self.s.allocations(sid).items()})))
            print("  nova's PCI claim: %s" % ", ".join(sorted(a for h in claims.values() for a, i in h.items() if i == sid)))

    # ---------------------------------------------------------------- driver
    def main(self):
        mode = self.args.mode
        self.started = False
        try:
            self.setup([HOST8] if mode == "smoke" else [HOST8, HOST4])
            if mode == "demo":
                self.demo()
                return 0
            self.smoke()
            if mode in ("ci", "full"):
                self.fill()
                self.periodic()
            if mode == "full":
                self.gpu_removed()
                self.rate()
            self.owned_intact("at the end")
            self.agree("at the end")
            if self.owner_filter:
                self.scheduler_asked_owner_nova()
            for h, p in self.agents.items():
                check(p.poll() is None, "agent daemon for %s ran throughout" % h)
            self.requests_per_pass()
            figs = {k: round(v, 1) for k, v in self.figures.items() if isinstance(v, float)}
            log("ALL CHECKS PASSED (%s mode) %s" % (mode, json.dumps(figs)))
            return 0
        except Fail as e:
            log("FAIL " + str(e))
            logs = os.path.join(self.state, "logs")
            for name in sorted(os.listdir(logs)) if os.path.isdir(logs) else []:
                if name.startswith("nova-") or name == "stub.log":
                    with open(os.path.join(logs, name), encoding="utf-8", errors="replace") as f:
                        lines = [l for l in f if " ERROR " in l or "Traceback" in l]
                    if lines:
                        print("--- errors in %s:\n%s" % (name, "".join(lines[-15:])))
            for h in self.agents:
                with open(os.path.join(self.tmp, "agent-%s.log" % h), encoding="utf-8", errors="replace") as f:
                    print("--- tail of agent-%s.log:\n%s" % (h, f.read()[-2000:]))
            return 1
        finally:
            if not self.args.keep:
                for p in self.agents.values():
                    if p.poll() is None:
                        p.terminate()
                for p in self.agents.values():
                    try:
                        p.wait(timeout=15)
                    except subprocess.TimeoutExpired:
                        p.kill()
                if self.started:
                    subprocess.run(["bash", self.stack_sh, "stop", self.state], capture_output=True, env=self.env)
                if not self.args.state:
                    shutil.rmtree(self.tmp, ignore_errors=True)
            else:
                print("\nleft running (--keep): state in %s; stop with\n  scripts/nova-stack.sh stop %s\n"
                      "  kill %s   # the agent daemons" % (self.tmp, self.state,
                                                         " ".join(str(p.pid) for p in self.agents.values())))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--agent", required=True)
    ap.add_argument("--root", required=True)
    ap.add_argument("--mode", choices=("smoke", "ci", "full", "demo"), default="full")
    ap.add_argument("--state")
    ap.add_argument("--keep", action="store_true")
    return Test(ap.parse_args()).main()


if __name__ == "__main__":
    sys.exit(main())
