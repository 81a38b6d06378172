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

BOOST_AUTO_TEST_SUITE_END()
