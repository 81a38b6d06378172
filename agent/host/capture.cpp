#include "capture.h"

#include <array>
#include <cerrno>

namespace gpu_agent {
namespace {

constexpr std::array<const char*, 13> kDeviceFiles{
    "vendor",      "device",   "class",          "subsystem_vendor", "subsystem_device",   "revision",
    "numa_node",   "boot_vga", "sriov_totalvfs", "sriov_numvfs",     "current_link_speed", "current_link_width",
    "reset_method"};
constexpr std::array<const char*, 4> kTypeFiles{"name", "description", "available_instances", "device_api"};
constexpr std::array<const char*, 2> kNvidiaFiles{"creatable_vgpu_types", "current_vgpu_type"};

bool looks_like_uuid(const std::string& s) {
  if (s.size() != 36) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') return false;
    } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
      return false;
    }
  }
  return true;
}

class Copier {
 public:
  Copier(const Fs& src, MemFs& dst, CaptureStats& st) : src_(src), dst_(dst), st_(st) {}

  void file(const std::string& path, bool must = false) {
    auto r = src_.read_file(path);
    if (r) {
      dst_.add_file(path, *r);
      ++st_.files;
    } else if (r.error().kind != ErrorKind::not_found || must) {
      dst_.add_error(path, r.error().os_errno ? r.error().os_errno : EIO);
      ++st_.errors;
    }
  }
  void link(const std::string& path) {
    auto r = src_.read_link(path);
    if (r) {
      dst_.add_link(path, *r);
      ++st_.links;
    }
  }
  void links_in(const std::string& dir) {
    auto names = src_.list_dir(dir);
    if (!names) return;
    dst_.add_dir(dir);
    for (const auto& n : *names) link(dir + "/" + n);
  }

 private:
  const Fs& src_;
  MemFs& dst_;
  CaptureStats& st_;
};

}  // namespace

MemFs capture_tree(const Fs& src, CaptureStats* stats) {
  MemFs out("capture");
  CaptureStats st;
  Copier copy(src, out, st);

  out.add_dir("kernel/iommu_groups");  // present and empty means: IOMMU off
  if (auto groups = src.list_dir("kernel/iommu_groups"); groups)
    for (const auto& g : *groups) copy.links_in("kernel/iommu_groups/" + g + "/devices");
  copy.links_in("bus/mdev/devices");

  auto devices = src.list_dir("bus/pci/devices");
  if (devices) {
    out.add_dir("bus/pci/devices");
    for (const auto& name : *devices) {
      const std::string entry = "bus/pci/devices/" + name;
      copy.link(entry);
      auto canon = src.resolve(entry);
      if (!canon) continue;  // dangling: the link itself is recorded
      const std::string& dev = *canon;
      ++st.devices;
      out.add_dir(dev);
      for (const char* f : kDeviceFiles) copy.file(dev + "/" + f, std::string(f) == "class");
      auto names = src.list_dir(dev);
      if (!names) continue;
      for (const auto& n : *names) {
        const std::string p = dev + "/" + n;
        // consumer:/supplier: are the kernel's device links (a GPU and its HDMI audio, USB-C)
        if (n == "driver" || n == "iommu_group" || n == "physfn" || n.rfind("virtfn", 0) == 0 ||
            n.rfind("consumer:", 0) == 0 || n.rfind("supplier:", 0) == 0) {
          copy.link(p);
        } else if (n == "mdev_supported_types") {
          auto types = src.list_dir(p);
          if (!types) continue;
          for (const auto& t : *types) {
            for (const char* f : kTypeFiles) copy.file(p + "/" + t + "/" + f);
            copy.links_in(p + "/" + t + "/devices");
          }
        } else if (n == "nvidia") {
          for (const char* f : kNvidiaFiles) copy.file(p + "/" + f);
        } else if (looks_like_uuid(n)) {
          copy.link(p + "/mdev_type");
        }
      }
    }
  }
  // The module behind each driver (softdep lines name modules: nvidia-gpu is i2c_nvidia_gpu).
  if (auto drivers = src.list_dir("bus/pci/drivers"); drivers)
    for (const auto& d : *drivers) copy.link("bus/pci/drivers/" + d + "/module");
  if (stats) *stats = st;
  return out;
}

}  // namespace gpu_agent
