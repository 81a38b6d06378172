// Every typed call against the real Placement started by the global fixture.
// Each case makes its own providers (unique names, random UUIDs), so cases
// do not depend on each other; the last suite stops the server.
#include <boost/test/unit_test.hpp>

#include <cctype>
#include <fstream>
#include <string>

#include "lab.h"

using namespace gpu_agent::placement;

namespace {

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// The value of a Result, or the test stops with the call and its error.
#define REQUIRE_OK(expr)                                                                          \
  [&]() {                                                                                         \
    auto r_ = (expr);                                                                             \
    BOOST_TEST_REQUIRE(r_.ok(), #expr << ": " << (r_.ok() ? std::string() : r_.error().message)); \
    return std::move(*r_);                                                                        \
  }()

struct Tree {
  std::string root_uuid = lab::new_uuid();
  std::string child_uuid = lab::new_uuid();
  std::string root_name = lab::unique_name("it-compute");
  std::string child_name = root_name + "_CUSTOM_PGPU_10DE_2330";
};

}  // namespace

BOOST_AUTO_TEST_SUITE(real_placement)

BOOST_AUTO_TEST_CASE(negotiation_picks_1_39) {
  auto c = lab::client();
  const auto range = REQUIRE_OK(c->get_versions());
  BOOST_TEST(range.min.str() == "1.0");
  BOOST_TEST(range.max.str() == "1.39");
  BOOST_TEST(!c->microversion().has_value());
  BOOST_TEST(REQUIRE_OK(c->negotiate()).str() == "1.39");
  BOOST_TEST(c->microversion()->str() == "1.39");
  // The header is really sent: placement logs the microversion per request.
  const std::string name = lab::unique_name("it-version-probe");
  REQUIRE_OK(c->list_providers({name, std::nullopt}));
  const std::string log = lab::placement_log();
  const auto at = log.find("\"GET /resource_providers?name=" + name + "\" status: 200");
  BOOST_TEST_REQUIRE(at != std::string::npos, "placement.log lacks the request");
  const std::string line = log.substr(at, log.find('\n', at) - at);
  BOOST_TEST(contains(line, "microversion: 1.39"), line);
}

BOOST_AUTO_TEST_CASE(a_fresh_client_sends_no_get_root_and_a_406_names_placements_range) {
  auto c = lab::client();
  const std::string name = lab::unique_name("it-pinned");
  REQUIRE_OK(c->list_providers({name, std::nullopt}));
  BOOST_TEST(c->counters().requests == 1u);  // the request itself, at the pinned 1.39
  BOOST_TEST(c->microversion()->str() == "1.39");
  // What the client's 406 handling relies on, from this Placement itself: a
  // version it does not serve is refused with the range it does serve.
  const auto range = REQUIRE_OK(c->get_versions());
  auto res = c->http().request(
      "GET", "/resource_providers",
      {{"Accept", "application/json"}, {"X-Auth-Token", "admin"}, {"OpenStack-API-Version", "placement 1.999"}});
  BOOST_TEST_REQUIRE(res.ok());
  BOOST_TEST(res->status == 406);
  const auto api = parse_error_body(res->body);
  BOOST_TEST_REQUIRE(api.has_value(), res->body);
  BOOST_TEST(api->max_version == range.max.str());
  BOOST_TEST(api->min_version == range.min.str());
}

BOOST_AUTO_TEST_CASE(optimistic_writes_get_400_naming_the_missing_trait_or_class) {
  // What creations_for relies on, from this Placement itself.
  auto c = lab::client();
  const std::string suffix = std::to_string(::getpid()) + "_" + lab::new_uuid().substr(0, 8);
  std::string up = suffix;
  for (auto& ch : up) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  const std::string uuid = lab::new_uuid();
  const auto rp = REQUIRE_OK(c->create_provider(lab::unique_name("it-optimistic"), uuid));
  auto inv = c->put_inventories(uuid, rp.generation, {{"CUSTOM_IT_NOPE_" + up, Inventory{4, 0, 1, 4, 1, 1.0}}});
  BOOST_TEST_REQUIRE(!inv.ok());
  BOOST_TEST(inv.error().http_status == 400);
  BOOST_TEST(contains(inv.error().message, "CUSTOM_IT_NOPE_" + up), inv.error().message);
  auto tr = c->put_traits(uuid, rp.generation, {"CUSTOM_IT_NOPE_A_" + up, "CUSTOM_IT_NOPE_B_" + up, "COMPUTE_NODE"});
  BOOST_TEST_REQUIRE(!tr.ok());
  BOOST_TEST(tr.error().http_status == 400);
  BOOST_TEST(contains(tr.error().message, "CUSTOM_IT_NOPE_A_" + up), tr.error().message);
  BOOST_TEST(contains(tr.error().message, "CUSTOM_IT_NOPE_B_" + up), tr.error().message);
  // Refused before anything was written: the generation is the same.
  BOOST_TEST(REQUIRE_OK(c->get_traits(uuid)).generation == rp.generation);
}

BOOST_AUTO_TEST_CASE(trait_and_resource_class_are_created_once) {
  auto c = lab::client();
  const std::string suffix = std::to_string(::getpid());
  const std::string trait = "CUSTOM_GPU_AGENT_IT_" + suffix;
  const std::string rc = "CUSTOM_PGPU_IT_" + suffix;
  BOOST_TEST(REQUIRE_OK(c->ensure_trait(trait)) == true);   // 201
  BOOST_TEST(REQUIRE_OK(c->ensure_trait(trait)) == false);  // 204
  BOOST_TEST(REQUIRE_OK(c->ensure_resource_class(rc)) == true);
  BOOST_TEST(REQUIRE_OK(c->ensure_resource_class(rc)) == false);

  const auto custom = REQUIRE_OK(c->list_traits("startswith:CUSTOM_GPU_AGENT_IT_"));
  BOOST_TEST((std::find(custom.begin(), custom.end(), trait) != custom.end()));
  for (const auto& t : custom) BOOST_TEST(t.rfind("CUSTOM_GPU_AGENT_IT_", 0) == 0u, t);
  const auto all = REQUIRE_OK(c->list_traits());
  BOOST_TEST(all.size() > custom.size());  // os-traits' standard ones too
  BOOST_TEST((std::find(all.begin(), all.end(), "COMPUTE_DEVICE_TAGGING") != all.end()));

  auto bad = c->ensure_trait("NOT_CUSTOM_PREFIX");
  BOOST_TEST_REQUIRE(!bad.ok());
  BOOST_TEST(to_string(outcome_of(bad.error())) == "bad_request");
  BOOST_TEST(contains(bad.error().message, "PUT " + lab::placement_url() +
                                               "/traits/NOT_CUSTOM_PREFIX: 400 Bad Request: "
                                               "The trait is invalid."),
             bad.error().message);
  auto bad_rc = c->ensure_resource_class("CUSTOM_lowercase_bad");
  BOOST_TEST_REQUIRE(!bad_rc.ok());
  BOOST_TEST(contains(bad_rc.error().message, "does not match '^CUSTOM_[A-Z0-9_]+$'"), bad_rc.error().message);
}

BOOST_AUTO_TEST_CASE(root_and_child_then_duplicate_name) {
  auto c = lab::client();
  Tree t;
  const auto root = REQUIRE_OK(c->create_provider(t.root_name, t.root_uuid));
  BOOST_TEST(root.uuid == t.root_uuid);
  BOOST_TEST(root.name == t.root_name);
  BOOST_TEST(root.generation == 0);
  BOOST_TEST(!root.parent_uuid.has_value());
  BOOST_TEST(root.root_uuid == t.root_uuid);

  const auto child = REQUIRE_OK(c->create_provider(t.child_name, t.child_uuid, t.root_uuid));
  BOOST_TEST(child.parent_uuid.value_or("") == t.root_uuid);
  BOOST_TEST(child.root_uuid == t.root_uuid);

  const auto got = REQUIRE_OK(c->get_provider(t.child_uuid));
  BOOST_TEST(got.name == t.child_name);
  BOOST_TEST(got.parent_uuid.value_or("") == t.root_uuid);

  const auto by_name = REQUIRE_OK(c->list_providers({t.root_name, std::nullopt}));
  BOOST_TEST_REQUIRE(by_name.size() == 1u);
  BOOST_TEST(by_name[0].uuid == t.root_uuid);
  const auto tree = REQUIRE_OK(c->list_providers({std::nullopt, t.child_uuid}));
  BOOST_TEST(tree.size() == 2u);
  BOOST_TEST(REQUIRE_OK(c->list_providers({lab::unique_name("it-nobody"), std::nullopt})).empty());

  auto dup = c->create_provider(t.root_name, lab::new_uuid());
  BOOST_TEST_REQUIRE(!dup.ok());
  BOOST_TEST(to_string(outcome_of(dup.error())) == "duplicate_name");
  BOOST_TEST(dup.error().http_status == 409);
  BOOST_TEST(dup.error().message.find("POST " + lab::placement_url() +
                                      "/resource_providers: 409 Conflict (placement.duplicate_name): "
                                      "Conflicting resource provider name: " +
                                      t.root_name + " already exists. [req-") == 0u,
             dup.error().message);

  // A parent with children cannot go; the child can, then the parent.
  auto parent = c->delete_provider(t.root_uuid);
  BOOST_TEST_REQUIRE(!parent.ok());
  BOOST_TEST(to_string(outcome_of(parent.error())) == "conflict");
  BOOST_TEST(parent.error().api_code == "placement.resource_provider.cannot_delete_parent");
  REQUIRE_OK(c->delete_provider(t.child_uuid));
  REQUIRE_OK(c->delete_provider(t.root_uuid));
}

BOOST_AUTO_TEST_CASE(inventories_with_generations) {
  auto c = lab::client();
  const std::string rc = "CUSTOM_PGPU_IT_" + std::to_string(::getpid());
  REQUIRE_OK(c->ensure_resource_class(rc));
  const std::string uuid = lab::new_uuid();
  REQUIRE_OK(c->create_provider(lab::unique_name("it-inv"), uuid));

  const auto empty = REQUIRE_OK(c->get_inventories(uuid));
  BOOST_TEST(empty.generation == 0);
  BOOST_TEST(empty.inventories.empty());

  InventoryMap want;
  want[rc] = Inventory{8, 2, 1, 8, 1, 1.0};
  want["VCPU"] = Inventory{64, 4, 1, 16, 2, 4.5};
  const auto put = REQUIRE_OK(c->put_inventories(uuid, 0, want));
  BOOST_TEST(put.generation == 1);
  BOOST_TEST((put.inventories == want));
  const auto read = REQUIRE_OK(c->get_inventories(uuid));
  BOOST_TEST(read.generation == 1);
  BOOST_TEST((read.inventories == want));  // every field round-trips

  // reserved == total is allowed at >= 1.26 (a device out of scheduling).
  want[rc].reserved = 8;
  BOOST_TEST(REQUIRE_OK(c->put_inventories(uuid, 1, want)).generation == 2);

  auto stale = c->put_inventories(uuid, 1, want);
  BOOST_TEST_REQUIRE(!stale.ok());
  BOOST_TEST(to_string(outcome_of(stale.error())) == "conflict_generation");
  BOOST_TEST(contains(stale.error().message, "409 Conflict (placement.concurrent_update)"), stale.error().message);

  InventoryMap unknown;
  unknown["CUSTOM_NOT_CREATED_ANYWHERE"] = Inventory{1};
  auto bad = c->put_inventories(uuid, 2, unknown);
  BOOST_TEST_REQUIRE(!bad.ok());
  BOOST_TEST(to_string(outcome_of(bad.error())) == "bad_request");
  BOOST_TEST(contains(bad.error().message, "No such resource class CUSTOM_NOT_CREATED_ANYWHERE"), bad.error().message);

  const auto usages = REQUIRE_OK(c->get_usages(uuid));
  BOOST_TEST(usages.generation == 2);
  BOOST_TEST(usages.usages.at(rc) == 0);
  BOOST_TEST(usages.usages.at("VCPU") == 0);
  REQUIRE_OK(c->delete_provider(uuid));
}

BOOST_AUTO_TEST_CASE(traits_with_generations) {
  auto c = lab::client();
  const std::string mine = "CUSTOM_GPU_AGENT_MANAGED";
  const std::string model = "CUSTOM_GPU_IT_" + std::to_string(::getpid());
  REQUIRE_OK(c->ensure_trait(mine));
  REQUIRE_OK(c->ensure_trait(model));
  const std::string uuid = lab::new_uuid();
  REQUIRE_OK(c->create_provider(lab::unique_name("it-traits"), uuid));

  const auto none = REQUIRE_OK(c->get_traits(uuid));
  BOOST_TEST(none.generation == 0);
  BOOST_TEST(none.traits.empty());

  const auto put = REQUIRE_OK(c->put_traits(uuid, 0, {mine, model, "HW_GPU_API_VULKAN"}));
  BOOST_TEST(put.generation == 1);
  BOOST_TEST((put.traits == std::set<std::string>{"HW_GPU_API_VULKAN", mine, model}));
  // A PUT replaces the whole set.
  const auto replaced = REQUIRE_OK(c->put_traits(uuid, 1, {mine}));
  BOOST_TEST(replaced.generation == 2);
  BOOST_TEST((REQUIRE_OK(c->get_traits(uuid)).traits == std::set<std::string>{mine}));

  auto stale = c->put_traits(uuid, 1, {mine, model});
  BOOST_TEST_REQUIRE(!stale.ok());
  BOOST_TEST(to_string(outcome_of(stale.error())) == "conflict_generation");
  BOOST_TEST(contains(stale.error().message, "Resource provider's generation already changed"), stale.error().message);
  // The caller's recovery: read the generation again, then write.
  const auto fresh = REQUIRE_OK(c->get_traits(uuid));
  BOOST_TEST(REQUIRE_OK(c->put_traits(uuid, fresh.generation, {mine, model})).generation == 3);

  auto unknown = c->put_traits(uuid, 3, {"CUSTOM_NOT_CREATED_ANYWHERE"});
  BOOST_TEST_REQUIRE(!unknown.ok());
  BOOST_TEST(to_string(outcome_of(unknown.error())) == "bad_request");
  REQUIRE_OK(c->delete_provider(uuid));
}

BOOST_AUTO_TEST_CASE(in_use_inventory_and_provider) {
  auto c = lab::client();
  const std::string rc = "CUSTOM_PGPU_IT_" + std::to_string(::getpid());
  REQUIRE_OK(c->ensure_resource_class(rc));
  const std::string uuid = lab::new_uuid();
  REQUIRE_OK(c->create_provider(lab::unique_name("it-inuse"), uuid));
  InventoryMap inv;
  inv[rc] = Inventory{4, 0, 1, 4, 1, 1.0};
  REQUIRE_OK(c->put_inventories(uuid, 0, inv));

  // An allocation, as nova would make it (no typed call: the agent never allocates).
  const std::string consumer = lab::new_uuid();
  const Request allocate{
      "PUT", "/allocations/" + consumer,
      R"({"allocations":{")" + uuid + R"(":{"resources":{")" + rc +
          R"(":2}}},"project_id":"p","user_id":"u","consumer_generation":null,"consumer_type":"INSTANCE"})"};
  const auto res = REQUIRE_OK(c->execute(allocate));
  BOOST_TEST(res.status == 204);
  const auto usages = REQUIRE_OK(c->get_usages(uuid));
  BOOST_TEST(usages.usages.at(rc) == 2);
  BOOST_TEST(usages.generation == 2);  // the allocation bumped the provider generation

  // Dropping an in-use class: inventory in use.
  auto drop = c->put_inventories(uuid, 2, {});
  BOOST_TEST_REQUIRE(!drop.ok());
  BOOST_TEST(to_string(outcome_of(drop.error())) == "conflict_inuse");
  BOOST_TEST(drop.error().api_code == "placement.inventory.inuse");
  // Zed accepts total below usage (only a warning in its log).
  inv[rc].total = 1;
  inv[rc].max_unit = 1;
  BOOST_TEST(REQUIRE_OK(c->put_inventories(uuid, 2, inv)).inventories.at(rc).total == 1);
  // Deleting a provider with allocations: provider in use.
  auto del = c->delete_provider(uuid);
  BOOST_TEST_REQUIRE(!del.ok());
  BOOST_TEST(to_string(outcome_of(del.error())) == "conflict_inuse");
  BOOST_TEST(del.error().api_code == "placement.resource_provider.inuse");

  BOOST_TEST(REQUIRE_OK(c->execute({"DELETE", "/allocations/" + consumer, ""})).status == 204);
  REQUIRE_OK(c->delete_provider(uuid));
}

