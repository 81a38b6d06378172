// The zoo (tests/data/hosts/zoo/) against a REAL Placement, with a config that says nothing
// about GPUs (only where Placement is and where the agent keeps its state): on every real
// server shape, a report dry run prints the golden plan, a pass creates exactly the pools of
// the guest GPUs with their ready counts, nothing of a BMC, an iLO, the host's display or an
// SR-IOV PF becomes a provider, resource class or trait, `flavors` writes 1x/2x/4x/8x up to
// each pool's size, and a second pass makes zero writes.
//
// Its own Placement, started empty, so the dry runs' plans (which resource classes and traits
// are still to be created) do not depend on what the other suites created before.
#include <boost/test/unit_test.hpp>

#include <rapidjson/document.h>

#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "compute_node.h"
#include "log.h"
#include "report.h"
#include "report_env.h"
#include "run_process.h"
#include "text_file.h"
#include "uuid5.h"

using namespace gpu_agent;

namespace {

struct ZooShape {
  std::string name;
  std::map<std::string, int64_t> pools;  // resource class -> total (the ready guest GPUs)
  std::vector<std::string> never;        // ID parts no class or trait may carry (BMC, iLO, host display, PF)
};

const std::vector<ZooShape> kShapes{
    {"hgx-h100-8x-aspeed-nvswitch-pcistub", {}, {"1A03_2000", "10DE_22A3"}},
    {"hgx-h100-8x-vfio-paired-groups", {{"CUSTOM_PGPU_10DE_2330", 4}}, {}},
    {"dell-c4140-g200ew3-p100-v100", {}, {"102B_0536"}},
    {"hpe-microserver-gen10plus-ilo5-gt1030", {{"CUSTOM_PGPU_10DE_1D01", 1}}, {"102B_0538", "103C"}},
    {"amd-mi300x-gim-sriov-vf", {{"CUSTOM_PGPU_1002_74B5", 1}}, {"1002_74A1"}},
    {"amd-mi100-epyc-probe-failed", {}, {}},
    {"intel-flex170-sriov-aspeed", {{"CUSTOM_PGPU_8086_56C0", 1}}, {"1A03_2000"}},
    {"am5-aspeed-igpu-arc-a310-b50", {{"CUSTOM_PGPU_8086_E212", 1}}, {"1A03_2000", "1002_13C0"}},
};

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

// A Placement of this suite's own, empty at the start.
struct FreshPlacement {
  std::string state, url;
  FreshPlacement() : state(env::work_dir() + "/zoo-placement") {
    int st = 0;
    const std::string out = env::run(
        "PLACEMENT_SERVER_RESET=1 " + std::string(PLACEMENT_SERVER_SCRIPT) + " start " + state + " 0", &st);
    if (st != 0) throw std::runtime_error("placement-server.sh start failed:\n" + out);
    url = trim(out.substr(out.rfind("http://")));
  }
  ~FreshPlacement() { env::run(std::string(PLACEMENT_SERVER_SCRIPT) + " stop " + state); }
};

std::string fixture_of(const ZooShape& z) { return std::string(env::kDataDir) + "/hosts/zoo/" + z.name + ".sysfs.txt"; }
std::string pci_ids() { return std::string(env::kDataDir) + "/pci.ids"; }

// What the tree under the compute node holds: providers' names, traits and inventories
// (env::read_tree reads the suite's shared Placement; this one reads ours).
struct TreeView {
  std::map<std::string, int64_t> pools;  // resource class -> total, on the children
  std::set<std::string> names;           // every provider name, trait and resource class
  size_t children = 0;
};

TreeView view_tree(const std::string& url, const std::string& root) {
  auto c = env::client(url);
  placement::ProviderQuery q;
  q.in_tree = root;
  auto list = c->list_providers(q);
  if (!list) throw std::runtime_error(list.error().message);
  TreeView v;
  for (const auto& p : *list) {
    v.names.insert(p.name);
    auto t = c->get_traits(p.uuid);
    if (!t) throw std::runtime_error(t.error().message);
    v.names.insert(t->traits.begin(), t->traits.end());
    if (p.uuid == root) continue;
    ++v.children;
    auto i = c->get_inventories(p.uuid);
    if (!i) throw std::runtime_error(i.error().message);
    for (const auto& [rc, inv] : i->inventories) {
      v.pools[rc] = inv.total;
      v.names.insert(rc);
    }
  }
  return v;
}

// The GPU counts of the flavors `flavors --format json` writes, by resource class.
std::map<std::string, std::set<int64_t>> flavor_sizes(const std::string& json) {
  rapidjson::Document d;
  d.Parse(json.c_str());
  std::map<std::string, std::set<int64_t>> out;
  BOOST_TEST_REQUIRE(!d.HasParseError(), json);
  for (const auto& f : d["flavors"].GetArray()) out[f["resource_class"].GetString()].insert(f["gpus"].GetInt64());
  return out;
}

}  // namespace

