#include "config.h"
#include "listen_address.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>

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
  return make_error(ini.where(e.line) + ": [" + section + "] " + e.key + ": " + msg);
}

Result<bool> parse_bool(const IniFile& ini, const IniEntry& e, const std::string& section) {
  std::string v = e.value;
  std::transform(v.begin(), v.end(), v.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (v == "true" || v == "yes" || v == "1" || v == "on") return true;
  if (v == "false" || v == "no" || v == "0" || v == "off") return false;
  return at(ini, e, section, "'" + e.value + "' is not a boolean (true or false)");
}

Result<double> parse_seconds(const IniFile& ini, const IniEntry& e, const std::string& section, double min,
                             double max) {
  char* end = nullptr;
  double v = std::strtod(e.value.c_str(), &end);
  if (e.value.empty() || *end || !std::isfinite(v) || v < min || v > max)
    return at(ini, e, section,
              "'" + e.value + "' is not a number from " + std::to_string(static_cast<long>(min)) + " to " +
                  std::to_string(static_cast<long>(max)));
  return v;
}

const std::set<std::string> kPlacementKeys{
    "auth_type",          "auth_url",         "username",
    "password",           "user_domain_name", "user_domain_id",
    "project_name",       "project_domain_name", "project_domain_id",
    "project_id",         "application_credential_id", "application_credential_secret",
    "application_credential_name", "token", "region_name",
    "valid_interfaces",   "endpoint_override", "cafile",
    "insecure",           "timeout",          "os_region_name",
    "os_interface",       "certfile",         "keyfile",
    "collect_timing",     "split_loggers",    "auth_section",
    "system_scope",       "trust_id",         "domain_id",
    "domain_name",        "default_domain_id", "default_domain_name",
    "user_id",            "service_type",     "service_name",
    "status_code_retries", "status_code_retry_delay", "connect_retries",
    "connect_retry_delay", "max_version",     "min_version",
    "version"};

const std::set<std::string> kAuthTypes{"password", "v3password", "v3applicationcredential",
                                       "applicationcredential", "admin_token", "noauth", "none"};

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
  for (const auto& e : s->entries) {
    if (strict && !kPlacementKeys.count(e.key))
      return at(ini, e, "placement", "unknown key (nova.conf's [placement] keys are accepted: auth_type, auth_url, "
                                     "username, password, project_name, ..., endpoint_override, cafile, insecure, "
                                     "timeout)");
    const std::string& v = e.value;
    if (e.key == "auth_type") {
      if (!kAuthTypes.count(v))
        return at(ini, e, "placement", "unsupported auth_type '" + v +
                                           "' (use password, v3applicationcredential or admin_token)");
      p.auth_type = v;
    } else if (e.key == "auth_url") p.auth_url = v;
    else if (e.key == "username") p.username = v;
    else if (e.key == "password") p.password = v;
    else if (e.key == "user_domain_name") p.user_domain_name = v;
    else if (e.key == "user_domain_id") p.user_domain_id = v;
    else if (e.key == "project_name") p.project_name = v;
    else if (e.key == "project_domain_name") p.project_domain_name = v;
    else if (e.key == "project_domain_id") p.project_domain_id = v;
    else if (e.key == "project_id") p.project_id = v;
    else if (e.key == "application_credential_id") p.application_credential_id = v;
    else if (e.key == "application_credential_secret") p.application_credential_secret = v;
    else if (e.key == "application_credential_name") p.application_credential_name = v;
    else if (e.key == "token") p.token = v;
    else if (e.key == "region_name" || e.key == "os_region_name") p.region_name = v;
    else if (e.key == "valid_interfaces" || e.key == "os_interface") {
      p.valid_interfaces = split_list(v);
      for (const auto& i : p.valid_interfaces)
        if (i != "internal" && i != "public" && i != "admin")
          return at(ini, e, "placement", "'" + i + "' is not an interface (internal, public or admin)");
    } else if (e.key == "endpoint_override") {
      if (v.rfind("http://", 0) != 0 && v.rfind("https://", 0) != 0)
        return at(ini, e, "placement", "'" + v + "' is not an http:// or https:// URL");
      p.endpoint_override = v;
    } else if (e.key == "cafile") p.cafile = v;
    else if (e.key == "insecure") {
      auto b = parse_bool(ini, e, "placement");
      if (!b) return b.error();
      p.insecure = *b;
    } else if (e.key == "timeout") {
      auto t = parse_seconds(ini, e, "placement", 0.1, 3600);
      if (!t) return t.error();
      p.timeout = *t;
    }
  }
  return p;
}

