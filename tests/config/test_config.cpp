// Config files and pool derivation: errors name file, line and key; pools follow the inventory.
#define BOOST_TEST_MODULE config
#include <boost/test/unit_test.hpp>

#include "config.h"
#include "ini.h"
#include "pools.h"
#include "state.h"

using namespace gpu_agent;

namespace {

Result<AgentConfig> cfg(const std::string& text) {
  auto ini = parse_ini(text, "gpu-agent.conf");
  if (!ini) return ini.error();
  return parse_agent_config(*ini);
}

std::string err(const std::string& text) {
  auto c = cfg(text);
  BOOST_REQUIRE_MESSAGE(!c.ok(), "expected an error for:\n" << text);
  return c.error().message;
}

Gpu gpu(const std::string& addr, uint32_t v, uint32_t d, bool assignable, GpuMode mode = GpuMode::passthrough) {
  Gpu g;
  g.address = *parse_pci_address(addr);
  g.vendor_id = v;
  g.product_id = d;
  g.assignable = assignable;
  g.mode = mode;
  g.product_name = "GA100 [A100 SXM4 80GB]";
  return g;
}

}  // namespace

BOOST_AUTO_TEST_CASE(ini_follows_oslo_rules) {
  auto ini = parse_ini("# c\n[placement]\nauth_type = password\n; c\npassword = a=b\n[agent]\nhost_traits = A,\n  B\n",
                       "f.conf");
  BOOST_REQUIRE(ini.ok());
  BOOST_TEST(ini->section("placement")->find("password")->value == "a=b");
  BOOST_TEST(ini->section("agent")->find("host_traits")->value == "A,\nB");
  BOOST_TEST(ini->section("agent")->find("host_traits")->line == 7);
  BOOST_TEST(!parse_ini("key = before section\n", "f.conf").ok());
  BOOST_TEST(parse_ini("[x\n", "f.conf").error().message ==
             "f.conf:1: malformed section header '[x' (expected [name])");
}

BOOST_AUTO_TEST_CASE(empty_config_gives_working_defaults) {
  auto c = cfg("");
  BOOST_REQUIRE(c.ok());
  BOOST_TEST(c->default_pools);
  BOOST_TEST(c->interval == 60);
  BOOST_TEST(c->marker_trait == "CUSTOM_GPU_AGENT_MANAGED");
  BOOST_TEST(c->placement.timeout == 30);
}

BOOST_AUTO_TEST_CASE(full_config_parses) {
  auto c = cfg(
      "[agent]\ncompute_node_name = compute-7\ninterval = 30\nhost_traits = CUSTOM_SHARE_GPU_XXX_HOST_LEVEL3\n"
      "[placement]\nauth_type = admin_token\ntoken = admin\nendpoint_override = http://127.0.0.1:8778\ntimeout = 5\n"
      "[pool:h100]\nresource_class = CUSTOM_PGPU_H100\nmatch = 10de:2330, 10de:2331\ntraits = CUSTOM_GPU_H100\n");
  BOOST_REQUIRE_MESSAGE(c.ok(), (c.ok() ? "" : c.error().message));
  BOOST_TEST(*c->compute_node_name == "compute-7");
  BOOST_TEST(c->placement.endpoint_override == "http://127.0.0.1:8778");
  BOOST_TEST(c->placement.timeout == 5);
  BOOST_REQUIRE_EQUAL(c->pools.size(), 1u);
  BOOST_TEST(c->pools[0].match.size() == 2u);
  BOOST_TEST(c->pools[0].match[1].second == 0x2331u);
}

BOOST_AUTO_TEST_CASE(host_traits_owner_is_agent_or_nova) {
  BOOST_TEST((cfg("")->host_traits_owner == TraitsOwner::agent));
  BOOST_TEST((cfg("[agent]\nhost_traits_owner = agent\n")->host_traits_owner == TraitsOwner::agent));
  auto nova = cfg("[agent]\nhost_traits = CUSTOM_A\nhost_traits_owner = nova\n");
  BOOST_REQUIRE_MESSAGE(nova.ok(), (nova.ok() ? "" : nova.error().message));
  BOOST_TEST((nova->host_traits_owner == TraitsOwner::nova));
  BOOST_TEST(nova->host_traits == std::vector<std::string>{"CUSTOM_A"});  // flavors still require them
  const std::string e = err("[agent]\nhost_traits_owner = Nova\n");
  BOOST_TEST(e.find("gpu-agent.conf:2: [agent] host_traits_owner: must be agent") != std::string::npos, e);
  BOOST_TEST(e.find("provider-yaml") != std::string::npos, e);
  const std::string unknown = err("[agent]\nhost_trait_owner = nova\n");
  BOOST_TEST(unknown.find("host_traits_owner") != std::string::npos, unknown);  // the known keys list it
}

