// The A40 SR-IOV vGPU host's inventory JSON (2 GPUs x 32 VFs x 22 mdev types,
// 20k lines in golden/a40-sriov-vgpu.json) in two forms a person can check:
//  * its structure, asserted: counts, which VF belongs to which GPU, the fields
//    of every type, the one A40-24Q instance and what it leaves available;
//  * a cut of the same output, golden/a40-sriov-vgpu.cut.json: the first GPU
//    with its first two VFs (VF0 holds the instance, VF1 can take the one
//    A40-24Q left) and their 44 types, everything else of the host kept.
// Both read what the real binary prints, run exactly as the big golden test
// runs it (output_test.cpp). GPU_AGENT_REGENERATE=1 rewrites the cut.
#include <boost/test/unit_test.hpp>

#include <rapidjson/document.h>
#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "run_process.h"
#include "scenarios.h"
#include "text_file.h"

using namespace gpu_agent::testing;

namespace {

const std::string kData = GPU_AGENT_TEST_DATA;
const std::string kBinary = GPU_AGENT_BINARY;
constexpr size_t kVfs = 32, kTypes = 22;

std::string a40_json() {
  const ProcessResult r = run_process({kBinary, "inventory", "--fixture", "hosts/a40-sriov-vgpu.sysfs.txt", "--pci-ids",
                                       "pci.ids", "--hostname", "golden-host", "--json"},
                                      kData);
  BOOST_TEST_REQUIRE(r.exit_code == 0, r.err);
  BOOST_TEST(r.err == "");
  return r.out;
}

rapidjson::Document parse(const std::string& text) {
  rapidjson::Document d;
  d.Parse(text.c_str(), text.size());
  BOOST_TEST_REQUIRE(!d.HasParseError(), "not JSON, offset " << d.GetErrorOffset());
  BOOST_TEST_REQUIRE(d.IsObject());
  return d;
}

std::string s(const rapidjson::Value& v) {
  BOOST_TEST_REQUIRE(v.IsString());
  return {v.GetString(), v.GetStringLength()};
}

std::vector<std::string> keys(const rapidjson::Value& v) {
  std::vector<std::string> out;
  BOOST_TEST_REQUIRE(v.IsObject());
  for (const auto& m : v.GetObject()) out.emplace_back(m.name.GetString(), m.name.GetStringLength());
  return out;
}

// "0000:41:00.4" -> "0000:41"
std::string domain_bus(const std::string& addr) { return addr.substr(0, 7); }

// The cut: first GPU, its first two VFs and their types; the rest of the document as it is.
std::string cut_of(rapidjson::Document d) {
  auto& gpus = d["gpus"];
  gpus.Erase(gpus.Begin() + 1, gpus.End());
  auto& gpu = gpus[0];
  auto& vfs = gpu["sriov"]["vfs"];
  auto& details = gpu["sriov"]["vf_details"];
  vfs.Erase(vfs.Begin() + 2, vfs.End());
  details.Erase(details.Begin() + 2, details.End());
  const std::set<std::string> kept{s(vfs[0]), s(vfs[1])};
  auto& types = gpu["mdev_types"];
  for (auto it = types.Begin(); it != types.End();) {
    if (kept.count(s((*it)["parent"]))) ++it;
    else it = types.Erase(it);
  }
  rapidjson::StringBuffer sb;
  rapidjson::PrettyWriter<rapidjson::StringBuffer> w(sb);
  w.SetIndent(' ', 2);  // as agent/host/inventory_json.cpp writes it
  d.Accept(w);
  return std::string(sb.GetString(), sb.GetSize()) + "\n";
}

}  // namespace

BOOST_AUTO_TEST_SUITE(a40_inventory)

