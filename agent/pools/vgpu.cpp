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
  for (const auto& t : g.mdev_types) names.insert(short_vgpu_name(t.name()) + " (" + t.id() + ")");
  for (const auto& t : g.vgpu_types) names.insert(short_vgpu_name(t.name) + " (" + std::to_string(t.id) + ")");
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out.empty() ? "none" : out;
}

// The layout's type as one GPU offers it: on the PF (T4) or its VFs (A40) as an
// mdev type, or on its VFs as a vGPU 17 vendor VFIO type. kind is unset when the
// GPU does not offer it.
struct TypeOnGpu {
  std::optional<VgpuKind> kind;
  std::string type_id, type_name;
  std::optional<int64_t> fb, max_inst;
  std::vector<VgpuParent> parents;
  int64_t capacity = 0, used = 0;  // vGPUs it can hold in all, instances there now
};

TypeOnGpu find_type(const std::string& type, const Gpu& g) {
  TypeOnGpu t;
  for (const auto& m : g.mdev_types) {
    if (!names_type(type, m.id(), m.name())) continue;
    t.kind = VgpuKind::mdev;
    t.type_id = m.id();
    t.type_name = m.name();
    t.fb = m.parsed().framebuffer_mib;
    t.max_inst = m.parsed().max_instance;
    t.parents.push_back(
        {m.parent, g.address, m.available_instances.value_or(0), static_cast<int64_t>(m.instances.size())});
  }
  for (const auto& v : g.vgpu_types) {
    if (!names_type(type, std::to_string(v.id), v.name)) continue;
    t.kind = VgpuKind::vendor_vfio;
    t.type_id = std::to_string(v.id);
    t.type_name = v.name;
    t.parents.push_back({v.parent, g.address, 1, 0});
  }
  if (t.kind == VgpuKind::vendor_vfio && g.sriov) {
    // a VF already set to this type is in use (it is no longer "creatable")
    for (const auto& vf : g.sriov->vfs)
      if (vf.current_vgpu_type && std::to_string(*vf.current_vgpu_type) == t.type_id)
        t.parents.push_back({vf.address, g.address, 0, 1});
  }
  int64_t avail = 0;
  for (const auto& p : t.parents) {
    avail += p.available;
    t.used += p.in_use;
  }
  // a VF-based type: each VF holds one vGPU, and the type's max_instance bounds the GPU
  t.capacity = avail + t.used;
  if (t.max_inst && *t.max_inst > 0) t.capacity = std::min(t.capacity, std::max(*t.max_inst, t.used));
  return t;
}

// An instance of another type on the GPU or one of its VFs: a GPU holds one type.
Result<bool> check_other_types(const std::string& where, const Gpu& g, const TypeOnGpu& t) {
  const std::string type = short_vgpu_name(t.type_name) + " (" + t.type_id + ")";
  for (const auto& m : g.mdevs) {
    if (m.type_id == t.type_id) continue;
    return make_error(where + ": " + m.parent.to_string() + " on GPU " + g.address.to_string() + " holds vGPU " +
                      m.uuid + " of type " + m.type_id + ", not " + type +
                      "; a GPU holds one type: delete that mdev "
                      "(`echo 1 > /sys/bus/mdev/devices/" +
                      m.uuid + "/remove`) once no guest uses it, or change type");
  }
  if (g.sriov && t.kind == VgpuKind::vendor_vfio) {
    for (const auto& vf : g.sriov->vfs)
      if (vf.current_vgpu_type && *vf.current_vgpu_type != 0 && std::to_string(*vf.current_vgpu_type) != t.type_id)
        return make_error(where + ": VF " + vf.address.to_string() + " of GPU " + g.address.to_string() +
                          " is set to vGPU type " + std::to_string(*vf.current_vgpu_type) + ", not " + type +
                          "; a GPU holds one type: once no guest uses it, `echo 0 > /sys/bus/pci/devices/" +
                          vf.address.to_string() + "/nvidia/current_vgpu_type`, or change type");
  }
  return true;
}

