#pragma once
// What the agent remembers between runs: the traits it set on each provider,
// so a trait that leaves the config can be removed without ever removing one
// that somebody else set; and where the last full pass left Placement (the
// resume point), so a restarted agent's first pass is the steady-state GET
// instead of a full read (a fleet restarted at once costs Placement 2 requests
// a node, not 7). Written atomically (temp file + rename); a missing or
// unreadable file means "owns nothing yet": the agent then only adds.
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>

#include "result.h"

namespace gpu_agent {

// Placement's values of one pool as last read or written.
struct PoolReading {
  std::string provider_uuid;
  int64_t total = 0, reserved = 0;
  std::optional<int64_t> used;
  double used_read_at = 0;  // unix seconds
  bool operator==(const PoolReading&) const = default;
};

// The tree as the last full pass left it. Used only when the compute node's
// name is the same; any generation or wanted pool that differs means a full read.
struct ResumePoint {
  std::string compute_node, root_uuid;
  std::string desired;                          // the pass's signature of what was wanted
  std::map<std::string, int64_t> generations;   // provider uuid -> generation
  std::map<std::string, PoolReading> readings;  // resource class -> reading
  bool operator==(const ResumePoint&) const = default;
};

struct AgentState {
  std::map<std::string, std::set<std::string>> owned_traits;  // provider uuid -> traits
  std::optional<ResumePoint> resume;
};

std::string state_to_json(const AgentState& s);
Result<AgentState> state_from_json(const std::string& text, const std::string& origin);
// Missing file: empty state. A directory, FIFO or device, an empty, torn or
// foreign file: an error naming the path (the caller reports it and rebuilds
// ownership from Placement: the pools with the marker trait are the agent's).
Result<AgentState> load_state(const std::string& path);
Result<bool> save_state(const std::string& path, const AgentState& s);

}  // namespace gpu_agent
