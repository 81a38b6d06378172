#pragma once
// nova's provider config YAML ([compute] provider_config_location, default
// /etc/nova/provider_config/*.yaml) carrying the agent's [agent] host_traits on
// the compute node, for operators who want nova to own those traits. Pure.
#include <string>
#include <vector>

#include "result.h"

namespace gpu_agent {

struct ProviderYamlOptions {
  std::string generator = "gpu-agent";  // named in the header
  std::string host;                     // the host it was generated on, named in the header
};

// One provider, identified by name $COMPUTE_NODE (nova's own compute node on
// whichever host reads it: one file serves every compute), with the traits as
// traits.additional, in the given order without repeats. Errors: no traits (nova
// ignores a provider with nothing to add, with only a warning), or a trait that
// is not CUSTOM_[A-Z0-9_]+ (nova refuses to start on it).
Result<std::string> make_provider_yaml(const std::vector<std::string>& host_traits, const ProviderYamlOptions& options);

}  // namespace gpu_agent
