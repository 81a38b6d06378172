#include "nova_config.h"

#include "inventory.h"

#include <algorithm>
#include <initializer_list>
#include <map>
#include <set>
#include <utility>

#include "json.h"

namespace gpu_agent {
namespace {

std::string lower(std::string s) {
  for (auto& c : s)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return s;
}

const Gpu* find_gpu(const Inventory& inv, const PciAddress& a) {
  for (const auto& g : inv.gpus)
    if (g.address == a) return &g;
  return nullptr;
}

bool sriov_capable(const Gpu& g) { return g.sriov && g.sriov->total_vfs > 0; }

// Why a GPU is not in any device spec, for the no-assignable-GPU error.
std::string why_not(const Gpu& g) {
  if (g.mode == GpuMode::vgpu) return "vGPU mode (nova's [devices]/[mdev_*] config, not [pci] passthrough)";
  std::string out;
  for (const auto& p : g.problems) {
    if (!p.blocking) continue;
    if (!out.empty()) out += "; ";
    out += p.code + ": " + p.message;
  }
  return out.empty() ? std::string("not assignable") : out;
}

// A device_spec or alias value: a JSON object of strings on one line, as nova's
// documentation writes them ({"vendor_id": "10de", "product_id": "20b5"}).
std::string option_value(std::initializer_list<std::pair<const char*, std::string>> members) {
  JsonWriter w(JsonStyle::one_line);
  w.begin_object();
  for (const auto& [k, v] : members) w.key(k).string(v);
  w.end_object();
  return w.finish();
}

}  // namespace

Result<NovaRole> parse_nova_role(const std::string& text) {
  if (text == "compute") return NovaRole::compute;
  if (text == "api") return NovaRole::api;
  if (text == "all") return NovaRole::all;
  return make_error("unknown role '" + text + "'; give compute, api or all");
}

const char* to_string(NovaRole role) {
  switch (role) {
    case NovaRole::compute: return "compute";
    case NovaRole::api: return "api";
    case NovaRole::all: return "all";
  }
  return "all";
}

std::string nova_alias_name(const std::string& pool_key) {
  std::string out;
  for (char c : lower(pool_key)) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
    out += ok ? c : '-';
  }
  return out.substr(0, 256);  // nova's alias schema: name up to 256 characters
}

