#pragma once
// A kernel-shaped sysfs tree in a MemFs, built one device at a time, so a test
// scenario reads like a host description and an edge case is one more line:
//
//   TreeBuilder tb("gpu-a100-0");
//   tb.add_bridge("0000:00:01.1", 0x1022, 0x1483, Fn().group(10));
//   tb.add_gpu("0000:07:00.0", 0x10de, 0x20b2, Fn().under("0000:00:01.1").driver("vfio-pci").group(20));
//   tb.remove("0000:07:00.0/vendor");
//
// Layout follows the kernel's: canonical device directories under
// devices/pciDDDD:BB/<bridges...>/ADDR, bus/pci/devices/ADDR links with
// relative targets, driver and iommu_group links with their back-links,
// virtfnN/physfn links for SR-IOV, mdev_supported_types and mdev instances,
// NVIDIA's vendor VFIO files. File contents end with "\n" like sysfs's.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fs.h"
#include "parse.h"

namespace gpu_agent::testing {

// How one PCI function looks. Absent optionals leave the file or link out.
struct Fn {
  uint32_t class_code = 0x030200;
  std::optional<uint32_t> subsystem_vendor, subsystem_device;
  std::optional<uint32_t> revision = 0xa1;
  std::optional<int64_t> numa_node = -1;
  std::optional<std::string> driver_name;
  std::optional<int64_t> iommu_group;
  std::optional<bool> boot_vga;  // default: written ("0") for VGA-class functions only, as the kernel does
  std::string upstream;          // address of the bridge above it; empty: on the root bus

  Fn& cls(uint32_t v) {
    class_code = v;
    return *this;
  }
  Fn& subsys(uint32_t vendor, uint32_t device) {
    subsystem_vendor = vendor;
    subsystem_device = device;
    return *this;
  }
  Fn& rev(std::optional<uint32_t> v) {
    revision = v;
    return *this;
  }
  Fn& numa(std::optional<int64_t> v) {
    numa_node = v;
    return *this;
  }
  Fn& driver(std::optional<std::string> v) {
    driver_name = std::move(v);
    return *this;
  }
  Fn& group(std::optional<int64_t> v) {
    iommu_group = v;
    return *this;
  }
  Fn& boot(bool v) {
    boot_vga = v;
    return *this;
  }
  Fn& under(std::string bridge) {
    upstream = std::move(bridge);
    return *this;
  }
};

struct VfOptions {
  int first_offset = 4;  // NVIDIA GPUs put VF0 at devfn PF+4
  int stride = 1;
  std::optional<uint32_t> device;  // VF device id; default: the PF's
  std::optional<std::string> driver = std::string("nvidia");
  std::optional<int64_t> first_group;  // VF i gets group first_group + i
  std::optional<int64_t> total;        // sriov_totalvfs; default: n
};

struct MdevTypeSpec {
  std::string id;    // "nvidia-565"
  std::string name;  // "NVIDIA A40-24Q"
  std::string description;
  int64_t available = 1;
  std::string device_api = "vfio-pci";
};

class TreeBuilder {
 public:
  explicit TreeBuilder(std::string hostname = "testhost", std::string origin = "fixture");

  // A PCI function with vendor, device, class, subsystem, revision, numa_node
  // (and boot_vga for VGA class), its driver and IOMMU group links.
  TreeBuilder& add_function(std::string_view addr, uint32_t vendor, uint32_t device, const Fn& fn = {});
  // The same, for readability in scenarios: a GPU is a function with a display class.
  TreeBuilder& add_gpu(std::string_view addr, uint32_t vendor, uint32_t device, const Fn& fn = {});
  // A PCIe port (class 0x060400, driver pcieport unless fn says otherwise).
  TreeBuilder& add_bridge(std::string_view addr, uint32_t vendor, uint32_t device, Fn fn = {});

  // SR-IOV: sriov_totalvfs/sriov_numvfs on the PF and n VFs beside it, with
  // virtfnN and physfn links. VF i is at devfn(PF) + first_offset + i*stride.
  TreeBuilder& add_vfs(std::string_view pf, int n, const VfOptions& o = {});
  // Only the two sriov files (an SR-IOV capable PF with VFs off, or a lie).
  TreeBuilder& set_sriov(std::string_view pf, int64_t total, int64_t num);
  std::vector<std::string> vfs_of(std::string_view pf) const;

  TreeBuilder& add_mdev_types(std::string_view parent, const std::vector<MdevTypeSpec>& types);
  TreeBuilder& set_available(std::string_view parent, std::string_view type, int64_t n);
  // An mdev instance: PARENT/UUID with its mdev_type link, bus/mdev/devices/UUID
  // and the type's devices/UUID back-link. Counts are left to the caller.
  TreeBuilder& add_mdev(std::string_view parent, std::string_view type, std::string_view uuid);

  // NVIDIA vendor VFIO (vGPU 17+): FN/nvidia/creatable_vgpu_types and current_vgpu_type.
  TreeBuilder& add_vendor_vgpu(std::string_view fn, const std::vector<VgpuTypeEntry>& creatable, int64_t current = 0);

  TreeBuilder& set_driver(std::string_view addr, std::optional<std::string> driver);
  TreeBuilder& set_group(std::string_view addr, std::optional<int64_t> group);
  // IOMMU off: no device in a group, kernel/iommu_groups present and empty.
  TreeBuilder& clear_iommu_groups();
  TreeBuilder& set_attr(std::string_view addr, std::string_view name, std::string_view value);  // value + "\n"
  TreeBuilder& set_raw(std::string_view addr, std::string_view name, std::string content);      // exactly
  TreeBuilder& set_error(std::string_view addr, std::string_view name, int err);
  TreeBuilder& set_link(std::string_view addr, std::string_view name, std::string target);
  // Remove a path and everything under it. "ADDR/rest" is relative to that
  // device's directory, anything else to the sysfs root. Throws if absent, so
  // a typo in a test does not silently test nothing.
  TreeBuilder& remove(std::string_view rel);

  // Canonical directory of a device, relative to the root ("devices/pci0000:00/.../ADDR").
  std::string dev_path(std::string_view addr) const;
  bool has_device(std::string_view addr) const;

  MemFs& fs() { return fs_; }
  const MemFs& fs() const { return fs_; }
  const std::string& hostname() const { return hostname_; }
  // The tree as a v1 text fixture with an @hostname line.
  std::string fixture_text() const;

 private:
  std::string canonical_addr(std::string_view addr) const;
  std::string up_to_root(const std::string& from_dir) const;  // "../../.." from a directory to the root

  MemFs fs_;
  std::string hostname_;
  std::map<std::string, std::string> paths_;  // address -> canonical dir
  std::map<std::string, std::vector<std::string>> vfs_;
};

// "0000:41:00.0" + devfn offset -> "0000:41:04.3" (same bus; throws past slot 31).
std::string offset_address(std::string_view addr, int devfn_offset);

}  // namespace gpu_agent::testing
