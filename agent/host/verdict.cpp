// The verdict: can this GPU be given to guests, how, and if not, what to do.
#include <cstdio>
#include <set>

#include "inventory.h"

namespace gpu_agent {
namespace {

std::string describe_member(const GroupMember& m) {
  std::string s = m.address.to_string();
  if (m.class_code) {
    char buf[16];
    std::snprintf(buf, sizeof buf, " class %06x", *m.class_code);
    s += buf;
  }
  s += m.driver ? ", driver " + *m.driver : ", no driver";
  return s;
}

// A host or PCI-to-PCI bridge (class 0600, 0604, 0609: a switch port, an AMD dummy host bridge
// with no driver) carries the group's traffic; it is never a device that shares the group. An
// "other" bridge (0680) is not: an NVSwitch on nvidia-nvswitch is a device of its own.
bool is_bridge(const GroupMember& m) {
  if (!m.class_code) return false;
  const uint32_t sub = *m.class_code >> 8;
  return sub == 0x0600 || sub == kClassPciBridge || sub == 0x0609;
}

bool is_gpu_member(const GroupMember& m) { return m.class_code && is_gpu_device(*m.class_code, m.vendor_id); }

std::string member_id(const GroupMember& m) {
  return m.vendor_id && m.product_id ? to_hex(*m.vendor_id, 4) + ":" + to_hex(*m.product_id, 4) : std::string("ID");
}

// Two GPUs in one group (SXM GPUs behind one baseboard switch, in pairs): no slot to change.
Problem gpus_share_group(const Gpu& g, const GroupMember& m) {
  const std::string group = std::to_string(*g.iommu_group);
  return {"group_shared",
          "IOMMU group " + group + " also holds " + describe_member(m) + ", another GPU (" + member_id(m) +
              "): the PCIe switch above both does not isolate them (on an SXM baseboard such as HGX this is how "
              "the board is built), so the two can only be given to one guest together",
          "the agent leaves both out of the pool, since nova hands out single devices; options: enable ACS (or "
          "'PCIe ACS override'/'IOMMU isolation') for the baseboard switches in the firmware if it offers it, "
          "then reboot; or give the pair to one guest together outside nova's pools; or use them on the host",
          true};
}

// Drivers vfio accepts on the other members of a group being assigned.
bool vfio_safe_driver(const std::optional<std::string>& d) {
  return !d || *d == "vfio-pci" || *d == "pci-stub" || *d == "pcieport";
}

bool has_vgpu_support(const Gpu& g) {
  return !g.mdev_types.empty() || !g.vgpu_types.empty() ||
         (g.sriov && g.sriov->total_vfs > 0 && g.driver && *g.driver == "nvidia" && g.vendor_id &&
          *g.vendor_id == 0x10de && g.sriov->num_vfs == 0);
}

// What keeps the vendor's own driver from taking the GPU before vfio-pci does.
std::string host_driver_advice(const std::optional<uint32_t>& vendor) {
  if (vendor == std::optional<uint32_t>(0x10de)) return "blacklist nouveau (and nvidia, on a passthrough-only host)";
  if (vendor == std::optional<uint32_t>(0x1002))
    return "make vfio-pci load before amdgpu (`softdep amdgpu pre: vfio-pci`; blacklist amdgpu only if the host "
           "drives no AMD display itself)";
  if (vendor == std::optional<uint32_t>(0x8086))
    return "make vfio-pci load before i915 and xe (`softdep i915 pre: vfio-pci`, `softdep xe pre: vfio-pci`; "
           "never blacklist them on a host whose console is Intel graphics)";
  return "make vfio-pci load before the GPU's own driver (`softdep DRIVER pre: vfio-pci`)";
}

void judge_passthrough(Gpu& g, bool iommu_enabled) {
  const std::string addr = g.address.to_string();
  const std::string ids = g.id_pair();
  if (!iommu_enabled || !g.iommu_group) {
    if (!iommu_enabled)
      g.problems.push_back({"iommu_off",
                            "IOMMU is off: the host has no IOMMU groups, so no device can be assigned to a guest",
                            "enable VT-d/AMD-Vi in the firmware, add intel_iommu=on iommu=pt (Intel) or "
                            "amd_iommu=on iommu=pt (AMD) to the kernel command line, and reboot",
                            true});
    else
      g.problems.push_back({"no_iommu_group", addr + " is in no IOMMU group although the IOMMU is on",
                            "check dmesg for DMAR/AMD-Vi errors about " + addr +
                                "; the device may sit behind "
                                "a bridge the IOMMU does not cover",
                            true});
  }
  if (!g.driver || *g.driver != "vfio-pci") {
    std::string bound = g.driver ? "bound to " + *g.driver : "bound to no driver";
    g.problems.push_back(
        {"driver_not_vfio", addr + " is " + bound + ", not vfio-pci, so nova cannot pass it through",
         "bind it to vfio-pci at boot: `echo 'options vfio-pci ids=" + ids + "' > /etc/modprobe.d/vfio.conf`, " +
             (g.driver == std::optional<std::string>("pci-stub")
                  ? std::string("remove it from pci-stub.ids= on the kernel command line (`update-grub`)")
                  : host_driver_advice(g.vendor_id)) +
             ", `update-initramfs -u` and reboot; or now: `driverctl set-override " + addr +
             " vfio-pci` (`gpu-agent doctor` writes the whole file)",
         true});
  }
  for (const auto& m : g.group_members) {
    if (m.same_card) {
      if (!vfio_safe_driver(m.driver))
        g.problems.push_back({"companion_not_vfio",
                              "companion function " + describe_member(m) + " shares IOMMU group " +
                                  std::to_string(*g.iommu_group) + " and must go to the guest with the GPU",
                              "bind " + m.address.to_string() + " to vfio-pci too (add its vendor:product " +
                                  member_id(m) + " to vfio-pci ids=)",
                              true});
      continue;
    }
    if (is_bridge(m)) continue;
    if (is_gpu_member(m)) {
      g.problems.push_back(gpus_share_group(g, m));
      continue;
    }
    g.problems.push_back(
        {"group_shared",
         "IOMMU group " + std::to_string(*g.iommu_group) + " also holds " + describe_member(m) +
             ", which is not part of this card",
         "move the card to a slot whose root port or switch supports ACS (or enable ACS in the firmware); "
         "every device in a group must be given to the same guest",
         true});
  }
  if (g.boot_vga) {
    // On vfio-pci the host has let go of it, but the firmware's framebuffer may
    // still hold its memory (BAR) and a guest then fails to start: say so.
    const bool vfio = g.driver && *g.driver == "vfio-pci";
    g.problems.push_back({"boot_vga",
                          addr + " is the host's boot VGA device" +
                              (vfio ? std::string(" (bound to vfio-pci; a guest may still fail to start if the "
                                                  "firmware framebuffer holds it)")
                                    : std::string(" and drives the host console")),
                          "select another primary display in the firmware, or add video=efifb:off "
                          "video=vesafb:off to the kernel command line so the host lets go of it",
                          !vfio});
  }
}

void judge_vgpu(Gpu& g, bool iommu_enabled) {
  const std::string addr = g.address.to_string();
  const bool vf_based = g.sriov.has_value() && g.sriov->total_vfs > 0;
  bool pf_types = false;
  for (const auto& t : g.mdev_types)
    if (t.parent == g.address) pf_types = true;
  if (vf_based && !pf_types && g.sriov->num_vfs == 0)
    g.problems.push_back({"vfs_not_enabled",
                          addr + " supports SR-IOV (" + std::to_string(g.sriov->total_vfs) +
                              " VFs) but none are enabled, so it offers no vGPU types",
                          "enable them: `/usr/lib/nvidia/sriov-manage -e " + addr +
                              "` (again after every boot; etc/gpu-agent-sriov@.service does it before nova-compute)",
                          true});
  if (vf_based && !pf_types && !iommu_enabled)
    g.problems.push_back({"iommu_off", "IOMMU is off: SR-IOV vGPU needs an IOMMU group per VF",
                          "enable VT-d/AMD-Vi in the firmware, add intel_iommu=on iommu=pt (Intel) or "
                          "amd_iommu=on iommu=pt (AMD) to the kernel command line, and reboot",
                          true});
  const bool any_types = !g.mdev_types.empty() || !g.vgpu_types.empty();
  if (any_types) {
    int64_t available = 0;
    for (const auto& t : g.mdev_types) available += t.available_instances.value_or(0);
    available += static_cast<int64_t>(g.vgpu_types.size());  // creatable means creatable now
    if (available == 0) {
      std::set<std::string> used;
      for (const auto& m : g.mdevs) used.insert(m.uuid);
      g.problems.push_back(
          {"vgpu_none_available",
           addr + " offers vGPU types but none has an available instance" +
               (used.empty() ? std::string() : " (" + std::to_string(used.size()) + " mdev(s) already exist)"),
           "free capacity: remove unused mdevs (`mdevctl list`, `mdevctl stop -u UUID`), or pick the type "
           "already in use on this GPU (all vGPUs on one GPU share a type unless heterogeneous mode is on)",
           true});
    }
  }
}

}  // namespace

void judge(Gpu& g, bool iommu_enabled) {
  for (const auto& p : g.problems)
    if (p.blocking) {  // unreadable identity: nothing safe to say about it
      g.assignable = false;
      g.mode = GpuMode::unknown;
      return;
    }
  if (g.role == GpuRole::host_display)
    g.problems.push_back({"host_display",
                          g.address.to_string() + " is " + g.role_reason +
                              "; the agent leaves it to the host: no default pool, no vfio-pci advice",
                          "nothing, normally; to give it to guests anyway, name it in a [pool:NAME] section "
                          "(addresses = " +
                              g.address.to_string() + ") and bind it to vfio-pci",
                          false});
  if (g.role == GpuRole::sriov_pf) {
    g.problems.push_back({"sriov_pf",
                          g.address.to_string() + " is " + g.role_reason +
                              (g.sriov && g.sriov->num_vfs == 0 ? "; no VF is enabled now" : ""),
                          g.sriov && g.sriov->num_vfs == 0
                              ? "enable VFs: `echo N > /sys/bus/pci/devices/" + g.address.to_string() +
                                    "/sriov_numvfs` (the vendor's tool may do it at boot), then bind them to vfio-pci"
                              : "nothing: leave the PF on " + g.driver.value_or("its driver") +
                                    "; the VFs are listed as their own devices",
                          false});
    g.mode = GpuMode::unknown;
    g.assignable = false;
    return;
  }
  const bool vfio = g.driver && *g.driver == "vfio-pci";
  if (!vfio && has_vgpu_support(g)) {
    g.mode = GpuMode::vgpu;
    judge_vgpu(g, iommu_enabled);
  } else {
    g.mode = GpuMode::passthrough;
    judge_passthrough(g, iommu_enabled);
  }
  g.assignable = true;
  for (const auto& p : g.problems)
    if (p.blocking) g.assignable = false;
}

}  // namespace gpu_agent
