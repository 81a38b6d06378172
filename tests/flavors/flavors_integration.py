#!/usr/bin/python3
"""The generated flavors, end to end on real services (CTest flavors_integration).

1. A real Placement (scripts/placement-server.sh) holds five compute nodes,
   created as nova-compute creates them, and the agent (`gpu-agent report
   --once`) reports each one's pool from a fixture host:
     gpu-a100-8   8 A100s, host trait          gpu-a100-4   4 A100s, host trait
     gpu-a100-2   2 A100s, host trait          gpu-a100-nt  8 A100s, no host trait
     gpu-h100-4   4 H100s (another model, another pool), host trait
2. `gpu-agent flavors --from-placement` sizes the A100 and H100 families from
   the 8x and 4x hosts' inventories in placement.
3. The `openstack` script it writes runs against a real nova-api
   (scripts/nova-api-server.sh) and placement: traits, then flavors; run again
   it changes nothing; after a size change it replaces the flavor under the
   same id. `openstack flavor show` must hold every property.
4. nova's own code (tests/nova/nova_flavor_query.py) reads every flavor back
   from nova-api, turns it into the scheduler's placement query and runs it:
   an Nx flavor must get candidates on exactly the hosts with N free GPUs of
   its pool, the trait and room for its vCPU/RAM/disk; then, after servers'
   allocations are written, on exactly the hosts that still have room.
5. The Ansible variables pass `ansible-playbook --syntax-check` with the
   project's flavor playbook and Debian's openstack.cloud collection.

Usage: flavors_integration.py --agent BIN --root REPO_ROOT
Exit 0 when everything holds; 1 with the first failure otherwise.
"""
import argparse
import json
import os
import shutil
import sys
import time

PY = "/usr/bin/python3"
TRAIT = "CUSTOM_GPU_TENANT_GOLD"
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from itest import Fail, check, run, write  # noqa: E402  (tests/support)
from placement_itest import Placement, Room, agent_config, run_itest  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--agent", required=True)
    ap.add_argument("--root", required=True)
    args = ap.parse_args()
    root = os.path.abspath(args.root)
    agent = os.path.abspath(args.agent)
    return run_itest("flavors-integration", root, lambda env, tmp, services: flavors(root, agent, env, tmp, services),
                     watchers=("PLACEMENT_SERVER_WATCH_PID", "NOVA_API_SERVER_WATCH_PID"))


