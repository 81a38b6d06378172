// The text fixture format: what format_fixture writes parse_fixture reads
// back to the same tree, errors name the file and line, the legacy capture
// loads, and the committed scenario files are what the builders make now.
#include <boost/test/unit_test.hpp>

#include <cerrno>
#include <string>
#include <vector>

#include "fixture.h"
#include "scenarios.h"
#include "temp_dir.h"
#include "text_file.h"

using namespace gpu_agent;
namespace t = gpu_agent::testing;

namespace {

const std::string kData = GPU_AGENT_TEST_DATA;

// Two trees are equal when every entry has the same kind, content and children.
void same_tree(const MemFs& a, const MemFs& b) {
  const auto& ea = a.entries();
  const auto& eb = b.entries();
  BOOST_TEST(ea.size() == eb.size());
  for (const auto& [path, node] : ea) {
    auto it = eb.find(path);
    if (it == eb.end()) {
      BOOST_TEST(false, "only in the first tree: " << path);
      continue;
    }
    BOOST_TEST_CONTEXT("entry '" << path << "'") {
      BOOST_TEST(static_cast<int>(node.kind) == static_cast<int>(it->second.kind));
      BOOST_TEST(node.data == it->second.data);
      BOOST_TEST(node.err == it->second.err);
      BOOST_TEST((node.children == it->second.children));
    }
  }
}

Fixture parse_ok(const std::string& text, const std::string& origin = "test.txt") {
  auto fx = parse_fixture(text, origin);
  BOOST_TEST_REQUIRE(fx.ok(), (fx.ok() ? std::string() : fx.error().message));
  return std::move(*fx);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(fixture_format)

BOOST_AUTO_TEST_CASE(every_scenario_round_trips) {
  for (const auto& name : t::scenario_names()) {
    BOOST_TEST_CONTEXT(name) {
      const t::TreeBuilder tb = t::build_scenario(name);
      const std::string text = tb.fixture_text();
      Fixture fx = parse_ok(text, name);
      same_tree(tb.fs(), *fx.fs);
      BOOST_TEST(fx.meta.at("hostname") == tb.hostname());
      BOOST_TEST(format_fixture(*fx.fs, fx.meta) == text);  // stable: writing it again changes nothing
    }
  }
}

BOOST_AUTO_TEST_CASE(awkward_values_round_trip) {
  MemFs fs("v");
  const std::vector<std::pair<std::string, std::string>> files{
      {"a/newline-only", "\n"},      {"a/empty", ""},
      {"a/no-newline", "1"},         {"a/two-lines", "ID    : vGPU Name\n1041  : NVIDIA H100-1-10C\n"},
      {"a/equals", "a = b\n"},       {"a/arrow", "x -> y\n"},
      {"a/leading-space", " x\n"},   {"a/trailing-space", "x \n"},
      {"a/backslash", "C:\\path\n"}, {"a/binary", std::string("\x00\x01\xfe\n", 4)},
      {"a/crlf", "x\r\n"},
  };
  for (const auto& [p, v] : files) fs.add_file(p, v);
  fs.add_dir("a/empty-dir");
  fs.add_link("a/link", "../b/target");
  fs.add_error("a/locked", EACCES);
  fs.add_error("a/gone", ENODEV);
  const std::map<std::string, std::string> meta{{"hostname", "compute-7"}, {"kernel", "6.1.0-27-amd64"}};
  const std::string text = format_fixture(fs, meta);
  BOOST_TEST(text.find("e a/locked EACCES\n") != std::string::npos);
  BOOST_TEST(text.find("d a/empty-dir\n") != std::string::npos);
  BOOST_TEST(text.find("F a/no-newline = 1\n") != std::string::npos);
  BOOST_TEST(text.find("f a/newline-only = \n") != std::string::npos);
  BOOST_TEST(text.find("@hostname compute-7\n") != std::string::npos);
  Fixture fx = parse_ok(text);
  same_tree(fs, *fx.fs);
  BOOST_TEST((fx.meta == meta));
  for (const auto& [p, v] : files) BOOST_TEST_CONTEXT(p) {
      BOOST_TEST(*fx.fs->read_file(p) == v);
    }
  BOOST_TEST(fx.fs->read_file("a/locked").error().os_errno == EACCES);
  BOOST_TEST(fx.fs->read_file("a/gone").error().os_errno == ENODEV);
}

BOOST_AUTO_TEST_CASE(hand_written_fixture_with_comments_and_blank_lines) {
  Fixture fx = parse_ok(
      "# gpu-agent sysfs fixture v1\n"
      "\n"
      "@hostname  gpu-7 \n"
      "@empty\n"
      "   \n"
      "d kernel/iommu_groups\r\n"
      "f devices/pci0000:00/0000:00:06.0/vendor = 0x10de\n"
      "l bus/pci/devices/0000:00:06.0 -> ../../../devices/pci0000:00/0000:00:06.0\n"
      "e devices/pci0000:00/0000:00:06.0/config EIO");  // no final newline
  BOOST_TEST(fx.meta.at("hostname") == "gpu-7");
  BOOST_TEST(fx.meta.at("empty") == "");
  BOOST_TEST(fx.fs->list_dir("kernel/iommu_groups")->empty());
  BOOST_TEST(*fx.fs->read_file("bus/pci/devices/0000:00:06.0/vendor") == "0x10de\n");
  BOOST_TEST(fx.fs->read_file("bus/pci/devices/0000:00:06.0/config").error().os_errno == EIO);
}

BOOST_AUTO_TEST_CASE(parse_errors_name_the_file_and_line) {
  struct Row {
    std::string line, says;
  };
  const std::vector<Row> rows{
      {"x devices/a", "unknown line kind 'x'"},
      {"fdevices/a = 1", "unknown line"},
      {"d", "unknown line"},
      {"f devices/a", "file line needs ' = '"},
      {"l devices/a ../b", "link line needs ' -> '"},
      {"l devices/a -> ", "link target is empty"},
      {"e devices/a", "error line needs an errno name"},
      {"e devices/a EWHATEVER", "unknown errno name 'EWHATEVER'"},
      {"@ value", "metadata line needs a key"},
      {"f devices/a = bad\\q", "unknown escape"},
      {"f devices/a = \\x4", "two hex digits"},
      {"f devices/a = trailing\\", "dangling backslash"},
  };
  for (const auto& r : rows) {
    BOOST_TEST_CONTEXT(r.line) {
      auto fx = parse_fixture("# gpu-agent sysfs fixture v1\n@hostname h\n" + r.line + "\nd ok\n", "hosts/bad.txt");
      BOOST_TEST_REQUIRE(!fx.ok());
      const std::string& m = fx.error().message;
      BOOST_TEST(m.rfind("hosts/bad.txt:3: ", 0) == 0, m);
      BOOST_TEST(m.find(r.says) != std::string::npos, m);
    }
  }
}

BOOST_AUTO_TEST_CASE(missing_fixture_file_names_the_path) {
  auto fx = load_fixture_file(kData + "/hosts/no-such-host.sysfs.txt");
  BOOST_TEST_REQUIRE(!fx.ok());
  BOOST_TEST(fx.error().os_errno == ENOENT);
  BOOST_TEST((fx.error().kind == gpu_agent::ErrorKind::not_found));
  BOOST_TEST(fx.error().message.find("no-such-host.sysfs.txt") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(legacy_capture_loads_into_kernel_shape) {
  const std::string path = kData + "/hosts/h100-passthrough-guest.sysfs.txt";
  auto fx = load_fixture_file(path);
  BOOST_TEST_REQUIRE(fx.ok(), (fx.ok() ? std::string() : fx.error().message));
  const MemFs& fs = *fx->fs;
  const std::vector<std::string> devices{"0000:00:00.0", "0000:00:01.0", "0000:00:02.0", "0000:00:03.0",
                                         "0000:00:04.0", "0000:00:05.0", "0000:00:06.0"};
  BOOST_TEST(*fs.list_dir("bus/pci/devices") == devices, boost::test_tools::per_element());
  const std::string gpu = "bus/pci/devices/0000:00:06.0/";
  BOOST_TEST(*fs.read_file(gpu + "vendor") == "0x10de\n");  // the capture's trailing space is gone
  BOOST_TEST(*fs.read_file(gpu + "device") == "0x2330\n");
  BOOST_TEST(*fs.read_file(gpu + "class") == "0x030200\n");
  BOOST_TEST(*fs.read_file(gpu + "numa_node") == "-1\n");
  BOOST_TEST(*fs.read_file(gpu + "current_link_speed") == "32.0 GT/s PCIe\n");  // inner spaces kept
  BOOST_TEST(*fs.resolve(gpu + "driver") == "bus/pci/drivers/nvidia");
  BOOST_TEST(!fs.exists(gpu + "iommu_group"));
  BOOST_TEST(fs.list_dir("kernel/iommu_groups")->empty());
  BOOST_TEST(!fs.exists("bus/pci/devices/0000:00:00.0/driver"));
  BOOST_TEST(fx->meta.empty());
  BOOST_TEST(fs.display("") == path);
}

BOOST_AUTO_TEST_CASE(real_capture_is_unedited) {
  // A capture of a real host is evidence: it is loaded as it is, never touched up.
  // FNV-1a of the file as captured; if this fails, restore the file instead of updating the number.
  const std::string text = t::read_text_file(kData + "/hosts/h100-passthrough-guest.sysfs.txt");
  uint64_t h = 0xcbf29ce484222325ull;
  for (char c : text) h = (h ^ static_cast<unsigned char>(c)) * 0x100000001b3ull;
  BOOST_TEST(text.size() == 2985u);
  BOOST_TEST(h == 0xe8a3cc0c5aeee31full);
}

BOOST_AUTO_TEST_CASE(legacy_links_and_mdev_types_are_rebuilt) {
  Fixture fx = parse_ok(
      "### device 0000:41:00.0\n"
      "0000:41:00.0/vendor = 0x10de \n"
      "0000:41:00.0/driver -> nvidia\n"
      "0000:41:00.0/iommu_group -> 12\n"
      "0000:41:00.0/virtfn0 -> 0000:41:00.4\n"
      "### device 0000:41:00.4\n"
      "0000:41:00.4/physfn -> 0000:41:00.0\n"
      "0000:41:00.4/iommu_group -> 13\n"
      "0000:41:00.4/mdev_supported_types/nvidia-565 name=NVIDIA A40-24Q available_instances=1 "
      "device_api=vfio-pci description=num_heads=4, frl_config=60, framebuffer=24576M, "
      "max_resolution=7680x4320, max_instance=2\n",
      "legacy.txt");
  const MemFs& fs = *fx.fs;
  BOOST_TEST(*fs.resolve("bus/pci/devices/0000:41:00.0/iommu_group") == "kernel/iommu_groups/12");
  BOOST_TEST(*fs.resolve("kernel/iommu_groups/13/devices/0000:41:00.4") == "devices/0000:41:00.4");
  BOOST_TEST(*fs.resolve("bus/pci/devices/0000:41:00.0/virtfn0") == "devices/0000:41:00.4");
  BOOST_TEST(*fs.resolve("bus/pci/devices/0000:41:00.4/physfn") == "devices/0000:41:00.0");
  const std::string t = "bus/pci/devices/0000:41:00.4/mdev_supported_types/nvidia-565/";
  BOOST_TEST(*fs.read_file(t + "name") == "NVIDIA A40-24Q\n");
  BOOST_TEST(*fs.read_file(t + "available_instances") == "1\n");
  BOOST_TEST(*fs.read_file(t + "device_api") == "vfio-pci\n");
  BOOST_TEST(*fs.read_file(t + "description") ==
             "num_heads=4, frl_config=60, framebuffer=24576M, max_resolution=7680x4320, max_instance=2\n");
  BOOST_TEST(fs.list_dir(t + "devices")->empty());
}

BOOST_AUTO_TEST_CASE(legacy_parse_error_names_the_line) {
  auto fx = parse_fixture("### device 0000:00:06.0\n0000:00:06.0/vendor = 0x10de \nnot a capture line\n", "old.txt");
  BOOST_TEST_REQUIRE(!fx.ok());
  BOOST_TEST(fx.error().message.rfind("old.txt:3: ", 0) == 0, fx.error().message);
}

BOOST_AUTO_TEST_CASE(unpacked_error_entries_fail_to_read) {
  // unpack_fixture turns an error entry into a directory: reading it as a file
  // then fails for real (EISDIR), so RealFs sees a read error where MemFs does.
  MemFs fs("e");
  fs.add_error("dev/device", EACCES);
  t::TempDir dir("gpu-agent-unpack");
  BOOST_TEST_REQUIRE(unpack_fixture(fs, dir.path()).ok());
  RealFs real(dir.path());
  auto r = real.read_file("dev/device");
  BOOST_TEST_REQUIRE(!r.ok());
  BOOST_TEST(r.error().os_errno == EISDIR);
  // and a second unpack into a non-empty directory fails on the existing link or file, naming it
  MemFs links("l");
  links.add_link("a", "b");
  BOOST_TEST_REQUIRE(unpack_fixture(links, dir.path()).ok());
  auto again = unpack_fixture(links, dir.path());
  BOOST_TEST_REQUIRE(!again.ok());
  BOOST_TEST(again.error().message.find(dir.path() + "/a") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(committed_fixtures_match_the_builders) {
  // Regenerate with `make-fixtures` or GPU_AGENT_REGENERATE=1, then review the diff.
  for (const auto& name : t::scenario_names()) {
    BOOST_TEST_CONTEXT(name) {
      const std::string diff = t::check_golden(kData + "/hosts/" + name + ".sysfs.txt",
                                               t::build_scenario(name).fixture_text());
      BOOST_TEST(diff.empty(), diff);
    }
  }
}

BOOST_AUTO_TEST_CASE(committed_fixtures_stay_small) {
  for (const auto& name : t::scenario_names()) {
    BOOST_TEST_CONTEXT(name) { BOOST_TEST(t::build_scenario(name).fixture_text().size() < 2u * 1024 * 1024); }
  }
}

BOOST_AUTO_TEST_CASE(broken_fixture_records_the_unreadable_file) {
  const std::string text = t::read_text_file(kData + "/hosts/broken.sysfs.txt");
  BOOST_TEST(text.find("e devices/pci0000:00/0000:00:08.0/0000:08:00.0/device EACCES\n") != std::string::npos);
  BOOST_TEST(text.find("F devices/pci0000:00/0000:00:04.0/0000:04:00.0/class = \n") != std::string::npos);
  BOOST_TEST(text.find("l devices/pci0000:00/0000:00:06.0/0000:06:00.0/driver -> driver\n") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_CASE(format_is_chosen_by_the_first_entry_not_by_a_later_comment) {
  // a v1 file whose comment reads like the old format stays v1
  auto v1 = parse_fixture(
      "# gpu-agent sysfs fixture v1\nf bus/pci/devices/x/vendor = 0x10de\n"
      "### device 0000:00:06.0 (a note, not an entry)\n",
      "v1.txt");
  BOOST_REQUIRE(v1.ok());
  BOOST_TEST(*v1->fs->read_file("bus/pci/devices/x/vendor") == "0x10de\n");
  // an old capture with a comment before its first device is still the old format
  auto old = parse_fixture("# captured on gpu7\n\n### device 0000:00:06.0\n0000:00:06.0/vendor = 0x10de \n", "old.txt");
  BOOST_REQUIRE(old.ok());
  BOOST_TEST(*old->fs->read_file("bus/pci/devices/0000:00:06.0/vendor") == "0x10de\n");
}
