// vGPU layouts on the fixture hosts: T4-style types on the PF, A40 types on
// SR-IOV VFs, vGPU 17 vendor VFIO types on H100 VFs; names and ids resolve,
// the traits follow the type, and every conflict is an error naming the fix.
#include <boost/test/unit_test.hpp>

#include <string>

#include "config.h"
#include "fixture.h"
#include "ini.h"
#include "inventory_helpers.h"
#include "text_file.h"
#include "vgpu.h"

using namespace gpu_agent;
using namespace gpu_agent::testing;

namespace {

const std::string kData = GPU_AGENT_TEST_DATA;

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

Inventory host(const std::string& name) {
  auto fx = parse_fixture(read_text_file(kData + "/hosts/" + name + ".sysfs.txt"), name);
  BOOST_TEST_REQUIRE(fx.ok(), (fx.ok() ? std::string() : fx.error().message));
  Inventory inv = inventory_of(*fx->fs);
  inv.hostname = "gpu-host-0";
  return inv;
}

AgentConfig config(const std::string& text) {
  auto ini = parse_ini(text, "gpu-agent.conf");
  BOOST_TEST_REQUIRE(ini.ok());
  auto c = parse_agent_config(*ini);
  BOOST_TEST_REQUIRE(c.ok(), (c.ok() ? std::string() : c.error().message));
  return *c;
}

std::string why(const Result<std::vector<VgpuLayout>>& r) { return r.ok() ? std::string() : r.error().message; }

}  // namespace

BOOST_AUTO_TEST_SUITE(vgpu)

BOOST_AUTO_TEST_CASE(a40_type_by_name_resolves_to_its_vfs) {
  auto inv = host("a40-sriov-vgpu");
  auto r = resolve_vgpu_layouts(inv, config("[vgpu:a40_24q]\naddresses = 0000:41:00.0\ntype = A40-24Q\n"
                                            "traits = CUSTOM_TENANT_GOLD\n"));
  BOOST_TEST_REQUIRE(r.ok(), why(r));
  BOOST_TEST_REQUIRE(r->size() == 1u);
  const VgpuLayout& l = r->front();
  BOOST_TEST((l.kind == VgpuKind::mdev));
  BOOST_TEST(l.type_id == "nvidia-565");
  BOOST_TEST(l.short_name == "A40-24Q");
  BOOST_TEST(l.parents.size() == 32u);  // every VF of the GPU offers the type
  BOOST_TEST(l.parents.front().address.function != 0);
  BOOST_TEST(l.in_use == 1);
  BOOST_TEST(l.capacity == 2);  // max_instance=2: 48 GB / 24 GB
  BOOST_TEST(l.traits == (std::vector<std::string>{"CUSTOM_TENANT_GOLD", "CUSTOM_VGPU_A40_24Q", "CUSTOM_VGPU_CUDA",
                                                   "CUSTOM_VGPU_FB_24G"}));
  BOOST_TEST(nova_pgpu_provider_name("gpu-a40-0", l.parents.front().address).rfind("gpu-a40-0_pci_0000_41_", 0) == 0);
}

BOOST_AUTO_TEST_CASE(the_same_type_by_id_and_full_name) {
  auto inv = host("a40-sriov-vgpu");
  for (std::string t : {"nvidia-565", "NVIDIA A40-24Q", "a40-24q"}) {
    auto r = resolve_vgpu_layouts(inv, config("[vgpu:x]\naddresses = 0000:41:00.0\ntype = " + t + "\n"));
    BOOST_TEST_REQUIRE(r.ok(), t << ": " << why(r));
    BOOST_TEST(r->front().type_id == "nvidia-565");
  }
}

BOOST_AUTO_TEST_CASE(another_type_on_a_gpu_holding_24q_is_a_conflict) {
  auto inv = host("a40-sriov-vgpu");
  auto r = resolve_vgpu_layouts(inv, config("[vgpu:a40_8q]\naddresses = 0000:41:00.0\ntype = A40-8Q\n"));
  BOOST_TEST_REQUIRE(!r.ok());
  BOOST_TEST(contains(r.error().message, "gpu-agent.conf:1: [vgpu:a40_8q]"), r.error().message);
  BOOST_TEST(contains(r.error().message, "of type nvidia-565, not A40-8Q (nvidia-562)"), r.error().message);
  BOOST_TEST(contains(r.error().message, "/remove"));
}

BOOST_AUTO_TEST_CASE(two_layouts_on_two_gpus_and_one_gpu_in_two_layouts) {
  auto inv = host("a40-sriov-vgpu");
  auto ok = resolve_vgpu_layouts(inv, config("[vgpu:gold]\naddresses = 0000:41:00.0\ntype = A40-24Q\n"
                                             "[vgpu:silver]\naddresses = 0000:c1:00.0\ntype = A40-8Q\n"));
  BOOST_TEST_REQUIRE(ok.ok(), why(ok));
  BOOST_TEST(ok->at(1).type_id == "nvidia-562");
  BOOST_TEST(ok->at(1).capacity == 6);  // 48 GB / 8 GB
  auto twice = resolve_vgpu_layouts(inv, config("[vgpu:gold]\nmatch = 10de:2235\ntype = A40-24Q\n"
                                                "[vgpu:silver]\naddresses = 0000:c1:00.0\ntype = A40-8Q\n"));
  BOOST_TEST_REQUIRE(!twice.ok());
  BOOST_TEST(contains(twice.error().message, "0000:c1:00.0 is already in [vgpu:gold]"), twice.error().message);
}

