#!/usr/bin/python3
"""The flavor scheduling proof with one release's own scheduler code and Placement
(CTest matrix_flavors_*; run inside that release's environment, scripts/release-env.sh).

The trimmed form of tests/flavors/flavors_integration.py (which runs on the host's Zed with
nova-api, the openstack client and Ansible as well): a real Placement of this release
(scripts/placement-server.sh), three compute nodes made as this release's nova-compute makes
them (OWNER_NOVA on the root from nova 34, feature-detected), each reported by the agent
(`gpu-agent report --once`); `gpu-agent flavors --from-placement` sizes the A100 family from
the 8x host; nova's own scheduler code (tests/nova/nova_flavor_query.py, with nova 34's
owner_nova_filter) turns each flavor into its placement query, which must find candidates on
exactly the hosts with the GPUs, the host trait and room, before and after servers'
allocations are written:
    gpu-a100-8   8 A100s, host trait
    gpu-a100-2   2 A100s, host trait
    gpu-a100-nt  8 A100s, no host trait (never a candidate)

Usage: flavor_schedule.py --agent BIN --root REPO_ROOT
Exit 0 when everything holds; 1 with the first failure otherwise.
"""
import argparse
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "support"))
from itest import check, run, write  # noqa: E402  (tests/support)
from placement_itest import Placement, Room, agent_config, run_itest  # noqa: E402
import nova_pgpu  # noqa: E402

PY = "/usr/bin/python3"
TRAIT = "CUSTOM_GPU_TENANT_GOLD"
GPUS = ["0000:07:00.0", "0000:0f:00.0", "0000:47:00.0", "0000:4e:00.0",
        "0000:87:00.0", "0000:90:00.0", "0000:b7:00.0", "0000:bd:00.0"]
HOSTS = {"gpu-a100-8": (8, True), "gpu-a100-2": (2, True), "gpu-a100-nt": (8, False)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--agent", required=True)
    ap.add_argument("--root", required=True)
    args = ap.parse_args()
    root, agent = os.path.abspath(args.root), os.path.abspath(args.agent)
    return run_itest("flavor-schedule", root, lambda env, tmp, services: schedule(root, agent, env, tmp, services))


def schedule(root, agent, env, tmp, services):
    fixture = os.path.join(root, "tests", "data", "hosts", "a100-8x-passthrough.sysfs.txt")
    query = os.path.join(root, "tests", "nova", "nova_flavor_query.py")
    t0 = time.monotonic()
    nova = json.loads(run([agent, "nova-config", "--fixture", fixture, "--role", "api", "--format", "json"],
                          env=env).stdout)
    owner = nova_pgpu.nova_has_owner_trait()
    print("     nova %s (%s, %s); OWNER_NOVA on compute nodes: %s"
          % (nova["nova_release"], nova["nova_major"], nova["nova_release_source"], owner))
    url = services.start("placement-server.sh", os.path.join(tmp, "placement"))
    pl = Placement(url)
    for name, (n, trait) in HOSTS.items():
        pl.create_compute_node(name)  # as flavors_integration: 80 usable vCPUs, COMPUTE_NODE
        if owner:
            nova_pgpu.nova_update(nova_pgpu.Placement(url), name, add_traits=["OWNER_NOVA"])
        conf = agent_config(tmp, name, url, agent="default_pools = false\n" + (
                            ("host_traits = %s\n" % TRAIT) if trait else ""),
                            sections="[pool:a100]\nresource_class = CUSTOM_PGPU_A100\naddresses = %s\n"
                            "[flavors]\nname_template = gpu.{pool}.{n}x\nsizes = 1, 2, 4, 8\n" % ", ".join(GPUS[:n]))
        run([agent, "--config", conf, "report", "--once", "--fixture", fixture], env=env)
    rps = pl.call("GET", "/resource_providers")["resource_providers"]
    check(len(rps) == 6, "3 compute nodes and 3 pool providers in placement")
    if owner:
        for name in HOSTS:
            traits = nova_pgpu.get_provider(nova_pgpu.Placement(url), name)["traits"]
            check("OWNER_NOVA" in traits, "%s keeps nova's OWNER_NOVA after the agent's pass" % name)

    fam = json.loads(run([agent, "--config", os.path.join(tmp, "gpu-a100-8.conf"), "flavors", "--fixture",
                          fixture, "--from-placement", "--format", "json"], env=env).stdout)
    flavors = {f["gpus"]: f for f in fam["flavors"]}
    check(sorted(flavors) == [1, 2, 4, 8], "A100 family 1x/2x/4x/8x from placement")
    nova_conf = write(os.path.join(tmp, "nova-api.conf"),
                      run([agent, "nova-config", "--fixture", fixture, "--role", "api",
                           "--config", os.path.join(tmp, "gpu-a100-8.conf")], env=env).stdout)
    room = Room({name: n for name, (n, _) in HOSTS.items()})

    def expected(f):
        return sorted(n for n, (_, t) in HOSTS.items() if t and room.fits(n, f))

    def candidates():
        r = run([PY, query, write(os.path.join(tmp, "flavors.json"), json.dumps(fam)), "--placement", url,
                 "--nova-conf", nova_conf], env=env)
        return {x["name"]: x for x in json.loads(r.stdout)["flavors"]}

    got = candidates()
    for f in flavors.values():
        g = got[f["name"]]
        check(g["valid"] and g["candidate_hosts"] == expected(f) and
              all(p["resolved"] for p in g["pci_requests"]),
              "%s -> %s (nova's query: %s)" % (f["name"], g["candidate_hosts"], g["querystring"]))
        check(("root_required=OWNER_NOVA" in g["querystring"]) == owner,
              "%s: root_required=OWNER_NOVA in the query exactly when this nova adds it" % f["name"])

    def allocate(flavor, host):
        room.take(pl, got[flavor["name"]]["querystring"], host, flavor)

    allocate(flavors[4], "gpu-a100-8")
    allocate(flavors[2], "gpu-a100-2")
    got = candidates()
    for f in flavors.values():
        g = got[f["name"]]
        check(g["candidate_hosts"] == expected(f), "after allocating: %s -> %s" % (f["name"], g["candidate_hosts"]))
    check("gpu-a100-nt" not in sum((g["candidate_hosts"] for g in got.values()), []),
          "no flavor lands on the host without the trait")
    print("all checks passed in %.1f s" % (time.monotonic() - t0))


if __name__ == "__main__":
    sys.exit(main())
