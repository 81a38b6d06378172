#!/usr/bin/python3
"""nova's own vGPU ([devices] / [mdev_*]) config handling as a test oracle (Debian python3-nova:
Zed 26, 2025.1 31 and 2026.2 34; the driver helpers each release has are feature-detected).

Run with Debian's interpreter, /usr/bin/python3 (python3-nova is not in a pyenv/venv).

Usage:
  nova_vgpu_oracle.py NOVA_CONF [--nodename NODE] [--mdev PARENT,TYPE,AVAILABLE[,EXISTING]]...
                                [--device-spec [--fixture HOST.sysfs.txt]]

What it does, in nova-compute's order:
 1. oslo.config reads NOVA_CONF only (default_config_files=[NOVA_CONF]; /etc/nova is not read),
    with nova.conf's options registered (the deprecated name [devices] enabled_vgpu_types
    lands in enabled_mdev_types).
 2. nova.conf.devices.register_dynamic_opts(CONF), as ComputeManager.init_host() does
    (nova/compute/manager.py:1510), so [mdev_<type>] device_addresses / mdev_class exist
    (and [vgpu_<type>] device_addresses is read as their deprecated group).
    Values are then read from the groups: a bad mdev_class (not VGPU or CUSTOM_[A-Z0-9_]+)
    fails here, as it would in nova-compute.
 3. LibvirtDriver._get_supported_vgpu_types() (nova/virt/libvirt/driver.py:7856), the
    driver's own function, run on a stub `self` that holds only what LibvirtDriver.__init__
    sets up for it (pgpu_type_mapping, mdev_class_mapping, mdev_classes; driver.py:527-536).
    No libvirt connection is made. Its InvalidLibvirtMdevConfig (an address in two types,
    a malformed PCI address) is nova's rejection.
 4. With --mdev (one per parent device, e.g. 0000:41:00.4,nvidia-558,1,0): the driver's own
    _get_gpu_inventories() and _ensure_pgpu_providers() on a real
    nova.compute.provider_tree.ProviderTree rooted at NODE (default "compute1"), with
    _get_mdev_capable_devices()/_get_mediated_devices() stubbed from the --mdev list
    (AVAILABLE = available_instances of TYPE on PARENT, EXISTING = mdevs of TYPE already
    created on it). Prints the child providers nova would create: name, resource class,
    inventory, traits.
 5. With --device-spec: [pci] alias and device_spec through nova_oracle.py (same directory),
    the Whitelist / alias parsers; --fixture as there.

Also reported (never an error in nova, a warning in its log): groups present in the file
for types that are not enabled ("[mdev_X] for a type not in enabled_mdev_types" is ignored
by nova, listed under "ignored_groups"), and nova's fallback when a type has no
device_addresses while several types are enabled (only the first type is used).

Prints JSON:
  {"ok": true, "release": "26.x", "raw": {...},
   "enabled_mdev_types": [...],                 # what [devices] enabled_mdev_types holds
   "types": {"nvidia-558": {"group": "mdev_nvidia-558", "device_addresses": [...],
                            "mdev_class": "VGPU", "max_instances": null|N}},
   "max_instances_supported": false,           # this release has no [mdev_*] max_instances
   "driver": {"supported_vgpu_types": [...],   # _get_supported_vgpu_types() result
              "pgpu_type_mapping": {addr: type}, "mdev_class_mapping": {addr: class},
              "mdev_classes": [...], "fallback_to_first_type": bool},
   "ignored_groups": [...], "warnings": [...],
   "providers": [{"name": "compute1_pci_0000_41_00_4", "parent": "compute1",
                  "resource_class": "VGPU", "inventory": {...}, "traits": []}],   # with --mdev
   "pci": {...}}                                # with --device-spec: nova_oracle.py's JSON
--strict: also exit 1 (stage "strict") on what nova accepts with a warning only.
Exit 0 when nova accepts the config, 1 with {"ok": false, "stage", "error_class", "error"}
when it does not, 2 on bad usage.
"""
import argparse
import collections
import configparser
import json
import os
import re
import subprocess
import sys

os.environ.setdefault("OS_NOVA_DISABLE_EVENTLET_PATCHING", "1")

import nova.conf  # noqa: E402
import nova.version  # noqa: E402
import os_resource_classes as orc  # noqa: E402
from nova.compute import provider_tree as nova_provider_tree  # noqa: E402
from nova.virt.libvirt import driver as libvirt_driver  # noqa: E402

CONF = nova.conf.CONF
LD = libvirt_driver.LibvirtDriver


def fail(stage, exc):
    print(json.dumps({"ok": False, "stage": stage, "error_class": type(exc).__name__,
                      "error": str(exc)}, indent=2))
    sys.exit(1)


def libvirt_name(address):
    """0000:41:00.4 -> pci_0000_41_00_4, the libvirt nodedev name nova keys devices by."""
    return "pci_" + address.replace(":", "_").replace(".", "_")


