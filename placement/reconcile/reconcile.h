#pragma once
// Reconcile as data: current tree + desired pools -> an ordered plan of
// requests. Pure: no I/O, so every rule is a unit test, and --dry-run prints
// exactly what --once would send.
//
// Rules (ARCHITECTURE.md, "The placement model, and why"):
// * the root is nova's compute node provider: never created, deleted or renamed;
// * pools are children of the root with name-based UUIDs and the marker trait;
//   only providers with the marker, in this tree, are ever deleted;
// * traits are merged: a trait the agent did not set is never removed, a trait
//   it set before and that left the config is removed;
// * a pool that lost devices in use keeps total = max(assignable, used) and
//   reserved = total - assignable: nothing new lands, nothing in use is orphaned;
// * resource classes and traits are created before use, parents before children.
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "provider_tree.h"
#include "requests.h"

namespace gpu_agent::placement {

inline constexpr const char* kNovaManagedTrait = "COMPUTE_MANAGED_PCI_DEVICE";
inline constexpr const char* kOwnerNovaTrait = "OWNER_NOVA";

struct DesiredPool {
  std::string resource_class;        // CUSTOM_PGPU_10DE_2330
  int64_t assignable = 0;            // devices that can take guests now
  std::set<std::string> traits;      // without the marker
  std::vector<std::string> devices;  // PCI addresses, for messages
  std::string key;                   // the operator's pool name, for messages
};

struct Desired {
  std::string root_name;
  std::string marker_trait = "CUSTOM_GPU_AGENT_MANAGED";
  std::set<std::string> root_traits;  // host-level traits wanted on the root
  std::vector<DesiredPool> pools;
  // Providers of nova's (its vGPU pGPU providers, by name) that the agent only adds
  // traits to: their inventory and nova's own traits are never touched.
  std::map<std::string, std::set<std::string>> decorations;
  // How many of them nova makes a provider for at least: with [mdev_<type>] max_instances
  // (nova 2023.2+) only as many parents as the layouts' capacity fills. 0: all of them.
  size_t decorations_needed = 0;
  // Traits the agent itself set on each provider (uuid -> traits), from its
  // state file; only these may be removed when they leave the config.
  std::map<std::string, std::set<std::string>> owned_traits;
};

struct Step {
  enum class Kind {
    ensure_resource_class,
    ensure_trait,
    create_provider,
    put_inventories,
    put_traits,
    delete_provider
  };
  Kind kind;
  Request request;
  std::string provider_uuid;  // the provider whose generation the body carries, if any
  std::string why;            // one line for the log and --dry-run
};

struct Plan {
  std::vector<Step> steps;
  std::vector<std::string> notes;  // things the operator should know (skipped pools, kept in-use pools)
  // What the agent owns after the plan is applied (for the state file).
  std::map<std::string, std::set<std::string>> owned_traits;
  // Some pool serves allocations beyond what is assignable: its inventory
  // follows usage, which placement does not reflect in generations when an
  // allocation is deleted, so the next pass must read usages again.
  bool shrinking = false;
  size_t writes() const { return steps.size(); }
};

// "<root>:gpu-pool:<CLASS>", at most 200 characters (long roots are shortened with a hash).
std::string pool_provider_name(const std::string& root_name, const std::string& resource_class);

// PCI addresses ("0000:3b:00.0") nova reports itself with [pci] report_in_placement:
// children named "<root>_<ADDR upper>" carrying COMPUTE_MANAGED_PCI_DEVICE.
std::set<std::string> nova_managed_addresses(const TreeState& tree, const std::string& root_name);

// current.root() must be the compute node provider.
Plan plan_reconcile(const TreeState& current, const Desired& desired);

// Optimistic creation. The plan's ensure_resource_class and ensure_trait steps
// are not sent up front: in a fleet only the first node's writes need them.
// When Placement refuses a write with 400 because it lacks a custom trait or
// resource class (detail "No such trait CUSTOM_A, CUSTOM_B", "No such resource
// class CUSTOM_X"), these are the steps that create them (idempotent PUTs)
// before the write is sent again: the CUSTOM_ names of the kind the write
// carries that the error names, else, when it names none, the plan's ensure
// steps for names the write carries. Empty: not such a refusal.
std::vector<Step> creations_for(const Step& refused, std::string_view error, const Plan& plan);

std::string describe(const Step& s);  // "PUT /resource_providers/U/inventories {...}\n    # why"

}  // namespace gpu_agent::placement
