// gpu-agent doctor: the verdict's problems, turned into the host-preparation
// steps an operator applies, in the order they apply them.
#include "doctor.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <set>

#include "json.h"
#include "pools.h"
#include "vgpu.h"

namespace gpu_agent {
namespace {

const std::vector<std::string> kIntelArgs{"intel_iommu=on", "iommu=pt"};
const std::vector<std::string> kAmdArgs{"amd_iommu=on", "iommu=pt"};

// The verdict's rule for the other members of a group being assigned (verdict.cpp).
bool vfio_safe_driver(const std::optional<std::string>& d) {
  return !d || *d == "vfio-pci" || *d == "pci-stub" || *d == "pcieport";
}

// softdep names a module; sysfs shows the driver. The kernel's own answer first
// (bus/pci/drivers/X/module, kept by `capture`), then what is known when a capture lacks it:
// the driver name is the module's for every GPU and HDMI audio driver, not for a GPU's
// USB-C functions.
std::string module_of(const Inventory& inv, const std::string& driver) {
  if (auto it = inv.driver_modules.find(driver); it != inv.driver_modules.end()) return it->second;
  static const std::map<std::string, std::string> kFallback{
      {"nvidia-gpu", "i2c_nvidia_gpu"}, {"xhci_hcd", "xhci_pci"}, {"ehci-pci", "ehci_pci"},
      {"ohci-pci", "ohci_pci"},         {"ucsi_ccg", "ucsi_ccg"}, {"snd_hda_intel", "snd_hda_intel"}};
  if (auto it = kFallback.find(driver); it != kFallback.end()) return it->second;
  return driver;
}

std::string join(const std::vector<std::string>& v, const std::string& sep) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : sep) + x;
  return s;
}

