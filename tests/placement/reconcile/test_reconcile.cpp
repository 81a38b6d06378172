// The reconcile rules as data: current tree + desired pools -> plan.
#define BOOST_TEST_MODULE reconcile
#include <boost/test/unit_test.hpp>

#include <rapidjson/document.h>

#include "reconcile.h"
#include "uuid5.h"

using namespace gpu_agent::placement;
using gpu_agent::uuid5;

namespace {

const std::string kRoot = "11111111-2222-3333-4444-555555555555";
const std::string kRC = "CUSTOM_PGPU_10DE_20B2";

TreeState root_only(std::set<std::string> traits = {"COMPUTE_NODE"}) {
  TreeState t;
  ProviderState r;
  r.uuid = kRoot;
  r.name = "compute-0";
  r.generation = 7;
  r.traits = std::move(traits);
  r.inventories["VCPU"] = Inventory{64, 0, 1, 64, 1, 16.0};
  t.providers.push_back(r);
  return t;
}

Desired eight_gpus(int64_t assignable = 8) {
  Desired d;
  d.root_name = "compute-0";
  d.root_traits = {"CUSTOM_SHARE_GPU_XXX_HOST_LEVEL3"};
  DesiredPool p;
  p.key = "10de_20b2";
  p.resource_class = kRC;
  p.assignable = assignable;
  p.traits = {"CUSTOM_GPU_VENDOR_10DE", "CUSTOM_GPU_PRODUCT_10DE_20B2"};
  d.pools.push_back(p);
  return d;
}

// The tree as it is after the plan for `d` was applied on root_only().
TreeState applied(const Desired& d, int64_t used = 0) {
  TreeState t = root_only();
  t.providers[0].traits.insert(d.root_traits.begin(), d.root_traits.end());
  t.providers[0].generation += 1;
  ProviderState p;
  p.name = pool_provider_name(d.root_name, kRC);
  p.uuid = uuid5(p.name);
  p.parent_uuid = kRoot;
  p.generation = 2;
  p.inventories[kRC] = Inventory{d.pools[0].assignable, 0, 1, d.pools[0].assignable, 1, 1.0};
  p.traits = d.pools[0].traits;
  p.traits.insert(d.marker_trait);
  if (used) p.usages[kRC] = used;
  t.providers.push_back(p);
  return t;
}

rapidjson::Document json(const std::string& s) {
  rapidjson::Document d;
  d.Parse(s.c_str());
  BOOST_REQUIRE_MESSAGE(!d.HasParseError(), "body is not JSON: " << s);
  return d;
}

std::vector<std::string> lines(const Plan& p) {
  std::vector<std::string> out;
  for (const auto& s : p.steps) out.push_back(s.request.method + " " + s.request.path);
  return out;
}

}  // namespace

BOOST_AUTO_TEST_CASE(uuid5_matches_python_uuid_module) {
  // python3 -c "import uuid; print(uuid.uuid5(uuid.UUID('6b1f3e52-9a4d-4c8e-b021-7e553c901da7'), NAME))"
  BOOST_TEST(uuid5("compute-0:gpu-pool:CUSTOM_PGPU_10DE_20B2") == "b5831073-5cf3-5d97-9861-c54386b0aeda");
  BOOST_TEST(uuid5("") == "8a99b3b6-5b21-5bb5-9f12-e48b89f36008");
}

BOOST_AUTO_TEST_CASE(pool_names_are_bounded_and_stable) {
  BOOST_TEST(pool_provider_name("compute-0", kRC) == "compute-0:gpu-pool:" + kRC);
  const std::string long_root(250, 'h');
  const std::string a = pool_provider_name(long_root, kRC);
  BOOST_TEST(a.size() <= 200u);
  BOOST_TEST(a == pool_provider_name(long_root, kRC));
  BOOST_TEST(a.find(kRC) != std::string::npos);
  BOOST_TEST(a != pool_provider_name(std::string(249, 'h') + "x", kRC));
}

