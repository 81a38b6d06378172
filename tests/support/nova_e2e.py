"""What the end-to-end tests on a whole nova share (tests/e2e/nova_boot_e2e.py,
tests/e2e/lifecycle_e2e.py): the stack of scripts/nova-stack.sh with the agent's
nova config installed before it starts, an agent daemon per compute host, nova's
and Placement's views of the servers (and how to wait for them), the failure
report and the clean-up. Standard library only: nova's code is read, never
imported, so the tests run under any release's /usr/bin/python3 (on the host for
Zed, inside a root of scripts/debian-root.sh for the others)."""
import ctypes
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

from itest import Fail, check, log, run

PY = "/usr/bin/python3"


def http(method, url, body=None, headers=None):
    """(status, parsed JSON body or text) of one request; HTTP errors are returned, not raised."""
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
    """preexec_fn: the child gets SIGTERM when the test dies, even by SIGKILL."""
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def nova_source_has(relpath, text):
    """Whether this nova's file RELPATH (under the nova package) contains TEXT:
    what the release does, read from its code rather than its version."""
    p = subprocess.run([PY, "-c", "import importlib.util as u; print(u.find_spec('nova').origin)"],
                       capture_output=True, text=True, check=True)
    with open(os.path.join(os.path.dirname(p.stdout.strip()), relpath), encoding="utf-8") as f:
        return text in f.read()