std::string plural(size_t n, const std::string& one, const std::string& many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

const char* group_name(FixGroup g) {
  switch (g) {
    case FixGroup::kernel_cmdline: return "kernel_cmdline";
    case FixGroup::vfio: return "vfio";
    case FixGroup::device: return "device";
  }
  return "device";
}

// ---- vGPU host state ([vgpu:*] layouts) ----

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// The value oslo.config ends with: the last one, later files winning.
struct NovaValue {
  std::string value, where;
};
std::optional<NovaValue> nova_value(const std::vector<IniFile>& files, const std::string& section,
                                    const std::string& key) {
  std::optional<NovaValue> v;
  for (const auto& f : files)
    if (const IniSection* s = f.section(section))
      if (const IniEntry* e = s->find(key)) v = NovaValue{e->value, f.where(e->line)};
  return v;
}

std::string nova_files(const std::vector<IniFile>& files) {
  std::vector<std::string> p;
  for (const auto& f : files) p.push_back(f.path);
  return join(p, ", ");
}

std::string some(const std::vector<std::string>& v, size_t n = 4) {
  std::vector<std::string> head(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(std::min(n, v.size())));
  std::string s = join(head, ", ");
  if (v.size() > n) s += " and " + std::to_string(v.size() - n) + " more";
  return s;
}

// (d) nova.conf's [devices] enabled types and [mdev_<type>] device_addresses against the layouts.
std::vector<std::string> nova_disagreements(const std::vector<VgpuLayout>& layouts, const std::vector<IniFile>& files) {
  std::vector<std::string> out;
  std::map<std::string, const VgpuLayout*> want;  // type id -> layout (mdev layouts only)
  for (const auto& l : layouts)
    if (l.kind == VgpuKind::mdev) want.emplace(l.type_id, &l);
  std::string option = "enabled_mdev_types";
  auto enabled = nova_value(files, "devices", option);
  if (!enabled) {
    option = "enabled_vgpu_types";  // the pre-Xena name, still read as a deprecated alias
    enabled = nova_value(files, "devices", option);
  }
  std::set<std::string> have;
  if (enabled)
    for (const auto& t : split_list(enabled->value)) have.insert(t);
  std::vector<std::string> missing, extra;
  for (const auto& [id, l] : want)
    if (!have.count(id)) missing.push_back(id + " (" + l->short_name + ", [vgpu:" + l->name + "])");
  for (const auto& id : have)
    if (!want.count(id)) extra.push_back(id);
  if (!missing.empty() || !extra.empty()) {
    std::string m = enabled ? "[devices] " + option + " (" + enabled->where + ") = " + enabled->value
                            : "nova.conf enables no vGPU type ([devices] enabled_mdev_types is not set in " +
                                  nova_files(files) + ")";
    if (!missing.empty()) m += "; the layouts declare " + join(missing, ", ") + ", which it does not enable";
    if (!extra.empty()) m += "; it enables " + join(extra, ", ") + ", which no [vgpu:*] layout declares";
    out.push_back(m);
  }
  for (const auto& [id, l] : want) {
    if (!have.count(id)) continue;
    std::string group = "mdev_" + id;
    auto addrs = nova_value(files, group, "device_addresses");
    if (!addrs) {
      group = "vgpu_" + id;  // device_addresses' deprecated group
      addrs = nova_value(files, group, "device_addresses");
    }
    if (!addrs) {
      if (have.size() > 1)
        out.push_back("[mdev_" + id +
                      "] device_addresses is not set: with several types enabled nova uses only the "
                      "first one, on every GPU, instead of " +
                      l->short_name + " on [vgpu:" + l->name + "]'s " + std::to_string(l->parents.size()) +
                      " parent device(s)");
      continue;
    }
    std::set<std::string> listed, parents;
    for (const auto& a : split_list(addrs->value)) listed.insert(lower(a));
    for (const auto& p : l->parents) parents.insert(p.address.to_string());
    std::vector<std::string> absent, foreign;
    for (const auto& p : parents)
      if (!listed.count(p)) absent.push_back(p);
    for (const auto& a : listed)
      if (!parents.count(a)) foreign.push_back(a);
    if (absent.empty() && foreign.empty()) continue;
    std::string m = "[" + group + "] device_addresses (" + addrs->where + ") lists " + std::to_string(listed.size()) +
                    " device(s), [vgpu:" + l->name + "] has " + std::to_string(parents.size()) + " parent(s) for " +
                    l->short_name;
    if (!absent.empty()) m += "; missing: " + some(absent);
    if (!foreign.empty()) m += "; not the layout's: " + some(foreign);
    out.push_back(m);
  }
  return out;
}

// The layout a GPU with SR-IOV VFs off belongs to, if any: by address, or by model
// or `all` when it is on NVIDIA's host driver (a passthrough one on vfio-pci is not
// the layout's). T4-style GPUs, with their types on the PF, need no VFs.
const VgpuLayoutConfig* layout_needing_vfs(const AgentConfig& cfg, const Gpu& g) {
  if (!g.sriov || g.sriov->total_vfs == 0 || g.sriov->num_vfs != 0) return nullptr;
  for (const auto& t : g.mdev_types)
    if (t.parent == g.address) return nullptr;
  for (const auto& lc : cfg.vgpu_layouts) {
    const Selected selected = select_gpu(g, lc.addresses, lc.match, lc.all);
    if (selected == Selected::by_address ||
        (selected == Selected::by_model && g.driver == std::optional<std::string>("nvidia")))
      return &lc;
  }
  return nullptr;
}

// (a) SR-IOV VFs off on a layout's GPU (num_vfs 0 after every reboot). True when some are.
bool check_vfs_enabled(const Inventory& inv, const AgentConfig& cfg, DoctorReport& r) {
  bool vfs_off = false;
  for (const auto& g : inv.gpus) {
    const VgpuLayoutConfig* layout = layout_needing_vfs(cfg, g);
    if (!layout) continue;
    vfs_off = true;
    const std::string addr = g.address.to_string();
    DoctorProblem d{
        "vfs_not_enabled",
        addr,
        addr + " supports SR-IOV (" + std::to_string(g.sriov->total_vfs) +
            " VFs) but none are enabled (sriov_numvfs is 0, as after every reboot), so [vgpu:" + layout->name + "]'s " +
            layout->type + " vGPUs cannot be created on it",
        "enable the VFs now with NVIDIA's sriov-manage, and at every boot before nova-compute starts with "
        "the " +
            std::string(kSriovUnit) +
            " unit (etc/gpu-agent-sriov@.service, installed in "
            "/etc/systemd/system/)",
        FixGroup::device,
        {"/usr/lib/nvidia/sriov-manage -e " + addr, "systemctl enable gpu-agent-sriov@" + addr + ".service"}};
    auto same = std::find_if(r.problems.begin(), r.problems.end(),
                             [&](const DoctorProblem& p) { return p.code == "vfs_not_enabled" && p.device == addr; });
    if (same != r.problems.end()) *same = std::move(d);  // the verdict's, said for the layout
    else r.problems.push_back(std::move(d));
  }
  return vfs_off;
}

// (b) vGPU 17 VFs whose current_vgpu_type is 0 (reset by a reboot) while the layout declares a type
void check_vgpu_types_set(const Inventory& inv, const std::vector<VgpuLayout>& layouts, DoctorReport& r) {
  for (const auto& l : layouts) {
    if (l.kind != VgpuKind::vendor_vfio) continue;
    for (const auto& pf : l.gpus) {
      const Gpu* g = nullptr;
      for (const auto& x : inv.gpus)
        if (x.address == pf) g = &x;
      if (!g || !g->sriov) continue;
      std::vector<std::string> lines;
      size_t parents = 0;
      for (const auto& vf : g->sriov->vfs) {
        const bool parent = std::any_of(l.parents.begin(), l.parents.end(),
                                        [&](const VgpuParent& p) { return p.address == vf.address; });
        if (!parent) continue;
        ++parents;
        if (vf.current_vgpu_type && *vf.current_vgpu_type == 0)
          lines.push_back("echo " + l.type_id + " > /sys/bus/pci/devices/" + vf.address.to_string() +
                          "/nvidia/current_vgpu_type");
      }
      if (lines.empty()) continue;
      r.problems.push_back(
          {"vgpu_type_not_set", pf.to_string(),
           std::to_string(lines.size()) + " of the " + std::to_string(parents) + " VFs of " + pf.to_string() +
               " have no vGPU type (nvidia/current_vgpu_type is 0, as after every reboot) while [vgpu:" + l.name +
               "] declares " + l.short_name + " (" + l.type_id + "); nova gives guests only VFs set to it",
           "set the type on each VF (again after every boot, before nova-compute starts)", FixGroup::device,
           std::move(lines)});
    }
  }
}

// (d) the layouts and nova.conf disagree
void check_nova_conf(const std::vector<VgpuLayout>& layouts, const std::vector<IniFile>& nova_conf, DoctorReport& r) {
  auto diffs = nova_disagreements(layouts, nova_conf);
  if (diffs.empty()) return;
  r.problems.push_back(
      {"nova_conf_mismatch",
       "",
       "nova.conf (" + nova_files(nova_conf) + ") and the [vgpu:*] layouts disagree: " + join(diffs, "; "),
       "write nova's vGPU config from the layouts (and remove the [devices]/[mdev_*] lines that "
       "disagree from the other nova.conf files), then restart nova-compute",
       FixGroup::device,
       {std::string("gpu-agent nova-config --role compute -o ") + kDoctorNovaSnippetPath,
        "systemctl restart nova-compute"}});
}

void check_vgpu(const Inventory& inv, const DoctorOptions& options, DoctorReport& r) {
  const AgentConfig& cfg = *options.config;
  for (const auto& lc : cfg.vgpu_layouts) r.vgpu_layouts.push_back(lc.name);
  const std::string config_name = cfg.path.empty() ? std::string("the agent's config") : cfg.path;
  const bool vfs_off = check_vfs_enabled(inv, cfg, r);

  // (c) layouts that do not resolve: a conflict the operator must see
  auto layouts = resolve_vgpu_layouts(inv, cfg);
  if (!layouts) {
    if (vfs_off) {
      r.notes.push_back("[vgpu:*] layouts are checked again once the VFs are enabled: " + layouts.error().message);
    } else {
      r.problems.push_back({"vgpu_layout",
                            "",
                            layouts.error().message,
                            "change the [vgpu:*] layout in " + config_name +
                                " (or the host) as the message says; `gpu-agent inventory` lists each GPU's vGPU "
                                "types and instances",
                            FixGroup::device,
                            {}});
    }
    return;
  }
  check_vgpu_types_set(inv, *layouts, r);

  if (options.nova_conf.empty()) return;
  for (const auto& f : options.nova_conf) r.nova_conf_files.push_back(f.path);
  if (vfs_off) {
    r.notes.push_back("nova.conf is compared with the [vgpu:*] layouts once the VFs are enabled");
    return;
  }
  check_nova_conf(*layouts, options.nova_conf, r);
}

}  // namespace