namespace {

// nova's [pci] option values, as JSON objects.
std::string alias_json(const std::string& name, const std::string& vendor, const std::string& product,
                       const std::string& device_type, const std::string& numa_policy) {
  return option_value({{"name", name},
                       {"vendor_id", vendor},
                       {"product_id", product},
                       {"device_type", device_type},
                       {"numa_policy", numa_policy}});
}
std::string id_spec_json(uint32_t vendor, uint32_t product) {
  return option_value({{"vendor_id", to_hex(vendor, 4)}, {"product_id", to_hex(product, 4)}});
}
std::string address_spec_json(const PciAddress& a) { return option_value({{"address", a.to_string()}}); }
std::string unmanaged_spec_json(const PciAddress& a, const std::string& resource_class) {
  return option_value({{"address", a.to_string()}, {"managed", "no"}, {"resource_class", resource_class}});
}

// The NUMA policy, lower case, when the release accepts it.
Result<std::string> numa_policy_for(const NovaRelease& rel, const std::string& numa_policy) {
  const std::string policy = lower(numa_policy);
  std::vector<std::string> policies{"required", "legacy", "preferred"};
  if (has_feature(rel, NovaFeature::numa_policy_socket)) policies.push_back("socket");
  if (std::find(policies.begin(), policies.end(), policy) == policies.end()) {
    std::string known;
    for (const auto& p : policies) known += (known.empty() ? "" : ", ") + p;
    return make_error("numa_policy '" + numa_policy + "' is not accepted by nova " + rel.name + " (" + known + ")");
  }
  return policy;
}

// A pool's GPUs on this host: all of them, and those assignable now.
struct PoolGpus {
  std::vector<const Gpu*> members, ready;
};
PoolGpus pool_gpus(const Inventory& inv, const Pool& pool) {
  PoolGpus out;
  for (const auto* list : {&pool.assignable, &pool.unavailable})
    for (const auto& a : *list)
      if (const Gpu* g = find_gpu(inv, a)) out.members.push_back(g);
  for (const auto& a : pool.assignable)
    if (const Gpu* g = find_gpu(inv, a)) out.ready.push_back(g);
  return out;
}

// One alias name per pool; one entry per vendor/product of its members. nova keys the
// alias by device_type: the PF of an SR-IOV-capable GPU is "type-PF" to nova's libvirt
// driver, a VF "type-VF", a plain one "type-PCI", and aliases sharing a name must agree.
Result<bool> add_aliases(const Pool& pool, const std::vector<const Gpu*>& members, const std::string& policy,
                         std::map<std::string, std::string>& alias_owner, NovaConfig& cfg) {
  std::set<std::string> kinds;
  for (const Gpu* g : members) kinds.insert(g->physfn ? "type-VF" : sriov_capable(*g) ? "type-PF" : "type-PCI");
  if (kinds.size() > 1)
    return make_error("pool " + pool.key + " holds devices nova tells apart (" + *kinds.begin() + " and " +
                      *kinds.rbegin() + "); one nova alias cannot request both: split it into two [pool:*] sections");
  const std::string device_type = *kinds.begin();
  const std::string name = nova_alias_name(pool.key);
  if (name.empty()) return make_error("pool '" + pool.key + "' gives an empty nova alias name");
  if (auto [it, fresh] = alias_owner.emplace(name, pool.key); !fresh)
    return make_error("pools " + it->second + " and " + pool.key + " both give the nova alias name '" + name +
                      "'; rename one [pool:*] section");
  std::set<std::pair<uint32_t, uint32_t>> ids;
  for (const Gpu* g : members)
    if (g->vendor_id && g->product_id) ids.emplace(*g->vendor_id, *g->product_id);
  for (const auto& [v, d] : ids) {
    const std::string vendor = to_hex(v, 4), product = to_hex(d, 4);
    cfg.aliases.push_back({pool.key, name, vendor, product, alias_json(name, vendor, product, device_type, policy),
                           pool.resource_class,
                           // what a flavor requires: a default pool's descriptive traits add nothing to its class
                           pool.configured ? pool.traits : std::vector<std::string>{}});
  }
  return true;
}

// A vendor/product device spec matches exactly these GPUs when every device of the
// host with that ID is one of them (assignable, in this pool) and no GPU of the
// vendor has VFs.
bool id_matches_exactly(const Inventory& inv, std::pair<uint32_t, uint32_t> id, const std::vector<const Gpu*>& gpus) {
  bool exact = true;
  for (const auto& g : inv.gpus) {
    if (g.sriov && (g.sriov->num_vfs > 0 || !g.sriov->vfs.empty()) && g.vendor_id == id.first) exact = false;
    for (const auto& m : g.group_members)
      if (m.vendor_id == id.first && m.product_id == id.second) exact = false;
    if (g.vendor_id != id.first || g.product_id != id.second) continue;
    if (std::find(gpus.begin(), gpus.end(), &g) == gpus.end()) exact = false;
  }
  return exact;
}

// Device specs: by vendor/product where that matches exactly, else by address; then
// the other functions of the same card in the GPU's IOMMU group (HDMI audio, USB-C):
// vfio hands the whole group to the guest, so nova must know them too.
void add_device_specs(const Inventory& inv, const Pool& pool, const std::vector<const Gpu*>& ready, NovaConfig& cfg) {
  std::map<std::pair<uint32_t, uint32_t>, std::vector<const Gpu*>> by_id;
  std::vector<const Gpu*> by_address;
  for (const Gpu* g : ready) {
    if (g->vendor_id && g->product_id) by_id[{*g->vendor_id, *g->product_id}].push_back(g);
    else by_address.push_back(g);
  }
  for (auto& [id, gpus] : by_id) {
    if (!id_matches_exactly(inv, id, gpus)) {
      by_address.insert(by_address.end(), gpus.begin(), gpus.end());
      continue;
    }
    NovaDeviceSpec s{pool.key, "vendor_product", "gpu", {}, id_spec_json(id.first, id.second)};
    for (const Gpu* g : gpus) s.devices.push_back(g->address);
    cfg.device_specs.push_back(std::move(s));
  }
  std::sort(by_address.begin(), by_address.end(), [](const Gpu* a, const Gpu* b) { return a->address < b->address; });
  for (const Gpu* g : by_address)
    cfg.device_specs.push_back({pool.key, "address", "gpu", {g->address}, address_spec_json(g->address)});
  for (const Gpu* g : ready)
    for (const auto& m : g->group_members) {
      if (!m.same_card || (m.class_code && is_gpu_class(*m.class_code))) continue;
      cfg.device_specs.push_back({pool.key, "address", "companion", {m.address}, address_spec_json(m.address)});
    }
}

// Zed aliases carry only IDs: two pools of one model are the same devices to nova-compute,
// which may then give a guest scheduled (in placement) onto one pool a GPU of the other.
void note_shared_alias_ids(NovaConfig& cfg) {
  std::map<std::pair<std::string, std::string>, std::set<std::string>> alias_by_id;
  for (const auto& al : cfg.aliases) alias_by_id[{al.vendor_id, al.product_id}].insert(al.name);
  for (const auto& [id, names] : alias_by_id) {
    if (names.size() < 2) continue;
    std::string list;
    for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
    cfg.notes.push_back("aliases " + list + " all request " + id.first + ":" + id.second +
                        ": nova cannot tell their GPUs apart on this host, so a guest may get a GPU of the other "
                        "pool than placement counted; give each model one pool");
  }
}

// HGX baseboards: the NVSwitches are no GPUs and in no pool, but an 8-GPU guest under full
// passthrough needs them, and nova gives a guest only what device_spec and an alias name.
void note_nvswitches(const Inventory& inv, NovaConfig& cfg) {
  if (inv.nvswitches.empty()) return;
  std::set<std::string> ids, drivers;
  for (const auto& sw : inv.nvswitches) {
    ids.insert(sw.id_pair());
    drivers.insert(sw.driver.value_or("none"));
  }
  std::string id_list, driver_list;
  for (const auto& i : ids) id_list += (id_list.empty() ? "" : ", ") + i;
  for (const auto& d : drivers) driver_list += (driver_list.empty() ? "" : ", ") + d;
  const std::string n = std::to_string(inv.nvswitches.size());
  const std::string first = *ids.begin();
  cfg.notes.push_back(
      "this host has " + n + " NVSwitch(es) (" + id_list + "; drivers: " + driver_list +
      "): they connect the GPUs by NVLink and are no GPUs, so the agent pools none of them. Under HGX full "
      "passthrough an 8-GPU guest gets all the GPUs AND all " +
      n +
      " NVSwitches and runs NVIDIA's fabric manager itself; a guest with fewer GPUs gets no NVLink. For 8-GPU "
      "guests, bind the NVSwitches to vfio-pci and add for nova: " +
      cfg.device_spec_option + " = {\"vendor_id\": \"" + first.substr(0, 4) + "\", \"product_id\": \"" +
      first.substr(5) + "\"} and alias = {\"name\": \"nvswitch\", \"vendor_id\": \"" + first.substr(0, 4) +
      "\", \"product_id\": \"" + first.substr(5) +
      "\", \"device_type\": \"type-PCI\"}, and pci_passthrough:alias=nvswitch:" + n +
      " in the 8x flavor (with its GPU alias); smaller guests with NVLink need NVIDIA's shared NVSwitch mode "
      "(fabric manager in a service VM), which nova does not manage");
}

// A vGPU 17 layout (no mdev bus): its VFs as PCI devices with managed "no", nova 2025.1 and later.
void add_vendor_vfio_layout(const VgpuLayout& l, const NovaRelease& rel, NovaConfig& cfg) {
  if (!has_feature(rel, NovaFeature::vgpu17_unmanaged)) {
    cfg.notes.push_back("[vgpu:" + l.name + "] " + l.short_name +
                        " is a vGPU 17 type (no mdev bus): nova gives its "
                        "VFs to guests as PCI devices left on NVIDIA's driver, which needs [pci] device_spec "
                        "\"managed\": \"no\" (nova 2025.1 and later); nothing is written for it here");
    return;
  }
  const std::string rc = l.resource_class == "VGPU" ? "CUSTOM_" + to_trait_part("VGPU_" + l.short_name)
                                                    : l.resource_class;
  cfg.notes.push_back("[vgpu:" + l.name + "] " + l.short_name +
                      ": vGPU 17 VFs as PCI devices with managed \"no\", "
                      "in placement as " +
                      rc + " (set [pci] report_in_placement = true)");
  for (const auto& p : l.parents)
    cfg.device_specs.push_back({l.name, "address", "vgpu", {p.address}, unmanaged_spec_json(p.address, rc)});
}

// An mdev layout: one enabled type and its [mdev_<type>] group, as the release has them.
Result<bool> add_mdev_layout(const VgpuLayout& l, const NovaRelease& rel, NovaConfig& cfg) {
  if (!has_feature(rel, NovaFeature::multiple_vgpu_types) && !cfg.mdev_types.empty()) {
    cfg.notes.push_back("[vgpu:" + l.name + "]: nova " + rel.name +
                        " uses only the first enabled vGPU type; "
                        "left out");
    return true;
  }
  NovaMdevType t;
  t.layout = l.name;
  t.type_id = l.type_id;
  t.short_name = l.short_name;
  t.group = (has_feature(rel, NovaFeature::mdev_options) ? "mdev_" : "vgpu_") + l.type_id;
  for (const auto& p : l.parents) t.device_addresses.push_back(p.address);
  if (has_feature(rel, NovaFeature::mdev_options) && l.resource_class != "VGPU") t.mdev_class = l.resource_class;
  if (!has_feature(rel, NovaFeature::mdev_options) && l.resource_class != "VGPU")
    cfg.notes.push_back("[vgpu:" + l.name + "] mdev_class " + l.resource_class + " needs nova xena or later; " +
                        rel.name + " reports VGPU");
  if (has_feature(rel, NovaFeature::max_instances) && l.capacity > 0) t.max_instances = l.capacity;
  for (const auto& other : cfg.mdev_types)
    if (other.type_id == t.type_id)
      return make_error("[vgpu:" + other.layout + "] and [vgpu:" + l.name + "] both enable " + t.type_id + " (" +
                        t.short_name + "); nova has one [" + t.group + "] group per type: merge the two layouts");
  cfg.mdev_types.push_back(std::move(t));
  return true;
}

// Why there is nothing for [pci] on a host without an assignable GPU, GPU by GPU.
Error no_assignable_gpu(const Inventory& inv, const NovaConfig& cfg) {
  std::string msg = "no GPU on " + inv.hostname + " (" + inv.source +
                    ") can be given to guests now, so there is no [pci] " + cfg.device_spec_option +
                    " to write for nova.";
  if (inv.gpus.empty())
    return make_error(msg +
                      "\n  it has no GPU (PCI class 0300, 0302 or 0380, or a 1200 accelerator of AMD, Intel or NVIDIA) "
                      "at all.\nRun this on a GPU compute node, "
                      "or give its capture with --fixture (see `gpu-agent capture`).");
  bool all_vgpu = true, any_guest = false;
  for (const auto& g : inv.gpus) {
    if (g.role != GpuRole::guest) {
      msg += "\n  " + g.address.to_string() + " (" + g.id_pair() + "): left to the host, " + g.role_reason;
      continue;
    }
    msg += "\n  " + g.address.to_string() + " (" + g.id_pair() + "): " + why_not(g);
    all_vgpu &= g.mode == GpuMode::vgpu;
    any_guest = true;
  }
  if (all_vgpu && any_guest)
    return make_error(msg +
                      "\nvGPU GPUs reach guests through nova's [devices] enabled_mdev_types: declare which "
                      "type each GPU is cut into with a [vgpu:NAME] layout in the agent's config (type = "
                      "A40-24Q, match or addresses); for whole-GPU passthrough bind them to vfio-pci.");
  if (!inv.nvswitches.empty())
    msg += "\n  and " + std::to_string(inv.nvswitches.size()) +
           " NVSwitch(es), no GPUs: once GPUs are ready, this command's notes say what 8-GPU guests need of them";
  msg +=
      "\nFix what `gpu-agent inventory` reports for these GPUs (each problem comes with its fix), "
      "then run `gpu-agent nova-config` again.";
  return make_error(msg);
}

}  // namespace

