#pragma once
// What the agent remembers between runs: the traits it set on each provider,
// so a trait that leaves the config can be removed without ever removing one
// that somebody else set. Written atomically (temp file + rename); a missing
// or unreadable file means "owns nothing yet": the agent then only adds.
#include <map>
#include <set>
#include <string>

#include "result.h"

namespace gpu_agent {

struct AgentState {
  std::map<std::string, std::set<std::string>> owned_traits;  // provider uuid -> traits
};

std::string state_to_json(const AgentState& s);
Result<AgentState> state_from_json(const std::string& text, const std::string& origin);
// Missing file: empty state. A directory, FIFO or device, an empty, torn or
// foreign file: an error naming the path (the caller reports it and rebuilds
// ownership from Placement: the pools with the marker trait are the agent's).
Result<AgentState> load_state(const std::string& path);
Result<bool> save_state(const std::string& path, const AgentState& s);

}  // namespace gpu_agent