std::optional<std::string> parse_cpu_vendor(std::string_view cpuinfo) {
  size_t pos = 0;
  while (pos < cpuinfo.size()) {
    size_t end = cpuinfo.find('\n', pos);
    if (end == std::string_view::npos) end = cpuinfo.size();
    std::string_view line = cpuinfo.substr(pos, end - pos);
    pos = end + 1;
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos || trim_space(line.substr(0, colon)) != "vendor_id") continue;
    const std::string_view v = trim_space(line.substr(colon + 1));
    if (v == "GenuineIntel") return "intel";
    if (v == "AuthenticAMD" || v == "HygonGenuine") return "amd";
    return std::nullopt;
  }
  return std::nullopt;
}

namespace {

// The verdict's problems of every GPU: blocking ones grouped by their fix, the rest as notes.
void collect_gpu_problems(const Inventory& inv, DoctorReport& r) {
  for (const auto& g : inv.gpus) {
    const std::string addr = g.address.to_string();
    if (g.assignable) {
      ++r.ready_gpus;
      ++(g.mode == GpuMode::vgpu ? r.vgpu_ready : r.passthrough_ready);
    }
    for (const auto& p : g.problems) {
      if (!p.blocking) {
        r.notes.push_back(addr + ": " + p.message);
        continue;
      }
      DoctorProblem d{p.code, addr, p.message, p.fix, FixGroup::device, {}};
      if (p.code == "iommu_off") {
        d.group = FixGroup::kernel_cmdline;
        r.iommu_needed = true;
      } else if (p.code == "driver_not_vfio" || p.code == "companion_not_vfio") {
        d.group = FixGroup::vfio;
        r.vfio_needed = true;
      }
      r.problems.push_back(std::move(d));
    }
  }
}

// softdep lines for the modules of the drivers the plan takes devices from, with what a
// reader must know: pci-stub is given its devices on the kernel command line, and a driver
// the host still needs for other devices keeps them (ids= decides what vfio-pci takes).
void plan_softdeps(const Inventory& inv, const std::set<std::string>& drivers, const std::set<PciAddress>& bound,
                   DoctorReport& r) {
  std::set<std::string> modules;
  for (const auto& d : drivers) {
    if (d == "vfio-pci") continue;
    std::vector<std::string> stub;
    if (d == "pci-stub") {
      if (auto it = inv.driver_devices.find(d); it != inv.driver_devices.end())
        for (const auto& a : it->second) stub.push_back(a.to_string());
      r.vfio_notes.push_back("pci-stub holds " + some(stub) +
                             ": it is given devices by `pci-stub.ids=` on the kernel command line and, built in, "
                             "claims them before any module loads: remove those IDs from GRUB_CMDLINE_LINUX in "
                             "/etc/default/grub (`update-grub`), or vfio-pci never gets them at boot");
      continue;
    }
    const std::string module = module_of(inv, d);
    modules.insert(module);
    std::vector<std::string> kept;
    if (auto it = inv.driver_devices.find(d); it != inv.driver_devices.end())
      for (const auto& a : it->second)
        if (!bound.count(a)) kept.push_back(a.to_string());
    if (!kept.empty())
      r.vfio_notes.push_back("softdep " + module + " only makes vfio-pci load first: " + d + " still drives " +
                             some(kept) + " for the host, which is fine, since `ids=` decides what vfio-pci takes");
    if (module != d)
      r.vfio_notes.push_back("the driver " + d + " is the kernel module " + module +
                             (inv.driver_modules.count(d)
                                  ? std::string(" (/sys/bus/pci/drivers/") + d + "/module)"
                                  : std::string(" (known name; the capture has no module link)")));
  }
  r.softdep_drivers.assign(modules.begin(), modules.end());
}

// IDs of devices the host keeps (its displays, SR-IOV PFs): ids= would take them too.
using HeldIds = std::map<std::string, std::string>;  // vendor:product -> "ADDR (why)"

// Every device that should be on vfio-pci: each passthrough GPU and the other
// functions of its card. ids= binds by ID, so an ID a vGPU GPU or a device the host
// keeps shares stays out.
void plan_vfio_binding(const Inventory& inv, const HeldIds& held, DoctorReport& r) {
  std::set<std::string> ids, drivers;
  std::set<PciAddress> bound;                 // what the plan gives vfio-pci
  std::map<std::string, std::string> others;  // id -> why it stays out of ids=
  for (const auto& [id, why] : held) others.emplace(id, why);
  for (const auto& g : inv.gpus)
    if (g.mode == GpuMode::vgpu && g.vendor_id && g.product_id)
      others.emplace(g.id_pair(), g.address.to_string() + ", a vGPU GPU on the nvidia driver");
  auto want = [&](const std::string& id, const PciAddress& addr, const std::optional<std::string>& driver,
                  bool needs_binding) {
    if (!id.empty()) ids.insert(id);
    bound.insert(addr);
    if (!needs_binding) return;
    if (driver) {
      drivers.insert(*driver);
      if (*driver == "nouveau") r.blacklist_nouveau = true;
    }
    r.driverctl.push_back("driverctl set-override " + addr.to_string() + " vfio-pci");
  };
  for (const auto& g : inv.gpus) {
    if (g.mode != GpuMode::passthrough) continue;
    want(g.id_pair(), g.address, g.driver, !g.driver || *g.driver != "vfio-pci");
    for (const auto& m : g.group_members) {
      if (!m.same_card) continue;
      const std::string id = m.vendor_id && m.product_id ? to_hex(*m.vendor_id, 4) + ":" + to_hex(*m.product_id, 4)
                                                         : std::string();
      want(id, m.address, m.driver, !vfio_safe_driver(m.driver));
    }
  }
  for (const auto& id : ids) {
    auto other = others.find(id);
    if (other == others.end()) {
      r.vfio_ids.push_back(id);
      continue;
    }
    r.vfio_notes.push_back(id + " is also the ID of " + other->second +
                           ": `ids=` would take that one too, so it is left out; bind the passthrough ones with the "
                           "driverctl lines instead");
  }
  plan_softdeps(inv, drivers, bound, r);
  // The same device can be reached twice (a companion listed under two GPUs).
  std::sort(r.driverctl.begin(), r.driverctl.end());
  r.driverctl.erase(std::unique(r.driverctl.begin(), r.driverctl.end()), r.driverctl.end());
}

// The modprobe.d file for the binding planned above.
std::string modprobe_conf(const DoctorReport& r) {
  std::string c = std::string("# ") + kDoctorModprobePath + ": from `" + r.generator + " doctor` on " + r.host + "\n" +
                  "# vfio-pci claims these devices at boot, before their usual drivers load.\n";
  if (!r.vfio_ids.empty()) c += "options vfio-pci ids=" + join(r.vfio_ids, ",") + "\n";
  for (const auto& d : r.softdep_drivers) c += "softdep " + d + " pre: vfio-pci\n";
  if (r.blacklist_nouveau) c += "blacklist nouveau\noptions nouveau modeset=0\n";
  return c;
}

// The host's displays (a BMC's VGA, the console GPU) and SR-IOV PFs are left alone unless a
// [pool:*] section names them: out of the copy doctor judges, said once in a note, and their
// IDs kept out of ids=.
Inventory leave_to_host(const Inventory& host, const AgentConfig* cfg, HeldIds& held, DoctorReport& r) {
  Inventory inv = host;
  std::vector<std::string> left;
  auto claimed = [&](const Gpu& g) {
    if (!cfg) return false;
    return std::any_of(cfg->pools.begin(), cfg->pools.end(),
                       [&](const PoolConfig& pc) { return select_gpu(g, pc.addresses, pc.match) != Selected::no; });
  };
  auto drop = [&](const Gpu& g) {
    if (g.role == GpuRole::guest || claimed(g)) return false;
    left.push_back(g.address.to_string() + " (" + g.id_pair() + ", " + g.role_reason + ")");
    held.emplace(g.id_pair(), g.address.to_string() + " (" + std::string(to_string(g.role)) + ")");
    return true;
  };
  inv.gpus.erase(std::remove_if(inv.gpus.begin(), inv.gpus.end(), drop), inv.gpus.end());
  if (!left.empty())
    r.notes.push_back("left to the host: " + join(left, "; ") +
                      ". doctor never binds a BMC's or the host's display, or an SR-IOV PF whose VFs are the guest "
                      "devices, to vfio-pci; name one in a [pool:NAME] section to give it to guests anyway");
  return inv;
}

}  // namespace