Result<NovaConfig> make_nova_config(const Inventory& inv, const std::vector<Pool>& pools,
                                    const NovaConfigOptions& options, const std::vector<VgpuLayout>& layouts) {
  const NovaRelease* rel = &options.release;
  NovaConfig cfg;
  cfg.generator = options.generator;
  cfg.release = *rel;
  cfg.release_source = options.release_source;
  cfg.hostname = inv.hostname;
  cfg.source = inv.source;
  cfg.device_spec_option = has_feature(*rel, NovaFeature::device_spec) ? "device_spec" : "passthrough_whitelist";
  auto policy = numa_policy_for(*rel, options.numa_policy);
  if (!policy) return policy.error();
  cfg.numa_policy = *policy;

  size_t assignable = 0;
  std::map<std::string, std::string> alias_owner;  // alias name -> pool key
  for (const auto& pool : pools) {
    const PoolGpus gpus = pool_gpus(inv, pool);
    if (gpus.members.empty()) {
      cfg.notes.push_back("pool " + pool.key + " has no GPU on this host: no alias or device_spec for it");
      continue;
    }
    for (const auto& a : pool.unavailable)
      cfg.notes.push_back("pool " + pool.key + ": " + a.to_string() + " is not assignable now and is left out of " +
                          cfg.device_spec_option + " (see `gpu-agent inventory`)");
    if (auto ok = add_aliases(pool, gpus.members, *policy, alias_owner, cfg); !ok) return ok.error();
    assignable += gpus.ready.size();
    add_device_specs(inv, pool, gpus.ready, cfg);
  }
  note_shared_alias_ids(cfg);
  note_nvswitches(inv, cfg);

  // vGPU: one enabled type per layout, its parents as device_addresses
  cfg.enabled_types_option = has_feature(*rel, NovaFeature::mdev_options) ? "enabled_mdev_types" : "enabled_vgpu_types";
  for (const auto& l : layouts) {
    if (l.kind == VgpuKind::vendor_vfio) add_vendor_vfio_layout(l, *rel, cfg);
    else if (auto ok = add_mdev_layout(l, *rel, cfg); !ok) return ok.error();
  }

  // a vGPU host has no passthrough pool: nothing for [pci] but the notes
  if (assignable == 0 && layouts.empty()) return no_assignable_gpu(inv, cfg);
  cfg.enabled_filters = {"ComputeFilter",
                         "ComputeCapabilitiesFilter",
                         "ImagePropertiesFilter",
                         "ServerGroupAntiAffinityFilter",
                         "ServerGroupAffinityFilter",
                         "PciPassthroughFilter"};
  return cfg;
}

