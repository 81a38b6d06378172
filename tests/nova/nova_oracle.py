#!/usr/bin/python3
"""nova's own [pci] parsers as a test oracle (Debian python3-nova: Zed 26 on Debian 12,
2025.1 (31) on Debian 13, 2026.2 (34) on unstable; what differs is feature-detected).

Run with Debian's interpreter, /usr/bin/python3 (python3-nova is not in a pyenv/venv).

Usage:
  nova_oracle.py NOVA_CONF [--fixture HOST.sysfs.txt]

Reads NOVA_CONF exactly as nova does (oslo.config, no /etc/nova/nova.conf), then
  [pci] alias        -> nova.pci.request.get_alias_from_config() (_get_alias_... before 34)
  [pci] device_spec  -> nova.pci.whitelist.Whitelist(CONF.pci.device_spec)
                        (the deprecated name passthrough_whitelist lands here too)
  [filter_scheduler] enabled_filters, as nova reads it.
With --fixture, every PCI device of a gpu-agent sysfs fixture (format v1) is
turned into the device dict nova-compute builds (vendor_id, product_id,
address, dev_type type-PCI/type-PF/type-VF, parent_addr) and each is asked
which spec of the Whitelist matches it, first match wins, as in
Whitelist.device_assignable(), and which aliases' specs request it
(nova.pci.utils.pci_device_prop_match, as PCI stats filters pools for a
request; dev_type is compared as nova does).

Prints JSON. Exit 0 when nova accepts the config, 1 (with "stage",
"error_class" and "error") when nova rejects it, 2 on bad usage.
"""
import argparse
import json
import os
import posixpath
import sys

os.environ.setdefault("OS_NOVA_DISABLE_EVENTLET_PATCHING", "1")

import nova.conf  # noqa: E402
from nova.pci import request as pci_request  # noqa: E402
from nova.pci import utils as pci_utils  # noqa: E402
from nova.pci import whitelist  # noqa: E402

CONF = nova.conf.CONF

# nova 34 made the alias reader public; earlier releases call it _get_alias_from_config.
get_alias_from_config = getattr(pci_request, "get_alias_from_config", None) or \
    pci_request._get_alias_from_config


def is_assignable(result):
    """Whitelist.device_assignable(): a bool up to nova 30, the matching spec or None from 31."""
    return result is not None and result is not False


def fail(stage, exc):
    print(json.dumps({"ok": False, "stage": stage, "error_class": type(exc).__name__,
                      "error": str(exc)}, indent=2))
    sys.exit(1)


def nova_version():
    try:
        from nova import version
        return version.version_string()
    except Exception:  # noqa: BLE001 - only for the report
        return "unknown"


def fixture_devices(path):
    """Every device under bus/pci/devices of a v1 fixture, as nova's device dict."""
    files, links = {}, {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if line.startswith("f ") or line.startswith("F "):
                k, _, v = line[2:].partition(" = ")
                files[k] = v.strip()
            elif line.startswith("l "):
                k, _, v = line[2:].partition(" -> ")
                links[k] = posixpath.normpath(posixpath.join(posixpath.dirname(k), v))
    devices = []
    for link, target in sorted(links.items()):
        if not link.startswith("bus/pci/devices/"):
            continue
        addr = link.rsplit("/", 1)[1]
        vendor, product = files.get(target + "/vendor"), files.get(target + "/device")
        if vendor is None or product is None:
            continue
        dev = {"vendor_id": vendor.lower().replace("0x", ""),
               "product_id": product.lower().replace("0x", ""),
               "address": addr, "dev_type": "type-PCI", "parent_addr": None,
               "class": files.get(target + "/class", "")}
        if target + "/physfn" in links:
            dev["dev_type"] = "type-VF"
            dev["parent_addr"] = links[target + "/physfn"].rsplit("/", 1)[1]
        elif int(files.get(target + "/sriov_totalvfs", "0") or "0") > 0:
            dev["dev_type"] = "type-PF"
        devices.append(dev)
    return devices


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("conf")
    ap.add_argument("--fixture")
    a = ap.parse_args()
    if not os.path.exists(a.conf):
        print("nova_oracle: %s does not exist" % a.conf, file=sys.stderr)
        sys.exit(2)

    # default_config_files=[conf]: /etc/nova/nova.conf is NOT read.
    try:
        # only this file: never /etc/nova/nova.conf.d, which a rollout on this machine may fill
        CONF([], project="nova", default_config_files=[a.conf], default_config_dirs=[])
    except Exception as e:  # oslo.config parse errors
        fail("oslo.config", e)
    out = {"ok": True,
           "raw_alias": list(CONF.pci.alias),
           "raw_device_spec": list(CONF.pci.device_spec),
           "enabled_filters": list(CONF.filter_scheduler.enabled_filters)}
    try:
        aliases = get_alias_from_config()
    except Exception as e:  # PciInvalidAlias
        fail("alias", e)
    out["nova_version"] = nova_version()
    out["aliases"] = {k: {"numa_policy": v[0], "specs": v[1]} for k, v in aliases.items()}
    try:
        wl = whitelist.Whitelist(CONF.pci.device_spec)
    except Exception as e:  # PciConfigInvalidSpec, PciDeviceInvalid*
        fail("device_spec", e)
    out["device_specs"] = [{"conf": s.dev_spec_conf, "vendor_id": s.vendor_id,
                            "product_id": s.product_id, "tags": s.get_tags()} for s in wl.specs]
    if a.fixture:
        devices = []
        for dev in fixture_devices(a.fixture):
            nova_dev = {k: v for k, v in dev.items() if k != "class"}
            matched = next((i for i, s in enumerate(wl.specs) if s.match(nova_dev)), None)
            dev["matching_spec_index"] = matched
            dev["assignable"] = is_assignable(wl.device_assignable(nova_dev))
            dev["aliases"] = sorted(name for name, (_, specs) in aliases.items()
                                    if pci_utils.pci_device_prop_match(nova_dev, specs))
            devices.append(dev)
        out["devices"] = devices
    print(json.dumps(out, indent=2, default=str))


if __name__ == "__main__":
    main()
