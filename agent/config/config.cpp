#include "config.h"
#include "listen_address.h"

#include <algorithm>

namespace gpu_agent {

std::vector<std::string> split_list(const std::string& v) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : v + ",") {
    if (c == ',' || c == '\n') {
      auto t = std::string(trim_space(cur));
      if (!t.empty()) out.push_back(t);
      cur.clear();
    } else {
      cur += c;
    }
  }
  return out;
}

namespace {

Error at(const IniFile& ini, const IniEntry& e, const std::string& section, const std::string& msg) {
  return make_error(ini.where(e.line) + ": [" + section + "] " + printable(e.key) + ": " + msg);
}

// ---- the value parsers: each says what is wrong with the value; apply_keys adds where ----

Result<bool> parse_bool(const std::string& value) {
  std::string v = value;
  std::transform(v.begin(), v.end(), v.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (v == "true" || v == "yes" || v == "1" || v == "on") return true;
  if (v == "false" || v == "no" || v == "0" || v == "off") return false;
  return make_error("'" + value + "' is not a boolean (true or false)");
}

// A count or size: min to 100000000.
Result<int64_t> whole_number(const std::string& v, int64_t min) {
  auto k = parse_int(v);
  if (!k || *k < min || *k > 100000000)
    return make_error("'" + v + "' is not a whole number of at least " + std::to_string(min));
  return *k;
}

// A value parsed, or its error: stored in field.
template <typename Value, typename Field>
Result<bool> store(Result<Value> parsed, Field& field) {
  if (!parsed) return parsed.error();
  field = std::move(*parsed);
  return true;
}

// A path that must be absolute, or empty; why: the example and what empty means.
Result<bool> store_absolute_or_empty(const std::string& v, std::string& field, const char* why) {
  if (!v.empty() && v.front() != '/') return make_error(std::string("must be an absolute path ") + why);
  field = v;
  return true;
}

// "CUSTOM_A, CUSTOM_B" -> traits, each checked.
Result<bool> store_traits(const std::string& v, std::vector<std::string>& traits) {
  traits = split_list(v);
  for (const auto& t : traits)
    if (auto ok = check_custom_name(t, "trait"); !ok) return ok.error();
  return true;
}

// "10de:2330, 10de:2331" -> vendor/product pairs, added to models; like: the example in the error.
Result<bool> add_models(const std::string& v, const std::string& like,
                        std::vector<std::pair<uint32_t, uint32_t>>& models) {
  for (const auto& m : split_list(v)) {
    size_t colon = m.find(':');
    auto ven = parse_hex(m.substr(0, colon), 4);
    auto dev = colon == std::string::npos ? Result<uint32_t>(make_error("")) : parse_hex(m.substr(colon + 1), 4);
    if (!ven || !dev || colon != 4) return make_error("'" + m + "' is not VENDOR:PRODUCT in hex, like " + like);
    models.emplace_back(*ven, *dev);
  }
  return true;
}

Result<bool> add_addresses(const std::string& v, std::vector<PciAddress>& addresses) {
  for (const auto& a : split_list(v)) {
    auto addr = parse_pci_address(a);
    if (!addr) return addr.error();
    addresses.push_back(*addr);
  }
  return true;
}

Result<bool> check_name_template(const std::string& v) {
  flavors::Flavor probe;
  if (auto x = flavors::expand_name(v, probe); !x) return x.error();
  return true;
}

// ---- the table of keys ----

// One key of a section: its name and how its value is checked and stored in the
// section's target, or the text field it is stored in as it is. A setter's error
// is about the value; apply_keys says where.
template <typename T>
struct Key {
  using Setter = Result<bool> (*)(const std::string& value, T& target);
  Key(const char* n, Setter s) : name(n), set(s) {}
  Key(const char* n, std::string T::*t) : name(n), text(t) {}
  const char* name;
  Setter set = nullptr;
  std::string T::*text = nullptr;
};

template <typename T>
std::string known_keys(const std::vector<Key<T>>& keys) {
  std::string out;
  for (const auto& k : keys) out += (out.empty() ? "" : ", ") + std::string(k.name);
  return out;
}

// A key no rule names: the error message, or nullopt to let it pass.
using UnknownKey = std::optional<std::string> (*)(const std::string& key);

// Every entry of the section through its key's setter. An unknown key is an
// error listing the known ones, unless `unknown` says otherwise.
template <typename T>
Result<bool> apply_keys(const IniFile& ini, const IniSection& s, const std::string& section,
                        const std::vector<Key<T>>& keys, T& target, UnknownKey unknown = nullptr) {
  for (const auto& e : s.entries) {
    auto k = std::find_if(keys.begin(), keys.end(), [&](const Key<T>& r) { return e.key == r.name; });
    if (k == keys.end()) {
      const auto msg = unknown ? unknown(e.key) : "unknown key (known: " + known_keys(keys) + ")";
      if (msg) return at(ini, e, section, *msg);
      continue;
    }
    if (k->text) target.*(k->text) = e.value;
    else if (auto ok = k->set(e.value, target); !ok) return at(ini, e, section, ok.error().message);
  }
  return true;
}

// nova.conf's [placement] keys the agent accepts; those without a Key are ignored.
const std::set<std::string> kPlacementKeys{"auth_type",
                                           "auth_url",
                                           "username",
                                           "password",
                                           "user_domain_name",
                                           "user_domain_id",
                                           "project_name",
                                           "project_domain_name",
                                           "project_domain_id",
                                           "project_id",
                                           "application_credential_id",
                                           "application_credential_secret",
                                           "application_credential_name",
                                           "token",
                                           "region_name",
                                           "valid_interfaces",
                                           "endpoint_override",
                                           "cafile",
                                           "insecure",
                                           "timeout",
                                           "os_region_name",
                                           "os_interface",
                                           "certfile",
                                           "keyfile",
                                           "collect_timing",
                                           "split_loggers",
                                           "auth_section",
                                           "system_scope",
                                           "trust_id",
                                           "domain_id",
                                           "domain_name",
                                           "default_domain_id",
                                           "default_domain_name",
                                           "user_id",
                                           "service_type",
                                           "service_name",
                                           "status_code_retries",
                                           "status_code_retry_delay",
                                           "connect_retries",
                                           "connect_retry_delay",
                                           "max_version",
                                           "min_version",
                                           "version"};

const std::set<std::string> kAuthTypes{
    "password", "v3password", "v3applicationcredential", "applicationcredential", "admin_token", "noauth", "none"};

using P = PlacementSettings;
Result<bool> set_interfaces(const std::string& v, P& p) {
  p.valid_interfaces = split_list(v);
  for (const auto& i : p.valid_interfaces)
    if (i != "internal" && i != "public" && i != "admin")
      return make_error("'" + i + "' is not an interface (internal, public or admin)");
  return true;
}

const std::vector<Key<P>> kPlacementRules{
    {"auth_type",
     [](const std::string& v, P& p) -> Result<bool> {
       if (!kAuthTypes.count(v))
         return make_error("unsupported auth_type '" + v + "' (use password, v3applicationcredential or admin_token)");
       p.auth_type = v;
       return true;
     }},
    {"auth_url", &P::auth_url},
    {"username", &P::username},
    {"password", &P::password},
    {"user_domain_name", &P::user_domain_name},
    {"user_domain_id", &P::user_domain_id},
    {"project_name", &P::project_name},
    {"project_domain_name", &P::project_domain_name},
    {"project_domain_id", &P::project_domain_id},
    {"project_id", &P::project_id},
    {"application_credential_id", &P::application_credential_id},
    {"application_credential_secret", &P::application_credential_secret},
    {"application_credential_name", &P::application_credential_name},
    {"token", &P::token},
    {"region_name", &P::region_name},
    {"os_region_name", &P::region_name},
    {"valid_interfaces", set_interfaces},
    {"os_interface", set_interfaces},
    {"endpoint_override",
     [](const std::string& v, P& p) -> Result<bool> {
       if (v.rfind("http://", 0) != 0 && v.rfind("https://", 0) != 0)
         return make_error("'" + v + "' is not an http:// or https:// URL");
       p.endpoint_override = v;
       return true;
     }},
    {"cafile", &P::cafile},
    {"insecure", [](const std::string& v, P& p) { return store(parse_bool(v), p.insecure); }},
    {"timeout", [](const std::string& v, P& p) { return store(parse_seconds(v, 0.1, 3600), p.timeout); }},
};

using A = AgentConfig;
const std::vector<Key<A>> kAgentRules{
    {"compute_node_name",
     [](const std::string& v, A& c) -> Result<bool> {
       if (v.empty() || v.size() > 255) return make_error("must be 1 to 255 characters");
       c.compute_node_name = v;
       return true;
     }},
    {"sysfs_root", &A::sysfs_root},
    {"pci_ids", &A::pci_ids},
    {"libvirt_uri", &A::libvirt_uri},
    {"state_dir", &A::state_dir},
    {"nova_config", &A::nova_config},
    {"nova_compute_id",
     [](const std::string& v, A& c) {
       return store_absolute_or_empty(v, c.nova_compute_id,
                                      "(nova's [DEFAULT] state_path + /compute_id, e.g. /var/lib/nova/compute_id), "
                                      "or empty to look the compute node up by name");
     }},
    {"nova_release", &A::nova_release},
    {"interval", [](const std::string& v, A& c) { return store(parse_seconds(v, 1, 86400), c.interval); }},
    {"jitter", [](const std::string& v, A& c) { return store(parse_seconds(v, 0, 1), c.jitter); }},
    {"retry_min", [](const std::string& v, A& c) { return store(parse_seconds(v, 0.01, 3600), c.retry_min); }},
    {"retry_max", [](const std::string& v, A& c) { return store(parse_seconds(v, 0.01, 86400), c.retry_max); }},
    {"splay",
     [](const std::string& v, A& c) -> Result<bool> {
       if (v == "auto") {
         c.splay.reset();
         return true;
       }
       auto s = parse_seconds(v, 0, 86400);
       if (!s)
         return make_error(
             "must be auto (a random start-up delay of up to one interval under systemd) or seconds from 0 to 86400 "
             "(0 = none)");
       c.splay = *s;
       return true;
     }},
    {"default_pools", [](const std::string& v, A& c) { return store(parse_bool(v), c.default_pools); }},
    {"host_traits", [](const std::string& v, A& c) { return store_traits(v, c.host_traits); }},
    {"host_traits_owner",
     [](const std::string& v, A& c) -> Result<bool> {
       if (v != "agent" && v != "nova")
         return make_error(
             "must be agent (the agent puts host_traits on the compute node) or nova "
             "(nova's provider config does: nova-config --format provider-yaml)");
       c.host_traits_owner = v == "nova" ? TraitsOwner::nova : TraitsOwner::agent;
       return true;
     }},
    {"marker_trait",
     [](const std::string& v, A& c) -> Result<bool> {
       if (auto ok = check_custom_name(v, "trait"); !ok) return ok.error();
       c.marker_trait = v;
       return true;
     }},
    {"metrics_file",
     [](const std::string& v, A& c) {
       return store_absolute_or_empty(v, c.metrics_file,
                                      "(node_exporter's textfile directory, e.g. "
                                      "/var/lib/prometheus/node-exporter/gpu_agent.prom), or empty for none");
     }},
    {"metrics_listen",
     [](const std::string& v, A& c) -> Result<bool> {
       if (!v.empty())
         if (auto a = parse_listen_address(v); !a) return make_error(a.error().message);
       c.metrics_listen = v;
       return true;
     }},
    {"usage_refresh", [](const std::string& v, A& c) { return store(parse_seconds(v, 0, 86400), c.usage_refresh); }},
};

const std::vector<Key<PoolConfig>> kPoolRules{
    {"resource_class",
     [](const std::string& v, PoolConfig& p) -> Result<bool> {
       if (auto ok = check_custom_name(v, "resource class"); !ok) return ok.error();
       p.resource_class = v;
       return true;
     }},
    {"match", [](const std::string& v, PoolConfig& p) { return add_models(v, "10de:2330", p.match); }},
    {"addresses", [](const std::string& v, PoolConfig& p) { return add_addresses(v, p.addresses); }},
    {"traits", [](const std::string& v, PoolConfig& p) { return store_traits(v, p.traits); }},
};

using V = VgpuLayoutConfig;
const std::vector<Key<V>> kVgpuRules{
    {"type",
     [](const std::string& v, V& l) -> Result<bool> {
       if (v.empty()) return make_error("needs a vGPU type: a name like A40-24Q or an id like nvidia-565");
       l.type = v;
       return true;
     }},
    {"match",
     [](const std::string& v, V& l) -> Result<bool> {
       if (v == "all") return store(Result<bool>(true), l.all);
       return add_models(v, "10de:2235 (or: all)", l.match);
     }},
    {"addresses", [](const std::string& v, V& l) { return add_addresses(v, l.addresses); }},
    {"mdev_class",
     [](const std::string& v, V& l) -> Result<bool> {
       if (v != "VGPU") {
         if (auto ok = check_custom_name(v, "mdev_class"); !ok)
           return make_error(ok.error().message + " (nova takes VGPU or a CUSTOM_ resource class)");
       }
       l.mdev_class = v;
       return true;
     }},
    {"traits", [](const std::string& v, V& l) { return store_traits(v, l.traits); }},
    {"flavor_vcpus", [](const std::string& v, V& l) { return store(whole_number(v, 1), l.flavor_vcpus); }},
    {"flavor_ram_mb", [](const std::string& v, V& l) { return store(whole_number(v, 1), l.flavor_ram_mb); }},
    {"flavor_disk_gb", [](const std::string& v, V& l) { return store(whole_number(v, 0), l.flavor_disk_gb); }},
};

using F = flavors::FlavorSettings;
const std::vector<Key<F>> kFlavorRules{
    {"sizes",
     [](const std::string& v, F& f) -> Result<bool> {
       f.sizes.clear();
       for (const auto& n : split_list(v)) {
         auto k = parse_int(n);
         if (!k || *k < 1 || *k > 64) return make_error("'" + n + "' is not a GPU count from 1 to 64");
         if (std::find(f.sizes.begin(), f.sizes.end(), static_cast<int>(*k)) == f.sizes.end())
           f.sizes.push_back(static_cast<int>(*k));
       }
       if (f.sizes.empty()) return make_error("lists no size; like sizes = 1, 2, 4, 8");
       return true;
     }},
    {"vcpus_per_gpu", [](const std::string& v, F& f) { return store(whole_number(v, 1), f.vcpus_per_gpu); }},
    {"ram_mb_per_gpu", [](const std::string& v, F& f) { return store(whole_number(v, 1), f.ram_mb_per_gpu); }},
    {"ephemeral_gb_per_gpu",
     [](const std::string& v, F& f) { return store(whole_number(v, 0), f.ephemeral_gb_per_gpu); }},
    {"disk_gb", [](const std::string& v, F& f) { return store(whole_number(v, 0), f.disk_gb); }},
    {"swap_mb", [](const std::string& v, F& f) { return store(whole_number(v, 0), f.swap_mb); }},
    {"name_template",
     [](const std::string& v, F& f) -> Result<bool> {
       if (v.find("{n}") == std::string::npos)
         return make_error("needs {n} (the GPU count), or every size gets the same name");
       if (auto ok = check_name_template(v); !ok) return ok;
       f.name_template = v;
       return true;
     }},
    {"vgpu_name_template",
     [](const std::string& v, F& f) -> Result<bool> {
       if (auto ok = check_name_template(v); !ok) return ok;
       f.vgpu_name_template = v;
       return true;
     }},
    {"required_traits", [](const std::string& v, F& f) { return store_traits(v, f.required_traits); }},
    {"pci_alias", [](const std::string& v, F& f) { return store(parse_bool(v), f.pci_alias); }},
    {"is_public", [](const std::string& v, F& f) { return store(parse_bool(v), f.is_public); }},
    {"extra_specs",
     [](const std::string& v, F& f) -> Result<bool> {
       f.extra_specs.clear();
       for (const auto& kv : split_list(v)) {
         const size_t eq = kv.find('=');
         if (eq == std::string::npos || eq == 0 || eq + 1 == kv.size())
           return make_error("'" + kv + "' is not KEY=VALUE, like hw:cpu_policy=dedicated");
         f.extra_specs.emplace_back(kv.substr(0, eq), kv.substr(eq + 1));
       }
       return true;
     }},
};

// [flavors:8x]: one size's absolute values.
Result<int64_t> any_whole_number(const std::string& v) {
  auto k = parse_int(v);
  if (!k || *k < 0 || *k > 100000000) return make_error("'" + v + "' is not a whole number");
  return *k;
}
using O = flavors::SizeOverride;
const std::vector<Key<O>> kSizeRules{
    {"vcpus", [](const std::string& v, O& o) { return store(any_whole_number(v), o.vcpus); }},
    {"ram_mb", [](const std::string& v, O& o) { return store(any_whole_number(v), o.ram_mb); }},
    {"disk_gb", [](const std::string& v, O& o) { return store(any_whole_number(v), o.disk_gb); }},
    {"ephemeral_gb", [](const std::string& v, O& o) { return store(any_whole_number(v), o.ephemeral_gb); }},
    {"swap_mb", [](const std::string& v, O& o) { return store(any_whole_number(v), o.swap_mb); }},
    {"name", [](const std::string& v, O& o) { return store(Result<std::string>(v), o.name); }},
};

// ---- the sections ----

Result<bool> parse_agent_section(const IniFile& ini, const IniSection& s, AgentConfig& c) {
  return apply_keys(ini, s, s.name, kAgentRules, c);
}

Result<bool> parse_placement_section(const IniFile& ini, const IniSection&, AgentConfig& c) {
  auto p = placement_from_ini(ini, true);
  if (!p) return p.error();
  c.placement = *p;
  return true;
}

// [pool:NAME] or [vgpu:NAME]: the name after the 5-character prefix, the keys by their table.
template <typename T>
Result<T> named_section(const IniFile& ini, const IniSection& s, const std::vector<Key<T>>& keys, const char* like) {
  T t;
  t.name = s.name.substr(5);
  t.line = s.line;
  if (t.name.empty()) return make_error(ini.where(s.line) + ": [" + s.name + "] needs a name, like " + like);
  if (auto ok = apply_keys(ini, s, s.name, keys, t); !ok) return ok.error();
  return t;
}

Result<bool> parse_pool_section(const IniFile& ini, const IniSection& s, AgentConfig& c) {
  auto read = named_section(ini, s, kPoolRules, "[pool:h100]");
  if (!read) return read.error();
  PoolConfig& pool = *read;
  const std::string here = ini.where(s.line) + ": [" + s.name + "]";
  if (pool.match.empty() && pool.addresses.empty())
    return make_error(here + " selects no GPUs: give match = VENDOR:PRODUCT or addresses = 0000:3b:00.0, ...");
  if (pool.resource_class.empty()) return make_error(here + " needs resource_class = CUSTOM_...");
  for (const auto& other : c.pools) {
    if (other.resource_class == pool.resource_class)
      return make_error(here + " uses resource class " + pool.resource_class + " which [pool:" + other.name +
                        "] (line " + std::to_string(other.line) + ") already uses; one class per pool");
  }
  c.pools.push_back(std::move(pool));
  return true;
}

Result<bool> parse_vgpu_section(const IniFile& ini, const IniSection& s, AgentConfig& c) {
  auto read = named_section(ini, s, kVgpuRules, "[vgpu:a40_24q]");
  if (!read) return read.error();
  VgpuLayoutConfig& l = *read;
  const std::string here = ini.where(s.line) + ": [" + s.name + "]";
  if (l.type.empty()) return make_error(here + " needs type = A40-24Q (a vGPU type name or id)");
  if (!l.all && l.match.empty() && l.addresses.empty())
    return make_error(here +
                      " selects no GPUs: give match = VENDOR:PRODUCT, addresses = 0000:41:00.0, ... or match = all");
  for (const auto& other : c.vgpu_layouts)
    if (other.name == l.name)
      return make_error(here + " is defined twice (also line " + std::to_string(other.line) + ")");
  c.vgpu_layouts.push_back(std::move(l));
  return true;
}

Result<bool> parse_flavors_section(const IniFile& ini, const IniSection& s, AgentConfig& c) {
  return apply_keys(ini, s, s.name, kFlavorRules, c.flavors);
}

Result<bool> parse_size_section(const IniFile& ini, const IniSection& s, AgentConfig& c) {
  std::string size = s.name.substr(8);
  if (!size.empty() && (size.back() == 'x' || size.back() == 'X')) size.pop_back();
  auto n = parse_int(size);
  if (!n || *n < 1 || *n > 64)
    return make_error(ini.where(s.line) + ": [" + s.name + "] is not a size; like [flavors:8x] for the 8-GPU flavor");
  flavors::SizeOverride o;
  o.line = s.line;
  if (auto ok = apply_keys(ini, s, s.name, kSizeRules, o); !ok) return ok;
  c.flavors.overrides[static_cast<int>(*n)] = o;
  return true;
}

Result<bool> parse_default_section(const IniFile& ini, const IniSection& s, AgentConfig&) {
  if (!s.entries.empty())
    return at(ini, s.entries.front(), s.name, "the agent reads no [DEFAULT] keys; put it under [agent]");
  return true;
}

// The sections of the agent's config: by name, or by prefix ("pool:" for [pool:NAME]).
struct SectionRule {
  const char* name;
  bool prefix;
  const char* shown;  // in the unknown-section message; nullptr: not listed
  Result<bool> (*parse)(const IniFile& ini, const IniSection& s, AgentConfig& c);
};

const SectionRule kSections[] = {
    {"agent", false, "[agent]", parse_agent_section},
    {"placement", false, "[placement]", parse_placement_section},
    {"pool:", true, "[pool:NAME]", parse_pool_section},
    {"vgpu:", true, "[vgpu:NAME]", parse_vgpu_section},
    {"flavors", false, "[flavors]", parse_flavors_section},
    {"flavors:", true, "[flavors:Nx]", parse_size_section},
    {"DEFAULT", false, nullptr, parse_default_section},
};

const SectionRule* section_rule(const std::string& name) {
  for (const auto& r : kSections)
    if (r.prefix ? name.rfind(r.name, 0) == 0 : name == r.name) return &r;
  return nullptr;
}

std::string known_sections() {
  std::string out;
  for (const auto& r : kSections)
    if (r.shown) out += (out.empty() ? "" : ", ") + std::string(r.shown);
  return out;
}

}  // namespace

Result<bool> check_custom_name(const std::string& name, const std::string& what) {
  if (name.size() > 255) return make_error(what + " '" + name.substr(0, 40) + "...' is longer than 255 characters");
  if (name.rfind("CUSTOM_", 0) != 0 || name.size() == 7)
    return make_error(what + " '" + name + "' must start with CUSTOM_ and have a name after it");
  for (char c : name)
    if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'))
      return make_error(what + " '" + name + "' may contain only A-Z, 0-9 and _ (placement's ^CUSTOM_[A-Z0-9_]+$)");
  return true;
}

Result<PlacementSettings> placement_from_ini(const IniFile& ini, bool strict) {
  PlacementSettings p;
  p.source = ini.path + " [placement]";
  const IniSection* s = ini.section("placement");
  if (!s) return p;
  UnknownKey unknown = [](const std::string& key) -> std::optional<std::string> {
    if (kPlacementKeys.count(key)) return std::nullopt;
    return "unknown key (nova.conf's [placement] keys are accepted: auth_type, auth_url, username, password, "
           "project_name, ..., endpoint_override, cafile, insecure, timeout)";
  };
  if (!strict) unknown = [](const std::string&) -> std::optional<std::string> { return std::nullopt; };
  if (auto ok = apply_keys(ini, *s, "placement", kPlacementRules, p, unknown); !ok) return ok.error();
  return p;
}

Result<AgentConfig> parse_agent_config(const IniFile& ini) {
  AgentConfig c;
  c.path = ini.path;
  for (const auto& s : ini.sections) {
    const SectionRule* rule = section_rule(s.name);
    if (!rule)
      return make_error(ini.where(s.line) + ": unknown section [" + s.name + "] (known: " + known_sections() + ")");
    if (auto ok = rule->parse(ini, s, c); !ok) return ok.error();
  }
  if (!c.path.empty()) c.flavors.source = c.path;
  if (c.placement.source.empty())  // for messages about what is missing
    c.placement.source = (c.path.empty() ? std::string("(built-in defaults)") : c.path) + " (no [placement] section)";
  if (c.retry_max < c.retry_min) return make_error(ini.path + ": [agent] retry_max must not be below retry_min");
  return c;
}

Result<AgentConfig> load_agent_config(const std::string& path) {
  auto ini = load_ini(path);
  if (!ini) return ini.error();
  return parse_agent_config(*ini);
}

}  // namespace gpu_agent