def until(fn, timeout, what, quiet=False):
    """FN's first true value within TIMEOUT seconds (checked as WHAT unless QUIET), else Fail."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = fn()
        if v:
            if not quiet:
                check(True, what)
            return v
        time.sleep(0.5)
    raise Fail("timed out (%d s): %s" % (timeout, what))


class Stack:
    """A running stack (scripts/nova-stack.sh's env): Placement, nova's API and
    cell1's database, for pools of resource class RC."""

    def __init__(self, env, rc):
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
        # v3 at an endpoint that answers version discovery (nothing else is asked).
        return dict(env, GPU_AGENT_PYTHON=PY, OS_IDENTITY_ENDPOINT_OVERRIDE=self.nova,
                    GPU_AGENT_OPENSTACK_PLACEMENT="%s --os-auth-type admin_token --os-token admin --os-endpoint %s"
                    % (osc, self.placement),
                    GPU_AGENT_OPENSTACK_COMPUTE="%s --os-auth-type admin_token --os-token admin:admin --os-endpoint %s"
                    " --os-compute-api-version 2.92 --os-identity-api-version 3" % (osc, self.nova))

    # -- placement views
    def providers(self):
        return {p["name"]: p for p in self.P("GET", "/resource_providers")["resource_providers"]}

    def pool(self, host):
        """The agent's pool provider of self.rc under HOST's compute node (with
        its inventory of self.rc), or None."""
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
    def pci_rows(self, host=None):
        """(host, address, status, instance_uuid) of every PCI device nova tracks (on HOST)."""
        db = sqlite3.connect("file:%s?mode=ro" % self.cell1, uri=True, timeout=30)
        try:
            return db.execute(
                "SELECT cn.host, pd.address, pd.status, pd.instance_uuid FROM pci_devices pd "
                "JOIN compute_nodes cn ON cn.id = pd.compute_node_id "
                "WHERE pd.deleted = 0 AND cn.deleted = 0" + (" AND cn.host = ?" if host else ""),
                (host,) if host else ()).fetchall()
        finally:
            db.close()

    def pci_claims(self):
        """{host: {address: instance_uuid}} of allocated/claimed devices."""
        out = {}
        for host, addr, status, inst in self.pci_rows():
            out.setdefault(host, {})
            if status in ("allocated", "claimed"):
                out[host][addr] = inst
        return out

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
        """(status, server) once SID's status is in WANT; ("DELETED", None) once it is gone."""
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

    def print_tree(self, hosts, servers, claims, nova_traits=False):
        """Each host's provider tree with inventories, usages and traits, then
        each server's allocations and PCI claim (the demos)."""
        rps = self.providers()
        names = {p["uuid"]: n for n, p in rps.items()}
        print("\nProvider tree in placement (allocations per server):")
        for h in hosts:
            root = rps[h]
            kids = [p for p in rps.values() if p["parent_provider_uuid"] == root["uuid"]]
            for p, indent in [(root, "")] + [(k, "  └─ ") for k in kids]:
                inv = self.P("GET", "/resource_providers/%s/inventories" % p["uuid"])["inventories"]
                use = self.P("GET", "/resource_providers/%s/usages" % p["uuid"])["usages"]
                print("%s%s  %s" % (indent, names[p["uuid"]], ", ".join(
                    "%s %d/%d" % (rc, use.get(rc, 0), i["total"] - i["reserved"]) for rc, i in sorted(inv.items()))))
                tr = self.traits(p["uuid"])
                custom = " ".join(sorted(t for t in tr if t.startswith("CUSTOM_")))
                nova = sorted(t for t in tr if not t.startswith("CUSTOM_"))
                more = " + %d of nova's (%s, ...)" % (len(nova), nova[0]) if nova and nova_traits else ""
                if custom or more:
                    print("%s    traits: %s%s" % (" " * len(indent), custom, more))
        for name, (sid, n) in servers.items():
            print("server %s (%s): %s" % (name, sid, json.dumps({names[r]: v for r, v in self.allocations(sid).items()})))
            print("  nova's PCI claim: %s" % ", ".join(sorted(a for c in claims.values() for a, i in c.items()
                                                             if i == sid)))


class NovaE2E:
    """The frame of an end-to-end test: ARGS has agent, root, state, keep. The
    subclass's body() runs between set-up and clean-up inside main()."""

    prefix = "nova-e2e."

    def __init__(self, args):
        self.args = args
        self.root = os.path.abspath(args.root)
        self.agent = os.path.abspath(args.agent)
        self.stack_sh = os.path.join(self.root, "scripts", "nova-stack.sh")
        # no OS_* (OS_NOVA_DISABLE_EVENTLET_PATCHING from CTest, an operator's
        # OS_CLOUD) and no PYTHONPATH reach nova, the agent or the openstack CLI
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
        self.env.pop("PYTHONPATH", None)
        self.tmp = os.path.abspath(args.state) if args.state else tempfile.mkdtemp(prefix=self.prefix)
        os.makedirs(self.tmp, exist_ok=True)
        self.state = os.path.join(self.tmp, "stack")
        self.agents = {}     # host -> Popen of its agent daemon
        self.servers = {}    # name -> (server id, GPUs)
        self.started = False

    def install_nova_config(self, api, computes, extra=""):
        """`gpu-agent nova-config` output for nova-api/conductor/scheduler (API:
        (agent config, fixture), --role api) and for each compute host
        (COMPUTES: {host: (agent config, fixture)}, --role compute), installed
        before the services start as on a real deployment; EXTRA, nova.conf
        text, beside each."""
        targets = [(os.path.join(self.state, "nova.conf.d"), "api") + api]
        targets += [(os.path.join(self.state, "compute", h, "nova.conf.d"), "compute") + cf
                    for h, cf in computes.items()]
        for d, role, conf, fixture in targets:
            os.makedirs(d, exist_ok=True)
            run([self.agent, "--config", conf, "nova-config", "--fixture", fixture, "--role", role,
                 "--format", "ini", "-o", os.path.join(d, "50-gpu-agent-pci.conf")], env=self.env)
            if extra:
                with open(os.path.join(d, "40-e2e.conf"), "w", encoding="utf-8") as f:
                    f.write(extra)

    def start_stack(self, fixtures, rc):
        """scripts/nova-stack.sh start with one compute per FIXTURES {host: file}
        (nova-compute's periodic update every 10 s); self.s is its Stack. The
        stack stops itself when this process exits, unless --keep."""
        t = time.monotonic()
        senv = dict(self.env, NOVA_STACK_COMPUTES=" ".join("%s=%s" % hf for hf in fixtures.items()),
                    NOVA_STACK_UPDATE_INTERVAL="10")
        if not self.args.keep:
            senv["NOVA_STACK_WATCH_PID"] = str(os.getpid())
        self.started = True
        p = subprocess.run(["bash", self.stack_sh, "start", self.state], env=senv, stdout=subprocess.PIPE, text=True)
        if p.returncode != 0:
            raise Fail("scripts/nova-stack.sh start failed")
        self.s = Stack(dict(l.split("=", 1) for l in p.stdout.splitlines() if "=" in l), rc)
        dt = time.monotonic() - t
        log("     stack up in %.1f s: nova %s, placement %s" % (dt, self.s.nova, self.s.placement))
        return dt

    def agent_log(self, host):
        return os.path.join(self.tmp, "agent-%s.log" % host)

    def start_agent(self, host, conf, fixture, interval):
        """HOST's `gpu-agent run` daemon (-v, its log appended to agent-HOST.log)."""
        logf = open(self.agent_log(host), "a")
        self.agents[host] = subprocess.Popen(
            [self.agent, "--config", conf, "run", "--fixture", fixture, "--interval", str(interval), "-v"],
            stdout=logf, stderr=subprocess.STDOUT, env=self.env,
            preexec_fn=None if self.args.keep else die_with_parent)

    def agent_lines(self, host):
        with open(self.agent_log(host), encoding="utf-8", errors="replace") as f:
            return [l.rstrip("\n") for l in f]

    def agents_ran_throughout(self):
        for h, p in self.agents.items():
            check(p.poll() is None, "agent daemon for %s ran throughout" % h)

    def main(self):
        """body() between set-up and clean-up: 0 when every check held, 1 at the
        first Fail (with the errors in nova's logs and each agent's log tail)."""
        try:
            return self.body()
        except Fail as e:
            log("FAIL " + str(e))
            self.report_failure()
            return 1
        finally:
            self.clean_up()

    def body(self):
        raise NotImplementedError

    def report_failure(self):
        logs = os.path.join(self.state, "logs")
        for name in sorted(os.listdir(logs)) if os.path.isdir(logs) else []:
            if name.startswith("nova-") or name == "stub.log":
                with open(os.path.join(logs, name), encoding="utf-8", errors="replace") as f:
                    lines = [l for l in f if " ERROR " in l or "Traceback" in l]
                if lines:
                    print("--- errors in %s:\n%s" % (name, "".join(lines[-15:])))
        for h in self.agents:
            print("--- tail of agent-%s.log:\n%s" % (h, "\n".join(self.agent_lines(h)[-20:])))

    def clean_up(self):
        if self.args.keep:
            print("\nleft running (--keep): state in %s; stop with\n  scripts/nova-stack.sh stop %s\n"
                  "  kill %s   # the agent daemons" % (self.tmp, self.state,
                                                     " ".join(str(p.pid) for p in self.agents.values())))
            return
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
