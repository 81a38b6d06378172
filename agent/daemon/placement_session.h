#pragma once
// From the [placement] settings (the agent's own, or nova.conf's) to a
// Placement client: the token source (keystone password or application
// credential, or a static admin token), the endpoint (endpoint_override or
// the keystone catalog), TLS and timeouts.
#include <memory>
#include <optional>
#include <string>

#include "config.h"
#include "log.h"
#include "placement_client.h"
#include "result.h"
#include "token_source.h"

namespace gpu_agent {

struct PlacementSession {
  std::shared_ptr<placement::TokenSource> tokens;
  std::unique_ptr<placement::PlacementClient> client;
};

// Errors: ErrorKind::bad_config for settings that cannot work (fix the file);
// keystone's own kinds (unauthorized, unreachable, ...) when the catalog
// lookup failed.
Result<PlacementSession> open_placement(const PlacementSettings& settings, Log& log);

// The nova-compatible [placement] settings to use: from --nova-config, or
// [agent] nova_config, else the agent's own section.
Result<PlacementSettings> effective_placement(const AgentConfig& cfg, const std::optional<std::string>& nova_config);

}  // namespace gpu_agent