BOOST_AUTO_TEST_CASE(cold_start_creates_classes_traits_pool_inventory_and_host_traits_in_order) {
  Desired d = eight_gpus();
  Plan p = plan_reconcile(root_only(), d);
  const std::string pool_uuid = uuid5(pool_provider_name("compute-0", kRC));
  std::vector<std::string> expected{
      "PUT /resource_classes/" + kRC,
      "PUT /traits/CUSTOM_GPU_AGENT_MANAGED",
      "PUT /traits/CUSTOM_GPU_PRODUCT_10DE_20B2",
      "PUT /traits/CUSTOM_GPU_VENDOR_10DE",
      "PUT /traits/CUSTOM_SHARE_GPU_XXX_HOST_LEVEL3",
      "POST /resource_providers",
      "PUT /resource_providers/" + pool_uuid + "/inventories",
      "PUT /resource_providers/" + pool_uuid + "/traits",
      "PUT /resource_providers/" + kRoot + "/traits",
  };
  BOOST_TEST(lines(p) == expected, boost::test_tools::per_element());

  auto create = json(p.steps[5].request.body);
  BOOST_TEST(create["parent_provider_uuid"].GetString() == kRoot);
  BOOST_TEST(create["uuid"].GetString() == pool_uuid);
  auto inv = json(p.steps[6].request.body);
  BOOST_TEST(inv["resource_provider_generation"].GetInt64() == 0);  // a new provider starts at 0
  BOOST_TEST(inv["inventories"][kRC.c_str()]["total"].GetInt64() == 8);
  BOOST_TEST(inv["inventories"][kRC.c_str()]["max_unit"].GetInt64() == 8);
  BOOST_TEST(inv["inventories"][kRC.c_str()]["reserved"].GetInt64() == 0);
  auto traits = json(p.steps[7].request.body);
  BOOST_TEST(traits["resource_provider_generation"].GetInt64() == 1);  // after the inventory write
  auto root = json(p.steps[8].request.body);
  BOOST_TEST(root["resource_provider_generation"].GetInt64() == 7);
  std::set<std::string> root_traits;
  for (const auto& t : root["traits"].GetArray()) root_traits.insert(t.GetString());
  BOOST_TEST((root_traits == std::set<std::string>{"COMPUTE_NODE", "CUSTOM_SHARE_GPU_XXX_HOST_LEVEL3"}));
  BOOST_TEST(p.owned_traits.at(kRoot) == std::set<std::string>{"CUSTOM_SHARE_GPU_XXX_HOST_LEVEL3"});
}

BOOST_AUTO_TEST_CASE(steady_state_plans_nothing) {
  Desired d = eight_gpus();
  TreeState t = applied(d);
  d.owned_traits = plan_reconcile(root_only(), d).owned_traits;
  Plan p = plan_reconcile(t, d);
  BOOST_TEST(p.steps.empty(), "unexpected: " << (p.steps.empty() ? "" : describe(p.steps[0])));
}

BOOST_AUTO_TEST_CASE(gpu_leaving_while_allocated_keeps_total_and_reserves_the_rest) {
  Desired before = eight_gpus(8);
  TreeState t = applied(before, /*used=*/3);
  Desired after = eight_gpus(2);
  Plan p = plan_reconcile(t, after);
  BOOST_REQUIRE_EQUAL(p.steps.size(), 1u);
  auto inv = json(p.steps[0].request.body);
  BOOST_TEST(inv["inventories"][kRC.c_str()]["total"].GetInt64() == 3);
  BOOST_TEST(inv["inventories"][kRC.c_str()]["reserved"].GetInt64() == 1);
  BOOST_TEST(inv["resource_provider_generation"].GetInt64() == 2);

  Desired none = eight_gpus(0);
  Plan q = plan_reconcile(t, none);
  BOOST_REQUIRE_EQUAL(q.steps.size(), 1u);
  auto inv0 = json(q.steps[0].request.body);
  BOOST_TEST(inv0["inventories"][kRC.c_str()]["total"].GetInt64() == 3);
  BOOST_TEST(inv0["inventories"][kRC.c_str()]["reserved"].GetInt64() == 3);
}

BOOST_AUTO_TEST_CASE(unwanted_pool_is_deleted_only_when_nothing_is_allocated) {
  Desired d = eight_gpus();
  TreeState t = applied(d);
  Desired empty = d;
  empty.pools.clear();
  Plan p = plan_reconcile(t, empty);
  BOOST_REQUIRE_EQUAL(p.steps.size(), 1u);
  BOOST_TEST(p.steps[0].request.method == "DELETE");
  BOOST_TEST(p.steps[0].request.path == "/resource_providers/" + t.providers[1].uuid);

  TreeState used = applied(d, 2);
  Plan q = plan_reconcile(used, empty);
  for (const auto& s : q.steps) BOOST_TEST(s.request.method != "DELETE");
  BOOST_TEST(!q.notes.empty());
}