BOOST_AUTO_TEST_CASE(delete_then_not_found) {
  auto c = lab::client();
  const std::string uuid = lab::new_uuid();
  REQUIRE_OK(c->create_provider(lab::unique_name("it-gone"), uuid));
  REQUIRE_OK(c->delete_provider(uuid));
  auto get = c->get_provider(uuid);
  BOOST_TEST_REQUIRE(!get.ok());
  BOOST_TEST(to_string(outcome_of(get.error())) == "not_found");
  BOOST_TEST(get.error().message.find("GET " + lab::placement_url() + "/resource_providers/" + uuid +
                                      ": 404 Not Found: No resource provider with uuid " + uuid + " found [req-") == 0u,
             get.error().message);
  auto again = c->delete_provider(uuid);
  BOOST_TEST_REQUIRE(!again.ok());
  BOOST_TEST(to_string(outcome_of(again.error())) == "not_found");
  for (auto r : {c->get_inventories(uuid).ok(), c->get_traits(uuid).ok(), c->get_usages(uuid).ok()}) BOOST_TEST(!r);
}

BOOST_AUTO_TEST_CASE(missing_token_is_an_auth_error_after_one_refresh) {
  auto tokens = std::make_shared<lab::CountingToken>("");
  auto made = PlacementClient::create(lab::placement_url(), {}, tokens);
  BOOST_TEST_REQUIRE(made.ok());
  auto& c = **made;
  auto r = c.list_providers();
  BOOST_TEST_REQUIRE(!r.ok());
  BOOST_TEST(to_string(outcome_of(r.error())) == "unauthorized");
  BOOST_TEST(r.error().http_status == 401);
  BOOST_TEST(r.error().message == "authentication failed: GET " + lab::placement_url() +
                                      "/resource_providers: 401 Unauthorized (sent test token, refreshed once; "
                                      "check the [placement] auth settings)");
  BOOST_TEST(tokens->invalidated == 1);
  BOOST_TEST(tokens->fetched == 2);
  BOOST_TEST(c.counters().requests == 2u);  // the call twice (no GET / first)
  BOOST_TEST(c.counters().writes == 0u);
}

