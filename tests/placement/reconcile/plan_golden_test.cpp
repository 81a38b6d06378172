// A dry-run plan a person can review: one representative tree and config,
// the plan printed as `--dry-run` prints it (agent/daemon/report.cpp: the
// compute node line, describe() of every step, then the notes, sorted and
// once each), compared with tests/data/golden/plan/dry-run-basic.txt.
// GPU_AGENT_REGENERATE=1 rewrites the golden file.
//
// The tree (compute-0, as nova and an earlier agent pass left it):
//   root           COMPUTE_NODE, CUSTOM_RACK_B12 (the operator's), CUSTOM_GPU_HOST_LEVEL1
//                  (set by the agent before, no longer in its config)
//   nova's child   compute-0_0000:3B:00.0, nova's own PCI provider: never touched
//   20B5 pool      4 GPUs, now 6 assignable                 -> total 6
//   20B2 pool      8 GPUs, 3 allocated, now 2 assignable    -> total 3, reserved 1, a note
//   1EB8 pool      agent-owned, no longer configured, idle  -> deleted
//   2330 pool      new class, new product trait              -> created
#include <boost/test/unit_test.hpp>

#include <set>
#include <sstream>
#include <string>

#include "reconcile.h"
#include "text_file.h"
#include "uuid5.h"

using namespace gpu_agent::placement;
using gpu_agent::uuid5;
using gpu_agent::testing::check_golden;

namespace {

const std::string kData = GPU_AGENT_TEST_DATA;
const std::string kRoot = "4a7d2c1e-8b3f-4e6a-9d0c-5f1e2b3a4c5d";
const std::string kNode = "compute-0";
const std::string kMarker = "CUSTOM_GPU_AGENT_MANAGED";

Inventory pool_inventory(int64_t total, int64_t reserved = 0) { return Inventory{total, reserved, 1, total, 1, 1.0}; }

ProviderState pool(const std::string& rc, int64_t generation, Inventory inv, int64_t used) {
  ProviderState p;
  p.name = pool_provider_name(kNode, rc);
  p.uuid = uuid5(p.name);
  p.parent_uuid = kRoot;
  p.generation = generation;
  p.inventories[rc] = inv;
  p.traits = {kMarker, "CUSTOM_GPU_VENDOR_10DE", "CUSTOM_GPU_PRODUCT_10DE_" + rc.substr(rc.size() - 4)};
  if (used) p.usages[rc] = used;
  return p;
}

DesiredPool desired_pool(const std::string& key, const std::string& rc, int64_t assignable) {
  DesiredPool p;
  p.key = key;
  p.resource_class = rc;
  p.assignable = assignable;
  p.traits = {"CUSTOM_GPU_VENDOR_10DE", "CUSTOM_GPU_PRODUCT_10DE_" + rc.substr(rc.size() - 4)};
  return p;
}

TreeState current_tree() {
  TreeState t;
  ProviderState root;
  root.uuid = kRoot;
  root.name = kNode;
  root.generation = 12;
  root.traits = {"COMPUTE_NODE", "HW_CPU_X86_AVX2", "CUSTOM_RACK_B12", "CUSTOM_GPU_HOST_LEVEL1"};
  root.inventories["VCPU"] = Inventory{64, 0, 1, 64, 1, 16.0};
  root.inventories["MEMORY_MB"] = Inventory{515072, 4096, 1, 515072, 1, 1.5};
  t.providers.push_back(root);

  ProviderState nova_pci;  // [pci] report_in_placement: nova's, not the agent's
  nova_pci.uuid = "9e8d7c6b-5a49-4382-b1a0-f9e8d7c6b5a4";
  nova_pci.name = kNode + "_0000:3B:00.0";
  nova_pci.parent_uuid = kRoot;
  nova_pci.generation = 3;
  nova_pci.traits = {kNovaManagedTrait, "CUSTOM_NOVA_PCI_T4"};
  nova_pci.inventories["CUSTOM_NOVA_PCI_T4"] = pool_inventory(1);
  t.providers.push_back(nova_pci);

  t.providers.push_back(pool("CUSTOM_PGPU_10DE_20B5", 4, pool_inventory(4), 1));  // grows
  t.providers.push_back(pool("CUSTOM_PGPU_10DE_20B2", 9, pool_inventory(8), 3));  // shrinks under use
  t.providers.push_back(pool("CUSTOM_PGPU_10DE_1EB8", 2, pool_inventory(2), 0));  // left the config
  return t;
}

Desired desired_config(const TreeState& current) {
  Desired d;
  d.root_name = kNode;
  d.marker_trait = kMarker;
  d.root_traits = {"CUSTOM_GPU_HOST_LEVEL2"};
  d.pools.push_back(desired_pool("a100-80g", "CUSTOM_PGPU_10DE_20B5", 6));
  d.pools.push_back(desired_pool("a100-sxm", "CUSTOM_PGPU_10DE_20B2", 2));
  d.pools.push_back(desired_pool("h100", "CUSTOM_PGPU_10DE_2330", 4));
  // The state file: what the agent set on each provider on its last pass.
  d.owned_traits[kRoot] = {"CUSTOM_GPU_HOST_LEVEL1"};
  for (const auto& p : current.providers)
    if (p.traits.count(kMarker)) d.owned_traits[p.uuid] = p.traits;
  return d;
}

// As `gpu-agent report --dry-run` prints it, less the negotiated microversion.
std::string dry_run_text(const TreeState& tree, const Plan& plan) {
  std::ostringstream out;
  out << "# compute node " << tree.root()->name << " (" << tree.root()->uuid << ")\n";
  if (plan.steps.empty()) out << "# no changes: placement matches this host\n";
  for (const auto& s : plan.steps) out << describe(s) << "\n";
  for (const auto& n : std::set<std::string>(plan.notes.begin(), plan.notes.end())) out << "# note: " << n << "\n";
  return out.str();
}

}  // namespace

BOOST_AUTO_TEST_CASE(dry_run_plan_matches_the_golden_file) {
  const TreeState tree = current_tree();
  const Plan plan = plan_reconcile(tree, desired_config(tree));

  // What the golden file must show, checked here so a regenerated file that
  // lost a step does not pass unnoticed.
  std::multiset<Step::Kind> kinds;
  for (const auto& s : plan.steps) kinds.insert(s.kind);
  BOOST_TEST(kinds.count(Step::Kind::ensure_resource_class) == 1u);  // CUSTOM_PGPU_10DE_2330
  BOOST_TEST(kinds.count(Step::Kind::ensure_trait) == 2u);           // its product trait, the host trait
  BOOST_TEST(kinds.count(Step::Kind::create_provider) == 1u);
  BOOST_TEST(kinds.count(Step::Kind::put_inventories) == 3u);  // 20B5 grows, 20B2 shrinks, 2330 new
  BOOST_TEST(kinds.count(Step::Kind::put_traits) == 2u);       // the new pool, the root
  BOOST_TEST(kinds.count(Step::Kind::delete_provider) == 1u);  // 1EB8
  BOOST_TEST(plan.shrinking);
  for (const auto& s : plan.steps) BOOST_TEST(s.provider_uuid != tree.providers[1].uuid, describe(s));  // nova's

  const std::string diff = check_golden(kData + "/golden/plan/dry-run-basic.txt", dry_run_text(tree, plan));
  BOOST_TEST(diff.empty(), diff);
}