namespace {

bool has_compute(NovaRole r) { return r != NovaRole::api; }
bool has_api(NovaRole r) { return r != NovaRole::compute; }

}  // namespace

std::string nova_config_to_ini(const NovaConfig& cfg, NovaRole role) {
  std::string o;
  o += "# nova GPU configuration generated by " + cfg.generator + " nova-config: do not edit, regenerate.\n";
  o += "# host: " + cfg.hostname + " (read from " + cfg.source + ")\n";
  o += "# nova release: " + cfg.release.name + " (nova " + std::to_string(cfg.release.nova_major) + ", " +
       cfg.release_source + "), role: " + to_string(role) + "\n";
  switch (role) {
    case NovaRole::compute:
      o += "# For nova-compute on " + cfg.hostname +
           ": /etc/nova/nova.conf.d/50-gpu-agent-pci.conf, then restart nova-compute.\n";
      break;
    case NovaRole::api:
      o += "# For nova-api (and the same alias lines on every compute): "
           "/etc/nova/nova.conf.d/50-gpu-agent-pci.conf, then restart nova-api.\n";
      break;
    case NovaRole::all:
      o += "# For a host running nova-api and nova-compute: /etc/nova/nova.conf.d/50-gpu-agent-pci.conf.\n";
      break;
  }
  o += "# " + cfg.device_spec_option + " and alias are repeated options: each line adds one entry.\n";
  for (const auto& n : cfg.notes) o += "# note: " + n + "\n";
  if (!cfg.device_specs.empty() || !cfg.aliases.empty()) o += "\n[pci]\n";
  if (has_compute(role)) {
    std::string pool;
    for (const auto& s : cfg.device_specs) {
      if (s.pool != pool) {
        pool = s.pool;
        o += "# pool " + pool + ": devices nova-compute may hand to guests\n";
      }
      if (s.role == "companion")
        o += "# " + s.devices.front().to_string() +
             " shares the GPU's IOMMU group and card: it goes to the guest too\n";
      o += cfg.device_spec_option + " = " + s.json + "\n";
    }
  }
  std::string pool;
  for (const auto& a : cfg.aliases) {
    if (a.pool != pool) {
      pool = a.pool;
      o += "# pool " + pool + ": a flavor for N GPUs has resources:" + a.resource_class + "=N";
      for (const auto& t : a.traits) o += ", trait:" + t + "=required";
      o += ", pci_passthrough:alias=" + a.name + ":N (and the host traits; `gpu-agent flavors` writes them)\n";
    }
    o += "alias = " + a.json + "\n";
  }
  if (has_api(role)) {
    std::string filters;
    for (const auto& f : cfg.enabled_filters) filters += (filters.empty() ? "" : ",") + f;
    o += "\n# nova-scheduler: [filter_scheduler] enabled_filters is one list, not a repeated option, so it is\n"
         "# not set here (it would replace yours). Make sure it contains PciPassthroughFilter, e.g. nova's\n"
         "# defaults plus it:\n"
         "# [filter_scheduler]\n"
         "# enabled_filters = " +
         filters +
         "\n"
         "# Flavors: resources:<pool resource class>=N and trait:<trait>=required make placement pick the\n"
         "# host; pci_passthrough:alias=<alias>:N makes nova-compute claim N devices of the pool.\n";
  }
  if (has_compute(role) && !cfg.mdev_types.empty()) {
    std::string types;
    for (const auto& t : cfg.mdev_types) types += (types.empty() ? "" : ",") + t.type_id;
    o += "\n# vGPU (nova-compute): the types the [vgpu:*] layouts cut these GPUs into, and on which\n"
         "# parent devices nova creates them (SR-IOV VFs on A40/A100-class GPUs, else the GPU).\n"
         "# Flavors ask for resources:VGPU=1 (or the mdev_class) and trait:CUSTOM_VGPU_<TYPE>=required,\n"
         "# which gpu-agent report puts on nova's provider of each parent.\n"
         "[devices]\n" +
         cfg.enabled_types_option + " = " + types + "\n";
    for (const auto& t : cfg.mdev_types) {
      o += "\n# [vgpu:" + t.layout + "] " + t.short_name + " on " + std::to_string(t.device_addresses.size()) +
           " parent device(s)\n[" + t.group + "]\ndevice_addresses = ";
      for (size_t k = 0; k < t.device_addresses.size(); ++k) o += (k ? "," : "") + t.device_addresses[k].to_string();
      o += "\n";
      if (t.mdev_class) o += "mdev_class = " + *t.mdev_class + "\n";
      if (t.max_instances) o += "max_instances = " + std::to_string(*t.max_instances) + "\n";
    }
  }
  return o;
}

