#pragma once
// What every gpu-agent command shares: option parsing, the agent's config,
// reading this host (a fixture, a sysfs root or /sys) into an inventory and its
// pools, and writing an output file atomically.
#include <iosfwd>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config.h"
#include "model.h"
#include "pools.h"
#include "result.h"

namespace gpu_agent {

extern const char* const kAgentVersion;

struct Args {
  std::map<std::string, std::string> values;
  std::map<std::string, bool> flags;
  bool help = false;
};

// Options are "--name VALUE" or "--name=VALUE"; flags take no value.
// Returns the problem, or nothing when every argument was understood.
std::optional<std::string> parse_args(const std::vector<std::string>& in, size_t start,
                                      const std::vector<std::string>& value_opts,
                                      const std::vector<std::string>& flag_opts,
                                      const std::map<std::string, std::string>& aliases, Args& out);
std::optional<std::string> value(const Args& a, const std::string& key);
// Prints "gpu-agent CMD: MSG" and where to find usage; returns 2.
int usage_error(std::ostream& err, const std::string& cmd, const std::string& msg);

// --config FILE, else /etc/gpu-agent/gpu-agent.conf when it exists, else defaults.
Result<AgentConfig> load_config_for(const std::optional<std::string>& path);

// This host as the generating commands (nova-config, flavors, doctor) see it.
struct HostSources {
  std::optional<std::string> fixture, sysfs_root, hostname;
};
struct LoadedHost {
  Inventory inventory;           // hostname set: --hostname, config, fixture, this host
  std::vector<Pool> pools;
};
// Error codes: 1 the host cannot be read (fixture or sysfs), 2 the config's pools are wrong.
Result<LoadedHost> load_host(const HostSources& src, const AgentConfig& cfg);

// Writes TEXT to PATH through PATH.tmp.PID and rename(): readers see all of it
// or the old file. On failure says why on ERR ("gpu-agent CMD: ...") and returns false.
bool write_file_atomically(const std::string& path, const std::string& text, const std::string& cmd,
                           std::ostream& err);

}  // namespace gpu_agent
