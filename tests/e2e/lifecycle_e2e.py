#!/usr/bin/python3
"""GPU servers through their whole life, end to end, on a zoo server with the
agent's DEFAULT config (no [pool:*]): real nova (api, conductor, scheduler, two
computes), Placement and RabbitMQ on 127.0.0.1 (scripts/nova-stack.sh).

Both compute hosts, hgx-a and hgx-b, are the zoo's HGX H100 8-GPU server
(tests/data/hosts/zoo/hgx-h100-8x-aspeed-nvswitch-pcistub.sysfs.txt) with the
fix `gpu-agent inventory` gives for it applied: its H100s bound to vfio-pci
instead of pci-stub (the ASPEED BMC VGA and the NVSwitches stay as captured).
Each runs `gpu-agent run` with a config that names only the compute node, the
state dir and Placement; `gpu-agent nova-config` output is installed for the
API and each compute, and `gpu-agent flavors --from-placement` creates the
flavors. Scenarios (--mode full, the default):

  concurrent   18 1x servers requested at once for 16 free GPUs: exactly 16
               ACTIVE, 2 "No valid host", no GPU claimed twice
  resize       1x -> 2x confirm, 2x -> 1x revert, 2x -> 1x confirm
               (allow_resize_to_same_host = true)
  migrate      cold migrate to the other host: revert, then confirm
  evacuate     the source nova-compute stopped and forced down, two of its three
               servers evacuated; its restart frees what they held there, the
               third keeps its GPU
  shelve       shelve (offloaded at once) frees the GPUs, unshelve claims again
  live         live migration of a GPU server: what this nova release says
               (recorded; the server must stay where it is, unchanged)
  restarts     the agent restarted and SIGHUP'd while servers run (nova-compute
               restarted with a server running: in evacuate)
  shrink       default_pools = false while servers hold GPUs (the pool kept
               with reserved = total, nothing new lands), a server deleted,
               default pools back (grown to 8 again)
--mode demo boots a 4x server and prints the provider tree with the
allocations and nova's PCI claims (scripts/demo-nova-boot.sh); --keep leaves
everything running.

After every step: placement's usage of each host's pool equals the devices
nova's PCI tracker claimed on that host (cell1's pci_devices), no device is
claimed twice, every server that is not mid-move holds exactly its flavor's
GPUs in both, and each agent's next pass makes no write (only the config
changes of `shrink` may write, and do exactly what they should).

Usage: lifecycle_e2e.py --agent BIN --root REPO [--mode full|demo] [--state DIR]
                        [--keep] [--figures FILE]
Exit 0 when every check holds, 1 at the first failure (service log tails printed).
"""
import argparse
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from itest import T0, Fail, check, log, run  # noqa: E402  (tests/support)
from nova_e2e import PY, NovaE2E, until  # noqa: E402

ZOO = os.path.join("tests", "data", "hosts", "zoo", "hgx-h100-8x-aspeed-nvswitch-pcistub.sysfs.txt")
GPU_ID = "10de:2330"
RC = "CUSTOM_PGPU_10DE_2330"
HOSTS = ["hgx-a", "hgx-b"]
PER_HOST = 8


def rebind_to_vfio(src, dst):
    """The zoo fixture with `gpu-agent inventory`'s fix applied: every H100
    (class 0x030200, 10de:2330) bound to vfio-pci instead of pci-stub."""
    with open(src, encoding="utf-8") as f:
        lines = f.readlines()
    cls, dev = {}, {}
    for l in lines:
        m = re.match(r"f devices/.*/([0-9a-f:.]+)/(class|device) = (\S+)", l)
        if m:
            (cls if m.group(2) == "class" else dev)[m.group(1)] = m.group(3)
    gpus = sorted(a for a in cls if cls[a].startswith("0x0302") and dev.get(a) == "0x2330")
    out = []
    for l in lines:
        if "pci-stub" in l and not l.startswith("#") and any(a in l for a in gpus):
            l = l.replace("drivers/pci-stub", "drivers/vfio-pci")
        out.append(l)
    with open(dst + ".tmp", "w", encoding="utf-8") as f:
        f.writelines(out)
    os.replace(dst + ".tmp", dst)
    return gpus


