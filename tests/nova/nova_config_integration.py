#!/usr/bin/python3
"""Integration: the real gpu-agent binary writes nova's [pci] config for fixture
hosts, and nova's own parsers (nova_oracle.py, Debian python3-nova) read it.

For every case: nova accepts the snippet; the device specs match exactly the
devices they should (each assignable GPU of the pool and the other functions of
its card in its IOMMU group, and no other PCI device of the fixture host, every
device tried); each spec matches the devices the agent says it does; the
aliases are the pools' names with their IDs and numa_policy. Then deliberately
broken snippets, to show nova (and so the oracle) rejects them.

Usage: nova_config_integration.py --agent BIN --data TESTS_DATA_DIR [--oracle nova_oracle.py] [--release R]
  --release R  the release the main cases are generated for (default zed): the release of
               the nova this runs with (the matrix runs it inside a Debian root of that
               release, tests/matrix). "detected": the one gpu-agent detects from the
               installed nova (checked to say so). What differs is feature-detected.
  --matrix     only the cases of that release (the older releases' option names are
               proved on the host's Zed run)
Exit 0 when every check passes, 1 otherwise (each failure printed).
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile

FAILURES = []
NOVA = {}  # what the oracle said of the nova it runs: "version"


def check(cond, what):
    print(("ok    " if cond else "FAIL  ") + what)
    if not cond:
        FAILURES.append(what)
    return cond


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


class Env:
    def __init__(self, agent, data, oracle, tmp):
        self.agent, self.data, self.oracle, self.tmp = agent, data, oracle, tmp
        self.n = 0

    def path(self, name):
        self.n += 1
        return os.path.join(self.tmp, "%02d-%s" % (self.n, name))

    def host(self, name):
        return os.path.join(self.data, "hosts", name + ".sysfs.txt")

    def oracle_run(self, conf, fixture=None):
        cmd = ["/usr/bin/python3", self.oracle, conf] + (["--fixture", fixture] if fixture else [])
        env = dict(os.environ, OS_NOVA_DISABLE_EVENTLET_PATCHING="1")
        p = run(cmd, env=env)
        try:
            out = json.loads(p.stdout)
            if "nova_version" in out:
                NOVA["version"] = out["nova_version"]
            return p.returncode, out
        except ValueError:
            return p.returncode, {"stdout": p.stdout, "stderr": p.stderr}

    def inventory(self, fixture):
        p = run([self.agent, "inventory", "--json", "--fixture", fixture, "--libvirt-uri", "none"])
        assert p.returncode == 0, p.stderr
        return json.loads(p.stdout)


def default_expected(inv):
    """Every assignable passthrough GPU and the other functions of its card in its group."""
    out = set()
    for g in inv["gpus"]:
        if g["assignable"] and g["mode"] == "passthrough":
            out.add(g["address"])
            out.update(m["address"] for m in g["iommu_group_member_details"] if m["same_card"])
    return out


def case(env, title, fixture, expected, extra=(), config=None, release="zed", numa_policy="preferred",
         aliases=None, pool_gpus=None):
    """Generate (role all, INI and JSON), feed nova, compare matches with `expected`."""
    print("== " + title)
    base = [env.agent] + (["--config", config] if config else []) + ["nova-config", "--fixture", fixture,
                                                                     "--nova-release", release] + list(extra)
    conf = env.path("all.conf")
    p = run(base + ["-o", conf])
    if not check(p.returncode == 0, "%s: gpu-agent nova-config exits 0 (%s)" % (title, p.stderr.strip())):
        return
    pj = run(base + ["--format", "json"])
    check(pj.returncode == 0, "%s: --format json exits 0" % title)
    gen = json.loads(pj.stdout)
    text = open(conf).read()
    check(gen["ini"] == text, "%s: the JSON's ini is the INI written by -o" % title)
    # device_spec from Zed (nova 26), passthrough_whitelist before
    option = "device_spec" if gen["nova_major"] >= 26 else "passthrough_whitelist"
    check(gen["nova_release_source"] == "configured", "%s: the JSON says the release was configured" % title)
    other = "passthrough_whitelist" if option == "device_spec" else "device_spec"
    check(re.search(r"^%s = " % option, text, re.M) is not None and
          re.search(r"^%s = " % other, text, re.M) is None,
          "%s: nova %s takes %s, not %s" % (title, release, option, other))

    # The scheduler note, uncommented, is what nova-scheduler would read.
    scheduler = text.replace("# [filter_scheduler]\n", "[filter_scheduler]\n").replace(
        "# enabled_filters = ", "enabled_filters = ")
    with open(conf, "w") as f:
        f.write(scheduler)
    rc, out = env.oracle_run(conf, fixture)
    if not check(rc == 0 and out.get("ok"), "%s: nova accepts the snippet (%s)" % (title, out.get("error", ""))):
        return
    check("PciPassthroughFilter" in out["enabled_filters"],
          "%s: [filter_scheduler] enabled_filters from the note has PciPassthroughFilter" % title)

    devices = out["devices"]
    matched = {d["address"] for d in devices if d["matching_spec_index"] is not None}
    check(len(devices) > len(expected), "%s: tried all %d PCI devices of the fixture" % (title, len(devices)))
    check(matched == expected, "%s: the specs match exactly %s (nova matched %s)" %
          (title, sorted(expected), sorted(matched)))
    check(all(d["assignable"] == (d["address"] in expected) for d in devices),
          "%s: Whitelist.device_assignable() agrees for every device" % title)
    specs = gen["device_specs"]
    check(len(specs) == len(out["device_specs"]), "%s: nova sees %d device specs" % (title, len(specs)))
    for i, s in enumerate(specs):
        mine = {d["address"] for d in devices if d["matching_spec_index"] == i}
        check(mine == set(s["devices"]), "%s: spec %d %s matches %s" % (title, i, s["value"], sorted(mine)))

    # What nova-compute can claim for an alias: whitelisted devices its specs match.
    pool_gpus = {name: set(addrs) for name, addrs in (pool_gpus or {}).items()}
    for name, addrs in pool_gpus.items():
        claim = {d["address"] for d in devices if d["assignable"] and name in d["aliases"]}
        check(claim == addrs, "%s: alias %s can claim exactly %s (nova: %s)" % (title, name, sorted(addrs),
                                                                              sorted(claim)))

    want_aliases = aliases or {}
    got = out["aliases"]
    check(set(got) == set(want_aliases), "%s: alias names %s" % (title, sorted(got)))
    for name, ids in want_aliases.items():
        if name not in got:
            continue
        check(got[name]["numa_policy"] == numa_policy, "%s: alias %s numa_policy %s" % (title, name, numa_policy))
        check(sorted((s["vendor_id"], s["product_id"]) for s in got[name]["specs"]) == sorted(ids),
              "%s: alias %s requests %s" % (title, name, ids))

    # Role compute: device specs and aliases, no scheduler note. Role api: aliases only.
    for role in ("compute", "api"):
        rconf = env.path(role + ".conf")
        p = run(base + ["--role", role, "-o", rconf])
        rc, rout = env.oracle_run(rconf)
        check(p.returncode == 0 and rc == 0, "%s: role %s accepted by nova" % (title, role))
        if rc == 0:
            n_specs = len(rout["device_specs"])
            check((n_specs == len(specs)) if role == "compute" else (n_specs == 0),
                  "%s: role %s has %d device specs" % (title, role, n_specs))
            check(set(rout["aliases"]) == set(want_aliases), "%s: role %s has the aliases" % (title, role))
    return text


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--agent", required=True)
    ap.add_argument("--data", required=True)
    ap.add_argument("--oracle", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "nova_oracle.py"))
    ap.add_argument("--release", default="zed")
    ap.add_argument("--matrix", action="store_true")
    a = ap.parse_args()
    rel = a.release
    with tempfile.TemporaryDirectory(prefix="gpu-agent-nova-") as tmp:
        env = Env(a.agent, a.data, a.oracle, tmp)

        a100 = env.host("a100-8x-passthrough")
        if rel == "detected":
            p = run([a.agent, "nova-config", "--fixture", a100, "--format", "json"])
            gen = json.loads(p.stdout)
            rel = gen["nova_release"]
            check(gen["nova_release_source"] == "detected",
                  "gpu-agent detects the installed nova: %s (nova %s)" % (rel, gen["nova_major"]))
        inv = env.inventory(a100)
        a100_all = default_expected(inv)
        check(len(a100_all) == 8, "a100: the inventory has 8 assignable GPUs")
        good = case(env, "a100 " + rel, a100, a100_all, release=rel, aliases={"10de_20b2": [("10de", "20b2")]},
                    pool_gpus={"10de_20b2": a100_all})
        if not a.matrix:
            case(env, "a100 yoga", a100, a100_all, release="yoga", aliases={"10de_20b2": [("10de", "20b2")]})
            case(env, "a100 2023.1 required", a100, a100_all, release="2023.1", numa_policy="required",
                 extra=["--numa-policy", "required"], aliases={"10de_20b2": [("10de", "20b2")]})

        # HDMI audio bound to vfio-pci too (the fix the inventory gives for the committed host)
        src = open(env.host("consumer-gpu-hdmi-audio")).read()
        check("snd_hda_intel" in src, "consumer: the base fixture has the audio function on snd_hda_intel")
        vfio = env.path("consumer-gpu-hdmi-audio-vfio.sysfs.txt")
        with open(vfio, "w") as f:
            f.write(src.replace("snd_hda_intel", "vfio-pci"))
        cinv = env.inventory(vfio)
        cexp = default_expected(cinv)
        check(cexp == {"0000:01:00.0", "0000:01:00.1"}, "consumer-vfio: GPU and its HDMI audio are expected")
        case(env, "consumer-vfio " + rel, vfio, cexp, release=rel, aliases={"10de_2684": [("10de", "2684")]},
             pool_gpus={"10de_2684": {"0000:01:00.0"}})

        # SR-IOV-capable A100s (sriov_totalvfs, no VFs enabled) on vfio-pci: nova's libvirt
        # driver reports them as type-PF, so the alias must ask for type-PF to get them.
        src = open(a100).read()
        pf = env.path("a100-8x-sriov-capable.sysfs.txt")
        with open(pf, "w") as f:
            f.write(re.sub(r"^(f (\S+)/class = 0x030200)$", r"\1\nf \2/sriov_totalvfs = 20\nf \2/sriov_numvfs = 0",
                           src, flags=re.M))
        case(env, "a100 type-PF " + rel, pf, a100_all, release=rel, aliases={"10de_20b2": [("10de", "20b2")]},
             pool_gpus={"10de_20b2": a100_all})

        # An operator pool of 4 of the 8 A100s by address, no default pools: the other
        # four must not be matched, so the specs are by address.
        four = sorted(a100_all)[:4]
        cfgfile = env.path("gpu-agent.conf")
        with open(cfgfile, "w") as f:
            f.write("[agent]\ndefault_pools = false\n\n[pool:A100_Fast]\nresource_class = CUSTOM_PGPU_A100_FAST\n"
                    "addresses = %s\ntraits = CUSTOM_GPU_FAST\n" % ", ".join(four))
        case(env, "a100 [pool:A100_Fast] by address " + rel, a100, set(four), config=cfgfile, release=rel,
             aliases={"a100_fast": [("10de", "20b2")]}, pool_gpus={"a100_fast": set(four)})

        # No assignable GPU: exit 1, says why and what to do, writes nothing.
        print("== errors")
        target = env.path("none.conf")
        p = run([a.agent, "nova-config", "--fixture", env.host("iommu-off"), "--nova-release", rel, "-o", target])
        check(p.returncode == 1 and "iommu_off" in p.stderr and "gpu-agent inventory" in p.stderr,
              "iommu-off: exit 1 naming the problem and the fix (%s)" % p.stderr.strip().splitlines()[0])
        check(not os.path.exists(target), "iommu-off: -o wrote nothing")
        p = run([a.agent, "nova-config", "--fixture", env.host("consumer-gpu-hdmi-audio"), "--nova-release", rel])
        check(p.returncode == 1 and "snd_hda_intel" in p.stderr, "consumer (audio on host driver): exit 1, says why")
        p = run([a.agent, "nova-config", "--fixture", a100, "--nova-release", "folsom"])
        check(p.returncode == 2 and "zed" in p.stderr and "2023.1" in p.stderr,
              "unknown release: exit 2 listing the known ones")
        p = run([a.agent, "nova-config", "--fixture", a100, "--nova-release", "victoria", "--numa-policy", "socket"])
        check(p.returncode == 2 and "socket" in p.stderr, "numa_policy socket before Wallaby: exit 2")
        p = run([a.agent, "nova-config", "--fixture", a100, "-o", os.path.join(tmp, "no", "such", "dir.conf")])
        check(p.returncode == 1 and not os.path.exists(os.path.join(tmp, "no")), "-o into a missing dir: exit 1")

        # nova rejects broken snippets: the oracle can fail.
        print("== nova rejects broken snippets (nova %s)" % NOVA.get("version"))
        # From 2023.1 (nova 27) an alias may name a resource_class (PCI in placement)
        nova_major = int(NOVA.get("version", "0").split(".")[0] or 0)
        check(nova_major > 0, "the oracle says which nova it ran (%s)" % NOVA.get("version"))
        if good:
            broken = {
                "alias vendor 10DEX": (good.replace('"vendor_id": "10de", "product_id": "20b2", "device_type"',
                                                    '"vendor_id": "10DEX", "product_id": "20b2", "device_type"'),
                                       "alias", "PciInvalidAlias"),
                "alias resource_class on Zed": (good.replace('"device_type"',
                                                             '"resource_class": "CUSTOM_X", "device_type"'),
                                                "alias", "PciInvalidAlias"),
                "alias numa_policy mismatch": (good + 'alias = {"name": "10de_20b2", "vendor_id": "10de", '
                                               '"product_id": "20b3", "device_type": "type-PCI", '
                                               '"numa_policy": "required"}\n', "alias", "PciInvalidAlias"),
                "device_spec bus zz": (good.replace('device_spec = {"vendor_id": "10de", "product_id": "20b2"}',
                                                    'device_spec = {"address": "0000:zz:00.0"}'),
                                       "device_spec", "PciConfigInvalidSpec"),
            }
            if nova_major >= 27:
                del broken["alias resource_class on Zed"]
            for what, (text, stage, cls) in broken.items():
                check(text != good, "broken %s: the snippet was changed" % what)
                bconf = env.path("broken.conf")
                with open(bconf, "w") as f:
                    f.write(text)
                rc, out = env.oracle_run(bconf)
                check(rc == 1 and out.get("stage") == stage and out.get("error_class") == cls,
                      "broken %s: nova rejects it (%s: %s)" % (what, out.get("error_class"), out.get("error")))
    print("\n%d failure(s)" % len(FAILURES))
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
