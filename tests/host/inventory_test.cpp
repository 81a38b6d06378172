// The inventory and its verdict on every fixture host, and on one-line
// variations of them built with the TreeBuilder.
#include <boost/test/unit_test.hpp>

#include <cerrno>
#include <set>
#include <tuple>
#include <string>
#include <vector>

#include "capture.h"
#include "fixture.h"
#include "inventory.h"
#include "inventory_helpers.h"
#include "pci_names.h"
#include "scenarios.h"
#include "temp_dir.h"

using namespace gpu_agent;
using namespace gpu_agent::testing;

namespace {

const std::string kData = GPU_AGENT_TEST_DATA;

std::vector<std::string> strings(std::initializer_list<std::string_view> l) {
  return std::vector<std::string>(l.begin(), l.end());
}

}  // namespace

BOOST_AUTO_TEST_SUITE(inventory)

// ------------------------------------------------------------- real capture

BOOST_AUTO_TEST_CASE(h100_passthrough_guest_real_capture) {
  auto fx = load_fixture_file(kData + "/hosts/h100-passthrough-guest.sysfs.txt");
  BOOST_TEST_REQUIRE(fx.ok(), (fx.ok() ? std::string() : fx.error().message));
  PciNames names("/usr/share/misc/pci.ids");  // the system's pci.ids, through libpci
  BOOST_TEST_REQUIRE(!names.error().has_value());
  const Inventory inv = inventory_of(*fx->fs, &names);

  BOOST_TEST(!inv.iommu_enabled);
  BOOST_TEST(inv.warnings.empty());
  BOOST_TEST(gpu_addresses(inv) == strings({"0000:00:06.0"}), boost::test_tools::per_element());
  const Gpu& g = inv.gpus.at(0);
  BOOST_TEST(g.id_pair() == "10de:2330");
  BOOST_TEST(g.class_code == 0x030200u);
  BOOST_TEST(*g.subsystem_vendor_id == 0x10deu);
  BOOST_TEST(*g.subsystem_device_id == 0x16c1u);
  BOOST_TEST(*g.revision == 0xa1u);
  BOOST_TEST(g.numa_node == -1);
  BOOST_TEST(*g.driver == "nvidia");
  BOOST_TEST(!g.iommu_group.has_value());
  BOOST_TEST(!g.boot_vga);
  BOOST_TEST(!g.sriov.has_value());
  BOOST_TEST(g.mdev_types.empty());
  BOOST_TEST_REQUIRE(g.vendor_name.has_value());
  BOOST_TEST(contains(*g.vendor_name, "NVIDIA"));
  BOOST_TEST_REQUIRE(g.product_name.has_value());
  BOOST_TEST(contains(*g.product_name, "H100"), *g.product_name);
  // the verdict, and why
  BOOST_TEST(!g.assignable);
  BOOST_TEST((g.mode == GpuMode::passthrough));
  BOOST_TEST(problem_codes(g) == strings({"iommu_off", "driver_not_vfio"}), boost::test_tools::per_element());
  const Problem& drv = problem_of(g, "driver_not_vfio");
  BOOST_TEST(contains(drv.message, "0000:00:06.0 is bound to nvidia"));
  BOOST_TEST(contains(drv.fix, "ids=10de:2330"));
  BOOST_TEST(contains(problem_of(g, "iommu_off").fix, "intel_iommu=on"));
  // the virtio devices and the host bridge around it are not GPUs
  BOOST_TEST(find_gpu(inv, "0000:00:04.0") == nullptr);  // class ffff00
}

// ------------------------------------------------------------- 8x A100

BOOST_AUTO_TEST_CASE(a100_all_eight_assignable) {
  MapNames names;
  names.vendors[0x10de] = "NVIDIA Corporation";
  names.products[{0x10de, 0x20b2}] = "GA100 [A100 SXM4 80GB]";
  const Inventory inv = inventory_of(a100_8x_passthrough().fs(), &names);
  BOOST_TEST(inv.iommu_enabled);
  BOOST_TEST(inv.warnings.empty());
  BOOST_TEST(inv.mdevs.empty());
  BOOST_TEST(gpu_addresses(inv) == std::vector<std::string>(kA100Gpus.begin(), kA100Gpus.end()),
             boost::test_tools::per_element());
  std::set<int64_t> groups;
  for (size_t i = 0; i < inv.gpus.size(); ++i) {
    const Gpu& g = inv.gpus[i];
    BOOST_TEST_CONTEXT(g.address.to_string()) {
      BOOST_TEST(g.assignable);
      BOOST_TEST((g.mode == GpuMode::passthrough));
      BOOST_TEST(g.problems.empty());
      BOOST_TEST(g.id_pair() == "10de:20b2");
      BOOST_TEST(*g.product_name == "GA100 [A100 SXM4 80GB]");
      BOOST_TEST(*g.vendor_name == "NVIDIA Corporation");
      BOOST_TEST(*g.subsystem_device_id == 0x147fu);
      BOOST_TEST(g.class_code == 0x030200u);
      BOOST_TEST(*g.driver == "vfio-pci");
      BOOST_TEST(g.numa_node == (i < 4 ? 0 : 1));
      BOOST_TEST_REQUIRE(g.iommu_group.has_value());
      groups.insert(*g.iommu_group);
      BOOST_TEST(g.group_members.empty());  // alone in its group
      BOOST_TEST(!g.boot_vga);              // a 3D controller has no boot_vga file
      // canonical path: behind the root port and both switch ports
      BOOST_TEST(g.sysfs_path.rfind("devices/pci0000:", 0) == 0u);
      BOOST_TEST(std::count(g.sysfs_path.begin(), g.sysfs_path.end(), '/') == 5);
    }
  }
  BOOST_TEST(groups.size() == 8u);
  for (auto sw : kA100NvSwitches) BOOST_TEST(find_gpu(inv, sw) == nullptr, sw << " is an NVSwitch, not a GPU");
  BOOST_TEST(find_gpu(inv, "0000:21:00.0") == nullptr);  // the NIC
  BOOST_TEST(find_gpu(inv, "0000:e1:00.0") == nullptr);  // NVMe
}

