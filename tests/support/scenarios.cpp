#include "scenarios.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <functional>
#include <map>
#include <stdexcept>

namespace gpu_agent::testing {
namespace {

constexpr uint32_t kNvidia = 0x10de, kAmd = 0x1022, kIntel = 0x8086, kBroadcom = 0x1000, kMellanox = 0x15b3,
                   kSamsung = 0x144d;

std::string description(int heads, int frl, int64_t fb_mib, const char* res, int max) {
  char buf[160];
  std::snprintf(buf, sizeof buf, "num_heads=%d, frl_config=%d, framebuffer=%lldM, max_resolution=%s, max_instance=%d",
                heads, frl, static_cast<long long>(fb_mib), res, max);
  return buf;
}

// One vGPU family: B (2D business), A (app streaming), Q (workstation).
MdevTypeSpec vgpu_type(int id, const std::string& prefix, int64_t size_gib, char series, int64_t total_gib, int cap) {
  const int max = static_cast<int>(std::min<int64_t>(cap, total_gib / size_gib));
  const int64_t fb = size_gib * 1024;
  std::string desc;
  if (series == 'B') desc = description(4, 45, fb, "5120x2880", max);
  else if (series == 'A') desc = description(1, 60, fb, "1280x1024", max);
  else desc = description(4, 60, fb, size_gib == 1 ? "5120x2880" : "7680x4320", max);
  return {"nvidia-" + std::to_string(id), prefix + std::to_string(size_gib) + series, desc, max, "vfio-pci"};
}

// An AMD EPYC root port on its own root bus, as each x16 slot of a 2-socket server has.
void root_port(TreeBuilder& tb, const std::string& addr, int64_t numa, int64_t& group) {
  tb.add_bridge(addr, kAmd, 0x1483, Fn().numa(numa).group(group++).rev(0x00));
}

}  // namespace

std::vector<MdevTypeSpec> t4_mdev_types() {
  std::vector<MdevTypeSpec> t;
  int id = 222;
  const std::string p = "GRID T4-";
  t.push_back(vgpu_type(id++, p, 1, 'B', 16, 16));
  t.push_back(vgpu_type(id++, p, 2, 'B', 16, 16));
  MdevTypeSpec b4 = vgpu_type(id++, p, 2, 'B', 16, 16);  // the 4-head variant of T4-2B
  b4.name += "4";
  t.push_back(b4);
  for (int64_t g : {1, 2, 4, 8, 16}) t.push_back(vgpu_type(id++, p, g, 'A', 16, 16));
  for (int64_t g : {1, 2, 4, 8, 16}) t.push_back(vgpu_type(id++, p, g, 'Q', 16, 16));
  return t;
}

std::vector<MdevTypeSpec> a40_mdev_types() {
  std::vector<MdevTypeSpec> t;
  int id = 555;
  const std::string p = "NVIDIA A40-";
  for (int64_t g : {1, 2}) t.push_back(vgpu_type(id++, p, g, 'B', 48, 32));
  for (int64_t g : {1, 2, 3, 4, 6, 8, 12, 16, 24, 48}) t.push_back(vgpu_type(id++, p, g, 'Q', 48, 32));
  for (int64_t g : {1, 2, 3, 4, 6, 8, 12, 16, 24, 48}) t.push_back(vgpu_type(id++, p, g, 'A', 48, 32));
  return t;
}

std::vector<VgpuTypeEntry> h100_vgpu_types() {
  std::vector<VgpuTypeEntry> t;
  int64_t id = 1041;
  for (const char* mig : {"1-10C", "1-20C", "2-20C", "3-40C", "4-40C", "7-80C"})
    t.push_back({id++, std::string("NVIDIA H100-") + mig});
  for (int g : {4, 5, 8, 10, 16, 20, 40, 80}) t.push_back({id++, "NVIDIA H100-" + std::to_string(g) + "C"});
  return t;
}

TreeBuilder a100_8x_passthrough() {
  TreeBuilder tb("gpu-a100-0");
  int64_t group = 10;
  // Two GPUs per root complex, each behind a root port and a Broadcom PEX88096 switch.
  struct Slot {
    const char* root_port;
    const char* up;
    const char* down;
    std::string_view gpu;
    int64_t numa;
  };
  const Slot slots[] = {
      {"0000:00:01.1", "0000:05:00.0", "0000:06:00.0", kA100Gpus[0], 0},
      {"0000:00:03.1", "0000:0d:00.0", "0000:0e:00.0", kA100Gpus[1], 0},
      {"0000:40:01.1", "0000:45:00.0", "0000:46:00.0", kA100Gpus[2], 0},
      {"0000:40:03.1", "0000:4c:00.0", "0000:4d:00.0", kA100Gpus[3], 0},
      {"0000:80:01.1", "0000:85:00.0", "0000:86:00.0", kA100Gpus[4], 1},
      {"0000:80:03.1", "0000:8e:00.0", "0000:8f:00.0", kA100Gpus[5], 1},
      {"0000:a0:01.1", "0000:b5:00.0", "0000:b6:00.0", kA100Gpus[6], 1},
      {"0000:a0:03.1", "0000:bb:00.0", "0000:bc:00.0", kA100Gpus[7], 1},
  };
  for (const auto& s : slots) {
    root_port(tb, s.root_port, s.numa, group);
    tb.add_bridge(s.up, kBroadcom, 0xc010, Fn().under(s.root_port).numa(s.numa).group(group++).rev(0xb0));
    tb.add_bridge(s.down, kBroadcom, 0xc010, Fn().under(s.up).numa(s.numa).group(group++).rev(0xb0));
    tb.add_gpu(s.gpu, kNvidia, 0x20b2,
               Fn().under(s.down).subsys(kNvidia, 0x147f).numa(s.numa).driver("vfio-pci").group(group++));
  }
  // NVSwitch fabric: bridges of class 0680, not GPUs. Fabric manager binds some to nvidia-nvswitch.
  root_port(tb, "0000:c0:01.1", 1, group);
  tb.add_bridge("0000:c1:00.0", kBroadcom, 0xc010, Fn().under("0000:c0:01.1").numa(1).group(group++).rev(0xb0));
  for (size_t i = 0; i < kA100NvSwitches.size(); ++i) {
    char down[16];
    std::snprintf(down, sizeof down, "0000:c2:%02zx.0", i);
    tb.add_bridge(down, kBroadcom, 0xc010, Fn().under("0000:c1:00.0").numa(1).group(group++).rev(0xb0));
    Fn sw = Fn().cls(0x068000).under(down).subsys(kNvidia, 0x1574).numa(1).group(group++);
    if (i < 3) sw.driver("nvidia-nvswitch");
    tb.add_function(kA100NvSwitches[i], kNvidia, 0x1af1, sw);
  }
  // Storage and network: not GPUs, must not show up.
  root_port(tb, "0000:20:03.1", 0, group);
  tb.add_function("0000:21:00.0", kMellanox, 0x101d,
                  Fn().cls(0x020000)
                      .under("0000:20:03.1")
                      .subsys(kMellanox, 0x0043)
                      .numa(0)
                      .driver("mlx5_core")
                      .group(group++)
                      .rev(0x00));
  root_port(tb, "0000:e0:03.1", 1, group);
  tb.add_function(
      "0000:e1:00.0", kSamsung, 0xa824,
      Fn().cls(0x010802).under("0000:e0:03.1").subsys(kSamsung, 0xa809).numa(1).driver("nvme").group(group++).rev(0x00));
  return tb;
}

TreeBuilder consumer_gpu_hdmi_audio() {
  TreeBuilder tb("ws-rtx4090-0");
  // A desktop: no NUMA, the x16 root port shares group 2 with both functions of the card.
  tb.add_function("0000:00:00.0", kIntel, 0xa700, Fn().cls(0x060000).subsys(0x1043, 0x8882).group(0).rev(0x01));
  tb.add_bridge("0000:00:01.0", kIntel, 0xa70d, Fn().group(2).rev(0x01));
  tb.add_gpu(kRtx4090, kNvidia, 0x2684,
             Fn().cls(0x030000).under("0000:00:01.0").subsys(kNvidia, 0x165b).driver("vfio-pci").group(2));
  tb.add_function(kRtx4090Audio, kNvidia, 0x22ba,
                  Fn().cls(0x040300).under("0000:00:01.0").subsys(kNvidia, 0x165b).driver("snd_hda_intel").group(2));
  tb.add_function(kDesktopUsb, kIntel, 0x7a60,
                  Fn().cls(0x0c0330).subsys(0x1043, 0x8882).driver("xhci_hcd").group(5).rev(0x11));
  tb.add_bridge("0000:00:06.0", kIntel, 0xa74d, Fn().group(7).rev(0x01));
  tb.add_function("0000:02:00.0", kSamsung, 0xa80a,
                  Fn().cls(0x010802).under("0000:00:06.0").subsys(kSamsung, 0xa801).driver("nvme").group(8).rev(0x00));
  tb.add_bridge("0000:00:1c.0", kIntel, 0x7a38, Fn().group(10).rev(0x11));
  tb.add_function("0000:05:00.0", kIntel, 0x15f3,
                  Fn().cls(0x020000).under("0000:00:1c.0").subsys(0x1043, 0x87d2).driver("igc").group(11).rev(0x03));
  return tb;
}

TreeBuilder t4_vgpu_timesliced() {
  TreeBuilder tb("gpu-t4-0");
  // Xeon Scalable: one T4 per socket, each behind its own root port.
  tb.add_bridge("0000:3a:00.0", kIntel, 0x2030, Fn().numa(0).group(30).rev(0x04));
  tb.add_gpu(kT4s[0], kNvidia, 0x1eb8,
             Fn().under("0000:3a:00.0").subsys(kNvidia, 0x12a2).numa(0).driver("nvidia").group(31));
  tb.add_bridge("0000:d7:00.0", kIntel, 0x2030, Fn().numa(1).group(90).rev(0x04));
  tb.add_gpu(kT4s[1], kNvidia, 0x1eb8,
             Fn().under("0000:d7:00.0").subsys(kNvidia, 0x12a2).numa(1).driver("nvidia").group(91));
  tb.add_bridge("0000:17:00.0", kIntel, 0x2030, Fn().numa(0).group(20).rev(0x04));
  tb.add_function(
      "0000:18:00.0", kIntel, 0x1572,
      Fn().cls(0x020000).under("0000:17:00.0").subsys(kIntel, 0x0006).numa(0).driver("i40e").group(21).rev(0x02));
  const auto types = t4_mdev_types();
  for (auto gpu : kT4s) tb.add_mdev_types(gpu, types);
  // One T4-4Q exists on the first T4: time-sliced vGPUs on one GPU share a type,
  // so 3 more T4-4Q fit and every other type shows 0 there.
  for (const auto& t : types) tb.set_available(kT4s[0], t.id, t.id == kT4MdevType ? 3 : 0);
  tb.add_mdev(kT4s[0], kT4MdevType, kT4MdevUuid);
  return tb;
}

TreeBuilder a40_sriov_vgpu() { return a40_sriov_vgpu_host(2); }

TreeBuilder a40_sriov_vgpu_host(int gpus) {
  // Root complexes in the order GPUs are added: the first two are the 2-GPU
  // scenario's (kA40s), then the other six x16 slots of a 2-socket EPYC.
  static constexpr unsigned kRootBus[] = {0x40, 0xc0, 0x00, 0x80, 0x20, 0xa0, 0x60, 0xe0};
  if (gpus < 1 || gpus > 8)
    throw std::invalid_argument("a40_sriov_vgpu_host: 1 to 8 GPUs, not " + std::to_string(gpus));
  TreeBuilder tb("gpu-a40-0");
  // A VF holds one vGPU: on a fresh GPU every type shows 1 available on every VF.
  auto types = a40_mdev_types();
  for (auto& t : types) t.available = 1;
  std::vector<std::string> pfs;
  for (int i = 0; i < gpus; ++i) {
    const int64_t numa = i % 2;
    char rp[16], gpu[16];
    std::snprintf(rp, sizeof rp, "0000:%02x:01.1", kRootBus[i]);
    std::snprintf(gpu, sizeof gpu, "0000:%02x:00.0", kRootBus[i] + 1);
    const int64_t first_vf_group = 100 * (i + 1);
    int64_t g = first_vf_group - 2;
    root_port(tb, rp, numa, g);
    tb.add_gpu(gpu, kNvidia, 0x2235, Fn().under(rp).subsys(kNvidia, 0x145a).numa(numa).driver("nvidia").group(g));
    VfOptions vo;
    vo.first_group = first_vf_group;
    tb.add_vfs(gpu, 32, vo);
    for (const auto& vf : tb.vfs_of(gpu)) tb.add_mdev_types(vf, types);
  }
  // The first A40 runs one A40-24Q on its first VF. Homogeneous mode: only
  // A40-24Q can still be created on that GPU, and only once more (max 2).
  const auto vfs = tb.vfs_of(kA40s[0]);
  for (size_t v = 0; v < vfs.size(); ++v)
    for (const auto& t : types) tb.set_available(vfs[v], t.id, v == 1 && t.id == kA40MdevType ? 1 : 0);
  tb.add_mdev(vfs[0], kA40MdevType, kA40MdevUuid);
  return tb;
}

TreeBuilder h100_vgpu17() {
  TreeBuilder tb("gpu-h100-0");
  const auto types = h100_vgpu_types();
  std::vector<VgpuTypeEntry> chosen;
  for (const auto& t : types)
    if (t.id == kH100CurrentType) chosen.push_back(t);
  int64_t first_vf_group[] = {300, 400};
  int i = 0;
  for (auto gpu : kH100s) {
    const std::string rp = i == 0 ? "0000:4a:01.0" : "0000:c9:01.0";
    tb.add_bridge(rp, kIntel, 0x352a, Fn().numa(i).group(first_vf_group[i] - 2).rev(0x04));  // Sapphire Rapids
    tb.add_gpu(gpu, kNvidia, 0x2331,
               Fn().under(rp).subsys(kNvidia, 0x1626).numa(i).driver("nvidia").group(first_vf_group[i] - 1));
    VfOptions vo;
    vo.first_group = first_vf_group[i];
    tb.add_vfs(gpu, 32, vo);
    ++i;
  }
  // First H100: VF0 was given H100-20C; in homogeneous mode the other VFs can only take the same type.
  const auto vfs0 = tb.vfs_of(kH100s[0]);
  for (size_t v = 0; v < vfs0.size(); ++v)
    tb.add_vendor_vgpu(vfs0[v], v == 0 ? std::vector<VgpuTypeEntry>{} : chosen, v == 0 ? kH100CurrentType : 0);
  for (const auto& vf : tb.vfs_of(kH100s[1])) tb.add_vendor_vgpu(vf, types);
  return tb;
}

TreeBuilder iommu_off() {
  TreeBuilder tb("gpu-noiommu-0");
  tb.add_bridge("0000:16:02.0", kIntel, 0x347a, Fn().numa(0).rev(0x06));
  tb.add_gpu(kNoIommuGpu, kNvidia, 0x20b5,
             Fn().under("0000:16:02.0").subsys(kNvidia, 0x1533).numa(0).driver("vfio-pci"));
  tb.add_bridge("0000:30:02.0", kIntel, 0x347a, Fn().numa(0).rev(0x06));
  tb.add_function("0000:31:00.0", kSamsung, 0xa824,
                  Fn().cls(0x010802).under("0000:30:02.0").subsys(kSamsung, 0xa809).numa(0).driver("nvme").rev(0x00));
  return tb;
}

TreeBuilder a40_vfs_disabled() {
  TreeBuilder tb("gpu-a40-1");
  int64_t g = 40;
  root_port(tb, "0000:40:01.1", 0, g);
  tb.add_gpu(kA40VfsOff, kNvidia, 0x2235,
             Fn().under("0000:40:01.1").subsys(kNvidia, 0x145a).numa(0).driver("nvidia").group(g));
  tb.set_sriov(kA40VfsOff, 32, 0);
  return tb;
}

// Every GPU sits behind its own root port 0000:00:NN.0 on bus NN; all but
// 0000:01:00.0 and 0000:0a:00.0 have one thing wrong.
TreeBuilder broken() {
  TreeBuilder tb("gpu-broken-0");
  for (int n = 1; n <= 0x0b; ++n) {
    char rp[16], gpu[16];
    std::snprintf(rp, sizeof rp, "0000:00:%02x.0", n);
    std::snprintf(gpu, sizeof gpu, "0000:%02x:00.0", n);
    tb.add_bridge(rp, kIntel, 0x347a, Fn().numa(0).group(2 * n).rev(0x06));
    if (n == 0x0a) {
      tb.add_gpu(gpu, kNvidia, 0x1eb8,
                 Fn().under(rp).subsys(kNvidia, 0x12a2).numa(0).driver("nvidia").group(2 * n + 1));
      tb.add_mdev_types(gpu, t4_mdev_types());
    } else {
      tb.add_gpu(gpu, kNvidia, 0x20b5,
                 Fn().under(rp).subsys(kNvidia, 0x1533).numa(0).driver("vfio-pci").group(2 * n + 1));
    }
  }
  tb.remove("0000:02:00.0/vendor");                 // a required file missing
  tb.set_attr("0000:03:00.0", "device", "0xzz12");  // not hex
  tb.set_raw("0000:04:00.0", "class", "");          // empty class: cannot tell what it is
  tb.remove("0000:05:00.0");                        // bus/pci/devices link left dangling
  tb.set_link("0000:06:00.0", "driver", "driver");  // a link to itself
  // bus/pci/devices/0000:07:00.0 and its canonical directory point at each other
  const std::string seven = tb.dev_path("0000:07:00.0");
  tb.remove("0000:07:00.0");
  tb.fs().add_link(seven, "../../../bus/pci/devices/0000:07:00.0");
  tb.set_error("0000:08:00.0", "device", EACCES);     // unreadable
  tb.set_attr("0000:09:00.0", "numa_node", "node0");  // garbage in an optional file
  tb.fs().add_file(tb.dev_path("0000:0a:00.0") + "/mdev_supported_types/nvidia-230/description",
                   "num_heads=four, frl_config=60, framebuffer=1024M, max_resolution=5120x2880, max_instance=16\n");
  return tb;
}

const std::vector<std::string>& scenario_names() {
  static const std::vector<std::string> names{"a100-8x-passthrough", "consumer-gpu-hdmi-audio",
                                              "t4-vgpu-timesliced",  "a40-sriov-vgpu",
                                              "h100-vgpu17",         "iommu-off",
                                              "a40-vfs-disabled",    "broken"};
  return names;
}

TreeBuilder build_scenario(std::string_view name) {
  static const std::map<std::string, std::function<TreeBuilder()>, std::less<>> builders{
      {"a100-8x-passthrough", a100_8x_passthrough},
      {"consumer-gpu-hdmi-audio", consumer_gpu_hdmi_audio},
      {"t4-vgpu-timesliced", t4_vgpu_timesliced},
      {"a40-sriov-vgpu", a40_sriov_vgpu},
      {"h100-vgpu17", h100_vgpu17},
      {"iommu-off", iommu_off},
      {"a40-vfs-disabled", a40_vfs_disabled},
      {"broken", broken}};
  auto it = builders.find(name);
  if (it == builders.end()) throw std::invalid_argument("no scenario named " + std::string(name));
  return it->second();
}

}  // namespace gpu_agent::testing
