// nova provider config YAML (`nova-config --format provider-yaml`): the text
// against a golden file and its refusals; the binary writing it is in
// provider_yaml_cli_test.cpp. That nova accepts it is nova_provider_config
// (nova_provider_oracle.py).
#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

#include "provider_yaml.h"
#include "text_file.h"

using namespace gpu_agent;
using namespace gpu_agent::testing;

namespace {

const std::string kData = GPU_AGENT_TEST_DATA;

bool has(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

}  // namespace

BOOST_AUTO_TEST_SUITE(provider_yaml)

BOOST_AUTO_TEST_CASE(golden_file) {
  ProviderYamlOptions o;
  o.generator = "gpu-agent 0.1.0";
  o.host = "compute-7";
  auto y = make_provider_yaml({"CUSTOM_SHARE_GPU_XXX_HOST_LEVEL3", "CUSTOM_GPU_HOST_IB", "CUSTOM_SHARE_GPU_XXX_HOST_LEVEL3"}, o);
  BOOST_TEST_REQUIRE(y.ok(), (y.ok() ? std::string() : y.error().message));
  const std::string diff = check_golden(kData + "/golden/nova/provider-config.yaml", *y);
  BOOST_TEST(diff.empty(), diff);
  BOOST_TEST(has(*y, "      name: '$COMPUTE_NODE'\n"));
  BOOST_TEST(has(*y, "        - CUSTOM_SHARE_GPU_XXX_HOST_LEVEL3\n        - CUSTOM_GPU_HOST_IB\n"));
  BOOST_TEST(!has(*y, "LEVEL3\n        - CUSTOM_GPU_HOST_IB\n        - CUSTOM_SHARE"));  // repeats dropped
  BOOST_TEST(has(*y, "host_traits_owner = nova"));
  BOOST_TEST(has(*y, "on compute-7"));
}

BOOST_AUTO_TEST_CASE(no_host_traits_or_a_bad_one_is_an_error) {
  auto none = make_provider_yaml({}, {});
  BOOST_TEST_REQUIRE(!none.ok());
  BOOST_TEST(has(none.error().message, "set [agent] host_traits"));
  auto bad = make_provider_yaml({"HW_GPU_API_VULKAN"}, {});
  BOOST_TEST_REQUIRE(!bad.ok());
  BOOST_TEST(has(bad.error().message, "must start with CUSTOM_"));
}

BOOST_AUTO_TEST_SUITE_END()
