#pragma once
// The fixture hosts. Each is a function returning its TreeBuilder, so a test
// can take a base host and change one thing; make-fixtures writes every one
// to tests/data/hosts/<name>.sysfs.txt and a test checks the committed files
// still match.
#include <array>
#include <string>
#include <string_view>
#include <vector>

#include "tree_builder.h"

namespace gpu_agent::testing {

// 8x A100 SXM4 80GB on vfio-pci, one IOMMU group each, 6 NVSwitches, NIC, NVMe.
TreeBuilder a100_8x_passthrough();
// RTX 4090 with its HDMI audio function in one group (audio on snd_hda_intel).
TreeBuilder consumer_gpu_hdmi_audio();
// 2x Tesla T4, time-sliced vGPU: mdev types on the PF, one mdev on the first.
TreeBuilder t4_vgpu_timesliced();
// 2x A40, SR-IOV vGPU: 32 VFs each, 22 mdev types per VF, one A40-24Q in use.
TreeBuilder a40_sriov_vgpu();
// The same host with 1 to 8 A40s (the benchmark's is 8: about 40k sysfs entries);
// a40_sriov_vgpu() is a40_sriov_vgpu_host(2). GPUs after kA40s sit at 0000:01:00.0,
// 0000:81:00.0, 0000:21:00.0, 0000:a1:00.0, 0000:61:00.0, 0000:e1:00.0.
TreeBuilder a40_sriov_vgpu_host(int gpus);
// 2x H100 PCIe, vGPU 17 vendor VFIO: nvidia/creatable_vgpu_types on each VF.
TreeBuilder h100_vgpu17();
// A100 PCIe on vfio-pci with the IOMMU off (kernel/iommu_groups empty).
TreeBuilder iommu_off();
// A40 on nvidia with SR-IOV capable but no VFs enabled.
TreeBuilder a40_vfs_disabled();
// One healthy GPU and one broken thing per other device (see scenarios.cpp).
TreeBuilder broken();

const std::vector<std::string>& scenario_names();
TreeBuilder build_scenario(std::string_view name);  // throws std::invalid_argument on an unknown name

// Vendor tables (real NVIDIA type names and description strings).
std::vector<MdevTypeSpec> t4_mdev_types();     // nvidia-222 .. nvidia-234, "GRID T4-1B" .. "GRID T4-16Q"
std::vector<MdevTypeSpec> a40_mdev_types();    // nvidia-555 .. nvidia-576, "NVIDIA A40-1B" .. "NVIDIA A40-48A"
std::vector<VgpuTypeEntry> h100_vgpu_types();  // 1041 "NVIDIA H100-1-10C" ...

// Addresses the tests assert on.
inline constexpr std::array<std::string_view, 8> kA100Gpus{"0000:07:00.0", "0000:0f:00.0", "0000:47:00.0",
                                                           "0000:4e:00.0", "0000:87:00.0", "0000:90:00.0",
                                                           "0000:b7:00.0", "0000:bd:00.0"};
inline constexpr std::array<std::string_view, 6> kA100NvSwitches{"0000:c3:00.0", "0000:c4:00.0", "0000:c5:00.0",
                                                                 "0000:c6:00.0", "0000:c7:00.0", "0000:c8:00.0"};
inline constexpr std::string_view kRtx4090 = "0000:01:00.0", kRtx4090Audio = "0000:01:00.1",
                                  kDesktopUsb = "0000:00:14.0";
inline constexpr std::array<std::string_view, 2> kT4s{"0000:3b:00.0", "0000:d8:00.0"};
inline constexpr std::string_view kT4MdevUuid = "4b6e2f0a-7c1d-4e8b-9a3f-1d2c5e6f7a80", kT4MdevType = "nvidia-232";
inline constexpr std::array<std::string_view, 2> kA40s{"0000:41:00.0", "0000:c1:00.0"};
inline constexpr std::string_view kA40MdevUuid = "c0ffee00-5a1e-4f00-8d2b-a40a40a40a24", kA40MdevType = "nvidia-565";
inline constexpr std::array<std::string_view, 2> kH100s{"0000:4b:00.0", "0000:ca:00.0"};
inline constexpr int64_t kH100CurrentType = 1052;  // NVIDIA H100-20C, set on the first H100's VF0
inline constexpr std::string_view kNoIommuGpu = "0000:17:00.0";
inline constexpr std::string_view kA40VfsOff = "0000:41:00.0";

}  // namespace gpu_agent::testing