BOOST_AUTO_TEST_CASE(nova_compute_id_is_an_absolute_path_or_empty) {
  BOOST_TEST(cfg("")->nova_compute_id == "/var/lib/nova/compute_id");  // Debian's and nova's [DEFAULT] state_path
  BOOST_TEST(cfg("[agent]\nnova_compute_id = /srv/nova/compute_id\n")->nova_compute_id == "/srv/nova/compute_id");
  BOOST_TEST(cfg("[agent]\nnova_compute_id =\n")->nova_compute_id.empty());  // always by name
  const std::string e = err("[agent]\nnova_compute_id = compute_id\n");
  BOOST_TEST(e.find("gpu-agent.conf:2: [agent] nova_compute_id: must be an absolute path") != std::string::npos, e);
}

BOOST_AUTO_TEST_CASE(config_errors_name_file_line_key_and_fix) {
  struct Case {
    std::string text, expect;
  } cases[] = {
      {"[agent]\nhost_traits = custom_lower\n",
       "gpu-agent.conf:2: [agent] host_traits: trait 'custom_lower' must start with CUSTOM_"},
      {"[agent]\nhost_traits = CUSTOM_BAD-CHAR\n", "may contain only A-Z, 0-9 and _"},
      {"[agent]\nhost_traits = CUSTOM_" + std::string(250, 'A') + "\n", "longer than 255 characters"},
      {"[agent]\ninterval = soon\n", "gpu-agent.conf:2: [agent] interval: 'soon' is not a number from 1 to 86400"},
      {"[agent]\nintervall = 5\n", "gpu-agent.conf:2: [agent] intervall: unknown key"},
      {"[placement]\npasword = x\n", "gpu-agent.conf:2: [placement] pasword: unknown key"},
      {"[placement]\nauth_type = kerberos\n", "unsupported auth_type 'kerberos'"},
      {"[placement]\nendpoint_override = 127.0.0.1:8778\n", "is not an http:// or https:// URL"},
      {"[placement]\ninsecure = maybe\n", "'maybe' is not a boolean"},
      {"[pool:x]\nresource_class = CUSTOM_X\n", "[pool:x] selects no GPUs"},
      {"[pool:x]\nmatch = 10de:2330\n", "[pool:x] needs resource_class"},
      {"[pool:x]\nmatch = 10de-2330\nresource_class = CUSTOM_X\n", "'10de-2330' is not VENDOR:PRODUCT"},
      {"[pool:x]\naddresses = 3b:00.0\nresource_class = CUSTOM_X\n", "not a PCI address"},
      {"[pool:a]\nmatch = 10de:2330\nresource_class = CUSTOM_X\n[pool:b]\nmatch = 10de:2331\nresource_class = "
       "CUSTOM_X\n",
       "uses resource class CUSTOM_X which [pool:a] (line 1) already uses"},
      {"[nova]\nx = 1\n", "unknown section [nova]"},
  };
  for (const auto& c : cases) {
    std::string e = err(c.text);
    BOOST_TEST(e.find(c.expect) != std::string::npos, "got: " << e << "\nexpected to contain: " << c.expect);
  }
}

BOOST_AUTO_TEST_CASE(nova_conf_placement_section_is_read_leniently) {
  auto ini = parse_ini(
      "[DEFAULT]\ncompute_driver = libvirt.LibvirtDriver\n[placement]\nauth_type = password\nauth_url = "
      "http://ks:5000/v3\nusername = nova\npassword = s3cret\nproject_name = service\nos_region_name = R1\n"
      "valid_interfaces = internal\n[libvirt]\nvirt_type = kvm\n",
      "nova.conf");
  BOOST_REQUIRE(ini.ok());
  auto p = placement_from_ini(*ini, false);
  BOOST_REQUIRE(p.ok());
  BOOST_TEST(p->username == "nova");
  BOOST_TEST(p->region_name == "R1");
  BOOST_TEST(p->valid_interfaces == std::vector<std::string>{"internal"});
}

