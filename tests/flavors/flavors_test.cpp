// Flavor sizing and naming, pure: the seed family from config, sizes derived
// from a host's capacity so the whole-host flavor fits exactly, and every
// invalid input refused with what to change.
#define BOOST_TEST_MODULE flavors
#include <boost/test/unit_test.hpp>

#include <string>

#include "flavors.h"

using namespace gpu_agent::flavors;

namespace {

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

// the error, for a failed check's message (Boost evaluates it either way)
std::string why(const gpu_agent::Result<FlavorSet>& r) { return r.ok() ? std::string() : r.error().message; }

Inputs one_pool(int gpus, std::string key = "xxxgn3i") {
  Inputs in;
  in.host = "gpu-a100-0";
  PoolInput p;
  p.key = key;
  p.resource_class = "CUSTOM_PGPU_XXXGN3I";
  p.alias = key;
  p.gpus = gpus;
  in.pools.push_back(p);
  in.host_traits = {"CUSTOM_SHARE_GPU_XXX_HOST_LEVEL3"};
  return in;
}

FlavorSettings seed_settings() {
  FlavorSettings s;
  s.sizes = {1, 2, 4, 8};
  s.vcpus_per_gpu = 10;
  s.ram_mb_per_gpu = 102400;
  s.ephemeral_gb_per_gpu = 800;
  SizeOverride big;
  big.ephemeral_gb = 6500;
  s.overrides[8] = big;
  return s;
}

std::string spec(const Flavor& f, const std::string& key) {
  for (const auto& [k, v] : f.extra_specs)
    if (k == key) return v;
  return "<unset>";
}

HostCapacity capacity(int64_t vcpu, int64_t ram, int64_t disk) {
  HostCapacity c;
  c.host = "gpu-a100-0";
  c.vcpu = Capacity{vcpu, 0, vcpu, 1.0};
  c.memory_mb = Capacity{ram, 0, ram, 1.0};
  c.disk_gb = Capacity{disk, 0, disk, 1.0};
  return c;
}

}  // namespace

BOOST_AUTO_TEST_CASE(the_seed_family_is_reproduced_from_config) {
  auto set = make_flavors(one_pool(8), seed_settings());
  BOOST_TEST_REQUIRE(set.ok(), why(set));
  BOOST_TEST_REQUIRE(set->flavors.size() == 4u);
  const char* names[] = {"v.xxxgn3i-1x.c10g100-1i", "v.xxxgn3i-2x.c20g200-2i", "v.xxxgn3i-4x.c40g400-4i",
                         "v.xxxgn3i-8x.c80g800-8i"};
  const int64_t vcpus[] = {10, 20, 40, 80}, ram[] = {102400, 204800, 409600, 819200}, eph[] = {800, 1600, 3200, 6500};
  for (size_t i = 0; i < 4; ++i) {
    const Flavor& f = set->flavors[i];
    BOOST_TEST(f.name == names[i]);
    BOOST_TEST(f.vcpus == vcpus[i]);
    BOOST_TEST(f.ram_mb == ram[i]);
    BOOST_TEST(f.ephemeral_gb == eph[i]);
    BOOST_TEST(f.disk_gb == 0);
    BOOST_TEST(spec(f, "resources:CUSTOM_PGPU_XXXGN3I") == std::to_string(f.gpus));
    BOOST_TEST(spec(f, "trait:CUSTOM_SHARE_GPU_XXX_HOST_LEVEL3") == "required");
    BOOST_TEST(spec(f, "pci_passthrough:alias") == "xxxgn3i:" + std::to_string(f.gpus));
  }
  BOOST_TEST(set->traits == std::vector<std::string>{"CUSTOM_SHARE_GPU_XXX_HOST_LEVEL3"});
}

BOOST_AUTO_TEST_CASE(ids_are_fixed_by_name_and_differ_between_flavors) {
  auto a = make_flavors(one_pool(8), seed_settings());
  auto b = make_flavors(one_pool(8), seed_settings());
  BOOST_TEST_REQUIRE((a.ok() && b.ok()));
  BOOST_TEST(a->flavors[0].id == b->flavors[0].id);
  BOOST_TEST(a->flavors[0].id != a->flavors[1].id);
  BOOST_TEST(a->flavors[0].id.size() == 36u);
}

