// `gpu-agent nova-config --format provider-yaml`: nova's provider config with
// the agent's host traits, so nova owns them ([agent] host_traits_owner = nova).
#include <ostream>

#include "cli_commands.h"
#include "cli_common.h"
#include "fixture.h"
#include "hostname.h"
#include "provider_yaml.h"

namespace gpu_agent {

int nova_provider_yaml(const Args& a, const AgentConfig& cfg, std::ostream& out, std::ostream& err) {
  const std::string cmd = "nova-config";
  // The file is the same on every compute; the host only goes into its header,
  // so neither sysfs nor the GPUs are read.
  std::optional<std::string> fixture_host;
  if (auto f = value(a, "fixture")) {
    auto fx = load_fixture_file(*f);
    if (!fx) {
      err << "gpu-agent " << cmd << ": " << fx.error().message << "\n";
      return 1;
    }
    if (auto h = fx->meta.find("hostname"); h != fx->meta.end()) fixture_host = h->second;
  }
  ProviderYamlOptions opts;
  opts.generator = std::string("gpu-agent ") + kAgentVersion;
  opts.host = choose_hostname(value(a, "hostname") ? value(a, "hostname") : cfg.compute_node_name, fixture_host,
                              std::nullopt)
                  .name;
  auto yaml = make_provider_yaml(cfg.host_traits, opts);
  if (!yaml) {
    err << "gpu-agent " << cmd << ": " << yaml.error().message << "\n";
    return 2;
  }
  auto o = value(a, "output");
  if (!o || *o == "-") {
    out << *yaml;
    return 0;
  }
  if (!write_file_atomically(*o, *yaml, cmd, err)) return 1;  // nova-compute never reads half a file
  err << "wrote " << *o << " (" << cfg.host_traits.size() << " host trait(s) on $COMPUTE_NODE)";
  if (cfg.host_traits_owner != "nova")
    err << "; set [agent] host_traits_owner = nova so the agent stops writing them itself";
  err << "\n";
  return 0;
}

}  // namespace gpu_agent
