// Names: pci.ids through libpci (whose error path would exit() the process if
// the agent did not own it) and the hostname the compute node is reported as.
#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <string>

#include "hostname.h"
#include "pci_names.h"
#include "temp_dir.h"
#include "text_file.h"

using namespace gpu_agent;
using gpu_agent::testing::TempDir;

namespace {
const std::string kData = GPU_AGENT_TEST_DATA;
}

BOOST_AUTO_TEST_SUITE(names)

BOOST_AUTO_TEST_CASE(pci_ids_subset) {
  PciNames names(kData + "/pci.ids");
  BOOST_TEST(!names.error().has_value());
  BOOST_TEST(*names.vendor(0x10de) == "NVIDIA Corporation");
  BOOST_TEST(*names.product(0x10de, 0x20b2) == "GA100 [A100 SXM4 80GB]");
  BOOST_TEST(*names.product(0x10de, 0x2330) == "GH100[H100 SXM5 80GB]");  // sic, as pci.ids spells it
  BOOST_TEST(!names.product(0x10de, 0x2331).has_value());                 // left out on purpose
  BOOST_TEST(!names.vendor(0xabcd).has_value());
  BOOST_TEST(!names.error().has_value());  // an unknown ID is not an error
  BOOST_TEST(names.path() == kData + "/pci.ids");
}

// read_inventory releases the names once it has them; a daemon asks again every pass.
BOOST_AUTO_TEST_CASE(release_keeps_answers_and_reloads_for_new_ids) {
  TempDir dir;
  const std::string path = dir / "pci.ids";
  std::filesystem::copy_file(kData + "/pci.ids", path);
  PciNames names(path);
  BOOST_TEST(*names.vendor(0x10de) == "NVIDIA Corporation");
  names.release();
  BOOST_TEST(*names.product(0x10de, 0x20b2) == "GA100 [A100 SXM4 80GB]");  // parsed again
  names.release();
  std::filesystem::remove(path);
  BOOST_TEST(*names.vendor(0x10de) == "NVIDIA Corporation");  // answered without the file
  BOOST_TEST(*names.product(0x10de, 0x20b2) == "GA100 [A100 SXM4 80GB]");
  BOOST_TEST(!names.error().has_value());
}

BOOST_AUTO_TEST_CASE(corrupt_pci_ids_is_an_error_not_an_exit) {
  TempDir dir;
  const std::string path = dir / "pci.ids";
  gpu_agent::testing::write_text_file(path, "10de  NVIDIA Corporation\n\t20b2  GA100\n\tzzzz  garbage\n");
  PciNames names(path);
  BOOST_TEST(!names.vendor(0x10de).has_value());  // libpci's error() jumped back here instead of exiting
  BOOST_TEST_REQUIRE(names.error().has_value());
  BOOST_TEST(names.error()->find(path) != std::string::npos, *names.error());
  BOOST_TEST(names.error()->find("line 3") != std::string::npos, *names.error());
  BOOST_TEST(names.error()->back() != '\n');
  BOOST_TEST(!names.product(0x10de, 0x20b2).has_value());  // and stays unusable, quietly
}

// read_inventory loads the names on a thread of its own, then looks them up.
BOOST_AUTO_TEST_CASE(load_parses_ahead_and_lookups_answer_from_it) {
  TempDir dir;
  const std::string path = dir / "pci.ids";
  std::filesystem::copy_file(kData + "/pci.ids", path);
  PciNames names(path);
  names.load();
  std::filesystem::remove(path);  // the lookups below cannot read it again
  BOOST_TEST(*names.product(0x10de, 0x20b2) == "GA100 [A100 SXM4 80GB]");
  BOOST_TEST(*names.vendor(0x10de) == "NVIDIA Corporation");
  BOOST_TEST(!names.error().has_value());
  // once there are answers (a daemon's later pass), load() does not parse again
  names.release();
  names.load();
  BOOST_TEST(!names.error().has_value());
}

BOOST_AUTO_TEST_CASE(load_of_a_corrupt_pci_ids_is_an_error_not_an_exit) {
  TempDir dir;
  const std::string path = dir / "pci.ids";
  gpu_agent::testing::write_text_file(path, "10de  NVIDIA Corporation\n\tzzzz  garbage\n");
  PciNames names(path);
  names.load();
  BOOST_TEST_REQUIRE(names.error().has_value());
  BOOST_TEST(names.error()->find(path) != std::string::npos, *names.error());
  BOOST_TEST(names.error()->back() != '\n');
  BOOST_TEST(!names.vendor(0x10de).has_value());
}

BOOST_AUTO_TEST_CASE(missing_pci_ids_says_so_once) {
  PciNames names("/nonexistent/pci.ids");
  BOOST_TEST_REQUIRE(names.error().has_value());
  BOOST_TEST(names.error()->find("/nonexistent/pci.ids") != std::string::npos);
  BOOST_TEST(!names.vendor(0x10de).has_value());
}

BOOST_AUTO_TEST_CASE(hostname_precedence) {
  auto h = choose_hostname(std::string("cfg"), std::string("fx"), std::string("lv"));
  BOOST_TEST(h.name == "cfg");
  BOOST_TEST(h.source == "config");
  h = choose_hostname(std::nullopt, std::string("fx"), std::string("lv"));
  BOOST_TEST(h.name == "fx");
  BOOST_TEST(h.source == "fixture");
  h = choose_hostname(std::string(""), std::string(""), std::string("lv.example.org"));
  BOOST_TEST(h.name == "lv.example.org");
  BOOST_TEST(h.source == "libvirt");
  h = choose_hostname(std::nullopt, std::nullopt, std::nullopt);
  BOOST_TEST(!h.name.empty());
  BOOST_TEST((h.source == "fqdn" || h.source == "hostname"));
  BOOST_TEST(!local_hostname().empty());
}

BOOST_AUTO_TEST_SUITE_END()