BOOST_AUTO_TEST_CASE(foreign_traits_and_providers_are_never_touched) {
  Desired d = eight_gpus();
  TreeState t = applied(d);
  t.providers[0].traits.insert("CUSTOM_FROM_NOVA_PROVIDER_YAML");
  ProviderState foreign;
  foreign.uuid = "99999999-0000-0000-0000-000000000001";
  foreign.name = "compute-0_pci_0000_84_00_0";
  foreign.parent_uuid = kRoot;
  foreign.traits = {"CUSTOM_SOMEONE_ELSE"};
  t.providers.push_back(foreign);
  d.owned_traits = {{kRoot, d.root_traits}};
  Desired empty = d;
  empty.pools.clear();
  Plan p = plan_reconcile(t, empty);
  for (const auto& s : p.steps) BOOST_TEST(s.request.path.find(foreign.uuid) == std::string::npos);
}

BOOST_AUTO_TEST_CASE(trait_removed_from_config_is_removed_but_only_if_ours) {
  Desired d = eight_gpus();
  TreeState t = applied(d);
  t.providers[0].traits.insert("CUSTOM_ADDED_BY_OPERATOR");
  Desired next = d;
  next.root_traits.clear();
  next.owned_traits = {{kRoot, {"CUSTOM_SHARE_GPU_XXX_HOST_LEVEL3"}}};
  Plan p = plan_reconcile(t, next);
  BOOST_REQUIRE_EQUAL(p.steps.size(), 1u);
  auto body = json(p.steps[0].request.body);
  std::set<std::string> traits;
  for (const auto& x : body["traits"].GetArray()) traits.insert(x.GetString());
  BOOST_TEST((traits == std::set<std::string>{"COMPUTE_NODE", "CUSTOM_ADDED_BY_OPERATOR"}));

  // Without a record of owning it (state lost), the agent only adds, never removes.
  next.owned_traits.clear();
  BOOST_TEST(plan_reconcile(t, next).steps.empty());
}

BOOST_AUTO_TEST_CASE(a_foreign_provider_with_the_pool_name_is_reported_not_overwritten) {
  Desired d = eight_gpus();
  TreeState t = root_only();
  ProviderState squatter;
  squatter.uuid = "99999999-0000-0000-0000-000000000002";
  squatter.name = pool_provider_name("compute-0", kRC);
  squatter.parent_uuid = kRoot;
  t.providers.push_back(squatter);
  Plan p = plan_reconcile(t, d);
  for (const auto& s : p.steps) BOOST_TEST(s.request.method != "POST");
  BOOST_REQUIRE(!p.notes.empty());
  BOOST_TEST(p.notes[0].find("taken by " + squatter.uuid) != std::string::npos);
}

BOOST_AUTO_TEST_CASE(nova_reported_pci_devices_are_detected_by_name_and_trait) {
  TreeState t = root_only();
  ProviderState a, b;
  a.uuid = "a";
  a.name = "compute-0_0000:3B:00.0";
  a.parent_uuid = kRoot;
  a.traits = {kNovaManagedTrait};
  b.uuid = "b";
  b.name = "compute-0_0000:86:00.0";  // no trait: not nova's PCI reporting
  b.parent_uuid = kRoot;
  t.providers.push_back(a);
  t.providers.push_back(b);
  BOOST_TEST(nova_managed_addresses(t, "compute-0") == std::set<std::string>{"0000:3b:00.0"});
}

