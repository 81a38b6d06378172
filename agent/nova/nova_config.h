#pragma once
// nova's [pci] configuration for this host's GPU pools: inventory + pools ->
// device_spec (passthrough_whitelist before Zed) entries for nova-compute, one
// [pci] alias per pool for nova-api and the computes, and the scheduler note.
// Pure: nothing here reads a file or the clock.
#include <optional>
#include <string>
#include <vector>

#include "model.h"
#include "nova_release.h"
#include "pools.h"
#include "vgpu.h"
#include "result.h"

namespace gpu_agent {

struct NovaConfigOptions {
  NovaRelease release = newest_nova_release();
  std::string release_source = "default";  // configured, detected or default: said in the header
  // "preferred": an Nx flavor still schedules when its GPUs span both sockets of a
  // host and the guest has one NUMA node; nova's default "legacy" refuses that for
  // pinned/NUMA guests as soon as the devices report a NUMA node, which is the most
  // common "No valid host" for 8x GPU flavors. Operators who want strict affinity
  // pass "required" or "socket".
  std::string numa_policy = "preferred";
  std::string generator = "gpu-agent";  // named in the header comment
};

struct NovaDeviceSpec {
  std::string pool;                 // the pool's key
  std::string kind;                 // "vendor_product" or "address"
  std::string role;                 // "gpu" or "companion"
  std::vector<PciAddress> devices;  // what it is meant to match on this host
  std::string json;                 // the option value
};

struct NovaAlias {
  std::string pool;
  std::string name;
  std::string vendor_id, product_id;  // "10de", "20b2"
  std::string json;
  std::string resource_class;       // the pool's, what a flavor asks placement for
  std::vector<std::string> traits;  // the [pool:*] traits a flavor requires (none for default pools)
};

// One enabled vGPU type for nova-compute's [devices] and its [mdev_<type>] group.
struct NovaMdevType {
  std::string layout;                        // [vgpu:NAME]
  std::string type_id;                       // nvidia-565
  std::string short_name;                    // A40-24Q
  std::string group;                         // "mdev_nvidia-565" (Xena+) or "vgpu_nvidia-565"
  std::vector<PciAddress> device_addresses;  // the parents: VFs for SR-IOV GPUs, else the PF
  std::optional<std::string> mdev_class;     // Xena+, when not VGPU
  std::optional<int64_t> max_instances;      // 2023.2+
};

struct NovaConfig {
  std::string generator;  // "gpu-agent 0.1.0", named in the header
  NovaRelease release;
  std::string release_source;  // configured, detected or default
  std::string hostname, source;
  std::string numa_policy;
  std::string device_spec_option;  // "device_spec" or "passthrough_whitelist"
  std::vector<NovaDeviceSpec> device_specs;
  std::vector<NovaAlias> aliases;
  std::string enabled_types_option;          // "enabled_mdev_types" (Xena+) or "enabled_vgpu_types"
  std::vector<NovaMdevType> mdev_types;      // vGPU layouts, for nova-compute
  std::vector<std::string> enabled_filters;  // nova's defaults plus PciPassthroughFilter
  std::vector<std::string> notes;            // pools or GPUs left out, and why
};

// "10de_2330" -> "10de_2330", "H100 NVL" -> "h100-nvl": lower case, characters
// other than [a-z0-9._-] to '-', since a flavor names it in
// pci_passthrough:alias=NAME:N where ':' and ',' are separators.
std::string nova_alias_name(const std::string& pool_key);

// Errors: no pool has an assignable GPU (says why for each GPU and what to do),
// an unknown release or NUMA policy the release does not accept, two pools whose
// alias names collide, a pool mixing SR-IOV-capable and plain GPUs.
// vGPU layouts become [devices] enabled_mdev_types and one [mdev_<type>] group each
// (device_addresses, mdev_class, max_instances as the release has them).
Result<NovaConfig> make_nova_config(const Inventory& inv, const std::vector<Pool>& pools,
                                    const NovaConfigOptions& options, const std::vector<VgpuLayout>& layouts = {});

// compute: device_spec + alias (nova-compute needs the alias too, for resize and
// migration claims); api: alias + the scheduler note; all: everything, one [pci].
enum class NovaRole { compute, api, all };
Result<NovaRole> parse_nova_role(const std::string& text);
const char* to_string(NovaRole role);

// INI text for /etc/nova/nova.conf.d/, with a header naming the generator and host.
std::string nova_config_to_ini(const NovaConfig& cfg, NovaRole role);
std::string nova_config_to_json(const NovaConfig& cfg, NovaRole role);

}  // namespace gpu_agent
