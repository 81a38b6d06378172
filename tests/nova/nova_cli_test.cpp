// `gpu-agent nova-config`, the real binary: help, exit codes, -o atomic, the
// same text on stdout and in the file. (nova reading it: nova_config_integration.)
#include <boost/test/unit_test.hpp>

#include <dirent.h>

#include <string>
#include <vector>

#include "run_process.h"
#include "temp_dir.h"
#include "text_file.h"

using namespace gpu_agent::testing;

namespace {

const std::string kData = GPU_AGENT_TEST_DATA;
const std::string kBinary = GPU_AGENT_BINARY;

ProcessResult agent(std::vector<std::string> args) {
  args.insert(args.begin(), kBinary);
  return run_process(args);
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

size_t entries_in(const std::string& dir) {
  size_t n = 0;
  if (DIR* d = ::opendir(dir.c_str())) {
    while (dirent* e = ::readdir(d)) n += std::string(e->d_name) != "." && std::string(e->d_name) != "..";
    ::closedir(d);
  }
  return n;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(cli)

BOOST_AUTO_TEST_CASE(help_teaches) {
  auto h = agent({"nova-config", "--help"});
  BOOST_TEST(h.exit_code == 0);
  BOOST_TEST(contains(h.out, "Usage: gpu-agent [--config FILE] nova-config"));
  BOOST_TEST(contains(h.out, "PciPassthroughFilter"));
  BOOST_TEST(agent({"help", "nova-config"}).out == h.out);
  BOOST_TEST(contains(agent({"help"}).out, "nova-config"));
}

BOOST_AUTO_TEST_CASE(output_file_is_what_stdout_shows_and_replaced_atomically) {
  TempDir dir;
  const std::string host = kData + "/hosts/a100-8x-passthrough.sysfs.txt";
  auto shown = agent({"nova-config", "--fixture", host, "--role", "compute"});
  BOOST_TEST_REQUIRE(shown.exit_code == 0, shown.err);
  write_text_file(dir / "50-gpu-agent-pci.conf", "old\n");
  auto wrote = agent({"nova-config", "--fixture", host, "--role", "compute", "-o", dir / "50-gpu-agent-pci.conf"});
  BOOST_TEST(wrote.exit_code == 0, wrote.err);
  BOOST_TEST(read_text_file(dir / "50-gpu-agent-pci.conf") == shown.out);
  BOOST_TEST(entries_in(dir.path()) == 1u);  // no temporary left beside it
}

BOOST_AUTO_TEST_CASE(no_assignable_gpu_exits_1_and_writes_nothing) {
  TempDir dir;
  auto r = agent({"nova-config", "--fixture", kData + "/hosts/iommu-off.sysfs.txt", "-o", dir / "x.conf"});
  BOOST_TEST(r.exit_code == 1);
  BOOST_TEST(contains(r.err, "iommu_off"));
  BOOST_TEST(contains(r.err, "gpu-agent inventory"));
  BOOST_TEST(entries_in(dir.path()) == 0u);
}

BOOST_AUTO_TEST_CASE(bad_usage_exits_2) {
  const std::string host = kData + "/hosts/a100-8x-passthrough.sysfs.txt";
  auto rel = agent({"nova-config", "--fixture", host, "--nova-release", "folsom"});
  BOOST_TEST(rel.exit_code == 2);
  BOOST_TEST(contains(rel.err, "2023.1 (antelope)"));
  BOOST_TEST(agent({"nova-config", "--fixture", host, "--role", "scheduler"}).exit_code == 2);
  BOOST_TEST(agent({"nova-config", "--fixture", host, "--format", "yaml"}).exit_code == 2);
  BOOST_TEST(agent({"nova-config", "--fixture", host, "--numa-policy", "strict"}).exit_code == 2);
  BOOST_TEST(agent({"nova-config", "--fixture", host, "--sysfs-root", "/sys"}).exit_code == 2);
}

// The release: --nova-release, else [agent] nova_release, else the installed nova
// (GPU_AGENT_NOVA_SITE: where to look), else the newest; the header says which and why.
BOOST_AUTO_TEST_CASE(release_is_configured_detected_or_the_newest) {
  TempDir dir;
  const std::string host = kData + "/hosts/a100-8x-passthrough.sysfs.txt";
  auto with_site = [&](const std::string& site, std::vector<std::string> args) {
    args.insert(args.begin(), {"/usr/bin/env", "GPU_AGENT_NOVA_SITE=" + kData + "/nova-site/" + site, kBinary});
    return run_process(args);
  };
  auto detected = with_site("zed", {"nova-config", "--fixture", host});
  BOOST_TEST_REQUIRE(detected.exit_code == 0, detected.err);
  BOOST_TEST(contains(detected.out, "# nova release: zed (nova 26, detected)"));
  auto newest = with_site("none", {"nova-config", "--fixture", host, "--format", "json"});
  BOOST_TEST(contains(newest.out, "\"nova_release\": \"2026.2\""));
  BOOST_TEST(contains(newest.out, "\"nova_release_source\": \"default\""));
  write_text_file(dir / "agent.conf", "[agent]\nnova_release = epoxy\n");
  auto configured = with_site("zed",
                              {"--config", dir / "agent.conf", "nova-config", "--fixture", host, "-o", dir / "n.conf"});
  BOOST_TEST_REQUIRE(configured.exit_code == 0, configured.err);
  BOOST_TEST(contains(read_text_file(dir / "n.conf"), "# nova release: 2025.1 (nova 31, configured)"));
  BOOST_TEST(contains(configured.err, "2025.1 (nova 31), configured: [agent] nova_release"));
  auto option_wins = with_site(
      "zed", {"--config", dir / "agent.conf", "nova-config", "--fixture", host, "--nova-release", "34"});
  BOOST_TEST(contains(option_wins.out, "# nova release: 2026.2 (nova 34, configured)"));
  write_text_file(dir / "bad.conf", "[agent]\nnova_release = folsom\n");
  auto bad = with_site("zed", {"--config", dir / "bad.conf", "nova-config", "--fixture", host});
  BOOST_TEST(bad.exit_code == 2);
  BOOST_TEST(contains(bad.err, "[agent] nova_release in " + dir / "bad.conf" + ": unknown nova release 'folsom'"));
  BOOST_TEST(contains(agent({"nova-config", "--help"}).out, "34  2026.2 (hibiscus)"));
}

BOOST_AUTO_TEST_SUITE_END()
