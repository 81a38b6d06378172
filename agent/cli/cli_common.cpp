#include "cli_common.h"

#include "atomic_file.h"
#include "gpu_agent_version.h"
#include "health.h"
#include "nova_release.h"

#include <dirent.h>
#include <unistd.h>

#include <cctype>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <ostream>

namespace gpu_agent {

const char* const kAgentVersion = GPU_AGENT_VERSION;

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

int show_help(std::ostream& out, const char* help, bool reads_host) {
  out << help;
  if (reads_host) out << "\n" << kHostSourceHelp;
  return 0;
}

int usage_error(std::ostream& err, const std::string& cmd, const std::string& msg) {
  err << "gpu-agent " << cmd << ": " << msg << "\n"
      << "Run `gpu-agent " << cmd << " --help` for usage.\n";
  return 2;
}

std::string default_config_path() {
  const char* env = std::getenv("GPU_AGENT_CONFIG");
  return env && *env ? env : "/etc/gpu-agent/gpu-agent.conf";
}

Result<AgentConfig> load_config_for(const std::optional<std::string>& path) {
  const std::string def = default_config_path();
  if (!path && ::access(def.c_str(), F_OK) != 0) return AgentConfig{};
  auto cfg = load_agent_config(path.value_or(def));
  if (!cfg) return make_error(ErrorKind::bad_config, cfg.error().message);
  return cfg;
}

std::vector<std::string> with_host_options(std::vector<std::string> own) {
  own.insert(own.end(), kHostSourceOptions.begin(), kHostSourceOptions.end());
  return own;
}

const std::vector<std::string> kHostSourceOptions{"fixture", "sysfs-root", "pci-ids", "libvirt-uri", "hostname"};
const std::map<std::string, std::string> kHostSourceAliases{{"--compute-node-name", "--hostname"}};

const char* const kHostSourceHelp = R"(Where the host is read from (the same for every command):
  --fixture FILE      a capture made by `gpu-agent capture` instead of sysfs
  --sysfs-root DIR    read sysfs below DIR (default: [agent] sysfs_root, /sys)
  --pci-ids FILE      pci.ids for vendor and product names (default: [agent]
                      pci_ids, else libpci's /usr/share/misc/pci.ids)
  --libvirt-uri URI   where to ask libvirt for the hostname nova uses (default:
                      [agent] libvirt_uri, qemu:///system, when reading /sys;
                      none with --fixture or --sysfs-root); `none` skips libvirt
  --hostname NAME     the compute node's name (default: [agent]
                      compute_node_name, libvirt's hostname, the capture's,
                      this host's FQDN); --compute-node-name is the same
)";

Result<HostSources> host_sources(const Args& a) {
  HostSources s;
  s.fixture = value(a, "fixture");
  s.sysfs_root = value(a, "sysfs-root");
  s.pci_ids = value(a, "pci-ids");
  s.libvirt_uri = value(a, "libvirt-uri");
  s.hostname = value(a, "hostname");
  if (s.fixture && s.sysfs_root)
    return make_error(ErrorKind::bad_config, "--fixture and --sysfs-root are alternatives; give one");
  return s;
}

std::string status_file_path(const AgentConfig& cfg) { return cfg.state_dir + "/status.json"; }

std::string installed_nova_version() {
  auto nova = find_installed_nova(nova_site_dirs(std::getenv("GPU_AGENT_NOVA_SITE")));
  return nova ? nova->version : std::string();
}

Result<NovaReleaseChoice> nova_release_for(const Args& a, const AgentConfig& cfg) {
  const auto dirs = nova_site_dirs(std::getenv("GPU_AGENT_NOVA_SITE"));
  if (auto given = value(a, "nova-release")) return choose_nova_release(given, "--nova-release", dirs);
  const std::string where = "[agent] nova_release" + (cfg.path.empty() ? "" : " in " + cfg.path);
  auto c = choose_nova_release(cfg.nova_release, where, dirs);
  if (!c) return make_error(ErrorKind::bad_config, c.error().message);
  return c;
}

int exit_code(const Error& e) {
  if (e.kind == ErrorKind::busy) return 3;
  return e.kind == ErrorKind::bad_config ? 2 : 1;
}

int exit_code(const PassOutcome& o) {
  switch (o.kind) {
    case PassOutcome::Kind::ok:
    case PassOutcome::Kind::stopped: return 0;
    case PassOutcome::Kind::fatal: return o.config_error ? 2 : 1;
    case PassOutcome::Kind::retry: return 1;
  }
  return 1;
}

int exit_code(const Health& h) {
  switch (h.level) {
    case Health::Level::healthy: return 0;
    case Health::Level::degraded: return 1;
    case Health::Level::failing: return 2;
  }
  return 2;
}

int fail(std::ostream& err, const std::string& cmd, const Error& e) {
  err << "gpu-agent " << cmd << ": " << e.message << "\n";
  return exit_code(e);
}

bool write_file_atomically(const std::string& path, const std::string& text, const std::string& cmd,
                           std::ostream& err) {
  auto w = write_file_atomically(path, text);
  if (!w) err << "gpu-agent " << cmd << ": " << w.error().message << "\n";
  return w.ok();
}

}  // namespace gpu_agent
