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
  auto y = make_provider_yaml(
      {"CUSTOM_SHARE_GPU_XXX_HOST_LEVEL3", "CUSTOM_GPU_HOST_IB", "CUSTOM_SHARE_GPU_XXX_HOST_LEVEL3"}, o);
  BOOST_TEST_REQUIRE(y.ok(), (y.ok() ? std::string() : y.error().message));
  const std::string diff = check_golden(kData + "/golden/nova/provider-config.yaml", *y);
  BOOST_TEST(diff.empty(), diff);
  BOOST_TEST(has(*y, "      name: '$COMPUTE_NODE'\n"));
  BOOST_TEST(has(*y, "        - CUSTOM_SHARE_GPU_XXX_HOST_LEVEL3\n        - CUSTOM_GPU_HOST_IB\n"));
  BOOST_TEST(!has(*y, "LEVEL3\n        - CUSTOM_GPU_HOST_IB\n        - CUSTOM_SHARE"));  // repeats dropped
  BOOST_TEST(has(*y, "host_traits_owner = nova"));
  BOOST_TEST(has(*y, "on compute-7"));
}

BOOST_AUTO_TEST_CASE(golden_file_with_vgpu_pgpu_providers) {
  ProviderYamlOptions o;
  o.generator = "gpu-agent 0.1.0";
  o.host = "gpu-a40-0";
  const std::vector<std::string> traits{"CUSTOM_TENANT_GOLD", "CUSTOM_VGPU_A40_24Q", "CUSTOM_VGPU_CUDA",
                                        "CUSTOM_VGPU_FB_24G"};
  o.named_providers = {{"gpu-a40-0_pci_0000_41_00_4", traits, "[vgpu:a40_24q] A40-24Q (nvidia-565) on 0000:41:00.4"},
                       {"gpu-a40-0_pci_0000_41_00_5", traits, "[vgpu:a40_24q] A40-24Q (nvidia-565) on 0000:41:00.5"}};
  auto y = make_provider_yaml({"CUSTOM_SHARE_GPU_XXX_HOST_LEVEL3"}, o);
  BOOST_TEST_REQUIRE(y.ok(), (y.ok() ? std::string() : y.error().message));
  const std::string diff = check_golden(kData + "/golden/nova/provider-config-vgpu.yaml", *y);
  BOOST_TEST(diff.empty(), diff);
  BOOST_TEST(has(*y, "      name: '$COMPUTE_NODE'\n"));
  BOOST_TEST(has(*y,
                 "      name: 'gpu-a40-0_pci_0000_41_00_4'\n    traits:\n      additional:\n"
                 "        - CUSTOM_TENANT_GOLD\n        - CUSTOM_VGPU_A40_24Q\n"));
  BOOST_TEST(has(*y, "for gpu-a40-0 only"));

  // the layouts alone are enough: no $COMPUTE_NODE entry then
  auto only = make_provider_yaml({}, o);
  BOOST_TEST_REQUIRE(only.ok(), (only.ok() ? std::string() : only.error().message));
  BOOST_TEST(!has(*only, "$COMPUTE_NODE'"));
  BOOST_TEST(has(*only, "providers:\n  # [vgpu:a40_24q]"));

  auto twice = o;
  twice.named_providers.push_back(o.named_providers.front());
  BOOST_TEST(!make_provider_yaml({}, twice).ok());
  auto bad = o;
  bad.named_providers.front().traits = {"HW_GPU_API_VULKAN"};
  auto refused = make_provider_yaml({}, bad);
  BOOST_TEST_REQUIRE(!refused.ok());
  BOOST_TEST(has(refused.error().message, "gpu-a40-0_pci_0000_41_00_4"));
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
