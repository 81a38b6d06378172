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

BOOST_AUTO_TEST_SUITE_END()
