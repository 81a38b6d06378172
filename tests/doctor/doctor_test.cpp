// gpu-agent doctor: the fixture hosts' verdicts turned into host-preparation
// steps (golden text per host under tests/data/golden/doctor/), the lines that
// matter checked one by one. The command itself: doctor_cli_test.cpp.
#include <boost/test/unit_test.hpp>

#include <rapidjson/document.h>

#include <string>
#include <vector>

#include "config.h"
#include "doctor.h"
#include "fixture.h"
#include "ini.h"
#include "inventory_helpers.h"
#include "scenarios.h"
#include "text_file.h"

using namespace gpu_agent;
using namespace gpu_agent::testing;

namespace {

const std::string kData = GPU_AGENT_TEST_DATA;

void replace_all(std::string& s, const std::string& from, const std::string& to) {
  for (size_t pos = 0; (pos = s.find(from, pos)) != std::string::npos; pos += to.size())
    s.replace(pos, from.size(), to);
}

// A committed host, optionally with one edit on top (a variation of the scenario).
Inventory host(const std::string& name, const std::string& from = "", const std::string& to = "") {
  const std::string origin = "hosts/" + name + ".sysfs.txt";  // relative: goldens are the same in every clone
  std::string text = read_text_file(kData + "/" + origin);
  if (!from.empty()) {
    BOOST_TEST_REQUIRE(contains(text, from), name << " has no '" << from << "'");
    replace_all(text, from, to);
  }
  auto fx = parse_fixture(text, origin);
  BOOST_TEST_REQUIRE(fx.ok(), (fx.ok() ? std::string() : fx.error().message));
  Inventory inv = inventory_of(*fx->fs);
  inv.hostname = "golden-host";
  inv.source = origin;
  return inv;
}

DoctorReport doctor(const Inventory& inv, std::optional<std::string> vendor = std::nullopt) {
  DoctorOptions o;
  o.cpu_vendor = std::move(vendor);
  return make_doctor_report(inv, o);
}

AgentConfig config(const std::string& text) {
  auto ini = parse_ini(text, "gpu-agent.conf");
  BOOST_TEST_REQUIRE(ini.ok());
  auto c = parse_agent_config(*ini);
  BOOST_TEST_REQUIRE(c.ok(), (c.ok() ? std::string() : c.error().message));
  return *c;
}

IniFile nova_conf(const std::string& text, const std::string& path = "nova.conf") {
  auto ini = parse_ini(text, path);
  BOOST_TEST_REQUIRE(ini.ok(), (ini.ok() ? std::string() : ini.error().message));
  return *ini;
}

// doctor with the config's [vgpu:*] layouts and, when given, nova.conf files.
DoctorReport doctor_vgpu(const Inventory& inv, const AgentConfig& cfg, std::vector<IniFile> nova = {}) {
  DoctorOptions o;
  o.config = &cfg;
  o.nova_conf = std::move(nova);
  return make_doctor_report(inv, o);
}

const std::string kA40Layout = "[vgpu:a40_24q]\naddresses = 0000:41:00.0\ntype = A40-24Q\n";
const std::string kH100Layout = "[vgpu:h100_20c]\naddresses = 0000:4b:00.0\ntype = H100-20C\n";

// VF 0000:4b:00.4, the one set to H100-20C in the capture, after a reboot: type 0, H100-20C creatable again.
const std::string kH100Set =
    "0000:4b:00.4/nvidia/creatable_vgpu_types = ID    : vGPU Name\n"
    "f devices/pci0000:4a/0000:4a:01.0/0000:4b:00.4/nvidia/current_vgpu_type = 1052";
const std::string kH100Reset =
    "0000:4b:00.4/nvidia/creatable_vgpu_types = ID    : vGPU Name\\n1052  : NVIDIA H100-20C\n"
    "f devices/pci0000:4a/0000:4a:01.0/0000:4b:00.4/nvidia/current_vgpu_type = 0";

std::string golden(const std::string& name, const std::string& text) {
  return check_golden(kData + "/golden/doctor/" + name, text);
}

std::vector<std::string> codes(const DoctorReport& r) {
  std::vector<std::string> out;
  for (const auto& p : r.problems) out.push_back(p.device + " " + p.code);
  return out;
}

std::vector<std::string> all_hosts() {
  std::vector<std::string> hosts = scenario_names();
  hosts.push_back("h100-passthrough-guest");  // the real capture
  return hosts;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(doctor_steps)

BOOST_AUTO_TEST_CASE(golden_text_of_every_host) {
  for (const auto& name : all_hosts()) {
    BOOST_TEST_CONTEXT(name) {
      const Inventory inv = host(name);
      const std::string diff = check_golden(kData + "/golden/doctor/" + name + ".txt", doctor_to_text(doctor(inv)));
      BOOST_TEST(diff.empty(), diff);
    }
  }
  const std::string diff = check_golden(kData + "/golden/doctor/consumer-gpu-hdmi-audio.json",
                                        doctor_to_json(doctor(host("consumer-gpu-hdmi-audio"), "intel")));
  BOOST_TEST(diff.empty(), diff);
}

BOOST_AUTO_TEST_CASE(a100_passthrough_host_is_ready_with_nothing_to_do) {
  const DoctorReport r = doctor(host("a100-8x-passthrough"), "intel");
  BOOST_TEST(r.ready);
  BOOST_TEST(r.gpus == 8u);
  BOOST_TEST(r.passthrough_ready == 8u);
  BOOST_TEST(r.problems.empty());
  BOOST_TEST(r.kernel_cmdline.empty());
  BOOST_TEST(r.modprobe_conf.empty());
  BOOST_TEST(r.driverctl.empty());
  BOOST_TEST(r.commands.empty());
  const std::string text = doctor_to_text(r);
  BOOST_TEST(contains(text, "READY: all 8 GPUs can be given to guests (8 passthrough, 0 vGPU)"));
  BOOST_TEST(!contains(text, "Step"));
}

BOOST_AUTO_TEST_CASE(vgpu_hosts_with_instances_are_ready) {
  const DoctorReport r = doctor(host("t4-vgpu-timesliced"));
  BOOST_TEST(r.ready);
  BOOST_TEST(r.vgpu_ready == 2u);
}

BOOST_AUTO_TEST_CASE(iommu_off_gives_the_kernel_arguments_of_the_cpu_vendor) {
  const Inventory inv = host("iommu-off");
  const DoctorReport intel = doctor(inv, "intel");
  BOOST_TEST(!intel.ready);
  BOOST_TEST(codes(intel) == std::vector<std::string>{"0000:17:00.0 iommu_off"});
  BOOST_TEST(intel.iommu_needed);
  BOOST_TEST(intel.kernel_cmdline == (std::vector<std::string>{"intel_iommu=on", "iommu=pt"}));
  BOOST_TEST(intel.commands == (std::vector<std::string>{"update-grub", "reboot"}));
  BOOST_TEST(!intel.vfio_needed);  // already on vfio-pci
  BOOST_TEST(intel.modprobe_conf.empty());
  const std::string itext = doctor_to_text(intel);
  BOOST_TEST(contains(itext, "GRUB_CMDLINE_LINUX"));
  BOOST_TEST(contains(itext, "      intel_iommu=on iommu=pt\n"));
  BOOST_TEST(!contains(itext, "amd_iommu"));

  const DoctorReport amd = doctor(inv, "amd");
  BOOST_TEST(amd.kernel_cmdline == (std::vector<std::string>{"amd_iommu=on", "iommu=pt"}));
  const std::string atext = doctor_to_text(amd);
  BOOST_TEST(contains(atext, "on by default on most kernels"));
  BOOST_TEST(!contains(atext, "intel_iommu"));

  const DoctorReport unknown = doctor(inv);  // both, and how to choose
  BOOST_TEST(unknown.kernel_cmdline.empty());
  const std::string utext = doctor_to_text(unknown);
  BOOST_TEST(contains(utext, "Intel CPU: intel_iommu=on iommu=pt"));
  BOOST_TEST(contains(utext, "AMD CPU:   amd_iommu=on iommu=pt"));
  BOOST_TEST(contains(utext, "--cpu-vendor"));
}

BOOST_AUTO_TEST_CASE(hdmi_audio_on_its_driver_goes_to_vfio_with_the_gpu) {
  // The RTX 4090 is on vfio-pci, its HDMI audio 0000:01:00.1 (10de:22ba) on snd_hda_intel.
  const DoctorReport r = doctor(host("consumer-gpu-hdmi-audio"), "intel");
  BOOST_TEST(!r.ready);
  BOOST_TEST(codes(r) == std::vector<std::string>{"0000:01:00.0 companion_not_vfio"});
  BOOST_TEST(r.vfio_ids == (std::vector<std::string>{"10de:22ba", "10de:2684"}));
  BOOST_TEST(r.softdep_drivers == std::vector<std::string>{"snd_hda_intel"});
  BOOST_TEST(!r.blacklist_nouveau);
  BOOST_TEST(r.driverctl == std::vector<std::string>{"driverctl set-override 0000:01:00.1 vfio-pci"});
  BOOST_TEST(
      contains(r.modprobe_conf, "\noptions vfio-pci ids=10de:22ba,10de:2684\nsoftdep snd_hda_intel pre: vfio-pci\n"));
  BOOST_TEST(r.commands == (std::vector<std::string>{"update-initramfs -u", "reboot"}));
  BOOST_TEST(r.kernel_cmdline.empty());
}

BOOST_AUTO_TEST_CASE(nouveau_is_blacklisted_and_soft_depends_on_vfio) {
  const DoctorReport r = doctor(host("consumer-gpu-hdmi-audio",
                                     "0000:01:00.0/driver -> ../../../../bus/pci/drivers/vfio-pci",
                                     "0000:01:00.0/driver -> ../../../../bus/pci/drivers/nouveau"));
  BOOST_TEST(codes(r) == (std::vector<std::string>{"0000:01:00.0 driver_not_vfio", "0000:01:00.0 companion_not_vfio"}));
  BOOST_TEST(r.softdep_drivers == (std::vector<std::string>{"nouveau", "snd_hda_intel"}));
  BOOST_TEST(r.blacklist_nouveau);
  BOOST_TEST(contains(r.modprobe_conf, "softdep nouveau pre: vfio-pci\n"));
  BOOST_TEST(contains(r.modprobe_conf, "blacklist nouveau\noptions nouveau modeset=0\n"));
  BOOST_TEST(r.driverctl == (std::vector<std::string>{"driverctl set-override 0000:01:00.0 vfio-pci",
                                                      "driverctl set-override 0000:01:00.1 vfio-pci"}));
}

BOOST_AUTO_TEST_CASE(broken_host_shows_read_errors_per_device) {
  const DoctorReport r = doctor(host("broken"));
  BOOST_TEST(!r.ready);
  BOOST_TEST(codes(r) == (std::vector<std::string>{"0000:02:00.0 read_error", "0000:03:00.0 read_error",
                                                   "0000:06:00.0 driver_not_vfio", "0000:08:00.0 read_error"}));
  for (const auto& p : r.problems)
    if (p.code == "read_error") BOOST_TEST(contains(p.fix, "gpu-agent capture"));
  // 0000:06:00.0 has no driver: vfio-pci by ID, nothing to soft-depend on
  BOOST_TEST(r.vfio_ids == std::vector<std::string>{"10de:20b5"});
  BOOST_TEST(r.softdep_drivers.empty());
  BOOST_TEST(r.driverctl == std::vector<std::string>{"driverctl set-override 0000:06:00.0 vfio-pci"});
  const std::string text = doctor_to_text(r);
  BOOST_TEST(contains(text, "Per device\n  0000:02:00.0 read_error\n"));
  BOOST_TEST(contains(text, "Notes (not blocking):"));
  BOOST_TEST(contains(text, "0000:04:00.0: cannot tell whether it is a GPU"));
}

BOOST_AUTO_TEST_CASE(other_problems_keep_the_inventory_fix) {
  const DoctorReport r = doctor(host("a40-vfs-disabled"));
  BOOST_TEST(codes(r) == std::vector<std::string>{"0000:41:00.0 vfs_not_enabled"});
  BOOST_TEST(contains(r.problems[0].fix, "sriov-manage -e 0000:41:00.0"));
  BOOST_TEST(r.commands.empty());
  BOOST_TEST(contains(doctor_to_text(r), "Step 1. Per device"));
}

BOOST_AUTO_TEST_CASE(a_host_without_gpus_is_not_ready) {
  Inventory inv;
  inv.hostname = "h";
  inv.source = "/sys";
  inv.iommu_enabled = true;
  const DoctorReport r = doctor(inv);
  BOOST_TEST(!r.ready);
  BOOST_TEST(codes(r) == std::vector<std::string>{" no_gpu"});
}

BOOST_AUTO_TEST_CASE(json_is_valid_and_says_the_same) {
  const DoctorReport r = doctor(host("iommu-off"));
  rapidjson::Document d;
  d.Parse(doctor_to_json(r).c_str());
  BOOST_TEST_REQUIRE(!d.HasParseError());
  BOOST_TEST(d["schema_version"].GetInt() == 1);
  BOOST_TEST(!d["ready"].GetBool());
  BOOST_TEST(std::string(d["problems"][0]["code"].GetString()) == "iommu_off");
  BOOST_TEST(std::string(d["problems"][0]["step"].GetString()) == "kernel_cmdline");
  BOOST_TEST(d["cpu_vendor"].IsNull());
  BOOST_TEST(d["kernel_cmdline"].Size() == 0u);
  BOOST_TEST(std::string(d["kernel_cmdline_by_vendor"]["amd"][0].GetString()) == "amd_iommu=on");
  BOOST_TEST(d["modprobe_conf"].IsNull());
}

BOOST_AUTO_TEST_CASE(cpu_vendor_from_proc_cpuinfo) {
  BOOST_TEST(parse_cpu_vendor("processor\t: 0\nvendor_id\t: GenuineIntel\ncpu family\t: 6\n").value_or("") == "intel");
  BOOST_TEST(parse_cpu_vendor("processor\t: 0\nvendor_id\t: AuthenticAMD\n").value_or("") == "amd");
  BOOST_TEST(parse_cpu_vendor("vendor_id : HygonGenuine").value_or("") == "amd");
  BOOST_TEST(!parse_cpu_vendor("processor\t: 0\nvendor_id\t: CentaurHauls\n"));
  BOOST_TEST(!parse_cpu_vendor("processor\t: 0\nCPU implementer\t: 0x41\n"));  // arm64: no vendor_id
  BOOST_TEST(!parse_cpu_vendor(""));
}

// ---- vGPU host state: the config's [vgpu:*] layouts against the host and nova.conf ----

BOOST_AUTO_TEST_CASE(vgpu_vfs_off_after_reboot_gives_sriov_manage_and_the_unit) {
  const AgentConfig cfg = config(kA40Layout);
  const DoctorReport r = doctor_vgpu(host("a40-vfs-disabled"), cfg);
  BOOST_TEST(!r.ready);
  BOOST_TEST(codes(r) == std::vector<std::string>{"0000:41:00.0 vfs_not_enabled"});  // the verdict's, not twice
  BOOST_TEST(contains(r.problems[0].message, "[vgpu:a40_24q]'s A40-24Q"));
  BOOST_TEST(r.problems[0].commands ==
             (std::vector<std::string>{"/usr/lib/nvidia/sriov-manage -e 0000:41:00.0",
                                       "systemctl enable gpu-agent-sriov@0000:41:00.0.service"}));
  BOOST_TEST(contains(r.problems[0].fix, "gpu-agent-sriov@.service"));
  // the layout cannot resolve without VFs: a note to come back, not a second problem
  BOOST_TEST_REQUIRE(!r.notes.empty());
  BOOST_TEST(contains(r.notes.back(), "once the VFs are enabled"));
  BOOST_TEST(r.vgpu_layouts == std::vector<std::string>{"a40_24q"});
  const std::string diff = golden("vgpu-a40-vfs-disabled.txt", doctor_to_text(r));
  BOOST_TEST(diff.empty(), diff);
  const std::string jdiff = golden("vgpu-a40-vfs-disabled.json", doctor_to_json(r));
  BOOST_TEST(jdiff.empty(), jdiff);
}

BOOST_AUTO_TEST_CASE(vgpu_vfs_off_on_a_gpu_no_layout_selects_keeps_the_verdicts_fix) {
  const AgentConfig cfg = config(
      "[vgpu:other]\naddresses = 0000:41:00.0\ntype = A40-24Q\n"
      "[vgpu:x]\nmatch = 10de:1eb8\ntype = T4-4Q\n");
  BOOST_TEST(doctor_vgpu(host("a40-vfs-disabled"), cfg).problems[0].commands.size() == 2u);
  const AgentConfig by_model = config("[vgpu:t4]\nmatch = 10de:1eb8\ntype = T4-4Q\n");
  const DoctorReport r = doctor_vgpu(host("a40-vfs-disabled"), by_model);
  BOOST_TEST_REQUIRE(r.problems.size() == 2u);
  BOOST_TEST(r.problems[0].commands.empty());       // verdict's own, no layout names this A40
  BOOST_TEST(r.problems[1].code == "vgpu_layout");  // and the layout selects nothing here
}

BOOST_AUTO_TEST_CASE(vgpu17_type_reset_by_a_reboot_gives_one_echo_per_vf) {
  const AgentConfig cfg = config(kH100Layout);
  const DoctorReport r = doctor_vgpu(host("h100-vgpu17", kH100Set, kH100Reset), cfg);
  BOOST_TEST(!r.ready);
  BOOST_TEST(codes(r) == std::vector<std::string>{"0000:4b:00.0 vgpu_type_not_set"});
  const auto& c = r.problems[0].commands;
  BOOST_TEST_REQUIRE(c.size() == 32u);  // every VF of the GPU: all of the layout's parents
  BOOST_TEST(c.front() == "echo 1052 > /sys/bus/pci/devices/0000:4b:00.4/nvidia/current_vgpu_type");
  BOOST_TEST(contains(r.problems[0].message, "32 of the 32 VFs of 0000:4b:00.0"));
  BOOST_TEST(contains(r.problems[0].message, "H100-20C (1052)"));
  const std::string diff = golden("vgpu-h100-type-reset.txt", doctor_to_text(r));
  BOOST_TEST(diff.empty(), diff);

  // as captured: 0000:4b:00.4 holds the type, the other 31 VFs do not yet
  const DoctorReport captured = doctor_vgpu(host("h100-vgpu17"), cfg);
  BOOST_TEST_REQUIRE(captured.problems.size() == 1u);
  BOOST_TEST(captured.problems[0].commands.size() == 31u);
  BOOST_TEST(!contains(doctor_to_text(captured), "0000:4b:00.4/nvidia"));

  // every VF set: nothing to do
  const DoctorReport set = doctor_vgpu(host("h100-vgpu17", "current_vgpu_type = 0", "current_vgpu_type = 1052"), cfg);
  BOOST_TEST(set.ready, doctor_to_text(set));
}

BOOST_AUTO_TEST_CASE(vgpu_layout_conflict_is_a_problem_with_resolves_message) {
  const AgentConfig cfg = config("[vgpu:a40_8q]\naddresses = 0000:41:00.0\ntype = A40-8Q\n");
  const DoctorReport r = doctor_vgpu(host("a40-sriov-vgpu"), cfg);
  BOOST_TEST(!r.ready);
  BOOST_TEST(codes(r) == std::vector<std::string>{" vgpu_layout"});
  BOOST_TEST(contains(r.problems[0].message, "gpu-agent.conf:1: [vgpu:a40_8q]"));
  BOOST_TEST(contains(r.problems[0].message, "of type nvidia-565, not A40-8Q (nvidia-562)"));
  BOOST_TEST(contains(r.problems[0].fix, "gpu-agent.conf"));
}

BOOST_AUTO_TEST_CASE(vgpu_nova_conf_with_another_type_disagrees) {
  const AgentConfig cfg = config(kA40Layout);
  const Inventory inv = host("a40-sriov-vgpu");
  const DoctorReport r = doctor_vgpu(
      inv, cfg,
      {nova_conf("[devices]\nenabled_mdev_types = nvidia-562\n[mdev_nvidia-562]\ndevice_addresses = 0000:41:00.4\n",
                 "/etc/nova/nova.conf")});
  BOOST_TEST(!r.ready);
  BOOST_TEST(codes(r) == std::vector<std::string>{" nova_conf_mismatch"});
  const std::string m = r.problems[0].message;
  BOOST_TEST(contains(m, "[devices] enabled_mdev_types (/etc/nova/nova.conf:2) = nvidia-562"), m);
  BOOST_TEST(contains(m, "the layouts declare nvidia-565 (A40-24Q, [vgpu:a40_24q])"), m);
  BOOST_TEST(contains(m, "it enables nvidia-562, which no [vgpu:*] layout declares"), m);
  BOOST_TEST(
      r.problems[0].commands ==
      (std::vector<std::string>{"gpu-agent nova-config --role compute -o /etc/nova/nova.conf.d/50-gpu-agent-pci.conf",
                                "systemctl restart nova-compute"}));
  BOOST_TEST(r.nova_conf_files == std::vector<std::string>{"/etc/nova/nova.conf"});
  const std::string diff = golden("vgpu-a40-nova-mismatch.txt", doctor_to_text(r));
  BOOST_TEST(diff.empty(), diff);

  // nothing about vGPU in nova.conf at all
  const DoctorReport none = doctor_vgpu(inv, cfg, {nova_conf("[DEFAULT]\nhost = gpu-a40-0\n")});
  BOOST_TEST_REQUIRE(none.problems.size() == 1u);
  BOOST_TEST(contains(none.problems[0].message, "nova.conf enables no vGPU type"));
}

BOOST_AUTO_TEST_CASE(vgpu_nova_conf_device_addresses_must_be_the_layouts_parents) {
  const AgentConfig cfg = config(kA40Layout);
  const Inventory inv = host("a40-sriov-vgpu");
  std::string all;  // the 32 VFs of 0000:41:00.0, as nova-config writes them
  for (int dev = 0; dev < 4; ++dev)
    for (int fn = dev == 0 ? 4 : 0; fn < 8; ++fn)
      all += std::string(all.empty() ? "" : ",") + "0000:41:0" + std::to_string(dev) + "." + std::to_string(fn);
  for (int fn = 0; fn < 4; ++fn) all += ",0000:41:04." + std::to_string(fn);
  const std::string good = "[devices]\nenabled_mdev_types = nvidia-565\n[mdev_nvidia-565]\ndevice_addresses = " + all +
                           "\n";
  const DoctorReport ok = doctor_vgpu(inv, cfg, {nova_conf(good)});
  BOOST_TEST(ok.ready, doctor_to_text(ok));

  // the pre-Xena names say the same
  const DoctorReport old = doctor_vgpu(
      inv, cfg,
      {nova_conf("[devices]\nenabled_vgpu_types = nvidia-565\n[vgpu_nvidia-565]\ndevice_addresses = " + all + "\n")});
  BOOST_TEST(old.ready, doctor_to_text(old));

  // one VF short, one foreign address
  std::string bad = good;
  replace_all(bad, "0000:41:04.3", "0000:c1:00.4");
  const DoctorReport r = doctor_vgpu(inv, cfg, {nova_conf(bad)});
  BOOST_TEST_REQUIRE(r.problems.size() == 1u);
  BOOST_TEST(contains(r.problems[0].message,
                      "[mdev_nvidia-565] device_addresses (nova.conf:4) lists 32 device(s), "
                      "[vgpu:a40_24q] has 32 parent(s) for A40-24Q; missing: 0000:41:04.3; "
                      "not the layout's: 0000:c1:00.4"),
             r.problems[0].message);

  // a later file wins, as in oslo.config: nova.conf.d's snippet over nova.conf
  const DoctorReport layered = doctor_vgpu(
      inv, cfg,
      {nova_conf("[devices]\nenabled_mdev_types = nvidia-562\n", "/etc/nova/nova.conf"),
       nova_conf(good, "/etc/nova/nova.conf.d/50-gpu-agent-pci.conf")});
  BOOST_TEST(layered.ready, doctor_to_text(layered));
}

BOOST_AUTO_TEST_CASE(no_layouts_no_vgpu_checks) {
  const AgentConfig cfg = config("[agent]\n");
  const DoctorReport r = doctor_vgpu(host("a40-sriov-vgpu"), cfg,
                                     {nova_conf("[devices]\nenabled_mdev_types = nvidia-562\n")});
  BOOST_TEST(r.ready);
  BOOST_TEST(r.vgpu_layouts.empty());
}

BOOST_AUTO_TEST_SUITE_END()

// softdep lines name kernel modules: the kernel's answer (drivers/X/module) first, a known
// table when a capture has none; a driver the host still needs is said to stay.
BOOST_AUTO_TEST_CASE(softdep_lines_name_modules_and_say_what_the_host_keeps) {
  TreeBuilder tb = build_scenario("consumer-gpu-hdmi-audio");
  // a Turing-style card: VGA, audio, USB xHCI, USB-C UCSI, all on host drivers, in one group
  tb.set_driver(kRtx4090, "nvidia");
  tb.add_function("0000:01:00.2", 0x10de, 0x1ad8, Fn().cls(0x0c0330).under("0000:00:01.0").driver("xhci_hcd").group(2));
  tb.add_function("0000:01:00.3", 0x10de, 0x1ad9,
                  Fn().cls(0x0c8000).under("0000:00:01.0").driver("nvidia-gpu").group(2));
  Inventory inv = inventory_of(tb.fs());
  DoctorReport r = doctor(inv);
  BOOST_TEST(r.softdep_drivers == (std::vector<std::string>{"i2c_nvidia_gpu", "nvidia", "snd_hda_intel", "xhci_pci"}),
             boost::test_tools::per_element());
  BOOST_TEST(!contains(r.modprobe_conf, "softdep nvidia-gpu"));
  BOOST_TEST(contains(r.modprobe_conf, "softdep i2c_nvidia_gpu pre: vfio-pci"));
  // xhci_hcd also drives the desktop's own USB controller: the note says it stays with the host
  bool kept = false;
  for (const auto& n : r.vfio_notes) kept |= contains(n, "xhci_hcd still drives 0000:00:14.0");
  BOOST_TEST(kept);

  // the kernel's answer wins over the table
  tb.fs().add_link("bus/pci/drivers/nvidia-gpu/module", "../../../../module/nvidia_gpu_i2c_test");
  r = doctor(inventory_of(tb.fs()));
  BOOST_TEST(contains(r.modprobe_conf, "softdep nvidia_gpu_i2c_test pre: vfio-pci"));
}

BOOST_AUTO_TEST_CASE(pci_stub_gets_a_note_not_a_softdep_and_host_kept_ids_stay_out_of_ids) {
  TreeBuilder tb = build_scenario("consumer-gpu-hdmi-audio");
  tb.set_driver(kRtx4090, "pci-stub");
  tb.set_driver(kRtx4090Audio, "vfio-pci");
  DoctorReport r = doctor(inventory_of(tb.fs()));
  BOOST_TEST(!contains(r.modprobe_conf, "softdep pci-stub"));
  bool stub = false;
  for (const auto& n : r.vfio_notes) stub |= contains(n, "pci-stub holds 0000:01:00.0") && contains(n, "pci-stub.ids=");
  BOOST_TEST(stub);

  // an identical card that is the host's console: its ID would take both, so no ids=
  tb.add_gpu("0000:00:02.0", 0x10de, 0x2684, Fn().cls(0x030000).driver("nvidia").group(9).boot(true));
  r = doctor(inventory_of(tb.fs()));
  BOOST_TEST(!contains(r.modprobe_conf, "10de:2684"), r.modprobe_conf);
  bool held = false;
  for (const auto& n : r.vfio_notes) held |= contains(n, "10de:2684 is also the ID of 0000:00:02.0");
  BOOST_TEST(held);
}
