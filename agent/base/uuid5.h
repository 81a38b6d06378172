#pragma once
#include <string>

namespace gpu_agent {

// A name-based (RFC 4122 version 5, SHA-1) UUID in the agent's own namespace:
// the same name gives the same UUID on every run, so a restarted agent finds
// its own providers, and a flavor keeps its id across runs and hosts.
std::string uuid5(const std::string& name);

}  // namespace gpu_agent
