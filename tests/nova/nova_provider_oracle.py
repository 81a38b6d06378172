#!/usr/bin/python3
"""nova's own provider-config code reading what
`gpu-agent nova-config --format provider-yaml` writes.

Run with Debian's /usr/bin/python3 (python3-nova, Zed):

  nova_provider_oracle.py --agent build/agent/gpu-agent --data tests/data

A generated file goes through nova.compute.provider_config._parse_provider_yaml
and _validate_provider_config (one file); the directory holding it through
get_provider_configs, as nova-compute loads [compute] provider_config_location
(every *.yaml, sorted, duplicates refused). nova must accept the file and see
exactly the agent's [agent] host_traits on $COMPUTE_NODE, and nothing else;
deliberately broken variants must be refused with nova's own error. The agent
must refuse to write a file without host traits (nova would ignore it).

With a [vgpu:*] layout (A40-24Q on the a40-sriov-vgpu fixture) the file also
names nova's pGPU providers, '<node>_pci_0000_41_00_4', one per VF: nova must
accept it, with and without host traits, each name must be one nova's libvirt
driver parses back to a VF of the layout (LibvirtDriver._get_pci_id_from_libvirt_name),
and each carries the layout's traits.
Prints one line per check; exit 0 when all pass, 1 otherwise.
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile

os.environ.setdefault("OS_NOVA_DISABLE_EVENTLET_PATCHING", "1")

from nova import exception  # noqa: E402
from nova.compute import provider_config  # noqa: E402
from nova.virt.libvirt import driver as libvirt_driver  # noqa: E402

TRAITS = ["CUSTOM_SHARE_GPU_XXX_HOST_LEVEL3", "CUSTOM_GPU_HOST_IB"]
VGPU_LAYOUT = ("[vgpu:a40_24q]\naddresses = 0000:41:00.0\ntype = A40-24Q\n"
               "traits = CUSTOM_TENANT_GOLD\n")
VGPU_TRAITS = ["CUSTOM_TENANT_GOLD", "CUSTOM_VGPU_A40_24Q", "CUSTOM_VGPU_CUDA", "CUSTOM_VGPU_FB_24G"]

failures = []


def check(ok, what, detail=""):
    print(("ok    " if ok else "FAIL  ") + what + ("" if ok else ": " + detail))
    if not ok:
        failures.append(what)


def agent(binary, config_text, *args, cwd=None):
    with tempfile.NamedTemporaryFile("w", suffix=".conf", delete=False) as f:
        f.write(config_text)
        conf = f.name
    try:
        return subprocess.run([binary, "--config", conf, "nova-config", *args],
                              capture_output=True, text=True, cwd=cwd)
    finally:
        os.unlink(conf)


def nova_file(path):
    """One file, as nova parses and validates it: (providers, error)."""
    try:
        doc = provider_config._parse_provider_yaml(path)
        return provider_config._validate_provider_config(doc, path), None
    except exception.ProviderConfigException as e:
        return None, str(e)


def nova_dir(path):
    try:
        return provider_config.get_provider_configs(path), None
    except exception.ProviderConfigException as e:
        return None, str(e)


def broken(good_text, tmp, name, old, new):
    assert old in good_text, (name, old)
    path = os.path.join(tmp, name)
    with open(path, "w") as f:
        f.write(good_text.replace(old, new, 1))
    return path


def vgpu_checks(a, tmp):
    """The layout's traits on nova's pGPU providers, with and without host traits."""
    host = os.path.join(a.data, "hosts", "a40-sriov-vgpu.sysfs.txt")  # @hostname gpu-a40-0
    for label, config, compute in (
            ("vGPU + host traits", "[agent]\nhost_traits = %s\nhost_traits_owner = nova\n%s"
             % (TRAITS[0], VGPU_LAYOUT), True),
            ("vGPU only", VGPU_LAYOUT, False)):
        conf_dir = os.path.join(tmp, "vgpu-" + str(compute))
        os.mkdir(conf_dir)
        target = os.path.join(conf_dir, "gpu-agent.yaml")
        r = agent(a.agent, config, "--fixture", host, "--format", "provider-yaml", "-o", target)
        check(r.returncode == 0, label + ": agent writes the provider config", r.stderr)
        if r.returncode != 0:
            continue
        providers, err = nova_file(target)
        check(err is None, label + ": nova accepts the file", str(err))
        configs, derr = nova_dir(conf_dir)
        check(derr is None, label + ": nova-compute loads the directory", str(derr))
        if providers is None or configs is None:
            continue
        names = [p["identification"].get("name") for p in providers]
        check(("$COMPUTE_NODE" in names) == compute, label + ": $COMPUTE_NODE only with host traits", str(names))
        pgpus = [p for p in providers if p["identification"].get("name") != "$COMPUTE_NODE"]
        check(len(pgpus) == 32, label + ": one pGPU provider per VF of 0000:41:00.0", str(len(pgpus)))
        addresses = set()
        for p in pgpus:
            name = p["identification"]["name"]
            node, _, dev = name.partition("_pci_")
            addr = libvirt_driver.LibvirtDriver._get_pci_id_from_libvirt_name("pci_" + dev)
            if node != "gpu-a40-0" or not addr or not addr.startswith("0000:41:"):
                check(False, label + ": pGPU provider named as nova's libvirt driver does", name)
                break
            addresses.add(addr)
            if sorted(p["traits"]["additional"]) != VGPU_TRAITS:
                check(False, label + ": the layout's traits on " + name, str(p["traits"]))
                break
        else:
            check(len(addresses) == 32 and "0000:41:00.4" in addresses and "0000:41:00.0" not in addresses,
                  label + ": pGPU names parse back to the 32 VFs, not the PF", str(sorted(addresses)))
            check(sorted(configs) == sorted(names), label + ": the directory has the same providers",
                  str(sorted(configs)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--agent", required=True)
    ap.add_argument("--data", required=True)
    a = ap.parse_args()
    host = os.path.join(a.data, "hosts", "a100-8x-passthrough.sysfs.txt")
    config = ("[agent]\nhost_traits = %s, %s\nhost_traits_owner = nova\n"
              % (TRAITS[0], TRAITS[1]))

    tmp = tempfile.mkdtemp(prefix="gpu-agent-provider-")
    try:
        conf_dir = os.path.join(tmp, "provider_config")
        os.mkdir(conf_dir)
        target = os.path.join(conf_dir, "gpu-agent.yaml")
        r = agent(a.agent, config, "--fixture", host, "--format", "provider-yaml", "-o", target)
        check(r.returncode == 0, "agent writes the provider config", r.stderr)
        if r.returncode != 0:
            return 1
        shown = agent(a.agent, config, "--fixture", host, "--format", "provider-yaml")
        with open(target) as f:
            text = f.read()
        check(shown.returncode == 0 and shown.stdout == text, "stdout is the file's content")
        check(sorted(os.listdir(conf_dir)) == ["gpu-agent.yaml"], "-o leaves no temporary beside it",
              str(os.listdir(conf_dir)))

        # One file, as _parse_provider_yaml + _validate_provider_config see it.
        providers, err = nova_file(target)
        check(err is None, "nova accepts the file", str(err))
        if providers is not None:
            check(len(providers) == 1, "one provider", str(providers))
            p = providers[0]
            check(p["identification"] == {"name": "$COMPUTE_NODE"},
                  "identified as $COMPUTE_NODE", str(p["identification"]))
            check(sorted(p["traits"]["additional"]) == sorted(TRAITS),
                  "exactly the host traits", str(p["traits"]))
            check("inventories" not in p, "no inventories", str(p))

        # The directory, as nova-compute loads provider_config_location.
        configs, err = nova_dir(conf_dir)
        check(err is None, "nova-compute loads the directory", str(err))
        if configs is not None:
            check(list(configs) == ["$COMPUTE_NODE"], "only $COMPUTE_NODE", str(list(configs)))
            check(sorted(configs["$COMPUTE_NODE"]["traits"]["additional"]) == sorted(TRAITS),
                  "directory: exactly the host traits", str(configs))

        # Broken on purpose: nova must refuse each with its own message.
        bad = os.path.join(tmp, "bad")
        os.mkdir(bad)
        cases = [
            ("standard-trait.yaml", "- " + TRAITS[1], "- HW_GPU_API_VULKAN",
             "Invalid traits, only custom traits are allowed"),
            ("schema-2.yaml", "schema_version: '1.0'", "schema_version: '2.0'",
             "Unsupported schema major version: 2"),
            ("no-identification.yaml", "name: '$COMPUTE_NODE'", "nickname: '$COMPUTE_NODE'",
             "did not pass validation"),
        ]
        for name, old, new, expected in cases:
            _, err = nova_file(broken(text, bad, name, old, new))
            check(err is not None and expected in err, "nova refuses " + name, str(err))
        dup = os.path.join(tmp, "dup")
        os.mkdir(dup)
        shutil.copy(target, os.path.join(dup, "gpu-agent.yaml"))
        shutil.copy(target, os.path.join(dup, "gpu-agent-copy.yaml"))
        _, err = nova_dir(dup)
        check(err is not None and "has multiple definitions" in err,
              "nova-compute refuses two files for $COMPUTE_NODE", str(err))

        # No host traits: nova would ignore the provider (a warning only), so the agent refuses.
        empty_target = os.path.join(tmp, "empty.yaml")
        r = agent(a.agent, "[agent]\n", "--fixture", host, "--format", "provider-yaml", "-o", empty_target)
        check(r.returncode == 2 and "[agent] host_traits" in r.stderr,
              "no host traits: exit 2 naming [agent] host_traits", "%d %s" % (r.returncode, r.stderr))
        check(not os.path.exists(empty_target), "no host traits: nothing written")

        vgpu_checks(a, tmp)
    finally:
        shutil.rmtree(tmp)

    print("%d failure(s)" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
