#pragma once
// The one way every command and the daemon read this host: a capture or a
// sysfs root, pci.ids names, libvirt (hostname, and the cross-check when
// asked), the compute node's name, then the GPU pools and vGPU layouts the
// config makes of it. The same source options, defaulting from the config the
// same way, for every command that reads a host.
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config.h"
#include "hostname.h"
#include "model.h"
#include "pci_names.h"
#include "pools.h"
#include "result.h"
#include "vgpu.h"

namespace gpu_agent {

// The host-source options (--fixture, --sysfs-root, --pci-ids, --libvirt-uri,
// --hostname); unset ones default from the config.
struct HostSources {
  std::optional<std::string> fixture{};      // a capture instead of sysfs
  std::optional<std::string> sysfs_root{};   // else [agent] sysfs_root (default /sys)
  std::optional<std::string> pci_ids{};      // else [agent] pci_ids (else libpci's)
  std::optional<std::string> libvirt_uri{};  // "none" skips libvirt; default below
  std::optional<std::string> hostname{};     // else [agent] compute_node_name, libvirt's, the capture's, this host's
};

struct LoadOptions {
  bool cross_check_libvirt = false;  // compare libvirt's node devices with sysfs (inventory, doctor)
  bool pools = true;                 // derive the pools (errors are config errors)
  bool layouts = true;               // resolve the vGPU layouts (errors are config errors)
};

// What a daemon keeps between passes: pci.ids parsed once, libvirt asked for
// the hostname once per configuration. Reset it when the config changes.
struct HostCache {
  std::unique_ptr<PciNames> names;
  std::optional<HostName> host;
};

struct LoadedHost {
  Inventory inventory;  // hostname and its source set
  std::vector<Pool> pools;
  std::vector<VgpuLayout> layouts;
  bool real_host = false;  // read from the configured sysfs root, not a capture or --sysfs-root
};

// libvirt is asked when the host is this machine's own sysfs: --libvirt-uri,
// else [agent] libvirt_uri; with a capture or --sysfs-root only when
// --libvirt-uri says so. A libvirt that cannot be reached is a warning.
// Errors: the host cannot be read (the read's kind), or the config's pools or
// layouts do not fit it (ErrorKind::bad_config).
Result<LoadedHost> load_host(const HostSources& sources, const AgentConfig& config, const LoadOptions& options = {},
                             HostCache* cache = nullptr);

// The libvirt URI load_host uses for these sources, "none" for none.
std::string libvirt_uri_for(const HostSources& sources, const AgentConfig& config);

}  // namespace gpu_agent