std::string nova_config_to_json(const NovaConfig& cfg, NovaRole role) {
  JsonWriter w(JsonStyle::pretty);
  auto addresses = [&](const std::vector<PciAddress>& v) {
    w.begin_array();
    for (const auto& a : v) w.string(a.to_string());
    w.end_array();
  };
  w.begin_object();
  w.key("schema_version").integer(1);
  w.key("generator").string(cfg.generator);
  w.key("hostname").string(cfg.hostname);
  w.key("source").string(cfg.source);
  w.key("nova_release").string(cfg.release.name);
  w.key("nova_major").integer(cfg.release.nova_major);
  w.key("nova_release_source").string(cfg.release_source);
  w.key("role").string(to_string(role));
  w.key("numa_policy").string(cfg.numa_policy);
  if (has_compute(role)) {
    w.key("device_spec_option").string(cfg.device_spec_option);
    w.key("device_specs").begin_array();
    for (const auto& s : cfg.device_specs) {
      w.begin_object();
      w.key("pool").string(s.pool);
      w.key("kind").string(s.kind);
      w.key("role").string(s.role);
      w.key("devices");
      addresses(s.devices);
      w.key("value").string(s.json);
      w.end_object();
    }
    w.end_array();
  }
  w.key("aliases").begin_array();
  for (const auto& a : cfg.aliases) {
    w.begin_object();
    w.key("pool").string(a.pool);
    w.key("name").string(a.name);
    w.key("value").string(a.json);
    w.key("resource_class").string(a.resource_class);
    w.key("traits").strings(a.traits);
    w.end_object();
  }
  w.end_array();
  if (has_compute(role)) {
    w.key("mdev_types").begin_array();
    for (const auto& t : cfg.mdev_types) {
      w.begin_object();
      w.key("layout").string(t.layout);
      w.key("type").string(t.type_id);
      w.key("name").string(t.short_name);
      w.key("group").string(t.group);
      w.key("device_addresses");
      addresses(t.device_addresses);
      if (t.mdev_class) w.key("mdev_class").string(*t.mdev_class);
      if (t.max_instances) w.key("max_instances").integer(*t.max_instances);
      w.end_object();
    }
    w.end_array();
  }
  if (has_api(role)) w.key("enabled_filters").strings(cfg.enabled_filters);
  w.key("notes").strings(cfg.notes);
  w.key("ini").string(nova_config_to_ini(cfg, role));
  w.end_object();
  return w.finish();
}

}  // namespace gpu_agent
