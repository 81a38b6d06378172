#pragma once
// One reconcile pass against Placement, and what the daemon keeps between
// passes: inventory -> pools -> desired tree; read placement's tree; plan;
// apply in order; on 409 concurrent_update re-read and re-plan (bounded,
// with jitter). Steady state costs one GET: when the tree's generations and
// the desired pools are what the last pass left, nothing more is sent.
#include <functional>
#include <memory>
#include <optional>
#include <ostream>
#include <set>
#include <string>

#include "config.h"
#include "daemon.h"
#include "hostname.h"
#include "log.h"
#include "placement_client.h"
#include "reconcile.h"
#include "state.h"

namespace gpu_agent {

class PciNames;

struct ReportSources {
  std::optional<std::string> fixture;     // read a capture instead of sysfs
  std::optional<std::string> sysfs_root;  // overrides [agent] sysfs_root
  std::optional<std::string> hostname;    // overrides [agent] compute_node_name
  std::optional<std::string> libvirt_uri; // "none" to skip libvirt
};

struct PassStats {
  uint64_t requests = 0, writes = 0;
  size_t planned = 0;
  bool quick = false;  // answered by the one-GET steady-state check
};

class Reporter {
 public:
  Reporter(AgentConfig config, ReportSources sources, Log& log);
  ~Reporter();

  // One pass. dry_run prints the plan to `plan_out` and sends no writes.
  // should_stop is checked between requests (SIGTERM finishes the one in flight).
  PassOutcome pass(bool dry_run, std::ostream* plan_out, const std::function<bool()>& should_stop = {});

  // SIGHUP: a new config; the placement session is rebuilt on the next pass.
  void reload(AgentConfig config);
  // The compute node provider's inventory (VCPU, MEMORY_MB, DISK_GB...), read with
  // this config's credentials, for sizing flavors from what placement offers.
  // Error code 2: the config is wrong; 1: placement failed or has no such node.
  Result<placement::InventoryMap> root_inventory(const std::string& compute_node);
  const AgentConfig& config() const { return config_; }
  const PassStats& last_pass() const { return stats_; }
  placement::PlacementClient* client() { return client_.get(); }
  // Where the client's tokens come from (null before the first pass connected).
  placement::TokenSource* tokens() { return tokens_.get(); }
  // Tests: runs after the tree was read and planned, before the first write
  // (where another writer, like nova-compute, can slip in).
  void set_before_write_hook(std::function<void()> hook) { before_write_ = std::move(hook); }

 private:
  struct Snapshot;
  Result<bool> connect();
  PassOutcome outcome_for(const Error& e, placement::Outcome o, const std::string& what);

  AgentConfig config_;
  ReportSources sources_;
  Log& log_;
  std::shared_ptr<placement::TokenSource> tokens_;
  std::unique_ptr<placement::PlacementClient> client_;
  std::optional<std::string> root_uuid_;
  std::unique_ptr<Snapshot> last_;  // what the last successful pass left
  std::set<std::string> last_notes_;
  AgentState state_;
  bool state_loaded_ = false;
  PassStats stats_;
  std::function<void()> before_write_;
  std::unique_ptr<PciNames> names_;
  std::optional<HostName> host_;
};

// The nova-compatible [placement] settings to use: from --nova-config, or
// [agent] nova_config, else the agent's own section.
Result<PlacementSettings> effective_placement(const AgentConfig& cfg, const std::optional<std::string>& nova_config);

}  // namespace gpu_agent
