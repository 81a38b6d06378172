// libvirt as a second opinion: node device XML parsing with real libvirt
// output, the pure comparison, and libvirt's test driver (test:///FILE) serving
// tests/data/libvirt/*.xml, through the library and through the binary.
#include <boost/test/unit_test.hpp>

#include <rapidjson/document.h>

#include <string>
#include <vector>

#include "inventory_helpers.h"
#include "libvirt_check.h"
#include "run_process.h"
#include "scenarios.h"

using namespace gpu_agent;
using namespace gpu_agent::testing;

namespace {

const std::string kData = GPU_AGENT_TEST_DATA;
const std::string kBinary = GPU_AGENT_BINARY;

std::string test_uri(const std::string& file) { return "test://" + kData + "/libvirt/" + file; }

// `virsh nodedev-dumpxml pci_0000_3b_00_0` on a T4 host with the vGPU manager loaded.
const char* kT4Xml = R"(<device>
  <name>pci_0000_3b_00_0</name>
  <path>/sys/devices/pci0000:3a/0000:3a:00.0/0000:3b:00.0</path>
  <parent>pci_0000_3a_00_0</parent>
  <driver>
    <name>nvidia</name>
  </driver>
  <capability type='pci'>
    <class>0x030200</class>
    <domain>0</domain>
    <bus>59</bus>
    <slot>0</slot>
    <function>0</function>
    <product id='0x1eb8'>TU104GL [Tesla T4]</product>
    <vendor id='0x10de'>NVIDIA Corporation</vendor>
    <capability type='mdev_types'>
      <type id='nvidia-222'>
        <name>GRID T4-1B</name>
        <deviceAPI>vfio-pci</deviceAPI>
        <availableInstances>16</availableInstances>
      </type>
      <type id='nvidia-232'>
        <name>GRID T4-4Q</name>
        <deviceAPI>vfio-pci</deviceAPI>
        <availableInstances>3</availableInstances>
      </type>
    </capability>
    <iommuGroup number='31'>
      <address domain='0x0000' bus='0x3b' slot='0x00' function='0x0'/>
    </iommuGroup>
    <numa node='0'/>
    <pci-express>
      <link validity='cap' port='0' speed='8' width='16'/>
      <link validity='sta' speed='8' width='16'/>
    </pci-express>
  </capability>
</device>
)";

// An A40 VF: no NUMA element (libvirt leaves it out for -1), a phys_function capability.
const char* kA40VfXml = R"(<device>
  <name>pci_0000_c1_04_3</name>
  <path>/sys/devices/pci0000:c0/0000:c0:01.1/0000:c1:04.3</path>
  <parent>pci_0000_c0_01_1</parent>
  <driver>
    <name>nvidia</name>
  </driver>
  <capability type='pci'>
    <class>0x030200</class>
    <domain>0</domain>
    <bus>193</bus>
    <slot>4</slot>
    <function>3</function>
    <product id='0x2235'>GA102GL [A40]</product>
    <vendor id='0x10de'>NVIDIA Corporation</vendor>
    <capability type='phys_function'>
      <address domain='0x0000' bus='0xc1' slot='0x00' function='0x0'/>
    </capability>
    <capability type='mdev_types'>
      <type id='nvidia-565'>
        <name>NVIDIA A40-24Q</name>
        <deviceAPI>vfio-pci</deviceAPI>
        <availableInstances>1</availableInstances>
      </type>
      <type id='nvidia-576'>
        <deviceAPI>vfio-pci</deviceAPI>
      </type>
    </capability>
    <iommuGroup number='231'>
      <address domain='0x0000' bus='0xc1' slot='0x04' function='0x3'/>
    </iommuGroup>
  </capability>
</device>
)";

const char* kNetXml = R"(<device>
  <name>net_eno1_3c_ec_ef_00_11_22</name>
  <path>/sys/devices/pci0000:00/0000:00:1f.6/net/eno1</path>
  <parent>pci_0000_00_1f_6</parent>
  <capability type='net'>
    <interface>eno1</interface>
    <address>3c:ec:ef:00:11:22</address>
    <link speed='1000' state='up'/>
    <capability type='80203'/>
  </capability>
</device>
)";

