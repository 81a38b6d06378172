// A real capture, not a rebuilt shape: `gpu-agent capture` on a lent VM with one NVIDIA H200
// passed through to it (tests/data/hosts/h200-vm-nvidia-iommu-off.sysfs.txt). Replayed
// through the real binary with an empty config, it must say what that host is: one guest
// GPU (an H200, an ID Debian 12's pci.ids does not name), not assignable for two reasons
// with their fixes, and nothing of the virtio devices beside it in any advice.
#include <boost/test/unit_test.hpp>

#include <rapidjson/document.h>

#include <set>
#include <string>
#include <vector>

#include "run_process.h"
#include "temp_dir.h"
#include "text_file.h"

using namespace gpu_agent::testing;

namespace {

const std::string kData = GPU_AGENT_TEST_DATA;
const std::string kBinary = GPU_AGENT_BINARY;
const std::string kCapture = kData + "/hosts/h200-vm-nvidia-iommu-off.sysfs.txt";

struct Run {
  TempDir dir;
  std::string config;
  Run() : config(dir.path() + "/empty.conf") { write_text_file(config, ""); }
  ProcessResult agent(std::vector<std::string> args) const {
    args.insert(args.begin(), {kBinary, "--config", config});
    args.insert(args.end(), {"--fixture", kCapture, "--pci-ids", kData + "/pci.ids"});
    return run_process(args);
  }
};

bool has(const std::string& text, const std::string& what) { return text.find(what) != std::string::npos; }

}  // namespace

BOOST_AUTO_TEST_SUITE(real_capture_h200)

BOOST_AUTO_TEST_CASE(inventory_finds_the_one_h200_and_says_why_it_is_not_assignable) {
  Run run;
  auto inv = run.agent({"inventory", "--json"});
  BOOST_TEST_REQUIRE(inv.exit_code == 0, inv.err);
  rapidjson::Document d;
  d.Parse(inv.out.c_str());
  BOOST_TEST_REQUIRE(!d.HasParseError());
  BOOST_TEST(d["hostname"].GetString() == std::string("vm"));
  BOOST_TEST(!d["iommu_enabled"].GetBool());
  const auto& gpus = d["gpus"].GetArray();
  BOOST_TEST_REQUIRE(gpus.Size() == 1u);  // the six virtio functions and the host bridge are not GPUs
  const auto& g = gpus[0];
  BOOST_TEST(g["address"].GetString() == std::string("0000:00:06.0"));
  BOOST_TEST(g["vendor_id"].GetString() == std::string("10de"));
  BOOST_TEST(g["product_id"].GetString() == std::string("2335"));
  BOOST_TEST(g["class"].GetString() == std::string("030200"));
  BOOST_TEST(g["driver"].GetString() == std::string("nvidia"));
  BOOST_TEST(g["role"].GetString() == std::string("guest"));
  BOOST_TEST(!g["assignable"].GetBool());
  std::set<std::string> codes;
  for (const auto& p : g["problems"].GetArray()) {
    codes.insert(p["code"].GetString());
    BOOST_TEST(!std::string(p["fix"].GetString()).empty());
  }
  BOOST_TEST((codes == std::set<std::string>{"iommu_off", "driver_not_vfio"}));
}

BOOST_AUTO_TEST_CASE(doctor_advises_only_the_h200_and_nova_config_and_flavors_refuse_clearly) {
  Run run;
  auto doc = run.agent({"doctor"});
  BOOST_TEST(doc.exit_code == 1);
  BOOST_TEST(has(doc.out, "options vfio-pci ids=10de:2335\n"));
  BOOST_TEST(has(doc.out, "intel_iommu=on"));
  BOOST_TEST(!has(doc.out, "1af4"));    // no virtio device in any advice
  BOOST_TEST(!has(doc.out, "virtio"));  // nor its driver in a softdep
  BOOST_TEST(!has(doc.out, "0000:00:01.0"));

  auto nova = run.agent({"nova-config"});
  BOOST_TEST(nova.exit_code == 1);
  BOOST_TEST(has(nova.err, "0000:00:06.0 (10de:2335): iommu_off"));
  BOOST_TEST(nova.out.empty());  // nothing half-written to stdout

  auto fl = run.agent({"flavors"});
  BOOST_TEST(fl.exit_code == 2);
  BOOST_TEST(has(fl.err, "no pool has an assignable GPU"));
}

BOOST_AUTO_TEST_SUITE_END()
