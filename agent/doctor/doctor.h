#pragma once
// `gpu-agent doctor`: is this host ready to give its GPUs to guests, and if not,
// the host-preparation lines that fix it, grouped as an operator applies them:
// the kernel command line (IOMMU), the vfio-pci binding (a modprobe.d file, or
// driverctl without a reboot), then each remaining device fix from the verdict.
// With [vgpu:*] layouts in the config it also checks the vGPU host state a reboot
// resets (SR-IOV VFs off, vGPU 17 VFs without their type), layouts that no longer
// resolve, and nova.conf's [devices]/[mdev_*] against the layouts.
// Pure: inventory, config and parsed nova.conf in, report and text out; the CLI
// reads /proc/cpuinfo and the nova.conf files.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config.h"
#include "ini.h"
#include "model.h"

namespace gpu_agent {

inline constexpr const char* kDoctorModprobePath = "/etc/modprobe.d/gpu-agent-vfio.conf";
// What `nova-config --role compute -o` writes for the layouts (the vGPU fix).
inline constexpr const char* kDoctorNovaSnippetPath = "/etc/nova/nova.conf.d/50-gpu-agent-pci.conf";
// The template unit (etc/gpu-agent-sriov@.service) that enables a GPU's VFs at boot.
inline constexpr const char* kSriovUnit = "gpu-agent-sriov@.service";

// "vendor_id : GenuineIntel" -> "intel", "AuthenticAMD" (and Hygon's AMD-based
// "HygonGenuine") -> "amd"; anything else -> nullopt.
std::optional<std::string> parse_cpu_vendor(std::string_view cpuinfo);

struct DoctorOptions {
  std::optional<std::string> cpu_vendor;  // "intel", "amd"; unknown: show both
  std::string generator = "gpu-agent";
  // The agent's config: its [vgpu:*] layouts are checked against the host (and
  // nova.conf). Null or without layouts: no vGPU checks.
  const AgentConfig* config = nullptr;
  // nova.conf files in the order oslo.config reads them (a later file wins);
  // empty: nova.conf is not compared with the layouts.
  std::vector<IniFile> nova_conf;
  std::vector<std::string> notes;  // from the caller (a default nova.conf it could not read)
};

// Where the fix for a problem is: one of the grouped steps, or the device's own.
enum class FixGroup { kernel_cmdline, vfio, device };

struct DoctorProblem {
  std::string code;    // the verdict's: iommu_off, driver_not_vfio, ...
  std::string device;  // the GPU's PCI address ("" for problems of the whole host)
  std::string message;
  std::string fix;  // the verdict's fix text
  FixGroup group = FixGroup::device;
  std::vector<std::string> commands;  // the exact lines to run, in order (vGPU problems); may be empty
};

struct DoctorReport {
  std::string host, source, generator;
  bool ready = false;
  size_t gpus = 0, ready_gpus = 0, passthrough_ready = 0, vgpu_ready = 0;
  std::vector<DoctorProblem> problems;       // blocking ones, in GPU order
  std::vector<std::string> notes;            // not blocking: read warnings, inventory warnings
  std::vector<std::string> vgpu_layouts;     // the [vgpu:*] layouts checked
  std::vector<std::string> nova_conf_files;  // the nova.conf files compared with them

  // 1. kernel command line, when the IOMMU is off
  bool iommu_needed = false;
  std::string cpu_vendor;                   // intel, amd, or "" when unknown
  std::vector<std::string> kernel_cmdline;  // the vendor's args; empty when the vendor is unknown
  std::vector<std::string> kernel_cmdline_intel, kernel_cmdline_amd;

  // 2. vfio-pci binding, when a passthrough GPU or its companion is on another driver
  bool vfio_needed = false;
  std::vector<std::string> vfio_ids;         // "10de:2684", sorted, unique
  std::vector<std::string> softdep_drivers;  // the kernel modules of the drivers bound now, sorted, unique
  bool blacklist_nouveau = false;
  std::string modprobe_conf;            // the file's whole content
  std::vector<std::string> driverctl;   // "driverctl set-override ADDR vfio-pci", the no-reboot way
  std::vector<std::string> vfio_notes;  // IDs left out of ids= and why

  // What to run after writing the files above, in order (update-grub,
  // update-initramfs -u, reboot), empty when nothing needs it.
  std::vector<std::string> commands;
};

DoctorReport make_doctor_report(const Inventory& inv, const DoctorOptions& options);

std::string doctor_to_text(const DoctorReport& r);
// Schema: README.md, "gpu-agent doctor".
std::string doctor_to_json(const DoctorReport& r);

}  // namespace gpu_agent