BOOST_AUTO_TEST_CASE(default_pools_group_assignable_passthrough_gpus_by_model) {
  Inventory inv;
  inv.gpus = {gpu("0000:3b:00.0", 0x10de, 0x20b2, true), gpu("0000:86:00.0", 0x10de, 0x20b2, true),
              gpu("0000:af:00.0", 0x10de, 0x20b2, false), gpu("0000:d8:00.0", 0x10de, 0x2235, false, GpuMode::vgpu)};
  auto pools = derive_pools(inv, *cfg(""));
  BOOST_REQUIRE(pools.ok());
  BOOST_REQUIRE_EQUAL(pools->size(), 1u);  // the vGPU GPU is nova's, not a pool
  const Pool& p = (*pools)[0];
  BOOST_TEST(p.resource_class == "CUSTOM_PGPU_10DE_20B2");
  BOOST_TEST(p.assignable.size() == 2u);
  BOOST_TEST(p.unavailable.size() == 1u);
  BOOST_TEST((p.traits == std::vector<std::string>{"CUSTOM_GPU_MODEL_A100_SXM4_80GB", "CUSTOM_GPU_PRODUCT_10DE_20B2",
                                                   "CUSTOM_GPU_VENDOR_10DE"}));
}

BOOST_AUTO_TEST_CASE(a_model_unknown_to_pci_ids_gets_its_ids_as_the_model_trait) {
  Inventory inv;
  inv.gpus = {gpu("0000:1b:00.0", 0x10de, 0x2335, true)};
  inv.gpus[0].product_name.reset();  // an H200 on Debian 12's pci.ids
  auto pools = derive_pools(inv, *cfg(""));
  BOOST_REQUIRE(pools.ok());
  BOOST_REQUIRE_EQUAL(pools->size(), 1u);
  BOOST_TEST(
      ((*pools)[0].traits == std::vector<std::string>{"CUSTOM_GPU_MODEL_10DE_2335", "CUSTOM_GPU_PRODUCT_10DE_2335",
                                                      "CUSTOM_GPU_VENDOR_10DE"}));
}

BOOST_AUTO_TEST_CASE(host_displays_are_in_no_default_pool_but_a_pool_section_may_name_them) {
  Inventory inv;
  inv.gpus = {gpu("0000:04:00.0", 0x1a03, 0x2000, true), gpu("0000:18:00.0", 0x10de, 0x2330, true)};
  inv.gpus[0].role = GpuRole::host_display;
  auto pools = derive_pools(inv, *cfg(""));
  BOOST_REQUIRE(pools.ok());
  BOOST_REQUIRE_EQUAL(pools->size(), 1u);
  BOOST_TEST((*pools)[0].key == "10de_2330");
  auto named = derive_pools(inv, *cfg("[pool:console]\naddresses = 0000:04:00.0\nresource_class = CUSTOM_BMC\n"));
  BOOST_REQUIRE(named.ok());
  BOOST_REQUIRE_EQUAL(named->size(), 2u);
  BOOST_TEST((*named)[0].assignable.size() == 1u);
}

