#include "inventory.h"
#include "known_hardware.h"
#include "parallel.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <thread>
#include <unordered_map>
#include <utility>

namespace gpu_agent {
namespace {

// What one mdev parent (a PF or a VF) offers, as read from sysfs: its
// mdev_supported_types listing and each type's available_instances. Reading
// it touches nothing shared, so it is read in pass 1 with the device, on
// several threads when the Fs allows (5,632 files on an 8x A40 host).
struct ParentRead {
  std::optional<Result<std::vector<std::string>>> types;
  // Each type's available_instances, parsed (8 bytes each, held for 5,632 types
  // until pass 2 takes them); where the file failed to read or parse, its answer
  // is kept in odd instead, for the message.
  std::vector<int64_t> free_counts;
  std::vector<std::pair<size_t, Result<std::string>>> odd;
  bool vendor_dir = false;  // a VF's nvidia/ (vendor-specific VFIO)
};

// dev: the parent's directory (Fs::at).
ParentRead read_parent(const Fs& dev, bool is_vf) {
  ParentRead r;
  auto listing = dev.list_read_under("mdev_supported_types", "available_instances");
  if (listing) {
    r.types = std::move(listing->names);
    r.free_counts.resize(listing->leaves.size());
    for (size_t i = 0; i < listing->leaves.size(); ++i) {
      auto& leaf = listing->leaves[i];
      auto n = leaf ? parse_int(*leaf) : Result<int64_t>(leaf.error());
      if (n) r.free_counts[i] = *n;
      else r.odd.emplace_back(i, std::move(leaf));
    }
  } else {
    r.types = listing.error();
  }
  if (is_vf) r.vendor_dir = dev.exists("nvidia");
  return r;
}

// What is read of every PCI device: enough to classify it and to describe it
// as a member of a GPU's IOMMU group (vendor and device are read only then).
struct RawDevice {
  PciAddress address;
  std::string entry;  // bus/pci/devices/NAME as listed (resolved only for GPUs)
  std::optional<uint32_t> class_code;
  std::optional<std::string> driver;
  std::optional<int64_t> iommu_group;
  bool is_vf = false;
  std::optional<Error> class_error;
  std::optional<ParentRead> mdev;  // a GPU-class device's mdev types, until pass 2 takes them
};

// Devices that may be mdev parents: GPUs and their VFs (NVIDIA's are 3D controllers).
bool may_offer_mdev(uint32_t class_code) { return is_gpu_class(class_code) || (class_code >> 8) == kClassAccelerator; }

// The basename of a link, nullopt when there is none, an Error when it is broken.
Result<std::optional<std::string>> link_name(const Fs& fs, const std::string& path) {
  auto t = fs.read_link(path);
  if (!t) {
    if (t.error().kind == ErrorKind::not_found) return std::optional<std::string>{};
    return t.error();
  }
  // A link that loops (to itself, or two links to each other) still has a
  // target, whose basename would pass for a driver or group name. Only ELOOP
  // counts: a capture keeps driver links without the drivers directory.
  // A link that leads somewhere does not loop: one stat instead of resolving
  // every component (realpath reads each link on the way).
  if (fs.exists(path)) return std::optional<std::string>(std::string(base_name(*t)));
  if (auto r = fs.resolve(path); !r && r.error().os_errno == ELOOP)
    return os_error(fs.display(path) + " -> " + *t + ": " + std::strerror(ELOOP), ELOOP);
  return std::optional<std::string>(std::string(base_name(*t)));
}

template <typename T>
Result<std::optional<T>> optional_attr(const Fs& fs, const std::string& path, Result<T> (*parse)(std::string_view),
                                       Result<std::string> raw) {
  if (!raw) {
    if (raw.error().kind == ErrorKind::not_found) return std::optional<T>{};
    return raw.error();
  }
  auto v = parse(*raw);
  if (!v) return make_error(ErrorKind::bad_input, fs.display(path) + ": " + v.error().message);
  return std::optional<T>(*v);
}

template <typename T>
Result<std::optional<T>> optional_attr(const Fs& fs, const std::string& path, Result<T> (*parse)(std::string_view)) {
  return optional_attr<T>(fs, path, parse, fs.read_file(path));
}

Result<uint32_t> parse_id(std::string_view s) { return parse_hex(s, 4); }
Result<uint32_t> parse_class(std::string_view s) { return parse_hex(s, 6); }
Result<uint32_t> parse_rev(std::string_view s) { return parse_hex(s, 2); }

const char* kReadFix =
    "check the device's sysfs entry (dmesg for PCI errors); if this is a fixture, recapture it with "
    "`gpu-agent capture`";

Problem read_problem(const Error& e, bool blocking) {
  return Problem{blocking ? "read_error" : "read_warning", e.message, kReadFix, blocking};
}

// Read relative to the device's directory (Fs::at): its path is walked once.
RawDevice read_raw(const Fs& fs, const std::string& entry, const PciAddress& addr) {
  RawDevice d;
  d.address = addr;
  d.entry = entry;
  const auto dev = fs.at(entry);
  auto cls = dev->read_file("class");
  if (cls) {
    auto v = parse_class(*cls);
    if (v) d.class_code = *v;
    else d.class_error = make_error(ErrorKind::bad_input, dev->display("class") + ": " + v.error().message);
  } else {
    d.class_error = cls.error();
  }
  if (auto drv = link_name(*dev, "driver"); drv) d.driver = *drv;
  if (auto grp = link_name(*dev, "iommu_group"); grp && *grp) {
    if (auto n = parse_int(**grp); n) d.iommu_group = *n;
  }
  d.is_vf = dev->is_link("physfn");
  // What a GPU-class device offers as an mdev parent is read now, from the same
  // directory fd, rather than after walking its path again (264 parents on an 8x A40).
  if (d.class_code && may_offer_mdev(*d.class_code)) d.mdev = read_parent(*dev, d.is_vf);
  return d;
}

// A type id as read once (TypeCache): the shared description, and the
// problem reading it gave, reported on the GPU that read it first.
struct TypeInfo {
  std::shared_ptr<const MdevTypeInfo> info;
  std::optional<Error> error;
};
using TypeCache = std::map<std::string, TypeInfo, std::less<>>;

// mdev types offered by one parent (a PF or a VF). Name and description are
// the same for a type id everywhere, so they are read once per id (an A40 host
// has 22 types on each of 32 VFs per GPU).
void read_mdev_types(const Fs& fs, const std::string& dev, const PciAddress& parent, ParentRead& read, TypeCache& cache,
                     Gpu& gpu) {
  const std::string dir = dev + "/mdev_supported_types";
  auto& types = *read.types;
  if (!types) {
    if (types.error().kind != ErrorKind::not_found) gpu.problems.push_back(read_problem(types.error(), false));
    return;
  }
  std::string t = dir + "/";  // DIR/ID, reused for every type
  const size_t prefix = t.size();
  std::string avail;
  auto odd = read.odd.begin();
  for (size_t i = 0; i < types->size(); ++i) {
    const std::string& id = (*types)[i];
    t.resize(prefix);
    t += id;
    auto it = cache.find(id);
    if (it == cache.end()) {
      auto info = std::make_shared<MdevTypeInfo>();
      TypeInfo ti;
      info->id = id;
      auto name = fs.read_file(t + "/name");
      if (name) info->name = std::string(trim_space(*name));
      auto api = fs.read_file(t + "/device_api");
      if (api) info->device_api = std::string(trim_space(*api));
      auto desc = fs.read_file(t + "/description");
      if (desc) {
        info->description = std::string(trim_space(*desc));
        auto parsed = parse_mdev_description(*desc);
        if (parsed) info->parsed = *parsed;
        else ti.error = make_error(fs.display(t + "/description") + ": " + parsed.error().message);
      }
      ti.info = std::move(info);
      it = cache.emplace(id, std::move(ti)).first;
      if (it->second.error) gpu.problems.push_back(read_problem(*it->second.error, false));
    }
    MdevType m;
    m.info = it->second.info;
    m.parent = parent;
    if (odd == read.odd.end() || odd->first != i) {
      m.available_instances = read.free_counts[i];
    } else {  // the file's path is put together only for a message
      avail.assign(t).append("/available_instances");
      auto n = optional_attr<int64_t>(fs, avail, parse_int, std::move(odd->second));
      if (n) m.available_instances = *n;
      else gpu.problems.push_back(read_problem(n.error(), false));
      ++odd;
    }
    gpu.mdev_types.push_back(std::move(m));
  }
}

void read_vendor_vgpu(const Fs& fs, const std::string& dev, const PciAddress& parent, Gpu& gpu, VirtualFunction* vf) {
  auto creatable = fs.read_file(dev + "/nvidia/creatable_vgpu_types");
  if (creatable) {
    auto types = parse_creatable_vgpu_types(*creatable);
    if (types) {
      for (auto& t : *types) gpu.vgpu_types.push_back({t.id, std::move(t.name), parent});
    } else {
      gpu.problems.push_back(read_problem(
          make_error(fs.display(dev + "/nvidia/creatable_vgpu_types") + ": " + types.error().message), false));
    }
  } else if (creatable.error().kind != ErrorKind::not_found) {
    gpu.problems.push_back(read_problem(creatable.error(), false));
  }
  if (vf) {
    auto cur = optional_attr<int64_t>(fs, dev + "/nvidia/current_vgpu_type", parse_int);
    if (cur) vf->current_vgpu_type = *cur;
    else gpu.problems.push_back(read_problem(cur.error(), false));
  }
}

// Pass 1: every PCI device, briefly (on several threads when the Fs allows:
// each device is read on its own, the map is built in listing order after).
// Entries that are no PCI address are warnings.
std::map<PciAddress, RawDevice> read_devices(const Fs& fs, const std::vector<std::string>& entries,
                                             std::vector<std::string>& warnings) {
  std::vector<std::optional<RawDevice>> raws(entries.size());
  const unsigned threads = fs.concurrent_reads() && entries.size() > 32 ? read_threads() : 1;
  for_each_index(entries.size(), threads, [&](size_t i) {
    if (auto addr = parse_pci_address(entries[i]); addr) raws[i] = read_raw(fs, "bus/pci/devices/" + entries[i], *addr);
  });
  std::map<PciAddress, RawDevice> devices;
  for (size_t i = 0; i < entries.size(); ++i) {
    if (!raws[i]) {
      auto addr = parse_pci_address(entries[i]);
      warnings.push_back(fs.display("bus/pci/devices/" + entries[i]) + ": " + addr.error().message + "; ignored");
      continue;
    }
    devices.emplace(raws[i]->address, std::move(*raws[i]));
  }
  return devices;
}

// Required: vendor and device. A broken one makes this GPU unusable, not the host.
// dev: the GPU's directory (Fs::at), as for the readers below.
void read_ids(const Fs& dev, Gpu& gpu) {
  for (auto [attr, field] : {std::pair{"vendor", &gpu.vendor_id}, std::pair{"device", &gpu.product_id}}) {
    auto raw_text = dev.read_file(attr);
    if (!raw_text) {
      gpu.problems.push_back(read_problem(raw_text.error(), true));
      continue;
    }
    auto v = parse_id(*raw_text);
    if (v) *field = *v;
    else gpu.problems.push_back(read_problem(make_error(dev.display(attr) + ": " + v.error().message), true));
  }
}

// Optional: absent is normal on some kernels and in guests; garbage is noted.
void read_optional_attrs(const Fs& dev, Gpu& gpu) {
  auto note = [&](const Error& e) { gpu.problems.push_back(read_problem(e, false)); };
  if (auto v = optional_attr<uint32_t>(dev, "subsystem_vendor", parse_id); v) gpu.subsystem_vendor_id = *v;
  else note(v.error());
  if (auto v = optional_attr<uint32_t>(dev, "subsystem_device", parse_id); v) gpu.subsystem_device_id = *v;
  else note(v.error());
  if (auto v = optional_attr<uint32_t>(dev, "revision", parse_rev); v) gpu.revision = *v;
  else note(v.error());
  if (auto v = optional_attr<int64_t>(dev, "numa_node", parse_int); v) {
    // The kernel says -1 (no affinity) or a node below MAX_NUMNODES (1024 at most).
    gpu.numa_node = v->value_or(-1);
    if (gpu.numa_node < -1 || gpu.numa_node > 1023) {
      note(make_error(dev.display("numa_node") + ": " + std::to_string(gpu.numa_node) +
                      " is not a NUMA node (-1, or 0 to 1023); taken as -1 (no affinity)"));
      gpu.numa_node = -1;
    }
  } else {
    note(v.error());
  }
  if (auto v = optional_attr<int64_t>(dev, "boot_vga", parse_int); v) gpu.boot_vga = v->value_or(0) == 1;
  else note(v.error());
  if (auto drv = link_name(dev, "driver"); !drv) note(drv.error());
  if (auto grp = link_name(dev, "iommu_group"); !grp) note(grp.error());
  else if (*grp && !gpu.iommu_group)
    note(make_error(dev.display("iommu_group") + " -> " + **grp + ": not a group number"));
}

// The PCI addresses along a canonical sysfs path, root port first, the device last.
std::vector<PciAddress> pci_path(std::string_view canon) {
  std::vector<PciAddress> out;
  size_t pos = 0;
  while (pos <= canon.size()) {
    size_t end = canon.find('/', pos);
    if (end == std::string_view::npos) end = canon.size();
    if (auto a = parse_pci_address(canon.substr(pos, end - pos)); a) out.push_back(*a);
    pos = end + 1;
  }
  return out;
}

// The deepest bridge above both devices that is no root port (a switch port), if any.
std::optional<PciAddress> shared_switch(const std::vector<PciAddress>& a, const std::vector<PciAddress>& b) {
  std::optional<PciAddress> last;
  for (size_t i = 1; i + 1 < a.size() && i + 1 < b.size() && a[i - 1] == b[i - 1] && a[i] == b[i]; ++i) last = a[i];
  return last;
}

// The devices the kernel links to this one (consumer:pci:ADDR, supplier:pci:ADDR): a GPU's
// HDMI audio, USB and UCSI functions are consumers of the GPU (drivers/pci/quirks.c).
std::vector<PciAddress> device_links(const std::vector<std::string>& names) {
  std::vector<PciAddress> out;
  for (const auto& n : names)
    for (std::string_view pre : {"consumer:pci:", "supplier:pci:"})
      if (n.compare(0, pre.size(), pre) == 0)
        if (auto a = parse_pci_address(std::string_view(n).substr(pre.size())); a) out.push_back(*a);
  return out;
}

std::optional<uint32_t> vendor_at(const Fs& fs, const std::map<PciAddress, RawDevice>& devices, const PciAddress& a) {
  auto it = devices.find(a);
  if (it == devices.end()) return std::nullopt;
  auto v = optional_attr<uint32_t>(fs, it->second.entry + "/vendor", parse_id);
  return v ? *v : std::nullopt;
}

// Is this member the GPU's own card? The same slot; a device the kernel links to it; or an
// audio function of the GPU's vendor behind a switch of that vendor (the card's own switch:
// an Arc A310's HD audio is on another bus than its VGA, in the same group).
std::string companion_of(const Fs& fs, const std::map<PciAddress, RawDevice>& devices, const Gpu& gpu,
                         const std::vector<PciAddress>& links, const GroupMember& m, const std::string& entry) {
  if (m.address.same_card(gpu.address)) return "same slot";
  if (std::find(links.begin(), links.end(), m.address) != links.end()) return "kernel device link";
  if (!m.class_code || (*m.class_code >> 8) != 0x0403 || !m.vendor_id || m.vendor_id != gpu.vendor_id) return "";
  auto canon = fs.resolve(entry);
  if (!canon) return "";
  auto sw = shared_switch(pci_path(gpu.sysfs_path), pci_path(*canon));
  if (!sw || vendor_at(fs, devices, *sw) != gpu.vendor_id) return "";
  return "audio of the same vendor behind the card's switch " + sw->to_string();
}

// The other members of the GPU's IOMMU group.
void read_group_members(const Fs& fs, const std::map<PciAddress, RawDevice>& devices,
                        const std::vector<std::string>& dev_names, Gpu& gpu) {
  if (!gpu.iommu_group) return;
  const std::string gdir = "kernel/iommu_groups/" + std::to_string(*gpu.iommu_group) + "/devices";
  auto members = fs.list_dir(gdir);
  if (!members) {
    gpu.problems.push_back(read_problem(members.error(), false));
    return;
  }
  const std::vector<PciAddress> links = device_links(dev_names);
  for (const auto& m : *members) {
    auto maddr = parse_pci_address(m);
    if (!maddr || *maddr == gpu.address) continue;
    GroupMember gm;
    gm.address = *maddr;
    std::string entry = gdir + "/" + m;
    if (auto it = devices.find(*maddr); it != devices.end()) {
      gm.class_code = it->second.class_code;
      entry = it->second.entry;
      if (auto v = optional_attr<uint32_t>(fs, entry + "/vendor", parse_id); v) gm.vendor_id = *v;
      if (auto v = optional_attr<uint32_t>(fs, entry + "/device", parse_id); v) gm.product_id = *v;
      gm.driver = it->second.driver;
    }
    if (gm.vendor_id && gm.product_id)
      if (const KnownDevice* k = find_known_device(*gm.vendor_id, *gm.product_id);
          k && k->kind == KnownKind::management)
        gm.management = true;
    // The iLO shares the BMC VGA's slot, not a GPU's card; a bridge is never the card's function.
    const bool bridge = gm.class_code && (*gm.class_code >> 8) != kClassBridgeOther && (*gm.class_code >> 16) == 0x06;
    if (!gm.management && !bridge) gm.companion = companion_of(fs, devices, gpu, links, gm, entry);
    gm.same_card = !gm.companion.empty();
    gpu.group_members.push_back(std::move(gm));
  }
}

// SR-IOV: the VF count and the VFs behind the virtfnN links, in index order.
void read_sriov(const Fs& dev, const std::map<PciAddress, RawDevice>& devices,
                const std::vector<std::string>& dev_names, Gpu& gpu) {
  auto note = [&](const Error& e) { gpu.problems.push_back(read_problem(e, false)); };
  auto total = optional_attr<int64_t>(dev, "sriov_totalvfs", parse_int);
  if (!total) note(total.error());
  std::vector<std::pair<int64_t, std::string>> vf_links;
  for (const auto& n : dev_names)
    if (n.rfind("virtfn", 0) == 0)
      if (auto idx = parse_int(std::string_view(n).substr(6)); idx) vf_links.emplace_back(*idx, n);
  std::sort(vf_links.begin(), vf_links.end());
  if (!(total && *total && **total > 0) && vf_links.empty()) return;
  Sriov s;
  s.total_vfs = total && *total ? **total : static_cast<int64_t>(vf_links.size());
  auto num = optional_attr<int64_t>(dev, "sriov_numvfs", parse_int);
  if (num && *num) s.num_vfs = **num;
  else if (!num) note(num.error());
  else s.num_vfs = static_cast<int64_t>(vf_links.size());
  for (const auto& [idx, link] : vf_links) {
    auto target = dev.read_link(link);
    if (!target) {
      note(target.error());
      continue;
    }
    auto vaddr = parse_pci_address(base_name(*target));
    if (!vaddr) {
      note(make_error(dev.display(link) + " -> " + *target + ": " + vaddr.error().message));
      continue;
    }
    VirtualFunction vf;
    vf.address = *vaddr;
    if (auto it = devices.find(*vaddr); it != devices.end()) {
      vf.driver = it->second.driver;
      vf.iommu_group = it->second.iommu_group;
    }
    s.vfs.push_back(std::move(vf));
  }
  gpu.sriov = std::move(s);
}

std::string class_words(uint32_t class_code) {
  switch (class_code >> 8) {
    case kClassVga: return "VGA controller (class 0300)";
    case kClass3d: return "3D controller (class 0302)";
    case kClassDisplayOther: return "display controller (class 0380)";
    case kClassAccelerator: return "processing accelerator of a GPU vendor (class 1200)";
    default: return "class " + to_hex(class_code, 6);
  }
}

// Guest GPU or host display: the kernel's answers (boot_vga, the bound driver) first,
// then the known-hardware table (BMC displays, integrated graphics).
void assign_role(Gpu& gpu) {
  if (gpu.boot_vga && gpu.driver && is_host_display_driver(*gpu.driver)) {
    gpu.role = GpuRole::host_display;
    gpu.role_reason = "the boot VGA device, driven by " + *gpu.driver + ": the host's console";
    return;
  }
  const KnownDevice* k = gpu.vendor_id && gpu.product_id ? find_known_device(*gpu.vendor_id, *gpu.product_id) : nullptr;
  if (k && k->kind == KnownKind::bmc_display) {
    gpu.role = GpuRole::host_display;
    gpu.role_reason = "a BMC's display (" + std::string(k->name) + "): the remote console";
    return;
  }
  if (k && k->kind == KnownKind::integrated_display) {
    gpu.role = GpuRole::host_display;
    gpu.role_reason = "the CPU's integrated graphics (" + std::string(k->name) + "): the host's display";
    return;
  }
  gpu.role = GpuRole::guest;
  gpu.role_reason = class_words(gpu.class_code);
}

// One GPU (a PF of a GPU class, see is_gpu_device) as far as pass 2 reads it: all but
// its names, vGPU types and mdevs. It touches only the GPU it returns, so GPUs are
// read on several threads when the Fs allows.
Gpu read_gpu(const Fs& fs, const RawDevice& raw, const std::map<PciAddress, RawDevice>& devices) {
  const auto dev = fs.at("bus/pci/devices/" + raw.address.to_string());
  Gpu gpu;
  gpu.address = raw.address;
  gpu.class_code = *raw.class_code;
  auto canon = fs.resolve(raw.entry);
  gpu.sysfs_path = canon ? *canon : raw.entry;
  gpu.driver = raw.driver;
  gpu.iommu_group = raw.iommu_group;
  read_ids(*dev, gpu);
  read_optional_attrs(*dev, gpu);
  std::vector<std::string> names;
  if (auto n = dev->list_dir(""); n) names = std::move(*n);
  read_group_members(fs, devices, names, gpu);
  read_sriov(*dev, devices, names, gpu);
  assign_role(gpu);
  return gpu;
}

// Does this PF hand its VFs to guests while it stays on its host driver? AMD's gim (MxGPU)
// and Intel's i915/xe in SR-IOV PF mode do; NVIDIA's VFs are vGPU parents ([vgpu:*] layouts),
// and a PF on vfio-pci or pci-stub is itself the guest device.
bool vfs_are_the_guest_devices(const Gpu& pf) {
  if (!pf.sriov || !pf.driver || pf.vendor_id == std::optional<uint32_t>(0x10de)) return false;
  if (*pf.driver == "vfio-pci" || *pf.driver == "pci-stub") return false;
  return pf.sriov->num_vfs > 0 || !pf.sriov->vfs.empty() || *pf.driver == "gim";
}

// The PF's VFs as guest devices of their own; the PF becomes an sriov_pf.
void add_guest_vfs(const Fs& fs, const std::map<PciAddress, RawDevice>& devices, Gpu& pf, std::vector<Gpu>& out) {
  pf.role = GpuRole::sriov_pf;
  pf.role_reason = "an SR-IOV PF on " + *pf.driver + ": its " + std::to_string(pf.sriov->vfs.size()) +
                   " enabled VF(s) are the guest devices, the PF stays with the host driver that manages them";
  for (const auto& vf : pf.sriov->vfs) {
    auto it = devices.find(vf.address);
    if (it == devices.end() || !it->second.class_code) continue;
    Gpu g = read_gpu(fs, it->second, devices);
    g.physfn = pf.address;
    g.role = GpuRole::guest;
    g.role_reason = "an SR-IOV VF of " + pf.address.to_string() + " (" + *pf.driver + "), " + class_words(g.class_code);
    out.push_back(std::move(g));
  }
}

// The mdev parents of a GPU: the GPU itself (time-sliced T4/V100), then each VF
// (A40/A100, H100 vendor VFIO).
std::vector<PciAddress> mdev_parents(const Gpu& gpu) {
  std::vector<PciAddress> parents{gpu.address};
  if (gpu.sriov)
    for (const auto& vf : gpu.sriov->vfs) parents.push_back(vf.address);
  return parents;
}

// vGPU types from the parents' reads (mdev_parents order), taken in order, so the
// result is the same whether they were read on one thread or several.
void add_vgpu_types(const Fs& fs, TypeCache& type_cache, std::vector<ParentRead>& reads, Gpu& gpu) {
  const std::string dev = "bus/pci/devices/" + gpu.address.to_string();
  read_mdev_types(fs, dev, gpu.address, reads[0], type_cache, gpu);
  read_vendor_vgpu(fs, dev, gpu.address, gpu, nullptr);
  if (!gpu.sriov) return;
  for (size_t i = 1; i < reads.size(); ++i) {
    VirtualFunction& vf = gpu.sriov->vfs[i - 1];
    const std::string vdev = "bus/pci/devices/" + vf.address.to_string();
    const size_t before = gpu.mdev_types.size();
    read_mdev_types(fs, vdev, vf.address, reads[i], type_cache, gpu);
    // VFs of one GPU offer the same types: size the list from the first
    // (704 entries on an A40) instead of doubling past it.
    if (i == 1)
      gpu.mdev_types.reserve(gpu.mdev_types.size() + (gpu.sriov->vfs.size() - 1) * (gpu.mdev_types.size() - before));
    if (reads[i].vendor_dir) read_vendor_vgpu(fs, vdev, vf.address, gpu, &vf);
    reads[i] = ParentRead{};  // its strings are in the model now
  }
}

// Every GPU's vGPU types, from what pass 1 read of each parent (a parent it did
// not read, which no GPU-class device is, is read here).
void read_vgpu_types(const Fs& fs, std::map<PciAddress, RawDevice>& devices, std::vector<Gpu>& gpus) {
  TypeCache type_cache;
  for (auto& gpu : gpus) {
    const std::vector<PciAddress> parents = mdev_parents(gpu);
    std::vector<ParentRead> reads(parents.size());
    for (size_t p = 0; p < parents.size(); ++p) {
      auto it = devices.find(parents[p]);
      if (it != devices.end() && it->second.mdev) reads[p] = std::move(*std::exchange(it->second.mdev, std::nullopt));
      else reads[p] = read_parent(*fs.at("bus/pci/devices/" + parents[p].to_string()), p > 0);
    }
    add_vgpu_types(fs, type_cache, reads, gpu);
  }
}

// Existing mdev instances: bus/mdev/devices/UUID -> .../PARENT/UUID, with an mdev_type link.
void read_mdevs(const Fs& fs, Inventory& inv) {
  auto uuids = fs.list_dir("bus/mdev/devices");
  if (!uuids) {
    if (uuids.error().kind != ErrorKind::not_found) inv.warnings.push_back(uuids.error().message);
    return;
  }
  for (const auto& uuid : *uuids) {
    const std::string p = "bus/mdev/devices/" + uuid;
    auto canon = fs.resolve(p);
    if (!canon) {
      inv.warnings.push_back("mdev " + uuid + ": " + canon.error().message);
      continue;
    }
    auto parent = parse_pci_address(base_name(dir_name(*canon)));
    auto type = fs.read_link(p + "/mdev_type");
    if (!parent || !type) {
      inv.warnings.push_back("mdev " + uuid + ": cannot tell its parent device or type (" +
                             (type ? parent.error().message : type.error().message) + ")");
      continue;
    }
    inv.mdevs.push_back({uuid, std::string(base_name(*type)), *parent});
  }
}

// The mdevs on the GPU or its VFs, on the GPU and on their types.
void attach_mdevs(const std::vector<MdevInstance>& mdevs, Gpu& gpu) {
  auto mine = [&](const PciAddress& a) {
    if (a == gpu.address) return true;
    if (gpu.sriov)
      for (const auto& vf : gpu.sriov->vfs)
        if (vf.address == a) return true;
    return false;
  };
  for (const auto& m : mdevs) {
    if (!mine(m.parent)) continue;
    gpu.mdevs.push_back(m);
    for (auto& t : gpu.mdev_types)
      if (t.parent == m.parent && t.id() == m.type_id) t.instances.push_back(m.uuid);
  }
}

// An NVSwitch: recorded for nova-config's note on HGX full passthrough, never pooled.
void read_nvswitch(const Fs& fs, const RawDevice& raw, Inventory& inv) {
  FabricSwitch sw;
  sw.address = raw.address;
  sw.vendor_id = 0x10de;
  if (auto v = optional_attr<uint32_t>(fs, raw.entry + "/device", parse_id); v && *v) sw.product_id = **v;
  sw.driver = raw.driver;
  sw.iommu_group = raw.iommu_group;
  inv.nvswitches.push_back(std::move(sw));
}

// The module behind each bound driver, as the kernel shows it (bus/pci/drivers/X/module).
void read_driver_modules(const Fs& fs, Inventory& inv) {
  for (const auto& [driver, addrs] : inv.driver_devices)
    if (auto m = link_name(fs, "bus/pci/drivers/" + driver + "/module"); m && *m) inv.driver_modules[driver] = **m;
}

// The GPUs' vendor and product names, product first (PciNames finds the vendor's
// name on the same pass over pci.ids); then what the lookups loaded is freed.
void add_names(const NameLookup& names, std::vector<Gpu>& gpus) {
  for (auto& gpu : gpus) {
    if (!gpu.vendor_id) continue;
    if (gpu.product_id) gpu.product_name = names.product(*gpu.vendor_id, *gpu.product_id);
    gpu.vendor_name = names.vendor(*gpu.vendor_id);
  }
  // Nothing of them need stay loaded while the mdev types, the bulk of the model, are read.
  names.release();
}

// Pass 2: the GPUs among the devices (NVSwitches recorded on the way), each read
// on its own (on several threads when the Fs allows), then the guest VFs of AMD
// and Intel SR-IOV PFs beside them, all in address order.
void read_gpus(const Fs& fs, const std::map<PciAddress, RawDevice>& devices, Inventory& inv) {
  std::vector<const RawDevice*> found;
  for (const auto& [addr, raw] : devices) {
    if (raw.class_error) {
      inv.warnings.push_back(addr.to_string() + ": cannot tell whether it is a GPU: " + raw.class_error->message);
      continue;
    }
    if (raw.driver) inv.driver_devices[*raw.driver].push_back(addr);
    if (raw.is_vf) continue;  // VFs are shown under their PF, or added with it below
    std::optional<uint32_t> vendor;
    const uint32_t base = *raw.class_code >> 8;
    if (base == kClassAccelerator || base == kClassBridgeOther)
      if (auto v = optional_attr<uint32_t>(fs, raw.entry + "/vendor", parse_id); v) vendor = *v;
    if (base == kClassBridgeOther && vendor == std::optional<uint32_t>(0x10de)) {
      read_nvswitch(fs, raw, inv);
      continue;
    }
    if (is_gpu_device(*raw.class_code, vendor)) found.push_back(&raw);
  }
  inv.gpus.resize(found.size());
  const unsigned threads = fs.concurrent_reads() && found.size() > 1 ? read_threads() : 1;
  for_each_index(found.size(), threads, [&](size_t i) { inv.gpus[i] = read_gpu(fs, *found[i], devices); });
  std::vector<Gpu> vfs;
  for (auto& gpu : inv.gpus)
    if (vfs_are_the_guest_devices(gpu)) add_guest_vfs(fs, devices, gpu, vfs);
  if (!vfs.empty()) {
    for (auto& v : vfs) inv.gpus.push_back(std::move(v));
    std::stable_sort(inv.gpus.begin(), inv.gpus.end(),
                     [](const Gpu& a, const Gpu& b) { return a.address < b.address; });
  }
}

// Loads the names (pci.ids) on a thread of its own while sysfs is read, when
// sysfs is read on several threads anyway; joined before the first lookup.
class NamesLoader {
 public:
  NamesLoader(const NameLookup* names, const Fs& fs) {
    if (names && fs.concurrent_reads() && read_threads() > 1) thread_ = std::thread([names] { names->load(); });
  }
  ~NamesLoader() { wait(); }
  NamesLoader(const NamesLoader&) = delete;
  NamesLoader& operator=(const NamesLoader&) = delete;
  void wait() {
    if (thread_.joinable()) thread_.join();
  }

