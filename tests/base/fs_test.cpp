// MemFs behaves like the kernel's sysfs for what the inventory asks of it,
// and RealFs on the same tree unpacked to disk gives the same answers.
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cerrno>
#include <string>
#include <vector>

#include "fixture.h"
#include "fs.h"
#include "scenarios.h"
#include "temp_dir.h"

using namespace gpu_agent;
using gpu_agent::testing::TempDir;

namespace {

constexpr const char* kGpu = "devices/pci0000:00/0000:00:01.0/0000:01:00.0";

// A small kernel-shaped tree with one of each kind of link trouble.
MemFs small_tree() {
  MemFs fs("small");
  fs.add_file(std::string(kGpu) + "/vendor", "0x10de\n");
  fs.add_file(std::string(kGpu) + "/class", "0x030200\n");
  fs.add_link(std::string(kGpu) + "/driver", "../../../../bus/pci/drivers/vfio-pci");
  fs.add_dir("bus/pci/drivers/vfio-pci");
  fs.add_link(std::string(kGpu) + "/iommu_group", "../../../../kernel/iommu_groups/7");
  fs.add_link("kernel/iommu_groups/7/devices/0000:01:00.0", "../../../../" + std::string(kGpu));
  fs.add_link("bus/pci/devices/0000:01:00.0", "../../../" + std::string(kGpu));
  fs.add_file("devices/pci0000:00/0000:00:01.0/class", "0x060400\n");
  fs.add_link("bus/pci/devices/0000:00:01.0", "../../../devices/pci0000:00/0000:00:01.0");
  fs.add_link("bus/pci/devices/0000:02:00.0", "../../../devices/pci0000:00/0000:00:02.0/0000:02:00.0");  // dangling
  fs.add_link("loop/self", "self");
  fs.add_link("loop/a", "b");
  fs.add_link("loop/b", "a");
  fs.add_dir("kernel/empty");
  fs.add_file("F/no-newline", "1");
  fs.add_file("F/empty", "");
  return fs;
}

// Paths asked of both implementations; every entry of the tree is added too.
std::vector<std::string> probe_paths(const MemFs& fs) {
  std::vector<std::string> p{
      "",
      "bus/pci/devices/0000:01:00.0/vendor",
      "bus/pci/devices/0000:01:00.0/..",  // the parent of the link's target, not bus/pci/devices
      "bus/pci/devices/0000:01:00.0/../class",
      "bus/pci/devices/0000:01:00.0/driver/0000:01:00.0",
      "bus/pci/devices/0000:01:00.0/iommu_group/devices/0000:01:00.0/vendor",
      "bus/pci/devices/0000:01:00.0/vendor/x",  // ENOTDIR
      "bus/pci/devices/0000:02:00.0",           // dangling
      "bus/pci/devices/0000:02:00.0/class",
      "bus/pci/devices/0000:09:00.0/class",  // absent
      "loop/self",
      "loop/a/x",
      "./bus//pci/./devices/0000:01:00.0/class",
  };
  for (const auto& [path, node] : fs.entries())
    if (!path.empty() && node.kind != MemFs::Node::Kind::error) p.push_back(path);
  return p;
}

void unpack(const MemFs& fs, const TempDir& dir) {
  auto r = unpack_fixture(fs, dir.path());
  BOOST_TEST_REQUIRE(r.ok(), (r.ok() ? std::string() : r.error().message));
}

// Same answer from both: success and value, or failure and errno.
template <typename T>
void same(const std::string& what, const Result<T>& mem, const Result<T>& real) {
  BOOST_TEST_CONTEXT(what) {
    BOOST_TEST(mem.ok() == real.ok());
    if (mem.ok() && real.ok()) BOOST_TEST((*mem == *real));
    if (!mem.ok() && !real.ok()) BOOST_TEST(mem.error().os_errno == real.error().os_errno);
  }
}

void compare_with_realfs(const MemFs& mem) {
  TempDir dir("gpu-agent-fs");
  unpack(mem, dir);
  RealFs real(dir.path());
  for (const auto& p : probe_paths(mem)) {
    same("read_file " + p, mem.read_file(p), real.read_file(p));
    same("read_link " + p, mem.read_link(p), real.read_link(p));
    same("list_dir " + p, mem.list_dir(p), real.list_dir(p));
    same("resolve " + p, mem.resolve(p), real.resolve(p));
    BOOST_TEST_CONTEXT("exists/is_link " << p) {
      BOOST_TEST(mem.exists(p) == real.exists(p));
      BOOST_TEST(mem.is_link(p) == real.is_link(p));
    }
    // read_under (RealFs: openat below one directory fd) answers as read_file
    // does, entry by entry, missing entries and a missing directory included.
    auto names = mem.list_dir(p);
    std::vector<std::string> under = names ? *names : std::vector<std::string>{};
    under.push_back("not-there");
    for (const char* leaf : {"vendor", "class", "iommu_group"}) {
      const auto m = mem.read_under(p, under, leaf);
      const auto r = real.read_under(p, under, leaf);
      BOOST_TEST_REQUIRE(m.size() == under.size());
      BOOST_TEST_REQUIRE(r.size() == under.size());
      for (size_t i = 0; i < under.size(); ++i) {
        const std::string each = p + "/" + under[i] + "/" + leaf;
        // (the unpacked tree has no error entries, so each Fs against itself)
        same("MemFs read_under vs read_file " + each, mem.read_file(each), m[i]);
        same("RealFs read_under vs read_file " + each, real.read_file(each), r[i]);
        if (!r[i].ok() && !real.read_file(each).ok())
          BOOST_TEST(r[i].error().message == real.read_file(each).error().message);
      }
    }
  }
}

}  // namespace

