// The zoo (tests/data/hosts/zoo/): real GPU server shapes, each rebuilt from a public
// dump, run through the real binary with an EMPTY config. The guest GPUs and
// accelerators are found, each in its default pool; a BMC's or the host's display,
// and the management functions beside it, appear in no pool, alias, device_spec,
// flavor or vfio-pci advice.
#include <boost/test/unit_test.hpp>

#include <rapidjson/document.h>

#include <map>
#include <regex>
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

struct ZooHost {
  std::string name;
  std::map<std::string, int> guest;  // vendor:product -> how many guest GPUs/accelerators
  std::set<std::string> host;        // vendor:product of the host displays
  std::set<std::string> pf;          // vendor:product of SR-IOV PFs whose VFs are the guest devices
  bool some_ready;                   // an assignable guest GPU: nova-config and flavors exit 0
  std::vector<std::string> never;    // words doctor must not say (softdeps of the BMC's drivers)
};

const std::vector<ZooHost> kZoo{
    {"hgx-h100-8x-aspeed-nvswitch-pcistub",
     {{"10de:2330", 8}},
     {"1a03:2000"},
     {},
     false,
     {"softdep ast", "softdep pci-stub", "10de:22a3"}},
    {"hgx-h100-8x-vfio-paired-groups", {{"10de:2330", 8}}, {}, {}, true, {"move the card"}},
    {"dell-c4140-g200ew3-p100-v100", {{"10de:15f9", 3}, {"10de:1db1", 1}}, {"102b:0536"}, {}, false, {"softdep mgag200"}},
    {"hpe-microserver-gen10plus-ilo5-gt1030",
     {{"10de:1d01", 1}},
     {"102b:0538"},
     {},
     true,
     {"softdep mgag200", "softdep hpilo", "softdep ehci", "103c:", "0000:01:00."}},
    {"amd-mi300x-gim-sriov-vf", {{"1002:74b5", 1}}, {}, {"1002:74a1"}, true, {"softdep gim", "0000:85:00.0"}},
    {"amd-mi100-epyc-probe-failed", {{"1002:738c", 1}}, {}, {}, false, {"nouveau"}},
    {"intel-flex170-sriov-aspeed",
     {{"8086:56c0", 1}},
     {"1a03:2000"},
     {"8086:56c0"},
     true,
     {"softdep ast", "softdep i915", "0000:4d:00.0"}},
    {"am5-aspeed-igpu-arc-a310-b50",
     {{"8086:56a6", 1}, {"8086:e212", 1}},
     {"1a03:2000", "1002:13c0"},
     {},
     true,
     {"softdep ast", "softdep amdgpu", "move the card"}},
};

struct Run {
  TempDir dir;
  std::string config;
  Run() : config(dir.path() + "/empty.conf") { write_text_file(config, ""); }
  ProcessResult agent(const ZooHost& z, std::vector<std::string> args) const {
    args.insert(args.begin(), {kBinary, "--config", config});
    args.insert(args.end(),
                {"--fixture", kData + "/hosts/zoo/" + z.name + ".sysfs.txt", "--pci-ids", kData + "/pci.ids"});
    return run_process(args);
  }
};

std::string key_of(const std::string& id) { return id.substr(0, 4) + "_" + id.substr(5); }

// vendor:product -> count, per role, and the addresses of the host displays.
struct Roles {
  std::map<std::string, int> guest;
  std::set<std::string> host, host_addresses, pf;
};

Roles roles_of(const std::string& json) {
  rapidjson::Document d;
  d.Parse(json.c_str());
  Roles r;
  BOOST_TEST_REQUIRE(!d.HasParseError());
  for (const auto& g : d["gpus"].GetArray()) {
    const std::string id = std::string(g["vendor_id"].GetString()) + ":" + g["product_id"].GetString();
    const std::string role = g["role"].GetString();
    BOOST_TEST(!std::string(g["role_reason"].GetString()).empty());
    if (role == "guest") ++r.guest[id];
    else if (role == "sriov_pf") {
      r.pf.insert(id);
      r.host_addresses.insert(g["address"].GetString());
    } else {
      BOOST_TEST(role == "host_display");
      r.host.insert(id);
      r.host_addresses.insert(g["address"].GetString());
    }
  }
  return r;
}

// What a golden file holds of a run: the exit code, stdout and stderr, with the checkout's
// path to the test data and the agent's version taken out.
std::string as_golden(const ProcessResult& r) {
  std::string text = "# exit " + std::to_string(r.exit_code) + "\n" + r.out;
  if (!r.err.empty()) text += "# stderr:\n" + r.err;
  text = std::regex_replace(text, std::regex(kData + "/"), "");
  return std::regex_replace(text, std::regex("gpu-agent [0-9]+\\.[0-9]+\\.[0-9]+[^ )\"]*"), "gpu-agent VERSION");
}

bool has(const std::string& text, const std::string& what) { return text.find(what) != std::string::npos; }

}  // namespace

BOOST_AUTO_TEST_SUITE(zoo)

