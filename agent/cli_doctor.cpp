// gpu-agent doctor: is this host ready to give its GPUs to guests, and the
// host-preparation lines that fix what is not.
#include <fstream>
#include <ostream>
#include <sstream>

#include "cli_commands.h"
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
Nothing is changed on the host: the output is what to apply.

Options:
  --fixture FILE       judge a capture (`gpu-agent capture`) instead of /sys
  --sysfs-root DIR     read sysfs below DIR (default: the config's, /sys)
  --format FMT         text (default) or json (schema: README.md, "gpu-agent doctor")
  --cpu-vendor V       intel or amd, for the IOMMU kernel arguments (default:
                       /proc/cpuinfo when reading /sys; otherwise both are shown)
  --hostname NAME      the host named in the output

Examples:
  gpu-agent doctor
  gpu-agent doctor --format json | jq -r .modprobe_conf
  gpu-agent doctor --fixture compute-7.sysfs.txt --cpu-vendor amd

Exit codes: 0 every GPU is ready, 1 something needs fixing (or the host cannot
be read), 2 bad usage or config.
)";

int cmd_doctor(const std::vector<std::string>& argv, const std::optional<std::string>& config_path,
               std::ostream& out, std::ostream& err) {
  const std::string cmd = "doctor";
  Args a;
  if (auto e = parse_args(argv, 1, {"fixture", "sysfs-root", "format", "cpu-vendor", "hostname"}, {}, {}, a))
    return usage_error(err, cmd, *e);
  if (a.help) {
    out << kDoctorHelp;
    return 0;
  }
  if (value(a, "fixture") && value(a, "sysfs-root"))
    return usage_error(err, cmd, "--fixture and --sysfs-root are alternatives; give one");
  const std::string format = value(a, "format").value_or("text");
  if (format != "text" && format != "json") return usage_error(err, cmd, "--format is text or json");
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
  const bool real_sys = !value(a, "fixture") && !value(a, "sysfs-root");
  if (!opts.cpu_vendor && real_sys) {
    // Like /sys, /proc belongs to the host only when reading the real one.
    std::ifstream f("/proc/cpuinfo");
    std::stringstream text;
    text << f.rdbuf();
    opts.cpu_vendor = parse_cpu_vendor(text.str());
  }

  HostSources src{value(a, "fixture"), value(a, "sysfs-root"), value(a, "hostname")};
  auto host = load_host(src, *cfg);
  if (!host) {
    err << "gpu-agent " << cmd << ": " << host.error().message << "\n";
    return host.error().code;
  }
  const DoctorReport r = make_doctor_report(host->inventory, opts);
  out << (format == "json" ? doctor_to_json(r) : doctor_to_text(r));
  return r.ready ? 0 : 1;
}

}  // namespace gpu_agent
