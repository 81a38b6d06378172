// The tree builder lays out what the kernel would: every link relative and
// resolving, back-links that point home, VFs where the PF's offset puts them.
// The scenarios are only as good as this.
#include <boost/test/unit_test.hpp>

#include <cerrno>
#include <set>
#include <stdexcept>
#include <string>

#include "fs.h"
#include "scenarios.h"

using namespace gpu_agent;
using namespace gpu_agent::testing;

BOOST_AUTO_TEST_SUITE(tree_builder)

BOOST_AUTO_TEST_CASE(every_link_of_every_healthy_scenario_resolves) {
  for (const auto& name : scenario_names()) {
    if (name == "broken") continue;
    BOOST_TEST_CONTEXT(name) {
      const TreeBuilder tb = build_scenario(name);
      size_t links = 0;
      for (const auto& [path, node] : tb.fs().entries()) {
        if (node.kind != MemFs::Node::Kind::link) continue;
        ++links;
        BOOST_TEST(node.data.front() != '/', path << " -> " << node.data << " is absolute");
        BOOST_TEST(tb.fs().resolve(path).ok(), path << " -> " << node.data << " does not resolve");
      }
      BOOST_TEST(links > 0u);
    }
  }
}

BOOST_AUTO_TEST_CASE(broken_scenario_is_broken_only_where_it_says) {
  const TreeBuilder tb = broken();
  std::set<std::string> bad;
  for (const auto& [path, node] : tb.fs().entries())
    if (node.kind == MemFs::Node::Kind::link && !tb.fs().resolve(path).ok()) bad.insert(path);
  // 05 and 07 lost their directories (with their driver/group back-links), 06 has a self-link
  const std::set<std::string> want{
      "bus/pci/devices/0000:05:00.0",
      "bus/pci/devices/0000:07:00.0",
      "bus/pci/drivers/vfio-pci/0000:05:00.0",
      "bus/pci/drivers/vfio-pci/0000:07:00.0",
      "devices/pci0000:00/0000:00:06.0/0000:06:00.0/driver",
      "devices/pci0000:00/0000:00:07.0/0000:07:00.0",
      "kernel/iommu_groups/11/devices/0000:05:00.0",
      "kernel/iommu_groups/15/devices/0000:07:00.0",
  };
  BOOST_TEST(bad == want, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(device_layout_is_kernel_shaped) {
  TreeBuilder tb("h");
  tb.add_bridge("0000:40:01.1", 0x1022, 0x1483, Fn().group(9));
  tb.add_gpu("0000:41:00.0", 0x10de, 0x2235, Fn().under("0000:40:01.1").driver("nvidia").group(10).numa(0));
  const MemFs& fs = tb.fs();
  BOOST_TEST(tb.dev_path("0000:41:00.0") == "devices/pci0000:40/0000:40:01.1/0000:41:00.0");
  BOOST_TEST(*fs.read_link("bus/pci/devices/0000:41:00.0") == "../../../devices/pci0000:40/0000:40:01.1/0000:41:00.0");
  BOOST_TEST(*fs.read_link(tb.dev_path("0000:41:00.0") + "/driver") == "../../../../bus/pci/drivers/nvidia");
  BOOST_TEST(*fs.resolve("bus/pci/drivers/nvidia/0000:41:00.0") == tb.dev_path("0000:41:00.0"));
  BOOST_TEST(*fs.resolve("kernel/iommu_groups/10/devices/0000:41:00.0") == tb.dev_path("0000:41:00.0"));
  BOOST_TEST(*fs.read_file("bus/pci/devices/0000:41:00.0/vendor") == "0x10de\n");
  BOOST_TEST(*fs.read_file("bus/pci/devices/0000:41:00.0/class") == "0x030200\n");
  BOOST_TEST(*fs.read_file("bus/pci/devices/0000:41:00.0/numa_node") == "0\n");
  BOOST_TEST(!fs.exists("bus/pci/devices/0000:41:00.0/boot_vga"));  // 3D controller: no boot_vga
  BOOST_TEST(*fs.read_file("bus/pci/devices/0000:40:01.1/class") == "0x060400\n");
  BOOST_TEST(*fs.resolve("bus/pci/devices/0000:40:01.1/driver") == "bus/pci/drivers/pcieport");

  // moving the driver and the group leaves no stale back-links, and an emptied group goes away
  tb.set_driver("0000:41:00.0", "vfio-pci").set_group("0000:41:00.0", 11);
  BOOST_TEST(!fs.exists("bus/pci/drivers/nvidia/0000:41:00.0"));
  BOOST_TEST(fs.exists("bus/pci/drivers/vfio-pci/0000:41:00.0"));
  BOOST_TEST(!fs.exists("kernel/iommu_groups/10"));
  BOOST_TEST(*fs.resolve("bus/pci/devices/0000:41:00.0/iommu_group") == "kernel/iommu_groups/11");
  tb.clear_iommu_groups();
  BOOST_TEST(fs.list_dir("kernel/iommu_groups")->empty());
  BOOST_TEST(!fs.exists("bus/pci/devices/0000:40:01.1/iommu_group"));
}

BOOST_AUTO_TEST_CASE(vfs_mdevs_and_vendor_files) {
  TreeBuilder tb("h");
  tb.add_gpu("0000:41:00.0", 0x10de, 0x2235, Fn().driver("nvidia").group(10).numa(1));
  VfOptions vo;
  vo.first_group = 100;
  tb.add_vfs("0000:41:00.0", 12, vo);
  const MemFs& fs = tb.fs();
  const auto vfs = tb.vfs_of("0000:41:00.0");
  BOOST_TEST_REQUIRE(vfs.size() == 12u);
  BOOST_TEST(vfs.front() == "0000:41:00.4");
  BOOST_TEST(vfs[3] == "0000:41:00.7");
  BOOST_TEST(vfs[4] == "0000:41:01.0");  // devfn carries into the slot
  BOOST_TEST(vfs.back() == "0000:41:01.7");
  BOOST_TEST(*fs.read_file("bus/pci/devices/0000:41:00.0/sriov_totalvfs") == "12\n");
  BOOST_TEST(*fs.read_file("bus/pci/devices/0000:41:00.0/sriov_numvfs") == "12\n");
  BOOST_TEST(*fs.read_link("bus/pci/devices/0000:41:00.0/virtfn4") == "../0000:41:01.0");
  BOOST_TEST(*fs.read_link("bus/pci/devices/0000:41:01.0/physfn") == "../0000:41:00.0");
  BOOST_TEST(*fs.read_file("bus/pci/devices/0000:41:01.0/numa_node") == "1\n");  // inherited
  BOOST_TEST(*fs.resolve("bus/pci/devices/0000:41:01.0/iommu_group") == "kernel/iommu_groups/104");
  BOOST_TEST(*fs.resolve("bus/pci/devices/0000:41:00.0/virtfn0") == tb.dev_path("0000:41:00.4"));

  tb.add_mdev_types(vfs[0], {{"nvidia-565", "NVIDIA A40-24Q", "num_heads=4, framebuffer=24576M", 1, "vfio-pci"}});
  tb.add_mdev(vfs[0], "nvidia-565", "c0ffee00-5a1e-4f00-8d2b-a40a40a40a24");
  const std::string t = "bus/pci/devices/0000:41:00.4/mdev_supported_types/nvidia-565";
  BOOST_TEST(*fs.read_file(t + "/name") == "NVIDIA A40-24Q\n");
  BOOST_TEST(*fs.resolve("bus/mdev/devices/c0ffee00-5a1e-4f00-8d2b-a40a40a40a24") ==
             tb.dev_path("0000:41:00.4") + "/c0ffee00-5a1e-4f00-8d2b-a40a40a40a24");
  BOOST_TEST(*fs.resolve("bus/mdev/devices/c0ffee00-5a1e-4f00-8d2b-a40a40a40a24/mdev_type") ==
             tb.dev_path("0000:41:00.4") + "/mdev_supported_types/nvidia-565");
  BOOST_TEST(*fs.resolve(t + "/devices/c0ffee00-5a1e-4f00-8d2b-a40a40a40a24") ==
             tb.dev_path("0000:41:00.4") + "/c0ffee00-5a1e-4f00-8d2b-a40a40a40a24");

  tb.add_vendor_vgpu(vfs[1], {{1041, "NVIDIA H100-1-10C"}, {1052, "NVIDIA H100-20C"}}, 0);
  BOOST_TEST(*fs.read_file("bus/pci/devices/0000:41:00.5/nvidia/creatable_vgpu_types") ==
             "ID    : vGPU Name\n1041  : NVIDIA H100-1-10C\n1052  : NVIDIA H100-20C\n");
  BOOST_TEST(*fs.read_file("bus/pci/devices/0000:41:00.5/nvidia/current_vgpu_type") == "0\n");
}

BOOST_AUTO_TEST_CASE(mistakes_in_a_test_are_loud) {
  TreeBuilder tb("h");
  tb.add_gpu("0000:01:00.0", 0x10de, 0x20b5);
  BOOST_CHECK_THROW(tb.remove("0000:01:00.0/no-such-file"), std::invalid_argument);
  BOOST_CHECK_THROW(tb.add_gpu("0000:01:00.0", 0x10de, 0x20b5), std::invalid_argument);
  BOOST_CHECK_THROW(tb.add_gpu("01:00.0", 0x10de, 0x20b5), std::invalid_argument);
  BOOST_CHECK_THROW(tb.add_gpu("0000:02:00.0", 0x10de, 0x20b5, Fn().under("0000:00:09.0")), std::invalid_argument);
  BOOST_CHECK_THROW(tb.set_available("0000:01:00.0", "nvidia-1", 1), std::invalid_argument);
  BOOST_CHECK_THROW(tb.add_mdev("0000:01:00.0", "nvidia-1", "u"), std::invalid_argument);
  BOOST_CHECK_THROW(offset_address("0000:01:1f.7", 1), std::invalid_argument);
  BOOST_CHECK_THROW(build_scenario("no-such-host"), std::invalid_argument);
}

BOOST_AUTO_TEST_SUITE_END()
