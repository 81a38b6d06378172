// `gpu-agent doctor`, the real binary: exit codes (0 ready, 1 something to fix,
// 2 bad usage) and help. The steps themselves: doctor_test.cpp.
#include <boost/test/unit_test.hpp>

#include <rapidjson/document.h>

#include <string>
#include <vector>

#include "inventory_helpers.h"
#include "run_process.h"

using namespace gpu_agent::testing;

namespace {

const std::string kData = GPU_AGENT_TEST_DATA;
const std::string kBinary = GPU_AGENT_BINARY;

ProcessResult agent(std::vector<std::string> args) {
  args.insert(args.begin(), kBinary);
  return run_process(args, kData);  // fixture paths relative to tests/data
}

}  // namespace

BOOST_AUTO_TEST_SUITE(doctor_cli)

BOOST_AUTO_TEST_CASE(exit_0_when_ready_1_when_not_2_on_bad_usage) {
  auto ready = agent({"doctor", "--fixture", "hosts/a100-8x-passthrough.sysfs.txt"});
  BOOST_TEST(ready.exit_code == 0, ready.err);
  BOOST_TEST(contains(ready.out, "READY: all 8 GPUs"));
  auto off = agent({"doctor", "--fixture", "hosts/iommu-off.sysfs.txt", "--cpu-vendor", "amd"});
  BOOST_TEST(off.exit_code == 1);
  BOOST_TEST(contains(off.out, "amd_iommu=on iommu=pt"));
  auto broken = agent({"doctor", "--fixture", "hosts/broken.sysfs.txt", "--format", "json"});
  BOOST_TEST(broken.exit_code == 1);
  rapidjson::Document d;
  d.Parse(broken.out.c_str());
  BOOST_TEST_REQUIRE(!d.HasParseError());
  BOOST_TEST(!d["ready"].GetBool());
  BOOST_TEST(agent({"doctor", "--fixture", "hosts/nope.sysfs.txt"}).exit_code == 1);
  for (const auto& bad : std::vector<std::vector<std::string>>{
           {"doctor", "--format", "yaml"},
           {"doctor", "--cpu-vendor", "arm"},
           {"doctor", "--bogus"},
           {"doctor", "--fixture", "hosts/iommu-off.sysfs.txt", "--sysfs-root", "/sys"}}) {
    auto r = agent(bad);
    BOOST_TEST(r.exit_code == 2, bad.back());
    BOOST_TEST(contains(r.err, "gpu-agent doctor --help"));
  }
}

BOOST_AUTO_TEST_CASE(help) {
  auto h = agent({"doctor", "--help"});
  BOOST_TEST(h.exit_code == 0);
  BOOST_TEST(contains(h.out, "Usage: gpu-agent [--config FILE] doctor"));
  BOOST_TEST(contains(h.out, "--cpu-vendor"));
  BOOST_TEST(agent({"help", "doctor"}).out == h.out);
  BOOST_TEST(contains(agent({"help"}).out, "  doctor "));
}

BOOST_AUTO_TEST_SUITE_END()