BOOST_AUTO_TEST_SUITE(memfs)

BOOST_AUTO_TEST_CASE(relative_links_resolve_like_the_kernel) {
  MemFs fs = small_tree();
  BOOST_TEST(*fs.read_file("bus/pci/devices/0000:01:00.0/vendor") == "0x10de\n");
  BOOST_TEST(*fs.resolve("bus/pci/devices/0000:01:00.0") == kGpu);
  BOOST_TEST(*fs.read_link("bus/pci/devices/0000:01:00.0") == "../../../" + std::string(kGpu));
  // ".." after a link goes to the target's parent, as path resolution does
  BOOST_TEST(*fs.resolve("bus/pci/devices/0000:01:00.0/..") == "devices/pci0000:00/0000:00:01.0");
  BOOST_TEST(*fs.read_file("bus/pci/devices/0000:01:00.0/../class") == "0x060400\n");
  // links through links: group back-link to the device, then its file
  BOOST_TEST(*fs.read_file("bus/pci/devices/0000:01:00.0/iommu_group/devices/0000:01:00.0/vendor") == "0x10de\n");
  BOOST_TEST(*fs.resolve("bus/pci/devices/0000:01:00.0/driver") == "bus/pci/drivers/vfio-pci");
  BOOST_TEST(fs.is_link("bus/pci/devices/0000:01:00.0"));
  BOOST_TEST(!fs.is_link("bus/pci/devices/0000:01:00.0/vendor"));  // the final component is a file
  BOOST_TEST(fs.exists("bus/pci/devices/0000:01:00.0/vendor"));
  // odd spellings of the same path
  BOOST_TEST(*fs.read_file("./bus//pci/./devices/0000:01:00.0/class") == "0x030200\n");
  BOOST_TEST(*fs.resolve("") == "");
}

BOOST_AUTO_TEST_CASE(absolute_targets_are_relative_to_the_fixture_root) {
  MemFs fs = small_tree();
  fs.add_link("abs", "/" + std::string(kGpu));
  BOOST_TEST(*fs.resolve("abs") == kGpu);
  BOOST_TEST(*fs.read_file("abs/class") == "0x030200\n");
  // ".." never climbs above the root
  BOOST_TEST(*fs.resolve("../../bus") == "bus");
}