BOOST_AUTO_TEST_CASE(derived_from_capacity_the_whole_host_flavor_takes_everything) {
  // 96 vCPUs minus 16 reserved, 1 TiB minus 64 GiB, 7000 GB: not a multiple of 8
  FlavorSettings s;
  Inputs in = one_pool(8);
  HostCapacity c = capacity(96, 1048576, 7003);
  c.vcpu->reserved = 16;
  c.memory_mb->reserved = 65536;
  in.capacity = c;
  auto set = make_flavors(in, s);
  BOOST_TEST_REQUIRE(set.ok(), why(set));
  BOOST_TEST_REQUIRE(set->flavors.size() == 4u);
  const Flavor& one = set->flavors[0];
  const Flavor& eight = set->flavors[3];
  BOOST_TEST(one.vcpus == 10);
  BOOST_TEST(one.ram_mb == (1048576 - 65536) / 8);
  BOOST_TEST(one.ephemeral_gb == 7003 / 8);
  BOOST_TEST(set->flavors[2].ephemeral_gb == 4 * (7003 / 8));
  // exactly what placement offers: nothing left over, nothing asked beyond it
  BOOST_TEST(eight.vcpus == 80);
  BOOST_TEST(eight.ram_mb == 1048576 - 65536);
  BOOST_TEST(eight.ephemeral_gb == 7003);
  BOOST_TEST(contains(set->sizing, "VCPU 80/8 GPUs = 10 per GPU"));
}

BOOST_AUTO_TEST_CASE(allocation_ratio_and_max_unit_bound_what_one_server_gets) {
  Inputs in = one_pool(8);
  HostCapacity c = capacity(64, 524288, 4000);
  c.vcpu->allocation_ratio = 2.0;  // 128 schedulable vCPUs...
  c.vcpu->max_unit = 64;           // ...but one server takes at most 64
  in.capacity = c;
  auto set = make_flavors(in, FlavorSettings{});
  BOOST_TEST_REQUIRE(set.ok(), why(set));
  BOOST_TEST(set->flavors[0].vcpus == 8);
  BOOST_TEST(set->flavors[3].vcpus == 64);
}

BOOST_AUTO_TEST_CASE(the_root_disk_comes_out_of_the_ephemeral_share) {
  FlavorSettings s;
  s.disk_gb = 40;
  Inputs in = one_pool(4);
  in.capacity = capacity(64, 524288, 1000);
  auto set = make_flavors(in, s);
  BOOST_TEST_REQUIRE(set.ok(), why(set));
  BOOST_TEST(set->flavors.back().ephemeral_gb + set->flavors.back().disk_gb == 1000);
  BOOST_TEST(set->flavors.front().ephemeral_gb == (1000 - 40) / 4);
}

BOOST_AUTO_TEST_CASE(default_sizes_stop_at_the_pools_gpus) {
  FlavorSettings s = seed_settings();
  s.sizes.clear();
  s.overrides.clear();
  auto set = make_flavors(one_pool(4), s);
  BOOST_TEST_REQUIRE(set.ok(), why(set));
  BOOST_TEST(set->flavors.size() == 3u);
  BOOST_TEST(set->flavors.back().gpus == 4);
}

BOOST_AUTO_TEST_CASE(a_size_the_pool_cannot_hold_is_an_error_naming_the_fix) {
  auto set = make_flavors(one_pool(4), seed_settings());
  BOOST_TEST_REQUIRE(!set.ok());
  BOOST_TEST(contains(set.error().message, "a 8x flavor needs 8 GPUs of pool xxxgn3i, but gpu-a100-0 has 4"));
  BOOST_TEST(contains(set.error().message, "[flavors] sizes"));
}

BOOST_AUTO_TEST_CASE(sizes_that_do_not_fit_the_hosts_capacity_are_refused) {
  Inputs in = one_pool(8);
  in.capacity = capacity(64, 2097152, 10000);  // 64 vCPUs, the seed's 8x wants 80
  auto set = make_flavors(in, seed_settings());
  BOOST_TEST_REQUIRE(!set.ok());
  BOOST_TEST(contains(set.error().message, "asks for 80 VCPU but compute node gpu-a100-0 offers 64"));
  BOOST_TEST(contains(set.error().message, "vcpus_per_gpu"));
}