 private:
  std::thread thread_;
};

}  // namespace

bool is_gpu_class(uint32_t class_code) {
  uint32_t base = class_code >> 8;
  return base == kClassVga || base == kClass3d || base == kClassDisplayOther;
}

bool is_gpu_device(uint32_t class_code, std::optional<uint32_t> vendor_id) {
  if (is_gpu_class(class_code)) return true;
  return (class_code >> 8) == kClassAccelerator && vendor_id && is_gpu_vendor(*vendor_id);
}

std::string_view to_string(GpuRole role) {
  switch (role) {
    case GpuRole::host_display: return "host_display";
    case GpuRole::sriov_pf: return "sriov_pf";
    case GpuRole::guest: break;
  }
  return "guest";
}

std::string FabricSwitch::id_pair() const { return to_hex(vendor_id, 4) + ":" + to_hex(product_id, 4); }

std::string_view to_string(GpuMode mode) {
  switch (mode) {
    case GpuMode::passthrough: return "passthrough";
    case GpuMode::vgpu: return "vgpu";
    case GpuMode::unknown: break;
  }
  return "unknown";
}

std::string Gpu::id_pair() const {
  auto hex4 = [](const std::optional<uint32_t>& v) { return v ? to_hex(*v, 4) : std::string("????"); };
  return hex4(vendor_id) + ":" + hex4(product_id);
}

Result<Inventory> read_inventory(const Fs& fs, const InventoryOptions& options) {
  Inventory inv;
  inv.source = fs.display("");
  auto entries = fs.list_dir("bus/pci/devices");
  if (!entries)
    return reworded(entries.error().message +
                        " -- no PCI bus here; is this a sysfs root? (pass --sysfs-root DIR or --fixture FILE)",
                    entries.error());
  NamesLoader loader(options.names, fs);

  auto groups = fs.list_dir("kernel/iommu_groups");
  inv.iommu_enabled = groups && !groups->empty();

  std::map<PciAddress, RawDevice> devices = read_devices(fs, *entries, inv.warnings);
  read_gpus(fs, devices, inv);
  read_driver_modules(fs, inv);
  loader.wait();
  if (options.names) add_names(*options.names, inv.gpus);

  read_vgpu_types(fs, devices, inv.gpus);
  read_mdevs(fs, inv);
  for (auto& gpu : inv.gpus) {
    attach_mdevs(inv.mdevs, gpu);
    judge(gpu, inv.iommu_enabled);
  }
  return inv;
}

}  // namespace gpu_agent
