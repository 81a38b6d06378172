// `gpu-agent flavors`, the real binary: the seed family from a config file in
// all three formats (golden files), help, exit codes, -o atomic.
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
const std::string kA100 = kData + "/hosts/a100-8x-passthrough.sysfs.txt";
const std::string kSeed = kData + "/flavors/seed.conf";

ProcessResult agent(std::vector<std::string> args) {
  args.insert(args.begin(), kBinary);
  return run_process(args);
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

}  // namespace

BOOST_AUTO_TEST_SUITE(cli)

BOOST_AUTO_TEST_CASE(help_teaches) {
  auto h = agent({"flavors", "--help"});
  BOOST_TEST(h.exit_code == 0);
  BOOST_TEST(contains(h.out, "Usage: gpu-agent [--config FILE] flavors"));
  BOOST_TEST(contains(h.out, "--from-placement"));
  BOOST_TEST(contains(h.out, "v.xxxgn3i-1x.c10g100-1i"));
  BOOST_TEST(agent({"help", "flavors"}).out == h.out);
  BOOST_TEST(contains(agent({"help"}).out, "flavors"));
}

BOOST_AUTO_TEST_CASE(seed_family_in_every_format_matches_the_golden_files) {
  for (std::string format : {"script", "json", "ansible"}) {
    auto r = agent({"--config", kSeed, "flavors", "--fixture", kA100, "--format", format});
    BOOST_TEST_REQUIRE(r.exit_code == 0, format + ": " + r.err);
    const std::string ext = format == "script" ? "sh" : format == "json" ? "json" : "yml";
    const std::string diff = check_golden(kData + "/golden/flavors-seed-a100." + ext, r.out);
    BOOST_TEST(diff.empty(), diff);
  }
}

BOOST_AUTO_TEST_CASE(command_line_overrides_the_config) {
  auto r = agent({"--config", kSeed, "flavors", "--fixture", kA100, "--format", "json", "--sizes", "1,2",
                  "--vcpus-per-gpu", "12", "--name-template", "gpu.{pool}.{n}x"});
  BOOST_TEST_REQUIRE(r.exit_code == 0, r.err);
  BOOST_TEST(contains(r.out, "\"name\": \"gpu.xxxgn3i.2x\""));
  BOOST_TEST(contains(r.out, "\"vcpus\": 24"));
  BOOST_TEST(!contains(r.out, "4x"));
}

BOOST_AUTO_TEST_CASE(without_sizes_or_placement_it_says_how_to_size) {
  auto r = agent({"flavors", "--fixture", kA100});
  BOOST_TEST(r.exit_code == 2);
  BOOST_TEST(contains(r.err, "vcpus_per_gpu is not set"));
  BOOST_TEST(r.out.empty());
}

BOOST_AUTO_TEST_CASE(a_size_the_host_cannot_hold_exits_2) {
  auto r = agent({"--config", kSeed, "flavors", "--fixture", kA100, "--sizes", "1,16"});
  BOOST_TEST(r.exit_code == 2);
  BOOST_TEST(contains(r.err, "a 16x flavor needs 16 GPUs of pool xxxgn3i"));
}

BOOST_AUTO_TEST_CASE(config_errors_name_the_file_and_line) {
  TempDir dir;
  write_text_file(dir / "bad.conf", "[flavors]\nsizes = 1, two\n");
  auto r = agent({"--config", dir / "bad.conf", "flavors", "--fixture", kA100});
  BOOST_TEST(r.exit_code == 2);
  BOOST_TEST(contains(r.err, dir / "bad.conf:2: [flavors] sizes: 'two' is not a GPU count"), r.err);
  write_text_file(dir / "bad2.conf", "[flavors:huge]\nvcpus = 1\n");
  auto r2 = agent({"--config", dir / "bad2.conf", "flavors", "--fixture", kA100});
  BOOST_TEST(r2.exit_code == 2);
  BOOST_TEST(contains(r2.err, "[flavors:huge] is not a size"), r2.err);
  write_text_file(dir / "bad3.conf", "[flavors]\nname_template = gpu-{pool}\n");
  auto r3 = agent({"--config", dir / "bad3.conf", "flavors", "--fixture", kA100});
  BOOST_TEST(r3.exit_code == 2);
  BOOST_TEST(contains(r3.err, "needs {n}"), r3.err);
}

BOOST_AUTO_TEST_CASE(unknown_pool_and_format_are_usage_errors) {
  auto r = agent({"--config", kSeed, "flavors", "--fixture", kA100, "--pool", "h100"});
  BOOST_TEST(r.exit_code == 2);
  BOOST_TEST(contains(r.err, "--pool h100: no such pool on gpu-a100-0 (pools: xxxgn3i)"), r.err);
  BOOST_TEST(agent({"flavors", "--format", "yaml"}).exit_code == 2);
}

BOOST_AUTO_TEST_CASE(output_file_is_stdout_and_a_failure_leaves_nothing) {
  TempDir dir;
  auto shown = agent({"--config", kSeed, "flavors", "--fixture", kA100});
  BOOST_TEST_REQUIRE(shown.exit_code == 0, shown.err);
  auto wrote = agent({"--config", kSeed, "flavors", "--fixture", kA100, "-o", dir / "flavors.sh"});
  BOOST_TEST(wrote.exit_code == 0, wrote.err);
  BOOST_TEST(read_text_file(dir / "flavors.sh") == shown.out);
  BOOST_TEST(contains(wrote.err, "wrote " + dir / "flavors.sh" + " (4 flavors, 1 traits, script)"));
  auto failed = agent({"--config", kSeed, "flavors", "--fixture", kA100, "-o", dir / "missing/flavors.sh"});
  BOOST_TEST(failed.exit_code == 1);
  BOOST_TEST(contains(failed.err, "cannot write"));
}

BOOST_AUTO_TEST_SUITE_END()
