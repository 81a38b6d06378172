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
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid

PY = "/usr/bin/python3"
TRAIT = "CUSTOM_GPU_TENANT_GOLD"
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from itest import Fail, check, run, write  # noqa: E402  (tests/support)


class Placement:
    def __init__(self, url):
        self.url = url

    def call(self, method, path, body=None, ok=(200, 201, 204)):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.url + path, data=data, method=method)
        req.add_header("X-Auth-Token", "admin")
        req.add_header("OpenStack-API-Version", "placement 1.39")
        req.add_header("Accept", "application/json")
        if data is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                status, raw = r.status, r.read()
        except urllib.error.HTTPError as e:
            status, raw = e.code, e.read()
        if status not in ok:
            raise Fail("%s %s -> %d %s" % (method, path, status, raw[:500]))
        return json.loads(raw) if raw else None

    def create_compute_node(self, name):
        """As nova-compute registers a node: root provider, inventory, COMPUTE_NODE."""
        rp_uuid = str(uuid.uuid4())
        p = self.call("POST", "/resource_providers", {"name": name, "uuid": rp_uuid})
        gen = p["generation"]
        inv = {
            "VCPU": {"total": 96, "reserved": 16, "allocation_ratio": 1.0, "max_unit": 96},
            "MEMORY_MB": {"total": 1048576, "reserved": 65536, "allocation_ratio": 1.0, "max_unit": 1048576},
            "DISK_GB": {"total": 7000, "reserved": 0, "allocation_ratio": 1.0, "max_unit": 7000},
        }
        r = self.call("PUT", "/resource_providers/%s/inventories" % rp_uuid,
                      {"resource_provider_generation": gen, "inventories": inv})
        self.call("PUT", "/resource_providers/%s/traits" % rp_uuid,
                  {"resource_provider_generation": r["resource_provider_generation"], "traits": ["COMPUTE_NODE"]})
        return rp_uuid


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--agent", required=True)
    ap.add_argument("--root", required=True)
    args = ap.parse_args()
    root = os.path.abspath(args.root)
    agent = os.path.abspath(args.agent)
    data = os.path.join(root, "tests", "data")
    query = os.path.join(root, "tests", "nova", "nova_flavor_query.py")

    env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}  # no developer's cloud
    env["OS_NOVA_DISABLE_EVENTLET_PATCHING"] = "1"
    env["PLACEMENT_SERVER_WATCH_PID"] = str(os.getpid())
    env["NOVA_API_SERVER_WATCH_PID"] = str(os.getpid())
    tmp = tempfile.mkdtemp(prefix="flavors-integration.")
    pdir, ndir = os.path.join(tmp, "placement"), os.path.join(tmp, "nova")
    started = []
    try:
        t0 = time.monotonic()
        # nova-api takes the longest to start: in the background while placement is fed
        nova_start = subprocess.Popen([os.path.join(root, "scripts", "nova-api-server.sh"), "start", ndir],
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        started.append(("nova-api-server.sh", ndir))
        url = run([os.path.join(root, "scripts", "placement-server.sh"), "start", pdir], env=env).stdout.strip()
        started.append(("placement-server.sh", pdir))
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
            conf = ("[agent]\ncompute_node_name = %s\nstate_dir = %s\nretry_max = 1\ndefault_pools = false\n%s"
                    "[placement]\nauth_type = admin_token\ntoken = admin\nendpoint_override = %s\n"
                    "[pool:%s]\nresource_class = %s\naddresses = %s\n%s"
                    % (name, os.path.join(tmp, "state-" + name), ("host_traits = %s\n" % TRAIT) if trait else "",
                       url, model, rc[model], ", ".join(gpus[:n]), flavor_conf % ("1, 2, 4, 8" if n == 8 else "1, 2, 4")))
            path = write(os.path.join(tmp, name + ".conf"), conf)
            os.makedirs(os.path.join(tmp, "state-" + name), exist_ok=True)
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
        out, err = nova_start.communicate(timeout=300)
        if nova_start.returncode != 0:
            raise Fail("nova-api did not start:\n" + out + err)
        nova_url = out.strip().splitlines()[-1]
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
        free = {name: hosts[name][2] for name in hosts}
        used_vcpu = {name: 0 for name in hosts}

        def expected(f):
            model = f["resource_class"] == "CUSTOM_PGPU_A100" and "a100" or "h100"
            return sorted(n for n, (_, m, g, t) in hosts.items()
                          if m == model and t and free[n] >= f["gpus"] and 80 - used_vcpu[n] >= f["vcpus"])

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
            qs = got[flavor["name"]]["querystring"]
            cands = pl.call("GET", "/allocation_candidates?" + qs)
            names = {rp["uuid"]: rp["name"] for rp in pl.call("GET", "/resource_providers")["resource_providers"]}
            for req in cands["allocation_requests"]:
                if any(names[u] == host for u in req["allocations"]):
                    body = {"allocations": req["allocations"], "project_id": str(uuid.uuid4()),
                            "user_id": str(uuid.uuid4()), "consumer_generation": None,
                            "consumer_type": "INSTANCE"}
                    pl.call("PUT", "/allocations/" + str(uuid.uuid4()), body)
                    free[host] -= flavor["gpus"]
                    used_vcpu[host] += flavor["vcpus"]
                    return
            raise Fail("no candidate for %s on %s" % (flavor["name"], host))

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
        return 0
    except Fail as e:
        print("FAIL " + str(e), flush=True)
        for script, d in started:
            for log in ("placement.log", "log"):
                p = os.path.join(d, log)
                if os.path.exists(p):
                    print("--- tail of " + p)
                    print(open(p, encoding="utf-8", errors="replace").read()[-3000:])
        return 1
    finally:
        for script, d in reversed(started):
            subprocess.run([os.path.join(root, "scripts", script), "stop", d], capture_output=True, env=env)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