BOOST_AUTO_TEST_CASE(non_admin_token_is_forbidden) {
  auto c = lab::client("bob:someproject");
  auto r = c->list_providers();
  BOOST_TEST_REQUIRE(!r.ok());
  BOOST_TEST(to_string(outcome_of(r.error())) == "forbidden");
  BOOST_TEST(contains(r.error().message, "403 Forbidden: Policy does not allow placement:resource_providers:list"),
             r.error().message);
}

BOOST_AUTO_TEST_CASE(counters_and_connections_against_wsgiref) {
  auto c = lab::client();
  const std::string uuid = lab::new_uuid();
  REQUIRE_OK(c->create_provider(lab::unique_name("it-count"), uuid));  // POST (no GET / first)
  REQUIRE_OK(c->get_provider(uuid));                                   // GET
  REQUIRE_OK(c->put_traits(uuid, 0, {}));                              // PUT
  REQUIRE_OK(c->delete_provider(uuid));                                // DELETE
  BOOST_TEST(c->counters().requests == 4u);
  BOOST_TEST(c->counters().writes == 3u);
  // wsgiref speaks HTTP/1.0 and closes after every response: one connection
  // per request, and never a resend.
  BOOST_TEST(c->http().stats().connections == 4u);
  BOOST_TEST(c->http().stats().reused == 0u);
  BOOST_TEST(c->http().stats().resent == 0u);
}