BOOST_AUTO_TEST_CASE(inventory_finds_the_guest_gpus_and_tells_the_host_displays) {
  Run run;
  for (const auto& z : kZoo) {
    BOOST_TEST_CONTEXT(z.name) {
      auto inv = run.agent(z, {"inventory", "--json"});
      BOOST_TEST_REQUIRE(inv.exit_code == 0);
      Roles r = roles_of(inv.out);
      BOOST_TEST((r.guest == z.guest));
      BOOST_TEST((r.host == z.host));
      BOOST_TEST((r.pf == z.pf));
      // the capture format carries the kernel's driver -> module links, and inventory reports them
      if (z.name.rfind("hpe-", 0) == 0) BOOST_TEST(has(inv.out, "\"vfio-pci\": \"vfio_pci\""));
    }
  }
}

BOOST_AUTO_TEST_CASE(nova_config_has_the_guest_pools_and_nothing_of_the_host_displays) {
  Run run;
  for (const auto& z : kZoo) {
    BOOST_TEST_CONTEXT(z.name) {
      Roles r = roles_of(run.agent(z, {"inventory", "--json"}).out);
      auto nova = run.agent(z, {"nova-config"});
      BOOST_TEST(nova.exit_code == (z.some_ready ? 0 : 1));
      const std::string all = nova.out + nova.err;
      for (const auto& id : z.host) {
        BOOST_TEST(!has(all, key_of(id)));
        BOOST_TEST(!has(nova.out, id.substr(0, 4) + "\", \"product_id\": \"" + id.substr(5)));
      }
      for (const auto& a : r.host_addresses) BOOST_TEST(!has(nova.out, a));
      for (const auto& w : z.never)
        if (has(w, "0000:") || has(w, "103c")) BOOST_TEST(!has(nova.out, w));
      if (z.some_ready)
        for (const auto& [id, n] : z.guest) BOOST_TEST(has(nova.out, "\"name\": \"" + key_of(id) + "\""));
    }
  }
}

BOOST_AUTO_TEST_CASE(flavors_are_written_for_the_ready_pools_only) {
  Run run;
  for (const auto& z : kZoo) {
    BOOST_TEST_CONTEXT(z.name) {
      auto fl = run.agent(z, {"flavors", "--vcpus-per-gpu", "8", "--ram-mb-per-gpu", "65536", "--ephemeral-gb-per-gpu",
                              "0", "--disk-gb", "50"});
      BOOST_TEST(fl.exit_code == (z.some_ready ? 0 : 2));
      for (const auto& id : z.host) {
        BOOST_TEST(!has(fl.out + fl.err, key_of(id)));
        BOOST_TEST(!has(fl.out, "CUSTOM_PGPU_" + key_of(id)));
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(doctor_leaves_the_bmc_and_the_console_alone_and_says_so_once) {
  Run run;
  for (const auto& z : kZoo) {
    BOOST_TEST_CONTEXT(z.name) {
      Roles r = roles_of(run.agent(z, {"inventory", "--json"}).out);
      auto doc = run.agent(z, {"doctor"});
      BOOST_TEST(doc.exit_code != 2);
      for (const auto& id : z.host) {
        BOOST_TEST(!has(doc.out, "ids=" + id));
        BOOST_TEST(!has(doc.out, "," + id));
      }
      for (const auto& a : r.host_addresses) BOOST_TEST(!has(doc.out, "driverctl set-override " + a));
      for (const auto& w : z.never)
        if (!has(w, "0000:")) BOOST_TEST(!has(doc.out, w));
      for (const auto& w : z.never)
        if (has(w, "0000:")) BOOST_TEST(!has(doc.out, "driverctl set-override " + w));
      const size_t first = doc.out.find("left to the host");
      BOOST_TEST((first != std::string::npos) == (!z.host.empty() || !z.pf.empty()));
      if (first != std::string::npos) BOOST_TEST(doc.out.find("left to the host", first + 1) == std::string::npos);
      if (!z.guest.empty()) BOOST_TEST(!has(doc.out, "no GPU"));
    }
  }
}

// Every zoo host's output of every command, as an operator sees it (exit code, stdout,
// stderr), against tests/data/golden/zoo/NAME.COMMAND.*; GPU_AGENT_REGENERATE=1 rewrites them.
BOOST_AUTO_TEST_CASE(every_command_on_every_zoo_host_matches_its_golden_file) {
  Run run;
  const std::vector<std::pair<std::string, std::vector<std::string>>> commands{
      {"inventory.txt", {"inventory"}},
      {"inventory.json", {"inventory", "--json"}},
      {"nova-config.conf", {"nova-config", "--nova-release", "zed"}},
      {"flavors.json",
       {"flavors", "--vcpus-per-gpu", "8", "--ram-mb-per-gpu", "65536", "--ephemeral-gb-per-gpu", "0", "--disk-gb",
        "50", "--format", "json"}},
      {"doctor.txt", {"doctor"}},
  };
  for (const auto& z : kZoo)
    for (const auto& [suffix, args] : commands) {
      BOOST_TEST_CONTEXT(z.name << " " << suffix) {
        auto r = run.agent(z, args);
        // never a usage or config error; flavors exits 2 only when it can write nothing
        if (suffix != "flavors.json" || z.some_ready) BOOST_TEST(r.exit_code != 2);
        BOOST_TEST(check_golden(kData + "/golden/zoo/" + z.name + "." + suffix, as_golden(r)) == "");
      }
    }
}

BOOST_AUTO_TEST_SUITE_END()
