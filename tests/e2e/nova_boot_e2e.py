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
import json
import os
import re
import sys
import time

TRAIT = "CUSTOM_GPU_TENANT_GOLD"
FOREIGN = "CUSTOM_OPERATOR_RACK_R12"
RC = "CUSTOM_PGPU_A100"
GPUS = ["0000:07:00.0", "0000:0f:00.0", "0000:47:00.0", "0000:4e:00.0",
        "0000:87:00.0", "0000:90:00.0", "0000:b7:00.0", "0000:bd:00.0"]
HOST8, HOST4 = "gpu-a100-8", "gpu-a100-4"
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from itest import T0, Fail, check, log, run  # noqa: E402  (tests/support)
from nova_e2e import NovaE2E, nova_source_has, until  # noqa: E402


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


class Test(NovaE2E):
    prefix = "nova-boot-e2e."

    def __init__(self, args):
        super().__init__(args)
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
        self.install_nova_config((self.conf[HOST8], self.fx[HOST8]), {h: (self.conf[h], self.fx[h]) for h in hosts})
        check(True, "gpu-agent nova-config installed for nova-api/conductor/scheduler and for %s" % ", ".join(hosts))
        self.figures["stack_up_s"] = self.start_stack({h: self.fx[h] for h in hosts}, RC)

        # an operator's trait on the compute node before the agent runs: must survive everything
        root = self.s.providers()[HOST8]
        self.s.P("PUT", "/traits/" + FOREIGN)
        self.s.P("PUT", "/resource_providers/%s/traits" % root["uuid"], {
            "resource_provider_generation": root["generation"], "traits": sorted(self.s.traits(root["uuid"]) | {FOREIGN})})

        for h in hosts:
            agent_conf(self.conf[h], h, os.path.join(self.tmp, "agent-" + h), self.s.placement, h == HOST8)
            self.start_agent(h, self.conf[h], self.fx[h], 3)
        self.pools = {}
        for h in hosts:
            want = 8 if h == HOST8 else 4
            self.pools[h] = until(lambda: self.pool_with_total(h, want), 60,
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
        until(lambda: self.s.allocations(sid) == {} and
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
        pool = until(lambda: self.pool_with_total(HOST8, 7), 30,
                          "the agent's next pass: %s pool total 8 -> 7 (4 in use)" % HOST8)
        until(lambda: self.periodic_runs(HOST8) >= n0 + 2, 40, "nova-compute ran two periodic updates since")
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
        until(lambda: self.pool_with_total(HOST8, 8), 30, "GPU back in the fixture: pool total 8 again")

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
        self.s.print_tree(self.hosts, self.servers, self.s.pci_claims(), nova_traits=True)

    # ---------------------------------------------------------------- driver
    def body(self):
        mode = self.args.mode
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
        self.agents_ran_throughout()
        self.requests_per_pass()
        figs = {k: round(v, 1) for k, v in self.figures.items() if isinstance(v, float)}
        log("ALL CHECKS PASSED (%s mode) %s" % (mode, json.dumps(figs)))
        return 0


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
