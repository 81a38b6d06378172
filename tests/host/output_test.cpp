// What users read: the inventory JSON and table of every fixture host, as the
// real binary prints them, against golden files; and the same JSON whether
// the tree is read from memory or unpacked to disk.
#include <boost/test/data/monomorphic.hpp>
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <rapidjson/document.h>

#include <cstring>
#include <sstream>
#include <string>
#include <vector>

#include "fixture.h"
#include "inventory_helpers.h"
#include "inventory_json.h"
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

std::vector<std::string> golden_hosts() {
  std::vector<std::string> hosts = scenario_names();
  hosts.push_back("h100-passthrough-guest");  // the real capture, legacy format
  return hosts;
}

void replace_all(std::string& s, const std::string& from, const std::string& to) {
  for (size_t pos = 0; (pos = s.find(from, pos)) != std::string::npos; pos += to.size())
    s.replace(pos, from.size(), to);
}

// Inventory JSON with the root shown as "<root>/" and no source, so two ways
// of reading the same tree can be compared.
std::string neutral_json(const Fs& fs, const std::string& shown_root) {
  Inventory inv = inventory_of(fs);
  inv.source.clear();
  std::string json = inventory_to_json(inv);
  replace_all(json, shown_root, "<root>/");
  return json;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(output)

// Each committed host, loaded into memory and unpacked to disk, reads the same.
BOOST_DATA_TEST_CASE(memfs_and_unpacked_realfs_give_the_same_json, boost::unit_test::data::make(golden_hosts()), name) {
  const UnpackedHost host(name);
  const std::string mem = neutral_json(host.mem(), host.fixture_path() + ":");
  std::string real = neutral_json(host.real(), host.root() + "/");
  // unpack_fixture makes an error entry a directory: RealFs reads EISDIR where
  // MemFs reads the recorded errno. Put the recorded one back on those lines.
  for (const auto& [path, node] : host.mem().entries()) {
    if (node.kind != MemFs::Node::Kind::error) continue;
    const std::string tail = std::string(base_name(dir_name(path))) + "/" + std::string(base_name(path));
    std::istringstream in(real);
    std::string line, fixed;
    while (std::getline(in, line)) {
      if (line.find(tail) != std::string::npos) replace_all(line, std::strerror(EISDIR), std::strerror(node.err));
      fixed += line + "\n";
    }
    real = fixed;
  }
  BOOST_TEST(contains(mem, "\"gpus\": ["));
  const std::string diff = first_difference(mem, real);
  BOOST_TEST(diff.empty(), "memfs vs realfs, line " << diff);
}

BOOST_AUTO_TEST_CASE(golden_inventory_json_and_table) {
  // Run from the data directory with relative paths, so "source" is the same in every clone.
  for (const auto& host : golden_hosts()) {
    BOOST_TEST_CONTEXT(host) {
      const std::vector<std::string> base{kBinary,     "inventory", "--fixture",  "hosts/" + host + ".sysfs.txt",
                                          "--pci-ids", "pci.ids",   "--hostname", "golden-host"};
      auto args = base;
      args.push_back("--json");
      const ProcessResult json = run_process(args, kData);
      BOOST_TEST(json.exit_code == 0);
      BOOST_TEST(json.err == "");
      const std::string jdiff = check_golden(kData + "/golden/" + host + ".json", json.out);
      BOOST_TEST(jdiff.empty(), jdiff);

      const ProcessResult table = run_process(base, kData);
      BOOST_TEST(table.exit_code == 0);
      BOOST_TEST(table.err == "");
      const std::string tdiff = check_golden(kData + "/golden/" + host + ".txt", table.out);
      BOOST_TEST(tdiff.empty(), tdiff);
    }
  }
}

BOOST_AUTO_TEST_CASE(golden_files_show_the_unknown_product) {
  // tests/data/pci.ids leaves 10de:2331 out on purpose; the goldens must show it unnamed.
  const std::string json = read_text_file(kData + "/golden/h100-vgpu17.json");
  BOOST_TEST(contains(json, "\"product_name\": null"));
  BOOST_TEST(contains(json, "\"vendor_name\": \"NVIDIA Corporation\""));
  const std::string table = read_text_file(kData + "/golden/h100-vgpu17.txt");
  BOOST_TEST(contains(table, "NVIDIA Corporation Device 2331"));
  BOOST_TEST(contains(read_text_file(kData + "/golden/a100-8x-passthrough.json"), "GA100 [A100 SXM4 80GB]"));
}

BOOST_AUTO_TEST_CASE(json_is_utf8_whatever_sysfs_holds) {
  // Garbage bytes reach messages (quoted) and names (read as they are); JSON must stay UTF-8.
  TreeBuilder tb = t4_vgpu_timesliced();
  tb.set_raw(kT4s[1], "numa_node",
             "\xff\xfe"
             "0\n");
  tb.set_raw(kT4s[0], "mdev_supported_types/nvidia-222/name", "GRID T4-1B\xc3\n");  // cut in a sequence
  tb.set_raw(kT4s[0], "mdev_supported_types/nvidia-223/name", "GRID T4-2B \xc3\xa9\xe2\x82\xac\n");  // valid: kept
  tb.set_raw(kT4s[0], "mdev_supported_types/nvidia-224/name",
             "\xed\xa0\x80\xc0\xaf\x01\n");  // surrogate, overlong, control
  const std::string json = inventory_to_json(inventory_of(tb.fs()));
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseValidateEncodingFlag>(json.c_str());
  BOOST_TEST_REQUIRE(!doc.HasParseError(), "offset " << doc.GetErrorOffset());
  const auto& types = doc["gpus"][0]["mdev_types"];
  BOOST_TEST(std::string(types[0]["name"].GetString()) == "GRID T4-1B\xef\xbf\xbd");
  BOOST_TEST(std::string(types[1]["name"].GetString()) == "GRID T4-2B \xc3\xa9\xe2\x82\xac");
  BOOST_TEST(std::string(types[2]["name"].GetString()) ==
             "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\x01");
  BOOST_TEST(contains(json, "\\u0001"));  // control characters are escaped, not dropped
  const std::string numa_message = doc["gpus"][1]["problems"][0]["message"].GetString();
  BOOST_TEST(contains(numa_message,
                      "numa_node: not a number: '\\xFF\\xFE0\\n'"),  // bytes that are not UTF-8 shown as such
             numa_message);
}

BOOST_AUTO_TEST_SUITE_END()
