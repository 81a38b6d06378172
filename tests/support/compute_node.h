#pragma once
// What nova-compute does to placement when it starts, for the suites that
// run the agent against a real Placement: the compute node provider with its
// inventory and the COMPUTE_NODE trait. Throws on any failure.
#include <string>

#include "placement_client.h"

namespace gpu_agent::testing {

void create_compute_node(placement::PlacementClient& client, const std::string& name, const std::string& uuid);

}  // namespace gpu_agent::testing