BOOST_AUTO_TEST_SUITE_END()

// Runs last (declaration order): stops the shared server.
BOOST_AUTO_TEST_SUITE(real_placement_stopped)

BOOST_AUTO_TEST_CASE(script_is_idempotent_and_a_stopped_server_is_refused_quickly) {
  // start again while running: a no-op that prints the same URL
  const auto again = lab::placement_script("start " + lab::state_dir() + " 0");
  BOOST_TEST(again.status == 0, again.output);
  BOOST_TEST(again.output == lab::placement_url() + "\n");
  const auto status = lab::placement_script("status " + lab::state_dir());
  BOOST_TEST(status.status == 0);
  BOOST_TEST(status.output.rfind("running " + lab::placement_url() + " pid ", 0) == 0u, status.output);

  auto c = lab::client();
  REQUIRE_OK(c->negotiate());

  BOOST_TEST(lab::placement_script("stop " + lab::state_dir()).status == 0);
  BOOST_TEST(lab::placement_script("stop " + lab::state_dir()).status == 0);  // idempotent
  const auto stopped = lab::placement_script("status " + lab::state_dir());
  BOOST_TEST(stopped.status == 3);
  BOOST_TEST(stopped.output == "stopped\n");

  const auto start = std::chrono::steady_clock::now();
  auto r = c->list_providers();
  BOOST_TEST_REQUIRE(!r.ok());
  BOOST_TEST(r.error().message == "connect to " + lab::placement_url() + ": connection refused");
  BOOST_TEST(to_string(outcome_of(r.error())) == "unreachable");
  BOOST_TEST(lab::seconds_since(start) < 1.0);
}

