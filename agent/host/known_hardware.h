#pragma once
// Known hardware is data, with its source: PCI IDs the kernel's own answers
// (class code, boot_vga) cannot classify on their own. A BMC's VGA is class
// 0300 like any GPU, and the iLO's functions share its slot like a card's
// HDMI audio; these tables say what they are and where each was seen.
#include <cstdint>
#include <optional>
#include <string_view>

namespace gpu_agent {

enum class KnownKind {
  bmc_display,         // a BMC's or management controller's VGA: the remote console
  integrated_display,  // the CPU's own graphics: the host's display
  management,          // a management controller's other functions (iLO channel, virtual USB)
};

struct KnownDevice {
  uint16_t vendor_id;
  uint16_t product_id;
  KnownKind kind;
  std::string_view name;     // what it is, for messages
  std::string_view seen_in;  // the public dump it was seen in
};

// The entry for vendor:product, or nullptr.
const KnownDevice* find_known_device(uint32_t vendor_id, uint32_t product_id);

// Vendors whose class 1200 (processing accelerator) devices are GPUs: AMD Instinct,
// Intel, NVIDIA. Other vendors' accelerators (NPUs, FPGAs) are not.
bool is_gpu_vendor(uint32_t vendor_id);

// Drivers that make a boot VGA device the host's console (not vfio-pci, not pci-stub).
bool is_host_display_driver(std::string_view driver);

}  // namespace gpu_agent
