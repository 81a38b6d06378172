#pragma once
// nova's provider config YAML ([compute] provider_config_location, default
// /etc/nova/provider_config/*.yaml) carrying the agent's [agent] host_traits on
// the compute node and the [vgpu:*] layouts' traits on nova's pGPU providers, for
// operators who want nova to own those traits. Pure.
#include <string>
#include <vector>

#include "result.h"

namespace gpu_agent {

// A provider nova creates itself, identified by name: one of nova's pGPU (vGPU
// parent) providers, "<nodename>_pci_0000_41_00_4".
struct ProviderYamlEntry {
  std::string name;
  std::vector<std::string> traits;
  std::string comment;  // one line above it: which layout and type
};

struct ProviderYamlOptions {
  std::string generator = "gpu-agent";             // named in the header
  std::string host;                                // the host it was generated on, named in the header
  std::vector<ProviderYamlEntry> named_providers;  // the layouts' pGPU providers on `host`
};

// The host traits on the provider identified by name $COMPUTE_NODE (nova's own
// compute node on whichever host reads it: without named providers one file
// serves every compute), then each named provider with its traits, all as
// traits.additional, in the given order without repeats. Errors: nothing to
// write (no host traits and no named provider: nova ignores a provider with
// nothing to add, with only a warning), a trait that is not CUSTOM_[A-Z0-9_]+
// (nova refuses to start on it), a named provider without traits or twice.
Result<std::string> make_provider_yaml(const std::vector<std::string>& host_traits, const ProviderYamlOptions& options);

}  // namespace gpu_agent