# The driver's vGPU helpers this oracle runs, and those they call; each release has a
# few of its own (nova 31: pgpu_type_default, mdev_type_max_mapping; nova 34:
# _get_device_address and virtual mdev parents instead of _get_pci_id_from_libvirt_name).
# Whatever this nova's LibvirtDriver has of them is used: feature-detected, never pinned.
DRIVER_HELPERS = ["_get_supported_vgpu_types", "_get_vgpu_type_per_pgpu", "_get_resource_class_for_device",
                  "_get_supported_mdev_resource_classes", "_count_mediated_devices",
                  "_count_mdev_capable_devices", "_get_gpu_inventories", "_ensure_pgpu_providers",
                  "_get_device_address", "_validate_device_address", "_is_virtual_mdev"]
STATIC_HELPERS = ["_get_pci_id_from_libvirt_name"]  # nova 33 and before


class DriverStub:
    """Just enough of LibvirtDriver for its vGPU helpers: nova's functions, our `self`.

    The attributes are those LibvirtDriver.__init__ sets for them (pgpu_type_mapping,
    mdev_class_mapping, mdev_classes, and from nova 31 mdev_type_max_mapping and
    pgpu_type_default, from 34 virtual_mdevs); the two host-listing methods are replaced by
    the --mdev description of the host.
    """

    def __init__(self, host_mdevs):
        self.host_mdevs = host_mdevs  # [(address, type, available, existing)]
        self.pgpu_type_mapping = collections.defaultdict(str)
        self.mdev_class_mapping = collections.defaultdict(lambda: orc.VGPU)
        self.mdev_classes = set([])
        self.mdev_type_max_mapping = collections.defaultdict(str)
        self.pgpu_type_default = None
        self.virtual_mdevs = set()
        self.supported_vgpu_types = self._get_supported_vgpu_types()

    # Stubs for what libvirt's node devices would say (same shapes as the driver's).
    def _get_mdev_capable_devices(self, types=None):
        out = []
        for addr, mtype, available, _existing in self.host_mdevs:
            if types and mtype not in types:
                continue
            out.append({"dev_id": libvirt_name(addr), "vendor_id": 0x10de,
                        "types": {mtype: {"availableInstances": available,
                                          "name": mtype, "deviceAPI": "vfio-pci"}}})
        return out

    def _get_mediated_devices(self, types=None):
        out = []
        for addr, mtype, _available, existing in self.host_mdevs:
            if types and mtype not in types:
                continue
            for i in range(existing):
                out.append({"dev_id": "mdev_%s_%d" % (libvirt_name(addr), i),
                            "uuid": "00000000-0000-0000-0000-%012d" % i,
                            "parent": libvirt_name(addr), "type": mtype,
                            "iommu_group": 0})
        return out


for _name in DRIVER_HELPERS:
    if hasattr(LD, _name):
        setattr(DriverStub, _name, getattr(LD, _name))
for _name in STATIC_HELPERS:
    if hasattr(LD, _name):
        setattr(DriverStub, _name, staticmethod(getattr(LD, _name)))


def parse_mdev(text):
    parts = text.split(",")
    if len(parts) not in (3, 4):
        raise argparse.ArgumentTypeError("--mdev wants PARENT,TYPE,AVAILABLE[,EXISTING]: %r" % text)
    existing = int(parts[3]) if len(parts) == 4 else 0
    return (parts[0], parts[1], int(parts[2]), existing)