// vGPU: nova's pGPU providers are decorated, never owned.
namespace {

TreeState with_pgpus(std::set<std::string> traits_of_first = {}) {
  TreeState t = root_only();
  for (const char* vf : {"compute-0_pci_0000_41_00_4", "compute-0_pci_0000_41_00_5"}) {
    ProviderState p;
    p.name = vf;
    p.uuid = uuid5(p.name);
    p.parent_uuid = kRoot;
    p.generation = 3;
    p.inventories["VGPU"] = Inventory{1, 0, 1, 1, 1, 1.0};
    t.providers.push_back(p);
  }
  t.providers[1].traits = std::move(traits_of_first);
  return t;
}

Desired vgpu_only(std::set<std::string> traits) {
  Desired d;
  d.root_name = "compute-0";
  for (const char* vf : {"compute-0_pci_0000_41_00_4", "compute-0_pci_0000_41_00_5", "compute-0_pci_0000_41_00_6"})
    d.decorations[vf] = traits;
  return d;
}

}  // namespace

BOOST_AUTO_TEST_CASE(pgpu_providers_get_the_layout_traits_and_keep_everyone_elses) {
  TreeState t = with_pgpus({"CUSTOM_NOVA_SET_THIS"});
  Plan plan = plan_reconcile(t, vgpu_only({"CUSTOM_VGPU_A40_24Q", "CUSTOM_TENANT_GOLD"}));
  size_t trait_writes = 0, ensures = 0;
  for (const auto& s : plan.steps) {
    BOOST_TEST((s.kind == Step::Kind::put_traits || s.kind == Step::Kind::ensure_trait));
    if (s.kind == Step::Kind::ensure_trait) ++ensures;
    if (s.kind != Step::Kind::put_traits) continue;
    ++trait_writes;
    const std::string body = s.request.body;
    BOOST_TEST(body.find("CUSTOM_VGPU_A40_24Q") != std::string::npos);
    if (s.provider_uuid == t.providers[1].uuid) BOOST_TEST(body.find("CUSTOM_NOVA_SET_THIS") != std::string::npos);
  }
  BOOST_TEST(trait_writes == 2u);  // the third VF has no provider of nova's
  BOOST_TEST(ensures == 2u);       // the two traits, and no marker trait on a host without pools
  BOOST_TEST_REQUIRE(plan.notes.size() == 1u);
  BOOST_TEST(plan.notes[0].find("1 of 3 vGPU parent devices have no provider") != std::string::npos, plan.notes[0]);
  BOOST_TEST(plan.owned_traits.at(t.providers[1].uuid).count("CUSTOM_TENANT_GOLD") == 1u);
}

// nova 2023.2+ with max_instances makes providers only for the parents the capacity fills:
// fewer providers than parents is then normal, and the note says so instead of warning.
BOOST_AUTO_TEST_CASE(missing_pgpu_providers_are_normal_within_max_instances) {
  TreeState t = with_pgpus({});
  Desired d = vgpu_only({"CUSTOM_VGPU_A40_24Q"});
  d.decorations_needed = 2;  // the two providers nova made
  Plan plan = plan_reconcile(t, d);
  BOOST_TEST_REQUIRE(plan.notes.size() == 1u);
  BOOST_TEST(plan.notes[0].find("nova has a provider for 2 of 3 vGPU parent devices") != std::string::npos,
             plan.notes[0]);
  BOOST_TEST(plan.notes[0].find("max_instances") != std::string::npos, plan.notes[0]);
  d.decorations_needed = 3;  // nova should have made all three: the warning
  plan = plan_reconcile(t, d);
  BOOST_TEST_REQUIRE(plan.notes.size() == 1u);
  BOOST_TEST(plan.notes[0].find("1 of 3 vGPU parent devices have no provider") != std::string::npos, plan.notes[0]);
}

BOOST_AUTO_TEST_CASE(a_trait_the_layout_dropped_is_removed_nova_s_are_not) {
  TreeState t = with_pgpus({"CUSTOM_NOVA_SET_THIS", "CUSTOM_VGPU_A40_24Q", "CUSTOM_TENANT_GOLD"});
  Desired d = vgpu_only({"CUSTOM_VGPU_A40_24Q"});
  d.owned_traits[t.providers[1].uuid] = {"CUSTOM_VGPU_A40_24Q", "CUSTOM_TENANT_GOLD"};
  Plan plan = plan_reconcile(t, d);
  bool wrote_first = false;
  for (const auto& s : plan.steps) {
    if (s.kind != Step::Kind::put_traits || s.provider_uuid != t.providers[1].uuid) continue;
    wrote_first = true;
    BOOST_TEST(s.request.body.find("CUSTOM_TENANT_GOLD") == std::string::npos);
    BOOST_TEST(s.request.body.find("CUSTOM_NOVA_SET_THIS") != std::string::npos);
  }
  BOOST_TEST(wrote_first);
  // the layout gone entirely: only what the agent set is taken back, and the inventory is never written
  Desired none;
  none.root_name = "compute-0";
  none.owned_traits = d.owned_traits;
  Plan gone = plan_reconcile(t, none);
  for (const auto& s : gone.steps) {
    BOOST_TEST((s.kind == Step::Kind::put_traits));
    BOOST_TEST(s.request.body.find("CUSTOM_NOVA_SET_THIS") != std::string::npos);
    BOOST_TEST(s.request.body.find("CUSTOM_VGPU_A40_24Q") == std::string::npos);
  }
  BOOST_TEST(gone.steps.size() == 1u);
}