Result<AgentConfig> parse_agent_config(const IniFile& ini) {
  AgentConfig c;
  c.path = ini.path;
  for (const auto& s : ini.sections) {
    if (s.name == "agent") {
      for (const auto& e : s.entries) {
        const std::string& v = e.value;
        if (e.key == "compute_node_name") {
          if (v.empty() || v.size() > 255) return at(ini, e, s.name, "must be 1 to 255 characters");
          c.compute_node_name = v;
        } else if (e.key == "sysfs_root") c.sysfs_root = v;
        else if (e.key == "pci_ids") c.pci_ids = v;
        else if (e.key == "libvirt_uri") c.libvirt_uri = v;
        else if (e.key == "state_dir") c.state_dir = v;
        else if (e.key == "nova_config") c.nova_config = v;
        else if (e.key == "interval") {
          auto t = parse_seconds(ini, e, s.name, 1, 86400);
          if (!t) return t.error();
          c.interval = *t;
        } else if (e.key == "jitter") {
          auto t = parse_seconds(ini, e, s.name, 0, 1);
          if (!t) return t.error();
          c.jitter = *t;
        } else if (e.key == "retry_min") {
          auto t = parse_seconds(ini, e, s.name, 0.01, 3600);
          if (!t) return t.error();
          c.retry_min = *t;
        } else if (e.key == "retry_max") {
          auto t = parse_seconds(ini, e, s.name, 0.01, 86400);
          if (!t) return t.error();
          c.retry_max = *t;
        } else if (e.key == "metrics_file") {
          if (!v.empty() && v.front() != '/')
            return at(ini, e, s.name, "must be an absolute path (node_exporter's textfile directory, e.g. "
                                      "/var/lib/prometheus/node-exporter/gpu_agent.prom), or empty for none");
          c.metrics_file = v;
        } else if (e.key == "metrics_listen") {
          if (!v.empty())
            if (auto a = parse_listen_address(v); !a) return at(ini, e, s.name, a.error().message);
          c.metrics_listen = v;
        } else if (e.key == "usage_refresh") {
          auto t = parse_seconds(ini, e, s.name, 0, 86400);
          if (!t) return t.error();
          c.usage_refresh = *t;
        } else if (e.key == "default_pools") {
          auto b = parse_bool(ini, e, s.name);
          if (!b) return b.error();
          c.default_pools = *b;
        } else if (e.key == "host_traits") {
          c.host_traits = split_list(v);
          for (const auto& t : c.host_traits)
            if (auto ok = check_custom_name(t, "trait"); !ok) return at(ini, e, s.name, ok.error().message);
        } else if (e.key == "host_traits_owner") {
          if (v != "agent" && v != "nova")
            return at(ini, e, s.name, "must be agent (the agent puts host_traits on the compute node) or nova "
                                      "(nova's provider config does: nova-config --format provider-yaml)");
          c.host_traits_owner = v;
        } else if (e.key == "marker_trait") {
          if (auto ok = check_custom_name(v, "trait"); !ok) return at(ini, e, s.name, ok.error().message);
          c.marker_trait = v;
        } else {
          return at(ini, e, s.name,
                    "unknown key (known: compute_node_name, sysfs_root, pci_ids, libvirt_uri, state_dir, "
                    "nova_config, interval, jitter, retry_min, retry_max, default_pools, host_traits, host_traits_owner, marker_trait, "
                    "metrics_file, metrics_listen, usage_refresh)");
        }
      }
    } else if (s.name == "placement") {
      auto p = placement_from_ini(ini, true);
      if (!p) return p.error();
      c.placement = *p;
    } else if (s.name.rfind("pool:", 0) == 0) {
      PoolConfig pool;
      pool.name = s.name.substr(5);
      pool.line = s.line;
      if (pool.name.empty())
        return make_error(ini.where(s.line) + ": [pool:] needs a name, like [pool:h100]");
      for (const auto& e : s.entries) {
        if (e.key == "resource_class") {
          if (auto ok = check_custom_name(e.value, "resource class"); !ok)
            return at(ini, e, s.name, ok.error().message);
          pool.resource_class = e.value;
        } else if (e.key == "match") {
          for (const auto& m : split_list(e.value)) {
            size_t colon = m.find(':');
            auto v = parse_hex(m.substr(0, colon), 4);
            auto d = colon == std::string::npos ? Result<uint32_t>(make_error("")) : parse_hex(m.substr(colon + 1), 4);
            if (!v || !d || colon != 4)
              return at(ini, e, s.name, "'" + m + "' is not VENDOR:PRODUCT in hex, like 10de:2330");
            pool.match.emplace_back(*v, *d);
          }
        } else if (e.key == "addresses") {
          for (const auto& a : split_list(e.value)) {
            auto addr = parse_pci_address(a);
            if (!addr) return at(ini, e, s.name, addr.error().message);
            pool.addresses.push_back(*addr);
          }
        } else if (e.key == "traits") {
          pool.traits = split_list(e.value);
          for (const auto& t : pool.traits)
            if (auto ok = check_custom_name(t, "trait"); !ok) return at(ini, e, s.name, ok.error().message);
        } else {
          return at(ini, e, s.name, "unknown key (known: resource_class, match, addresses, traits)");
        }
      }
      if (pool.match.empty() && pool.addresses.empty())
        return make_error(ini.where(s.line) + ": [" + s.name +
                          "] selects no GPUs: give match = VENDOR:PRODUCT or addresses = 0000:3b:00.0, ...");
      if (pool.resource_class.empty())
        return make_error(ini.where(s.line) + ": [" + s.name + "] needs resource_class = CUSTOM_...");
      for (const auto& other : c.pools) {
        if (other.resource_class == pool.resource_class)
          return make_error(ini.where(s.line) + ": [" + s.name + "] uses resource class " + pool.resource_class +
                            " which [pool:" + other.name + "] (line " + std::to_string(other.line) +
                            ") already uses; one class per pool");
      }
      c.pools.push_back(std::move(pool));
    } else if (s.name.rfind("vgpu:", 0) == 0) {
      VgpuLayoutConfig l;
      l.name = s.name.substr(5);
      l.line = s.line;
      if (l.name.empty()) return make_error(ini.where(s.line) + ": [vgpu:] needs a name, like [vgpu:a40_24q]");
      for (const auto& e : s.entries) {
        const std::string& v = e.value;
        if (e.key == "type") {
          if (v.empty()) return at(ini, e, s.name, "needs a vGPU type: a name like A40-24Q or an id like nvidia-565");
          l.type = v;
        } else if (e.key == "match") {
          if (v == "all") {
            l.all = true;
            continue;
          }
          for (const auto& m : split_list(v)) {
            size_t colon = m.find(':');
            auto ven = parse_hex(m.substr(0, colon), 4);
            auto dev = colon == std::string::npos ? Result<uint32_t>(make_error("")) : parse_hex(m.substr(colon + 1), 4);
            if (!ven || !dev || colon != 4)
              return at(ini, e, s.name, "'" + m + "' is not VENDOR:PRODUCT in hex, like 10de:2235 (or: all)");
            l.match.emplace_back(*ven, *dev);
          }
        } else if (e.key == "addresses") {
          for (const auto& a : split_list(v)) {
            auto addr = parse_pci_address(a);
            if (!addr) return at(ini, e, s.name, addr.error().message);
            l.addresses.push_back(*addr);
          }
        } else if (e.key == "mdev_class") {
          if (v != "VGPU") {
            if (auto ok = check_custom_name(v, "mdev_class"); !ok)
              return at(ini, e, s.name, ok.error().message + " (nova takes VGPU or a CUSTOM_ resource class)");
          }
          l.mdev_class = v;
        } else if (e.key == "traits") {
          l.traits = split_list(v);
          for (const auto& t : l.traits)
            if (auto ok = check_custom_name(t, "trait"); !ok) return at(ini, e, s.name, ok.error().message);
        } else if (e.key == "flavor_vcpus" || e.key == "flavor_ram_mb" || e.key == "flavor_disk_gb") {
          auto k = parse_int(v);
          const int64_t min = e.key == "flavor_disk_gb" ? 0 : 1;
          if (!k || *k < min || *k > 100000000)
            return at(ini, e, s.name, "'" + v + "' is not a whole number of at least " + std::to_string(min));
          (e.key == "flavor_vcpus" ? l.flavor_vcpus : e.key == "flavor_ram_mb" ? l.flavor_ram_mb : l.flavor_disk_gb) = *k;
        } else {
          return at(ini, e, s.name,
                    "unknown key (known: type, match, addresses, mdev_class, traits, flavor_vcpus, flavor_ram_mb, "
                    "flavor_disk_gb)");
        }
      }
      if (l.type.empty())
        return make_error(ini.where(s.line) + ": [" + s.name + "] needs type = A40-24Q (a vGPU type name or id)");
      if (!l.all && l.match.empty() && l.addresses.empty())
        return make_error(ini.where(s.line) + ": [" + s.name +
                          "] selects no GPUs: give match = VENDOR:PRODUCT, addresses = 0000:41:00.0, ... or match = all");
      for (const auto& other : c.vgpu_layouts)
        if (other.name == l.name)
          return make_error(ini.where(s.line) + ": [" + s.name + "] is defined twice (also line " +
                            std::to_string(other.line) + ")");
      c.vgpu_layouts.push_back(std::move(l));
    } else if (s.name == "flavors") {
      auto& f = c.flavors;
      for (const auto& e : s.entries) {
        const std::string& v = e.value;
        if (e.key == "sizes") {
          f.sizes.clear();
          for (const auto& n : split_list(v)) {
            auto k = parse_int(n);
            if (!k || *k < 1 || *k > 64) return at(ini, e, s.name, "'" + n + "' is not a GPU count from 1 to 64");
            if (std::find(f.sizes.begin(), f.sizes.end(), static_cast<int>(*k)) == f.sizes.end())
              f.sizes.push_back(static_cast<int>(*k));
          }
          if (f.sizes.empty()) return at(ini, e, s.name, "lists no size; like sizes = 1, 2, 4, 8");
        } else if (e.key == "vcpus_per_gpu" || e.key == "ram_mb_per_gpu" || e.key == "ephemeral_gb_per_gpu" ||
                   e.key == "disk_gb" || e.key == "swap_mb") {
          auto k = parse_int(v);
          const int64_t min = (e.key == "vcpus_per_gpu" || e.key == "ram_mb_per_gpu") ? 1 : 0;
          if (!k || *k < min || *k > 100000000)
            return at(ini, e, s.name, "'" + v + "' is not a whole number of at least " + std::to_string(min));
          if (e.key == "vcpus_per_gpu") f.vcpus_per_gpu = *k;
          else if (e.key == "ram_mb_per_gpu") f.ram_mb_per_gpu = *k;
          else if (e.key == "ephemeral_gb_per_gpu") f.ephemeral_gb_per_gpu = *k;
          else if (e.key == "disk_gb") f.disk_gb = *k;
          else f.swap_mb = *k;
        } else if (e.key == "name_template") {
          if (v.find("{n}") == std::string::npos)
            return at(ini, e, s.name, "needs {n} (the GPU count), or every size gets the same name");
          flavors::Flavor probe;
          if (auto x = flavors::expand_name(v, probe); !x) return at(ini, e, s.name, x.error().message);
          f.name_template = v;
        } else if (e.key == "vgpu_name_template") {
          flavors::Flavor probe;
          if (auto x = flavors::expand_name(v, probe); !x) return at(ini, e, s.name, x.error().message);
          f.vgpu_name_template = v;
        } else if (e.key == "required_traits") {
          f.required_traits = split_list(v);
          for (const auto& t : f.required_traits)
            if (auto ok = check_custom_name(t, "trait"); !ok) return at(ini, e, s.name, ok.error().message);
        } else if (e.key == "pci_alias" || e.key == "is_public") {
          auto b = parse_bool(ini, e, s.name);
          if (!b) return b.error();
          (e.key == "pci_alias" ? f.pci_alias : f.is_public) = *b;
        } else if (e.key == "extra_specs") {
          f.extra_specs.clear();
          for (const auto& kv : split_list(v)) {
            const size_t eq = kv.find('=');
            if (eq == std::string::npos || eq == 0 || eq + 1 == kv.size())
              return at(ini, e, s.name, "'" + kv + "' is not KEY=VALUE, like hw:cpu_policy=dedicated");
            f.extra_specs.emplace_back(kv.substr(0, eq), kv.substr(eq + 1));
          }
        } else {
          return at(ini, e, s.name,
                    "unknown key (known: sizes, vcpus_per_gpu, ram_mb_per_gpu, ephemeral_gb_per_gpu, disk_gb, "
                    "swap_mb, name_template, vgpu_name_template, required_traits, pci_alias, is_public, extra_specs)");
        }
      }
    } else if (s.name.rfind("flavors:", 0) == 0) {
      // [flavors:8x]: one size's absolute values
      std::string size = s.name.substr(8);
      if (!size.empty() && (size.back() == 'x' || size.back() == 'X')) size.pop_back();
      auto n = parse_int(size);
      if (!n || *n < 1 || *n > 64)
        return make_error(ini.where(s.line) + ": [" + s.name + "] is not a size; like [flavors:8x] for the 8-GPU flavor");
      flavors::SizeOverride o;
      o.line = s.line;
      for (const auto& e : s.entries) {
        if (e.key == "name") {
          o.name = e.value;
          continue;
        }
        auto k = parse_int(e.value);
        if (e.key != "vcpus" && e.key != "ram_mb" && e.key != "disk_gb" && e.key != "ephemeral_gb" &&
            e.key != "swap_mb")
          return at(ini, e, s.name, "unknown key (known: vcpus, ram_mb, disk_gb, ephemeral_gb, swap_mb, name)");
        if (!k || *k < 0 || *k > 100000000) return at(ini, e, s.name, "'" + e.value + "' is not a whole number");
        if (e.key == "vcpus") o.vcpus = *k;
        else if (e.key == "ram_mb") o.ram_mb = *k;
        else if (e.key == "disk_gb") o.disk_gb = *k;
        else if (e.key == "ephemeral_gb") o.ephemeral_gb = *k;
        else o.swap_mb = *k;
      }
      c.flavors.overrides[static_cast<int>(*n)] = o;
    } else if (s.name == "DEFAULT") {
      if (!s.entries.empty())
        return at(ini, s.entries.front(), s.name, "the agent reads no [DEFAULT] keys; put it under [agent]");
    } else {
      return make_error(ini.where(s.line) + ": unknown section [" + s.name +
                        "] (known: [agent], [placement], [pool:NAME], [vgpu:NAME], [flavors], [flavors:Nx])");
    }
  }
  if (!c.path.empty()) c.flavors.source = c.path;
  if (c.retry_max < c.retry_min)
    return make_error(ini.path + ": [agent] retry_max must not be below retry_min");
  return c;
}

Result<AgentConfig> load_agent_config(const std::string& path) {
  auto ini = load_ini(path);
  if (!ini) return ini.error();
  return parse_agent_config(*ini);
}

}  // namespace gpu_agent
