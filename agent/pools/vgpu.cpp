#include "vgpu.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <set>

#include "pools.h"

namespace gpu_agent {
namespace {

std::string where(const AgentConfig& cfg, const VgpuLayoutConfig& l) {
  return (cfg.path.empty() ? std::string("config") : cfg.path) + ":" + std::to_string(l.line) + ": [vgpu:" + l.name +
         "]";
}

bool selects(const VgpuLayoutConfig& l, const Gpu& g) {
  if (l.all) return true;
  for (const auto& a : l.addresses)
    if (a == g.address) return true;
  for (const auto& [v, d] : l.match)
    if (g.vendor_id == v && g.product_id == d) return true;
  return false;
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Does TYPE (as the operator wrote it) name this type? By id, full name or short name, any case.
bool names_type(const std::string& want, const std::string& id, const std::string& name) {
  const std::string w = lower(want);
  return w == lower(id) || w == lower(name) || w == lower(short_vgpu_name(name));
}

// "A40-24Q" -> 'Q'; "H100-1-10C" -> 'C'; "T4-2B4" -> 'B': the first letter after the model
char series_of(const std::string& short_name) {
  const size_t dash = short_name.find('-');
  if (dash == std::string::npos) return 0;
  for (size_t i = dash + 1; i < short_name.size(); ++i)
    if (std::isalpha(static_cast<unsigned char>(short_name[i])))
      return static_cast<char>(std::toupper(static_cast<unsigned char>(short_name[i])));
  return 0;
}

// "H100-20C" -> 20480 MiB: vGPU 17 type names carry the framebuffer in GB before the series letter
std::optional<int64_t> framebuffer_from_name(const std::string& short_name) {
  const size_t dash = short_name.rfind('-');
  if (dash == std::string::npos) return std::nullopt;
  int64_t gb = 0;
  size_t i = dash + 1;
  for (; i < short_name.size() && std::isdigit(static_cast<unsigned char>(short_name[i])); ++i)
    gb = gb * 10 + (short_name[i] - '0');
  if (i == dash + 1 || i + 1 != short_name.size()) return std::nullopt;
  return gb * 1024;
}

std::string offered(const Gpu& g) {
  std::set<std::string> names;
  for (const auto& t : g.mdev_types) names.insert(short_vgpu_name(t.name) + " (" + t.id + ")");
  for (const auto& t : g.vgpu_types) names.insert(short_vgpu_name(t.name) + " (" + std::to_string(t.id) + ")");
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out.empty() ? "none" : out;
}

}  // namespace

std::string vgpu_type_trait(const std::string& short_name) { return "CUSTOM_VGPU_" + to_trait_part(short_name); }

std::string vgpu_framebuffer_trait(int64_t mib) {
  if (mib % 1024 == 0) return "CUSTOM_VGPU_FB_" + std::to_string(mib / 1024) + "G";
  return "CUSTOM_VGPU_FB_" + std::to_string(mib) + "M";
}

std::string nova_pgpu_provider_name(const std::string& nodename, const PciAddress& parent) {
  std::string a = parent.to_string();
  for (auto& c : a)
    if (c == ':' || c == '.') c = '_';
  return nodename + "_pci_" + a;
}

Result<std::vector<VgpuLayout>> resolve_vgpu_layouts(const Inventory& inv, const AgentConfig& cfg) {
  std::vector<VgpuLayout> out;
  std::map<PciAddress, std::string> taken;  // GPU -> layout
  for (const auto& lc : cfg.vgpu_layouts) {
    VgpuLayout l;
    l.name = lc.name;
    l.resource_class = lc.mdev_class.value_or("VGPU");
    l.flavor_vcpus = lc.flavor_vcpus;
    l.flavor_ram_mb = lc.flavor_ram_mb;
    l.flavor_disk_gb = lc.flavor_disk_gb;
    for (const auto& a : lc.addresses) {
      bool found = false;
      for (const auto& g : inv.gpus) found |= g.address == a;
      if (!found)
        return make_error(where(cfg, lc) + " names " + a.to_string() +
                          ", which is not a GPU on this host (see `gpu-agent inventory`)");
    }
    for (const auto& g : inv.gpus) {
      if (!selects(lc, g)) continue;
      const bool explicit_address = std::find(lc.addresses.begin(), lc.addresses.end(), g.address) != lc.addresses.end();
      if (g.mdev_types.empty() && g.vgpu_types.empty()) {
        if (explicit_address)
          return make_error(where(cfg, lc) + ": GPU " + g.address.to_string() + " (" + g.id_pair() +
                            ") offers no vGPU type: is NVIDIA's vGPU host driver loaded and, on SR-IOV GPUs, are "
                            "the VFs enabled (`/usr/lib/nvidia/sriov-manage -e " + g.address.to_string() + "`)?");
        continue;  // a passthrough GPU matched by model or `all`: not this layout's
      }
      if (auto t = taken.find(g.address); t != taken.end())
        return make_error(where(cfg, lc) + ": GPU " + g.address.to_string() + " is already in [vgpu:" + t->second +
                          "]; a GPU holds one vGPU type, so select it in one layout");
      taken[g.address] = lc.name;

      // mdev types on the PF (T4) or its VFs (A40)
      std::vector<VgpuParent> parents;
      std::string type_id, type_name, kind;
      std::optional<int64_t> fb, max_inst;
      for (const auto& t : g.mdev_types) {
        if (!names_type(lc.type, t.id, t.name)) continue;
        kind = "mdev";
        type_id = t.id;
        type_name = t.name;
        fb = t.parsed.framebuffer_mib;
        max_inst = t.parsed.max_instance;
        parents.push_back({t.parent, g.address, t.available_instances.value_or(0),
                           static_cast<int64_t>(t.instances.size())});
      }
      for (const auto& t : g.vgpu_types) {
        if (!names_type(lc.type, std::to_string(t.id), t.name)) continue;
        kind = "vendor_vfio";
        type_id = std::to_string(t.id);
        type_name = t.name;
        parents.push_back({t.parent, g.address, 1, 0});
      }
      if (kind == "vendor_vfio" && g.sriov) {
        // a VF already set to this type is in use (it is no longer "creatable")
        for (const auto& vf : g.sriov->vfs)
          if (vf.current_vgpu_type && std::to_string(*vf.current_vgpu_type) == type_id)
            parents.push_back({vf.address, g.address, 0, 1});
      }
      if (kind.empty())
        return make_error(where(cfg, lc) + ": GPU " + g.address.to_string() + " (" + g.id_pair() +
                          ") does not offer vGPU type " + lc.type + "; it offers: " + offered(g));
      if (!l.type_id.empty() && l.type_id != type_id)
        return make_error(where(cfg, lc) + ": type " + lc.type + " is " + l.type_id + " on " +
                          l.gpus.front().to_string() + " but " + type_id + " on " + g.address.to_string() +
                          "; give GPUs of one model per layout");
      // conflicts: an instance of another type on one of this layout's parents, or on the GPU
      for (const auto& m : g.mdevs) {
        if (m.type_id == type_id) continue;
        return make_error(where(cfg, lc) + ": " + m.parent.to_string() + " on GPU " + g.address.to_string() +
                          " holds vGPU " + m.uuid + " of type " + m.type_id + ", not " + short_vgpu_name(type_name) +
                          " (" + type_id + "); a GPU holds one type: delete that mdev (`echo 1 > "
                          "/sys/bus/mdev/devices/" + m.uuid + "/remove`) once no guest uses it, or change type");
      }
      if (g.sriov && kind == "vendor_vfio") {
        for (const auto& vf : g.sriov->vfs)
          if (vf.current_vgpu_type && *vf.current_vgpu_type != 0 && std::to_string(*vf.current_vgpu_type) != type_id)
            return make_error(where(cfg, lc) + ": VF " + vf.address.to_string() + " of GPU " + g.address.to_string() +
                              " is set to vGPU type " + std::to_string(*vf.current_vgpu_type) + ", not " +
                              short_vgpu_name(type_name) + " (" + type_id + "); a GPU holds one type: once no guest "
                              "uses it, `echo 0 > /sys/bus/pci/devices/" + vf.address.to_string() +
                              "/nvidia/current_vgpu_type`, or change type");
      }
      int64_t avail = 0, used = 0;
      for (const auto& p : parents) {
        avail += p.available;
        used += p.in_use;
      }
      // a VF-based type: each VF holds one vGPU, and the type's max_instance bounds the GPU
      int64_t cap = avail + used;
      if (max_inst && *max_inst > 0) cap = std::min(cap, std::max(*max_inst, used));
      if (cap == 0)
        return make_error(where(cfg, lc) + ": GPU " + g.address.to_string() + " has no room for a " +
                          short_vgpu_name(type_name) + " (" + type_id + "): available_instances is 0 on every " +
                          "parent; another type's vGPUs use it, or SR-IOV VFs are not enabled (see `gpu-agent doctor`)");
      l.kind = kind;
      l.type_id = type_id;
      l.type_name = type_name;
      l.short_name = short_vgpu_name(type_name);
      l.framebuffer_mib = fb ? fb : framebuffer_from_name(l.short_name);
      l.max_instances_per_gpu = max_inst;
      l.gpus.push_back(g.address);
      l.parents.insert(l.parents.end(), parents.begin(), parents.end());
      l.capacity += cap;
      l.in_use += used;
    }
    if (l.gpus.empty())
      return make_error(where(cfg, lc) + " selects no vGPU-capable GPU on " + inv.hostname +
                        " (`gpu-agent inventory` lists each GPU's vGPU types)");
    l.series = series_of(l.short_name);
    std::set<std::string> traits(lc.traits.begin(), lc.traits.end());
    traits.insert(vgpu_type_trait(l.short_name));
    if (l.framebuffer_mib) traits.insert(vgpu_framebuffer_trait(*l.framebuffer_mib));
    if (l.series == 'Q' || l.series == 'C') traits.insert(kVgpuCudaTrait);
    l.traits.assign(traits.begin(), traits.end());
    std::sort(l.parents.begin(), l.parents.end(),
              [](const VgpuParent& a, const VgpuParent& b) { return a.address < b.address; });
    l.parents.erase(std::unique(l.parents.begin(), l.parents.end(),
                                [](const VgpuParent& a, const VgpuParent& b) { return a.address == b.address; }),
                    l.parents.end());
    out.push_back(std::move(l));
  }
  return out;
}

}  // namespace gpu_agent