namespace {

const Step* first_of(const Plan& plan, Step::Kind kind) {
  for (const auto& s : plan.steps)
    if (s.kind == kind) return &s;
  return nullptr;
}

std::vector<std::string> paths(const std::vector<Step>& steps) {
  std::vector<std::string> out;
  for (const auto& s : steps) out.push_back(s.request.method + " " + s.request.path);
  return out;
}

}  // namespace

BOOST_AUTO_TEST_CASE(a_write_refused_for_lacking_traits_creates_the_ones_it_names_and_carries) {
  const Plan plan = plan_reconcile(root_only(), eight_gpus());
  const Step* traits = nullptr;
  for (const auto& s : plan.steps)
    if (s.kind == Step::Kind::put_traits && s.provider_uuid != kRoot) traits = &s;
  BOOST_TEST_REQUIRE(traits != nullptr);
  // Placement's detail, as it words it (placement 8.0 to 16.0)
  const auto made = creations_for(
      *traits,
      "PUT /resource_providers/U/traits: 400 Bad Request: No such trait CUSTOM_GPU_VENDOR_10DE, "
      "CUSTOM_GPU_AGENT_MANAGED, CUSTOM_NOT_IN_THIS_WRITE",
      plan);
  BOOST_TEST((paths(made) ==
              std::vector<std::string>{"PUT /traits/CUSTOM_GPU_AGENT_MANAGED", "PUT /traits/CUSTOM_GPU_VENDOR_10DE"}));
  for (const auto& m : made) BOOST_TEST((m.kind == Step::Kind::ensure_trait));
  // A prefix of a carried name is not that name.
  BOOST_TEST(creations_for(*traits, "No such trait CUSTOM_GPU_VENDOR_10DE_X", plan).size() == 3u);
}

BOOST_AUTO_TEST_CASE(a_refusal_that_names_nothing_falls_back_to_the_plans_ensure_steps_for_what_the_write_carries) {
  const Plan plan = plan_reconcile(root_only(), eight_gpus());
  const Step* inv = first_of(plan, Step::Kind::put_inventories);
  BOOST_TEST_REQUIRE(inv != nullptr);
  const auto made = creations_for(*inv, "400 Bad Request: some other wording", plan);
  BOOST_TEST((paths(made) == std::vector<std::string>{"PUT /resource_classes/" + kRC}));
  const auto named = creations_for(
      *inv, "Unknown resource class in inventory for resource provider U: No such resource class " + kRC + ".", plan);
  BOOST_TEST((paths(named) == std::vector<std::string>{"PUT /resource_classes/" + kRC}));
  BOOST_TEST((named[0].kind == Step::Kind::ensure_resource_class));
}

BOOST_AUTO_TEST_CASE(only_inventory_and_trait_writes_are_retried_after_creating) {
  const Plan plan = plan_reconcile(root_only(), eight_gpus());
  const Step* create = first_of(plan, Step::Kind::create_provider);
  BOOST_TEST_REQUIRE(create != nullptr);
  BOOST_TEST(creations_for(*create, "No such trait CUSTOM_GPU_AGENT_MANAGED", plan).empty());
  // Nothing the plan would create and nothing named: not such a refusal.
  const Plan steady = plan_reconcile(applied(eight_gpus()), eight_gpus());
  Step put = *first_of(plan, Step::Kind::put_inventories);
  BOOST_TEST(creations_for(put, "400 Bad Request: bad inventory", steady).empty());
}