def raw_groups(path):
    """Section names of the file, as written (for reporting ignored groups only)."""
    cp = configparser.RawConfigParser(strict=False)
    cp.optionxform = str
    try:
        cp.read(path, encoding="utf-8")
    except configparser.Error:
        return []
    return cp.sections()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("conf")
    ap.add_argument("--nodename", default="compute1")
    ap.add_argument("--mdev", action="append", type=parse_mdev, default=[])
    ap.add_argument("--device-spec", action="store_true")
    ap.add_argument("--fixture")
    ap.add_argument("--strict", action="store_true",
                    help="also exit 1 on what nova only warns about (ignored groups, fallback)")
    a = ap.parse_args()
    if not os.path.exists(a.conf):
        print("nova_vgpu_oracle: %s does not exist" % a.conf, file=sys.stderr)
        sys.exit(2)

    try:
        # only this file: never /etc/nova/nova.conf.d, which a rollout on this machine may fill
        CONF([], project="nova", default_config_files=[a.conf], default_config_dirs=[])
    except Exception as e:  # oslo.config parse errors
        fail("oslo.config", e)
    out = {"ok": True, "release": nova.version.version_string()}
    try:
        enabled = list(CONF.devices.enabled_mdev_types)
    except Exception as e:
        fail("oslo.config", e)
    out["enabled_mdev_types"] = enabled

    # As ComputeManager.init_host(): groups for every enabled type.
    nova.conf.devices.register_dynamic_opts(CONF)
    max_supported = False
    types = {}
    for t in enabled:
        group = getattr(CONF, "mdev_%s" % t)
        try:
            entry = {"group": "mdev_%s" % t,
                     "device_addresses": list(group.device_addresses),
                     "mdev_class": group.mdev_class}
        except Exception as e:  # ConfigFileValueError: mdev_class regex / length
            fail("mdev_%s" % t, e)
        try:
            entry["max_instances"] = group.max_instances
            max_supported = True
        except Exception:  # cfg.NoSuchOptError: not in this release
            entry["max_instances"] = None
        types[t] = entry
    out["types"] = types
    out["max_instances_supported"] = max_supported

    try:
        stub = DriverStub(a.mdev)
    except Exception as e:  # InvalidLibvirtMdevConfig
        fail("libvirt_driver", e)
    fallback = bool(enabled) and stub.supported_vgpu_types != enabled
    out["driver"] = {
        "helper": "LibvirtDriver._get_supported_vgpu_types on a stub self",
        "supported_vgpu_types": list(stub.supported_vgpu_types),
        "pgpu_type_mapping": dict(stub.pgpu_type_mapping),
        "mdev_class_mapping": dict(stub.mdev_class_mapping),
        "mdev_classes": sorted(stub.mdev_classes),
        "fallback_to_first_type": fallback,
    }
    warnings = []
    if fallback:
        warnings.append("a type in enabled_mdev_types has no [mdev_<type>] device_addresses: "
                        "nova uses only the first type, %s, for every pGPU, as VGPU"
                        % enabled[0])
    ignored = []
    sections = raw_groups(a.conf)
    for sec in sections:
        m = re.match(r"^(mdev|vgpu)_(.+)$", sec)
        if m and m.group(2) not in enabled:
            ignored.append(sec)
        if m and m.group(2) in enabled and not max_supported:
            cp = configparser.RawConfigParser(strict=False)
            cp.read(a.conf, encoding="utf-8")
            if cp.has_option(sec, "max_instances"):
                warnings.append("[%s] max_instances is not an option in nova %s: ignored"
                                % (sec, out["release"]))
        if m and m.group(1) == "vgpu" and m.group(2) in enabled:
            # Only device_addresses has deprecated_group='vgpu_<type>' (nova/conf/devices.py:78);
            # mdev_class written in a [vgpu_<type>] group is not read.
            cp = configparser.RawConfigParser(strict=False)
            cp.read(a.conf, encoding="utf-8")
            if cp.has_option(sec, "mdev_class"):
                warnings.append("[%s] mdev_class is not read by nova (only device_addresses "
                                "has the deprecated group); use [mdev_%s]" % (sec, m.group(2)))
    if ignored:
        warnings.append("groups for types not in enabled_mdev_types are ignored by nova: "
                        + ", ".join(ignored))
    out["ignored_groups"] = ignored
    out["warnings"] = warnings
    if a.strict and warnings:
        fail("strict", RuntimeError("; ".join(warnings)))

    if a.mdev:
        tree = nova_provider_tree.ProviderTree()
        tree.new_root(a.nodename, "00000000-0000-0000-0000-000000000001")
        try:
            inventories = stub._get_gpu_inventories()
            stub._ensure_pgpu_providers(inventories, tree, a.nodename)
        except Exception as e:
            fail("libvirt_driver", e)
        providers = []
        for name in sorted(tree.get_provider_uuids()):
            data = tree.data(name)
            if data.parent_uuid is None:
                continue
            (rc, inv), = data.inventory.items()
            providers.append({"name": data.name, "parent": a.nodename,
                              "resource_class": rc, "inventory": inv,
                              "traits": sorted(data.traits)})
        providers.sort(key=lambda p: p["name"])
        out["providers"] = providers
        out["skipped_parents"] = sorted(
            libvirt_name(addr) for addr, *_ in a.mdev
            if "%s_%s" % (a.nodename, libvirt_name(addr)) not in {p["name"] for p in providers})

    if a.device_spec or a.fixture:
        oracle = os.path.join(os.path.dirname(os.path.abspath(__file__)), "nova_oracle.py")
        cmd = [sys.executable, oracle, a.conf] + (["--fixture", a.fixture] if a.fixture else [])
        r = subprocess.run(cmd, capture_output=True, text=True)
        try:
            pci = json.loads(r.stdout)
        except ValueError:
            print(r.stdout + r.stderr, file=sys.stderr)
            sys.exit(2)
        out["pci"] = pci
        if r.returncode != 0:
            out.update({"ok": False, "stage": "pci_" + pci.get("stage", "?"),
                        "error_class": pci.get("error_class"), "error": pci.get("error")})
            print(json.dumps(out, indent=2, default=str))
            sys.exit(1)
    print(json.dumps(out, indent=2, default=str))


if __name__ == "__main__":
    main()