BOOST_AUTO_TEST_CASE(a_type_the_gpu_does_not_offer_lists_what_it_offers) {
  auto inv = host("a40-sriov-vgpu");
  auto r = resolve_vgpu_layouts(inv, config("[vgpu:x]\nmatch = all\ntype = A100-40C\n"));
  BOOST_TEST_REQUIRE(!r.ok());
  BOOST_TEST(contains(r.error().message, "does not offer vGPU type A100-40C; it offers: A40-12A (nvidia-573)"),
             r.error().message);
}

BOOST_AUTO_TEST_CASE(t4_types_live_on_the_pf) {
  auto inv = host("t4-vgpu-timesliced");
  auto r = resolve_vgpu_layouts(inv, config("[vgpu:t4]\nmatch = 10de:1eb8\ntype = T4-4Q\n"));
  BOOST_TEST_REQUIRE(r.ok(), why(r));
  const VgpuLayout& l = r->front();
  BOOST_TEST(l.parents.size() == 2u);
  BOOST_TEST(l.parents[0].address.to_string() == "0000:3b:00.0");
  BOOST_TEST(l.capacity == 8);  // 3 free + 1 in use, and 4 on the other T4
  BOOST_TEST(l.short_name == "T4-4Q");
  auto b = resolve_vgpu_layouts(inv, config("[vgpu:t4]\naddresses = 0000:d8:00.0\ntype = T4-2B\n"));
  BOOST_TEST_REQUIRE(b.ok(), why(b));
  BOOST_TEST(b->front().traits == (std::vector<std::string>{"CUSTOM_VGPU_FB_2G", "CUSTOM_VGPU_T4_2B"}));  // no CUDA
}

BOOST_AUTO_TEST_CASE(vgpu17_vendor_types_on_h100_vfs) {
  auto inv = host("h100-vgpu17");
  auto r = resolve_vgpu_layouts(inv, config("[vgpu:h100]\naddresses = 0000:ca:00.0\ntype = H100-20C\n"
                                            "mdev_class = CUSTOM_VGPU_H100_20C\n"));
  BOOST_TEST_REQUIRE(r.ok(), why(r));
  const VgpuLayout& l = r->front();
  BOOST_TEST((l.kind == VgpuKind::vendor_vfio));
  BOOST_TEST(l.type_id == "1052");
  BOOST_TEST(l.parents.size() == 32u);
  BOOST_TEST(l.framebuffer_mib.value_or(0) == 20480);
  BOOST_TEST(l.resource_class == "CUSTOM_VGPU_H100_20C");
  BOOST_TEST(contains(l.traits.front(), "CUSTOM_VGPU_CUDA"));
}

BOOST_AUTO_TEST_CASE(a_passthrough_host_has_no_vgpu_gpu) {
  auto inv = host("a100-8x-passthrough");
  auto r = resolve_vgpu_layouts(inv, config("[vgpu:x]\nmatch = all\ntype = A100-40C\n"));
  BOOST_TEST_REQUIRE(!r.ok());
  BOOST_TEST(contains(r.error().message, "selects no vGPU-capable GPU"), r.error().message);
  auto named = resolve_vgpu_layouts(inv, config("[vgpu:x]\naddresses = 0000:07:00.0\ntype = A100-40C\n"));
  BOOST_TEST_REQUIRE(!named.ok());
  BOOST_TEST(contains(named.error().message, "offers no vGPU type"), named.error().message);
}

BOOST_AUTO_TEST_CASE(config_errors_name_the_line) {
  for (auto [text, want] : std::vector<std::pair<std::string, std::string>>{
           {"[vgpu:x]\nmatch = all\n", "needs type = A40-24Q"},
           {"[vgpu:x]\ntype = A40-24Q\n", "selects no GPUs"},
           {"[vgpu:x]\ntype = A40-24Q\nmatch = all\nmdev_class = GPU\n", "nova takes VGPU or a CUSTOM_"},
           {"[vgpu:x]\ntype = A40-24Q\nmatch = all\nflavor_vcpus = 0\n", "at least 1"},
       }) {
    auto ini = parse_ini(text, "gpu-agent.conf");
    BOOST_TEST_REQUIRE(ini.ok());
    auto c = parse_agent_config(*ini);
    BOOST_TEST_REQUIRE(!c.ok(), text);
    BOOST_TEST(contains(c.error().message, want), c.error().message);
  }
}

BOOST_AUTO_TEST_SUITE_END()
