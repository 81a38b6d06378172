#!/usr/bin/python3
"""Self-test of tests/support/nova_pgpu.py against a real Placement (scripts/placement-server.sh).

Usage: nova_pgpu_selftest.py [--keep DIR]

Starts placement on 127.0.0.1 in a temporary state directory (stopped on exit, and by the
script's watch if this process dies), creates a compute node and 3 pGPU providers (one with
a custom mdev_class, one whose total is 0 and gets none, one with existing mdevs), and checks:
 * names, parents, resource classes and inventories against what nova's own libvirt driver
   code computes for the same host (tests/nova/nova_vgpu_oracle.py --mdev, Debian's nova);
 * no traits on the pGPU providers (nova sets none), OWNER_NOVA from nova 34 (feature-detected);
 * with [mdev_*] max_instances (2023.2+): which parents get a provider, model vs nova's code;
 * nova_update keeps a foreign trait, retries on 409 when another writer races it, and a
   foreign writer's add of its own trait survives nova's inventory update.
Exit 0 on success, 1 with the failed check.
"""
import argparse
import atexit
import json
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "support"))
import nova_pgpu  # noqa: E402

SERVER = os.path.join(ROOT, "scripts", "placement-server.sh")
ORACLE = os.path.join(HERE, "nova_vgpu_oracle.py")
NODE = "compute-vgpu-1"
# (address, type, available, existing, mdev_class)
HOST = [("0000:41:00.4", "nvidia-558", 1, 0, "VGPU"),
        ("0000:41:00.5", "nvidia-558", 0, 0, "VGPU"),          # full: no provider
        ("0000:42:00.0", "nvidia-560", 2, 2, "CUSTOM_A40_8Q"),
        ("0000:43:00.0", "nvidia-558", 0, 1, "VGPU")]          # 1 mdev in use, none left
NOVA_CONF = """[devices]
enabled_mdev_types = nvidia-558, nvidia-560
[mdev_nvidia-558]
device_addresses = 0000:41:00.4, 0000:41:00.5, 0000:43:00.0
[mdev_nvidia-560]
device_addresses = 0000:42:00.0
mdev_class = CUSTOM_A40_8Q
"""

failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


