// nova [pci] generation, pure: fixture hosts -> inventory -> pools -> INI/JSON,
// compared with golden files under tests/data/golden/nova/
// (GPU_AGENT_REGENERATE=1 rewrites them; review the diff). That nova itself
// accepts them is nova_config_integration (label "integration;nova").
#define BOOST_TEST_MODULE nova_config
#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

#include "config.h"
#include "fixture.h"
#include "ini.h"
#include "inventory.h"
#include "nova_config.h"
#include "pools.h"
#include "vgpu.h"
#include "text_file.h"

using namespace gpu_agent;
using namespace gpu_agent::testing;

namespace {

const std::string kData = GPU_AGENT_TEST_DATA;

void replace_all(std::string& s, const std::string& from, const std::string& to) {
  for (size_t pos = 0; (pos = s.find(from, pos)) != std::string::npos; pos += to.size())
    s.replace(pos, from.size(), to);
}

// A committed host; `edit` turns it into a variation (one line on top of the base scenario).
Inventory host(const std::string& name, const std::string& from = "", const std::string& to = "") {
  std::string text = read_text_file(kData + "/hosts/" + name + ".sysfs.txt");
  if (!from.empty()) {
    BOOST_TEST_REQUIRE(text.find(from) != std::string::npos, name << " has no '" << from << "'");
    replace_all(text, from, to);
  }
  auto fx = parse_fixture(text, name);
  BOOST_TEST_REQUIRE(fx.ok(), (fx.ok() ? std::string() : fx.error().message));
  auto inv = read_inventory(*fx->fs);
  BOOST_TEST_REQUIRE(inv.ok(), (inv.ok() ? std::string() : inv.error().message));
  inv->hostname = fx->meta["hostname"];
  inv->source = "hosts/" + name + ".sysfs.txt";  // not the checkout's path: goldens are portable
  return std::move(*inv);
}

AgentConfig config(const std::string& text) {
  auto ini = parse_ini(text, "gpu-agent.conf");
  BOOST_TEST_REQUIRE(ini.ok(), (ini.ok() ? std::string() : ini.error().message));
  auto cfg = parse_agent_config(*ini);
  BOOST_TEST_REQUIRE(cfg.ok(), (cfg.ok() ? std::string() : cfg.error().message));
  return *cfg;
}

Result<NovaConfig> generate(const Inventory& inv, const AgentConfig& cfg, const std::string& release = "zed",
                            const std::string& numa_policy = "preferred") {
  auto pools = derive_pools(inv, cfg);
  BOOST_TEST_REQUIRE(pools.ok(), (pools.ok() ? std::string() : pools.error().message));
  NovaConfigOptions o;
  auto rel = parse_nova_release(release);
  BOOST_TEST_REQUIRE(rel.ok(), (rel.ok() ? std::string() : rel.error().message));
  o.release = *rel;
  o.release_source = "configured";
  o.numa_policy = numa_policy;
  o.generator = "gpu-agent (test)";
  auto layouts = resolve_vgpu_layouts(inv, cfg);
  BOOST_TEST_REQUIRE(layouts.ok(), (layouts.ok() ? std::string() : layouts.error().message));
  return make_nova_config(inv, *pools, o, *layouts);
}

void golden(const std::string& name, const std::string& text) {
  const std::string diff = check_golden(kData + "/golden/nova/" + name, text);
  BOOST_TEST(diff.empty(), name << ": " << diff);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(generation)

BOOST_AUTO_TEST_CASE(a100_8x_one_vendor_product_spec_and_alias) {
  auto nova = generate(host("a100-8x-passthrough"), {});
  BOOST_TEST_REQUIRE(nova.ok(), (nova.ok() ? std::string() : nova.error().message));
  BOOST_TEST(nova->device_specs.size() == 1u);
  BOOST_TEST(nova->device_specs[0].kind == "vendor_product");
  BOOST_TEST(nova->device_specs[0].devices.size() == 8u);
  BOOST_TEST(nova->aliases.size() == 1u);
  BOOST_TEST(nova->aliases[0].name == "10de_20b2");
  golden("a100-8x-passthrough.all.conf", nova_config_to_ini(*nova, NovaRole::all));
  golden("a100-8x-passthrough.compute.conf", nova_config_to_ini(*nova, NovaRole::compute));
  golden("a100-8x-passthrough.api.conf", nova_config_to_ini(*nova, NovaRole::api));
  golden("a100-8x-passthrough.all.json", nova_config_to_json(*nova, NovaRole::all));
}

BOOST_AUTO_TEST_CASE(before_zed_the_option_is_passthrough_whitelist) {
  auto nova = generate(host("a100-8x-passthrough"), {}, "yoga", "legacy");
  BOOST_TEST_REQUIRE(nova.ok());
  BOOST_TEST(nova->device_spec_option == "passthrough_whitelist");
  const std::string ini = nova_config_to_ini(*nova, NovaRole::compute);
  BOOST_TEST(ini.find("\ndevice_spec =") == std::string::npos);
  golden("a100-8x-passthrough.yoga.compute.conf", ini);
}

BOOST_AUTO_TEST_CASE(hdmi_audio_travels_with_the_gpu) {
  // the committed host has the audio function on snd_hda_intel; the inventory's fix binds it to vfio-pci
  auto nova = generate(host("consumer-gpu-hdmi-audio", "snd_hda_intel", "vfio-pci"), {});
  BOOST_TEST_REQUIRE(nova.ok(), (nova.ok() ? std::string() : nova.error().message));
  BOOST_TEST_REQUIRE(nova->device_specs.size() == 2u);
  BOOST_TEST(nova->device_specs[1].role == "companion");
  BOOST_TEST(nova->device_specs[1].json == R"({"address": "0000:01:00.1"})");
  golden("consumer-gpu-hdmi-audio-vfio.all.conf", nova_config_to_ini(*nova, NovaRole::all));
}

BOOST_AUTO_TEST_CASE(a_configured_pool_of_some_gpus_is_matched_by_address) {
  auto cfg = config(
      "[agent]\ndefault_pools = false\n[pool:A100_Fast]\nresource_class = CUSTOM_PGPU_A100_FAST\n"
      "addresses = 0000:07:00.0, 0000:0f:00.0, 0000:47:00.0, 0000:4e:00.0\n");
  auto nova = generate(host("a100-8x-passthrough"), cfg);
  BOOST_TEST_REQUIRE(nova.ok(), (nova.ok() ? std::string() : nova.error().message));
  BOOST_TEST(nova->device_specs.size() == 4u);
  for (const auto& s : nova->device_specs) BOOST_TEST(s.kind == "address");
  BOOST_TEST(nova->aliases.at(0).name == "a100_fast");
  golden("a100-8x-pool-by-address.all.conf", nova_config_to_ini(*nova, NovaRole::all));
}

BOOST_AUTO_TEST_CASE(two_pools_of_one_model_are_noted_as_indistinguishable_by_alias) {
  auto cfg = config("[pool:fast]\nresource_class = CUSTOM_PGPU_FAST\naddresses = 0000:07:00.0\n");
  auto nova = generate(host("a100-8x-passthrough"), cfg);
  BOOST_TEST_REQUIRE(nova.ok());
  BOOST_TEST(nova->device_specs.size() == 8u);  // neither pool holds every 10de:20b2: by address
  bool noted = false;
  for (const auto& n : nova->notes) noted |= n.find("cannot tell") != std::string::npos;
  BOOST_TEST(noted);
  golden("a100-8x-two-pools-one-model.all.conf", nova_config_to_ini(*nova, NovaRole::all));
}

BOOST_AUTO_TEST_CASE(sriov_capable_gpus_are_type_pf_to_nova_and_a_pool_cannot_mix_them) {
  // 0000:07:00.0 of the 8x host, made SR-IOV capable (no VFs enabled, still on vfio-pci)
  const std::string gpu = "f devices/pci0000:00/0000:00:01.1/0000:05:00.0/0000:06:00.0/0000:07:00.0";
  const std::string pf = gpu + "/class = 0x030200\n" + gpu + "/sriov_totalvfs = 20\n" + gpu + "/sriov_numvfs = 0";
  auto mixed = generate(host("a100-8x-passthrough", gpu + "/class = 0x030200", pf), {});
  BOOST_TEST_REQUIRE(!mixed.ok());
  BOOST_TEST(mixed.error().message.find("type-PF") != std::string::npos);
  // in a pool of its own it is fine, and its alias asks for type-PF
  auto cfg = config("[pool:pf]\nresource_class = CUSTOM_PGPU_PF\naddresses = 0000:07:00.0\n");
  auto own = generate(host("a100-8x-passthrough", gpu + "/class = 0x030200", pf), cfg);
  BOOST_TEST_REQUIRE(own.ok(), (own.ok() ? std::string() : own.error().message));
  BOOST_TEST_REQUIRE(own->aliases.size() == 2u);
  BOOST_TEST(own->aliases[0].name == "pf");
  BOOST_TEST(own->aliases[0].json.find(R"("device_type": "type-PF")") != std::string::npos);
  BOOST_TEST(own->aliases[1].json.find(R"("device_type": "type-PCI")") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(no_assignable_gpu_is_an_error_that_says_why_and_what_to_do) {
  auto off = generate(host("iommu-off"), {});
  BOOST_TEST_REQUIRE(!off.ok());
  BOOST_TEST(off.error().message.find("iommu_off") != std::string::npos);
  BOOST_TEST(off.error().message.find("gpu-agent inventory") != std::string::npos);
  auto vgpu = generate(host("a40-sriov-vgpu"), {});  // vGPU only: nova's [devices], not [pci]
  BOOST_TEST_REQUIRE(!vgpu.ok());
  BOOST_TEST(vgpu.error().message.find("enabled_mdev_types") != std::string::npos);
  auto audio = generate(host("consumer-gpu-hdmi-audio"), {});
  BOOST_TEST_REQUIRE(!audio.ok());
  BOOST_TEST(audio.error().message.find("companion_not_vfio") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(options)

BOOST_AUTO_TEST_CASE(releases_by_name_year_code_and_major) {
  for (const char* r : {"zed", "Zed", "26"}) BOOST_TEST(parse_nova_release(r)->name == "zed");
  for (const char* r : {"2023.1", "antelope", "Antelope", "27"}) BOOST_TEST(parse_nova_release(r)->name == "2023.1");
  BOOST_TEST(parse_nova_release("yoga")->nova_major == 25);
  auto bad = parse_nova_release("folsom");
  BOOST_TEST_REQUIRE(!bad.ok());
  BOOST_TEST(bad.error().message.find("zed") != std::string::npos);
  BOOST_TEST(bad.error().message.find("2025.2 (flamingo)") != std::string::npos);
  for (const char* r : {"2026.1", "gazpacho", "33"}) BOOST_TEST(parse_nova_release(r)->name == "2026.1");
  for (const char* r : {"2026.2", "Hibiscus", "34"}) BOOST_TEST(parse_nova_release(r)->nova_major == 34);
  BOOST_TEST(parse_nova_release("2025.1")->code == "epoxy");
  BOOST_TEST(!parse_nova_release("35").ok());
  BOOST_TEST(newest_nova_release().name == "2026.2");
}

BOOST_AUTO_TEST_CASE(features_come_with_the_release_that_introduced_them) {
  auto rel = [](const char* r) { return *parse_nova_release(r); };
  BOOST_TEST(!has_feature(rel("yoga"), NovaFeature::device_spec));
  BOOST_TEST(has_feature(rel("zed"), NovaFeature::device_spec));
  BOOST_TEST(release_introducing(NovaFeature::device_spec).name == "zed");
  BOOST_TEST(release_introducing(NovaFeature::max_instances).name == "2023.2");
  BOOST_TEST(!has_feature(rel("2023.1"), NovaFeature::max_instances));
  BOOST_TEST(release_introducing(NovaFeature::vgpu17_unmanaged).name == "2025.1");
  BOOST_TEST(release_introducing(NovaFeature::owner_nova).name == "2026.2");
  BOOST_TEST(!has_feature(rel("2026.1"), NovaFeature::owner_nova));
  BOOST_TEST(release_introducing(NovaFeature::mdev_options).name == "xena");
  BOOST_TEST(release_introducing(NovaFeature::report_in_placement).name == "zed");
  const std::string help = nova_release_help("");
  BOOST_TEST(help.find("34  2026.2 (hibiscus)") != std::string::npos);
  BOOST_TEST(help.find("+ max_instances") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(the_installed_nova_decides_the_default_release) {
  BOOST_TEST(nova_release_from_version("26.2.2")->name == "zed");
  BOOST_TEST(nova_release_from_version("34.0.0")->name == "2026.2");
  BOOST_TEST(nova_release_from_version("41.0.0")->name == "2026.2");  // newer than the table: the newest
  BOOST_TEST(!nova_release_from_version("19.1.0").ok());
  BOOST_TEST(!nova_release_from_version("x").ok());
  const std::vector<std::string> zed{kData + "/nova-site/none", kData + "/nova-site/zed"};
  auto found = find_installed_nova(zed);
  BOOST_TEST_REQUIRE(found.has_value());
  BOOST_TEST(found->version == "26.2.2");
  auto detected = choose_nova_release(std::nullopt, "--nova-release", zed);
  BOOST_TEST(detected->release.name == "zed");
  BOOST_TEST(detected->source == "detected");
  BOOST_TEST(describe(*detected).find("nova 26.2.2 installed") != std::string::npos);
  auto none = choose_nova_release(std::string(), "--nova-release", {kData + "/nova-site/none"});
  BOOST_TEST(none->release.name == "2026.2");
  BOOST_TEST(none->source == "default");
  auto configured = choose_nova_release(std::string("epoxy"), "[agent] nova_release", zed);
  BOOST_TEST(configured->release.name == "2025.1");
  BOOST_TEST(configured->source == "configured");
  auto bad = choose_nova_release(std::string("folsom"), "[agent] nova_release in x.conf", zed);
  BOOST_TEST_REQUIRE(!bad.ok());
  BOOST_TEST(bad.error().message.find("[agent] nova_release in x.conf: unknown nova release 'folsom'") == 0);
  BOOST_TEST(nova_site_dirs("/a::/b") == (std::vector<std::string>{"/a", "/b"}));
}

BOOST_AUTO_TEST_CASE(numa_policy_is_checked_against_the_release) {
  const Inventory inv = host("a100-8x-passthrough");
  BOOST_TEST(generate(inv, {}, "zed", "socket").ok());
  BOOST_TEST(generate(inv, {}, "zed", "Required").ok());
  BOOST_TEST(!generate(inv, {}, "victoria", "socket").ok());  // socket arrived in Wallaby
  BOOST_TEST(!generate(inv, {}, "zed", "strict").ok());
}

BOOST_AUTO_TEST_CASE(alias_names) {
  BOOST_TEST(nova_alias_name("10de_2330") == "10de_2330");
  BOOST_TEST(nova_alias_name("H100 NVL") == "h100-nvl");
  BOOST_TEST(nova_alias_name("a:b,c") == "a-b-c");  // ':' and ',' separate pci_passthrough:alias entries
}

BOOST_AUTO_TEST_CASE(pools_whose_alias_names_collide_are_an_error) {
  const Inventory inv = host("a100-8x-passthrough");
  std::vector<Pool> pools(2);
  pools[0].key = "a b";
  pools[0].assignable = {inv.gpus[0].address};
  pools[1].key = "a:b";
  pools[1].assignable = {inv.gpus[1].address};
  auto nova = make_nova_config(inv, pools, {});
  BOOST_TEST_REQUIRE(!nova.ok());
  BOOST_TEST(nova.error().message.find("'a-b'") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(vgpu)

const char* kA40Layouts =
    "[vgpu:a40_24q]\naddresses = 0000:41:00.0\ntype = A40-24Q\ntraits = CUSTOM_TENANT_GOLD\n"
    "[vgpu:a40_8q]\naddresses = 0000:c1:00.0\ntype = nvidia-562\nmdev_class = CUSTOM_VGPU_A40_8Q\n";

BOOST_AUTO_TEST_CASE(a40_layouts_enable_their_types_on_the_vfs) {
  auto nova = generate(host("a40-sriov-vgpu"), config(kA40Layouts));
  BOOST_TEST_REQUIRE(nova.ok(), (nova.ok() ? std::string() : nova.error().message));
  BOOST_TEST(nova->enabled_types_option == "enabled_mdev_types");
  BOOST_TEST_REQUIRE(nova->mdev_types.size() == 2u);
  BOOST_TEST(nova->mdev_types[0].group == "mdev_nvidia-565");
  BOOST_TEST(nova->mdev_types[0].device_addresses.size() == 32u);
  BOOST_TEST(nova->mdev_types[0].device_addresses[0].to_string() == "0000:41:00.4");
  BOOST_TEST(!nova->mdev_types[0].mdev_class.has_value());
  BOOST_TEST(nova->mdev_types[1].mdev_class.value_or("") == "CUSTOM_VGPU_A40_8Q");
  BOOST_TEST(!nova->mdev_types[1].max_instances.has_value());  // not in Zed
  BOOST_TEST(nova->device_specs.empty());
  golden("a40-sriov-vgpu.layouts.compute.conf", nova_config_to_ini(*nova, NovaRole::compute));
  golden("a40-sriov-vgpu.layouts.compute.json", nova_config_to_json(*nova, NovaRole::compute));
}

BOOST_AUTO_TEST_CASE(release_decides_option_names_and_fields) {
  auto wallaby = generate(host("a40-sriov-vgpu"), config(kA40Layouts), "wallaby");
  BOOST_TEST_REQUIRE(wallaby.ok());
  BOOST_TEST(wallaby->enabled_types_option == "enabled_vgpu_types");
  BOOST_TEST(wallaby->mdev_types[0].group == "vgpu_nvidia-565");
  BOOST_TEST(!wallaby->mdev_types[1].mdev_class.has_value());  // Xena and later
  golden("a40-sriov-vgpu.layouts.wallaby.compute.conf", nova_config_to_ini(*wallaby, NovaRole::compute));
  auto bobcat = generate(host("a40-sriov-vgpu"), config(kA40Layouts), "2023.2");
  BOOST_TEST_REQUIRE(bobcat.ok());
  BOOST_TEST(bobcat->mdev_types[0].max_instances.value_or(0) == 2);
  BOOST_TEST(bobcat->mdev_types[1].max_instances.value_or(0) == 6);
  auto train = generate(host("a40-sriov-vgpu"), config(kA40Layouts), "train");
  BOOST_TEST_REQUIRE(train.ok());
  BOOST_TEST(train->mdev_types.size() == 1u);  // Train uses only the first enabled type
}

BOOST_AUTO_TEST_CASE(t4_types_on_the_pf_and_the_api_role_has_none) {
  auto nova = generate(host("t4-vgpu-timesliced"), config("[vgpu:t4]\nmatch = 10de:1eb8\ntype = T4-4Q\n"));
  BOOST_TEST_REQUIRE(nova.ok(), (nova.ok() ? std::string() : nova.error().message));
  BOOST_TEST_REQUIRE(nova->mdev_types.size() == 1u);
  BOOST_TEST(nova->mdev_types[0].device_addresses.size() == 2u);
  BOOST_TEST(nova->mdev_types[0].device_addresses[0].to_string() == "0000:3b:00.0");
  golden("t4-vgpu-timesliced.layouts.compute.conf", nova_config_to_ini(*nova, NovaRole::compute));
  BOOST_TEST(nova_config_to_ini(*nova, NovaRole::api).find("[devices]") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(vgpu17_types_need_the_managed_tag) {
  const char* layout = "[vgpu:h100]\naddresses = 0000:ca:00.0\ntype = H100-20C\n";
  auto zed = generate(host("h100-vgpu17"), config(layout));
  BOOST_TEST_REQUIRE(zed.ok(), (zed.ok() ? std::string() : zed.error().message));
  BOOST_TEST(zed->device_specs.empty());
  BOOST_TEST(zed->mdev_types.empty());
  BOOST_TEST_REQUIRE(zed->notes.size() == 1u);
  BOOST_TEST(zed->notes[0].find("nova 2025.1 and later") != std::string::npos);
  auto epoxy = generate(host("h100-vgpu17"), config(layout), "2025.1");
  BOOST_TEST_REQUIRE(epoxy.ok());
  BOOST_TEST(epoxy->device_specs.size() == 32u);
  BOOST_TEST(epoxy->device_specs[0].json.find("\"managed\": \"no\"") != std::string::npos);
  BOOST_TEST(epoxy->device_specs[0].json.find("CUSTOM_VGPU_H100_20C") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_vgpu_host_without_layouts_says_to_declare_one) {
  auto nova = generate(host("a40-sriov-vgpu"), {});
  BOOST_TEST_REQUIRE(!nova.ok());
  BOOST_TEST(nova.error().message.find("[vgpu:NAME] layout") != std::string::npos, nova.error().message);
}

BOOST_AUTO_TEST_SUITE_END()