DoctorReport make_doctor_report(const Inventory& host, const DoctorOptions& options) {
  DoctorReport r;
  HeldIds held;
  const Inventory inv = leave_to_host(host, options.config, held, r);
  r.host = inv.hostname;
  r.source = inv.source;
  r.generator = options.generator;
  r.gpus = inv.gpus.size();
  if (options.cpu_vendor == "intel" || options.cpu_vendor == "amd") r.cpu_vendor = *options.cpu_vendor;

  collect_gpu_problems(inv, r);
  for (const auto& w : inv.warnings) r.notes.push_back(w);
  for (const auto& n : options.notes) r.notes.push_back(n);
  if (options.config && !options.config->vgpu_layouts.empty()) check_vgpu(inv, options, r);
  if (inv.gpus.empty())
    r.problems.push_back({"no_gpu",
                          "",
                          "no GPU (PCI class 0300 VGA, 0302 3D or 0380 display controller, or a 1200 processing "
                          "accelerator of AMD, Intel or NVIDIA) found in " +
                              inv.source,
                          "check `lspci -nn | grep -Ei 'vga|3d controller|display controller|processing accel'`: a GPU "
                          "listed there but not here is a "
                          "bug (attach `gpu-agent capture -o /tmp/host.sysfs.txt`); one missing there is not seated, "
                          "or disabled in the firmware",
                          FixGroup::device,
                          {}});
  r.ready = r.problems.empty();

  if (r.iommu_needed) {
    r.kernel_cmdline_intel = kIntelArgs;
    r.kernel_cmdline_amd = kAmdArgs;
    if (r.cpu_vendor == "intel") r.kernel_cmdline = kIntelArgs;
    if (r.cpu_vendor == "amd") r.kernel_cmdline = kAmdArgs;
  }
  if (r.vfio_needed) {
    plan_vfio_binding(inv, held, r);
    r.modprobe_conf = modprobe_conf(r);
  }
  if (r.iommu_needed) r.commands.push_back("update-grub");
  if (r.vfio_needed) r.commands.push_back("update-initramfs -u");
  if (r.iommu_needed || r.vfio_needed) r.commands.push_back("reboot");
  return r;
}

