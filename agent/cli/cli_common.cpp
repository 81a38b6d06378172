#include "cli_common.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <ostream>

#include "fixture.h"
#include "fs.h"
#include "hostname.h"
#include "inventory.h"
#include "pci_names.h"

namespace gpu_agent {

const char* const kAgentVersion = "0.1.0";

std::optional<std::string> parse_args(const std::vector<std::string>& in, size_t start,
                                      const std::vector<std::string>& value_opts,
                                      const std::vector<std::string>& flag_opts,
                                      const std::map<std::string, std::string>& aliases, Args& out) {
  for (size_t i = start; i < in.size(); ++i) {
    std::string a = in[i];
    if (a == "-h" || a == "--help") {
      out.help = true;
      continue;
    }
    if (auto al = aliases.find(a); al != aliases.end()) a = al->second;
    std::optional<std::string> inline_value;
    if (auto eq = a.find('='); a.rfind("--", 0) == 0 && eq != std::string::npos) {
      inline_value = a.substr(eq + 1);
      a = a.substr(0, eq);
    }
    bool is_value = false, is_flag = false;
    for (const auto& v : value_opts) is_value |= (a == "--" + v);
    for (const auto& f : flag_opts) is_flag |= (a == "--" + f);
    if (is_flag && !inline_value) {
      out.flags[a.substr(2)] = true;
    } else if (is_value) {
      if (inline_value) out.values[a.substr(2)] = *inline_value;
      else if (i + 1 < in.size()) out.values[a.substr(2)] = in[++i];
      else return "option " + a + " needs a value";
    } else {
      return "unknown option '" + in[i] + "'";
    }
  }
  return std::nullopt;
}

std::optional<std::string> value(const Args& a, const std::string& key) {
  auto it = a.values.find(key);
  return it == a.values.end() ? std::nullopt : std::optional<std::string>(it->second);
}

int usage_error(std::ostream& err, const std::string& cmd, const std::string& msg) {
  err << "gpu-agent " << cmd << ": " << msg << "\n"
      << "Run `gpu-agent " << cmd << " --help` for usage.\n";
  return 2;
}

Result<AgentConfig> load_config_for(const std::optional<std::string>& path) {
  if (path) return load_agent_config(*path);
  const std::string def = "/etc/gpu-agent/gpu-agent.conf";
  if (::access(def.c_str(), F_OK) == 0) return load_agent_config(def);
  return AgentConfig{};
}

Result<LoadedHost> load_host(const HostSources& src, const AgentConfig& cfg) {
  std::unique_ptr<Fs> fs;
  std::optional<std::string> fixture_host;
  if (src.fixture) {
    auto fx = load_fixture_file(*src.fixture);
    if (!fx) return make_error(fx.error().message, 1);
    if (auto h = fx->meta.find("hostname"); h != fx->meta.end()) fixture_host = h->second;
    fs = std::move(fx->fs);
  } else {
    fs = std::make_unique<RealFs>(src.sysfs_root.value_or(cfg.sysfs_root));
  }
  PciNames names(cfg.pci_ids);
  InventoryOptions io;
  io.names = &names;
  auto inv = read_inventory(*fs, io);
  if (!inv) return make_error(inv.error().message, 1);
  HostName host = choose_hostname(src.hostname ? src.hostname : cfg.compute_node_name, fixture_host, std::nullopt);
  inv->hostname = host.name;
  inv->hostname_source = host.source;
  auto pools = derive_pools(*inv, cfg);
  if (!pools) return make_error(pools.error().message, 2);
  return LoadedHost{std::move(*inv), std::move(*pools)};
}

bool write_file_atomically(const std::string& path, const std::string& text, const std::string& cmd,
                           std::ostream& err) {
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    f << text;
    f.flush();
    if (!f) {
      err << "gpu-agent " << cmd << ": cannot write " << tmp << ": " << std::strerror(errno) << "\n";
      std::remove(tmp.c_str());
      return false;
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    err << "gpu-agent " << cmd << ": cannot rename " << tmp << " to " << path << ": " << std::strerror(errno)
        << "\n";
    std::remove(tmp.c_str());
    return false;
  }
  return true;
}

}  // namespace gpu_agent
