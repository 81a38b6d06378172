#pragma once
// From the [placement] settings (the agent's own, or nova.conf's) to a
// Placement client: the token source (keystone password or application
// credential, or a static admin token), the endpoint (endpoint_override or
// the keystone catalog), TLS and timeouts.
#include <functional>
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
// CANCELLED, when set, is asked while a request waits: true abandons it (a stop signal).
Result<PlacementSession> open_placement(const PlacementSettings& settings, Log& log,
                                        std::function<bool()> cancelled = {});
// Everything open_placement checks before it sends anything: auth_type and the
// keys it needs, the endpoint's URL, the cafile. The daemon refuses a config
// (at start-up and on SIGHUP) that fails this. Errors are ErrorKind::bad_config.
Result<bool> check_placement_settings(const PlacementSettings& settings);

// The nova-compatible [placement] settings to use: from --nova-config, or
// [agent] nova_config, else the agent's own section.
Result<PlacementSettings> effective_placement(const AgentConfig& cfg, const std::optional<std::string>& nova_config);

}  // namespace gpu_agent