std::string doctor_to_text(const DoctorReport& r) {
  std::string o = "gpu-agent doctor: host " + r.host + ", source " + r.source + "\n\n";
  if (r.ready) {
    const std::string which = r.gpus == 1   ? "the GPU"
                              : r.gpus == 2 ? "both GPUs"
                                            : "all " + std::to_string(r.gpus) + " GPUs";
    o += "READY: " + which + " can be given to guests (" + std::to_string(r.passthrough_ready) + " passthrough, " +
         std::to_string(r.vgpu_ready) + " vGPU). Nothing to do.\n";
  } else if (r.gpus == 0) {
    o += "NOT READY: no GPU found.\n";
  } else {
    o += "NOT READY: " + std::to_string(r.ready_gpus) + " of " + plural(r.gpus, "GPU", "GPUs") +
         " can be given to guests. " + plural(r.problems.size(), "problem", "problems") +
         "; apply the steps below in order, then run `gpu-agent doctor` again.\n";
  }

  int step = 0;
  int kernel_step = 0, vfio_step = 0, device_step = 0;
  if (r.iommu_needed) kernel_step = ++step;
  if (r.vfio_needed) vfio_step = ++step;
  const int reboot_step = r.commands.empty() ? 0 : ++step;
  bool any_device = false;
  for (const auto& p : r.problems) any_device |= p.group == FixGroup::device;
  if (any_device) device_step = ++step;

  if (!r.problems.empty()) {
    o += "\nProblems:\n";
    for (const auto& p : r.problems) {
      const int s = p.group == FixGroup::kernel_cmdline ? kernel_step
                    : p.group == FixGroup::vfio         ? vfio_step
                                                        : device_step;
      o += "  ✗ " + (p.device.empty() ? std::string() : p.device + " ") + p.code + ": " + p.message + " (step " +
           std::to_string(s) + ")\n";
    }
  }

  if (kernel_step) {
    o += "\nStep " + std::to_string(kernel_step) + ". Turn the IOMMU on (kernel command line)\n";
    o += "  Enable VT-d (Intel) or AMD-Vi/IOMMU (AMD) in the firmware setup if it is off there.\n";
    o += "  In /etc/default/grub, add to GRUB_CMDLINE_LINUX=\"...\":\n";
    if (r.cpu_vendor == "intel") {
      o += "      " + join(r.kernel_cmdline, " ") + "\n";
    } else if (r.cpu_vendor == "amd") {
      o += "      " + join(r.kernel_cmdline, " ") + "\n";
      o += "  (the AMD IOMMU is on by default on most kernels: if there are still no IOMMU groups after the\n"
           "  reboot, it is off in the firmware)\n";
    } else {
      o += "      Intel CPU: " + join(r.kernel_cmdline_intel, " ") + "\n";
      o += "      AMD CPU:   " + join(r.kernel_cmdline_amd, " ") +
           "   (on by default on most kernels: then the firmware setting is what is missing)\n";
      o += "  (the CPU vendor is not known here: pass --cpu-vendor intel|amd for one line)\n";
    }
    o += "  then run:\n      update-grub\n";
  }

  if (vfio_step) {
    o += "\nStep " + std::to_string(vfio_step) + ". Give the GPUs to vfio-pci at boot\n";
    o += "  Write " + std::string(kDoctorModprobePath) + ":\n";
    size_t pos = 0;
    while (pos < r.modprobe_conf.size()) {
      const size_t end = r.modprobe_conf.find('\n', pos);
      o += "      " + r.modprobe_conf.substr(pos, end - pos) + "\n";
      pos = end == std::string::npos ? r.modprobe_conf.size() : end + 1;
    }
    for (const auto& n : r.vfio_notes) o += "  note: " + n + "\n";
    o += "  then run:\n      update-initramfs -u\n";
    if (!r.driverctl.empty()) {
      o += "  Or, without a reboot (driverctl keeps the override across reboots too):\n";
      for (const auto& c : r.driverctl) o += "      " + c + "\n";
    }
  }

  if (reboot_step) {
    o += "\nStep " + std::to_string(reboot_step) + ". Reboot\n      reboot\n";
    if (kernel_step && vfio_step)
      o += "  (one reboot does for steps " + std::to_string(kernel_step) + " and " + std::to_string(vfio_step) + ")\n";
    else if (vfio_step && !r.driverctl.empty()) o += "  (not needed if you used driverctl)\n";
  }

  if (device_step) {
    o += "\nStep " + std::to_string(device_step) + ". Per device\n";
    for (const auto& p : r.problems) {
      if (p.group != FixGroup::device) continue;
      o += "  " + (p.device.empty() ? std::string("host") : p.device) + " " + p.code + "\n";
      o += "      fix: " + p.fix + "\n";
      if (!p.commands.empty()) {
        o += "      run:\n";
        for (const auto& c : p.commands) o += "          " + c + "\n";
      }
    }
  }

  if (!r.notes.empty()) {
    o += "\nNotes (not blocking):\n";
    for (const auto& n : r.notes) o += "  ! " + n + "\n";
  }
  return o;
}

