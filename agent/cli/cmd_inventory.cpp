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
  --json              print JSON (schema: README.md, "Inventory JSON")
  --fixture, --sysfs-root, --pci-ids, --libvirt-uri, --hostname: where the
                      host is read from (below); libvirt's node devices are
                      also cross-checked with sysfs

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
  if (a.help) return show_help(out, kInventoryHelp, true);
  auto src = host_sources(a);
  if (!src) return usage_error(err, "inventory", src.error().message);
  auto cfg = load_config_for(config_path);
  if (!cfg) return fail(err, "inventory", cfg.error());
  LoadOptions lo;
  lo.cross_check_libvirt = true;
  lo.pools = lo.layouts = false;  // the inventory judges GPUs; pools are report's and nova-config's
  auto host = load_host(*src, *cfg, lo);
  if (!host) return fail(err, "inventory", host.error());
  if (a.flags.count("json")) write_inventory_json(host->inventory, out);
  else out << inventory_to_table(host->inventory);
  return 0;
}

}  // namespace gpu_agent
