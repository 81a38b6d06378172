// gpu-agent inventory: this host's GPUs, their VFs and vGPU types, and whether
// each can be given to guests (and if not, what to fix).
#include <ostream>
#include <string>
#include <vector>

#include "cli_common.h"
#include "commands.h"
#include "inventory_json.h"
#include "inventory_table.h"

namespace gpu_agent {

const char* const kInventoryHelp = R"(Usage: gpu-agent inventory [OPTIONS]

List every GPU (PCI class 0300 VGA and 0302 3D; VFs under their PF) with its
IDs, names, NUMA node, driver, IOMMU group, SR-IOV state and vGPU types, and a
verdict: can it be given to guests (whole-GPU passthrough or vGPU), and if not,
each reason with the command or setting that fixes it.

Options:
  --sysfs-root DIR    read sysfs below DIR (default: /sys)
  --fixture FILE      read a capture made by `gpu-agent capture` instead of sysfs
  --json              print JSON (schema: README.md, "Inventory JSON")
  --pci-ids FILE      pci.ids for vendor and product names
                      (default: libpci's, /usr/share/misc/pci.ids)
  --libvirt-uri URI   cross-check node devices with libvirt and take nova's
                      hostname from it (default: qemu:///system when reading
                      /sys, none for --fixture and --sysfs-root; `none` skips)
  --hostname NAME     the compute node name to report (default: libvirt's
                      hostname, the fixture's, then this host's FQDN)

Examples:
  gpu-agent inventory
  gpu-agent inventory --json | jq '.gpus[] | {address, assignable, reasons}'
  gpu-agent inventory --fixture h100.sysfs.txt
)";

int cmd_inventory(const std::vector<std::string>& argv, const std::optional<std::string>& config_path,
                  std::ostream& out, std::ostream& err) {
  Args a;
  if (auto e = parse_args(argv, 1, with_host_options({}), {"json"}, kHostSourceAliases, a))
    return usage_error(err, "inventory", *e);
  if (a.help) {
    out << kInventoryHelp;
    return 0;
  }
  auto src = host_sources(a);
  if (!src) return usage_error(err, "inventory", src.error().message);
  auto cfg = load_config_for(config_path);
  if (!cfg) return fail(err, "inventory", cfg.error());
  LoadOptions lo;
  lo.cross_check_libvirt = true;
  lo.pools = lo.layouts = false;  // the inventory judges GPUs; pools are report's and nova-config's
  auto host = load_host(*src, *cfg, lo);
  if (!host) return fail(err, "inventory", host.error());
  out << (a.flags.count("json") ? inventory_to_json(host->inventory) : inventory_to_table(host->inventory));
  return 0;
}

}  // namespace gpu_agent