BOOST_AUTO_TEST_CASE(structure_of_the_full_output) {
  const rapidjson::Document d = parse(a40_json());
  BOOST_TEST(d["schema_version"].GetInt() == 1);
  BOOST_TEST(d["iommu_enabled"].GetBool());
  BOOST_TEST(d["warnings"].GetArray().Size() == 0u);
  const auto& gpus = d["gpus"].GetArray();
  BOOST_TEST_REQUIRE(gpus.Size() == 2u);  // VFs are not GPUs of their own
  BOOST_TEST(s(gpus[0]["address"]) == std::string(kA40s[0]));
  BOOST_TEST(s(gpus[1]["address"]) == std::string(kA40s[1]));

  const std::vector<std::string> type_fields{
      "id",        "name",       "device_api",     "available_instances", "max_instances", "framebuffer_mib",
      "num_heads", "frl_config", "max_resolution", "description",         "parent",        "instances"};
  std::set<std::string> every_vf;
  std::map<std::string, std::string> type_signature;  // id -> name and limits, the same on every VF
  std::string first_vf0;
  for (rapidjson::SizeType g = 0; g < gpus.Size(); ++g) {
    const auto& gpu = gpus[g];
    const std::string pf = s(gpu["address"]);
    BOOST_TEST_CONTEXT("GPU " << pf) {
      BOOST_TEST(s(gpu["mode"]) == "vgpu");
      BOOST_TEST(gpu["assignable"].GetBool());
      BOOST_TEST(s(gpu["product_id"]) == "2235");
      BOOST_TEST(s(gpu["driver"]) == "nvidia");
      BOOST_TEST(gpu["vgpu_types"].GetArray().Size() == 0u);  // mdev types, not vendor VFIO vGPU
      const auto& sriov = gpu["sriov"];
      BOOST_TEST(sriov["total_vfs"].GetInt() == 32);
      BOOST_TEST(sriov["num_vfs"].GetInt() == 32);
      const auto& vfs = sriov["vfs"].GetArray();
      const auto& details = sriov["vf_details"].GetArray();
      BOOST_TEST_REQUIRE(vfs.Size() == kVfs);
      BOOST_TEST_REQUIRE(details.Size() == kVfs);
      std::vector<std::string> own_vfs;
      for (rapidjson::SizeType v = 0; v < kVfs; ++v) {
        const std::string vf = s(vfs[v]);
        own_vfs.push_back(vf);
        // Each VF under its own PF, once in the whole host, on the PF's bus.
        BOOST_TEST(every_vf.insert(vf).second, vf << " listed twice");
        BOOST_TEST(domain_bus(vf) == domain_bus(pf), vf);
        BOOST_TEST(vf != pf);
        BOOST_TEST(s(details[v]["address"]) == vf);
        BOOST_TEST(s(details[v]["driver"]) == "nvidia");
        BOOST_TEST(details[v]["iommu_group"].GetInt() == static_cast<int>(100 * (g + 1) + v));
        BOOST_TEST(details[v]["current_vgpu_type"].IsNull());
      }
      if (g == 0) first_vf0 = own_vfs[0];

      const auto& types = gpu["mdev_types"].GetArray();
      BOOST_TEST_REQUIRE(types.Size() == kVfs * kTypes);  // 704
      std::map<std::string, std::vector<std::string>> ids_by_parent;
      for (const auto& t : types) {
        BOOST_TEST_REQUIRE(keys(t) == type_fields, boost::test_tools::per_element());
        BOOST_TEST(t["available_instances"].IsInt());
        BOOST_TEST(t["max_instances"].IsInt());
        BOOST_TEST(t["framebuffer_mib"].IsInt());
        BOOST_TEST(t["num_heads"].IsInt());
        BOOST_TEST(t["frl_config"].IsInt());
        BOOST_TEST(t["instances"].IsArray());
        BOOST_TEST(s(t["device_api"]) == "vfio-pci");
        ids_by_parent[s(t["parent"])].push_back(s(t["id"]));
        // The fields are what the description says.
        const std::string expected_description = "num_heads=" + std::to_string(t["num_heads"].GetInt()) +
                                                 ", frl_config=" + std::to_string(t["frl_config"].GetInt()) +
                                                 ", framebuffer=" + std::to_string(t["framebuffer_mib"].GetInt()) +
                                                 "M, max_resolution=" + s(t["max_resolution"]) +
                                                 ", max_instance=" + std::to_string(t["max_instances"].GetInt());
        BOOST_TEST(s(t["description"]) == expected_description);
        const std::string signature = s(t["name"]) + " " + std::to_string(t["max_instances"].GetInt()) + " " +
                                      std::to_string(t["framebuffer_mib"].GetInt());
        auto [it, fresh] = type_signature.emplace(s(t["id"]), signature);
        BOOST_TEST(it->second == signature, s(t["id"]) << " differs between VFs");
      }
      // Every type's parent is one of this GPU's own VFs, 22 types on each, nvidia-555..576 in order.
      BOOST_TEST(ids_by_parent.size() == kVfs);
      for (const auto& vf : own_vfs) {
        BOOST_TEST_CONTEXT("VF " << vf) {
          std::vector<std::string> expected;
          for (int id = 555; id <= 576; ++id) expected.push_back("nvidia-" + std::to_string(id));
          BOOST_TEST(ids_by_parent[vf] == expected, boost::test_tools::per_element());
        }
      }
    }
  }
  BOOST_TEST(type_signature.size() == kTypes);
  BOOST_TEST(type_signature.at(std::string(kA40MdevType)) == "NVIDIA A40-24Q 2 24576");

  // The one instance: an A40-24Q on the first GPU's VF0, in the host's and that GPU's mdev lists,
  // and in that type's instances; nowhere else.
  for (const auto* list : {&d["mdevs"], &gpus[0]["mdevs"]}) {
    BOOST_TEST_REQUIRE(list->GetArray().Size() == 1u);
    const auto& m = (*list)[0];
    BOOST_TEST(s(m["uuid"]) == std::string(kA40MdevUuid));
    BOOST_TEST(s(m["type"]) == std::string(kA40MdevType));
    BOOST_TEST(s(m["parent"]) == first_vf0);
  }
  BOOST_TEST(gpus[1]["mdevs"].GetArray().Size() == 0u);
  size_t instances = 0;
  for (const auto& gpu : gpus)
    for (const auto& t : gpu["mdev_types"].GetArray())
      for (const auto& i : t["instances"].GetArray()) {
        ++instances;
        BOOST_TEST(s(i) == std::string(kA40MdevUuid));
        BOOST_TEST(s(t["parent"]) == first_vf0);
        BOOST_TEST(s(t["id"]) == std::string(kA40MdevType));
      }
  BOOST_TEST(instances == 1u);

  // Its effect: a VF holds one vGPU and an A40 runs one type at a time, at most 2 A40-24Q.
  // First GPU: nothing on VF0, the one A40-24Q left on VF1, nothing else anywhere.
  // Second GPU (untouched): every type available once on every VF.
  std::map<std::string, int> available_24q_on_gpu0;
  int available_on_gpu0 = 0;
  for (const auto& t : gpus[0]["mdev_types"].GetArray()) {
    const int n = t["available_instances"].GetInt();
    available_on_gpu0 += n;
    if (s(t["id"]) == kA40MdevType) available_24q_on_gpu0[s(t["parent"])] = n;
    if (s(t["parent"]) == first_vf0) BOOST_TEST(n == 0, s(t["id"]) << " on VF0");
  }
  BOOST_TEST(available_on_gpu0 == 1);
  BOOST_TEST(available_24q_on_gpu0[s(gpus[0]["sriov"]["vfs"][1])] == 1);
  BOOST_TEST(available_on_gpu0 + static_cast<int>(instances) == 2);  // max_instances of A40-24Q
  for (const auto& t : gpus[1]["mdev_types"].GetArray())
    BOOST_TEST(t["available_instances"].GetInt() == 1, s(t["parent"]) << " " << s(t["id"]));
}

BOOST_AUTO_TEST_CASE(reviewable_cut_matches_its_golden_file) {
  const std::string full = a40_json();
  const std::string cut = cut_of(parse(full));
  // The cut is the full output with elements left out, written as the binary writes it.
  const std::string vf1 = "\"0000:41:00.5\"";
  const std::string head = full.substr(0, full.find(vf1) + vf1.size());
  BOOST_TEST(cut.compare(0, head.size(), head) == 0, "the cut's first lines differ from the binary's output");
  const std::string diff = check_golden(kData + "/golden/a40-sriov-vgpu.cut.json", cut);
  BOOST_TEST(diff.empty(), diff);
}

BOOST_AUTO_TEST_SUITE_END()
