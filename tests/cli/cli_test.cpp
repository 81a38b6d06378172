// The real gpu-agent binary, end to end: help, usage errors and their exit
// codes, and capture -> inventory round trips on unpacked scenario trees.
#include <boost/test/unit_test.hpp>

#include <dirent.h>
#include <unistd.h>
#include <sys/stat.h>
#include <rapidjson/document.h>

#include <cstdlib>
#include <sstream>
#include <string>
#include <vector>

#include "fixture.h"
#include "inventory_helpers.h"
#include "run_process.h"
#include "scenarios.h"
#include "temp_dir.h"
#include "text_file.h"
#include "unpacked_host.h"

using namespace gpu_agent;
using namespace gpu_agent::testing;

namespace {

const std::string kData = GPU_AGENT_TEST_DATA;
const std::string kBinary = GPU_AGENT_BINARY;

ProcessResult agent(std::vector<std::string> args, const std::string& cwd = "") {
  args.insert(args.begin(), kBinary);
  return run_process(args, cwd);
}

// JSON without the lines that name where the tree came from.
std::string without_origin(const std::string& json) {
  std::istringstream in(json);
  std::string line, out;
  while (std::getline(in, line))
    if (!contains(line, "\"source\":") && !contains(line, "\"hostname\":") && !contains(line, "\"hostname_source\":"))
      out += line + "\n";
  return out;
}

std::vector<std::string> names_in(const std::string& dir) {
  std::vector<std::string> out;
  if (DIR* d = ::opendir(dir.c_str())) {
    while (dirent* e = ::readdir(d))
      if (std::string(e->d_name) != "." && std::string(e->d_name) != "..") out.emplace_back(e->d_name);
    ::closedir(d);
  }
  return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(cli)

BOOST_AUTO_TEST_CASE(help_and_version) {
  auto help = agent({"inventory", "--help"});
  BOOST_TEST(help.exit_code == 0);
  BOOST_TEST(contains(help.out, "Usage: gpu-agent inventory"));
  BOOST_TEST(contains(help.out, "--fixture FILE"));
  BOOST_TEST(help.err == "");
  auto capture_help = agent({"help", "capture"});
  BOOST_TEST(capture_help.exit_code == 0);
  BOOST_TEST(contains(capture_help.out, "Usage: gpu-agent capture"));
  auto version = agent({"version"});
  BOOST_TEST(version.exit_code == 0);
  BOOST_TEST(version.out.rfind("gpu-agent ", 0) == 0u);
  auto none = agent({});
  BOOST_TEST(none.exit_code == 2);
  BOOST_TEST(contains(none.err, "Commands:"));
}

BOOST_AUTO_TEST_CASE(usage_errors_exit_2_and_name_the_option) {
  struct Row {
    std::vector<std::string> args;
    std::string says;
  };
  const std::vector<Row> rows{
      {{"inventory", "--bogus"}, "unknown option '--bogus'"},
      {{"inventory", "--json=yes"}, "unknown option '--json=yes'"},
      {{"inventory", "--fixture"}, "option --fixture needs a value"},
      {{"inventory", "--fixture", "a", "--sysfs-root", "b"}, "--fixture and --sysfs-root are alternatives"},
      {{"capture", "-x"}, "unknown option '-x'"},
      {{"frobnicate"}, "unknown command 'frobnicate'"},
  };
  for (const auto& r : rows) {
    BOOST_TEST_CONTEXT(r.args[0] << " " << (r.args.size() > 1 ? r.args[1] : "")) {
      auto res = agent(r.args);
      BOOST_TEST(res.exit_code == 2);
      BOOST_TEST(contains(res.err, r.says), res.err);
      BOOST_TEST(res.out == "");
    }
  }
  BOOST_TEST(contains(agent({"inventory", "--bogus"}).err, "Run `gpu-agent inventory --help` for usage."));
}

BOOST_AUTO_TEST_CASE(missing_inputs_exit_1_and_name_the_file) {
  TempDir dir;
  const std::string missing = dir / "no-such-host.sysfs.txt";
  auto r = agent({"inventory", "--fixture", missing});
  BOOST_TEST(r.exit_code == 1);
  BOOST_TEST(contains(r.err, "cannot open fixture " + missing), r.err);
  BOOST_TEST(r.out == "");

  auto bad = agent({"inventory", "--fixture", "hosts/../pci.ids"}, kData);  // not a fixture at all
  BOOST_TEST(bad.exit_code == 1);
  BOOST_TEST(contains(bad.err, "hosts/../pci.ids:9: "), bad.err);

  auto root = agent({"inventory", "--sysfs-root", dir.path()});
  BOOST_TEST(root.exit_code == 1);
  BOOST_TEST(contains(root.err, dir.path() + "/bus/pci/devices"), root.err);
  BOOST_TEST(contains(root.err, "--sysfs-root"));

  auto cap = agent({"capture", "--sysfs-root", dir.path()});
  BOOST_TEST(cap.exit_code == 1);
  BOOST_TEST(contains(cap.err, "is this a sysfs root?"), cap.err);
}

BOOST_AUTO_TEST_CASE(inventory_of_an_unpacked_tree_via_sysfs_root) {
  TempDir dir;
  BOOST_TEST_REQUIRE(unpack_fixture(a100_8x_passthrough().fs(), dir.path()).ok());
  auto r = agent({"inventory", "--sysfs-root", dir.path(), "--json", "--hostname", "h"});
  BOOST_TEST_REQUIRE(r.exit_code == 0, r.err);
  rapidjson::Document doc;
  doc.Parse(r.out.c_str());
  BOOST_TEST_REQUIRE(!doc.HasParseError());
  BOOST_TEST(std::string(doc["source"].GetString()) == dir.path());
  BOOST_TEST(doc["gpus"].Size() == 8u);
  BOOST_TEST(doc["libvirt"].IsNull());  // --sysfs-root does not ask the local libvirt
  for (const auto& g : doc["gpus"].GetArray()) BOOST_TEST(g["assignable"].GetBool());
}

BOOST_AUTO_TEST_CASE(capture_then_inventory_gives_the_same_inventory) {
  for (const auto& name : scenario_names()) {
    if (name == "broken") continue;  // its unreadable entries become directories when unpacked; see output tests
    BOOST_TEST_CONTEXT(name) {
      const UnpackedHost host(name);
      TempDir dir;
      const std::string& root = host.root();
      const std::string out = dir / "capture.sysfs.txt";
      auto cap = agent({"capture", "--sysfs-root", root, "-o", out, "--hostname", "cap-host"});
      BOOST_TEST_REQUIRE(cap.exit_code == 0, cap.err);
      BOOST_TEST(contains(cap.err, "captured "), cap.err);
      BOOST_TEST(contains(cap.err, " to " + out));
      BOOST_TEST(cap.out == "");
      const std::string text = read_text_file(out);
      BOOST_TEST(text.rfind("# gpu-agent sysfs fixture v1\n", 0) == 0u);
      BOOST_TEST(contains(text, "@hostname cap-host\n"));
      BOOST_TEST(contains(text, "@source " + root + "\n"));

      auto from_capture = agent({"inventory", "--fixture", out, "--json", "--pci-ids", kData + "/pci.ids"});
      auto original = agent({"inventory", "--fixture", host.fixture_path(), "--json", "--pci-ids", kData + "/pci.ids"});
      BOOST_TEST_REQUIRE(from_capture.exit_code == 0, from_capture.err);
      BOOST_TEST_REQUIRE(original.exit_code == 0, original.err);
      const std::string diff = first_difference(without_origin(original.out), without_origin(from_capture.out));
      BOOST_TEST(diff.empty(), diff);
      rapidjson::Document doc;
      doc.Parse(from_capture.out.c_str());
      BOOST_TEST_REQUIRE(!doc.HasParseError());
      BOOST_TEST(std::string(doc["hostname"].GetString()) == "cap-host");
      BOOST_TEST(std::string(doc["hostname_source"].GetString()) == "fixture");
      BOOST_TEST(std::string(doc["source"].GetString()) == out);
    }
  }
}

BOOST_AUTO_TEST_CASE(capture_to_stdout) {
  TempDir dir;
  BOOST_TEST_REQUIRE(unpack_fixture(iommu_off().fs(), dir.path()).ok());
  auto cap = agent({"capture", "--sysfs-root", dir.path(), "--hostname", "h"});
  BOOST_TEST_REQUIRE(cap.exit_code == 0, cap.err);
  BOOST_TEST(cap.out.rfind("# gpu-agent sysfs fixture v1\n", 0) == 0u);
  BOOST_TEST(contains(cap.out, "d kernel/iommu_groups\n"));  // IOMMU off survives the capture
  BOOST_TEST(contains(cap.err, "captured 4 PCI devices"), cap.err);
  auto fx = parse_fixture(cap.out, "stdout");
  BOOST_TEST_REQUIRE(fx.ok());
  const Inventory inv = inventory_of(*fx->fs);
  BOOST_TEST(!inv.iommu_enabled);
  BOOST_TEST(inv.gpus.size() == 1u);
}

BOOST_AUTO_TEST_CASE(capture_to_an_unwritable_path_leaves_nothing) {
  TempDir dir;
  const std::string root = dir / "sys";
  BOOST_TEST_REQUIRE(unpack_fixture(iommu_off().fs(), root).ok());
  {  // the output directory does not exist: the temporary file cannot even be created
    const std::string out = dir / "missing-dir/capture.txt";
    auto cap = agent({"capture", "--sysfs-root", root, "-o", out});
    BOOST_TEST(cap.exit_code == 1);
    BOOST_TEST(contains(cap.err, "cannot write " + out + ".tmp."), cap.err);
    BOOST_TEST(!file_exists(dir / "missing-dir"));
  }
  {  // the target is a directory: written, then the rename fails; the temporary is removed
    const std::string out = dir / "target-is-a-dir";
    BOOST_TEST_REQUIRE(::mkdir(out.c_str(), 0755) == 0);
    auto cap = agent({"capture", "--sysfs-root", root, "-o", out});
    BOOST_TEST(cap.exit_code == 1);
    BOOST_TEST(contains(cap.err, "cannot rename"), cap.err);
    BOOST_TEST(names_in(out).empty());
    for (const auto& n : names_in(dir.path())) BOOST_TEST(!contains(n, ".tmp."), n << " was left behind");
  }
  {  // an existing capture is not touched by a failed one
    const std::string out = dir / "old.sysfs.txt";
    write_text_file(out, "# old\n");
    auto cap = agent({"capture", "--sysfs-root", dir / "nowhere", "-o", out});
    BOOST_TEST(cap.exit_code == 1);
    BOOST_TEST(read_text_file(out) == "# old\n");
  }
}

// One set of host-source options for every command that reads a host, each
// defaulting from the config the same way (ARCHITECTURE.md, "One way in").
BOOST_AUTO_TEST_CASE(every_host_command_takes_the_same_source_options) {
  const std::string fixture = kData + "/hosts/a100-8x-passthrough.sysfs.txt";
  const std::string pci_ids = kData + "/pci.ids";
  const std::vector<std::vector<std::string>> commands{
      {"inventory"},
      {"doctor"},
      {"nova-config"},
      {"flavors", "--vcpus-per-gpu", "8", "--ram-mb-per-gpu", "65536", "--ephemeral-gb-per-gpu", "100"},
      {"report", "--dry-run"},
      {"run", "--max-passes", "1"}};
  for (const auto& cmd : commands) {
    BOOST_TEST_CONTEXT(cmd[0]) {
      auto help = agent({cmd[0], "--help"});
      BOOST_TEST(help.exit_code == 0);
      for (const char* opt :
           {"--fixture FILE", "--sysfs-root DIR", "--pci-ids FILE", "--libvirt-uri URI", "--hostname NAME"})
        BOOST_TEST(contains(help.out, opt), opt);
      std::vector<std::string> both = cmd;
      for (const char* a : {"--fixture", "x.txt", "--sysfs-root", "/tmp"}) both.push_back(a);
      auto r = agent(both);
      BOOST_TEST(r.exit_code == 2);
      BOOST_TEST(contains(r.err, "--fixture and --sysfs-root are alternatives"), r.err);
    }
  }
  // The generating commands read the same host with every option given.
  for (size_t i = 0; i < 4; ++i) {
    std::vector<std::string> args = commands[i];
    for (const std::string& a :
         {std::string("--fixture"), fixture, std::string("--pci-ids"), pci_ids, std::string("--libvirt-uri"),
          std::string("none"), std::string("--hostname"), std::string("gpu-node-7")})
      args.push_back(a);
    auto r = agent(args);
    BOOST_TEST_CONTEXT(args[0]) {
      BOOST_TEST(r.exit_code == 0, r.err);
      BOOST_TEST(contains(r.out, "gpu-node-7"), r.out.substr(0, 400));
    }
  }
  // --compute-node-name is the older spelling of --hostname, everywhere.
  auto old = agent({"nova-config", "--fixture", fixture, "--compute-node-name", "gpu-node-8"});
  BOOST_TEST(old.exit_code == 0, old.err);
  BOOST_TEST(contains(old.out, "gpu-node-8"));
}

BOOST_AUTO_TEST_CASE(inventory_reads_the_configs_sysfs_root_and_pci_ids) {
  TempDir dir;
  UnpackedHost host("a100-8x-passthrough");
  write_text_file(dir.path() + "/agent.conf", "[agent]\nsysfs_root = " + host.root() + "\npci_ids = " + dir.path() +
                                                  "/missing.ids\ncompute_node_name = from-config\n");
  auto r = agent({"--config", dir.path() + "/agent.conf", "inventory", "--json", "--libvirt-uri", "none"});
  BOOST_TEST_REQUIRE(r.exit_code == 0, r.err);
  BOOST_TEST(contains(r.out, "\"0000:07:00.0\""), "the config's sysfs root was read");
  BOOST_TEST(contains(r.out, "from-config"));
  BOOST_TEST(contains(r.out, "missing.ids"), "the config's pci.ids was used (and its absence said)");
}

// Without --config: $GPU_AGENT_CONFIG when it is set (the suite sets it to a
// file that does not exist, so /etc/gpu-agent/gpu-agent.conf of an installed
// package never changes these tests), a missing one meaning built-in defaults.
BOOST_AUTO_TEST_CASE(without_config_the_default_path_is_gpu_agent_config) {
  TempDir dir;
  const std::string fixture = kData + "/hosts/a100-8x-passthrough.sysfs.txt";
  auto with_env = [&](const std::string& conf) {
    return run_process(
        {"/usr/bin/env", "GPU_AGENT_CONFIG=" + conf, kBinary, "inventory", "--json", "--fixture", fixture});
  };
  write_text_file(dir.path() + "/env.conf", "[agent]\ncompute_node_name = from-env-config\n");
  auto r = with_env(dir.path() + "/env.conf");
  BOOST_TEST_REQUIRE(r.exit_code == 0, r.err);
  BOOST_TEST(contains(r.out, "\"hostname\": \"from-env-config\""), r.out);
  auto none = with_env(dir.path() + "/absent.conf");
  BOOST_TEST_REQUIRE(none.exit_code == 0, none.err);
  BOOST_TEST(!contains(none.out, "from-env-config"), none.out);
  write_text_file(dir.path() + "/bad.conf", "[agent]\ninterval = soon\n");
  auto bad = with_env(dir.path() + "/bad.conf");
  BOOST_TEST(bad.exit_code == 2);
  BOOST_TEST(contains(bad.err, dir.path() + "/bad.conf:2"), bad.err);
  const char* suite = std::getenv("GPU_AGENT_CONFIG");
  BOOST_TEST_REQUIRE(suite != nullptr);
  BOOST_TEST(::access(suite, F_OK) != 0, suite << " exists: the suite is not hermetic");
}
BOOST_AUTO_TEST_SUITE_END()