BOOST_AUTO_TEST_CASE(a100_variants) {
  {  // an NVSwitch in a GPU's group: not a bridge class, so the group is shared
    TreeBuilder tb = a100_8x_passthrough();
    const auto group = *inventory_of(tb.fs()).gpus[0].iommu_group;
    tb.set_group(kA100NvSwitches[0], group);
    const Inventory inv = inventory_of(tb.fs());
    const Gpu& g = gpu_at(inv, kA100Gpus[0]);
    BOOST_TEST(!g.assignable);
    BOOST_TEST(problem_codes(g) == strings({"group_shared"}), boost::test_tools::per_element());
    const Problem& p = problem_of(g, "group_shared");
    BOOST_TEST(contains(p.message, std::string(kA100NvSwitches[0]) + " class 068000, driver nvidia-nvswitch"),
               p.message);
    BOOST_TEST(contains(p.fix, "ACS"));
    BOOST_TEST_REQUIRE(g.group_members.size() == 1u);
    BOOST_TEST(!g.group_members[0].same_card);
    BOOST_TEST(*g.group_members[0].product_id == 0x1af1u);
    for (size_t i = 1; i < inv.gpus.size(); ++i) BOOST_TEST(inv.gpus[i].assignable);
  }
  {  // a switch port (pcieport) in the group is harmless
    TreeBuilder tb = a100_8x_passthrough();
    tb.set_group("0000:06:00.0", *inventory_of(tb.fs()).gpus[0].iommu_group);
    const Inventory inv = inventory_of(tb.fs());
    const Gpu& g = gpu_at(inv, kA100Gpus[0]);
    BOOST_TEST(g.assignable);
    BOOST_TEST(g.group_members.size() == 1u);
  }
  {  // back on nvidia: passthrough needs vfio-pci, the fix names the command
    TreeBuilder tb = a100_8x_passthrough();
    tb.set_driver(kA100Gpus[3], "nvidia");
    const Inventory inv = inventory_of(tb.fs());
    const Gpu& g = gpu_at(inv, kA100Gpus[3]);
    BOOST_TEST(!g.assignable);
    BOOST_TEST((g.mode == GpuMode::passthrough));
    BOOST_TEST(problem_codes(g) == strings({"driver_not_vfio"}), boost::test_tools::per_element());
    BOOST_TEST(contains(problem_of(g, "driver_not_vfio").fix, "driverctl set-override 0000:4e:00.0 vfio-pci"));
  }
  {  // unbound
    TreeBuilder tb = a100_8x_passthrough();
    tb.set_driver(kA100Gpus[3], std::nullopt);
    const Inventory inv = inventory_of(tb.fs());
    const Gpu& g = gpu_at(inv, kA100Gpus[3]);
    BOOST_TEST(!g.driver.has_value());
    BOOST_TEST(contains(problem_of(g, "driver_not_vfio").message, "bound to no driver"));
  }
  {  // IOMMU on, but this GPU in no group
    TreeBuilder tb = a100_8x_passthrough();
    tb.set_group(kA100Gpus[7], std::nullopt);
    const Inventory inv = inventory_of(tb.fs());
    const Gpu& g = gpu_at(inv, kA100Gpus[7]);
    BOOST_TEST(problem_codes(g) == strings({"no_iommu_group"}), boost::test_tools::per_element());
    BOOST_TEST(contains(problem_of(g, "no_iommu_group").fix, "0000:bd:00.0"));
  }
  {  // a GPU whose optional files are all absent is still fine
    TreeBuilder tb = a100_8x_passthrough();
    for (const char* f : {"numa_node", "revision", "subsystem_vendor", "subsystem_device"})
      tb.remove(std::string(kA100Gpus[0]) + "/" + f);
    const Inventory inv = inventory_of(tb.fs());
    const Gpu& g = gpu_at(inv, kA100Gpus[0]);
    BOOST_TEST(g.assignable);
    BOOST_TEST(g.problems.empty());
    BOOST_TEST(g.numa_node == -1);
    BOOST_TEST(!g.revision.has_value());
    BOOST_TEST(!g.subsystem_vendor_id.has_value());
  }
}

// ------------------------------------------------------------- consumer card + HDMI audio

BOOST_AUTO_TEST_CASE(consumer_gpu_audio_on_snd_hda_intel) {
  const Inventory inv = inventory_of(consumer_gpu_hdmi_audio().fs());
  BOOST_TEST(gpu_addresses(inv) == strings({kRtx4090}), boost::test_tools::per_element());
  const Gpu& g = inv.gpus[0];
  BOOST_TEST(g.class_code == 0x030000u);
  BOOST_TEST(!g.boot_vga);
  BOOST_TEST(*g.iommu_group == 2);
  BOOST_TEST_REQUIRE(g.group_members.size() == 2u);
  BOOST_TEST(g.group_members[0].address.to_string() == "0000:00:01.0");  // the root port
  BOOST_TEST(!g.group_members[0].same_card);
  BOOST_TEST(*g.group_members[0].driver == "pcieport");
  BOOST_TEST(g.group_members[1].address.to_string() == kRtx4090Audio);
  BOOST_TEST(g.group_members[1].same_card);
  BOOST_TEST(*g.group_members[1].class_code == 0x040300u);
  BOOST_TEST(*g.group_members[1].driver == "snd_hda_intel");
  BOOST_TEST(!g.assignable);
  BOOST_TEST(problem_codes(g) == strings({"companion_not_vfio"}), boost::test_tools::per_element());
  const Problem& p = problem_of(g, "companion_not_vfio");
  BOOST_TEST(contains(p.message, "0000:01:00.1 class 040300, driver snd_hda_intel shares IOMMU group 2"), p.message);
  BOOST_TEST(contains(p.fix, "10de:22ba"));
  BOOST_TEST(find_gpu(inv, kRtx4090Audio) == nullptr);  // audio is not a GPU
}