BOOST_AUTO_TEST_CASE(no_share_and_no_capacity_says_both_ways_out) {
  auto set = make_flavors(one_pool(8), FlavorSettings{});
  BOOST_TEST_REQUIRE(!set.ok());
  BOOST_TEST(contains(set.error().message, "vcpus_per_gpu is not set"));
  BOOST_TEST(contains(set.error().message, "--vcpus-per-gpu"));
  BOOST_TEST(contains(set.error().message, "--from-placement"));
}

BOOST_AUTO_TEST_CASE(capacity_without_the_resource_is_an_error) {
  Inputs in = one_pool(8);
  HostCapacity c = capacity(64, 524288, 1000);
  c.disk_gb.reset();
  in.capacity = c;
  auto set = make_flavors(in, FlavorSettings{});
  BOOST_TEST_REQUIRE(!set.ok());
  BOOST_TEST(contains(set.error().message, "no DISK_GB inventory"));
}

BOOST_AUTO_TEST_CASE(only_pools_without_gpus_or_no_pool_is_an_error) {
  auto none = make_flavors(one_pool(0), seed_settings());
  BOOST_TEST_REQUIRE(!none.ok());
  BOOST_TEST(contains(none.error().message, "no pool has an assignable GPU"));
  Inputs empty;
  empty.host = "h";
  BOOST_TEST(!make_flavors(empty, seed_settings()).ok());
}

BOOST_AUTO_TEST_CASE(a_pool_without_gpus_is_skipped_with_a_note_and_the_others_written) {
  Inputs in = one_pool(8);
  PoolInput empty = in.pools[0];
  empty.key = "bmc";
  empty.resource_class = "CUSTOM_PGPU_BMC";
  empty.gpus = 0;
  in.pools.push_back(empty);
  auto set = make_flavors(in, seed_settings());
  BOOST_TEST_REQUIRE(set.ok());
  BOOST_TEST(!set->flavors.empty());
  for (const auto& f : set->flavors) BOOST_TEST(f.pool == "xxxgn3i");
  BOOST_TEST_REQUIRE(set->notes.size() == 1u);
  BOOST_TEST(contains(set->notes[0], "skipped pool bmc"));
}

BOOST_AUTO_TEST_CASE(names_over_255_characters_are_refused) {
  FlavorSettings s = seed_settings();
  s.name_template = std::string(250, 'a') + "-{n}x-{pool}";
  auto set = make_flavors(one_pool(8), s);
  BOOST_TEST_REQUIRE(!set.ok());
  BOOST_TEST(contains(set.error().message, "nova takes 1 to 255"));
}

// vGPU flavors' names follow the same rules as the passthrough family's, each
// message naming the vGPU template to change.
BOOST_AUTO_TEST_CASE(vgpu_names_follow_the_same_rules) {
  Inputs in;
  in.host = "gpu-a40-0";
  VgpuInput v;
  v.layout = "a40_24q";
  v.type = "A40-24Q";
  v.resource_class = "VGPU";
  in.vgpus.push_back(v);
  FlavorSettings s;
  s.vgpu_name_template = std::string(250, 'a') + "-{type}";
  auto longer = make_flavors(in, s);
  BOOST_TEST_REQUIRE(!longer.ok());
  BOOST_TEST(contains(longer.error().message, "vGPU flavor name '" + std::string(80, 'a') + "...' has 258 characters"));
  BOOST_TEST(contains(longer.error().message, "shorten [flavors] vgpu_name_template or the layout's name"));
  s.vgpu_name_template = " vgpu-{type}";
  auto spaced = make_flavors(in, s);
  BOOST_TEST_REQUIRE(!spaced.ok());
  BOOST_TEST(spaced.error().message ==
             "vGPU flavor name ' vgpu-A40-24Q' starts or ends with a space, which nova refuses");
  s.vgpu_name_template = "vgpu\t{type}";
  auto control = make_flavors(in, s);
  BOOST_TEST_REQUIRE(!control.ok());
  BOOST_TEST(contains(control.error().message, "has a control character; nova refuses it"));
  in.vgpus.push_back(v);
  in.vgpus.back().layout = "a40_24q_b";
  s.vgpu_name_template = "vgpu-{type}";
  auto twice = make_flavors(in, s);
  BOOST_TEST_REQUIRE(!twice.ok());
  BOOST_TEST(contains(twice.error().message,
                      "two flavors would be named 'vgpu-A40-24Q': put {pool} (the layout) in "
                      "[flavors] vgpu_name_template"));
}

