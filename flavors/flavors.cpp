#include "flavors.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "uuid5.h"

namespace gpu_agent::flavors {
namespace {

const char* const kFields[] = {"pool",   "n",       "type",         "vcpus", "ram_gib",
                               "ram_mb", "disk_gb", "ephemeral_gb", "rc",    "alias"};

std::string field_value(const std::string& field, const Flavor& f, bool& known) {
  known = true;
  if (field == "pool") return f.pool;
  if (field == "n") return std::to_string(f.vgpu_type.empty() ? f.gpus : 1);
  if (field == "type") return f.vgpu_type.empty() ? f.pool : f.vgpu_type;
  if (field == "vcpus") return std::to_string(f.vcpus);
  if (field == "ram_gib") {
    // whole GiB when it is one; else one decimal, so two sizes never share a name
    if (f.ram_mb % 1024 == 0) return std::to_string(f.ram_mb / 1024);
    const int64_t tenths = (f.ram_mb * 10 + 512) / 1024;
    return std::to_string(tenths / 10) + "." + std::to_string(tenths % 10);
  }
  if (field == "ram_mb") return std::to_string(f.ram_mb);
  if (field == "disk_gb") return std::to_string(f.disk_gb);
  if (field == "ephemeral_gb") return std::to_string(f.ephemeral_gb);
  if (field == "rc") return f.resource_class;
  if (field == "alias") {
    for (const auto& [k, v] : f.extra_specs)
      if (k == "pci_passthrough:alias") return v.substr(0, v.rfind(':'));
    return f.pool;
  }
  known = false;
  return {};
}

// The default family: powers of two up to the pool's GPUs (1, 2, 4, 8 on an 8-GPU host).
std::vector<int> default_sizes(int gpus) {
  std::vector<int> out;
  for (int n = 1; n <= 8 && n <= gpus; n *= 2) out.push_back(n);
  return out;
}

struct Share {
  const char* what;  // "vCPUs"
  const char* key;   // "vcpus_per_gpu"
  const char* rc;    // "VCPU"
  std::optional<int64_t> per_gpu;
  bool given = false;  // set in the config (else derived from the capacity)
  std::optional<Capacity> cap;
  int64_t usable = 0;  // what the host can give one allocation (when cap)
};

std::string dashed(std::string key) {
  for (auto& c : key)
    if (c == '_') c = '-';
  return key;
}

}  // namespace

int64_t Capacity::usable() const {
  const double cap = std::floor(static_cast<double>(total - reserved) * allocation_ratio + 1e-9);
  int64_t u = cap < 0 ? 0 : static_cast<int64_t>(cap);
  if (max_unit > 0) u = std::min(u, max_unit);
  return u;
}

std::string template_fields() {
  std::string s;
  for (const char* f : kFields) s += (s.empty() ? "{" : ", {") + std::string(f) + "}";
  return s;
}

Result<std::string> expand_name(const std::string& tmpl, const Flavor& f) {
  std::string out;
  for (size_t i = 0; i < tmpl.size(); ++i) {
    if (tmpl[i] != '{') {
      if (tmpl[i] == '}') return make_error("name_template '" + tmpl + "' has a '}' without its '{'");
      out += tmpl[i];
      continue;
    }
    const size_t close = tmpl.find('}', i);
    if (close == std::string::npos) return make_error("name_template '" + tmpl + "' has a '{' without its '}'");
    const std::string field = tmpl.substr(i + 1, close - i - 1);
    bool known = false;
    std::string v = field_value(field, f, known);
    if (!known)
      return make_error("name_template '" + tmpl + "' uses {" + field +
                        "}, which is not a field (known: " + template_fields() + ")");
    out += v;
    i = close;
  }
  return out;
}

namespace {

// Where a flavor's name comes from, for the messages that say what to change.
struct NameSource {
  std::string kind;         // "flavor", "vGPU flavor"
  std::string setting;      // "[flavors] name_template", "[flavors:8x] name", "[flavors] vgpu_name_template"
  std::string named_after;  // "the pool's name", "the layout's name"
  std::string tell_apart;   // what to put in which template so two flavors get two names
};

// nova's rules for a flavor name (1 to 255 characters, no space at either end, no
// control character), and one name per flavor of the set: the same for both kinds.
Result<bool> check_flavor_name(const std::string& name, const NameSource& src, std::set<std::string>& taken) {
  if (name.empty() || name.size() > 255)
    return make_error(src.kind + " name '" + name.substr(0, 80) + (name.size() > 80 ? "...'" : "'") + " has " +
                      std::to_string(name.size()) + " characters; nova takes 1 to 255: shorten " + src.setting +
                      " or " + src.named_after);
  if (name.front() == ' ' || name.back() == ' ')
    return make_error(src.kind + " name '" + name + "' starts or ends with a space, which nova refuses");
  for (char ch : name)
    if (static_cast<unsigned char>(ch) < 0x20 || ch == 0x7f)
      return make_error(src.kind + " name '" + name + "' has a control character; nova refuses it");
  if (!taken.insert(name).second) return make_error("two flavors would be named '" + name + "': put " + src.tell_apart);
  return true;
}

Flavor named(Flavor f, const std::string& name) {
  f.name = name;
  f.id = uuid5("gpu-agent flavor " + f.name);
  return f;
}

// The per-GPU shares of vCPU, RAM and ephemeral disk: as configured, or derived
// from the host's capacity in placement.
struct Shares {
  Share share[3];
  std::string sizing;  // how they were chosen, one line
};

Result<Shares> derive_shares(const Inputs& in, const FlavorSettings& s, int host_gpus) {
  Shares out{
      {
          {"vCPUs", "vcpus_per_gpu", "VCPU", s.vcpus_per_gpu, false, std::nullopt, 0},
          {"MB of RAM", "ram_mb_per_gpu", "MEMORY_MB", s.ram_mb_per_gpu, false, std::nullopt, 0},
          {"GB of ephemeral disk", "ephemeral_gb_per_gpu", "DISK_GB", s.ephemeral_gb_per_gpu, false, std::nullopt, 0},
      },
      ""};
  Share* shares = out.share;
  for (int r = 0; r < 3; ++r) shares[r].given = shares[r].per_gpu.has_value();
  if (in.capacity) {
    shares[0].cap = in.capacity->vcpu;
    shares[1].cap = in.capacity->memory_mb;
    shares[2].cap = in.capacity->disk_gb;
  }
  std::string& sizing = out.sizing;
  for (int r = 0; r < 3; ++r) {
    Share& sh = shares[r];
    if (in.pools.empty()) break;  // vGPU flavors only: sized by their layouts
    if (sh.cap) sh.usable = sh.cap->usable();
    // the root disk comes out of DISK_GB too: what is left per GPU is ephemeral
    if (sh.cap && std::string(sh.rc) == "DISK_GB") sh.usable -= s.disk_gb;
    if (!sh.per_gpu) {
      if (!in.capacity)
        return make_error(std::string("[flavors] ") + sh.key +
                          " is not set and there is no host capacity to derive it " + "from: set it in " + s.source +
                          " (or --" + dashed(sh.key) + " N), or pass --from-placement " +
                          "to divide the compute node's " + sh.rc + " inventory in placement among its GPUs");
      if (!sh.cap)
        return make_error("compute node " + in.capacity->host + " has no " + sh.rc +
                          " inventory in placement to derive [flavors] " + sh.key + " from: set it in " + s.source +
                          " (is nova-compute running there?)");
      if (sh.usable < host_gpus)
        return make_error("compute node " + in.capacity->host + " offers " + std::to_string(sh.usable) + " " + sh.rc +
                          " (total - reserved, times allocation_ratio) for " + std::to_string(host_gpus) +
                          " GPUs: less than one per GPU; set [flavors] " + sh.key + " in " + s.source);
      sh.per_gpu = sh.usable / host_gpus;
      sizing += std::string(sizing.empty() ? "" : ", ") + sh.rc + " " + std::to_string(sh.usable) + "/" +
                std::to_string(host_gpus) + " GPUs = " + std::to_string(*sh.per_gpu) + " per GPU";
    } else {
      if (*sh.per_gpu < 0) return make_error(std::string("[flavors] ") + sh.key + " must not be negative");
      sizing += std::string(sizing.empty() ? "" : ", ") + std::to_string(*sh.per_gpu) + " " + sh.what + " per GPU";
    }
  }
  if (!in.pools.empty() && *shares[0].per_gpu < 1) return make_error("[flavors] vcpus_per_gpu must be at least 1");
  if (!in.pools.empty() && *shares[1].per_gpu < 1) return make_error("[flavors] ram_mb_per_gpu must be at least 1");
  return out;
}

// An Nx flavor's vCPU, RAM and disks: the shares times N (a derived share gives the
// whole-host flavor everything placement offers), then its [flavors:Nx] values.
void size_flavor(Flavor& f, int n, int host_gpus, const Shares& shares, const FlavorSettings& s) {
  f.disk_gb = s.disk_gb;
  f.swap_mb = s.swap_mb;
  const bool whole_host = n == host_gpus;
  int64_t* fields[3] = {&f.vcpus, &f.ram_mb, &f.ephemeral_gb};
  for (int r = 0; r < 3; ++r) {
    const Share& sh = shares.share[r];
    // A derived share: the whole-host flavor takes everything placement offers,
    // so nothing is stranded by rounding the per-GPU share down.
    *fields[r] = (whole_host && !sh.given && sh.cap) ? sh.usable : *sh.per_gpu * n;
  }
  if (auto o = s.overrides.find(n); o != s.overrides.end()) {
    if (o->second.vcpus) f.vcpus = *o->second.vcpus;
    if (o->second.ram_mb) f.ram_mb = *o->second.ram_mb;
    if (o->second.disk_gb) f.disk_gb = *o->second.disk_gb;
    if (o->second.ephemeral_gb) f.ephemeral_gb = *o->second.ephemeral_gb;
    if (o->second.swap_mb) f.swap_mb = *o->second.swap_mb;
  }
}

// Does an Nx flavor fit what the host gives one server, and does it have a vCPU and RAM?
Result<bool> check_fits(const Flavor& f, const PoolInput& pool, const Inputs& in, const Shares& shares,
                        const FlavorSettings& s) {
  const int n = f.gpus;
  if (in.capacity) {
    const int64_t want[3] = {f.vcpus, f.ram_mb, f.ephemeral_gb + f.disk_gb};
    for (int r = 0; r < 3; ++r) {
      const Share& sh = shares.share[r];
      if (!sh.cap) continue;
      const int64_t can = sh.cap->usable();
      if (want[r] > can)
        return make_error("a " + std::to_string(n) + "x flavor of pool " + pool.key + " asks for " +
                          std::to_string(want[r]) + " " + sh.rc + " but compute node " + in.capacity->host +
                          " offers " + std::to_string(can) +
                          " to one server (total - reserved, times "
                          "allocation_ratio, at most max_unit): lower [flavors] " +
                          sh.key + (s.overrides.count(n) ? " or [flavors:" + std::to_string(n) + "x]" : std::string()) +
                          " in " + s.source);
    }
  }
  if (f.vcpus < 1 || f.ram_mb < 1)
    return make_error("a " + std::to_string(n) + "x flavor of pool " + pool.key +
                      " would have no vCPU or no RAM; nova needs at least 1 of each");
  return true;
}

// "resources:CLASS=N" and "trait:T=required" for each of required, noted in traits.
void add_placement_specs(Flavor& f, const std::string& resource_class, int64_t n, const std::set<std::string>& required,
                         std::set<std::string>& traits) {
  f.extra_specs.emplace_back("resources:" + resource_class, std::to_string(n));
  for (const auto& t : required) {
    f.extra_specs.emplace_back("trait:" + t, "required");
    traits.insert(t);
  }
}

// Extra specs: placement gets the pool's class and the traits; nova's PCI claim the alias;
// then [flavors] extra_specs, which may not set one of those.
Result<bool> add_pool_specs(Flavor& f, const PoolInput& pool, const Inputs& in, const FlavorSettings& s,
                            std::set<std::string>& traits) {
  std::set<std::string> required(in.host_traits.begin(), in.host_traits.end());
  required.insert(pool.traits.begin(), pool.traits.end());
  required.insert(s.required_traits.begin(), s.required_traits.end());
  add_placement_specs(f, pool.resource_class, f.gpus, required, traits);
  if (s.pci_alias) f.extra_specs.emplace_back("pci_passthrough:alias", pool.alias + ":" + std::to_string(f.gpus));
  for (const auto& kv : s.extra_specs) {
    for (const auto& have : f.extra_specs)
      if (have.first == kv.first)
        return make_error("[flavors] extra_specs sets " + kv.first + ", which the agent sets itself (" + have.first +
                          "=" + have.second + "); remove it from " + s.source);
    f.extra_specs.push_back(kv);
  }
  return true;
}

// The pool's Nx flavor, sized, checked and named.
Result<Flavor> pool_flavor(const PoolInput& pool, int n, const Inputs& in, const FlavorSettings& s,
                           const Shares& shares, int host_gpus, std::set<std::string>& traits,
                           std::set<std::string>& names) {
  if (n < 1) return make_error("[flavors] sizes: " + std::to_string(n) + " is not a GPU count (1 or more)");
  if (n > pool.gpus)
    return make_error("a " + std::to_string(n) + "x flavor needs " + std::to_string(n) + " GPUs of pool " + pool.key +
                      ", but " + in.host + " has " + std::to_string(pool.gpus) + ": take " + std::to_string(n) +
                      " out of [flavors] sizes, or size the family on a host with " + std::to_string(n) +
                      " (--fixture, --compute-node-name)");
  Flavor f;
  f.pool = pool.key;
  f.resource_class = pool.resource_class;
  f.gpus = n;
  f.is_public = s.is_public;
  size_flavor(f, n, host_gpus, shares, s);
  if (auto ok = check_fits(f, pool, in, shares, s); !ok) return ok.error();
  if (auto ok = add_pool_specs(f, pool, in, s, traits); !ok) return ok.error();

  const auto o = s.overrides.find(n);
  const std::optional<std::string> name_override = o == s.overrides.end() ? std::nullopt : o->second.name;
  auto name = name_override ? Result<std::string>(*name_override) : expand_name(s.name_template, f);
  if (!name) return make_error(name.error().message + " (in " + s.source + ")");
  const NameSource src{"flavor",
                       name_override ? "[flavors:" + std::to_string(n) + "x] name" : "[flavors] name_template",
                       "the pool's name", "{pool} and {n} in [flavors] name_template (now '" + s.name_template + "')"};
  if (auto ok = check_flavor_name(*name, src, names); !ok) return ok.error();
  return named(std::move(f), *name);
}

// The layout's flavor: one vGPU, sized as the layout says.
Result<Flavor> vgpu_flavor(const VgpuInput& v, const FlavorSettings& s, std::set<std::string>& traits,
                           std::set<std::string>& names) {
  Flavor f;
  f.pool = v.layout;
  f.vgpu_type = v.type;
  f.resource_class = v.resource_class;
  f.vcpus = v.vcpus;
  f.ram_mb = v.ram_mb;
  f.disk_gb = v.disk_gb;
  f.is_public = s.is_public;
  std::set<std::string> required(v.traits.begin(), v.traits.end());
  required.insert(s.required_traits.begin(), s.required_traits.end());
  add_placement_specs(f, v.resource_class, 1, required, traits);
  for (const auto& kv : s.extra_specs) f.extra_specs.push_back(kv);
  auto name = expand_name(s.vgpu_name_template, f);
  if (!name) return make_error(name.error().message + " (vgpu_name_template, in " + s.source + ")");
  const NameSource src{"vGPU flavor", "[flavors] vgpu_name_template", "the layout's name",
                       "{pool} (the layout) in [flavors] vgpu_name_template (now '" + s.vgpu_name_template + "')"};
  if (auto ok = check_flavor_name(*name, src, names); !ok) return ok.error();
  return named(std::move(f), *name);
}

}  // namespace

Result<FlavorSet> make_flavors(const Inputs& in, const FlavorSettings& s) {
  FlavorSet set;
  set.generator = in.generator;
  set.host = in.host;
  if (in.pools.empty() && in.vgpus.empty())
    return make_error("no GPU pool to make flavors for on " + in.host +
                      ": `gpu-agent inventory` says why each GPU is not assignable");
  // A pool with nothing assignable now gets no flavors, and a note; the others still do.
  bool any_gpus = false;
  for (const auto& p : in.pools) {
    any_gpus |= p.gpus > 0;
    if (p.gpus <= 0)
      set.notes.push_back("skipped pool " + p.key + ": it has no assignable GPU on " + in.host +
                          "; fix its GPUs (`gpu-agent inventory`), or generate on a host where it has some");
  }
  if (!any_gpus && in.vgpus.empty())
    return make_error("no pool has an assignable GPU on " + in.host +
                      ": fix the GPUs (`gpu-agent inventory`), or generate on a host where they are ready");

  int host_gpus = 0;  // every pool's GPUs: the host's capacity is shared among them
  for (const auto& p : in.pools) host_gpus += p.gpus;
  auto shares = derive_shares(in, s, host_gpus);
  if (!shares) return shares.error();
  set.sizing = shares->sizing + (in.capacity ? " (capacity of " + in.capacity->host + " in placement)" : "");
  if (!in.vgpus.empty())
    set.sizing += std::string(set.sizing.empty() ? "" : "; ") + "vGPU flavors as their [vgpu:*] layouts say";

  std::set<std::string> traits;
  std::set<std::string> names;
  for (const auto& pool : in.pools) {
    if (pool.gpus <= 0) continue;
    std::vector<int> sizes = s.sizes.empty() ? default_sizes(pool.gpus) : s.sizes;
    if (s.sizes.empty() && pool.gpus > 8)
      set.notes.push_back("pool " + pool.key + " has " + std::to_string(pool.gpus) +
                          " GPUs; the default family stops at 8x (set [flavors] sizes for more)");
    for (int n : sizes) {
      auto f = pool_flavor(pool, n, in, s, *shares, host_gpus, traits, names);
      if (!f) return f.error();
      set.flavors.push_back(std::move(*f));
    }
  }
  for (const auto& v : in.vgpus) {
    auto f = vgpu_flavor(v, s, traits, names);
    if (!f) return f.error();
    set.flavors.push_back(std::move(*f));
  }
  set.traits.assign(traits.begin(), traits.end());
  return set;
}

}  // namespace gpu_agent::flavors