BOOST_AUTO_TEST_CASE(consumer_gpu_variants) {
  {  // both functions on vfio-pci: ready
    TreeBuilder tb = consumer_gpu_hdmi_audio();
    tb.set_driver(kRtx4090Audio, "vfio-pci");
    const Inventory inv = inventory_of(tb.fs());
    const Gpu& g = gpu_at(inv, kRtx4090);
    BOOST_TEST(g.assignable);
    BOOST_TEST((g.mode == GpuMode::passthrough));
    BOOST_TEST(g.problems.empty());
  }
  {  // audio unbound also lets vfio take the group
    TreeBuilder tb = consumer_gpu_hdmi_audio();
    tb.set_driver(kRtx4090Audio, std::nullopt);
    const Inventory inv = inventory_of(tb.fs());
    BOOST_TEST(gpu_at(inv, kRtx4090).assignable);
  }
  {  // the USB controller lands in the same group (no ACS): shared
    TreeBuilder tb = consumer_gpu_hdmi_audio();
    tb.set_driver(kRtx4090Audio, "vfio-pci").set_group(kDesktopUsb, 2);
    const Inventory inv = inventory_of(tb.fs());
    const Gpu& g = gpu_at(inv, kRtx4090);
    BOOST_TEST(!g.assignable);
    BOOST_TEST(problem_codes(g) == strings({"group_shared"}), boost::test_tools::per_element());
    BOOST_TEST(contains(problem_of(g, "group_shared").message,
                        "IOMMU group 2 also holds 0000:00:14.0 class 0c0330, driver xhci_hcd"));
  }
  {  // the card drives the host console
    TreeBuilder tb = consumer_gpu_hdmi_audio();
    tb.set_driver(kRtx4090Audio, "vfio-pci").set_driver(kRtx4090, "nvidia").set_attr(kRtx4090, "boot_vga", "1");
    const Inventory inv = inventory_of(tb.fs());
    const Gpu& g = gpu_at(inv, kRtx4090);
    BOOST_TEST(g.boot_vga);
    BOOST_TEST((g.role == GpuRole::host_display));  // the host's console: left to the host by default
    BOOST_TEST(contains(g.role_reason, "boot VGA device, driven by nvidia"));
    BOOST_TEST(problem_codes(g) == strings({"host_display", "driver_not_vfio", "boot_vga"}),
               boost::test_tools::per_element());
    BOOST_TEST(contains(problem_of(g, "boot_vga").fix, "video=efifb:off"));
  }
  {  // boot VGA already on vfio-pci: assignable, with a warning (the firmware framebuffer may hold it)
    TreeBuilder tb = consumer_gpu_hdmi_audio();
    tb.set_driver(kRtx4090Audio, "vfio-pci").set_driver(kRtx4090, "vfio-pci").set_attr(kRtx4090, "boot_vga", "1");
    const Inventory inv = inventory_of(tb.fs());
    const Gpu& g = gpu_at(inv, kRtx4090);
    BOOST_TEST(g.assignable);
    BOOST_TEST(problem_codes(g) == strings({"boot_vga"}), boost::test_tools::per_element());
    BOOST_TEST(!problem_of(g, "boot_vga").blocking);
    BOOST_TEST(contains(problem_of(g, "boot_vga").message, "bound to vfio-pci"));
  }
  {  // garbage in boot_vga is a note, not a crash
    TreeBuilder tb = consumer_gpu_hdmi_audio();
    tb.set_attr(kRtx4090, "boot_vga", "yes");
    const Inventory inv = inventory_of(tb.fs());
    const Gpu& g = gpu_at(inv, kRtx4090);
    BOOST_TEST(contains(problem_of(g, "read_warning").message, "0000:01:00.0/boot_vga"));
    BOOST_TEST(!g.boot_vga);
  }
}

// ------------------------------------------------------------- T4 time-sliced vGPU

