// `gpu-agent doctor`, the real binary: exit codes (0 ready, 1 something to fix,
// 2 bad usage) and help. The steps themselves: doctor_test.cpp.
#include <boost/test/unit_test.hpp>

#include <rapidjson/document.h>

#include <filesystem>
#include <string>
#include <vector>

#include "inventory_helpers.h"
#include "run_process.h"
#include "temp_dir.h"
#include "text_file.h"

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

BOOST_AUTO_TEST_CASE(vgpu_layouts_against_the_nova_conf_nova_config_writes) {
  TempDir dir;
  write_text_file(dir / "gpu-agent.conf", "[vgpu:a40_24q]\naddresses = 0000:41:00.0\ntype = A40-24Q\n");
  const std::string fixture = "hosts/a40-sriov-vgpu.sysfs.txt";
  auto cfg = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {"--config", dir / "gpu-agent.conf"});
    return agent(args);
  };
  // what nova-config writes into nova.conf.d is what doctor expects
  std::filesystem::create_directories(dir / "nova.conf.d");
  auto written = cfg(
      {"nova-config", "--fixture", fixture, "--role", "compute", "-o", dir / "nova.conf.d/50-gpu-agent-pci.conf"});
  BOOST_TEST_REQUIRE(written.exit_code == 0, written.err);
  auto ok = cfg({"doctor", "--fixture", fixture, "--nova-conf", dir / "nova.conf.d"});
  BOOST_TEST(ok.exit_code == 0, ok.out + ok.err);
  BOOST_TEST(contains(ok.out, "READY"));
  // which release the fix's nova-config writes for (the suite's stand-in nova is Zed)
  BOOST_TEST(contains(ok.out, "nova release: zed (nova 26, detected)"), ok.out);

  // another type in nova.conf, read first: the snippet still wins
  write_text_file(dir / "nova.conf", "[devices]\nenabled_mdev_types = nvidia-562\n");
  auto layered = cfg(
      {"doctor", "--fixture", fixture, "--nova-conf", dir / "nova.conf", "--nova-conf", dir / "nova.conf.d"});
  BOOST_TEST(layered.exit_code == 0, layered.out + layered.err);
  // alone, it disagrees: exit 1, the fix in JSON
  auto bad = cfg({"doctor", "--fixture", fixture, "--nova-conf=" + (dir / "nova.conf"), "--format", "json"});
  BOOST_TEST(bad.exit_code == 1, bad.out + bad.err);
  rapidjson::Document d;
  d.Parse(bad.out.c_str());
  BOOST_TEST_REQUIRE(!d.HasParseError());
  BOOST_TEST(std::string(d["problems"][0]["code"].GetString()) == "nova_conf_mismatch");
  BOOST_TEST(std::string(d["problems"][0]["commands"][0].GetString()) ==
             "gpu-agent nova-config --role compute -o /etc/nova/nova.conf.d/50-gpu-agent-pci.conf");
  BOOST_TEST(d["nova_conf_files"].Size() == 1u);
  BOOST_TEST(std::string(d["vgpu_layouts"][0].GetString()) == "a40_24q");

  // VFs off after a reboot: exit 1 with the unit
  auto off = cfg({"doctor", "--fixture", "hosts/a40-vfs-disabled.sysfs.txt"});
  BOOST_TEST(off.exit_code == 1);
  BOOST_TEST(contains(off.out, "systemctl enable gpu-agent-sriov@0000:41:00.0.service"));
  // a nova.conf that is not there is bad usage
  auto missing = cfg({"doctor", "--fixture", fixture, "--nova-conf", dir / "nope.conf"});
  BOOST_TEST(missing.exit_code == 2);
  BOOST_TEST(contains(missing.err, "nope.conf"));
  BOOST_TEST(agent({"doctor", "--nova-conf"}).exit_code == 2);
}

BOOST_AUTO_TEST_CASE(help) {
  auto h = agent({"doctor", "--help"});
  BOOST_TEST(h.exit_code == 0);
  BOOST_TEST(contains(h.out, "Usage: gpu-agent [--config FILE] doctor"));
  BOOST_TEST(contains(h.out, "--cpu-vendor"));
  BOOST_TEST(contains(h.out, "--nova-conf"));
  BOOST_TEST(agent({"help", "doctor"}).out == h.out);
  BOOST_TEST(contains(agent({"help"}).out, "  doctor "));
}

BOOST_AUTO_TEST_SUITE_END()
