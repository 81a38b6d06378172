"""nova virt driver for the end-to-end tests: nova's FakeDriver plus the PCI
devices of a gpu-agent sysfs fixture host.

nova-compute loads it as compute_driver = gpu_agent_fake_virt.FixtureGPUDriver;
Zed imports drivers only as nova.virt.<name>, so the launcher in
scripts/nova-stack.sh registers this module as sys.modules
['nova.virt.gpu_agent_fake_virt'] before nova's main() runs.

Every get_available_resource() (nova-compute's start and each periodic
update_available_resource) re-reads the fixture named by the environment
variable GPU_AGENT_FAKE_FIXTURE and reports, as libvirt's driver would, every
PCI function that is not a bridge (class 0x0604): address, vendor_id,
product_id, numa_node (None for -1), dev_type (type-PF when sriov_totalvfs > 0,
type-VF with parent_addr when it has a physfn link, else type-PCI). nova's
[pci] device_spec then decides which of them are passthrough devices, exactly
as on a real host: the agent (reading the same fixture) and nova see the same
GPUs, and a device removed from the fixture disappears from both.

FakeDriver's instance memory (spawned servers) lives in the process, as
before; the fixture only adds PCI devices.
"""
import os
import re
import traceback

from oslo_log import log as logging
from oslo_serialization import jsonutils

from nova.virt import fake

LOG = logging.getLogger(__name__)
ADDR = re.compile(r"^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$")


def read_fixture(path):
    """PCI functions of a sysfs fixture: {address: {attr: value, ...}}."""
    devs = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if line.startswith("f ") and " = " in line:
                p, value = line[2:].split(" = ", 1)
                kind = "file"
            elif line.startswith("l ") and " -> " in line:
                p, value = line[2:].split(" -> ", 1)
                kind = "link"
            else:
                continue
            parts = p.split("/")
            if parts[0] != "devices" or len(parts) < 3:
                continue
            addr, attr = parts[-2], parts[-1]
            if not ADDR.match(addr):
                continue
            d = devs.setdefault(addr, {})
            if kind == "file":
                d[attr] = value.strip()
            elif attr == "physfn":
                d["physfn"] = value.rsplit("/", 1)[-1]
    return devs


def pci_devices(path):
    out = []
    for addr, d in sorted(read_fixture(path).items()):
        cls = d.get("class", "")
        if not cls or cls.startswith("0x0604") or "vendor" not in d or "device" not in d:
            continue
        numa = int(d.get("numa_node", "-1"))
        dev_type, parent = "type-PCI", None
        if d.get("physfn"):
            dev_type, parent = "type-VF", d["physfn"]
        elif int(d.get("sriov_totalvfs", "0") or 0) > 0:
            dev_type = "type-PF"
        vendor = d["vendor"].lower().replace("0x", "")
        product = d["device"].lower().replace("0x", "")
        out.append({
            "address": addr, "vendor_id": vendor, "product_id": product,
            "dev_type": dev_type, "status": "available", "parent_addr": parent,
            "numa_node": None if numa < 0 else numa,
            "label": "label_%s_%s" % (vendor, product),
        })
    return out


class FixtureGPUDriver(fake.FakeDriver):
    def get_available_resource(self, nodename):
        res = super().get_available_resource(nodename)
        path = os.environ.get("GPU_AGENT_FAKE_FIXTURE")
        if res and path:
            devs = pci_devices(path)
            # INFO: the end-to-end test counts the "periodic" lines as
            # nova-compute's update_available_resource runs
            caller = "periodic" if any(f.name == "update_available_resource"
                                       for f in traceback.extract_stack()) else "other"
            LOG.info("gpu_agent_fake_virt: %s: %d PCI functions from %s", caller, len(devs), path)
            res["pci_passthrough_devices"] = jsonutils.dumps(devs)
        return res