BOOST_AUTO_TEST_CASE(t4_types_on_the_pf_and_the_instance) {
  const Inventory inv = inventory_of(t4_vgpu_timesliced().fs());
  BOOST_TEST(gpu_addresses(inv) == std::vector<std::string>(kT4s.begin(), kT4s.end()),
             boost::test_tools::per_element());
  const auto types = t4_mdev_types();
  for (size_t i = 0; i < 2; ++i) {
    const Gpu& g = inv.gpus[i];
    BOOST_TEST_CONTEXT(g.address.to_string()) {
      BOOST_TEST((g.mode == GpuMode::vgpu));
      BOOST_TEST(g.assignable);
      BOOST_TEST(g.problems.empty());
      BOOST_TEST(*g.driver == "nvidia");
      BOOST_TEST(!g.sriov.has_value());
      BOOST_TEST(g.numa_node == static_cast<int64_t>(i));
      BOOST_TEST_REQUIRE(g.mdev_types.size() == types.size());
      for (size_t k = 0; k < types.size(); ++k) {
        const MdevType& t = g.mdev_types[k];
        BOOST_TEST(t.id() == types[k].id);
        BOOST_TEST(t.name() == types[k].name);
        BOOST_TEST(t.device_api() == "vfio-pci");
        BOOST_TEST((t.parent == g.address));  // time-sliced: the PF itself
        const int64_t want = i == 1 ? types[k].available : t.id() == kT4MdevType ? 3 : 0;
        BOOST_TEST(*t.available_instances == want, t.id());
        BOOST_TEST(t.instances.size() == (i == 0 && t.id() == kT4MdevType ? 1u : 0u));
      }
    }
  }
  BOOST_TEST(inv.gpus[0].mdev_types[0].id() == "nvidia-222");
  BOOST_TEST(inv.gpus[0].mdev_types[0].name() == "GRID T4-1B");
  const MdevType& q16 = inv.gpus[1].mdev_types.back();
  BOOST_TEST(q16.id() == "nvidia-234");
  BOOST_TEST(q16.name() == "GRID T4-16Q");
  BOOST_TEST(q16.description() ==
             "num_heads=4, frl_config=60, framebuffer=16384M, max_resolution=7680x4320, max_instance=1");
  BOOST_TEST(*q16.parsed().framebuffer_mib == 16384);
  BOOST_TEST(*q16.parsed().max_instance == 1);
  BOOST_TEST(*q16.parsed().num_heads == 4);
  BOOST_TEST(*q16.parsed().frl_config == 60);
  BOOST_TEST(*q16.parsed().max_resolution == "7680x4320");
  // the instance, on the host and on its GPU
  BOOST_TEST_REQUIRE(inv.mdevs.size() == 1u);
  BOOST_TEST(inv.mdevs[0].uuid == kT4MdevUuid);
  BOOST_TEST(inv.mdevs[0].type_id == kT4MdevType);
  BOOST_TEST(inv.mdevs[0].parent.to_string() == kT4s[0]);
  BOOST_TEST(inv.gpus[0].mdevs.size() == 1u);
  BOOST_TEST(inv.gpus[1].mdevs.empty());
  const MdevType& used = inv.gpus[0].mdev_types[10];
  BOOST_TEST(used.id() == kT4MdevType);
  BOOST_TEST(used.name() == "GRID T4-4Q");
  BOOST_TEST(used.instances == strings({kT4MdevUuid}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(t4_variants) {
  {  // the first T4 is full: four T4-4Q in use
    TreeBuilder tb = t4_vgpu_timesliced();
    tb.set_available(kT4s[0], kT4MdevType, 0);
    const Inventory inv = inventory_of(tb.fs());
    const Gpu& g = gpu_at(inv, kT4s[0]);
    BOOST_TEST(!g.assignable);
    BOOST_TEST(problem_codes(g) == strings({"vgpu_none_available"}), boost::test_tools::per_element());
    BOOST_TEST(contains(problem_of(g, "vgpu_none_available").message, "(1 mdev(s) already exist)"));
  }
  {  // handed to vfio-pci, the nvidia driver's types are gone: plain passthrough
    TreeBuilder tb = t4_vgpu_timesliced();
    tb.set_driver(kT4s[1], "vfio-pci").remove(std::string(kT4s[1]) + "/mdev_supported_types");
    const Inventory inv = inventory_of(tb.fs());
    const Gpu& g = gpu_at(inv, kT4s[1]);
    BOOST_TEST((g.mode == GpuMode::passthrough));
    BOOST_TEST(g.assignable);
    BOOST_TEST(g.mdev_types.empty());
  }
  {  // an unreadable available_instances is a note naming the file
    TreeBuilder tb = t4_vgpu_timesliced();
    tb.set_error(kT4s[1], "mdev_supported_types/nvidia-222/available_instances", EIO);
    const Inventory inv = inventory_of(tb.fs());
    const Gpu& g = gpu_at(inv, kT4s[1]);
    BOOST_TEST(g.assignable);
    BOOST_TEST(!g.mdev_types[0].available_instances.has_value());
    BOOST_TEST(contains(problem_of(g, "read_warning").message, "nvidia-222/available_instances"));
  }
  {  // an mdev whose parent vanished is a host warning naming it
    TreeBuilder tb = t4_vgpu_timesliced();
    tb.remove(std::string(kT4s[0]) + "/" + std::string(kT4MdevUuid));
    const Inventory inv = inventory_of(tb.fs());
    BOOST_TEST(inv.mdevs.empty());
    BOOST_TEST_REQUIRE(inv.warnings.size() == 1u);
    BOOST_TEST(contains(inv.warnings[0], std::string("mdev ") + std::string(kT4MdevUuid)), inv.warnings[0]);
  }
}

// ------------------------------------------------------------- A40 SR-IOV vGPU

BOOST_AUTO_TEST_CASE(a40_types_live_on_the_vfs) {
  const TreeBuilder tb = a40_sriov_vgpu();
  const Inventory inv = inventory_of(tb.fs());
  BOOST_TEST(gpu_addresses(inv) == std::vector<std::string>(kA40s.begin(), kA40s.end()),
             boost::test_tools::per_element());
  const auto types = a40_mdev_types();
  BOOST_TEST_REQUIRE(types.size() == 22u);
  BOOST_TEST(types.front().name == "NVIDIA A40-1B");
  BOOST_TEST(types[2].name == "NVIDIA A40-1Q");
  BOOST_TEST(types[11].name == "NVIDIA A40-48Q");
  BOOST_TEST(types.back().name == "NVIDIA A40-48A");
  BOOST_TEST(types.back().id == "nvidia-576");
  for (size_t i = 0; i < 2; ++i) {
    const Gpu& g = inv.gpus[i];
    const auto vfs = tb.vfs_of(kA40s[i]);
    BOOST_TEST_CONTEXT(g.address.to_string()) {
      BOOST_TEST((g.mode == GpuMode::vgpu));
      BOOST_TEST(g.assignable);
      BOOST_TEST(g.problems.empty());
      BOOST_TEST_REQUIRE(g.sriov.has_value());
      BOOST_TEST(g.sriov->total_vfs == 32);
      BOOST_TEST(g.sriov->num_vfs == 32);
      BOOST_TEST_REQUIRE(g.sriov->vfs.size() == 32u);
      BOOST_TEST(g.sriov->vfs.front().address.to_string() == (i == 0 ? "0000:41:00.4" : "0000:c1:00.4"));
      BOOST_TEST(g.sriov->vfs.back().address.to_string() == (i == 0 ? "0000:41:04.3" : "0000:c1:04.3"));
      for (size_t v = 0; v < 32; ++v) {
        const VirtualFunction& vf = g.sriov->vfs[v];
        BOOST_TEST(vf.address.to_string() == vfs[v]);
        BOOST_TEST(*vf.driver == "nvidia");
        BOOST_TEST(*vf.iommu_group == static_cast<int64_t>((i == 0 ? 100 : 200) + v));
        BOOST_TEST(find_gpu(inv, vfs[v]) == nullptr, vfs[v] << " is a VF, shown under its PF");
      }
      BOOST_TEST_REQUIRE(g.mdev_types.size() == 32u * 22u);
      int64_t available = 0;
      std::set<std::string> parents;
      for (size_t k = 0; k < g.mdev_types.size(); ++k) {
        const MdevType& t = g.mdev_types[k];
        parents.insert(t.parent.to_string());
        BOOST_TEST((t.parent != g.address));
        BOOST_TEST(t.parent.to_string() == vfs[k / 22]);  // VF by VF, 22 types each
        BOOST_TEST(t.id() == types[k % 22].id);
        available += t.available_instances.value_or(-1000);
      }
      BOOST_TEST(parents.size() == 32u);
      BOOST_TEST(available == (i == 0 ? 1 : 32 * 22));
    }
  }
  // the first A40: one A40-24Q on VF0, one more possible on VF1, nothing else
  const Gpu& first = inv.gpus[0];
  for (const auto& t : first.mdev_types) {
    const bool vf0 = t.parent.to_string() == "0000:41:00.4", vf1 = t.parent.to_string() == "0000:41:00.5";
    if (t.id() == kA40MdevType && vf1) BOOST_TEST(*t.available_instances == 1);
    else BOOST_TEST(*t.available_instances == 0, t.id() << " on " << t.parent.to_string());
    BOOST_TEST(t.instances.size() == (vf0 && t.id() == kA40MdevType ? 1u : 0u));
  }
  const MdevType& q24 = first.mdev_types[10];
  BOOST_TEST(q24.name() == "NVIDIA A40-24Q");
  BOOST_TEST(*q24.parsed().framebuffer_mib == 24576);
  BOOST_TEST(*q24.parsed().max_instance == 2);
  BOOST_TEST_REQUIRE(inv.mdevs.size() == 1u);
  BOOST_TEST(inv.mdevs[0].parent.to_string() == "0000:41:00.4");
  BOOST_TEST(first.mdevs.size() == 1u);
  BOOST_TEST(inv.gpus[1].mdevs.empty());
  BOOST_TEST(inv.warnings.empty());
}

BOOST_AUTO_TEST_CASE(a40_variants) {
  {  // the second A40-24Q is taken too: nothing left on the first GPU
    TreeBuilder tb = a40_sriov_vgpu();
    tb.set_available(tb.vfs_of(kA40s[0])[1], kA40MdevType, 0);
    const Inventory inv = inventory_of(tb.fs());
    BOOST_TEST(problem_codes(gpu_at(inv, kA40s[0])) == strings({"vgpu_none_available"}),
               boost::test_tools::per_element());
    BOOST_TEST(gpu_at(inv, kA40s[1]).assignable);
  }
  {  // a VF link that does not name a PCI address is a note on the PF, the rest still read
    TreeBuilder tb = a40_sriov_vgpu();
    tb.set_link(kA40s[1], "virtfn31", "../not-a-device");
    const Inventory inv = inventory_of(tb.fs());
    const Gpu& g = gpu_at(inv, kA40s[1]);
    BOOST_TEST(g.sriov->vfs.size() == 31u);
    BOOST_TEST(contains(problem_of(g, "read_warning").message, "virtfn31 -> ../not-a-device"));
    BOOST_TEST(g.assignable);
  }
}

BOOST_AUTO_TEST_CASE(a40_with_vfs_disabled) {
  const Inventory inv = inventory_of(a40_vfs_disabled().fs());
  BOOST_TEST(gpu_addresses(inv) == strings({kA40VfsOff}), boost::test_tools::per_element());
  const Gpu& g = inv.gpus[0];
  BOOST_TEST((g.mode == GpuMode::vgpu));
  BOOST_TEST(!g.assignable);
  BOOST_TEST_REQUIRE(g.sriov.has_value());
  BOOST_TEST(g.sriov->total_vfs == 32);
  BOOST_TEST(g.sriov->num_vfs == 0);
  BOOST_TEST(g.sriov->vfs.empty());
  BOOST_TEST(problem_codes(g) == strings({"vfs_not_enabled"}), boost::test_tools::per_element());
  const Problem& p = problem_of(g, "vfs_not_enabled");
  BOOST_TEST(contains(p.message, "32 VFs"));
  BOOST_TEST(contains(p.fix, "sriov-manage -e 0000:41:00.0"));
}

// ------------------------------------------------------------- H100 vGPU 17 (vendor VFIO)

BOOST_AUTO_TEST_CASE(h100_vendor_vfio_types) {
  const TreeBuilder tb = h100_vgpu17();
  const Inventory inv = inventory_of(tb.fs());
  BOOST_TEST(gpu_addresses(inv) == std::vector<std::string>(kH100s.begin(), kH100s.end()),
             boost::test_tools::per_element());
  BOOST_TEST(inv.mdevs.empty());
  BOOST_TEST(inv.warnings.empty());
  const auto all = h100_vgpu_types();
  for (size_t i = 0; i < 2; ++i) {
    const Gpu& g = inv.gpus[i];
    const auto vfs = tb.vfs_of(kH100s[i]);
    BOOST_TEST_CONTEXT(g.address.to_string()) {
      BOOST_TEST(g.id_pair() == "10de:2331");
      BOOST_TEST((g.mode == GpuMode::vgpu));
      BOOST_TEST(g.assignable);
      BOOST_TEST(g.problems.empty());
      BOOST_TEST(g.mdev_types.empty());
      BOOST_TEST_REQUIRE(g.sriov.has_value());
      BOOST_TEST_REQUIRE(g.sriov->vfs.size() == 32u);
      for (size_t v = 0; v < 32; ++v)
        BOOST_TEST(*g.sriov->vfs[v].current_vgpu_type == (i == 0 && v == 0 ? kH100CurrentType : 0));
      for (const auto& t : g.vgpu_types) BOOST_TEST((t.parent != g.address));
    }
  }
  // first H100: VF0 took H100-20C; every other VF can still take exactly that
  const Gpu& first = inv.gpus[0];
  BOOST_TEST_REQUIRE(first.vgpu_types.size() == 31u);
  for (size_t k = 0; k < 31; ++k) {
    BOOST_TEST(first.vgpu_types[k].id == kH100CurrentType);
    BOOST_TEST(first.vgpu_types[k].name == "NVIDIA H100-20C");
    BOOST_TEST(first.vgpu_types[k].parent.to_string() == tb.vfs_of(kH100s[0])[k + 1]);
  }
  // second H100: the whole list on every VF, in the driver's order
  const Gpu& second = inv.gpus[1];
  BOOST_TEST_REQUIRE(second.vgpu_types.size() == 32u * all.size());
  BOOST_TEST(second.vgpu_types[0].id == 1041);
  BOOST_TEST(second.vgpu_types[0].name == "NVIDIA H100-1-10C");
  BOOST_TEST(second.vgpu_types[0].parent.to_string() == "0000:ca:00.4");
  BOOST_TEST(second.vgpu_types.back().name == "NVIDIA H100-80C");
  BOOST_TEST(second.vgpu_types.back().parent.to_string() == "0000:ca:04.3");
}

BOOST_AUTO_TEST_CASE(h100_variants) {
  {  // IOMMU off: SR-IOV vGPU cannot work
    TreeBuilder tb = h100_vgpu17();
    tb.clear_iommu_groups();
    const Inventory inv = inventory_of(tb.fs());
    BOOST_TEST(!inv.iommu_enabled);
    for (const auto& g : inv.gpus) {
      BOOST_TEST(!g.assignable);
      BOOST_TEST(problem_codes(g) == strings({"iommu_off"}), boost::test_tools::per_element());
    }
  }
  {  // garbage in creatable_vgpu_types: a note naming the file, the other VFs still count
    TreeBuilder tb = h100_vgpu17();
    const std::string vf = tb.vfs_of(kH100s[1])[3];
    tb.set_raw(vf, "nvidia/creatable_vgpu_types", "ID    : vGPU Name\n10x1  : NVIDIA H100-4C\n");
    const Inventory inv = inventory_of(tb.fs());
    const Gpu& g = gpu_at(inv, kH100s[1]);
    BOOST_TEST(g.vgpu_types.size() == 31u * h100_vgpu_types().size());
    BOOST_TEST(contains(problem_of(g, "read_warning").message, vf + "/nvidia/creatable_vgpu_types"));
    BOOST_TEST(g.assignable);
  }
}

// ------------------------------------------------------------- IOMMU off

BOOST_AUTO_TEST_CASE(iommu_off_host) {
  const Inventory inv = inventory_of(iommu_off().fs());
  BOOST_TEST(!inv.iommu_enabled);
  BOOST_TEST(gpu_addresses(inv) == strings({kNoIommuGpu}), boost::test_tools::per_element());
  const Gpu& g = inv.gpus[0];
  BOOST_TEST(*g.driver == "vfio-pci");
  BOOST_TEST(!g.iommu_group.has_value());
  BOOST_TEST((g.mode == GpuMode::passthrough));
  BOOST_TEST(!g.assignable);
  BOOST_TEST(problem_codes(g) == strings({"iommu_off"}), boost::test_tools::per_element());
  BOOST_TEST(contains(problem_of(g, "iommu_off").fix, "amd_iommu=on"));
}

// ------------------------------------------------------------- broken host

BOOST_AUTO_TEST_CASE(broken_host_one_message_per_device) {
  const Inventory inv = inventory_of(broken().fs());
  // listed: everything whose class could be read
  BOOST_TEST(gpu_addresses(inv) == strings({"0000:01:00.0", "0000:02:00.0", "0000:03:00.0", "0000:06:00.0",
                                            "0000:08:00.0", "0000:09:00.0", "0000:0a:00.0", "0000:0b:00.0"}),
             boost::test_tools::per_element());
  // the healthy ones are judged as if nothing else were wrong
  for (const char* ok : {"0000:01:00.0", "0000:0b:00.0"}) {
    const Gpu& g = gpu_at(inv, ok);
    BOOST_TEST(g.assignable, ok);
    BOOST_TEST(g.problems.empty(), ok);
  }
  auto one_problem = [&](const char* addr, const char* code, std::initializer_list<const char*> says) {
    const Gpu& g = gpu_at(inv, addr);
    const Problem& p = problem_of(g, code);
    for (const char* s : says) BOOST_TEST(contains(p.message, s), addr << ": '" << s << "' not in: " << p.message);
    return &g;
  };
  // required files: the GPU cannot be judged
  for (auto [addr, file, why] :
       {std::tuple{"0000:02:00.0", "bus/pci/devices/0000:02:00.0/vendor", "No such file"},
        std::tuple{"0000:03:00.0", "bus/pci/devices/0000:03:00.0/device", "0xzz12"},
        std::tuple{"0000:08:00.0", "bus/pci/devices/0000:08:00.0/device", "Permission denied"}}) {
    const Gpu* g = one_problem(addr, "read_error", {file, why});
    BOOST_TEST(!g->assignable);
    BOOST_TEST((g->mode == GpuMode::unknown));
    BOOST_TEST(problem_codes(*g) == strings({"read_error"}), boost::test_tools::per_element());
    BOOST_TEST(problem_of(*g, "read_error").blocking);
  }
  BOOST_TEST(!gpu_at(inv, "0000:02:00.0").vendor_id.has_value());
  BOOST_TEST(*gpu_at(inv, "0000:02:00.0").product_id == 0x20b5u);
  BOOST_TEST(gpu_at(inv, "0000:02:00.0").id_pair() == "????:20b5");
  // a driver link that points at itself: a note naming the link, and no made-up driver name
  {
    const Gpu* g = one_problem("0000:06:00.0", "read_warning", {"0000:06:00.0/driver -> driver", "Too many levels"});
    BOOST_TEST(!g->driver.has_value());
    BOOST_TEST(!g->assignable);
    BOOST_TEST(problem_codes(*g) == strings({"read_warning", "driver_not_vfio"}), boost::test_tools::per_element());
  }
  // garbage in an optional file: named, and the GPU is judged normally
  {
    const Gpu* g = one_problem("0000:09:00.0", "read_warning", {"0000:09:00.0/numa_node", "node0"});
    BOOST_TEST(!problem_of(*g, "read_warning").blocking);
    BOOST_TEST(g->numa_node == -1);
    BOOST_TEST(g->assignable);
  }
  // a garbage mdev description: named, the type is still listed, the GPU still offers vGPU
  {
    const Gpu* g = one_problem("0000:0a:00.0", "read_warning",
                               {"mdev_supported_types/nvidia-230/description", "num_heads"});
    BOOST_TEST((g->mode == GpuMode::vgpu));
    BOOST_TEST(g->assignable);
    BOOST_TEST(g->mdev_types.size() == 13u);
    BOOST_TEST(!g->mdev_types[8].parsed().framebuffer_mib.has_value());
    BOOST_TEST(g->mdev_types[8].id() == "nvidia-230");
  }
  // class unreadable (empty, dangling link, link loop): a host warning each, naming the device and file
  BOOST_TEST_REQUIRE(inv.warnings.size() == 3u);
  const std::vector<std::vector<std::string>> warned{
      {"0000:04:00.0", "bus/pci/devices/0000:04:00.0/class", "empty"},
      {"0000:05:00.0", "bus/pci/devices/0000:05:00.0/class", "No such file"},
      {"0000:07:00.0", "bus/pci/devices/0000:07:00.0/class", "Too many levels of symbolic links"}};
  for (size_t i = 0; i < warned.size(); ++i)
    for (const auto& s : warned[i]) BOOST_TEST(contains(inv.warnings[i], s), inv.warnings[i]);
}

// ------------------------------------------------------------- misc

BOOST_AUTO_TEST_CASE(no_pci_bus_is_an_error_that_says_what_to_pass) {
  MemFs empty("empty.txt");
  auto r = read_inventory(empty);
  BOOST_TEST_REQUIRE(!r.ok());
  BOOST_TEST(contains(r.error().message, "--sysfs-root"));
  BOOST_TEST(contains(r.error().message, "empty.txt:bus/pci/devices"));
  TempDir dir;
  auto real = read_inventory(RealFs(dir.path()));
  BOOST_TEST_REQUIRE(!real.ok());
  BOOST_TEST(real.error().os_errno == ENOENT);
}

BOOST_AUTO_TEST_CASE(odd_entries_in_the_pci_bus_are_ignored_with_a_warning) {
  TreeBuilder tb = iommu_off();
  tb.fs().add_dir("bus/pci/devices/new_id");
  const Inventory inv = inventory_of(tb.fs());
  BOOST_TEST(inv.gpus.size() == 1u);
  BOOST_TEST_REQUIRE(inv.warnings.size() == 1u);
  BOOST_TEST(contains(inv.warnings[0], "bus/pci/devices/new_id"));
  BOOST_TEST(contains(inv.warnings[0], "ignored"));
}

BOOST_AUTO_TEST_CASE(names_come_from_the_lookup_only_for_readable_ids) {
  MapNames names;
  names.vendors[0x10de] = "NVIDIA Corporation";
  const Inventory inv = inventory_of(broken().fs(), &names);
  const Gpu& unknown = gpu_at(inv, "0000:01:00.0");  // 20b5 left out of this map
  BOOST_TEST(*unknown.vendor_name == "NVIDIA Corporation");
  BOOST_TEST(!unknown.product_name.has_value());
  const Gpu& no_vendor = gpu_at(inv, "0000:02:00.0");
  BOOST_TEST(!no_vendor.vendor_name.has_value());
  BOOST_TEST(!no_vendor.product_name.has_value());
  // only GPUs with both IDs are looked up: 01, 06, 09, 0a, 0b
  BOOST_TEST(names.product_lookups == 5);
}

BOOST_AUTO_TEST_CASE(gpu_class_predicate) {
  BOOST_TEST(is_gpu_class(0x030000));
  BOOST_TEST(is_gpu_class(0x030200));
  BOOST_TEST(is_gpu_class(0x0302ff));
  BOOST_TEST(is_gpu_class(0x038000));   // "display controller, other": AMD Instinct MI100/MI210, Intel Flex
  BOOST_TEST(!is_gpu_class(0x120000));  // accelerators: only of a GPU vendor (is_gpu_device)
  BOOST_TEST(is_gpu_device(0x120000, 0x1002));
  BOOST_TEST(!is_gpu_device(0x120000, 0x1e52));
  BOOST_TEST(!is_gpu_device(0x120000, std::nullopt));
  BOOST_TEST(!is_gpu_class(0x068000));  // NVSwitch
  BOOST_TEST(!is_gpu_class(0x040300));  // HDMI audio
  BOOST_TEST(!is_gpu_class(0xffff00));
}

BOOST_AUTO_TEST_SUITE_END()

// ------------------------------------------------- companions, bridges, VFs (real servers)

namespace {

const GroupMember& member_of(const Gpu& g, std::string_view addr) {
  for (const auto& m : g.group_members)
    if (m.address.to_string() == addr) return m;
  throw std::runtime_error("no member " + std::string(addr));
}

}  // namespace

BOOST_AUTO_TEST_CASE(a_host_bridge_in_the_group_shares_nothing_an_nvswitch_does) {
  TreeBuilder tb = consumer_gpu_hdmi_audio();
  tb.set_group("0000:00:00.0", 2);  // an AMD-style dummy host bridge (class 0600, no driver) in the card's group
  Inventory inv = inventory_of(tb.fs());
  BOOST_TEST(problem_codes(gpu_at(inv, kRtx4090)) == strings({"companion_not_vfio"}), boost::test_tools::per_element());
  BOOST_TEST(!member_of(gpu_at(inv, kRtx4090), "0000:00:00.0").same_card);
  // an "other" bridge (0680) on a host driver is a device of its own: still shared
  tb.set_attr("0000:00:00.0", "class", "0x068000");
  tb.set_driver("0000:00:00.0", "nvidia-nvswitch");
  inv = inventory_of(tb.fs());
  BOOST_TEST(problem_codes(gpu_at(inv, kRtx4090)) == strings({"group_shared", "companion_not_vfio"}),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(a_function_the_kernel_links_to_the_gpu_is_its_companion_wherever_it_sits) {
  TreeBuilder tb = consumer_gpu_hdmi_audio();
  tb.set_driver(kRtx4090Audio, "vfio-pci");
  // the card's USB controller on another bus, in the same group
  tb.add_function("0000:03:00.0", 0x10de, 0x1ad8, Fn().cls(0x0c0330).under("0000:00:01.0").driver("xhci_hcd").group(2));
  Inventory inv = inventory_of(tb.fs());
  const Problem& shared = problem_of(gpu_at(inv, kRtx4090), "group_shared");
  BOOST_TEST(contains(shared.fix, "ACS"));
  tb.set_link(kRtx4090, "consumer:pci:0000:03:00.0", "../../../virtual/devlink/pci:0000:01:00.0--pci:0000:03:00.0");
  inv = inventory_of(tb.fs());
  const Gpu& g = gpu_at(inv, kRtx4090);
  BOOST_TEST(problem_codes(g) == strings({"companion_not_vfio"}), boost::test_tools::per_element());
  BOOST_TEST(member_of(g, "0000:03:00.0").companion == "kernel device link");
  BOOST_TEST(member_of(g, std::string(kRtx4090Audio)).companion == "same slot");
}

BOOST_AUTO_TEST_CASE(same_vendor_audio_behind_the_cards_own_switch_is_the_cards_not_another_vendors) {
  // An Arc A310: root port (AMD), the card's switch (Intel), VGA and audio on two downstream ports.
  TreeBuilder tb("am5");
  tb.add_bridge("0000:00:02.1", 0x1022, 0x14db, Fn().group(17));
  tb.add_bridge("0000:07:00.0", 0x8086, 0x4fa1, Fn().under("0000:00:02.1").group(17));
  tb.add_bridge("0000:08:01.0", 0x8086, 0x4fa4, Fn().under("0000:07:00.0").group(17));
  tb.add_bridge("0000:08:04.0", 0x8086, 0x4fa4, Fn().under("0000:07:00.0").group(17));
  tb.add_gpu("0000:09:00.0", 0x8086, 0x56a6, Fn().cls(0x030000).under("0000:08:01.0").driver("vfio-pci").group(17));
  tb.add_function("0000:0a:00.0", 0x8086, 0x4f92,
                  Fn().cls(0x040300).under("0000:08:04.0").driver("vfio-pci").group(17));
  Inventory inv = inventory_of(tb.fs());
  const Gpu& g = gpu_at(inv, "0000:09:00.0");
  BOOST_TEST(g.assignable);
  BOOST_TEST(member_of(g, "0000:0a:00.0").companion ==
             "audio of the same vendor behind the card's switch 0000:07:00.0");
  // the same audio under a switch of another vendor is not the card's
  tb.set_attr("0000:07:00.0", "vendor", "0x1022");
  inv = inventory_of(tb.fs());
  BOOST_TEST(problem_codes(gpu_at(inv, "0000:09:00.0")) == strings({"group_shared"}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(two_gpus_in_one_group_are_told_what_is_physically_true) {
  TreeBuilder tb = a100_8x_passthrough();
  const auto group = *inventory_of(tb.fs()).gpus[0].iommu_group;
  tb.set_group(kA100Gpus[1], group);
  const Inventory inv = inventory_of(tb.fs());
  const Problem& p = problem_of(gpu_at(inv, kA100Gpus[0]), "group_shared");
  BOOST_TEST(contains(p.message, "another GPU (10de:20b2)"), p.message);
  BOOST_TEST(contains(p.message, "only be given to one guest together"), p.message);
  BOOST_TEST(!contains(p.fix, "move the card"), p.fix);
}

BOOST_AUTO_TEST_CASE(vfs_of_a_pf_on_gim_are_the_guest_devices_and_nvidia_vfs_stay_under_their_pf) {
  TreeBuilder tb("mi300x");
  tb.add_bridge("0000:80:01.1", 0x1022, 0x14ab, Fn().group(40));
  tb.add_gpu("0000:85:00.0", 0x1002, 0x74a1, Fn().cls(0x120000).under("0000:80:01.1").driver("gim").group(41));
  tb.add_vfs(
      "0000:85:00.0", 2,
      VfOptions{
          .first_offset = 16, .stride = 1, .device = 0x74b5, .driver = "vfio-pci", .first_group = 42, .total = 8});
  const Inventory inv = inventory_of(tb.fs());
  BOOST_REQUIRE_EQUAL(inv.gpus.size(), 3u);
  const Gpu& pf = gpu_at(inv, "0000:85:00.0");
  BOOST_TEST(to_string(pf.role) == "sriov_pf");
  BOOST_TEST(!pf.assignable);
  BOOST_TEST(problem_codes(pf) == strings({"sriov_pf"}), boost::test_tools::per_element());
  for (const auto& vf : tb.vfs_of("0000:85:00.0")) {
    const Gpu& g = gpu_at(inv, vf);
    BOOST_TEST(to_string(g.role) == "guest");
    BOOST_TEST((g.physfn == pf.address));
    BOOST_TEST(g.assignable);
    BOOST_TEST(g.id_pair() == "1002:74b5");
  }
  // an A40 host: VFs on nvidia are vGPU parents, shown under the PF only
  const Inventory a40 = inventory_of(build_scenario("a40-sriov-vgpu").fs());
  for (const auto& g : a40.gpus) {
    BOOST_TEST(!g.physfn);
    BOOST_TEST(to_string(g.role) == "guest");
  }
}

BOOST_AUTO_TEST_CASE(driver_modules_and_device_links_are_read_and_captured) {
  TreeBuilder tb = consumer_gpu_hdmi_audio();
  tb.add_function("0000:01:00.3", 0x10de, 0x1ad9,
                  Fn().cls(0x0c8000).under("0000:00:01.0").driver("nvidia-gpu").group(2));
  tb.set_link(kRtx4090, "consumer:pci:0000:01:00.3", "../../../virtual/devlink/pci:0000:01:00.0--pci:0000:01:00.3");
  tb.fs().add_link("bus/pci/drivers/nvidia-gpu/module", "../../../../module/i2c_nvidia_gpu");
  tb.fs().add_link("bus/pci/drivers/snd_hda_intel/module", "../../../../module/snd_hda_intel");
  const Inventory inv = inventory_of(tb.fs());
  BOOST_TEST(inv.driver_modules.at("nvidia-gpu") == "i2c_nvidia_gpu");
  BOOST_TEST(inv.driver_modules.count("pcieport") == 0u);  // built in: no module link
  BOOST_TEST(inv.driver_devices.at("nvidia-gpu").size() == 1u);

  const MemFs captured = capture_tree(tb.fs());
  auto module = captured.read_link("bus/pci/drivers/nvidia-gpu/module");
  BOOST_TEST_REQUIRE(module.ok());
  BOOST_TEST(*module == "../../../../module/i2c_nvidia_gpu");
  auto dev = captured.resolve("bus/pci/devices/" + std::string(kRtx4090));
  BOOST_TEST_REQUIRE(dev.ok());
  BOOST_TEST(captured.is_link(*dev + "/consumer:pci:0000:01:00.3"));
  const Inventory again = inventory_of(captured);
  BOOST_TEST(again.driver_modules == inv.driver_modules);
  BOOST_TEST(member_of(gpu_at(again, kRtx4090), "0000:01:00.3").same_card);
}
