#pragma once
// One reconcile pass against Placement, and what the daemon keeps between
// passes. A pass reads (this host: load_host; placement's tree), plans
// (placement::plan_reconcile, pure) and applies the plan in order; on 409
// concurrent_update it reads and plans again (bounded, with jitter). Steady
// state costs one GET: when the tree's generations and the desired pools are
// what the last pass left, nothing more is sent. ARCHITECTURE.md, "A report pass".
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <set>
#include <string>
#include <vector>

#include "config.h"
#include "daemon.h"
#include "load_host.h"
#include "log.h"
#include "placement_client.h"
#include "placement_session.h"
#include "reconcile.h"
#include "state.h"
#include "usage_schedule.h"

namespace gpu_agent {

// Where the host comes from: the one set of host-source options (load_host.h).
using ReportSources = HostSources;

class Reporter {
 public:
  Reporter(AgentConfig config, ReportSources sources, Log& log);
  ~Reporter();

  // One pass; the outcome carries its request counts. dry_run prints the plan
  // to `plan_out` and sends no writes. should_stop is checked between requests.
  PassOutcome pass(bool dry_run, std::ostream* plan_out, const std::function<bool()>& should_stop = {});

  // SIGHUP: a new config; the placement session is rebuilt on the next pass.
  void reload(AgentConfig config);
  // The compute node provider's inventory (VCPU, MEMORY_MB, DISK_GB...), read with
  // this config's credentials, for sizing flavors from what placement offers.
  // Errors: bad_config when the settings cannot work, not_found when placement
  // has no such node, else placement's or keystone's failure.
  Result<placement::InventoryMap> root_inventory(const std::string& compute_node);
  const AgentConfig& config() const { return config_; }
  placement::PlacementClient* client() { return session_.client.get(); }
  // Where the client's tokens come from (null before the first pass connected).
  placement::TokenSource* tokens() { return session_.tokens.get(); }
  // Tests: runs after the tree was read and planned, before the first write
  // (where another writer, like nova-compute, can slip in).
  void set_before_write_hook(std::function<void()> hook) { before_write_ = std::move(hook); }
  // Tests: the wall clock (unix seconds) the usage readings and their schedule use.
  void set_clock(std::function<double()> clock) { clock_ = std::move(clock); }

 private:
  struct Snapshot;
  struct Applied;
  Result<bool> connect();
  Result<bool> find_root(const Inventory& host);
  Result<bool> find_root_by_name(const Inventory& host);
  std::optional<PassOutcome> check_compute_id_root(const std::vector<placement::Provider>& listed,
                                                   const Inventory& host);
  std::optional<PassOutcome> compute_id_gone(const Inventory& host);
  double now() const;
  void load_state_once(const std::string& compute_node);
  void save_resume_point();
  void rebuild_state(const placement::TreeState& tree);
  placement::Desired desired_for(const LoadedHost& host) const;
  bool unchanged_since_last(const std::map<std::string, int64_t>& generations, const placement::Desired& desired) const;
  Result<placement::TreeState> read_tree(const std::vector<placement::Provider>& listed,
                                         const placement::Desired& desired);
  bool root_traits_matter(const placement::Desired& desired) const;
  bool is_own_pool(const std::string& uuid, const std::string& name, const std::set<std::string>& traits) const;
  void take_readings(const placement::TreeState& tree);
  void note_written(const placement::Step& step, const std::string& answer);
  Result<bool> read_usages(const std::vector<std::string>& pools, bool check_generation);
  std::optional<PassOutcome> stand_in(const LoadedHost& host);
  HostObservation observe(const LoadedHost& host) const;
  std::set<std::string> notes_for(const std::vector<std::string>& excluded, const placement::Plan& plan,
                                  const LoadedHost& host);
  void print_plan(std::ostream& out, const std::string& host, const placement::Plan& plan,
                  const std::set<std::string>& notes) const;
  Applied apply(const placement::Plan& plan, std::map<std::string, int64_t>& generations,
                const std::function<bool()>& should_stop);
  void remember(const placement::Plan& plan, placement::Desired desired, std::map<std::string, int64_t> generations);
  PassOutcome reconcile(const LoadedHost& host, bool dry_run, std::ostream* plan_out,
                        const std::function<bool()>& should_stop);
  PassOutcome outcome_for(const Error& e, const std::string& what);
  PassOutcome pass_once(bool dry_run, std::ostream* plan_out, const std::function<bool()>& should_stop);

  AgentConfig config_;
  ReportSources sources_;
  Log& log_;
  PlacementSession session_;
  HostCache host_cache_;
  std::optional<std::string> root_uuid_;
  std::unique_ptr<Snapshot> last_;  // what the last successful pass left
  std::set<std::string> last_notes_;
  // Placement's values of each pool, by resource class, as last read or
  // written: what the metrics and `gpu-agent status` show.
  using Reading = PoolReading;
  std::map<std::string, Reading> readings_;
  AgentState state_;
  bool state_loaded_ = false;
  bool root_from_state_ = false;               // root_uuid_ came from the resume point, not a lookup by name
  bool rebuild_state_ = false;                 // state.json was unusable: rebuild it from the next full read
  bool state_dirty_ = false;                   // rebuilt: write it even if the plan owns the same
  TreeDue tree_due_ = TreeDue::first;          // whether and why this pass must read the tree
  bool tree_read_ = false;                     // this pass read the tree
  std::vector<std::string> usages_with_tree_;  // pools whose usages this pass reads after the tree GET
  bool root_from_compute_id_ = false;          // root_uuid_ came from nova's compute_id, not yet checked
  bool compute_id_distrusted_ = false;         // it named another provider: by name until a reload
  bool compute_id_said_ = false;               // its log line was written
  std::function<double()> clock_;
  std::function<void()> before_write_;
  std::function<bool()> should_stop_;  // this pass's; cancels the request in flight
};

}  // namespace gpu_agent
