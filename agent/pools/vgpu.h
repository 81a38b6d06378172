#pragma once
// vGPU layouts: [vgpu:NAME] sections + the inventory -> for each layout, the type
// it resolves to on each selected GPU and the parent devices nova creates the
// vGPUs on (the PF for T4-style GPUs, the SR-IOV VFs for A40/A100, the VFs with
// NVIDIA's vendor VFIO types on vGPU 17 Ada/Hopper), the traits the agent adds
// to nova's pGPU providers, and the conflicts an operator must see. Pure.
#include <optional>
#include <string>
#include <vector>

#include "config.h"
#include "model.h"
#include "result.h"

namespace gpu_agent {

struct VgpuParent {
  PciAddress address;     // PF or VF
  PciAddress gpu;         // its GPU (the PF)
  int64_t available = 0;  // instances that can still be created on it
  int64_t in_use = 0;     // instances of the layout's type that exist on it
};

// Where a layout's vGPUs come from: mdevs on the mdev bus (nova's [devices]/[mdev_*]),
// or vGPU 17+ vendor VFIO VFs with no mdev bus (nova PCI devices, managed "no").
enum class VgpuKind { mdev, vendor_vfio };

struct VgpuLayout {
  std::string name;  // [vgpu:NAME]
  VgpuKind kind = VgpuKind::mdev;
  std::string type_id;     // "nvidia-565", or "1052" for vendor VFIO
  std::string type_name;   // "NVIDIA A40-24Q"
  std::string short_name;  // "A40-24Q"
  std::optional<int64_t> framebuffer_mib;
  std::optional<int64_t> max_instances_per_gpu;  // from the type's description, when it says
  char series = 0;                               // 'Q', 'C', 'A', 'B' (0 when the name does not say)
  std::string resource_class = "VGPU";           // the mdev_class, what nova's providers offer
  std::vector<std::string> traits;  // sorted: configured + CUSTOM_VGPU_<TYPE>, _FB_<size>, CUSTOM_VGPU_CUDA
  std::vector<PciAddress> gpus;     // the PFs
  std::vector<VgpuParent> parents;  // sorted by address
  int64_t capacity = 0;             // vGPUs these GPUs can hold in all
  int64_t in_use = 0;
  std::optional<int64_t> flavor_vcpus, flavor_ram_mb, flavor_disk_gb;
};

// Errors (each names the [vgpu:*] section, the GPU or VF, and what to change): a
// layout that selects no vGPU-capable GPU, a GPU in two layouts (one type per GPU),
// a type the GPU does not offer (with the types it does), a parent that already
// holds an instance of another type, a type with no room left on a GPU.
Result<std::vector<VgpuLayout>> resolve_vgpu_layouts(const Inventory& inv, const AgentConfig& cfg);

// "A40-24Q" -> "CUSTOM_VGPU_A40_24Q"
std::string vgpu_type_trait(const std::string& short_name);
// 24576 -> "CUSTOM_VGPU_FB_24G", 1536 -> "CUSTOM_VGPU_FB_1536M"
std::string vgpu_framebuffer_trait(int64_t mib);
inline constexpr const char* kVgpuCudaTrait = "CUSTOM_VGPU_CUDA";

// nova's libvirt driver names the resource provider of a vGPU parent device
// "<nodename>_pci_0000_41_00_4" (libvirt's node device name).
std::string nova_pgpu_provider_name(const std::string& nodename, const PciAddress& parent);

}  // namespace gpu_agent
