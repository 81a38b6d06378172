#pragma once
// nova's releases (Train .. 2026.2) and what each changed for GPUs: one table of
// releases, one of features with the release that introduced each, and which
// release to target (the operator's, the installed nova's, or the newest).
#include <optional>
#include <string>
#include <vector>

#include "result.h"

namespace gpu_agent {

struct NovaRelease {
  std::string name;    // "zed", "2023.1"
  std::string code;    // "zed", "antelope"
  int nova_major = 0;  // 26 for Zed
};

// What the generated config depends on, each introduced by one release.
enum class NovaFeature {
  multiple_vgpu_types,  // Ussuri: [vgpu_<type>] device_addresses, more than one enabled type
  numa_policy_socket,   // Wallaby: alias numa_policy "socket"
  mdev_options,         // Xena: [devices] enabled_mdev_types, [mdev_<type>], mdev_class
  device_spec,          // Zed: [pci] device_spec replaces passthrough_whitelist
  report_in_placement,  // Zed: [pci] report_in_placement (PCI devices as placement providers)
  max_instances,        // 2023.2: [mdev_<type>] max_instances (one pGPU provider per parent it fills)
  vgpu17_unmanaged,     // 2025.1: device_spec "managed": "no" (vGPU 17 VFs stay on NVIDIA's driver)
  owner_nova,           // 2026.2: OWNER_NOVA on nova's providers, root_required by the scheduler
};

struct NovaFeatureInfo {
  NovaFeature feature;
  const char* key;  // "device_spec"
  int since_major;  // the nova major that introduced it
  const char* what;
};

const std::vector<NovaRelease>& nova_releases();  // oldest first
const std::vector<NovaFeatureInfo>& nova_features();
bool has_feature(const NovaRelease& rel, NovaFeature f);
const NovaRelease& release_introducing(NovaFeature f);
const NovaRelease& newest_nova_release();

// "zed", "Zed", "2023.1", "antelope", "26" -> the release. Unknown: an error listing the known ones.
Result<NovaRelease> parse_nova_release(const std::string& text);
std::string known_nova_releases();  // "train, ussuri, ..., 2026.2 (hibiscus)"
// The releases and the features, for --help: one line per release,
// INDENT "26  zed  + device_spec, report_in_placement".
std::string nova_release_help(const std::string& indent);

// "26.2.2" (an installed nova's version) -> its release; newer majors than the table
// knows -> the newest, older -> an error.
Result<NovaRelease> nova_release_from_version(const std::string& version);

// The installed nova: the first "nova-<version>.egg-info" or ".dist-info" in dirs.
struct InstalledNova {
  std::string version;  // "26.2.2"
  std::string path;     // where it was found
};
std::optional<InstalledNova> find_installed_nova(const std::vector<std::string>& dirs);
// Where Python packages of the system live; `override_path` (colon-separated,
// $GPU_AGENT_NOVA_SITE) replaces them when given.
std::vector<std::string> nova_site_dirs(const char* override_path);

// The release a command targets and why: configured (--nova-release or [agent]
// nova_release), detected (the installed nova), or default (the newest).
struct NovaReleaseChoice {
  NovaRelease release;
  std::string source;  // "configured", "detected", "default"
  std::string why;     // "--nova-release 2026.2", "nova 26.2.2 installed (PATH)", "no nova installed"
};
// `configured`: the option's value, else the config key's; `what` names it in errors.
Result<NovaReleaseChoice> choose_nova_release(const std::optional<std::string>& configured, const std::string& what,
                                              const std::vector<std::string>& site_dirs);
std::string describe(const NovaReleaseChoice& c);  // "2026.2 (nova 34), detected: nova 34.0.0 installed (...)"

}  // namespace gpu_agent