BOOST_AUTO_TEST_CASE(zoo_hosts_with_an_empty_config_report_only_their_guest_gpus_and_settle) {
  FreshPlacement pl;
  const std::string config = env::config_file(pl.url);  // [agent] state and timing, [placement]: no GPU keys
  AgentConfig cfg = env::config(pl.url);
  BOOST_TEST_REQUIRE(cfg.pools.empty());
  BOOST_TEST_REQUIRE(cfg.vgpu_layouts.empty());
  for (const auto& z : kShapes) {
    BOOST_TEST_CONTEXT(z.name) {
      // Fixed names, so the plan's text is the same on every run against an empty Placement.
      const std::string host = "zoo-" + z.name;
      const std::string root = uuid5("gpu-agent zoo compute node " + z.name);
      testing::create_compute_node(*env::client(pl.url), host, root);

      auto dry = testing::run_process({env::kAgentBinary, "--config", config, "report", "--dry-run", "--fixture",
                                       fixture_of(z), "--pci-ids", pci_ids(), "--hostname", host});
      BOOST_TEST(dry.exit_code == 0, dry.err);
      BOOST_TEST(testing::check_golden(std::string(env::kDataDir) + "/golden/zoo/" + z.name + ".report-dry-run.txt",
                                       dry.out) == "");
      BOOST_TEST(view_tree(pl.url, root).children == 0u);  // a dry run writes nothing

      std::ostringstream log_text;
      Log log{log_text};
      Reporter reporter(cfg, ReportSources{.fixture = fixture_of(z), .pci_ids = pci_ids(), .hostname = host}, log);
      PassOutcome first = reporter.pass(false, nullptr);
      BOOST_TEST_REQUIRE((first.kind == PassOutcome::Kind::ok), first.message << "\n" << log_text.str());

      const TreeView t = view_tree(pl.url, root);
      BOOST_TEST((t.pools == z.pools));
      BOOST_TEST(t.children == z.pools.size());
      for (const auto& name : t.names)
        for (const auto& id : z.never) BOOST_TEST(name.find(id) == std::string::npos, name << " names " << id);

      PassOutcome second = reporter.pass(false, nullptr);
      BOOST_TEST((second.kind == PassOutcome::Kind::ok), second.message);
      BOOST_TEST(second.stats.writes == 0u);
      BOOST_TEST(second.stats.requests == 1u);

      // flavors: 1x, 2x, 4x, 8x up to each pool's total in Placement, nothing for a host display
      auto fl = testing::run_process({env::kAgentBinary,
                                      "--config",
                                      config,
                                      "flavors",
                                      "--vcpus-per-gpu",
                                      "8",
                                      "--ram-mb-per-gpu",
                                      "65536",
                                      "--ephemeral-gb-per-gpu",
                                      "0",
                                      "--disk-gb",
                                      "50",
                                      "--format",
                                      "json",
                                      "--fixture",
                                      fixture_of(z),
                                      "--pci-ids",
                                      pci_ids(),
                                      "--hostname",
                                      host});
      BOOST_TEST(fl.exit_code == (z.pools.empty() ? 2 : 0), fl.err);
      if (z.pools.empty()) continue;
      std::map<std::string, std::set<int64_t>> want;
      for (const auto& [rc, total] : z.pools)
        for (int64_t n : {1, 2, 4, 8})
          if (n <= total) want[rc].insert(n);
      BOOST_TEST((flavor_sizes(fl.out) == want));
      for (const auto& id : z.never) BOOST_TEST(fl.out.find(id) == std::string::npos);
    }
  }
}
