#pragma once
// What every gpu-agent command shares: option parsing, the agent's config,
// reading this host (a fixture, a sysfs root or /sys) into an inventory and its
// pools, and writing an output file atomically.
#include <initializer_list>
#include <iosfwd>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config.h"
#include "daemon.h"
#include "load_host.h"
#include "nova_release.h"
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
// Prints HELP, and the host-source options' help when the command reads a host; returns 0.
int show_help(std::ostream& out, const char* help, bool reads_host);
// Prints "gpu-agent CMD: MSG" and where to find usage; returns 2.
int usage_error(std::ostream& err, const std::string& cmd, const std::string& msg);

// The config read without --config: $GPU_AGENT_CONFIG when set (the tests point
// it at a file that does not exist, so a package installed on the machine does
// not change their results), else /etc/gpu-agent/gpu-agent.conf.
std::string default_config_path();
// --config FILE, else default_config_path() when it exists, else defaults.
// Errors are ErrorKind::bad_config.
Result<AgentConfig> load_config_for(const std::optional<std::string>& path);

// The host-source options every command that reads a host accepts
// (--fixture, --sysfs-root, --pci-ids, --libvirt-uri, --hostname), and their help.
extern const std::vector<std::string> kHostSourceOptions;
extern const char* const kHostSourceHelp;
// --compute-node-name is the older spelling of --hostname.
extern const std::map<std::string, std::string> kHostSourceAliases;
// One value of an option that takes a word from a fixed list, as an enum.
template <typename E>
struct Choice {
  const char* word;
  E value;
};
// --OPTION's word as its enum value; the first choice when the option is not
// given; an error "--OPTION is a, b or c" for any other word.
template <typename E>
Result<E> choose(const Args& a, const std::string& option, std::initializer_list<Choice<E>> choices) {
  auto given = value(a, option);
  std::string words;
  size_t n = 0;
  for (const auto& c : choices) {
    if (!given || *given == c.word) return c.value;
    words += std::string(n == 0 ? "" : (++n == choices.size() ? " or " : ", ")) + c.word;
    if (n == 0) n = 1;
  }
  return make_error(ErrorKind::bad_config, "--" + option + " is " + words);
}

// Where the daemon writes its status after every pass: [agent] state_dir/status.json.
std::string status_file_path(const AgentConfig& cfg);
// nova's installed version ("26.2.2") from its Python package's metadata in
// /usr/lib/python3/dist-packages (Debian and Ubuntu packages, pip in the
// system Python), "" when none is found. For the info metric.
std::string installed_nova_version();
// The nova release nova-config (and doctor) target: --nova-release, else [agent]
// nova_release, else the installed nova's ($GPU_AGENT_NOVA_SITE: where to look
// instead of the system's Python directories), else the newest.
Result<NovaReleaseChoice> nova_release_for(const Args& a, const AgentConfig& cfg);

// OWN plus the host-source options, for parse_args.
std::vector<std::string> with_host_options(std::vector<std::string> own);
// The options' values; "--fixture and --sysfs-root are alternatives" when both are given.
Result<HostSources> host_sources(const Args& a);

// The one place errors become exit codes: 2 for the operator's config or
// options (ErrorKind::bad_config), 3 when another gpu-agent holds the state
// directory's lock (ErrorKind::busy), 1 for everything else.
int exit_code(const Error& e);
// A pass, or the daemon that ended: 0 done or stopped, 2 a config error, 1 otherwise.
int exit_code(const PassOutcome& o);
// `gpu-agent status`: 0 healthy, 1 degraded, 2 failing.
struct Health;
int exit_code(const Health& h);
// Prints "gpu-agent CMD: message" and returns exit_code(e).
int fail(std::ostream& err, const std::string& cmd, const Error& e);

// Writes TEXT to PATH through PATH.tmp.PID and rename(): readers see all of it
// or the old file. On failure says why on ERR ("gpu-agent CMD: ...") and returns false.
bool write_file_atomically(const std::string& path, const std::string& text, const std::string& cmd, std::ostream& err);

}  // namespace gpu_agent
