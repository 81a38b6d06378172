#!/usr/bin/python3
"""vGPU layouts end to end (CTest vgpu_integration): nova's own code reads the
generated [devices]/[mdev_*] config, and on a real Placement the agent decorates
nova's pGPU providers and a generated vGPU flavor selects only the right GPUs.

1. `gpu-agent nova-config` for the A40 (types on SR-IOV VFs, Zed and Wallaby
   option names) and T4 (types on the PF) fixture hosts; nova's config code and
   its libvirt driver helpers (tests/nova/nova_vgpu_oracle.py) accept it, enable
   exactly the layouts' types on exactly their parents, and name the providers of
   those parents as the agent does.
2. Placement with two compute nodes, gpu-a40-0 (A40-24Q on one GPU with
   CUSTOM_TENANT_GOLD, A40-8Q with mdev_class on the other) and gpu-t4-0 (T4-4Q),
   whose pGPU providers are created as nova's libvirt driver creates them
   (tests/support/nova_pgpu.py: names, VGPU/mdev_class inventory = available +
   existing). `gpu-agent report --once` adds the layouts' traits to every such
   provider, keeps a foreign trait and never touches the inventory; a nova-style
   writer racing it keeps its own trait and the agent's; a trait dropped from the
   layout is removed, nova's are not.
3. `gpu-agent flavors` makes one vGPU flavor per layout; nova's scheduler code
   (tests/nova/nova_flavor_query.py) turns each into its placement query, and every
   allocation candidate takes its vGPU from a provider of the flavor's type.

Usage: vgpu_integration.py --agent BIN --root REPO_ROOT [--release R]
  --release R  the release of the nova this runs with (default zed; the matrix runs it in a
               Debian root of 2025.1 or 2026.2, tests/matrix). From 2023.2 nova-config writes
               [mdev_*] max_instances and nova makes pGPU providers only for the parents it
               fills (tests/support/nova_pgpu.py usable_parents, checked against nova's code);
               from 2026.2 nova puts OWNER_NOVA on them (feature-detected), which the agent keeps.
               "detected": the release gpu-agent detects from the installed nova.
"""
import argparse
import json
import os
import sys

PY = "/usr/bin/python3"
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from itest import Fail, check, run, write  # noqa: E402  (tests/support)
from placement_itest import agent_config, run_itest  # noqa: E402
import nova_pgpu  # noqa: E402  (the project's own model of nova's pGPU providers)


