#pragma once
// Reads a host's GPUs from a sysfs tree (real or fixture) into the model and
// judges each one. It never stops at one broken device: what cannot be read
// becomes a Problem on that GPU, or a warning when it is not tied to one.
#include <optional>
#include <string>

#include "fs.h"
#include "model.h"
#include "result.h"

namespace gpu_agent {

// Vendor and product names (pci.ids). Implemented with libpci in pci_names.h;
// tests may pass their own.
class NameLookup {
 public:
  virtual ~NameLookup() = default;
  virtual std::optional<std::string> vendor(uint32_t vendor_id) const = 0;
  virtual std::optional<std::string> product(uint32_t vendor_id, uint32_t product_id) const = 0;
  // Load what lookups need ahead of the first one: read_inventory calls it on
  // a thread of its own while it reads sysfs, and asks for names after.
  virtual void load() const {}
  // read_inventory has asked for every name it needs: free what the lookups
  // loaded (a later lookup loads it again).
  virtual void release() const {}
};

struct InventoryOptions {
  const NameLookup* names = nullptr;
};

// Fails only when the tree has no PCI bus at all (a wrong --sysfs-root).
Result<Inventory> read_inventory(const Fs& fs, const InventoryOptions& options = {});

// The verdict: sets gpu.assignable, gpu.mode and appends verdict problems.
void judge(Gpu& gpu, bool iommu_enabled);

// 24-bit class code: VGA (0300), 3D (0302) or other display controller (0380), any vendor.
bool is_gpu_class(uint32_t class_code);
// A GPU-class device, or a processing accelerator (1200) of a GPU vendor (AMD, Intel, NVIDIA).
bool is_gpu_device(uint32_t class_code, std::optional<uint32_t> vendor_id);

}  // namespace gpu_agent
