#pragma once
// libvirt as a second opinion: its node devices should agree with sysfs about
// each GPU (IDs, IOMMU group, NUMA node, mdev types), and its hostname is the
// one nova names the compute node by. A host without libvirtd is normal for
// `inventory`; it is reported, not fatal.
#include <optional>
#include <string>
#include <vector>

#include "model.h"
#include "result.h"

namespace gpu_agent {

struct LibvirtPciDevice {
  PciAddress address;
  std::optional<uint32_t> class_code, vendor_id, product_id;
  std::optional<int64_t> iommu_group, numa_node;
  std::optional<std::string> driver;
  std::vector<std::pair<std::string, std::optional<int64_t>>> mdev_types;  // id, available
};

// One <device> document from virNodeDeviceGetXMLDesc; nullopt when it is not a PCI device.
Result<std::optional<LibvirtPciDevice>> parse_nodedev_xml(const std::string& xml);

struct LibvirtSnapshot {
  std::optional<std::string> hostname;
  std::vector<LibvirtPciDevice> devices;
};
Result<LibvirtSnapshot> read_libvirt(const std::string& uri);

// Pure: what libvirt says differently from sysfs, one line per difference.
std::vector<std::string> compare_with_libvirt(const Inventory& inv, const std::vector<LibvirtPciDevice>& devices,
                                              int* compared = nullptr);

}  // namespace gpu_agent