// What libvirt would say if it agreed with sysfs on everything: one device per GPU and VF.
std::vector<LibvirtPciDevice> mirror(const Inventory& inv) {
  std::vector<LibvirtPciDevice> out;
  for (const auto& g : inv.gpus) {
    std::vector<PciAddress> parents{g.address};
    if (g.sriov)
      for (const auto& vf : g.sriov->vfs) parents.push_back(vf.address);
    for (const auto& p : parents) {
      LibvirtPciDevice d;
      d.address = p;
      d.class_code = g.class_code;
      d.vendor_id = g.vendor_id;
      d.product_id = g.product_id;
      if (p == g.address) {
        d.iommu_group = g.iommu_group;
        if (g.numa_node >= 0) d.numa_node = g.numa_node;
      }
      for (const auto& t : g.mdev_types)
        if (t.parent == p) d.mdev_types.emplace_back(t.id(), t.available_instances);
      out.push_back(d);
    }
  }
  return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(libvirt)

BOOST_AUTO_TEST_CASE(parse_pci_gpu_with_mdev_types) {
  auto r = parse_nodedev_xml(kT4Xml);
  BOOST_TEST_REQUIRE(r.ok(), (r.ok() ? std::string() : r.error().message));
  BOOST_TEST_REQUIRE(r->has_value());
  const LibvirtPciDevice& d = **r;
  BOOST_TEST(d.address.to_string() == "0000:3b:00.0");  // bus 59 decimal
  BOOST_TEST(*d.class_code == 0x030200u);
  BOOST_TEST(*d.vendor_id == 0x10deu);
  BOOST_TEST(*d.product_id == 0x1eb8u);
  BOOST_TEST(*d.iommu_group == 31);
  BOOST_TEST(*d.numa_node == 0);
  BOOST_TEST(*d.driver == "nvidia");
  BOOST_TEST_REQUIRE(d.mdev_types.size() == 2u);
  BOOST_TEST(d.mdev_types[0].first == "nvidia-222");
  BOOST_TEST(*d.mdev_types[0].second == 16);
  BOOST_TEST(d.mdev_types[1].first == "nvidia-232");
  BOOST_TEST(*d.mdev_types[1].second == 3);
}

BOOST_AUTO_TEST_CASE(parse_vf_without_numa) {
  auto r = parse_nodedev_xml(kA40VfXml);
  BOOST_TEST_REQUIRE(r.ok());
  BOOST_TEST_REQUIRE(r->has_value());
  const LibvirtPciDevice& d = **r;
  BOOST_TEST(d.address.to_string() == "0000:c1:04.3");
  BOOST_TEST(!d.numa_node.has_value());
  BOOST_TEST(*d.iommu_group == 231);
  BOOST_TEST_REQUIRE(d.mdev_types.size() == 2u);
  BOOST_TEST(*d.mdev_types[0].second == 1);
  BOOST_TEST(!d.mdev_types[1].second.has_value());  // no availableInstances element
}

BOOST_AUTO_TEST_CASE(parse_non_pci_and_broken_xml) {
  auto net = parse_nodedev_xml(kNetXml);
  BOOST_TEST_REQUIRE(net.ok());
  BOOST_TEST(!net->has_value());

  struct Row {
    std::string xml, says;
  };
  const std::vector<Row> rows{
      {"", "does not parse"},
      {"<device><name>x</name>", "does not parse"},
      {"<node><device/></node>", "no <device> root"},
      {"<device><capability type='pci'><domain>0</domain><bus>256</bus><slot>0</slot><function>0</function>"
       "</capability></device>",
       "out of range"},
      {"<device><capability type='pci'><domain>0</domain><bus>3</bus><slot>x</slot><function>0</function>"
       "</capability></device>",
       "out of range"},
  };
  for (const auto& r : rows) {
    BOOST_TEST_CONTEXT(r.xml) {
      auto got = parse_nodedev_xml(r.xml);
      BOOST_TEST_REQUIRE(!got.ok());
      BOOST_TEST(contains(got.error().message, r.says), got.error().message);
    }
  }
}

BOOST_AUTO_TEST_CASE(compare_mirror_then_one_change_at_a_time) {
  const Inventory inv = inventory_of(a40_sriov_vgpu().fs());
  int compared = -1;
  auto devices = mirror(inv);
  BOOST_TEST(compare_with_libvirt(inv, devices, &compared).empty());
  BOOST_TEST(compared == 2);  // GPUs, not VFs

  auto no_vf = devices;
  no_vf.erase(no_vf.begin() + 1);  // the first A40's VF0
  const std::vector<std::string> want{"0000:41:00.4: has mdev types in sysfs but libvirt has no node device for it"};
  BOOST_TEST(compare_with_libvirt(inv, no_vf) == want, boost::test_tools::per_element());

  auto wrong_class = devices;
  wrong_class[0].class_code = 0x030000;
  auto lines = compare_with_libvirt(inv, wrong_class);
  BOOST_TEST_REQUIRE(lines.size() == 1u);
  BOOST_TEST(lines[0] == "0000:41:00.0: class is 030200 in sysfs but 030000 in libvirt");
}

BOOST_AUTO_TEST_CASE(test_driver_agrees_with_the_a100_host) {
  auto snap = read_libvirt(test_uri("a100-8x-passthrough.xml"));
  BOOST_TEST_REQUIRE(snap.ok(), (snap.ok() ? std::string() : snap.error().message));
  BOOST_TEST(snap->hostname.has_value());
  BOOST_TEST(snap->devices.size() == 16u);  // 8 GPUs, 6 NVSwitches, NIC, NVMe; the system device is not PCI
  for (const auto& d : snap->devices) BOOST_TEST(!d.driver.has_value());  // the test driver drops <driver>
  const Inventory inv = inventory_of(a100_8x_passthrough().fs());
  int compared = -1;
  const auto lines = compare_with_libvirt(inv, snap->devices, &compared);
  BOOST_TEST(lines.empty(), (lines.empty() ? std::string() : lines[0]));
  BOOST_TEST(compared == 8);
}

BOOST_AUTO_TEST_CASE(test_driver_disagreements_a100) {
  auto snap = read_libvirt(test_uri("a100-8x-passthrough-disagree.xml"));
  BOOST_TEST_REQUIRE(snap.ok(), (snap.ok() ? std::string() : snap.error().message));
  const Inventory inv = inventory_of(a100_8x_passthrough().fs());
  int compared = -1;
  const std::vector<std::string> want{
      "0000:07:00.0: product_id is 20b2 in sysfs but 20b5 in libvirt",
      "0000:0f:00.0: iommu_group is 17 in sysfs but 99 in libvirt",
      "0000:47:00.0: in sysfs but libvirt has no node device for it",
      "0000:4e:00.0: numa_node is 0 in sysfs but 1 in libvirt",
      "0000:e2:00.0: libvirt lists a GPU that sysfs does not have",
  };
  BOOST_TEST(compare_with_libvirt(inv, snap->devices, &compared) == want, boost::test_tools::per_element());
  BOOST_TEST(compared == 7);
}

BOOST_AUTO_TEST_CASE(test_driver_disagreements_t4_mdev_types) {
  auto snap = read_libvirt(test_uri("t4-vgpu-timesliced-disagree.xml"));
  BOOST_TEST_REQUIRE(snap.ok(), (snap.ok() ? std::string() : snap.error().message));
  const Inventory inv = inventory_of(t4_vgpu_timesliced().fs());
  const std::vector<std::string> want{
      "0000:3b:00.0: mdev type nvidia-232 has 3 available instances in sysfs but 4 in libvirt",
      "0000:3b:00.0: mdev type nvidia-234 is in sysfs but not in libvirt",
      "0000:d8:00.0: mdev type nvidia-999 is in libvirt but not in sysfs",
  };
  BOOST_TEST(compare_with_libvirt(inv, snap->devices) == want, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(unreachable_libvirt_is_an_error_naming_the_uri) {
  const std::string uri = test_uri("no-such-file.xml");
  auto snap = read_libvirt(uri);
  BOOST_TEST_REQUIRE(!snap.ok());
  BOOST_TEST(contains(snap.error().message, "cannot connect to libvirt at " + uri), snap.error().message);
}

BOOST_AUTO_TEST_CASE(binary_reports_agreement_and_disagreement) {
  {
    auto r = run_process({kBinary, "inventory", "--fixture", "hosts/a100-8x-passthrough.sysfs.txt", "--json",
                          "--libvirt-uri", test_uri("a100-8x-passthrough.xml")},
                         kData);
    BOOST_TEST_REQUIRE(r.exit_code == 0, r.err);
    rapidjson::Document doc;
    doc.Parse(r.out.c_str());
    BOOST_TEST_REQUIRE(!doc.HasParseError());
    const auto& l = doc["libvirt"];
    BOOST_TEST(l["connected"].GetBool());
    BOOST_TEST(l["devices_compared"].GetInt() == 8);
    BOOST_TEST(l["disagreements"].Size() == 0u);
    BOOST_TEST(l["hostname"].IsString());
    BOOST_TEST(std::string(doc["hostname"].GetString()) == "gpu-a100-0");  // the fixture's name wins
    BOOST_TEST(std::string(doc["hostname_source"].GetString()) == "fixture");
  }
  {
    const std::string uri = test_uri("a100-8x-passthrough-disagree.xml");
    auto r = run_process(
        {kBinary, "inventory", "--fixture", "hosts/a100-8x-passthrough.sysfs.txt", "--libvirt-uri", uri}, kData);
    BOOST_TEST_REQUIRE(r.exit_code == 0, r.err);
    BOOST_TEST(contains(r.out, "libvirt (" + uri + ") disagrees with sysfs:\n"), r.out);
    BOOST_TEST(contains(r.out, "  0000:0f:00.0: iommu_group is 17 in sysfs but 99 in libvirt\n"));
    BOOST_TEST(contains(r.out, "  0000:e2:00.0: libvirt lists a GPU that sysfs does not have\n"));
  }
  {  // not reachable: reported, not fatal
    const std::string uri = test_uri("no-such-file.xml");
    auto r = run_process(
        {kBinary, "inventory", "--fixture", "hosts/iommu-off.sysfs.txt", "--json", "--libvirt-uri", uri}, kData);
    BOOST_TEST_REQUIRE(r.exit_code == 0, r.err);
    rapidjson::Document doc;
    doc.Parse(r.out.c_str());
    BOOST_TEST_REQUIRE(!doc.HasParseError());
    BOOST_TEST(!doc["libvirt"]["connected"].GetBool());
    BOOST_TEST(contains(doc["libvirt"]["error"].GetString(), uri));
  }
}

BOOST_AUTO_TEST_SUITE_END()