std::string doctor_to_json(const DoctorReport& r) {
  JsonWriter w(JsonStyle::pretty);
  auto empty_as_null = [&](const std::string& s) {  // "" is null in this schema
    if (s.empty()) w.null();
    else w.string(s);
  };
  w.begin_object();
  w.key("schema_version").integer(1);
  w.key("generator").string(r.generator);
  w.key("host").string(r.host);
  w.key("source").string(r.source);
  w.key("ready").boolean(r.ready);
  w.key("gpus").unsigned_integer(r.gpus);
  w.key("ready_gpus").unsigned_integer(r.ready_gpus);
  w.key("problems").begin_array();
  for (const auto& p : r.problems) {
    w.begin_object();
    w.key("code").string(p.code);
    w.key("device");
    empty_as_null(p.device);
    w.key("message").string(p.message);
    w.key("fix").string(p.fix);
    w.key("step").string(group_name(p.group));
    w.key("commands").strings(p.commands);
    w.end_object();
  }
  w.end_array();
  w.key("notes").strings(r.notes);
  w.key("cpu_vendor");
  empty_as_null(r.cpu_vendor);
  w.key("kernel_cmdline").strings(r.kernel_cmdline);
  w.key("kernel_cmdline_by_vendor");
  if (!r.iommu_needed) {
    w.null();
  } else {
    w.begin_object();
    w.key("intel").strings(r.kernel_cmdline_intel);
    w.key("amd").strings(r.kernel_cmdline_amd);
    w.end_object();
  }
  w.key("modprobe_conf_path").string(kDoctorModprobePath);
  w.key("modprobe_conf");
  empty_as_null(r.modprobe_conf);
  w.key("vfio_ids").strings(r.vfio_ids);
  w.key("softdep_drivers").strings(r.softdep_drivers);
  w.key("vfio_notes").strings(r.vfio_notes);
  w.key("driverctl").strings(r.driverctl);
  w.key("commands").strings(r.commands);
  w.key("vgpu_layouts").strings(r.vgpu_layouts);
  w.key("nova_conf_files").strings(r.nova_conf_files);
  w.end_object();
  return w.finish();
}

}  // namespace gpu_agent
