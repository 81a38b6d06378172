// gpu-agent doctor: is this host ready to give its GPUs to guests, and the
// host-preparation lines that fix what is not.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <ostream>
#include <sstream>
#include <system_error>

#include "commands.h"
#include "cli_common.h"
#include "doctor.h"

namespace gpu_agent {

const char* const kDoctorHelp = R"(Usage: gpu-agent [--config FILE] doctor [OPTIONS]

Say whether this host is ready to give its GPUs to guests (each GPU assignable
for passthrough, or vGPU-capable) and, for every problem, the exact lines that
fix it, grouped as you apply them:
  1. the kernel command line when the IOMMU is off (intel_iommu=on iommu=pt or
     amd_iommu=on iommu=pt in GRUB_CMDLINE_LINUX, then update-grub)
  2. vfio-pci at boot for passthrough GPUs and their HDMI audio: the content of
     /etc/modprobe.d/gpu-agent-vfio.conf (options vfio-pci ids=..., softdep for
     the drivers bound now, nouveau blacklisted), then update-initramfs -u; or,
     without a reboot, one `driverctl set-override ADDR vfio-pci` per device
  3. a reboot, when 1 or 2 need one
  4. every other problem with its fix, per device (IOMMU group shared with
     another device, boot VGA, SR-IOV VFs not enabled, no vGPU instance left,
     unreadable sysfs files)
With [vgpu:NAME] layouts in the config, the vGPU host state a reboot resets and
nova's view of the layouts, each with the commands that fix it:
  - SR-IOV VFs not enabled on a layout's GPU: /usr/lib/nvidia/sriov-manage -e
    PF now, `systemctl enable gpu-agent-sriov@PF.service` for every boot
  - vGPU 17 VFs whose nvidia/current_vgpu_type is 0 while the layout declares a
    type: one `echo ID > /sys/bus/pci/devices/VF/nvidia/current_vgpu_type` per VF
  - a layout that no longer resolves (another type's instances, no such type)
  - nova.conf's [devices] enabled_mdev_types (or enabled_vgpu_types) and
    [mdev_TYPE] device_addresses not what the layouts declare: regenerate
    /etc/nova/nova.conf.d/50-gpu-agent-pci.conf with `gpu-agent nova-config`
Nothing is changed on the host: the output is what to apply.

Options:
  --format FMT         text (default) or json (schema: README.md, "gpu-agent doctor")
  --cpu-vendor V       intel or amd, for the IOMMU kernel arguments (default:
                       /proc/cpuinfo when reading /sys; otherwise both are shown)
  --fixture, --sysfs-root, --pci-ids, --libvirt-uri, --hostname: where the
                       host is read from (below)
  --nova-conf PATH     a nova.conf file, or a directory of *.conf files, compared
                       with the [vgpu:*] layouts; repeatable, read in order, a
                       later file winning (default when reading /sys:
                       /etc/nova/nova.conf and /etc/nova/nova.conf.d/*.conf
                       that exist; none with --fixture or --sysfs-root)

Examples:
  gpu-agent doctor
  gpu-agent doctor --format json | jq -r .modprobe_conf
  gpu-agent doctor --fixture compute-7.sysfs.txt --cpu-vendor amd
  gpu-agent --config vgpu.conf doctor --fixture a40.sysfs.txt --nova-conf nova.conf

Exit codes: 0 every GPU is ready, 1 something needs fixing (or the host cannot
be read), 2 bad usage or config.
)";

namespace {

// PATH, or the *.conf files of directory PATH in name order (as oslo's --config-dir).
std::vector<std::string> nova_conf_paths(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_directory(path, ec)) return {path};
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(path, ec))
    if (e.path().extension() == ".conf") out.push_back(e.path().string());
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

int cmd_doctor(const std::vector<std::string>& argv_in, const std::optional<std::string>& config_path,
               std::ostream& out, std::ostream& err) {
  const std::string cmd = "doctor";
  // --nova-conf may be given several times: take them out before the one-value parser.
  std::vector<std::string> argv, nova_confs;
  for (size_t i = 0; i < argv_in.size(); ++i) {
    const std::string& x = argv_in[i];
    if (i >= 1 && x == "--nova-conf") {
      if (i + 1 >= argv_in.size()) return usage_error(err, cmd, "--nova-conf needs a value");
      nova_confs.push_back(argv_in[++i]);
    } else if (i >= 1 && x.rfind("--nova-conf=", 0) == 0) {
      nova_confs.push_back(x.substr(12));
    } else {
      argv.push_back(x);
    }
  }
  Args a;
  if (auto e = parse_args(argv, 1, with_host_options({"format", "cpu-vendor"}), {}, kHostSourceAliases, a))
    return usage_error(err, cmd, *e);
  if (a.help) return show_help(out, kDoctorHelp, true);
  auto src = host_sources(a);
  if (!src) return usage_error(err, cmd, src.error().message);
  enum class Format { text, json };
  auto format = choose<Format>(a, "format", {{"text", Format::text}, {"json", Format::json}});
  if (!format) return usage_error(err, cmd, format.error().message);
  DoctorOptions opts;
  opts.generator = "gpu-agent";
  if (auto v = value(a, "cpu-vendor")) {
    if (*v != "intel" && *v != "amd") return usage_error(err, cmd, "--cpu-vendor is intel or amd");
    opts.cpu_vendor = *v;
  }
  auto cfg = load_config_for(config_path);
  if (!cfg) {
    err << "gpu-agent " << cmd << ": " << cfg.error().message << "\n";
    return 2;
  }
  const bool real_sys = !src->fixture && !src->sysfs_root;
  if (!opts.cpu_vendor && real_sys) {
    // Like /sys, /proc belongs to the host only when reading the real one.
    std::ifstream f("/proc/cpuinfo");
    std::stringstream text;
    text << f.rdbuf();
    opts.cpu_vendor = parse_cpu_vendor(text.str());
  }

  LoadOptions lo;
  lo.layouts = false;  // a layout that no longer resolves is one of doctor's findings, not an error
  auto host = load_host(*src, *cfg, lo);
  if (!host) return fail(err, cmd, host.error());
  if (!cfg->vgpu_layouts.empty()) {
    opts.config = &*cfg;
    if (!nova_confs.empty()) {
      for (const auto& given : nova_confs)
        for (const auto& p : nova_conf_paths(given)) {
          auto ini = load_ini(p);
          if (!ini) {
            err << "gpu-agent " << cmd << ": --nova-conf: " << ini.error().message << "\n";
            return 2;
          }
          opts.nova_conf.push_back(std::move(*ini));
        }
    } else if (real_sys) {
      std::vector<std::string> paths;
      std::error_code ec;
      if (std::filesystem::exists("/etc/nova/nova.conf", ec)) paths.push_back("/etc/nova/nova.conf");
      if (std::filesystem::is_directory("/etc/nova/nova.conf.d", ec))
        for (const auto& p : nova_conf_paths("/etc/nova/nova.conf.d")) paths.push_back(p);
      for (const auto& p : paths) {
        auto ini = load_ini(p);
        if (ini) opts.nova_conf.push_back(std::move(*ini));
        else
          opts.notes.push_back("nova.conf not compared with the [vgpu:*] layouts: " + ini.error().message +
                               " (run as root, or pass --nova-conf)");
      }
      if (opts.notes.size() > 0) opts.nova_conf.clear();  // half of nova's config would mislead
    }
    if (!opts.nova_conf.empty()) {
      // the vGPU fix runs nova-config: say which release it writes for, and why
      auto release = nova_release_for(a, *cfg);
      if (!release) return usage_error(err, cmd, release.error().message);
      opts.notes.push_back("nova release: " + release->release.name + " (nova " +
                           std::to_string(release->release.nova_major) + ", " + release->source +
                           "): what `gpu-agent nova-config` writes for; [agent] nova_release chooses another");
    }
  }
  const DoctorReport r = make_doctor_report(host->inventory, opts);
  out << (*format == Format::json ? doctor_to_json(r) : doctor_to_text(r));
  return r.ready ? 0 : 1;
}

}  // namespace gpu_agent