BOOST_AUTO_TEST_CASE(script_says_what_to_install_when_placement_is_missing) {
  const std::string dir = lab::state_dir() + "/no-package";
  const auto r = lab::placement_script("start " + dir + " 0", "PLACEMENT_SERVER_MANAGE=/nonexistent/placement-manage");
  BOOST_TEST(r.status == 1);
  BOOST_TEST(contains(r.output, "python3-placement is not installed"), r.output);
  BOOST_TEST(contains(r.output, "run scripts/install-deps.sh"), r.output);
  BOOST_TEST(lab::placement_script("status " + dir).status == 3);
}

// Placement 16 (2026.2) ships no placement-api script: the launcher serves the WSGI
// application with scripts/placement_wsgi.py instead (here: this machine's Placement).
BOOST_AUTO_TEST_CASE(script_serves_the_wsgi_application_without_placement_api) {
  const std::string dir = lab::state_dir() + "/wsgi-runner";
  const auto r = lab::placement_script("start " + dir + " 0", "PLACEMENT_SERVER_API=/nonexistent/placement-api");
  BOOST_TEST_REQUIRE(r.status == 0, r.output);
  BOOST_TEST(contains(r.output, "http://127.0.0.1:"), r.output);
  const auto status = lab::placement_script("status " + dir);
  BOOST_TEST(status.status == 0, status.output);
  std::string pid, cmdline;
  std::getline(std::ifstream(dir + "/pid"), pid);
  std::getline(std::ifstream("/proc/" + pid + "/cmdline"), cmdline);
  BOOST_TEST(contains(cmdline, "placement_wsgi.py"), cmdline);
  BOOST_TEST(lab::placement_script("stop " + dir).status == 0);
  BOOST_TEST(lab::placement_script("status " + dir).status == 3);
}

BOOST_AUTO_TEST_SUITE_END()
