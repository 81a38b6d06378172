#pragma once
// The report suite's environment: a real Placement (scripts/placement-server.sh)
// started once for the suite, helpers to act as nova would (create the compute
// node, allocate), fixture variants, and a way to run the gpu-agent binary.
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "config.h"
#include "placement_client.h"

namespace env {

std::string run(const std::string& cmd, int* status = nullptr);  // sh -c, stdout+stderr
const std::string& placement_url();
const std::string& work_dir();  // a fresh temp dir for this run
std::string new_uuid();
std::string unique(const std::string& prefix);

std::unique_ptr<gpu_agent::placement::PlacementClient> client(const std::string& url = placement_url(),
                                                              const std::string& token = "admin");

// The compute node provider, as nova-compute creates it: VCPU, MEMORY_MB, DISK_GB and COMPUTE_NODE.
std::string make_compute_node(const std::string& name, const std::string& url = placement_url());

// Allocate `n` of `rc` from `provider` for a new consumer, as nova's scheduler does; returns the consumer.
std::string allocate(const std::string& provider, const std::string& rc, int n);
int http_status(const std::string& method, const std::string& path, const std::string& body = "");

// tests/data/hosts/<name>.sysfs.txt with the vfio-pci binding removed from `unbind` (they stop being
// assignable), written to a temp file; returns its path.
std::string fixture(const std::string& name, const std::vector<std::string>& unbind = {});

// A config for the lab placement with a fresh state dir; `extra` is appended to [agent].
gpu_agent::AgentConfig config(const std::string& url = placement_url(), const std::string& agent_extra = "",
                              const std::string& more_sections = "");
std::string config_file(const std::string& url = placement_url(), const std::string& agent_extra = "",
                        const std::string& more_sections = "");

struct Tree {
  std::string root;
  std::map<std::string, gpu_agent::placement::Provider> providers;  // by uuid
  std::set<std::string> traits(const std::string& uuid) const;
  gpu_agent::placement::InventoryMap inventory(const std::string& uuid) const;
  std::vector<gpu_agent::placement::Provider> children() const;
};
Tree read_tree(const std::string& root_uuid);

extern const char* const kAgentBinary;
extern const char* const kDataDir;

}  // namespace env
