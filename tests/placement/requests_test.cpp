#include <boost/test/unit_test.hpp>

#include "requests.h"

using namespace gpu_agent::placement;

BOOST_AUTO_TEST_SUITE(request_builders)

const char* const kRoot = "aaaaaaaa-0000-0000-0000-000000000000";
const char* const kChild = "aaaaaaaa-0000-0000-0000-000000000001";

struct BuilderCase {
  const char* what;
  Request built;
  Request expected;
};

BOOST_AUTO_TEST_CASE(each_call_is_method_path_body) {
  InventoryMap inv;
  inv["CUSTOM_PGPU_10DE_2330"] = Inventory{8, 1, 1, 8, 1, 1.0};
  inv["VCPU"] = Inventory{64, 0, 1, 64, 1, 16.0};
  const BuilderCase cases[] = {
      {"versions", requests::get_versions(), {"GET", "/", ""}},
      {"all providers", requests::list_providers(), {"GET", "/resource_providers", ""}},
      {"by name",
       requests::list_providers({"compute-0", std::nullopt}),
       {"GET", "/resource_providers?name=compute-0", ""}},
      {"name is encoded",
       requests::list_providers({"compute 0&x=y", std::nullopt}),
       {"GET", "/resource_providers?name=compute%200%26x%3Dy", ""}},
      {"in tree",
       requests::list_providers({std::nullopt, kRoot}),
       {"GET", std::string("/resource_providers?in_tree=") + kRoot, ""}},
      {"name and tree",
       requests::list_providers({"n", kRoot}),
       {"GET", std::string("/resource_providers?name=n&in_tree=") + kRoot, ""}},
      {"get provider", requests::get_provider(kChild), {"GET", std::string("/resource_providers/") + kChild, ""}},
      {"create root",
       requests::create_provider("compute-0", kRoot),
       {"POST", "/resource_providers", std::string(R"({"name":"compute-0","uuid":")") + kRoot + R"("})"}},
      {"create child",
       requests::create_provider("compute-0_CUSTOM_PGPU_10DE_2330", kChild, std::string(kRoot)),
       {"POST", "/resource_providers",
        std::string(R"({"name":"compute-0_CUSTOM_PGPU_10DE_2330","uuid":")") + kChild +
            R"(","parent_provider_uuid":")" + kRoot + R"("})"}},
      {"name with quotes is JSON-escaped",
       requests::create_provider("a\"b\\c", kRoot),
       {"POST", "/resource_providers", std::string(R"({"name":"a\"b\\c","uuid":")") + kRoot + R"("})"}},
      {"delete", requests::delete_provider(kChild), {"DELETE", std::string("/resource_providers/") + kChild, ""}},
      {"get inventories",
       requests::get_inventories(kChild),
       {"GET", std::string("/resource_providers/") + kChild + "/inventories", ""}},
      {"put inventories",
       requests::put_inventories(kChild, 3, inv),
       {"PUT", std::string("/resource_providers/") + kChild + "/inventories",
        R"({"resource_provider_generation":3,"inventories":{)"
        R"("CUSTOM_PGPU_10DE_2330":{"total":8,"reserved":1,"min_unit":1,"max_unit":8,"step_size":1,"allocation_ratio":1.0},)"
        R"("VCPU":{"total":64,"reserved":0,"min_unit":1,"max_unit":64,"step_size":1,"allocation_ratio":16.0}}})"}},
      {"put no inventories",
       requests::put_inventories(kChild, 0, {}),
       {"PUT", std::string("/resource_providers/") + kChild + "/inventories",
        R"({"resource_provider_generation":0,"inventories":{}})"}},
      {"get traits",
       requests::get_traits(kChild),
       {"GET", std::string("/resource_providers/") + kChild + "/traits", ""}},
      {"put traits (sorted)",
       requests::put_traits(kChild, 7, {"CUSTOM_Z", "CUSTOM_GPU_AGENT_MANAGED", "HW_GPU_API_VULKAN"}),
       {"PUT", std::string("/resource_providers/") + kChild + "/traits",
        R"({"resource_provider_generation":7,"traits":["CUSTOM_GPU_AGENT_MANAGED","CUSTOM_Z","HW_GPU_API_VULKAN"]})"}},
      {"put no traits",
       requests::put_traits(kChild, 1, {}),
       {"PUT", std::string("/resource_providers/") + kChild + "/traits",
        R"({"resource_provider_generation":1,"traits":[]})"}},
      {"usages", requests::get_usages(kChild), {"GET", std::string("/resource_providers/") + kChild + "/usages", ""}},
      {"trait", requests::ensure_trait("CUSTOM_GPU_H100"), {"PUT", "/traits/CUSTOM_GPU_H100", ""}},
      {"a bad trait name cannot escape the path",
       requests::ensure_trait("../resource_providers"),
       {"PUT", "/traits/..%2Fresource_providers", ""}},
      {"resource class",
       requests::ensure_resource_class("CUSTOM_PGPU_10DE_2330"),
       {"PUT", "/resource_classes/CUSTOM_PGPU_10DE_2330", ""}},
      {"all traits", requests::list_traits(), {"GET", "/traits", ""}},
      {"custom traits", requests::list_traits("startswith:CUSTOM_"), {"GET", "/traits?name=startswith%3ACUSTOM_", ""}},
  };
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT(c.what) {
      BOOST_TEST(c.built.method == c.expected.method);
      BOOST_TEST(c.built.path == c.expected.path);
      BOOST_TEST(c.built.body == c.expected.body);
    }
  }
}

BOOST_AUTO_TEST_CASE(plan_line) {
  BOOST_TEST(to_string(requests::ensure_trait("CUSTOM_X")) == "PUT /traits/CUSTOM_X");
  BOOST_TEST(to_string(requests::put_traits("u", 2, {"CUSTOM_X"})) ==
             R"(PUT /resource_providers/u/traits {"resource_provider_generation":2,"traits":["CUSTOM_X"]})");
}

BOOST_AUTO_TEST_SUITE_END()