def oracle(conf_text, host=HOST):
    """nova's own driver code (nova_vgpu_oracle.py --mdev) for this host and nova.conf."""
    with tempfile.NamedTemporaryFile("w", suffix=".conf", delete=False) as f:
        f.write(conf_text)
    cmd = ["/usr/bin/python3", ORACLE, f.name, "--nodename", NODE]
    for addr, t, avail, existing, _ in host:
        cmd += ["--mdev", "%s,%s,%d,%d" % (addr, t, avail, existing)]
    o = subprocess.run(cmd, capture_output=True, text=True,
                       env=dict(os.environ, OS_NOVA_DISABLE_EVENTLET_PATCHING="1"))
    os.unlink(f.name)
    if o.returncode != 0:
        print("oracle failed:\n" + o.stdout + o.stderr)
        return None
    return json.loads(o.stdout)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--keep")
    a = ap.parse_args()
    state = a.keep or tempfile.mkdtemp(prefix="nova-pgpu-")
    env = dict(os.environ, PLACEMENT_SERVER_WATCH_PID=str(os.getpid()), PLACEMENT_SERVER_RESET="1")
    r = subprocess.run(["bash", SERVER, "start", state], capture_output=True, text=True, env=env)
    if r.returncode != 0:
        print("placement-server start failed:\n" + r.stdout + r.stderr)
        return 1
    def stop():
        subprocess.run(["bash", SERVER, "stop", state], capture_output=True)
        if not a.keep:
            shutil.rmtree(state, ignore_errors=True)
    atexit.register(stop)
    url = r.stdout.strip().splitlines()[-1]
    pl = nova_pgpu.Placement(url)

    owner = nova_pgpu.nova_has_owner_trait()  # nova 34 (2026.2) and later
    print("nova here puts OWNER_NOVA on its providers: %s" % owner)
    root = nova_pgpu.ensure_compute_node(pl, NODE, owner_nova=owner)
    made = nova_pgpu.create_pgpus(
        pl, NODE, [(addr, t, avail + existing, rc) for addr, t, avail, existing, rc in HOST], owner_nova=owner)
    # again: idempotent
    made2 = nova_pgpu.create_pgpus(
        pl, NODE, [(addr, t, avail + existing, rc) for addr, t, avail, existing, rc in HOST], owner_nova=owner)
    check([m["uuid"] for m in made] == [m["uuid"] for m in made2], "create_pgpus is idempotent")

    # What nova's own driver code says for this host.
    nova_out = oracle(NOVA_CONF)
    if nova_out is None:
        return 1
    nova_view = {p["name"]: p for p in nova_out["providers"]}

    _, body = pl.request("GET", "/resource_providers?in_tree=%s" % root)
    children = {rp["name"]: rp for rp in body["resource_providers"] if rp["uuid"] != root}
    check(sorted(children) == sorted(nova_view),
          "pGPU provider names are nova's: %s" % sorted(children))
    check(sorted(children) == ["compute-vgpu-1_pci_0000_41_00_4",
                               "compute-vgpu-1_pci_0000_42_00_0",
                               "compute-vgpu-1_pci_0000_43_00_0"],
          "3 providers, none for the full 0000:41:00.5")
    for name, want in sorted(nova_view.items()):
        if name not in children:
            continue
        got = nova_pgpu.get_provider(pl, name)
        check(got["parent_provider_uuid"] == root, "%s: parent is the compute node" % name)
        inv = got["inventories"]
        check(list(inv) == [want["resource_class"]],
              "%s: resource class %s" % (name, want["resource_class"]))
        rc = want["resource_class"]
        same = all(float(inv[rc][k]) == float(want["inventory"][k]) for k in want["inventory"])
        check(same, "%s: inventory %s == nova's %s" % (name, inv.get(rc), want["inventory"]))
        mine = ["OWNER_NOVA"] if owner else []
        check(got["traits"] == mine == want["traits"], "%s: traits %s, as nova's %s" % (name, mine, want["traits"]))

    # [mdev_<type>] max_instances (2023.2+): nova makes providers only while the type's
    # count stays within it; usable_parents() models that, checked against nova's code.
    if nova_out["max_instances_supported"]:
        host = HOST + [("0000:44:00.0", "nvidia-558", 1, 0, "VGPU"), ("0000:45:00.0", "nvidia-558", 1, 0, "VGPU")]
        for limit in (1, 2, 3):
            conf = NOVA_CONF.replace("device_addresses = 0000:41:00.4, 0000:41:00.5, 0000:43:00.0",
                                     "device_addresses = 0000:41:00.4, 0000:41:00.5, 0000:43:00.0, "
                                     "0000:44:00.0, 0000:45:00.0\nmax_instances = %d" % limit)
            nova_lim = oracle(conf, host)
            if nova_lim is None:
                return 1
            model = nova_pgpu.usable_parents(
                [{"address": a_, "type": t, "total": av + ex, "existing": ex, "mdev_class": rc}
                 for a_, t, av, ex, rc in host], max_instances={"nvidia-558": limit})
            names = sorted(nova_pgpu.provider_name(NODE, p[0]) for p in model)
            check(names == sorted(p["name"] for p in nova_lim["providers"]),
                  "max_instances %d: the model's providers are nova's: %s" % (limit, names))
    else:
        print("this nova has no [mdev_*] max_instances (before 2023.2): not modelled here")

    # nova-style update keeps a foreign trait.
    target = "compute-vgpu-1_pci_0000_42_00_0"
    pl.request("PUT", "/traits/CUSTOM_VGPU_A40_8Q", ok=(201, 204))
    cur = nova_pgpu.get_provider(pl, target)
    pl.request("PUT", "/resource_providers/%s/traits" % cur["uuid"],
               {"resource_provider_generation": cur["generation"],
                "traits": ["CUSTOM_VGPU_A40_8Q"]})
    res = nova_pgpu.nova_update(pl, target, inventory=nova_pgpu.nova_inventory(3, "CUSTOM_A40_8Q"))
    check(res["traits"] == ["CUSTOM_VGPU_A40_8Q"] and
          res["inventories"]["CUSTOM_A40_8Q"]["total"] == 3,
          "nova_update (total 4 -> 3) keeps the foreign trait: %s" % res["traits"])

    # A racing writer between nova's read and its write: 409, retry, both kept.
    def racer(attempt):
        if attempt == 1:
            c = nova_pgpu.get_provider(pl, target)
            pl.request("PUT", "/traits/CUSTOM_AGENT_RACE", ok=(201, 204))
            pl.request("PUT", "/resource_providers/%s/traits" % c["uuid"],
                       {"resource_provider_generation": c["generation"],
                        "traits": sorted(set(c["traits"]) | {"CUSTOM_AGENT_RACE"})})
    res = nova_pgpu.nova_update(pl, target, inventory=nova_pgpu.nova_inventory(4, "CUSTOM_A40_8Q"),
                                between=racer)
    check(res["conflicts"] == 1 and res["attempts"] == 2,
          "racing writer forces one 409 and a retry (attempts %d, conflicts %d)"
          % (res["attempts"], res["conflicts"]))
    check(res["traits"] == ["CUSTOM_AGENT_RACE", "CUSTOM_VGPU_A40_8Q"],
          "after the race both foreign traits are there: %s" % res["traits"])

    # Always losing: Conflict after nova's 4 attempts.
    def always(attempt):
        c = nova_pgpu.get_provider(pl, target)
        toggled = set(c["traits"]) ^ {"CUSTOM_AGENT_RACE"}  # a real change: new generation
        pl.request("PUT", "/resource_providers/%s/traits" % c["uuid"],
                   {"resource_provider_generation": c["generation"], "traits": sorted(toggled)})
    try:
        nova_pgpu.nova_update(pl, target, inventory=nova_pgpu.nova_inventory(2, "CUSTOM_A40_8Q"),
                              between=always)
        check(False, "a writer that always wins makes nova_update give up")
    except nova_pgpu.Conflict:
        check(True, "a writer that always wins makes nova_update give up after 4 attempts")

    # CLI smoke test.
    cli = subprocess.run([sys.executable, os.path.join(ROOT, "tests", "support", "nova_pgpu.py"),
                          "--url", url, "show", target], capture_output=True, text=True)
    check(cli.returncode == 0 and json.loads(cli.stdout)["name"] == target, "CLI show")

    print("%d failure(s)" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
