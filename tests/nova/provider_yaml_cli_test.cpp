// `gpu-agent nova-config --format provider-yaml`, the real binary: stdout, -o
// written atomically, no host traits refused, help. (nova reading it:
// nova_provider_config.)
#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

#include "run_process.h"
#include "temp_dir.h"
#include "text_file.h"

using namespace gpu_agent::testing;

namespace {

const std::string kData = GPU_AGENT_TEST_DATA;
const std::string kBinary = GPU_AGENT_BINARY;

bool has(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

ProcessResult agent(const std::string& config_text, std::vector<std::string> args) {
  TempDir dir;
  write_text_file(dir / "gpu-agent.conf", config_text);
  args.insert(args.begin(), {kBinary, "--config", dir / "gpu-agent.conf", "nova-config"});
  return run_process(args, kData);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(provider_yaml_cli)

BOOST_AUTO_TEST_CASE(cli_writes_it_atomically_and_refuses_without_traits) {
  const std::string conf = "[agent]\nhost_traits = CUSTOM_SHARE_GPU_XXX_HOST_LEVEL3\n";
  const std::vector<std::string> args{"--fixture", "hosts/iommu-off.sysfs.txt", "--format", "provider-yaml"};
  auto shown = agent(conf, args);  // no assignable GPU there: the YAML does not depend on the GPUs
  BOOST_TEST_REQUIRE(shown.exit_code == 0, shown.err);
  BOOST_TEST(has(shown.out, "        - CUSTOM_SHARE_GPU_XXX_HOST_LEVEL3\n"));
  TempDir out;
  auto args_o = args;
  args_o.insert(args_o.end(), {"-o", out / "gpu-agent.yaml"});
  auto wrote = agent(conf, args_o);
  BOOST_TEST(wrote.exit_code == 0, wrote.err);
  BOOST_TEST(read_text_file(out / "gpu-agent.yaml") == shown.out);
  BOOST_TEST(has(wrote.err, "host_traits_owner = nova"));  // the hand-over is not done yet: say how

  auto none = agent("[agent]\n", args_o);
  BOOST_TEST(none.exit_code == 2);
  BOOST_TEST(has(none.err, "[agent] host_traits"));
  BOOST_TEST(has(agent("", {"--help"}).out, "provider-yaml"));
  BOOST_TEST(agent(conf, {"--format", "yml"}).exit_code == 2);
}

BOOST_AUTO_TEST_CASE(vgpu_layouts_put_their_traits_on_novas_pgpu_providers) {
  const std::string conf = "[vgpu:a40_24q]\naddresses = 0000:41:00.0\ntype = A40-24Q\ntraits = CUSTOM_TENANT_GOLD\n";
  auto r = agent(conf, {"--fixture", "hosts/a40-sriov-vgpu.sysfs.txt", "--format", "provider-yaml"});
  BOOST_TEST_REQUIRE(r.exit_code == 0, r.err);  // no host traits: the layouts are enough
  BOOST_TEST(!has(r.out, "$COMPUTE_NODE'"));
  BOOST_TEST(has(r.out, "      name: 'gpu-a40-0_pci_0000_41_00_4'\n"));  // the fixture's host name
  BOOST_TEST(has(r.out, "      name: 'gpu-a40-0_pci_0000_41_04_3'\n"));
  BOOST_TEST(has(r.out, "        - CUSTOM_VGPU_A40_24Q\n"));
  auto named = agent(
      conf, {"--fixture", "hosts/a40-sriov-vgpu.sysfs.txt", "--format", "provider-yaml", "--hostname", "compute-7"});
  BOOST_TEST(has(named.out, "      name: 'compute-7_pci_0000_41_00_4'\n"));
  // a layout that does not resolve is exit 2 with resolve's message
  auto bad = agent("[vgpu:x]\naddresses = 0000:41:00.0\ntype = A40-8Q\n",
                   {"--fixture", "hosts/a40-sriov-vgpu.sysfs.txt", "--format", "provider-yaml"});
  BOOST_TEST(bad.exit_code == 2);
  BOOST_TEST(has(bad.err, "[vgpu:x]"));
}

BOOST_AUTO_TEST_SUITE_END()