// One selected GPU of the layout: its type checked and added, or the error.
Result<bool> add_gpu(const std::string& where, const VgpuLayoutConfig& lc, const Gpu& g, VgpuLayout& l) {
  TypeOnGpu t = find_type(lc.type, g);
  if (!t.kind)
    return make_error(where + ": GPU " + g.address.to_string() + " (" + g.id_pair() + ") does not offer vGPU type " +
                      lc.type + "; it offers: " + offered(g));
  if (!l.type_id.empty() && l.type_id != t.type_id)
    return make_error(where + ": type " + lc.type + " is " + l.type_id + " on " + l.gpus.front().to_string() + " but " +
                      t.type_id + " on " + g.address.to_string() + "; give GPUs of one model per layout");
  if (auto ok = check_other_types(where, g, t); !ok) return ok;
  if (t.capacity == 0)
    return make_error(where + ": GPU " + g.address.to_string() + " has no room for a " + short_vgpu_name(t.type_name) +
                      " (" + t.type_id + "): available_instances is 0 on every " +
                      "parent; another type's vGPUs use it, or SR-IOV VFs are not enabled (see `gpu-agent doctor`)");
  l.kind = *t.kind;
  l.type_id = t.type_id;
  l.type_name = t.type_name;
  l.short_name = short_vgpu_name(t.type_name);
  l.framebuffer_mib = t.fb ? t.fb : framebuffer_from_name(l.short_name);
  l.max_instances_per_gpu = t.max_inst;
  l.gpus.push_back(g.address);
  l.parents.insert(l.parents.end(), t.parents.begin(), t.parents.end());
  l.capacity += t.capacity;
  l.in_use += t.used;
  return true;
}

// The layout's traits (configured + type, framebuffer, CUDA) and its parents sorted, once.
void finish_layout(const VgpuLayoutConfig& lc, VgpuLayout& l) {
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
    const std::string here = where(cfg, lc);
    VgpuLayout l;
    l.name = lc.name;
    l.resource_class = lc.mdev_class.value_or("VGPU");
    l.flavor_vcpus = lc.flavor_vcpus;
    l.flavor_ram_mb = lc.flavor_ram_mb;
    l.flavor_disk_gb = lc.flavor_disk_gb;
    if (auto a = first_non_gpu(inv, lc.addresses))
      return make_error(here + " names " + a->to_string() +
                        ", which is not a GPU on this host (see `gpu-agent inventory`)");
    for (const auto& g : inv.gpus) {
      const Selected selected = select_gpu(g, lc.addresses, lc.match, lc.all);
      if (selected == Selected::no) continue;
      if (g.mdev_types.empty() && g.vgpu_types.empty()) {
        if (selected == Selected::by_address)
          return make_error(here + ": GPU " + g.address.to_string() + " (" + g.id_pair() +
                            ") offers no vGPU type: is NVIDIA's vGPU host driver loaded and, on SR-IOV GPUs, are "
                            "the VFs enabled (`/usr/lib/nvidia/sriov-manage -e " +
                            g.address.to_string() + "`)?");
        continue;  // a passthrough GPU matched by model or `all`: not this layout's
      }
      if (auto t = taken.find(g.address); t != taken.end())
        return make_error(here + ": GPU " + g.address.to_string() + " is already in [vgpu:" + t->second +
                          "]; a GPU holds one vGPU type, so select it in one layout");
      taken[g.address] = lc.name;
      if (auto ok = add_gpu(here, lc, g, l); !ok) return ok.error();
    }
    if (l.gpus.empty())
      return make_error(here + " selects no vGPU-capable GPU on " + inv.hostname +
                        " (`gpu-agent inventory` lists each GPU's vGPU types)");
    finish_layout(lc, l);
    out.push_back(std::move(l));
  }
  return out;
}

}  // namespace gpu_agent
