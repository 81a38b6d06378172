#include <boost/test/unit_test.hpp>

#include "responses.h"

using namespace gpu_agent::placement;

BOOST_AUTO_TEST_SUITE(response_parsers)

// Bodies as placement 8.0.0 sent them (lab walkthrough).
const char* const kVersions =
    R"({"versions":[{"id":"v1.0","max_version":"1.39","min_version":"1.0","status":"CURRENT","links":[{"rel":"self","href":""}]}]})";
const char* const kChild =
    R"({"uuid":"aaaaaaaa-0000-0000-0000-000000000001","name":"compute-a_pci_0000_3b_00_0","generation":0,"links":[{"rel":"self","href":"/resource_providers/aaaaaaaa-0000-0000-0000-000000000001"}],"parent_provider_uuid":"aaaaaaaa-0000-0000-0000-000000000000","root_provider_uuid":"aaaaaaaa-0000-0000-0000-000000000000"})";
const char* const kInventories =
    R"({"resource_provider_generation":1,"inventories":{"VCPU":{"total":64,"reserved":0,"min_unit":1,"max_unit":2147483647,"step_size":1,"allocation_ratio":1},"MEMORY_MB":{"total":262144,"reserved":512,"min_unit":1,"max_unit":2147483647,"step_size":1,"allocation_ratio":1.5}}})";

BOOST_AUTO_TEST_CASE(versions) {
  auto v = parse::versions(kVersions);
  BOOST_TEST_REQUIRE(v.ok());
  BOOST_TEST(v->min.str() == "1.0");
  BOOST_TEST(v->max.str() == "1.39");
  for (const char* bad : {"", "[]", R"({"versions":[]})", R"({"versions":[{"min_version":"1.0"}]})",
                          R"({"versions":[{"min_version":"1.0","max_version":"latest"}]})", "<html>"}) {
    BOOST_TEST_CONTEXT(bad) { BOOST_TEST(!parse::versions(bad).ok()); }
  }
}

BOOST_AUTO_TEST_CASE(provider_and_list) {
  auto p = parse::provider(kChild);
  BOOST_TEST_REQUIRE(p.ok(), (p.ok() ? "" : p.error().message));
  BOOST_TEST(p->uuid == "aaaaaaaa-0000-0000-0000-000000000001");
  BOOST_TEST(p->name == "compute-a_pci_0000_3b_00_0");
  BOOST_TEST(p->generation == 0);
  BOOST_TEST_REQUIRE(p->parent_uuid.has_value());
  BOOST_TEST(*p->parent_uuid == "aaaaaaaa-0000-0000-0000-000000000000");
  BOOST_TEST(p->root_uuid == "aaaaaaaa-0000-0000-0000-000000000000");

  auto list = parse::providers(
      R"({"resource_providers":[{"uuid":"r","name":"root","generation":4,"parent_provider_uuid":null,"root_provider_uuid":"r"},)" +
      std::string(kChild) + "]}");
  BOOST_TEST_REQUIRE(list.ok());
  BOOST_TEST_REQUIRE(list->size() == 2u);
  BOOST_TEST(!(*list)[0].parent_uuid.has_value());
  BOOST_TEST((*list)[0].generation == 4);
  BOOST_TEST(parse::providers(R"({"resource_providers":[]})")->empty());

  auto bad = parse::providers(R"({"resource_providers":[{"uuid":"r","name":"root","generation":"4"}]})");
  BOOST_TEST_REQUIRE(!bad.ok());
  BOOST_TEST(bad.error().message.find("'generation'") != std::string::npos, bad.error().message);
}

BOOST_AUTO_TEST_CASE(inventories) {
  auto inv = parse::inventories(kInventories);
  BOOST_TEST_REQUIRE(inv.ok(), (inv.ok() ? "" : inv.error().message));
  BOOST_TEST(inv->generation == 1);
  BOOST_TEST_REQUIRE(inv->inventories.size() == 2u);
  const Inventory& mem = inv->inventories.at("MEMORY_MB");
  BOOST_TEST(mem.total == 262144);
  BOOST_TEST(mem.reserved == 512);
  BOOST_TEST(mem.max_unit == 2147483647);
  BOOST_TEST(mem.allocation_ratio == 1.5);
  BOOST_TEST((inv->inventories.at("VCPU") == Inventory{64, 0, 1, 2147483647, 1, 1.0}));
  auto empty = parse::inventories(R"({"resource_provider_generation":0,"inventories":{}})");
  BOOST_TEST_REQUIRE(empty.ok());
  BOOST_TEST(empty->inventories.empty());
  auto bad = parse::inventories(R"({"resource_provider_generation":0,"inventories":{"VCPU":{"total":1}}})");
  BOOST_TEST_REQUIRE(!bad.ok());
  BOOST_TEST(bad.error().message.find("inventory of VCPU") != std::string::npos, bad.error().message);
  BOOST_TEST(!parse::inventories(R"({"inventories":{}})").ok());
}

BOOST_AUTO_TEST_CASE(traits_usages_and_trait_list) {
  auto t = parse::provider_traits(R"({"traits":["CUSTOM_GPU_H100","COMPUTE_NODE"],"resource_provider_generation":2})");
  BOOST_TEST_REQUIRE(t.ok());
  BOOST_TEST(t->generation == 2);
  BOOST_TEST((t->traits == std::set<std::string>{"COMPUTE_NODE", "CUSTOM_GPU_H100"}));
  BOOST_TEST(!parse::provider_traits(R"({"traits":[1],"resource_provider_generation":2})").ok());

  auto u = parse::usages(R"({"resource_provider_generation":5,"usages":{"CUSTOM_PCI_10DE_2330":1,"VCPU":0}})");
  BOOST_TEST_REQUIRE(u.ok());
  BOOST_TEST(u->generation == 5);
  BOOST_TEST(u->usages.at("CUSTOM_PCI_10DE_2330") == 1);
  BOOST_TEST(!parse::usages(R"({"resource_provider_generation":5,"usages":{"VCPU":"1"}})").ok());

  auto names = parse::trait_names(R"({"traits":["CUSTOM_A","CUSTOM_B"]})");
  BOOST_TEST_REQUIRE(names.ok());
  BOOST_TEST(names->size() == 2u);
}

BOOST_AUTO_TEST_CASE(garbage_says_why) {
  auto r = parse::provider("{\"uuid\":");
  BOOST_TEST_REQUIRE(!r.ok());
  BOOST_TEST(r.error().message.find("not JSON") != std::string::npos, r.error().message);
  auto html = parse::provider("<html>oops</html>");
  BOOST_TEST_REQUIRE(!html.ok());
  BOOST_TEST(html.error().message.find("not JSON") != std::string::npos);
  BOOST_TEST(parse::provider("[1]").error().message.find("not a JSON object") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