A40_LAYOUTS = """[vgpu:a40_24q]
addresses = 0000:41:00.0
type = A40-24Q
traits = CUSTOM_TENANT_GOLD
[vgpu:a40_8q]
addresses = 0000:c1:00.0
type = nvidia-562
mdev_class = CUSTOM_VGPU_A40_8Q
"""
T4_LAYOUTS = """[vgpu:t4]
match = 10de:1eb8
type = T4-4Q
"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--agent", required=True)
    ap.add_argument("--root", required=True)
    ap.add_argument("--release", default="zed")
    args = ap.parse_args()
    root = os.path.abspath(args.root)
    agent = os.path.abspath(args.agent)
    return run_itest("vgpu-integration", root,
                     lambda env, tmp, services: vgpu(root, agent, args.release, env, tmp, services))


def vgpu(root, agent, rel, env, tmp, services):
    hosts = os.path.join(root, "tests", "data", "hosts")
    oracle = os.path.join(root, "tests", "nova", "nova_vgpu_oracle.py")
    query = os.path.join(root, "tests", "nova", "nova_flavor_query.py")
    fx = {"gpu-a40-0": os.path.join(hosts, "a40-sriov-vgpu.sysfs.txt"),
          "gpu-t4-0": os.path.join(hosts, "t4-vgpu-timesliced.sysfs.txt")}
    layouts = {"gpu-a40-0": A40_LAYOUTS, "gpu-t4-0": T4_LAYOUTS}

    # -- 1. nova reads the generated config ------------------------------------------
    if rel == "detected":
        gen = json.loads(run([agent, "nova-config", "--fixture", os.path.join(hosts, "a100-8x-passthrough.sysfs.txt"),
                              "--format", "json"], env=env).stdout)
        rel = gen["nova_release"]
        check(gen["nova_release_source"] == "detected", "gpu-agent detects the installed nova: %s" % rel)
    owner = nova_pgpu.nova_has_owner_trait()
    print("nova here puts OWNER_NOVA on its providers: %s" % owner)
    for name, release, want_group in (("gpu-a40-0", rel, "mdev_"), ("gpu-a40-0", "wallaby", "vgpu_"),
                                      ("gpu-t4-0", rel, "mdev_")):
        conf = write(os.path.join(tmp, "layout-%s.conf" % name), layouts[name])
        out = os.path.join(tmp, "nova-%s-%s.conf" % (name, release))
        run([agent, "--config", conf, "nova-config", "--fixture", fx[name], "--role", "compute", "--nova-release",
             release, "-o", out], env=env)
        mine = json.loads(run([agent, "--config", conf, "nova-config", "--fixture", fx[name], "--role", "compute",
                               "--nova-release", release, "--format", "json"], env=env).stdout)
        # three parents per type, as nova's driver would see them, for the provider names
        mdevs = []
        for t in mine["mdev_types"]:
            for addr in t["device_addresses"][:3]:
                mdevs += ["--mdev", "%s,%s,1" % (addr, t["type"])]
        seen = json.loads(run([PY, oracle, out, "--nodename", name] + mdevs, env=env).stdout)
        check(seen["ok"] and sorted(seen["enabled_mdev_types"]) == sorted(t["type"] for t in mine["mdev_types"]),
              "%s %s: nova enables exactly the layouts' types %s" % (name, release, seen["enabled_mdev_types"]))
        for t in mine["mdev_types"]:
            got = seen["types"][t["type"]]
            # Zed reads the pre-Xena names too, and reports them under its own group name
            check(got["group"] in (want_group + t["type"], "mdev_" + t["type"]) and
                  got["device_addresses"] == t["device_addresses"],
                  "%s %s: [%s] device_addresses are the %d parents of [vgpu:%s]"
                  % (name, release, got["group"], len(t["device_addresses"]), t["layout"]))
            if "mdev_class" in t:
                check(got["mdev_class"] == t["mdev_class"], "%s: nova reads mdev_class %s" % (name, t["mdev_class"]))
        names = sorted(p["name"] for p in seen["providers"])
        want = sorted(nova_pgpu.provider_name(name, p[0]) for t in mine["mdev_types"] for p in
                      nova_pgpu.usable_parents([(a, t["type"], 1) for a in t["device_addresses"][:3]],
                                               {t["type"]: t.get("max_instances")}))
        check(names == want, "%s %s: nova's driver names the providers %s... as the agent expects"
              % (name, release, names[0]))
    broken = open(os.path.join(tmp, "nova-gpu-a40-0-%s.conf" % rel), encoding="utf-8").read().replace(
        "device_addresses = 0000:c1:00.4", "device_addresses = 0000:41:00.4,0000:c1:00.4", 1)
    r = run([PY, oracle, write(os.path.join(tmp, "broken.conf"), broken)], env=env, ok=False)
    check(r.returncode == 1, "nova refuses one VF under two types (the oracle can fail)")

    # -- 2. Placement: nova's pGPU providers, decorated by the agent --------------------
    url = services.start("placement-server.sh", os.path.join(tmp, "placement"))
    pl = nova_pgpu.Placement(url)
    parents = {}  # host -> [(address, type, total[, mdev_class])], as nova would see the enabled types
    limits, made = {}, {}  # host -> {type: max_instances}, host -> parents with a provider
    for name in fx:
        inv = json.loads(run([agent, "inventory", "--json", "--fixture", fx[name]], env=env).stdout)
        mine = json.loads(run([agent, "--config", os.path.join(tmp, "layout-%s.conf" % name), "nova-config",
                               "--fixture", fx[name], "--role", "compute", "--format", "json",
                               "--nova-release", rel], env=env).stdout)
        enabled = {t["type"]: t for t in mine["mdev_types"]}
        parents[name] = []
        for g in inv["gpus"]:
            for mt in g.get("mdev_types", []):
                t = enabled.get(mt["id"])
                if t is None or mt["parent"] not in t["device_addresses"]:
                    continue
                total = mt["available_instances"] + len(mt["instances"])
                if total > 0:
                    parents[name].append((mt["parent"], mt["id"], total, t.get("mdev_class", "VGPU")))
        limits[name] = {t["type"]: t.get("max_instances") for t in mine["mdev_types"]}
        nova_pgpu.ensure_compute_node(pl, name, owner_nova=owner)
        made[name] = {p["address"] for p in nova_pgpu.create_pgpus(pl, name, parents[name], limits[name],
                                                                     owner_nova=owner)}
    check(len(parents["gpu-a40-0"]) == 2 + 32 and len(parents["gpu-t4-0"]) == 2,
          "nova's pGPU providers: 2 A40-24Q VFs, 32 A40-8Q VFs, 2 T4s")
    some = nova_pgpu.provider_name("gpu-a40-0", parents["gpu-a40-0"][0][0])
    st, _ = pl.request("PUT", "/traits/CUSTOM_SOMEONE_ELSE")
    p = nova_pgpu.get_provider(pl, some)
    pl.request("PUT", "/resource_providers/%s/traits" % p["uuid"],
               {"resource_provider_generation": p["generation"],
                "traits": sorted(set(p["traits"]) | {"CUSTOM_SOMEONE_ELSE"})})
    capped = sum(len(parents[n]) - len(made[n]) for n in parents)
    check(capped == 0 if not any(v for n in limits for v in limits[n].values()) else capped > 0,
          "nova (as modelled for %s) made %d pGPU providers of %d parents"
          % (rel, sum(len(v) for v in made.values()), sum(len(v) for v in parents.values())))
    # from here on: the parents nova made a provider for
    parents = {n: [a for a in parents[n] if a[0] in made[n]] for n in parents}
    before = {nova_pgpu.provider_name(n, a[0]): nova_pgpu.get_provider(pl, nova_pgpu.provider_name(n, a[0]))
              for n in parents for a in parents[n]}

    agent_conf = {}
    for name in fx:
        agent_conf[name] = agent_config(tmp, name, url, sections=layouts[name])
        r = run([agent, "--config", agent_conf[name], "report", "--once", "--fixture", fx[name]], env=env)
        if name == "gpu-a40-0" and capped:
            check("max_instances" in r.stderr and "which is normal" in r.stderr and
                  "have no provider" not in r.stderr,
                  "the agent's note knows max_instances: fewer providers than parents is normal")

    want = {
        "0000:41": {"CUSTOM_VGPU_A40_24Q", "CUSTOM_TENANT_GOLD", "CUSTOM_VGPU_CUDA", "CUSTOM_VGPU_FB_24G"},
        "0000:c1": {"CUSTOM_VGPU_A40_8Q", "CUSTOM_VGPU_CUDA", "CUSTOM_VGPU_FB_8G"},
        "0000:3b": {"CUSTOM_VGPU_T4_4Q", "CUSTOM_VGPU_CUDA", "CUSTOM_VGPU_FB_4G"},
        "0000:d8": {"CUSTOM_VGPU_T4_4Q", "CUSTOM_VGPU_CUDA", "CUSTOM_VGPU_FB_4G"},
    }
    for name in parents:
        for a in parents[name]:
            pname = nova_pgpu.provider_name(name, a[0])
            p = nova_pgpu.get_provider(pl, pname)
            extra = ({"CUSTOM_SOMEONE_ELSE"} if pname == some else set()) | ({"OWNER_NOVA"} if owner else set())
            if set(p["traits"]) != want[a[0][:7]] | extra:
                raise Fail("%s has traits %s, want %s" % (pname, sorted(p["traits"]), sorted(want[a[0][:7]] | extra)))
            if p["inventories"] != before[pname]["inventories"]:
                raise Fail("inventory of %s changed: %s -> %s" % (pname, before[pname]["inventories"],
                                                                  p["inventories"]))
            rc = a[3]
            if p["inventories"][rc]["total"] != a[2]:
                raise Fail("%s: %s total %s, nova set %s" % (pname, rc, p["inventories"][rc]["total"], a[2]))
    check(True, "report --once put each layout's traits on all %d pGPU providers, kept the foreign trait, "
          "left nova's inventories as nova set them" % sum(len(v) for v in parents.values()))
    again = run([agent, "--config", agent_conf["gpu-a40-0"], "report", "--once", "--fixture", fx["gpu-a40-0"]],
                env=env)
    check("no changes" in again.stderr, "a second pass changes nothing")

    # nova updates a provider while the agent writes it: both keep their traits
    target = nova_pgpu.provider_name("gpu-a40-0", parents["gpu-a40-0"][1][0])
    conf_wo_gold = write(os.path.join(tmp, "agent-a40-nogold.conf"),
                         open(agent_conf["gpu-a40-0"], encoding="utf-8").read().replace(
                             "traits = CUSTOM_TENANT_GOLD\n", "traits = CUSTOM_TENANT_SILVER\n"))
    st, _ = pl.request("PUT", "/traits/CUSTOM_NOVA_OWN")

    def agent_writes_between(attempt):
        if attempt == 1:
            run([agent, "--config", conf_wo_gold, "report", "--once", "--fixture", fx["gpu-a40-0"]], env=env)

    res = nova_pgpu.nova_update(pl, target, add_traits=["CUSTOM_NOVA_OWN"], between=agent_writes_between)
    check(res["conflicts"] >= 1, "nova's write met the agent's (409) and retried (%d conflict)" % res["conflicts"])
    t = set(nova_pgpu.get_provider(pl, target)["traits"])
    check("CUSTOM_NOVA_OWN" in t and "CUSTOM_TENANT_SILVER" in t and "CUSTOM_TENANT_GOLD" not in t,
          "after the race: nova's trait and the agent's new layout trait both there; the dropped trait gone")
    run([agent, "--config", conf_wo_gold, "report", "--once", "--fixture", fx["gpu-a40-0"]], env=env)
    t = set(nova_pgpu.get_provider(pl, target)["traits"])
    check("CUSTOM_NOVA_OWN" in t, "the agent's next pass keeps nova's trait")

    # -- 3. vGPU flavors select only their type ---------------------------------------
    type_of = {}
    for name in parents:
        for a in parents[name]:
            type_of[nova_pgpu.get_provider(pl, nova_pgpu.provider_name(name, a[0]))["uuid"]] = a[1]
    flavors = []
    for name, conf in (("gpu-a40-0", conf_wo_gold), ("gpu-t4-0", agent_conf["gpu-t4-0"])):
        flavors += json.loads(run([agent, "--config", conf, "flavors", "--fixture", fx[name], "--format", "json"],
                                  env=env).stdout)["flavors"]
    check(sorted(f["vgpu_type"] for f in flavors) == ["A40-24Q", "A40-8Q", "T4-4Q"], "one vGPU flavor per layout")
    q = json.loads(run([PY, query, write(os.path.join(tmp, "flavors.json"), json.dumps(flavors)), "--placement", url],
                       env=env).stdout)
    ids = {"A40-24Q": "nvidia-565", "A40-8Q": "nvidia-562", "T4-4Q": "nvidia-232"}
    for f, got in zip(flavors, q["flavors"]):
        check(got["valid"], "%s: nova's validators accept its extra specs" % f["name"])
        st, cands = pl.request("GET", "/allocation_candidates?" + got["querystring"])
        vgpu_rps = set()
        for req in cands["allocation_requests"]:
            for rp, alloc in req["allocations"].items():
                if f["resource_class"] in alloc["resources"]:
                    vgpu_rps.add(rp)
        types = {type_of.get(rp) for rp in vgpu_rps}
        check(vgpu_rps and types == {ids[f["vgpu_type"]]},
              "%s (%s): %d candidate(s), every vGPU from a %s provider"
              % (f["name"], got["querystring"], len(cands["allocation_requests"]), f["vgpu_type"]))
    print("all checks passed")


if __name__ == "__main__":
    sys.exit(main())