BOOST_AUTO_TEST_CASE(configured_pools_claim_gpus_and_conflicts_are_errors) {
  Inventory inv;
  inv.gpus = {gpu("0000:3b:00.0", 0x10de, 0x20b2, true), gpu("0000:86:00.0", 0x10de, 0x20b2, true)};
  auto c = cfg("[pool:fast]\naddresses = 0000:3b:00.0\nresource_class = CUSTOM_FAST\ntraits = CUSTOM_NVLINK\n");
  auto pools = derive_pools(inv, *c);
  BOOST_REQUIRE(pools.ok());
  BOOST_REQUIRE_EQUAL(pools->size(), 2u);
  BOOST_TEST((*pools)[0].resource_class == "CUSTOM_FAST");
  BOOST_TEST((*pools)[0].assignable.size() == 1u);
  BOOST_TEST((*pools)[1].resource_class == "CUSTOM_PGPU_10DE_20B2");
  BOOST_TEST((*pools)[1].assignable.size() == 1u);

  auto both = cfg(
      "[pool:a]\nmatch = 10de:20b2\nresource_class = CUSTOM_A\n[pool:b]\naddresses = 0000:86:00.0\n"
      "resource_class = CUSTOM_B\n");
  auto r = derive_pools(inv, *both);
  BOOST_REQUIRE(!r.ok());
  BOOST_TEST(r.error().message.find("0000:86:00.0 (10de:20b2) is selected by both [pool:a] and [pool:b]") !=
             std::string::npos);

  auto ghost = cfg("[pool:a]\naddresses = 0000:01:00.0\nresource_class = CUSTOM_A\n");
  auto g = derive_pools(inv, *ghost);
  BOOST_REQUIRE(!g.ok());
  BOOST_TEST(g.error().message.find("0000:01:00.0, which is not a GPU on this host") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(trait_parts_and_model_names) {
  BOOST_TEST(to_trait_part("NVIDIA Corporation") == "NVIDIA_CORPORATION");
  BOOST_TEST(to_trait_part("  a--b  ") == "A_B");
  BOOST_TEST(model_name("GH100[H100 SXM5 80GB]") == "H100 SXM5 80GB");
  BOOST_TEST(model_name("TU104GL [Tesla T4]") == "Tesla T4");
  BOOST_TEST(model_name("Device 2331") == "Device 2331");
}

BOOST_AUTO_TEST_CASE(state_round_trips_and_rejects_garbage) {
  AgentState s;
  s.owned_traits["u1"] = {"CUSTOM_A", "CUSTOM_B"};
  auto back = state_from_json(state_to_json(s), "state.json");
  BOOST_REQUIRE(back.ok());
  BOOST_TEST(back->owned_traits == s.owned_traits);
  BOOST_TEST(!state_from_json("{not json", "state.json").ok());
  BOOST_TEST(state_from_json("{\"owned_traits\":{\"u\":[1]}}", "state.json").error().message ==
             "state.json: owned_traits.u has a non-string");
}

BOOST_AUTO_TEST_CASE(state_keeps_the_resume_point_and_drops_a_damaged_one) {
  // The resume point lets a restarted agent's first pass be one GET: it must
  // come back exactly, and a damaged one must cost a full read, not an error.
  AgentState s;
  s.owned_traits["root-uuid"] = {"CUSTOM_HOST"};
  gpu_agent::ResumePoint r;
  r.compute_node = "compute-0";
  r.root_uuid = "root-uuid";
  r.desired = "compute-0|CUSTOM_GPU_AGENT_MANAGED||CUSTOM_PGPU=8:";
  r.generations = {{"root-uuid", 4}, {"pool-uuid", 2}};
  r.readings["CUSTOM_PGPU"] = {"pool-uuid", 8, 1, 3, 1764730000.25};
  r.readings["CUSTOM_OTHER"] = {"pool-2", 2, 0, std::nullopt, 0};
  s.resume = r;
  auto back = state_from_json(state_to_json(s), "state.json");
  BOOST_REQUIRE(back.ok());
  BOOST_TEST(back->owned_traits == s.owned_traits);
  BOOST_REQUIRE(back->resume.has_value());
  BOOST_TEST((*back->resume == r));

  // No resume point: none comes back (the file of an older agent).
  s.resume.reset();
  auto none = state_from_json(state_to_json(s), "state.json");
  BOOST_REQUIRE(none.ok());
  BOOST_TEST(!none->resume.has_value());

  // A damaged one: dropped, the owned traits still read.
  for (const char* bad :
       {R"("resume":{"compute_node":"c","root":"r","desired":"d","generations":{"r":"x"},"pools":{}})",
        R"("resume":{"compute_node":"c","root":"r","generations":{},"pools":{}})", R"("resume":[1])",
        R"("resume":{"compute_node":"c","root":"r","desired":"d","generations":{},"pools":{"X":{"provider":"p"}}})"}) {
    BOOST_TEST_CONTEXT(bad) {
      auto d = state_from_json(std::string(R"({"owned_traits":{"u":["CUSTOM_A"]},)") + bad + "}", "state.json");
      BOOST_REQUIRE(d.ok());
      BOOST_TEST(!d->resume.has_value());
      BOOST_TEST(d->owned_traits.at("u").count("CUSTOM_A") == 1u);
    }
  }
}