def agent_conf(path, host, state, placement, extra=""):
    """The default config: the compute node, the state dir, Placement. No pool."""
    with open(path + ".tmp", "w", encoding="utf-8") as f:
        f.write("[agent]\ncompute_node_name = %s\nstate_dir = %s\nretry_max = 2\n%s"
                "[placement]\nauth_type = admin_token\ntoken = admin\nendpoint_override = %s\n"
                % (host, state, extra, placement))
    os.replace(path + ".tmp", path)
    os.makedirs(state, exist_ok=True)
    return path


class Lifecycle(NovaE2E):
    prefix = "lifecycle-e2e."

    def __init__(self, args):
        super().__init__(args)
        self.times = {}      # operation -> [seconds]
        self.notes = {}

    # ---------------------------------------------------------------- helpers
    def timed(self, op, t0):
        dt = time.monotonic() - t0
        self.times.setdefault(op, []).append(dt)
        return dt

    def stack(self, *argv):
        p = subprocess.run(["bash", self.stack_sh] + list(argv), env=self.env, capture_output=True, text=True)
        if p.returncode != 0:
            raise Fail("scripts/nova-stack.sh %s exited %d: %s" % (" ".join(argv), p.returncode, p.stderr[-2000:]))

    def start_agent_of(self, h):
        self.start_agent(h, self.conf[h], self.fx[h], 1)

    def passes(self, h):
        return [l for l in self.agent_lines(h) if "pass done: " in l]

    def next_passes(self, what):
        """Each agent's next complete pass after now writes nothing."""
        for h in HOSTS:
            n0 = len(self.passes(h))
            # the pass that may be running now read placement before this step ended: wait for two
            until(lambda: len(self.passes(h)) >= n0 + 2, 60, "", quiet=True)
            got = self.passes(h)[n0 + 1]
            if "no changes" not in got:
                raise Fail("%s: %s's agent wrote something: %s\n%s" % (
                    what, h, got, "\n".join(self.agent_lines(h)[-15:])))
        log("ok   %s: each agent's next pass wrote nothing" % what)

    def wrote(self, h, mark, want, what):
        """H's agent logged the write WANT after line MARK of its log, and no other write."""
        def found():
            lines = self.agent_lines(h)[mark:]
            return [l for l in lines if want in l]
        got = until(found, 60, "", quiet=True)
        writes = [l for l in self.agent_lines(h)[mark:] if " INFO " in l and "pass done" not in l]
        check(writes and all(want in l for l in writes),
              "%s: %s's agent wrote exactly what it should: %s" % (what, h, got[0].split(" INFO ")[-1]))
        self.next_passes(what)

    # ---------------------------------------------------------------- checks
    def agree(self, what, moving=(), settle=30):
        """Usage == nova's PCI claims on every host, nothing claimed twice, each
        server not in MOVING holds its flavor's GPUs in placement and in nova.
        nova itself is not atomic here (a deleted server is gone from the API and
        placement a moment before nova-compute frees its PCI claim): a mismatch
        must settle within SETTLE seconds."""
        end = time.monotonic() + settle
        while True:
            try:
                return self.agree_now(what, moving)
            except Fail:
                if time.monotonic() > end:
                    raise
                time.sleep(0.5)

    def agree_now(self, what, moving):
        rows = self.s.pci_rows()
        seen, claims = set(), {h: {} for h in HOSTS}
        for host, addr, status, inst in rows:
            if (host, addr) in seen:
                raise Fail("%s: %s %s appears twice in nova's PCI devices" % (what, host, addr))
            seen.add((host, addr))
            if status in ("allocated", "claimed"):
                claims.setdefault(host, {})[addr] = inst
        out = []
        for h in HOSTS:
            pool = self.s.pool(h)
            used = self.s.usage(pool["uuid"]) if pool else 0
            if used != len(claims[h]):
                raise Fail("%s: %s pool usage %d but nova claimed %d PCI devices %s" % (
                    what, h, used, len(claims[h]), sorted(claims[h].items())))
            out.append("%s %d/%d" % (h, used, pool["inventory"]["total"] - pool["inventory"]["reserved"]
                                     if pool else 0))
        for name, (sid, n) in self.servers.items():
            if name in moving:
                continue
            a = self.s.allocations(sid)
            on_pool = sum(r.get(RC, 0) for r in a.values())
            devs = [(h, addr) for h, c in claims.items() for addr, inst in c.items() if inst == sid]
            hosts = {h for h, _ in devs}
            if on_pool != n or len(devs) != n or len(hosts) != 1:
                raise Fail("%s: server %s (%dx): %d GPUs in placement, PCI devices claimed %s"
                           % (what, name, n, on_pool, devs))
        log("ok   %s: placement usage = nova's PCI claims, no GPU claimed twice (%s)" % (what, ", ".join(out)))
        return claims

    def step_done(self, what, moving=()):
        claims = self.agree(what, moving)
        self.next_passes(what)
        return claims

    # ---------------------------------------------------------------- nova
    def server(self, sid):
        st, b = self.s.N("GET", "/servers/" + sid, ok=None)
        return None if st == 404 else b["server"]

    def host_of(self, name):
        return self.server(self.servers[name][0])["OS-EXT-SRV-ATTR:host"]

    def wait_state(self, sid, status, task=None, timeout=240):
        end = time.monotonic() + timeout
        srv = None
        while time.monotonic() < end:
            srv = self.server(sid)
            if srv and srv["status"] == status and srv.get("OS-EXT-STS:task_state") == task:
                return srv
            if srv and srv["status"] == "ERROR" and status != "ERROR":
                raise Fail("server %s went to ERROR: %s" % (sid, (srv.get("fault") or {}).get("message")))
            time.sleep(0.3)
        raise Fail("server %s: not %s after %d s (%s, task %s)" % (
            sid, status, timeout, srv and srv["status"], srv and srv.get("OS-EXT-STS:task_state")))

    def action(self, name, body, status, task=None, op=None):
        sid = self.servers[name][0]
        t = time.monotonic()
        self.s.N("POST", "/servers/%s/action" % sid, body)
        srv = self.wait_state(sid, status, task)
        if op:
            self.timed(op, t)
        return srv

    def boot(self, name, n, expect="ACTIVE", host=None):
        t = time.monotonic()
        if host:  # 2.74: an admin names the host, the scheduler still checks it
            st, b = self.s.N("POST", "/servers", {"server": {
                "name": name, "imageRef": self.s.image, "flavorRef": self.s.flavor_id(self.flavor[n]),
                "networks": "none", "host": host}})
            sid = b["server"]["id"]
        else:
            sid = self.s.boot(name, self.flavor[n])
        status, srv = self.s.wait(sid, timeout=240)
        if expect == "ACTIVE":
            check(status == "ACTIVE", "%s (%dx) ACTIVE on %s in %.1f s" % (
                name, n, srv["OS-EXT-SRV-ATTR:host"], self.timed("boot %dx" % n, t)))
            self.servers[name] = (sid, n)
        else:
            fault = ((srv or {}).get("fault") or {}).get("message", "")
            check(status == "ERROR" and "No valid host" in fault and self.s.allocations(sid) == {},
                  "%s (%dx) -> %s: %s (no allocations)" % (name, n, status, fault))
            self.s.delete(sid)
        return sid

    def delete(self, *names):
        t = time.monotonic()
        for name in names:
            self.s.N("DELETE", "/servers/" + self.servers[name][0])
        for name in names:
            sid = self.servers.pop(name)[0]
            self.s.wait(sid, want=(), timeout=180)
            check(self.s.allocations(sid) == {}, "deleted %s: no allocations left" % name)
        self.timed("delete", t)

    def service(self, host):
        st, b = self.s.N("GET", "/os-services?binary=nova-compute&host=" + host)
        return b["services"][0]

    # ---------------------------------------------------------------- set-up
    def setup(self):
        src = os.path.join(self.root, ZOO)
        self.fx, self.conf = {}, {}
        for h in HOSTS:
            self.fx[h] = os.path.join(self.tmp, h + ".sysfs.txt")
            self.gpus = rebind_to_vfio(src, self.fx[h])
            self.conf[h] = agent_conf(os.path.join(self.tmp, h + ".conf"), h, os.path.join(self.tmp, "agent-" + h),
                                      "http://127.0.0.1:9")
        check(len(self.gpus) == PER_HOST, "zoo HGX H100 with its %d H100s on vfio-pci, default config (no [pool:*])"
              % len(self.gpus))
        self.install_nova_config((self.conf[HOSTS[0]], self.fx[HOSTS[0]]),
                                 {h: (self.conf[h], self.fx[h]) for h in HOSTS},
                                 extra="[DEFAULT]\nallow_resize_to_same_host = true\n")
        with open(os.path.join(self.state, "nova.conf.d", "50-gpu-agent-pci.conf")) as f:
            alias = f.read()
        check('"name": "10de_2330"' in alias, "nova-config with the default config: alias 10de_2330, "
              "installed for nova-api/conductor/scheduler and both computes")

        self.times.setdefault("stack start", []).append(self.start_stack({h: self.fx[h] for h in HOSTS}, RC))
        for h in HOSTS:
            agent_conf(self.conf[h], h, os.path.join(self.tmp, "agent-" + h), self.s.placement)
            self.start_agent_of(h)
        for h in HOSTS:
            until(lambda: (self.s.pool(h) or {}).get("inventory", {}).get("total") == PER_HOST, 60,
                       "%s: the agent's default pool of %d %s under nova's compute node" % (h, PER_HOST, RC))
        t = time.monotonic()
        if self.args.mode == "demo":
            # as an operator would: the generated script of `openstack` commands
            script = os.path.join(self.tmp, "flavors.sh")
            run([self.agent, "--config", self.conf[HOSTS[0]], "flavors", "--fixture", self.fx[HOSTS[0]],
                 "--from-placement", "-o", script], env=self.env)
            run(["bash", script], env=self.s.osc_env(self.env))
        else:
            # the same flavors from --format json through nova's API (the openstack CLI's
            # start-up costs a minute here; nova_boot_e2e runs the script)
            p = run([self.agent, "--config", self.conf[HOSTS[0]], "flavors", "--fixture", self.fx[HOSTS[0]],
                     "--from-placement", "--format", "json"], env=self.env)
            for f in json.loads(p.stdout)["flavors"]:
                self.s.N("POST", "/flavors", {"flavor": {
                    "name": f["name"], "id": f["id"], "vcpus": f["vcpus"], "ram": f["ram"], "disk": f["disk"],
                    "OS-FLV-EXT-DATA:ephemeral": f["ephemeral"], "swap": f["swap"],
                    "os-flavor-access:is_public": f["is_public"]}})
                self.s.N("POST", "/flavors/%s/os-extra_specs" % f["id"], {"extra_specs": f["extra_specs"]})
        self.timed("flavors created", t)
        self.flavor = {}
        st, b = self.s.N("GET", "/flavors/detail?is_public=None")
        for f in b["flavors"]:
            st, spec = self.s.N("GET", "/flavors/%s/os-extra_specs" % f["id"])
            n = spec["extra_specs"].get("resources:" + RC)
            if n and spec["extra_specs"].get("pci_passthrough:alias") == "10de_2330:%s" % n:
                self.flavor[int(n)] = f["name"]
        check(sorted(self.flavor) == [1, 2, 4, 8], "flavors from `gpu-agent flavors`: %s" % ", ".join(
            self.flavor[n] for n in sorted(self.flavor)))
        self.step_done("set-up")

    # ---------------------------------------------------------------- scenarios
    def concurrent(self):
        want = len(HOSTS) * PER_HOST
        n = want + 2
        ids, errs = [None] * n, []

        def one(i):
            try:
                ids[i] = self.s.boot("c-%02d" % i, self.flavor[1])
            except Exception as e:  # noqa: BLE001  (reported below)
                errs.append("c-%02d: %s" % (i, e))

        t = time.monotonic()
        threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        check(not errs, "%d 1x boots requested at once, nova-api accepted all" % n)
        final = {}
        end = time.monotonic() + 420
        while len(final) < n and time.monotonic() < end:
            st, b = self.s.N("GET", "/servers/detail?name=c-")
            for srv in b["servers"]:
                if srv["status"] in ("ACTIVE", "ERROR"):
                    final[srv["id"]] = srv
            time.sleep(1)
        dt = self.timed("%d concurrent 1x boots, all settled" % n, t)
        if len(final) < n:
            raise Fail("concurrent boots: only %d of %d settled" % (len(final), n))
        active = [s for s in final.values() if s["status"] == "ACTIVE"]
        # nova sets ERROR first and records the fault after: read them again
        time.sleep(2)
        errors = [self.server(s["id"]) for s in final.values() if s["status"] == "ERROR"]
        check(len(active) == want and len(errors) == 2 and
              all("No valid host" in (s.get("fault") or {}).get("message", "") for s in errors) and
              all(self.s.allocations(s["id"]) == {} for s in errors),
              "%d concurrent 1x boots for %d GPUs settled in %.1f s: exactly %d ACTIVE (%s), %d No valid host" % (
                  n, want, dt, len(active), ", ".join("%s %d" % (h, sum(1 for s in active
                                                                       if s["OS-EXT-SRV-ATTR:host"] == h))
                                                      for h in HOSTS), len(errors)))
        for s in active:
            self.servers[s["name"]] = (s["id"], 1)
        claims = self.step_done("%d servers on %d GPUs" % (want, want))
        check(all(len(claims[h]) == PER_HOST for h in HOSTS), "every GPU of both hosts claimed exactly once")
        for s in errors:
            self.s.delete(s["id"])
        self.delete(*[s["name"] for s in active])
        self.step_done("all concurrent servers deleted")

    def resize(self):
        self.boot("rz", 1)
        self.step_done("rz 1x")
        src = self.host_of("rz")
        self.action("rz", {"resize": {"flavorRef": self.s.flavor_id(self.flavor[2])}}, "VERIFY_RESIZE",
                    op="resize 1x->2x (to VERIFY_RESIZE)")
        dst = self.host_of("rz")
        self.agree("rz resized 1x -> 2x on %s, not confirmed (%s)" % (dst, "same host" if dst == src else
                                                                       "from " + src), moving=("rz",))
        self.action("rz", {"confirmResize": None}, "ACTIVE", op="resize confirm")
        self.servers["rz"] = (self.servers["rz"][0], 2)
        self.step_done("rz 2x confirmed")
        self.action("rz", {"resize": {"flavorRef": self.s.flavor_id(self.flavor[1])}}, "VERIFY_RESIZE",
                    op="resize 2x->1x (to VERIFY_RESIZE)")
        self.agree("rz resized 2x -> 1x, not confirmed", moving=("rz",))
        self.action("rz", {"revertResize": None}, "ACTIVE", op="resize revert")
        self.step_done("rz revert: 2x again")
        self.action("rz", {"resize": {"flavorRef": self.s.flavor_id(self.flavor[1])}}, "VERIFY_RESIZE",
                    op="resize 2x->1x (to VERIFY_RESIZE)")
        self.action("rz", {"confirmResize": None}, "ACTIVE", op="resize confirm")
        self.servers["rz"] = (self.servers["rz"][0], 1)
        self.step_done("rz 2x -> 1x confirmed")
        self.delete("rz")

    def migrate(self):
        self.boot("mg", 2)
        src = self.host_of("mg")
        other = [h for h in HOSTS if h != src][0]
        self.action("mg", {"migrate": {"host": other}}, "VERIFY_RESIZE", op="cold migrate (to VERIFY_RESIZE)")
        check(self.host_of("mg") == other, "mg cold-migrated %s -> %s, waiting for confirm" % (src, other))
        self.agree("mg migrated, not confirmed (both hosts hold it)", moving=("mg",))
        self.action("mg", {"revertResize": None}, "ACTIVE", op="migrate revert")
        check(self.host_of("mg") == src, "mg reverted: back on %s" % src)
        self.step_done("mg migration reverted")
        self.action("mg", {"migrate": {"host": other}}, "VERIFY_RESIZE", op="cold migrate (to VERIFY_RESIZE)")
        self.action("mg", {"confirmResize": None}, "ACTIVE", op="migrate confirm")
        check(self.host_of("mg") == other, "mg migration confirmed: on %s" % other)
        self.step_done("mg migration confirmed")

    def evacuate(self):
        """mg (2x) is on one host; ev and rs (1x) join it there, then that host's
        nova-compute dies: mg and ev are evacuated, rs stays. The restart that
        brings the host back is also the nova-compute restart with a server
        running (rs keeps its claim)."""
        src = self.host_of("mg")
        other = [h for h in HOSTS if h != src][0]
        for name in ("ev", "rs"):
            self.boot(name, 1, host=src)
        self.step_done("mg, ev and rs on %s" % src)
        t = time.monotonic()
        self.stack("stop-compute", self.state, src)
        svc = self.service(src)
        self.s.N("PUT", "/os-services/" + svc["id"], {"forced_down": True})
        until(lambda: self.service(src)["state"] == "down", 30, "%s's nova-compute stopped and forced down" % src)
        for name in ("mg", "ev"):
            t1 = time.monotonic()
            self.action(name, {"evacuate": {}}, "ACTIVE")
            # nova saves ACTIVE a moment before it moves the server's host (finish_evacuation)
            until(lambda: self.host_of(name) == other, 60, "%s evacuated %s -> %s" % (name, src, other))
            self.timed("evacuate", t1)
        # the dead host still holds its claims and allocations until its compute comes back
        self.agree("evacuated, %s still down (it keeps its claims)" % src, moving=("mg", "ev"))
        # nova refuses to force a host up while `done` evacuations remain: restart it first
        n0 = self.fake_runs(src)
        self.stack("start-compute", self.state, src)
        pool = self.s.pool(src)
        rs = self.servers["rs"][0]
        until(lambda: self.s.usage(pool["uuid"]) == 1 and all(
            i == rs for h, _, st, i in self.s.pci_rows() if h == src and st in ("allocated", "claimed")), 120,
            "%s's nova-compute restarted: the evacuated servers' allocations and PCI claims freed there, "
            "rs (not evacuated) keeps its GPU" % src)
        self.s.N("PUT", "/os-services/" + svc["id"], {"forced_down": False})
        until(lambda: self.service(src)["state"] == "up", 120, "%s forced up again: service up" % src)
        until(lambda: self.fake_runs(src) > n0, 60, "%s's restarted nova-compute updated its resources" % src)
        self.timed("evacuate, source back and cleaned", t)
        check(self.server(rs)["status"] == "ACTIVE" and self.host_of("rs") == src,
              "rs still ACTIVE on %s after its nova-compute restarted" % src)
        self.step_done("after evacuation and %s's nova-compute restart" % src)
        self.delete("mg", "ev")

    def shelve(self):
        self.boot("sh", 2)
        host = self.host_of("sh")
        self.action("sh", {"shelve": None}, "SHELVED_OFFLOADED", op="shelve (offloaded)")
        sid = self.servers["sh"][0]
        until(lambda: self.s.allocations(sid) == {} and not any(
            i == sid and st in ("allocated", "claimed") for _, _, st, i in self.s.pci_rows()), 30,
            "sh shelved and offloaded: no allocations, no PCI claims")
        self.agree("sh shelved", moving=("sh",))
        self.next_passes("sh shelved")
        self.action("sh", {"unshelve": None}, "ACTIVE", op="unshelve")
        self.step_done("sh unshelved on %s (was on %s)" % (self.host_of("sh"), host))

    def live(self):
        """Live migration of a PCI passthrough server, with and without a target
        host: nova must refuse (this release's words are recorded) and leave it be."""
        sid = self.servers["sh"][0]
        host = self.host_of("sh")
        other = [h for h in HOSTS if h != host][0]
        before = self.s.allocations(sid)
        clog = os.path.join(self.state, "logs", "nova-conductor.log")
        for target in (None, other):
            with open(clog, "rb") as f:
                f.seek(0, 2)
                off = f.tell()
            n0 = len(self.migrations(sid))
            st, b = self.s.N("POST", "/servers/%s/action" % sid,
                             {"os-migrateLive": {"host": target, "block_migration": "auto"}}, ok=None)
            said = ""
            if st == 202:
                migs = until(lambda: [m for m in self.migrations(sid)[n0:] if m["status"] in (
                    "error", "failed", "completed")], 120, "", quiet=True)
                if migs[0]["status"] == "completed":
                    raise Fail("nova live-migrated a PCI passthrough server to %s" % target)
                self.wait_state(sid, "ACTIVE")
                with open(clog, "rb") as f:
                    f.seek(off)
                    for line in f.read().decode(errors="replace").splitlines():
                        m = re.search(r"(Migration pre-check error: .*?|Failed to compute_task_migrate_server: .*?)"
                                      r"(\x1b\[00m)?$", line)
                        if m and not said:
                            said = m.group(1).strip()
                said = "%s (migration %s)" % (said or "no reason logged", migs[0]["status"])
            else:
                said = json.dumps(b)[:300]
            key = "live migration, host %s" % (target or "left to the scheduler")
            self.notes["%s (nova %s)" % (key, self.nova_release())] = "HTTP %d; %s" % (st, said)
            check(st in (202, 400, 409), "%s of a GPU server refused: HTTP %d, %s" % (key, st, said))
            self.wait_state(sid, "ACTIVE")
            check(self.host_of("sh") == host and self.s.allocations(sid) == before,
                  "sh still ACTIVE on %s with the same allocations" % host)
            self.step_done("after the refused %s" % key)

    def migrations(self, sid):
        st, m = self.s.N("GET", "/os-migrations?instance_uuid=%s&migration_type=live-migration" % sid)
        return sorted(m["migrations"], key=lambda x: x["id"])

    def nova_release(self):
        p = subprocess.run([PY, "-c", "import nova.version as v; print(v.version_string())"], capture_output=True,
                           text=True, env=self.env)
        return p.stdout.strip() or "?"

    def restarts(self):
        """The agents restarted and reloaded while servers run (nova-compute's
        restart with a server running is part of evacuate)."""
        self.step_done("sh and rs running")
        for h in HOSTS:
            t = time.monotonic()
            p = self.agents[h]
            p.terminate()
            check(p.wait(timeout=30) == 0, "%s's agent stopped by SIGTERM (exit 0)" % h)
            self.start_agent_of(h)
            self.timed("agent restart", t)
        self.step_done("agents restarted with servers running")
        marks = {h: len(self.agent_lines(h)) for h in HOSTS}
        for h in HOSTS:
            self.agents[h].send_signal(signal.SIGHUP)
        until(lambda: all(any("configuration reloaded" in l for l in self.agent_lines(h)[marks[h]:])
                               for h in HOSTS), 30,
                   "both agents re-read their config on SIGHUP")
        self.step_done("agents reloaded (SIGHUP) with servers running")

    def fake_runs(self, h):
        with open(os.path.join(self.state, "logs", "nova-compute-%s.log" % h), encoding="utf-8",
                  errors="replace") as f:
            return sum(1 for l in f if "gpu_agent_fake_virt: " in l)

    def shrink(self):
        # rs (1x) and sh (2x) run; shrink the pool of the host with the most GPUs in use
        claims = self.agree("before the shrink")
        h = max(HOSTS, key=lambda x: len(claims[x]))
        used = len(claims[h])
        pool = self.s.pool(h)
        t = time.monotonic()
        agent_conf(self.conf[h], h, os.path.join(self.tmp, "agent-" + h), self.s.placement, "default_pools = false\n")
        self.agents[h].send_signal(signal.SIGHUP)
        until(lambda: (lambda i: i["total"] == used and i["reserved"] == used)(
            self.s.P("GET", "/resource_providers/%s/inventories" % pool["uuid"])["inventories"][RC]), 30,
            "%s: default_pools = false with %d GPU(s) in use: pool kept, total = reserved = %d" % (h, used, used))
        self.timed("pool shrink (SIGHUP to inventory written)", t)
        self.next_passes("pool shrunk on %s" % h)
        self.agree("pool shrunk on %s" % h)
        on_h = [n for n in self.servers if self.host_of(n) == h]
        # nothing new lands on h: a 1x boot goes to the other host (or nowhere)
        sid = self.s.boot("sk", self.flavor[1])
        status, srv = self.s.wait(sid, timeout=240)
        check(status in ("ACTIVE", "ERROR") and (srv or {}).get("OS-EXT-SRV-ATTR:host") != h,
              "a 1x boot while %s's pool is shrunk does not land there (%s on %s)" % (
                  h, status, (srv or {}).get("OS-EXT-SRV-ATTR:host")))
        self.s.delete(sid)
        name = on_h[0]
        left = used - self.servers[name][1]
        mark = len(self.agent_lines(h))
        self.delete(name)
        self.wrote(h, mark, "for its %d allocated GPU(s), reserved = total" % left if left else "delete pool",
                   "%s deleted on the shrunk %s" % (name, h))
        self.agree("%s deleted while %s's pool is shrunk" % (name, h))
        t = time.monotonic()
        agent_conf(self.conf[h], h, os.path.join(self.tmp, "agent-" + h), self.s.placement)
        self.agents[h].send_signal(signal.SIGHUP)
        until(lambda: (self.s.pool(h) or {}).get("inventory", {}).get("total") == PER_HOST and
                   self.s.pool(h)["inventory"]["reserved"] == 0, 30,
                   "%s: default pools back: total %d, reserved 0" % (h, PER_HOST))
        self.timed("pool grow (SIGHUP to inventory written)", t)
        self.step_done("pool grown back on %s" % h)
        self.boot("gr", 4)
        self.step_done("a 4x fits again")
        self.delete(*list(self.servers))
        self.step_done("everything deleted")

    # ---------------------------------------------------------------- figures
    def requests_per_pass(self):
        out = {}
        for h in HOSTS:
            for line in self.agent_lines(h):
                m = re.search(r"pass done: (.*) \((\d+) request\(s\)\)", line)
                if m:
                    key = "%s, %s requests" % ("no changes" if "no changes" in m.group(1) else "writes", m.group(2))
                    out.setdefault(h, {}).setdefault(key, 0)
                    out[h][key] += 1
        return out

    def report(self):
        log("     time per operation (s): " + "; ".join(
            "%s: %s" % (op, ", ".join("%.1f" % v for v in vs)) for op, vs in self.times.items()))
        rpp = self.requests_per_pass()
        for h, c in rpp.items():
            log("     agent %s, passes by placement requests: %s" % (h, ", ".join(
                "%d x %s" % (n, k) for k, n in sorted(c.items(), key=lambda kv: -kv[1]))))
        for k, v in self.notes.items():
            log("     %s: %s" % (k, v))
        if self.args.figures:
            with open(self.args.figures, "w") as f:
                json.dump({"times_s": self.times, "requests_per_pass": rpp, "notes": self.notes,
                           "total_s": time.monotonic() - T0}, f, indent=1, sort_keys=True)

    def demo(self):
        self.boot("demo-4x", 4)
        claims = self.agree("demo")
        self.s.print_tree(HOSTS, self.servers, claims)

    # ---------------------------------------------------------------- driver
    def body(self):
        self.setup()
        if self.args.mode == "demo":
            self.demo()
            return 0
        for step in (self.concurrent, self.resize, self.migrate, self.evacuate, self.shelve, self.live,
                     self.restarts, self.shrink):
            t = time.monotonic()
            step()
            log("---- %s done in %.1f s" % (step.__name__, time.monotonic() - t))
        self.agents_ran_throughout()
        self.report()
        log("ALL CHECKS PASSED (lifecycle)")
        return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--agent", required=True)
    ap.add_argument("--root", required=True)
    ap.add_argument("--mode", choices=("full", "demo"), default="full")
    ap.add_argument("--state")
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--figures", help="write the times and requests per pass as JSON to FILE")
    return Lifecycle(ap.parse_args()).main()


if __name__ == "__main__":
    sys.exit(main())