BOOST_AUTO_TEST_CASE(colliding_names_and_unknown_fields_are_refused) {
  Inputs two = one_pool(8, "a100");
  PoolInput other = two.pools[0];
  other.key = "h100";
  other.resource_class = "CUSTOM_PGPU_H100";
  two.pools.push_back(other);
  FlavorSettings s = seed_settings();
  s.name_template = "gpu-{n}x";
  auto set = make_flavors(two, s);
  BOOST_TEST_REQUIRE(!set.ok());
  BOOST_TEST(contains(set.error().message, "two flavors would be named 'gpu-1x'"));
  s.name_template = "gpu-{n}x-{gpu_model}";
  auto bad = make_flavors(two, s);
  BOOST_TEST_REQUIRE(!bad.ok());
  BOOST_TEST(contains(bad.error().message, "{gpu_model}, which is not a field"));
}

BOOST_AUTO_TEST_CASE(two_pools_share_the_hosts_capacity) {
  Inputs in = one_pool(4, "a100");
  PoolInput other = in.pools[0];
  other.key = "t4";
  other.resource_class = "CUSTOM_PGPU_T4";
  other.alias = "t4";
  in.pools.push_back(other);
  in.capacity = capacity(80, 819200, 8000);
  auto set = make_flavors(in, FlavorSettings{});
  BOOST_TEST_REQUIRE(set.ok(), why(set));
  BOOST_TEST(set->flavors.size() == 6u);                                  // 1, 2, 4 of each
  for (const auto& f : set->flavors) BOOST_TEST(f.vcpus == 10 * f.gpus);  // 80 vCPUs over 8 GPUs
}

BOOST_AUTO_TEST_CASE(extra_specs_from_config_are_added_but_cannot_override_the_agents) {
  FlavorSettings s = seed_settings();
  s.extra_specs = {{"hw:cpu_policy", "dedicated"}};
  auto set = make_flavors(one_pool(8), s);
  BOOST_TEST_REQUIRE(set.ok(), why(set));
  BOOST_TEST(spec(set->flavors[0], "hw:cpu_policy") == "dedicated");
  s.extra_specs = {{"resources:CUSTOM_PGPU_XXXGN3I", "2"}};
  BOOST_TEST(!make_flavors(one_pool(8), s).ok());
  s.extra_specs.clear();
  s.pci_alias = false;
  auto no_alias = make_flavors(one_pool(8), s);
  BOOST_TEST_REQUIRE(no_alias.ok());
  BOOST_TEST(spec(no_alias->flavors[0], "pci_passthrough:alias") == "<unset>");
}

BOOST_AUTO_TEST_CASE(formats_carry_every_flavor_and_trait) {
  auto set = make_flavors(one_pool(8), seed_settings());
  BOOST_TEST_REQUIRE(set.ok());
  const std::string script = to_openstack_script(*set), json = to_json(*set), yaml = to_ansible_vars(*set);
  // traits before flavors in the script
  BOOST_TEST(script.find("trait 'CUSTOM_SHARE_GPU_XXX_HOST_LEVEL3'") < script.find("flavor 'v.xxxgn3i-1x"));
  for (const auto& f : set->flavors) {
    BOOST_TEST(contains(script, f.id));
    BOOST_TEST(contains(json, "\"id\": \"" + f.id + "\""));
    BOOST_TEST(contains(yaml, "flavorid: \"" + f.id + "\""));
  }
  BOOST_TEST(contains(yaml, "gpu_agent_traits:\n  - id: \"CUSTOM_SHARE_GPU_XXX_HOST_LEVEL3\"\n    state: present"));
}

BOOST_AUTO_TEST_CASE(odd_names_are_quoted_for_sh_and_yaml) {
  FlavorSettings s = seed_settings();
  s.name_template = "it's \"{pool}\" {n}x";
  auto set = make_flavors(one_pool(8), s);
  BOOST_TEST_REQUIRE(set.ok(), why(set));
  BOOST_TEST(contains(to_openstack_script(*set), "flavor 'it'\\''s \"xxxgn3i\" 1x'"));
  BOOST_TEST(contains(to_ansible_vars(*set), "name: \"it's \\\"xxxgn3i\\\" 1x\""));
}
