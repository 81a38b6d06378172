#pragma once
// GPU flavor families: pools + sizing -> 1x/2x/4x/8x flavors whose extra specs
// ask placement for the pool's resource class (resources:CLASS=N, one request
// group, one candidate per host), require the host traits and name nova's PCI
// alias for the PCI claim. Pure: no files, no clock, no network; the CLI reads
// the host and placement and hands the facts in.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "result.h"

namespace gpu_agent::flavors {

// One size's absolute values, replacing what the per-GPU shares give
// ([flavors:8x] in the agent's config).
struct SizeOverride {
  std::optional<int64_t> vcpus, ram_mb, disk_gb, ephemeral_gb, swap_mb;
  std::optional<std::string> name;
  int line = 0;
};

// [flavors] of the agent's config. Unset shares are derived from the host's
// capacity in placement; the defaults give the 1x/2x/4x/8x family.
struct FlavorSettings {
  std::vector<int> sizes;  // GPUs per flavor; empty: 1, 2, 4, 8 up to the pool's GPUs
  std::optional<int64_t> vcpus_per_gpu, ram_mb_per_gpu, ephemeral_gb_per_gpu;
  int64_t disk_gb = 0;  // root disk per flavor (0: boot from volume, or the image's size)
  int64_t swap_mb = 0;
  std::string name_template = "v.{pool}-{n}x.c{vcpus}g{ram_gib}-{n}i";
  // vGPU flavors: {pool} is the layout's name, {type} the vGPU type (A40-24Q), {n} 1
  std::string vgpu_name_template = "v.vgpu-{type}.c{vcpus}g{ram_gib}";
  std::vector<std::string> required_traits;  // beyond the host traits and the pool's own
  bool pci_alias = true;                     // pci_passthrough:alias=ALIAS:N
  bool is_public = true;
  std::vector<std::pair<std::string, std::string>> extra_specs;  // added to every flavor
  std::map<int, SizeOverride> overrides;                         // by GPU count
  std::string source = "the agent's config";                     // where these came from, for messages
};

// A pool as the flavors see it.
struct PoolInput {
  std::string key;                  // the {pool} of the name template: [pool:NAME] or "10de_20b2"
  std::string resource_class;       // CUSTOM_PGPU_10DE_20B2
  std::string alias;                // nova's [pci] alias name for it
  int gpus = 0;                     // assignable GPUs of this pool on the sizing host
  std::vector<std::string> traits;  // the pool's traits a flavor requires ([pool:*] traits)
};

// A vGPU layout as the flavors see it: one flavor per layout, for one vGPU.
struct VgpuInput {
  std::string layout;               // [vgpu:NAME]
  std::string type;                 // "A40-24Q"
  std::string resource_class;       // VGPU or the layout's mdev_class
  std::vector<std::string> traits;  // required: the type's trait and the layout's own
  int64_t vcpus = 4, ram_mb = 16384, disk_gb = 0;
};

// What placement says one host can give: the root provider's inventory.
struct Capacity {
  int64_t total = 0, reserved = 0, max_unit = 0;
  double allocation_ratio = 1.0;
  // What one allocation can take: min((total - reserved) * ratio, max_unit).
  int64_t usable() const;
};
struct HostCapacity {
  std::string host;  // the compute node's name, for messages
  std::optional<Capacity> vcpu, memory_mb, disk_gb;
};

struct Flavor {
  std::string name, id;  // id: UUIDv5 of the name, stable across runs and hosts
  std::string pool, resource_class;
  std::string vgpu_type;  // set for a vGPU flavor ("A40-24Q"); gpus is then 0
  int gpus = 0;
  int64_t vcpus = 0, ram_mb = 0, disk_gb = 0, ephemeral_gb = 0, swap_mb = 0;
  bool is_public = true;
  std::vector<std::pair<std::string, std::string>> extra_specs;  // in output order
};

struct FlavorSet {
  std::string generator;            // "gpu-agent 0.1.0"
  std::string host;                 // the host the sizes were checked against
  std::string sizing;               // how vCPU/RAM/disk were chosen, one line
  std::vector<std::string> traits;  // every trait a flavor requires, sorted: create these first
  std::vector<Flavor> flavors;
  std::vector<std::string> notes;
};

struct Inputs {
  std::vector<PoolInput> pools;
  std::vector<VgpuInput> vgpus;
  std::vector<std::string> host_traits;  // [agent] host_traits: on the root, required by every flavor
  std::optional<HostCapacity> capacity;  // from placement; needed when a share is not given
  std::string host;
  std::string generator = "gpu-agent";
};

// Errors say what to change: a share that is neither set nor derivable, a size
// the pool or the host cannot hold, a pool with no GPUs, a name over 255
// characters or two flavors with one name, a template with an unknown field.
Result<FlavorSet> make_flavors(const Inputs& in, const FlavorSettings& settings);

// "{pool}", "{n}", "{type}", "{vcpus}", "{ram_gib}", "{ram_mb}", "{disk_gb}", "{ephemeral_gb}",
// "{rc}", "{alias}" -> the flavor's values. Unknown fields are errors.
Result<std::string> expand_name(const std::string& tmpl, const Flavor& f);
std::string template_fields();  // the list above, for messages

// Output formats. The script creates the traits (osc-placement), then the flavors,
// and is safe to run again: a flavor of the same size gets its properties set
// again, one whose size changed is deleted and created again with the same id.
std::string to_openstack_script(const FlavorSet& set);
std::string to_json(const FlavorSet& set);
// Variables for openstack.cloud.trait (gpu_agent_traits) and
// openstack.cloud.compute_flavor (gpu_agent_flavors), YAML.
std::string to_ansible_vars(const FlavorSet& set);

}  // namespace gpu_agent::flavors