def flavors(root, agent, env, tmp, services):
    data = os.path.join(root, "tests", "data")
    query = os.path.join(root, "tests", "nova", "nova_flavor_query.py")
    t0 = time.monotonic()
    # nova-api takes the longest to start: in the background while placement is fed
    nova_start = services.start_background("nova-api-server.sh", os.path.join(tmp, "nova"))
    url = services.start("placement-server.sh", os.path.join(tmp, "placement"))
    pl = Placement(url)

    # -- 1. five compute nodes, reported by the agent --------------------------------
    a100 = open(os.path.join(data, "hosts", "a100-8x-passthrough.sysfs.txt"), encoding="utf-8").read()
    h100 = a100.replace("device = 0x20b2", "device = 0x2330")
    fx_a100 = write(os.path.join(tmp, "a100.sysfs.txt"), a100)
    fx_h100 = write(os.path.join(tmp, "h100.sysfs.txt"), h100)
    gpus = ["0000:07:00.0", "0000:0f:00.0", "0000:47:00.0", "0000:4e:00.0",
            "0000:87:00.0", "0000:90:00.0", "0000:b7:00.0", "0000:bd:00.0"]
    hosts = {  # name: (fixture, model, GPUs, host trait)
        "gpu-a100-8": (fx_a100, "a100", 8, True),
        "gpu-a100-4": (fx_a100, "a100", 4, True),
        "gpu-a100-2": (fx_a100, "a100", 2, True),
        "gpu-a100-nt": (fx_a100, "a100", 8, False),
        "gpu-h100-4": (fx_h100, "h100", 4, True),
    }
    rc = {"a100": "CUSTOM_PGPU_A100", "h100": "CUSTOM_PGPU_H100"}
    flavor_conf = "[flavors]\nname_template = gpu.{pool}.{n}x\nsizes = %s\n"
    for name, (fx, model, n, trait) in hosts.items():
        pl.create_compute_node(name)
        path = agent_config(tmp, name, url, agent="default_pools = false\n" + (
                            ("host_traits = %s\n" % TRAIT) if trait else ""),
                            sections="[pool:%s]\nresource_class = %s\naddresses = %s\n%s"
                            % (model, rc[model], ", ".join(gpus[:n]), flavor_conf % ("1, 2, 4, 8" if n == 8 else "1, 2, 4")))
        run([agent, "--config", path, "report", "--once", "--fixture", fx], env=env)
    check(len(pl.call("GET", "/resource_providers")["resource_providers"]) == 10,
          "5 compute nodes and 5 pool providers in placement")

    # -- 2. flavors sized from placement ------------------------------------------------
    fam = {}
    for name, model in (("gpu-a100-8", "a100"), ("gpu-h100-4", "h100")):
        conf = os.path.join(tmp, name + ".conf")
        j = run([agent, "--config", conf, "flavors", "--fixture", hosts[name][0], "--from-placement",
                 "--format", "json"], env=env).stdout
        fam[model] = json.loads(j)
        run([agent, "--config", conf, "flavors", "--fixture", hosts[name][0], "--from-placement",
             "-o", os.path.join(tmp, "flavors-%s.sh" % model)], env=env)
        run([agent, "--config", conf, "flavors", "--fixture", hosts[name][0], "--from-placement",
             "--format", "ansible", "-o", os.path.join(tmp, "flavors-%s.yml" % model)], env=env)
    a = {f["gpus"]: f for f in fam["a100"]["flavors"]}
    check(sorted(a) == [1, 2, 4, 8], "A100 family 1x/2x/4x/8x")
    check(a[8]["vcpus"] == 80 and a[8]["ram"] == 1048576 - 65536 and a[8]["ephemeral"] == 7000,
          "the 8x flavor takes exactly what placement offers on the 8x host (80 vCPU, 960 GiB, 7000 GB)")
    check(a[1]["vcpus"] == 10 and a[4]["vcpus"] == 40, "per-GPU share 10 vCPUs = (96 - 16) / 8")
    h = {f["gpus"]: f for f in fam["h100"]["flavors"]}
    check(sorted(h) == [1, 2, 4] and h[4]["vcpus"] == 80, "H100 family 1x/2x/4x, the 4x takes the 4-GPU host")
    for f in a.values():
        check(f["extra_specs"]["resources:CUSTOM_PGPU_A100"] == str(f["gpus"]) and
              f["extra_specs"]["trait:" + TRAIT] == "required" and
              f["extra_specs"]["pci_passthrough:alias"] == "a100:%d" % f["gpus"],
              "%s asks for its pool, the trait and the alias" % f["name"])

    # -- 3. the openstack script against real nova-api and placement ------------------
    nova_url = services.wait_started(nova_start, "nova-api")
    print("     services up in %.1f s (nova-api %s, placement %s)" % (time.monotonic() - t0, nova_url, url))
    osc = shutil.which("openstack") or "/usr/bin/openstack"
    s_env = dict(env)
    s_env["GPU_AGENT_OPENSTACK_PLACEMENT"] = "%s --os-auth-type admin_token --os-token admin --os-endpoint %s" % (
        osc, url)
    s_env["GPU_AGENT_OPENSTACK_COMPUTE"] = ("%s --os-auth-type admin_token --os-token admin:admin "
                                            "--os-endpoint %s --os-compute-api-version 2.92" % (osc, nova_url))
    s_env["GPU_AGENT_PYTHON"] = PY
    compute = s_env["GPU_AGENT_OPENSTACK_COMPUTE"].split()
    for model in ("a100", "h100"):
        r = run(["bash", os.path.join(tmp, "flavors-%s.sh" % model)], env=s_env)
        check(r.stdout.count(": created") == len(fam[model]["flavors"]),
              "the %s script created %d flavors" % (model, len(fam[model]["flavors"])))
    pl.call("GET", "/traits/" + TRAIT, ok=(204,))
    check(True, "the script created trait %s in placement" % TRAIT)
    every = fam["a100"]["flavors"] + fam["h100"]["flavors"]
    for f in every:
        shown = json.loads(run(compute + ["flavor", "show", f["name"], "-f", "json"], env=env).stdout)
        props = shown["properties"]
        check(shown["id"] == f["id"] and shown["vcpus"] == f["vcpus"] and shown["ram"] == f["ram"] and
              shown["OS-FLV-EXT-DATA:ephemeral"] == f["ephemeral"] and props == f["extra_specs"],
              "flavor show %s: id, size and every property as generated" % f["name"])
    again = run(["bash", os.path.join(tmp, "flavors-a100.sh")], env=s_env)
    check(": created" not in again.stdout and "replacing" not in again.stdout and
          again.stdout.count("exists, setting its properties") == 4,
          "run again, the script creates and replaces nothing")
    # -- 4. nova's scheduler query for every flavor, read from nova-api -----------------
    room = Room({name: hosts[name][2] for name in hosts})

    def expected(f):
        model = f["resource_class"] == "CUSTOM_PGPU_A100" and "a100" or "h100"
        return sorted(n for n, (_, m, g, t) in hosts.items()
                      if m == model and t and room.fits(n, f))

    def candidates():
        cmd = [PY, query, "--nova-url", nova_url, "--placement", url]
        for f in every:
            cmd += ["--flavor", f["name"]]
        r = run(cmd, env=env)
        return {x["name"]: x for x in json.loads(r.stdout)["flavors"]}

    got = candidates()
    for f in every:
        g = got[f["name"]]
        check(g["valid"] and g["candidate_hosts"] == expected(f),
              "%s -> %s (nova's query: %s)" % (f["name"], g["candidate_hosts"], g["querystring"]))

    # servers take GPUs: a 4x on the 8x host, a 2x on the 2x host, a 1x on the H100 host
    def allocate(flavor, host):
        room.take(pl, got[flavor["name"]]["querystring"], host, flavor)

    allocate(a[4], "gpu-a100-8")
    allocate(a[2], "gpu-a100-2")
    allocate(h[1], "gpu-h100-4")
    got = candidates()
    for f in every:
        g = got[f["name"]]
        check(g["candidate_hosts"] == expected(f),
              "after allocating: %s -> %s" % (f["name"], g["candidate_hosts"]))
    check("gpu-a100-nt" not in sum((g["candidate_hosts"] for g in got.values()), []),
          "no flavor ever lands on the host without the trait")

    # -- 5. changes: a new size replaces the flavor under its id; a refused property fails
    # a size change: the same name and id, new size
    conf8 = os.path.join(tmp, "gpu-a100-8.conf")
    run([agent, "--config", conf8, "flavors", "--fixture", fx_a100, "--from-placement", "--ram-mb-per-gpu",
         "65536", "--name-template", "gpu.{pool}.{n}x", "-o", os.path.join(tmp, "resized.sh")], env=env)
    resized = run(["bash", os.path.join(tmp, "resized.sh")], env=s_env)
    check(resized.stdout.count("replacing it") == 4,
          "after a RAM change every flavor of the family is replaced")
    shown = json.loads(run(compute + ["flavor", "show", a[1]["name"], "-f", "json"], env=env).stdout)
    check(shown["id"] == a[1]["id"] and shown["ram"] == 65536, "the replaced flavor keeps its id")
    # a refused property fails the script (nova would drop it silently on create)
    bad = open(os.path.join(tmp, "flavors-a100.sh"), encoding="utf-8").read().replace(
        "'trait:%s=required'" % TRAIT, "'trait:%s=preferred'" % TRAIT, 1)
    r = run(["bash", write(os.path.join(tmp, "bad.sh"), bad)], env=s_env, ok=False)
    check(r.returncode != 0, "a property nova refuses stops the script with an error")


    # -- 6. Ansible ----------------------------------------------------------------------
    playbook = os.path.join(root, "ansible", "gpu-flavors.yml")
    if shutil.which("ansible-playbook"):
        r = run(["ansible-playbook", "--syntax-check", "-i", "localhost,", playbook, "-e",
                 "gpu_agent_flavor_vars=" + os.path.join(tmp, "flavors-a100.yml")], env=env)
        check(True, "ansible-playbook --syntax-check ansible/gpu-flavors.yml with the generated variables")
        r = run(["ansible-playbook", "-i", "localhost,", "-c", "local", playbook, "--tags", "check-vars", "-e",
                 "gpu_agent_flavor_vars=" + os.path.join(tmp, "flavors-a100.yml")], env=env)
        check("4 flavors" in r.stdout, "Ansible loads the generated variables: 1 trait, 4 flavors")
    else:
        raise Fail("ansible-playbook is not installed: run scripts/install-deps.sh")
    print("all checks passed in %.1f s" % (time.monotonic() - t0))


if __name__ == "__main__":
    sys.exit(main())