BOOST_AUTO_TEST_CASE(dangling_link_is_enoent_but_still_a_link) {
  MemFs fs = small_tree();
  const std::string p = "bus/pci/devices/0000:02:00.0";
  BOOST_TEST(fs.read_file(p + "/class").error().os_errno == ENOENT);
  BOOST_TEST(fs.resolve(p).error().os_errno == ENOENT);
  BOOST_TEST(fs.list_dir(p).error().os_errno == ENOENT);
  BOOST_TEST(!fs.exists(p));
  BOOST_TEST(fs.is_link(p));
  BOOST_TEST(fs.read_link(p).ok());
  const auto msg = fs.read_file(p + "/class").error().message;
  BOOST_TEST(msg.find("small:bus/pci/devices/0000:02:00.0/class") != std::string::npos, msg);
  BOOST_TEST(msg.find("No such file or directory") != std::string::npos, msg);
}

BOOST_AUTO_TEST_CASE(loops_are_eloop) {
  MemFs fs = small_tree();
  for (const char* p : {"loop/self", "loop/a", "loop/b", "loop/a/x"}) {
    BOOST_TEST_CONTEXT(p) {
      BOOST_TEST(fs.read_file(p).error().os_errno == ELOOP);
      BOOST_TEST(fs.resolve(p).error().os_errno == ELOOP);
      BOOST_TEST(!fs.exists(p));
    }
  }
  BOOST_TEST(fs.is_link("loop/self"));
  BOOST_TEST(*fs.read_link("loop/a") == "b");  // reading the link itself is fine
}

BOOST_AUTO_TEST_CASE(forty_hops_resolve_and_forty_one_do_not) {
  // The kernel allows 40 links in one lookup; a fixture must fail where a host would.
  MemFs fs("hops");
  fs.add_file("target", "ok\n");
  for (int i = 0; i < 41; ++i) fs.add_link("l" + std::to_string(i), i == 40 ? "target" : "l" + std::to_string(i + 1));
  BOOST_TEST(*fs.read_file("l1") == "ok\n");  // l1 .. l40: 40 links
  BOOST_TEST(fs.read_file("l0").error().os_errno == ELOOP);
  TempDir dir("gpu-agent-hops");
  unpack(fs, dir);
  RealFs real(dir.path());
  BOOST_TEST(*real.read_file("l1") == "ok\n");
  BOOST_TEST(real.read_file("l0").error().os_errno == ELOOP);
}

BOOST_AUTO_TEST_CASE(files_and_directories_are_not_each_other) {
  MemFs fs = small_tree();
  BOOST_TEST(fs.read_file("bus/pci/devices/0000:01:00.0/vendor/x").error().os_errno == ENOTDIR);
  BOOST_TEST(fs.list_dir("bus/pci/devices/0000:01:00.0/vendor").error().os_errno == ENOTDIR);
  BOOST_TEST(fs.read_file("bus/pci/devices/0000:01:00.0").error().os_errno == EISDIR);
  BOOST_TEST(fs.read_link("bus/pci/devices/0000:01:00.0/vendor").error().os_errno == EINVAL);
  BOOST_TEST(fs.read_file("nothing/here").error().os_errno == ENOENT);
  BOOST_TEST(fs.list_dir("kernel/empty")->empty());
  BOOST_TEST(*fs.read_file("F/no-newline") == "1");
  BOOST_TEST(*fs.read_file("F/empty") == "");
}

