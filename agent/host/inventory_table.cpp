#include "inventory_table.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <sstream>

#include "table.h"

namespace gpu_agent {
namespace {

std::string name_of(const Gpu& g) {
  std::string n;
  if (g.vendor_name) n = *g.vendor_name;
  if (g.product_name) n += (n.empty() ? "" : " ") + *g.product_name;
  else n += (n.empty() ? "" : " ") + std::string("Device ") + g.id_pair().substr(5);
  return n.empty() ? "[" + g.id_pair() + "]" : n;
}

std::string role_word(const Gpu& g) {
  if (g.role == GpuRole::host_display) return "host";
  if (g.role == GpuRole::sriov_pf) return "pf";
  return g.physfn ? "vf" : "guest";
}

}  // namespace

std::string inventory_to_table(const Inventory& inv) {
  std::ostringstream out;
  out << "Host " << inv.hostname << " (name from " << inv.hostname_source << "), IOMMU "
      << (inv.iommu_enabled ? "on" : "off") << ", source " << inv.source << "\n";
  if (inv.gpus.empty()) out << "No GPUs (PCI class 0300/0302/0380, or 1200 of AMD/Intel/NVIDIA) found.\n";
  else {
    TextTable table({{"ADDRESS", 12},
                     {"ID", 9},
                     {"NUMA", 4},
                     {"DRIVER", 10},
                     {"GROUP", 5},
                     {"MODE", 11},
                     {"READY", 5},
                     {"ROLE", 5},
                     {"NAME"}});
    for (const auto& g : inv.gpus)
      table.add_row({g.address.to_string(), g.id_pair(), std::to_string(g.numa_node), g.driver.value_or("-"),
                     g.iommu_group ? std::to_string(*g.iommu_group) : "-", std::string(to_string(g.mode)),
                     g.assignable ? "yes" : "NO", role_word(g), name_of(g)});
    out << "\n" << table.render();
  }
  for (const auto& g : inv.gpus) {
    const bool details = !g.problems.empty() || !g.group_members.empty() || g.sriov || !g.mdev_types.empty() ||
                         !g.vgpu_types.empty() || g.boot_vga || g.role != GpuRole::guest || g.physfn;
    if (!details) continue;
    out << "\n" << g.address.to_string() << " " << name_of(g) << " [" << g.id_pair() << "]\n";
    if (!g.group_members.empty()) {
      out << "  IOMMU group " << *g.iommu_group << " also holds:";
      for (const auto& m : g.group_members)
        out << " " << m.address.to_string()
            << (m.same_card    ? " (same card"
                : m.management ? " (management"
                               : " (other")
            << (m.driver ? ", " + *m.driver : std::string(", no driver")) << ")";
      out << "\n";
    }
    if (g.physfn) out << "  SR-IOV VF of " << g.physfn->to_string() << "\n";
    if (g.sriov) out << "  SR-IOV: " << g.sriov->num_vfs << " of " << g.sriov->total_vfs << " VFs enabled\n";
    if (!g.mdev_types.empty()) {
      // One line per type: A40 hosts repeat 22 types on each of 32 VFs.
      struct Sum {
        std::string name;
        std::optional<int64_t> fb, max;
        int64_t available = 0;
        int parents = 0, parents_free = 0;
        size_t instances = 0;
      };
      std::map<std::string, Sum> sums;
      std::vector<std::string> order;
      for (const auto& t : g.mdev_types) {
        auto [it, fresh] = sums.try_emplace(t.id());
        if (fresh) order.push_back(t.id());
        Sum& s = it->second;
        s.name = t.name();
        s.fb = t.parsed().framebuffer_mib;
        s.max = t.parsed().max_instance;
        s.available += t.available_instances.value_or(0);
        s.parents += 1;
        s.parents_free += t.available_instances.value_or(0) > 0 ? 1 : 0;
        s.instances += t.instances.size();
      }
      out << "  mdev types (" << order.size() << "):\n";
      TextTable table({{"", 12}, {"", 20}, {"", 9}, {}}, "    ");
      for (const auto& id : order) {
        const Sum& s = sums[id];
        std::string available = "available " + std::to_string(s.available);
        if (s.parents > 1)
          available += " on " + std::to_string(s.parents_free) + " of " + std::to_string(s.parents) + " VFs";
        if (s.instances) available += ", " + std::to_string(s.instances) + " in use";
        table.add_row({id, s.name, s.fb ? std::to_string(*s.fb) + " MiB" : "-", available});
      }
      out << table.render();
    }
    if (!g.vgpu_types.empty()) {
      std::map<int64_t, std::pair<std::string, int>> sums;
      for (const auto& t : g.vgpu_types) {
        sums[t.id].first = t.name;
        sums[t.id].second += 1;
      }
      out << "  vendor VFIO vGPU types (" << sums.size() << "), creatable now:\n";
      TextTable table({{"", 6}, {"", 24}, {}}, "    ");
      for (const auto& [id, s] : sums)
        table.add_row({std::to_string(id), s.first, "on " + std::to_string(s.second) + " VF(s)"});
      out << table.render();
    }
    for (const auto& p : g.problems) {
      // A host display's passthrough verdict is for who names it in a [pool:*]: JSON has it.
      if (g.role == GpuRole::host_display && p.code != "host_display" && p.code.rfind("read_", 0) != 0) continue;
      out << (p.blocking ? "  ✗ " : "  ! ") << p.message << "\n";
      out << "    fix: " << p.fix << "\n";
    }
  }
  if (!inv.nvswitches.empty()) {
    out << "\nNVSwitches (" << inv.nvswitches.size() << "; not GPUs, never pooled; see `gpu-agent nova-config`):";
    for (const auto& sw : inv.nvswitches)
      out << " " << sw.address.to_string() << " [" << sw.id_pair() << "] " << sw.driver.value_or("no driver");
    out << "\n";
  }
  if (!inv.mdevs.empty()) out << "\n" << inv.mdevs.size() << " mdev device(s) exist on this host.\n";
  for (const auto& w : inv.warnings) out << "warning: " << w << "\n";
  if (inv.libvirt) {
    const auto& l = *inv.libvirt;
    if (!l.connected) out << "libvirt (" << l.uri << "): not checked: " << l.error << "\n";
    else if (l.disagreements.empty())
      out << "libvirt (" << l.uri << "): agrees with sysfs on " << l.devices_compared << " GPU(s)\n";
    else {
      out << "libvirt (" << l.uri << ") disagrees with sysfs:\n";
      for (const auto& d : l.disagreements) out << "  " << d << "\n";
    }
  }
  return out.str();
}

}  // namespace gpu_agent