BOOST_AUTO_TEST_CASE(listings_are_sorted_and_follow_links) {
  MemFs fs = small_tree();
  const std::vector<std::string> want{"0000:00:01.0", "0000:01:00.0", "0000:02:00.0"};
  BOOST_TEST(*fs.list_dir("bus/pci/devices") == want, boost::test_tools::per_element());
  const std::vector<std::string> gpu{"class", "driver", "iommu_group", "vendor"};
  BOOST_TEST(*fs.list_dir("bus/pci/devices/0000:01:00.0") == gpu, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(error_entries_fail_with_their_errno) {
  MemFs fs = small_tree();
  fs.add_error(std::string(kGpu) + "/numa_node", EACCES);
  fs.add_error("devices/locked", EIO);
  auto r = fs.read_file("bus/pci/devices/0000:01:00.0/numa_node");
  BOOST_TEST_REQUIRE(!r.ok());
  BOOST_TEST(r.error().os_errno == EACCES);
  BOOST_TEST(r.error().message.find("bus/pci/devices/0000:01:00.0/numa_node") != std::string::npos);
  BOOST_TEST(r.error().message.find("Permission denied") != std::string::npos);
  BOOST_TEST(fs.exists("bus/pci/devices/0000:01:00.0/numa_node"));  // it is there, just unreadable
  BOOST_TEST(fs.list_dir("devices/locked").error().os_errno == EIO);
  BOOST_TEST(fs.read_file("devices/locked/below").error().os_errno == EIO);  // walking through it fails too
  BOOST_TEST(fs.read_link("devices/locked").error().os_errno == EIO);
  // the listing of the directory still shows it, as ls would
  auto names = fs.list_dir("bus/pci/devices/0000:01:00.0");
  BOOST_TEST(std::count(names->begin(), names->end(), "numa_node") == 1);
}

BOOST_AUTO_TEST_CASE(remove_takes_the_subtree) {
  MemFs fs = small_tree();
  BOOST_TEST(fs.remove("devices/pci0000:00/0000:00:01.0/0000:01:00.0"));
  for (const auto& [path, node] : fs.entries())
    BOOST_TEST(path.rfind(std::string(kGpu), 0) != 0, path << " survived the removal");
  auto parent = fs.list_dir("devices/pci0000:00/0000:00:01.0");
  BOOST_TEST(std::count(parent->begin(), parent->end(), "0000:01:00.0") == 0);
  BOOST_TEST(*fs.read_file("devices/pci0000:00/0000:00:01.0/class") == "0x060400\n");  // a sibling with a common prefix
  BOOST_TEST(fs.read_file("bus/pci/devices/0000:01:00.0/vendor").error().os_errno == ENOENT);  // now dangling
  BOOST_TEST(fs.is_link("bus/pci/devices/0000:01:00.0"));
  BOOST_TEST(!fs.remove(kGpu));  // already gone
  BOOST_TEST(!fs.remove(""));    // the root stays
  // removing a link leaves its target alone
  BOOST_TEST(fs.remove("bus/pci/devices/0000:00:01.0"));
  BOOST_TEST(fs.exists("devices/pci0000:00/0000:00:01.0/class"));
}

BOOST_AUTO_TEST_CASE(display_names_the_origin) {
  MemFs fs("hosts/x.sysfs.txt");
  BOOST_TEST(fs.display("bus/pci/devices") == "hosts/x.sysfs.txt:bus/pci/devices");
  BOOST_TEST(fs.display("") == "hosts/x.sysfs.txt");
  RealFs real("/sys/");
  BOOST_TEST(real.display("bus/pci/devices") == "/sys/bus/pci/devices");
  BOOST_TEST(real.display("") == "/sys");
}

BOOST_AUTO_TEST_CASE(realfs_agrees_on_the_small_tree) { compare_with_realfs(small_tree()); }

BOOST_AUTO_TEST_CASE(realfs_agrees_on_scenario_trees) {
  for (const char* name : {"consumer-gpu-hdmi-audio", "t4-vgpu-timesliced", "broken"}) {
    BOOST_TEST_CONTEXT(name) { compare_with_realfs(gpu_agent::testing::build_scenario(name).fs()); }
  }
}

// list_read_under (RealFs: one fd for the listing and every file below it)
// answers as list_dir then read_under do, in both implementations, for every
// directory of the trees and for paths that are no directory.
void compare_list_read_under(const MemFs& mem) {
  TempDir dir("gpu-agent-fs");
  unpack(mem, dir);
  RealFs real(dir.path());
  for (const auto& p : probe_paths(mem)) {
    for (const Fs* fs : {static_cast<const Fs*>(&mem), static_cast<const Fs*>(&real)}) {
      BOOST_TEST_CONTEXT((fs == &mem ? "MemFs " : "RealFs ") << p) {
        auto both = fs->list_read_under(p, "class");
        auto names = fs->list_dir(p);
        BOOST_TEST_REQUIRE(both.ok() == names.ok());
        if (!names.ok()) {
          BOOST_TEST(both.error().message == names.error().message);
          continue;
        }
        BOOST_TEST((both->names == *names));
        const auto leaves = fs->read_under(p, *names, "class");
        BOOST_TEST_REQUIRE(both->leaves.size() == leaves.size());
        for (size_t i = 0; i < leaves.size(); ++i) same((*names)[i], both->leaves[i], leaves[i]);
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(list_read_under_is_list_dir_then_read_under) {
  compare_list_read_under(small_tree());
  compare_list_read_under(gpu_agent::testing::build_scenario("t4-vgpu-timesliced").fs());
}

// Fs::at(DIR) answers for PATH as the Fs does for DIR/PATH: values, errnos,
// messages and display. RealFs's view reads relative to an O_PATH fd of DIR;
// where DIR cannot be opened (a file, a dangling link, absent) it forwards.
// PATH "" is the directory DIR leads to, so read_link and is_link of "" are
// the directory's, not a link's, and are left out.
template <typename T>
void same_exactly(const std::string& what, const Result<T>& whole, const Result<T>& view) {
  same(what, whole, view);
  if (!whole.ok() && !view.ok()) BOOST_TEST(whole.error().message == view.error().message, what);
}

void compare_views(const Fs& fs, const std::vector<std::string>& dirs) {
  const std::vector<std::string> rel{"",   "vendor",   "class",     "driver", "iommu_group", "devices", "0000:01:00.0",
                                     "..", "../class", "not-there", "self",   "a/x"};
  for (const auto& d : dirs) {
    const auto view = fs.at(d);
    BOOST_TEST(view->concurrent_reads() == fs.concurrent_reads());
    for (const auto& p : rel) {
      const std::string whole = join_path(d, p);
      BOOST_TEST_CONTEXT("at(" << d << ") " << p) {
        same_exactly("read_file", fs.read_file(whole), view->read_file(p));
        same_exactly("list_dir", fs.list_dir(whole), view->list_dir(p));
        same_exactly("resolve", fs.resolve(whole), view->resolve(p));
        BOOST_TEST(fs.exists(whole) == view->exists(p));
        BOOST_TEST(fs.display(whole) == view->display(p));
        if (!p.empty()) {
          same_exactly("read_link", fs.read_link(whole), view->read_link(p));
          BOOST_TEST(fs.is_link(whole) == view->is_link(p));
        }
        auto both = view->list_read_under(p, "class");
        auto ref = fs.list_read_under(whole, "class");
        BOOST_TEST_REQUIRE(both.ok() == ref.ok());
        if (!ref.ok()) BOOST_TEST(both.error().message == ref.error().message);
        else
          for (size_t i = 0; i < ref->leaves.size(); ++i) same_exactly("leaf", ref->leaves[i], both->leaves[i]);
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(views_answer_as_the_whole_tree) {
  const MemFs mem = small_tree();
  TempDir dir("gpu-agent-fs");
  unpack(mem, dir);
  RealFs real(dir.path());
  std::vector<std::string> dirs = probe_paths(mem);
  dirs.push_back("nowhere/at/all");
  compare_views(mem, dirs);
  compare_views(real, dirs);
  // a view of a view is a view of the joined path
  const auto dev = real.at("bus/pci/devices/0000:01:00.0");
  const auto up = dev->at("..");
  BOOST_TEST(*up->read_file("class") == "0x060400\n");
  BOOST_TEST(up->display("class") == real.display("bus/pci/devices/0000:01:00.0/../class"));
}

BOOST_AUTO_TEST_CASE(realfs_reports_reads_outside_the_root) {
  TempDir dir("gpu-agent-out");
  MemFs fs("x");
  fs.add_link("escape", "../../..");
  unpack(fs, dir);
  RealFs real(dir.path());
  auto r = real.resolve("escape");
  BOOST_TEST_REQUIRE(!r.ok());
  BOOST_TEST(r.error().os_errno == EXDEV);
  BOOST_TEST(r.error().message.find("outside") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
